//! The decision table: principals × actions × resources, with the relations and their time
//! limits, and deny by default for everything not listed.

use super::*;

const DAY: i64 = 86_400_000;
const NOW: i64 = 1_750_000_000_000;

fn who(org: &str, kind: OrgKind, roles: &[Role], credential: Credential) -> Principal {
    Principal {
        user_id: format!("{org}-user"),
        username: "u".into(),
        org: org.into(),
        org_kind: kind,
        roles: roles.to_vec(),
        credential,
    }
}

fn session(org: &str, kind: OrgKind, roles: &[Role]) -> Principal {
    who(org, kind, roles, Credential::Session)
}

fn object<'a>(org: &'a str, id: &'a str, division: &'a str) -> Resource<'a> {
    Resource::Object(ObjectRef {
        org,
        id,
        division: Some(division),
        secret_involved: false,
        uses_cryptography: false,
    })
}

fn relations() -> Relations {
    Relations {
        supervision: vec![Supervision {
            department: "pboc".into(),
            operator: "op".into(),
        }],
        jurisdictions: vec![
            Jurisdiction {
                organ: "psb-sh".into(),
                division: "310000".into(),
                level: Level::Province,
            },
            Jurisdiction {
                organ: "psb-pudong".into(),
                division: "310115".into(),
                level: Level::County,
            },
            Jurisdiction {
                organ: "mps".into(),
                division: "110000".into(),
                level: Level::Ministry,
            },
            Jurisdiction {
                organ: "secrecy-sh".into(),
                division: "310000".into(),
                level: Level::Province,
            },
            Jurisdiction {
                organ: "crypto-sh".into(),
                division: "310000".into(),
                level: Level::Province,
            },
        ],
        engagements: vec![Engagement {
            agency: "lab".into(),
            operator: "op".into(),
            object: "pay-core".into(),
            from_ms: NOW - DAY,
            until_ms: NOW + DAY,
        }],
        filed: vec![("op".into(), "filed".into())],
    }
}

