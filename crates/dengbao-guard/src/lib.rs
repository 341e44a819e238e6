//! `dengbao-guard`: who may do what, decided in one place.
//!
//! [`authorize`] takes the caller ([`Principal`]), what it wants to do ([`Action`]), what it
//! wants to do it to ([`Resource`]), the relations of the caller's organisation to others
//! ([`Relations`], data from the store) and the time, and answers a [`Decision`]: either the
//! [`Scope`] the store call must use, or a [`Denial`].
//!
//! Deny by default: every `match` below ends in a denial, and a resource of another
//! organisation is visible only through a relation — otherwise the denial is
//! [`Denial::Absent`], which callers answer exactly as "no such object".
//!
//! **Architecture invariant:** pure. No I/O, no clock (time is a parameter), no store, no
//! HTTP. The relations are loaded by `dengbao-app` and handed in.

pub mod policy;

use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator;

/// A user's role within its organisation.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// 系统管理员: accounts and configuration.
    SystemAdmin,
    /// 安全管理员: role assignment and policies.
    SecurityAdmin,
    /// 审计管理员: reads the audit trail only.
    AuditAdmin,
    /// Writes the organisation's compliance data.
    SecurityLead,
    /// Reads the organisation's compliance data.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
    pub fn parse(s: &str) -> Option<Role> {
        s.parse().ok()
    }
    /// Every role, in declaration order.
    pub fn all() -> impl Iterator<Item = Role> {
        Role::iter()
    }
    /// The three separated administrator roles (三权分立).
    pub fn is_admin(self) -> bool {
        matches!(
            self,
            Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin
        )
    }
}

/// What an organisation is in the scheme (PRODUCT.md, "Parties").
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OrgKind {
    /// 运营使用单位.
    Operator,
    /// 主管部门.
    DepartmentInCharge,
    ExpertCommittee,
    /// 测评机构.
    EvaluationAgency,
    /// 公安机关.
    PublicSecurity,
    /// 国家保密工作部门.
    SecrecyDepartment,
    /// 国家密码管理部门.
    CryptographyAdministration,
    /// An operator that hosts customers' data.
    IdcOperator,
    IdcCustomer,
    /// The deployment's own administrators.
    Platform,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
    /// A supervisor of an area (a jurisdiction): the public security organ, the secrecy
    /// department, the cryptography administration (Measures art. 3, 18–20, 33, 39, 40).
    pub fn supervises_area(self) -> bool {
        matches!(
            self,
            OrgKind::PublicSecurity
                | OrgKind::SecrecyDepartment
                | OrgKind::CryptographyAdministration
        )
    }
    pub fn parse(s: &str) -> Option<OrgKind> {
        s.parse().ok()
    }
    pub fn all() -> impl Iterator<Item = OrgKind> {
        OrgKind::iter()
    }
}

/// How the caller proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// An interactive session (its second factor, where required, already given).
    Session,
    /// An API token; `write: false` tokens may only read.
    Token { write: bool },
}

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    /// The organisation the user acts for.
    pub org: String,
    pub org_kind: OrgKind,
    pub roles: Vec<Role>,
    pub credential: Credential,
}

impl Principal {
    pub fn has(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r.is_admin())
    }
    /// Whether `action` is allowed on the caller's own organisation — what a page uses to
    /// decide which controls to show. The decision that counts is [`authorize`]'s.
    pub fn may(&self, action: Action) -> bool {
        self.check(action).is_ok()
    }
    /// [`Principal::may`], with the rule's words when not.
    pub fn check(&self, action: Action) -> Result<(), String> {
        let own = Resource::Organisation(&self.org);
        match authorize(self, action, &own, &Relations::default(), 0) {
            Decision::Allow(_) => Ok(()),
            Decision::Deny(Denial::Forbidden(why)) => Err(why),
            Decision::Deny(Denial::Absent) => Err("not allowed".to_owned()),
        }
    }
}