#[derive(Debug, PartialEq)]
enum Want {
    Own,
    Org(&'static str),
    All,
    Absent,
    Forbidden,
    Customer,
}

fn decide(p: &Principal, a: Action, r: &Resource<'_>, now: i64) -> Want {
    match authorize(p, a, r, &relations(), now) {
        Decision::Allow(Scope::Org(o)) if o == p.org => Want::Own,
        Decision::Allow(Scope::Org(o)) => match o.as_str() {
            "op" => Want::Org("op"),
            "idc" => Want::Org("idc"),
            other => panic!("unexpected scope {other}"),
        },
        Decision::Allow(Scope::All) => Want::All,
        Decision::Allow(Scope::Customer { idc, customer }) => {
            assert_eq!((idc.as_str(), customer.as_str()), ("idc", p.org.as_str()));
            Want::Customer
        }
        Decision::Deny(Denial::Absent) => Want::Absent,
        Decision::Deny(Denial::Forbidden(_)) => Want::Forbidden,
    }
}

#[test]
fn roles_on_their_own_organisation() {
    use Action::*;
    use Want::*;
    let org = Resource::Organisation("op");
    // role → [Read, Write, ListAccounts, ManageAccounts, AssignRoles, ReadAudit, ReadLedger, CreateToken, ManageOwnTokens, Review]
    // (an operator reviews no filing, not even with the lead's role; nobody approves an
    // operation on customer data for its own organisation — the customer does)
    let table: [(Role, [Want; 11]); 5] = [
        (
            Role::Member,
            [
                Own, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Own, Own, Own,
                Forbidden, Forbidden,
            ],
        ),
        (
            Role::SecurityLead,
            [
                Own, Own, Forbidden, Forbidden, Forbidden, Forbidden, Own, Own, Own, Forbidden,
                Forbidden,
            ],
        ),
        (
            Role::SystemAdmin,
            [
                Forbidden, Forbidden, Own, Own, Forbidden, Forbidden, Forbidden, Forbidden, Own,
                Forbidden, Forbidden,
            ],
        ),
        (
            Role::SecurityAdmin,
            [
                Forbidden, Forbidden, Own, Forbidden, Own, Forbidden, Forbidden, Forbidden, Own,
                Forbidden, Forbidden,
            ],
        ),
        (
            Role::AuditAdmin,
            [
                Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Own, Own, Forbidden, Own,
                Forbidden, Forbidden,
            ],
        ),
    ];
    let actions = [
        Read,
        Write,
        ListAccounts,
        ManageAccounts,
        AssignRoles,
        ReadAudit,
        ReadLedger,
        CreateToken,
        ManageOwnTokens,
        Review,
        Approve,
    ];
    for (role, wants) in table {
        let p = session("op", OrgKind::Operator, &[role]);
        for (a, want) in actions.iter().zip(wants) {
            // The ledger is its own resource; the rest are the organisation's.
            let r = if *a == ReadLedger {
                Resource::Ledger
            } else {
                org
            };
            assert_eq!(decide(&p, *a, &r, NOW), want, "{role:?} {a:?}");
        }
    }
    assert_eq!(
        actions.len(),
        Action::iter().count(),
        "every action is in the table"
    );
}

#[test]
fn nobody_without_a_role_may_do_anything() {
    let p = session("op", OrgKind::Operator, &[]);
    for a in Action::iter() {
        for r in [
            Resource::Organisation("op"),
            object("op", "pay-core", "310115"),
            Resource::Ledger,
        ] {
            assert!(
                !authorize(&p, a, &r, &relations(), NOW).is_allow(),
                "{a:?} {r:?}"
            );
        }
    }
}

#[test]
fn separation_of_duties_on_ones_own_account() {
    let secadmin = session("op", OrgKind::Operator, &[Role::SecurityAdmin]);
    let sysadmin = session("op", OrgKind::Operator, &[Role::SystemAdmin]);
    fn me(p: &Principal) -> Resource<'_> {
        Resource::Account {
            org: "op",
            user_id: &p.user_id,
            admin: true,
        }
    }
    let other = Resource::Account {
        org: "op",
        user_id: "someone",
        admin: false,
    };
    assert_eq!(
        decide(&secadmin, Action::AssignRoles, &me(&secadmin), NOW),
        Want::Forbidden
    );
    assert_eq!(
        decide(&secadmin, Action::AssignRoles, &other, NOW),
        Want::Own
    );
    assert_eq!(
        decide(&sysadmin, Action::ManageAccounts, &me(&sysadmin), NOW),
        Want::Forbidden
    );
    assert_eq!(
        decide(&sysadmin, Action::ManageAccounts, &other, NOW),
        Want::Own
    );
    // Another organisation's accounts do not exist for an administrator.
    let foreign = Resource::Account {
        org: "elsewhere",
        user_id: "x",
        admin: false,
    };
    assert_eq!(
        decide(&sysadmin, Action::ManageAccounts, &foreign, NOW),
        Want::Absent
    );
    // 三员分立: the system administrator keeps ordinary accounts, the security administrator
    // the administrators' — and neither its own.
    let an_admin = Resource::Account {
        org: "op",
        user_id: "auditor",
        admin: true,
    };
    assert_eq!(
        decide(&sysadmin, Action::ManageAccounts, &an_admin, NOW),
        Want::Forbidden
    );
    assert_eq!(
        decide(&secadmin, Action::ManageAccounts, &an_admin, NOW),
        Want::Own
    );
    assert_eq!(
        decide(&secadmin, Action::ManageAccounts, &other, NOW),
        Want::Forbidden
    );
    assert_eq!(
        decide(&secadmin, Action::ManageAccounts, &me(&secadmin), NOW),
        Want::Forbidden
    );
    let auditor = session("op", OrgKind::Operator, &[Role::AuditAdmin]);
    assert_eq!(
        decide(&auditor, Action::ManageAccounts, &an_admin, NOW),
        Want::Forbidden
    );
}

#[test]
fn tokens() {
    let read = who(
        "op",
        OrgKind::Operator,
        &[Role::SecurityLead],
        Credential::Token { write: false },
    );
    let write = who(
        "op",
        OrgKind::Operator,
        &[Role::SecurityLead],
        Credential::Token { write: true },
    );
    let org = Resource::Organisation("op");
    assert_eq!(decide(&read, Action::Read, &org, NOW), Want::Own);
    assert_eq!(decide(&read, Action::Write, &org, NOW), Want::Forbidden);
    assert_eq!(decide(&write, Action::Write, &org, NOW), Want::Own);
    // A token's scope never widens the roles.
    let member = who(
        "op",
        OrgKind::Operator,
        &[Role::Member],
        Credential::Token { write: true },
    );
    assert_eq!(decide(&member, Action::Write, &org, NOW), Want::Forbidden);
    // Tokens are made from sessions, and never by administrators.
    assert_eq!(
        decide(&write, Action::CreateToken, &org, NOW),
        Want::Forbidden
    );
    let admin = session("op", OrgKind::Operator, &[Role::SystemAdmin]);
    assert_eq!(
        decide(&admin, Action::CreateToken, &org, NOW),
        Want::Forbidden
    );
}

#[test]
fn the_ledger_is_read_by_ones_own_organisation_except_for_the_platform_auditor() {
    let auditor = session("op", OrgKind::Operator, &[Role::AuditAdmin]);
    let platform = session("plat", OrgKind::Platform, &[Role::AuditAdmin]);
    let platform_lead = session("plat", OrgKind::Platform, &[Role::SecurityLead]);
    assert_eq!(
        decide(&auditor, Action::ReadLedger, &Resource::Ledger, NOW),
        Want::Own
    );
    assert_eq!(
        decide(&platform, Action::ReadLedger, &Resource::Ledger, NOW),
        Want::All
    );
    assert_eq!(
        decide(&platform_lead, Action::ReadLedger, &Resource::Ledger, NOW),
        Want::Own
    );
    let sysadmin = session("plat", OrgKind::Platform, &[Role::SystemAdmin]);
    assert_eq!(
        decide(&sysadmin, Action::ReadLedger, &Resource::Ledger, NOW),
        Want::Forbidden
    );
}

#[test]
fn relations_reach_other_organisations_for_reading_only() {
    use Want::*;
    let pay = object("op", "pay-core", "310115");
    let beijing = object("op", "bj-branch", "110105");
    let other_op = object("op2", "x", "310115");
    let mut secret = ObjectRef {
        org: "op",
        id: "s",
        division: Some("310104"),
        secret_involved: true,
        uses_cryptography: false,
    };
    let table: Vec<(Principal, Resource<'_>, Want)> = vec![
        // An operator sees no other operator.
        (
            session("op2", OrgKind::Operator, &[Role::SecurityLead]),
            pay,
            Absent,
        ),
        // The department in charge sees what it supervises, object by object and as a whole.
        (
            session("pboc", OrgKind::DepartmentInCharge, &[Role::Member]),
            pay,
            Org("op"),
        ),
        (
            session("pboc", OrgKind::DepartmentInCharge, &[Role::Member]),
            Resource::Organisation("op"),
            Org("op"),
        ),
        (
            session("pboc", OrgKind::DepartmentInCharge, &[Role::Member]),
            other_op,
            Absent,
        ),
        (
            session("pboc", OrgKind::DepartmentInCharge, &[Role::Member]),
            Resource::Organisation("op2"),
            Absent,
        ),
        // Public security: by division prefix at its level.
        (
            session("psb-sh", OrgKind::PublicSecurity, &[Role::Member]),
            pay,
            Org("op"),
        ),
        (
            session("psb-sh", OrgKind::PublicSecurity, &[Role::Member]),
            beijing,
            Absent,
        ),
        (
            session("psb-pudong", OrgKind::PublicSecurity, &[Role::Member]),
            pay,
            Org("op"),
        ),
        (
            session("psb-pudong", OrgKind::PublicSecurity, &[Role::Member]),
            Resource::Object(secret),
            Absent,
        ),
        (
            session("mps", OrgKind::PublicSecurity, &[Role::Member]),
            beijing,
            Org("op"),
        ),
        (
            session("mps", OrgKind::PublicSecurity, &[Role::Member]),
            pay,
            Org("op"),
        ),
        // A jurisdiction row names its organ: another organ of the same kind gets nothing.
        (
            session("psb-bj", OrgKind::PublicSecurity, &[Role::Member]),
            beijing,
            Absent,
        ),
        // A supervisor's kind must match the relation: a department with a jurisdiction row
        // is still only a department.
        (
            session("psb-sh", OrgKind::DepartmentInCharge, &[Role::Member]),
            pay,
            Absent,
        ),
        // Secrecy sees only the secret-involved track; cryptography only the cryptography one.
        (
            session("secrecy-sh", OrgKind::SecrecyDepartment, &[Role::Member]),
            pay,
            Absent,
        ),
        (
            session("secrecy-sh", OrgKind::SecrecyDepartment, &[Role::Member]),
            Resource::Object(secret),
            Org("op"),
        ),
        (
            session(
                "crypto-sh",
                OrgKind::CryptographyAdministration,
                &[Role::Member],
            ),
            Resource::Object(secret),
            Absent,
        ),
        // No division: no jurisdiction can cover it.
        (
            session("mps", OrgKind::PublicSecurity, &[Role::Member]),
            Resource::Object(ObjectRef {
                division: None,
                ..secret
            }),
            Absent,
        ),
        // Evaluation agency: only the engaged object.
        (
            session("lab", OrgKind::EvaluationAgency, &[Role::Member]),
            pay,
            Org("op"),
        ),
        (
            session("lab", OrgKind::EvaluationAgency, &[Role::Member]),
            beijing,
            Absent,
        ),
        (
            session("lab", OrgKind::EvaluationAgency, &[Role::Member]),
            Resource::Organisation("op"),
            Absent,
        ),
        // IDC customer: nothing of another customer's, nothing of the IDC's own.
        (
            session("cust", OrgKind::IdcCustomer, &[Role::Member]),
            Resource::CustomerData {
                idc: "idc",
                customer: "cust2",
            },
            Absent,
        ),
        (
            session("cust", OrgKind::Operator, &[Role::Member]),
            Resource::CustomerData {
                idc: "idc",
                customer: "cust",
            },
            Absent,
        ),
        (
            session("cust", OrgKind::IdcCustomer, &[Role::Member]),
            Resource::Organisation("idc"),
            Absent,
        ),
        // Administrators of a supervisor see no compliance data through the relation.
        (
            session("pboc", OrgKind::DepartmentInCharge, &[Role::SystemAdmin]),
            pay,
            Absent,
        ),
        (
            session("psb-sh", OrgKind::PublicSecurity, &[Role::AuditAdmin]),
            pay,
            Absent,
        ),
    ];
    for (p, r, want) in &table {
        assert_eq!(
            &decide(p, Action::Read, r, NOW),
            want,
            "{} ({:?}) reads {r:?}",
            p.org,
            p.org_kind
        );
        // Reading is all a relation gives — but a supervisor's own acts, which its lead does
        // on objects of its area (supervisors_act_on_objects_of_their_area_and_kind_only).
        for a in Action::iter().filter(|a| *a != Action::Read) {
            let supervisor = p.org_kind.supervises_area();
            if matches!(r, Resource::Ledger) || (supervisor && a == Action::Review) {
                continue;
            }
            let got = decide(p, a, r, NOW);
            assert!(matches!(got, Absent), "{} {a:?} on {r:?}: {got:?}", p.org);
        }
    }
    // Using cryptography in the area is not enough: the administration sees what was filed
    // with it (art. 36), wherever it is.
    let crypto_member = session(
        "crypto-sh",
        OrgKind::CryptographyAdministration,
        &[Role::Member],
    );
    secret.uses_cryptography = true;
    assert_eq!(
        decide(&crypto_member, Action::Read, &Resource::Object(secret), NOW),
        Absent
    );
    secret.id = "filed";
    assert_eq!(
        decide(&crypto_member, Action::Read, &Resource::Object(secret), NOW),
        Org("op")
    );
}