/// What the caller wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    /// Read compliance data: objects, events, obligations, dossiers, registries.
    Read,
    /// Change compliance data.
    Write,
    /// See the accounts of the organisation (system or security administrator).
    ListAccounts,
    /// Create, disable or enable accounts (system administrator).
    ManageAccounts,
    /// Assign or revoke roles (security administrator).
    AssignRoles,
    /// Read the organisation's audit trail (audit administrator).
    ReadAudit,
    /// Read ledger entries and their proofs.
    ReadLedger,
    /// Create an API token for oneself.
    CreateToken,
    /// List or revoke one's own API tokens.
    ManageOwnTokens,
    /// The public security organ's acts on a filing routed to it: mark it received, issue a
    /// certificate or a notice (Measures art. 17).
    Review,
    /// An IDC customer's explicit consent to an operation on its data — a destruction today,
    /// high-risk operations and sharing with the authorization gates (MIIT IDC notice).
    Approve,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
    /// Changes something (a read-only token may not).
    pub fn writes(self) -> bool {
        !matches!(
            self,
            Action::Read | Action::ListAccounts | Action::ReadAudit | Action::ReadLedger
        ) && self != Action::ManageOwnTokens
    }
    /// Worth a security event when denied: everything but reads of compliance data, whose
    /// denials are answered as absent and would only record probing.
    pub fn privileged(self) -> bool {
        !matches!(self, Action::Read)
    }
}

/// A grading object as the guard needs to see it.
#[derive(Clone, Copy, Debug)]
pub struct ObjectRef<'a> {
    /// The operator organisation that owns it.
    pub org: &'a str,
    pub id: &'a str,
    /// Administrative division (GB/T 2260, six digits) where it is located.
    pub division: Option<&'a str>,
    pub secret_involved: bool,
    pub uses_cryptography: bool,
}

/// What the action is done to.
#[derive(Clone, Copy, Debug)]
pub enum Resource<'a> {
    /// An organisation's data as a whole: lists, organisation-wide obligations, registries,
    /// calendar feeds.
    Organisation(&'a str),
    /// One grading object.
    Object(ObjectRef<'a>),
    /// One user account; `admin`: it holds an administrator role.
    Account {
        org: &'a str,
        user_id: &'a str,
        admin: bool,
    },
    /// The platform's ledger.
    Ledger,
    /// An IDC customer's data and what is about it — its data assets, contracts,
    /// destructions, the incidents that affect it — kept by the IDC operator that hosts it.
    CustomerData { idc: &'a str, customer: &'a str },
    /// An operator's record filing, and the public security organ it was routed to (by the
    /// object's division, Measures art. 15).
    Filing {
        operator: &'a str,
        organ: Option<&'a str>,
    },
    /// An operator's proposed grade under review (Measures art. 10): the department in charge
    /// that approves it and, from the pack's expert-review grade, the expert committee that
    /// gives its opinion first. `expert_stage`: the committee's opinion is what is due now.
    GradeReview {
        operator: &'a str,
        department: &'a str,
        committee: Option<&'a str>,
        expert_stage: bool,
    },
    /// An evaluation agency's engagement for one object of an operator (Measures art. 14):
    /// the agency reads it and its lead records the evaluation, only within `[from_ms,
    /// until_ms)`.
    Engagement {
        operator: &'a str,
        agency: &'a str,
        from_ms: i64,
        until_ms: i64,
    },
    /// An art. 40 enforcement against an operator's object: the authority that ordered the
    /// correction acts on it; the departments in charge informed with its warning read it.
    Enforcement {
        operator: &'a str,
        authority: &'a str,
        informed: &'a [&'a str],
    },
    /// A branch of a trans-provincial or nationwide system at one of the operators a
    /// department in charge supervises: the department grades it uniformly (art. 10 ¶2).
    Branch { operator: &'a str },
    /// A supervisor's request for the information of art. 19: the organ that asked reads it
    /// and the answer; the operator answers it (`Action::Write`).
    InfoRequest { operator: &'a str, organ: &'a str },
    /// What an operator submitted to the secrecy department or the cryptography
    /// administration — an application for approval or record (art. 29 ¶2, 30), a change
    /// report (art. 31), a usage filing of cryptography (art. 36): the authority it went to
    /// reads it and its lead decides it (`Action::Review`).
    Submission {
        operator: &'a str,
        authority: &'a str,
    },
}

impl Resource<'_> {
    fn org(&self) -> Option<&str> {
        match self {
            Resource::Organisation(o) => Some(o),
            Resource::Object(o) => Some(o.org),
            Resource::Account { org, .. } => Some(org),
            Resource::Ledger => None,
            Resource::CustomerData { idc, .. } => Some(idc),
            Resource::Filing { operator, .. } => Some(operator),
            Resource::GradeReview { operator, .. } => Some(operator),
            Resource::Engagement { operator, .. } => Some(operator),
            Resource::Enforcement { operator, .. } => Some(operator),
            Resource::Branch { operator } => Some(operator),
            Resource::InfoRequest { operator, .. } => Some(operator),
            Resource::Submission { operator, .. } => Some(operator),
        }
    }
}