#[test]
fn an_engagement_counts_only_for_its_duration() {
    let lab = session("lab", OrgKind::EvaluationAgency, &[Role::SecurityLead]);
    let pay = object("op", "pay-core", "310115");
    assert_eq!(
        decide(&lab, Action::Read, &pay, NOW - DAY - 1),
        Want::Absent
    );
    assert_eq!(decide(&lab, Action::Read, &pay, NOW - DAY), Want::Org("op"));
    assert_eq!(
        decide(&lab, Action::Read, &pay, NOW + DAY - 1),
        Want::Org("op")
    );
    assert_eq!(decide(&lab, Action::Read, &pay, NOW + DAY), Want::Absent);
}

#[test]
fn jurisdiction_levels() {
    let j = |division: &str, level| Jurisdiction {
        organ: "o".into(),
        division: division.into(),
        level,
    };
    assert!(j("310000", Level::Province).covers("310115"));
    assert!(!j("310000", Level::Province).covers("320115"));
    assert!(j("310100", Level::City).covers("310115"));
    assert!(!j("310100", Level::City).covers("310215"));
    assert!(j("310115", Level::County).covers("310115"));
    assert!(!j("310115", Level::County).covers("310116"));
    assert!(j("110000", Level::Ministry).covers("650102"));
    assert!(!j("310115", Level::County).covers("31"));
}