/// A department in charge (主管部门) supervises an operator (Measures art. 3, 10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supervision {
    pub department: String,
    pub operator: String,
}

/// How far a supervisor's jurisdiction reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Level {
    /// The whole country (a ministry).
    Ministry,
    /// Same first two digits of the division code.
    Province,
    /// Same first four.
    City,
    /// The same six.
    County,
}

impl Level {
    fn digits(self) -> usize {
        match self {
            Level::Ministry => 0,
            Level::Province => 2,
            Level::City => 4,
            Level::County => 6,
        }
    }
}

/// A supervisor's area: public security organ, secrecy department or cryptography
/// administration (Measures art. 3, 17–20).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jurisdiction {
    pub organ: String,
    /// Six-digit division code of the organ's seat.
    pub division: String,
    pub level: Level,
}

impl Jurisdiction {
    pub fn covers(&self, division: &str) -> bool {
        let n = self.level.digits();
        n == 0
            || (division.len() >= n
                && self.division.len() >= n
                && division.as_bytes()[..n] == self.division.as_bytes()[..n])
    }
}

/// An evaluation agency engaged for one object, for a time (Measures art. 14, 21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Engagement {
    pub agency: String,
    pub operator: String,
    pub object: String,
    /// Epoch ms, inclusive.
    pub from_ms: i64,
    /// Epoch ms, exclusive.
    pub until_ms: i64,
}

/// The relations in which the caller's organisation is the supervising or engaged party.
#[derive(Clone, Debug, Default)]
pub struct Relations {
    pub supervision: Vec<Supervision>,
    pub jurisdictions: Vec<Jurisdiction>,
    pub engagements: Vec<Engagement>,
    /// `(operator, object)` whose usage of cryptography was filed with the caller (art. 36):
    /// all a cryptography administration sees.
    pub filed: Vec<(String, String)>,
}

/// The organisation whose rows the store call may touch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Org(String),
    /// Every organisation (the platform's audit administrator reading the ledger).
    All,
    /// One IDC customer's rows within its IDC operator's data (the customer reading its own).
    Customer {
        idc: String,
        customer: String,
    },
}

impl Scope {
    /// The organisation filter for a store call (`None`: every organisation).
    pub fn org(&self) -> Option<&str> {
        match self {
            Scope::Org(o) => Some(o),
            Scope::All => None,
            Scope::Customer { idc, .. } => Some(idc),
        }
    }
    /// The customer filter within the organisation (`None`: all of its rows).
    pub fn customer(&self) -> Option<&str> {
        match self {
            Scope::Customer { customer, .. } => Some(customer),
            _ => None,
        }
    }
}

/// Why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denial {
    /// Outside every relation of the caller: answer as if it did not exist.
    Absent,
    /// Visible, but not allowed; the text names the rule.
    Forbidden(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow(Scope),
    Deny(Denial),
}

impl Decision {
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

fn forbidden(s: impl Into<String>) -> Decision {
    Decision::Deny(Denial::Forbidden(s.into()))
}

/// What a role grants on its own organisation.
fn grants(role: Role, a: Action) -> bool {
    use Action::*;
    matches!(
        (role, a),
        (
            Role::Member,
            Read | ReadLedger | CreateToken | ManageOwnTokens
        ) | (
            Role::SecurityLead,
            Read | Write | ReadLedger | CreateToken | ManageOwnTokens | Review | Approve
        ) | (
            Role::SystemAdmin,
            ListAccounts | ManageAccounts | ManageOwnTokens
        ) | (
            Role::SecurityAdmin,
            ListAccounts | AssignRoles | ManageOwnTokens
        ) | (Role::AuditAdmin, ReadAudit | ReadLedger | ManageOwnTokens)
    )
}

fn roles_text(p: &Principal) -> String {
    p.roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one access decision.
pub fn authorize(
    p: &Principal,
    action: Action,
    resource: &Resource<'_>,
    rel: &Relations,
    now_ms: i64,
) -> Decision {
    // A read-only token reads, whatever the roles.
    if let Credential::Token { write: false } = p.credential
        && action.writes()
    {
        return forbidden("a read-only API token cannot change anything");
    }
    match resource.org() {
        // The ledger is the platform's: its audit administrator reads every organisation's
        // entries, everyone else with a reading role only their own organisation's.
        None => {
            if !p.roles.iter().any(|r| grants(*r, action)) || action != Action::ReadLedger {
                return forbidden(format!(
                    "reading the ledger needs a member, security lead or audit administrator role; yours: {}",
                    roles_text(p)
                ));
            }
            if p.has(Role::AuditAdmin) && p.org_kind == OrgKind::Platform {
                Decision::Allow(Scope::All)
            } else {
                Decision::Allow(Scope::Org(p.org.clone()))
            }
        }
        Some(org) if org == p.org => own(p, action, resource),
        Some(_) => related(p, action, resource, rel, now_ms),
    }
}

/// Within the caller's own organisation: roles decide, with the separation of duties.
fn own(p: &Principal, action: Action, resource: &Resource<'_>) -> Decision {
    // Reviewing is the organ's act, and never on a filing of its own organisation.
    if action == Action::Review && matches!(resource, Resource::Branch { .. }) {
        return forbidden(
            "a trans-provincial or nationwide system is graded uniformly by its department in charge (Measures art. 10 ¶2)",
        );
    }
    if action == Action::Review && matches!(resource, Resource::Enforcement { .. }) {
        return forbidden(
            "the authority that ordered the correction acts on an enforcement, not the operator (Measures art. 40)",
        );
    }
    if action == Action::Review && matches!(resource, Resource::Engagement { .. }) {
        return forbidden(
            "the engaged evaluation agency records the evaluation, not the operator (Measures art. 14)",
        );
    }
    if action == Action::Review && matches!(resource, Resource::Submission { .. }) {
        return forbidden(
            "the authority it was submitted to decides it, not the operator (Measures art. 29 ¶2, 31, 36)",
        );
    }
    if action == Action::Review && matches!(resource, Resource::GradeReview { .. }) {
        return forbidden(
            "the department in charge approves an operator's grade, not the operator (Measures art. 10 ¶1)",
        );
    }
    if action == Action::Review
        && (p.org_kind != OrgKind::PublicSecurity || matches!(resource, Resource::Filing { .. }))
    {
        return forbidden("only a public security organ reviews filings (Measures art. 17)");
    }
    if action == Action::Approve {
        return forbidden(
            "only the customer approves operations on its data (MIIT IDC notice: explicit customer authorization)",
        );
    }
    if action == Action::CreateToken {
        if p.credential != Credential::Session {
            return forbidden("tokens are created from an interactive session");
        }
        if p.is_admin() {
            return forbidden(
                "administrators act only through interactive sessions with a second factor",
            );
        }
    }
    // 三员分立: the security administrator alone enables and disables administrators, the
    // system administrator everyone else; nobody their own account.
    if let (Action::ManageAccounts, Resource::Account { user_id, admin, .. }) = (action, resource) {
        if *user_id == p.user_id {
            return forbidden("you cannot disable or enable your own account");
        }
        if *admin {
            return if p.has(Role::SecurityAdmin) {
                Decision::Allow(Scope::Org(p.org.clone()))
            } else {
                forbidden(
                    "only the security administrator enables or disables administrators (三员分立)",
                )
            };
        }
    }
    if !p.roles.iter().any(|r| grants(*r, action)) {
        return forbidden(format!("your roles ({}) do not allow this", roles_text(p)));
    }
    if let Resource::Account { user_id, .. } = resource
        && *user_id == p.user_id
    {
        match action {
            Action::AssignRoles => {
                return forbidden("nobody changes their own roles (separation of duties)");
            }
            Action::ManageAccounts => {
                return forbidden("you cannot disable or enable your own account");
            }
            _ => {}
        }
    }
    Decision::Allow(Scope::Org(p.org.clone()))
}

/// Another organisation's data: visible only through a relation, and only to read.
fn related(
    p: &Principal,
    action: Action,
    resource: &Resource<'_>,
    rel: &Relations,
    now: i64,
) -> Decision {
    // The organ a filing was routed to reads it, and its lead reviews it (art. 17).
    if let Resource::Filing { operator, organ } = resource {
        let routed_here = p.org_kind == OrgKind::PublicSecurity && *organ == Some(p.org.as_str());
        let may = |a: Action| p.roles.iter().any(|r| grants(*r, a));
        return match action {
            Action::Read | Action::Review if routed_here && may(action) => {
                Decision::Allow(Scope::Org((*operator).to_owned()))
            }
            // The organ's member sees the filing but may not act on it.
            Action::Review if routed_here && may(Action::Read) => {
                forbidden(format!("your roles ({}) do not allow this", roles_text(p)))
            }
            _ => Decision::Deny(Denial::Absent),
        };
    }
    // A proposed grade: its department in charge and its expert committee read it; the
    // committee's lead gives the opinion while that is due, the department's lead decides
    // after (art. 10 ¶1, ¶3).
    if let Resource::GradeReview {
        operator,
        department,
        committee,
        expert_stage,
    } = resource
    {
        let is_dept = p.org_kind == OrgKind::DepartmentInCharge && *department == p.org;
        let is_committee =
            p.org_kind == OrgKind::ExpertCommittee && *committee == Some(p.org.as_str());
        let may = |a: Action| p.roles.iter().any(|r| grants(*r, a));
        let allow = || Decision::Allow(Scope::Org((*operator).to_owned()));
        return match action {
            Action::Read if (is_dept || is_committee) && may(action) => allow(),
            Action::Review if (is_dept || is_committee) && !may(action) && may(Action::Read) => {
                forbidden(format!("your roles ({}) do not allow this", roles_text(p)))
            }
            Action::Review if !may(action) => Decision::Deny(Denial::Absent),
            Action::Review if is_committee && *expert_stage => allow(),
            Action::Review if is_dept && !*expert_stage => allow(),
            Action::Review if is_dept => forbidden(
                "the expert committee reviews a grade of IV or above before the department in charge approves it (Measures art. 10 ¶3)",
            ),
            Action::Review if is_committee => forbidden(
                "the expert committee has given its opinion; the department in charge decides now (Measures art. 10 ¶1)",
            ),
            _ => Decision::Deny(Denial::Absent),
        };
    }
    // An engagement: the agency reads it and its lead records the evaluation, only while it
    // is engaged (art. 14); before and after, as for everyone else, it is absent.
    if let Resource::Engagement {
        operator,
        agency,
        from_ms,
        until_ms,
    } = resource
    {
        let engaged = p.org_kind == OrgKind::EvaluationAgency
            && *agency == p.org
            && *from_ms <= now
            && now < *until_ms;
        let may = |a: Action| p.roles.iter().any(|r| grants(*r, a));
        return match action {
            Action::Read | Action::Review if engaged && may(action) => {
                Decision::Allow(Scope::Org((*operator).to_owned()))
            }
            Action::Review if engaged && may(Action::Read) => {
                forbidden(format!("your roles ({}) do not allow this", roles_text(p)))
            }
            _ => Decision::Deny(Denial::Absent),
        };
    }
    // An enforcement: its authority reads it and its lead acts on it; a department in
    // charge informed with the warning reads it (art. 40).
    if let Resource::Enforcement {
        operator,
        authority,
        informed,
    } = resource
    {
        let is_authority = matches!(
            p.org_kind,
            OrgKind::PublicSecurity
                | OrgKind::SecrecyDepartment
                | OrgKind::CryptographyAdministration
        ) && *authority == p.org;
        let is_informed =
            p.org_kind == OrgKind::DepartmentInCharge && informed.contains(&p.org.as_str());
        let may = |a: Action| p.roles.iter().any(|r| grants(*r, a));
        let allow = || Decision::Allow(Scope::Org((*operator).to_owned()));
        return match action {
            Action::Read if (is_authority || is_informed) && may(action) => allow(),
            Action::Review if is_authority && may(action) => allow(),
            Action::Review if is_authority && may(Action::Read) => {
                forbidden(format!("your roles ({}) do not allow this", roles_text(p)))
            }
            Action::Review if is_informed && may(Action::Read) => forbidden(
                "the authority that ordered the correction acts on it; the department in charge is informed (Measures art. 40)",
            ),
            _ => Decision::Deny(Denial::Absent),
        };
    }
    // An information request: the organ that asked reads it (art. 19).
    if let Resource::InfoRequest { operator, organ } = resource {
        let asked = matches!(
            p.org_kind,
            OrgKind::PublicSecurity
                | OrgKind::SecrecyDepartment
                | OrgKind::CryptographyAdministration
        ) && *organ == p.org;
        let may = |a: Action| p.roles.iter().any(|r| grants(*r, a));
        return match action {
            Action::Read if asked && may(action) => {
                Decision::Allow(Scope::Org((*operator).to_owned()))
            }
            _ => Decision::Deny(Denial::Absent),
        };
    }
    // A submission: the authority it went to reads it, and its lead decides it (art. 29 ¶2,
    // 31, 36).
    if let Resource::Submission {
        operator,
        authority,
    } = resource
    {
        let to_me = matches!(
            p.org_kind,
            OrgKind::SecrecyDepartment | OrgKind::CryptographyAdministration
        ) && *authority == p.org;
        let may = |a: Action| p.roles.iter().any(|r| grants(*r, a));
        return match action {
            Action::Read | Action::Review if to_me && may(action) => {
                Decision::Allow(Scope::Org((*operator).to_owned()))
            }
            Action::Review if to_me && may(Action::Read) => {
                forbidden(format!("your roles ({}) do not allow this", roles_text(p)))
            }
            _ => Decision::Deny(Denial::Absent),
        };
    }
    // A branch: the department in charge of its operator grades it uniformly (art. 10 ¶2).
    if let Resource::Branch { operator } = resource {
        let supervises = p.org_kind == OrgKind::DepartmentInCharge
            && rel
                .supervision
                .iter()
                .any(|s| s.department == p.org && s.operator == *operator);
        let may = |a: Action| p.roles.iter().any(|r| grants(*r, a));
        return match action {
            Action::Review if supervises && may(action) => {
                Decision::Allow(Scope::Org((*operator).to_owned()))
            }
            Action::Review if supervises && may(Action::Read) => {
                forbidden(format!("your roles ({}) do not allow this", roles_text(p)))
            }
            _ => Decision::Deny(Denial::Absent),
        };
    }
    // An IDC customer reads its own data at its IDC operator, and its lead consents to
    // operations on it; nobody else reaches it through this resource.
    if let Resource::CustomerData { idc, customer } = resource {
        let own = p.org_kind == OrgKind::IdcCustomer && *customer == p.org;
        let may = |a: Action| p.roles.iter().any(|r| grants(*r, a));
        let scope = || {
            Decision::Allow(Scope::Customer {
                idc: (*idc).to_owned(),
                customer: (*customer).to_owned(),
            })
        };
        return match action {
            Action::Read | Action::Approve if own && may(action) => scope(),
            Action::Approve if own && may(Action::Read) => {
                forbidden(format!("your roles ({}) do not allow this", roles_text(p)))
            }
            Action::Write if own && may(Action::Read) => forbidden(
                "the IDC operator keeps the customer's data; the customer reads it and approves operations on it",
            ),
            _ => Decision::Deny(Denial::Absent),
        };
    }
    let allow = |org: &str| Decision::Allow(Scope::Org(org.to_owned()));
    // A cryptography administration sees only what was filed with it (art. 36).
    let filed = |o: &ObjectRef<'_>| {
        rel.filed
            .iter()
            .any(|(operator, object)| operator == o.org && object == o.id)
    };
    let in_jurisdiction = |division: Option<&str>| {
        division.is_some_and(|d| {
            rel.jurisdictions
                .iter()
                .any(|j| j.organ == p.org && j.covers(d))
        })
    };
    // A supervisor's acts on an object in its area — the public security organ's inspection
    // and rectification notice (art. 18–20), the secrecy department's and the cryptography
    // administration's examinations (art. 33, 39) — by its lead.
    if action == Action::Review {
        let Resource::Object(o) = resource else {
            return Decision::Deny(Denial::Absent);
        };
        let covers = match p.org_kind {
            OrgKind::PublicSecurity => in_jurisdiction(o.division),
            OrgKind::SecrecyDepartment => o.secret_involved && in_jurisdiction(o.division),
            OrgKind::CryptographyAdministration => filed(o),
            _ => false,
        };
        let may = |a: Action| p.roles.iter().any(|r| grants(*r, a));
        return match (covers, may(Action::Review), may(Action::Read)) {
            (true, true, _) => allow(o.org),
            (true, false, true) => {
                forbidden(format!("your roles ({}) do not allow this", roles_text(p)))
            }
            _ => Decision::Deny(Denial::Absent),
        };
    }
    // Administrators never see compliance data, their own organisation's or anyone's.
    if action != Action::Read || !p.roles.iter().any(|r| grants(*r, Action::Read)) {
        return Decision::Deny(Denial::Absent);
    }
    let supervises = |operator: &str| {
        rel.supervision
            .iter()
            .any(|s| s.department == p.org && s.operator == operator)
    };
    match (p.org_kind, resource) {
        (OrgKind::DepartmentInCharge, Resource::Organisation(org)) if supervises(org) => allow(org),
        (OrgKind::DepartmentInCharge, Resource::Object(o)) if supervises(o.org) => allow(o.org),
        (OrgKind::PublicSecurity, Resource::Object(o)) if in_jurisdiction(o.division) => {
            allow(o.org)
        }
        (OrgKind::SecrecyDepartment, Resource::Object(o))
            if o.secret_involved && in_jurisdiction(o.division) =>
        {
            allow(o.org)
        }
        (OrgKind::CryptographyAdministration, Resource::Object(o)) if filed(o) => allow(o.org),
        (OrgKind::EvaluationAgency, Resource::Object(o))
            if rel.engagements.iter().any(|e| {
                e.agency == p.org
                    && e.operator == o.org
                    && e.object == o.id
                    && e.from_ms <= now
                    && now < e.until_ms
            }) =>
        {
            allow(o.org)
        }
        _ => Decision::Deny(Denial::Absent),
    }
}

#[cfg(test)]
mod tests;