#[test]
fn names_round_trip() {
    for r in Role::all() {
        assert_eq!(Role::parse(r.as_str()), Some(r));
    }
    for k in OrgKind::all() {
        assert_eq!(OrgKind::parse(k.as_str()), Some(k));
    }
    assert_eq!(Role::parse("root"), None);
    assert_eq!(OrgKind::PublicSecurity.as_str(), "public_security");
    assert_eq!(Role::SecurityLead.as_str(), "security_lead");
}

#[test]
fn a_filing_is_reviewed_by_the_organ_it_was_routed_to_and_by_no_one_else() {
    use Want::*;
    let routed = Resource::Filing {
        operator: "op",
        organ: Some("psb-sh"),
    };
    let unrouted = Resource::Filing {
        operator: "op",
        organ: None,
    };
    let lead = session("psb-sh", OrgKind::PublicSecurity, &[Role::SecurityLead]);
    let member = session("psb-sh", OrgKind::PublicSecurity, &[Role::Member]);
    let admin = session("psb-sh", OrgKind::PublicSecurity, &[Role::SystemAdmin]);
    let other_organ = session("psb-bj", OrgKind::PublicSecurity, &[Role::SecurityLead]);
    let department = session("psb-sh", OrgKind::DepartmentInCharge, &[Role::SecurityLead]);
    let operator = session("op", OrgKind::Operator, &[Role::SecurityLead]);
    let table = [
        (&lead, Action::Read, routed, Org("op")),
        (&lead, Action::Review, routed, Org("op")),
        (&lead, Action::Write, routed, Absent),
        (&member, Action::Read, routed, Org("op")),
        (&member, Action::Review, routed, Forbidden),
        (&admin, Action::Read, routed, Absent),
        (&admin, Action::Review, routed, Absent),
        (&lead, Action::Read, unrouted, Absent),
        (&other_organ, Action::Read, routed, Absent),
        (&other_organ, Action::Review, routed, Absent),
        // Same id, wrong kind: a relation needs the kind it was made for.
        (&department, Action::Read, routed, Absent),
        // The operator reads its own filing and never reviews it.
        (&operator, Action::Read, routed, Own),
        (&operator, Action::Review, routed, Forbidden),
    ];
    for (p, a, r, want) in table {
        assert_eq!(
            decide(p, a, &r, NOW),
            want,
            "{} {:?} {a:?} {r:?}",
            p.org,
            p.org_kind
        );
    }
    // The organ lists its queue as its own organisation's work; an operator cannot.
    assert_eq!(
        decide(
            &lead,
            Action::Review,
            &Resource::Organisation("psb-sh"),
            NOW
        ),
        Own
    );
    assert_eq!(
        decide(
            &operator,
            Action::Review,
            &Resource::Organisation("op"),
            NOW
        ),
        Forbidden
    );
    let read_token = who(
        "psb-sh",
        OrgKind::PublicSecurity,
        &[Role::SecurityLead],
        Credential::Token { write: false },
    );
    assert_eq!(decide(&read_token, Action::Review, &routed, NOW), Forbidden);
}

#[test]
fn an_idc_customer_reads_and_approves_only_its_own_data() {
    use Action::*;
    use Want::*;
    let mine = Resource::CustomerData {
        idc: "idc",
        customer: "cust",
    };
    let lead = session("cust", OrgKind::IdcCustomer, &[Role::SecurityLead]);
    let member = session("cust", OrgKind::IdcCustomer, &[Role::Member]);
    let admin = session("cust", OrgKind::IdcCustomer, &[Role::SystemAdmin]);
    let staff = session("idc", OrgKind::IdcOperator, &[Role::SecurityLead]);
    let table = [
        (&lead, Read, Customer),
        (&lead, Approve, Customer),
        (&lead, Write, Forbidden),
        (&lead, ReadAudit, Absent),
        (&member, Read, Customer),
        (&member, Approve, Forbidden),
        (&admin, Read, Absent),
        (&admin, Approve, Absent),
        // The IDC's staff keep the data and never approve for the customer.
        (&staff, Read, Own),
        (&staff, Write, Own),
        (&staff, Approve, Forbidden),
    ];
    for (p, a, want) in table {
        assert_eq!(decide(p, a, &mine, NOW), want, "{:?} {a:?}", p.roles);
    }
    let other = session("cust2", OrgKind::IdcCustomer, &[Role::SecurityLead]);
    for a in Action::iter() {
        assert_eq!(decide(&other, a, &mine, NOW), Absent, "{a:?}");
    }
}

#[test]
fn a_grade_is_reviewed_by_its_committee_then_approved_by_its_department() {
    use Want::*;
    let at = |expert_stage| Resource::GradeReview {
        operator: "op",
        department: "pboc",
        committee: Some("nec"),
        expert_stage,
    };
    let (expert, dept) = (at(true), at(false));
    let no_committee = Resource::GradeReview {
        operator: "op",
        department: "pboc",
        committee: None,
        expert_stage: false,
    };
    let dept_lead = session("pboc", OrgKind::DepartmentInCharge, &[Role::SecurityLead]);
    let dept_member = session("pboc", OrgKind::DepartmentInCharge, &[Role::Member]);
    let dept_admin = session("pboc", OrgKind::DepartmentInCharge, &[Role::SystemAdmin]);
    let other_dept = session("miit", OrgKind::DepartmentInCharge, &[Role::SecurityLead]);
    let committee = session("nec", OrgKind::ExpertCommittee, &[Role::SecurityLead]);
    let other_committee = session("nec2", OrgKind::ExpertCommittee, &[Role::SecurityLead]);
    // Right id, wrong kind: a relation needs the kind it was made for.
    let organ_named_pboc = session("pboc", OrgKind::PublicSecurity, &[Role::SecurityLead]);
    let operator = session("op", OrgKind::Operator, &[Role::SecurityLead]);
    let table = [
        (&committee, Action::Read, expert, Org("op")),
        (&committee, Action::Review, expert, Org("op")),
        (&committee, Action::Review, dept, Forbidden),
        (&committee, Action::Read, dept, Org("op")),
        (&committee, Action::Write, expert, Absent),
        (&committee, Action::Read, no_committee, Absent),
        (&dept_lead, Action::Read, expert, Org("op")),
        (&dept_lead, Action::Review, expert, Forbidden),
        (&dept_lead, Action::Review, dept, Org("op")),
        (&dept_lead, Action::Review, no_committee, Org("op")),
        (&dept_member, Action::Read, dept, Org("op")),
        (&dept_member, Action::Review, dept, Forbidden),
        (&dept_admin, Action::Read, dept, Absent),
        (&dept_admin, Action::Review, dept, Absent),
        (&other_dept, Action::Read, dept, Absent),
        (&other_dept, Action::Review, dept, Absent),
        (&other_committee, Action::Review, expert, Absent),
        (&organ_named_pboc, Action::Read, dept, Absent),
        (&operator, Action::Read, dept, Own),
        (&operator, Action::Review, dept, Forbidden),
        (&operator, Action::Review, expert, Forbidden),
    ];
    for (p, a, r, want) in table {
        assert_eq!(
            decide(p, a, &r, NOW),
            want,
            "{} {:?} {a:?} {r:?}",
            p.org,
            p.org_kind
        );
    }
}

#[test]
fn an_agency_sees_its_engagement_only_while_engaged() {
    use Want::*;
    let at = |from_ms, until_ms| Resource::Engagement {
        operator: "op",
        agency: "lab",
        from_ms,
        until_ms,
    };
    let (now, past, future) = (
        at(NOW - 10, NOW + 10),
        at(NOW - 20, NOW),
        at(NOW + 1, NOW + 20),
    );
    let lead = session("lab", OrgKind::EvaluationAgency, &[Role::SecurityLead]);
    let member = session("lab", OrgKind::EvaluationAgency, &[Role::Member]);
    let admin = session("lab", OrgKind::EvaluationAgency, &[Role::SystemAdmin]);
    let other_lab = session("lab2", OrgKind::EvaluationAgency, &[Role::SecurityLead]);
    let wrong_kind = session("lab", OrgKind::DepartmentInCharge, &[Role::SecurityLead]);
    let operator = session("op", OrgKind::Operator, &[Role::SecurityLead]);
    let table = [
        (&lead, Action::Read, now, Org("op")),
        (&lead, Action::Review, now, Org("op")),
        (&lead, Action::Write, now, Absent),
        // The window is [from, until): it ends exactly at `until`.
        (&lead, Action::Read, past, Absent),
        (&lead, Action::Review, past, Absent),
        (&lead, Action::Read, future, Absent),
        (&member, Action::Read, now, Org("op")),
        (&member, Action::Review, now, Forbidden),
        (&admin, Action::Read, now, Absent),
        (&other_lab, Action::Read, now, Absent),
        (&wrong_kind, Action::Read, now, Absent),
        (&operator, Action::Read, now, Own),
        (&operator, Action::Read, past, Own),
        (&operator, Action::Review, now, Forbidden),
    ];
    for (p, a, r, want) in table {
        assert_eq!(
            decide(p, a, &r, NOW),
            want,
            "{} {:?} {a:?} {r:?}",
            p.org,
            p.org_kind
        );
    }
}

#[test]
fn supervisors_act_on_objects_of_their_area_and_kind_only() {
    use Want::*;
    let plain = object("op", "a", "310104");
    let elsewhere = object("op", "b", "440300");
    let with = |id, secret_involved, uses_cryptography| {
        Resource::Object(ObjectRef {
            org: "op",
            id,
            division: Some("310104"),
            secret_involved,
            uses_cryptography,
        })
    };
    let (secret, crypto) = (with("s", true, false), with("c", false, true));
    let filed = with("filed", false, true);
    let psb = session("psb-sh", OrgKind::PublicSecurity, &[Role::SecurityLead]);
    let psb_member = session("psb-sh", OrgKind::PublicSecurity, &[Role::Member]);
    let secrecy = session(
        "secrecy-sh",
        OrgKind::SecrecyDepartment,
        &[Role::SecurityLead],
    );
    let cryptoadm = session(
        "crypto-sh",
        OrgKind::CryptographyAdministration,
        &[Role::SecurityLead],
    );
    let dept = session("pboc", OrgKind::DepartmentInCharge, &[Role::SecurityLead]);
    let lab = session("lab", OrgKind::EvaluationAgency, &[Role::SecurityLead]);
    let table = [
        (&psb, plain, Org("op")),
        (&psb, secret, Org("op")),
        (&psb, elsewhere, Absent),
        (&psb_member, plain, Forbidden),
        (&psb_member, elsewhere, Absent),
        (&secrecy, secret, Org("op")),
        (&secrecy, plain, Absent),
        (&cryptoadm, filed, Org("op")),
        // Using cryptography is not filing its usage (art. 36).
        (&cryptoadm, crypto, Absent),
        (&cryptoadm, secret, Absent),
        // Supervising or evaluating is not inspecting.
        (&dept, plain, Absent),
        (&lab, object("op", "pay-core", "310115"), Absent),
    ];
    for (p, r, want) in table {
        assert_eq!(
            decide(p, Action::Review, &r, NOW),
            want,
            "{} {:?} {r:?}",
            p.org,
            p.org_kind
        );
    }
}

#[test]
fn an_enforcement_is_the_authoritys_and_the_informed_department_reads_it() {
    use Want::*;
    let informed = ["pboc"];
    let warned = Resource::Enforcement {
        operator: "op",
        authority: "psb-sh",
        informed: &informed,
    };
    let ordered = Resource::Enforcement {
        operator: "op",
        authority: "psb-sh",
        informed: &[],
    };
    let psb = session("psb-sh", OrgKind::PublicSecurity, &[Role::SecurityLead]);
    let psb_member = session("psb-sh", OrgKind::PublicSecurity, &[Role::Member]);
    let other_psb = session("psb-bj", OrgKind::PublicSecurity, &[Role::SecurityLead]);
    let dept = session("pboc", OrgKind::DepartmentInCharge, &[Role::SecurityLead]);
    let other_dept = session("miit", OrgKind::DepartmentInCharge, &[Role::SecurityLead]);
    let operator = session("op", OrgKind::Operator, &[Role::SecurityLead]);
    let table = [
        (&psb, Action::Read, ordered, Org("op")),
        (&psb, Action::Review, ordered, Org("op")),
        (&psb_member, Action::Read, ordered, Org("op")),
        (&psb_member, Action::Review, ordered, Forbidden),
        (&other_psb, Action::Read, ordered, Absent),
        (&other_psb, Action::Review, ordered, Absent),
        (&dept, Action::Read, ordered, Absent),
        (&dept, Action::Read, warned, Org("op")),
        (&dept, Action::Review, warned, Forbidden),
        (&other_dept, Action::Read, warned, Absent),
        (&operator, Action::Read, ordered, Own),
        (&operator, Action::Review, ordered, Forbidden),
    ];
    for (p, a, r, want) in table {
        assert_eq!(
            decide(p, a, &r, NOW),
            want,
            "{} {:?} {a:?} {r:?}",
            p.org,
            p.org_kind
        );
    }
}

#[test]
fn a_department_grades_the_branches_of_the_operators_it_supervises() {
    use Want::*;
    let branch = Resource::Branch { operator: "op" };
    let elsewhere = Resource::Branch { operator: "op2" };
    let dept = session("pboc", OrgKind::DepartmentInCharge, &[Role::SecurityLead]);
    let member = session("pboc", OrgKind::DepartmentInCharge, &[Role::Member]);
    let psb = session("psb-sh", OrgKind::PublicSecurity, &[Role::SecurityLead]);
    let operator = session("op", OrgKind::Operator, &[Role::SecurityLead]);
    for (p, r, want) in [
        (&dept, branch, Org("op")),
        (&dept, elsewhere, Absent),
        (&member, branch, Forbidden),
        (&psb, branch, Absent),
        (&operator, branch, Forbidden),
    ] {
        assert_eq!(decide(p, Action::Review, &r, NOW), want, "{} {r:?}", p.org);
        if !matches!(p.org_kind, OrgKind::Operator) {
            assert_eq!(
                decide(p, Action::Read, &r, NOW),
                Absent,
                "grading is not reading"
            );
        }
    }
}

#[test]
fn an_information_request_is_read_by_its_organ_and_answered_by_the_operator() {
    use Want::*;
    let r = Resource::InfoRequest {
        operator: "op",
        organ: "psb-sh",
    };
    let psb = session("psb-sh", OrgKind::PublicSecurity, &[Role::SecurityLead]);
    let other = session("psb-bj", OrgKind::PublicSecurity, &[Role::SecurityLead]);
    let lead = session("op", OrgKind::Operator, &[Role::SecurityLead]);
    let member = session("op", OrgKind::Operator, &[Role::Member]);
    for (p, a, want) in [
        (&psb, Action::Read, Org("op")),
        (&psb, Action::Write, Absent),
        (&other, Action::Read, Absent),
        (&lead, Action::Read, Own),
        (&lead, Action::Write, Own),
        (&member, Action::Write, Forbidden),
    ] {
        assert_eq!(decide(p, a, &r, NOW), want, "{} {a:?}", p.org);
    }
}

#[test]
fn a_submission_is_read_by_its_authority_and_decided_by_its_lead() {
    use Want::*;
    let to_secrecy = Resource::Submission {
        operator: "op",
        authority: "secrecy-sh",
    };
    let to_crypto = Resource::Submission {
        operator: "op",
        authority: "crypto-sh",
    };
    let secrecy = session(
        "secrecy-sh",
        OrgKind::SecrecyDepartment,
        &[Role::SecurityLead],
    );
    let secrecy_member = session("secrecy-sh", OrgKind::SecrecyDepartment, &[Role::Member]);
    let cryptoadm = session(
        "crypto-sh",
        OrgKind::CryptographyAdministration,
        &[Role::SecurityLead],
    );
    let other_secrecy = session(
        "secrecy-gd",
        OrgKind::SecrecyDepartment,
        &[Role::SecurityLead],
    );
    let psb = session("psb-sh", OrgKind::PublicSecurity, &[Role::SecurityLead]);
    let lead = session("op", OrgKind::Operator, &[Role::SecurityLead]);
    let stranger = session("op2", OrgKind::Operator, &[Role::SecurityLead]);
    let table = [
        (&secrecy, &to_secrecy, Action::Read, Org("op")),
        (&secrecy, &to_secrecy, Action::Review, Org("op")),
        (&secrecy_member, &to_secrecy, Action::Read, Org("op")),
        (&secrecy_member, &to_secrecy, Action::Review, Forbidden),
        (&cryptoadm, &to_crypto, Action::Review, Org("op")),
        // Another authority — of the other track, another area, or the PSB — sees nothing.
        (&cryptoadm, &to_secrecy, Action::Read, Absent),
        (&other_secrecy, &to_secrecy, Action::Read, Absent),
        (&psb, &to_secrecy, Action::Read, Absent),
        (&secrecy, &to_secrecy, Action::Write, Absent),
        // The operator reads and writes its own, but does not decide it.
        (&lead, &to_secrecy, Action::Read, Own),
        (&lead, &to_secrecy, Action::Review, Forbidden),
        (&stranger, &to_secrecy, Action::Read, Absent),
    ];
    for (p, r, a, want) in table {
        assert_eq!(decide(p, a, r, NOW), want, "{} {a:?} {r:?}", p.org);
    }
}
