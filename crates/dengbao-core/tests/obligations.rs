//! Table tests for every deadline and cadence of RULES.md §2 at its boundary, and property
//! tests for the engine's invariants.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::sync::OnceLock;

use dengbao_core::date::{DueFlags, HolidayYear};
use dengbao_core::model::{Conformity, Event, EventType, GradingObject, Inventory};
use dengbao_core::obligations::{Context, Obligation, Reason, Source, Status, obligations};
use dengbao_core::pack::{ObligationKind as K, Party};
use dengbao_core::violations::{InUse, violations};
use dengbao_core::{Date, Grade, HolidayCalendar, RulePack};
use proptest::prelude::*;

fn pack() -> &'static RulePack {
    static P: OnceLock<RulePack> = OnceLock::new();
    P.get_or_init(|| RulePack::baseline().unwrap())
}

fn no_cal() -> &'static HolidayCalendar {
    static C: OnceLock<HolidayCalendar> = OnceLock::new();
    C.get_or_init(HolidayCalendar::new)
}

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

/// Harm pairs that give each grade.
fn harms_for(g: Grade) -> &'static str {
    match g {
        Grade::I => "{ object = \"citizens_legal_persons\", degree = \"damage\" }",
        Grade::II => "{ object = \"citizens_legal_persons\", degree = \"serious_damage\" }",
        Grade::III => "{ object = \"social_order_public_interest\", degree = \"serious_damage\" }",
        Grade::IV => "{ object = \"national_security\", degree = \"serious_damage\" }",
        Grade::V => "{ object = \"national_security\", degree = \"particularly_serious_damage\" }",
    }
}

/// A system of grade `g` from a TOML fragment (lifecycle, events, …), validated like a file.
fn sys(g: Grade, extra: &str) -> GradingObject {
    let text = format!(
        "[[systems]]\nid = \"s1\"\nname = \"S\"\nkind = \"information_system\"\n{extra}\n[systems.assessment]\nbusiness_information = [{h}]\nsystem_service = [{h}]\n",
        h = harms_for(g)
    );
    let mut inv: Inventory = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    inv.validate(pack(), "test").unwrap();
    inv.systems.remove(0)
}

fn grade_of(s: &GradingObject) -> Grade {
    dengbao_core::grading::final_grade(&pack().grading, s).unwrap()
}

fn run_with<'p>(
    s: &GradingObject,
    as_of: &str,
    p: &'p RulePack,
    cal: &'p HolidayCalendar,
) -> Vec<Obligation<'p>> {
    obligations(
        Context {
            pack: p,
            calendar: cal,
            as_of: d(as_of),
        },
        s,
        grade_of(s),
    )
}

fn run(s: &GradingObject, as_of: &str) -> Vec<Obligation<'static>> {
    run_with(s, as_of, pack(), no_cal())
}

/// The art. 40 items of `o` (obligations of `s`) with nothing in use and no inspection.
fn deadline_violations(
    s: &GradingObject,
    o: &[Obligation<'_>],
) -> Vec<dengbao_core::violations::Violation> {
    violations(
        pack(),
        grade_of(s),
        o,
        &InUse {
            products: &[],
            agencies: &[],
            crypto_products: &[],
        },
        None,
    )
}

fn find<'a, 'p>(obs: &'a [Obligation<'p>], k: K) -> &'a Obligation<'p> {
    obs.iter()
        .find(|o| o.kind() == k)
        .unwrap_or_else(|| panic!("no {k}"))
}

fn status(s: &GradingObject, as_of: &str, k: K) -> Status {
    find(&run(s, as_of), k).status
}

fn due(s: &GradingObject, as_of: &str, k: K) -> Option<Date> {
    find(&run(s, as_of), k).due.map(|d| d.date)
}

const OPERATING: &str = "lifecycle = { operating_since = 2024-01-01 }";

/// A system of grade `g`, operating since 2024-01-01, with `events` (a TOML array).
fn operating(g: Grade, events: &str) -> GradingObject {
    sys(g, &format!("{OPERATING}\nevents = {events}"))
}

#[test]
fn filing_day_30_is_on_time_day_31_is_late() {
    // Operating when graded: 30 days from the grade (art. 15 ¶1).
    let s = operating(
        Grade::III,
        "[{ date = 2025-03-01, type = \"grade_determined\" }]",
    );
    assert_eq!(
        due(&s, "2025-03-01", K::RecordFiling),
        Some(d("2025-03-31"))
    );
    assert_eq!(status(&s, "2025-03-01", K::RecordFiling), Status::DueSoon);
    assert_eq!(status(&s, "2025-03-31", K::RecordFiling), Status::DueSoon);
    assert_eq!(status(&s, "2025-04-01", K::RecordFiling), Status::Overdue);
    let o = run(&s, "2025-03-01");
    assert_eq!(
        find(&o, K::RecordFiling).rule.cite,
        "Measures art. 15 ¶1; art. 15 ¶2"
    );
    assert_eq!(
        find(&o, K::RecordFiling).trigger.unwrap().source,
        Source::Event(0)
    );

    for (filed, late) in [("2025-03-31", false), ("2025-04-01", true)] {
        let s = sys(
            Grade::III,
            &format!(
                "{OPERATING}\nevents = [{{ date = 2025-03-01, type = \"grade_determined\" }}, {{ date = {filed}, type = \"filing_submitted\" }}]"
            ),
        );
        let o = run(&s, "2025-05-01");
        let f = find(&o, K::RecordFiling);
        assert_eq!((f.status, f.late), (Status::Met, late), "filed {filed}");
    }
}

#[test]
fn new_system_files_within_30_days_of_operation() {
    let s = sys(
        Grade::II,
        "lifecycle = { construction_started = 2025-02-01, operating_since = 2025-06-01 }\nevents = [{ date = 2025-01-10, type = \"grade_determined\" }]",
    );
    let o = run(&s, "2025-05-01");
    let f = find(&o, K::RecordFiling);
    assert_eq!(
        (f.status, f.reason),
        (Status::Upcoming, Reason::NotYetOperating)
    );
    assert_eq!(f.due, None);
    assert_eq!(
        due(&s, "2025-06-15", K::RecordFiling),
        Some(d("2025-07-01"))
    );
    assert_eq!(
        find(&run(&s, "2025-06-15"), K::RecordFiling)
            .trigger
            .unwrap()
            .source,
        Source::OperatingSince
    );
    assert_eq!(status(&s, "2025-07-02", K::RecordFiling), Status::Overdue);
    // Determined in the design phase, before construction: met, on time.
    let g = *find(&o, K::DetermineGrade);
    assert_eq!((g.status, g.late), (Status::Met, false));
    assert_eq!(g.due.unwrap().date, d("2025-02-01"));
}

#[test]
fn filing_applies_from_grade_ii_inclusive() {
    for (g, applies) in [
        (Grade::I, false),
        (Grade::II, true),
        (Grade::III, true),
        (Grade::V, true),
    ] {
        let s = sys(
            g,
            &format!(
                "{OPERATING}\nevents = [{{ date = 2025-03-01, type = \"grade_determined\" }}]"
            ),
        );
        let f = *find(&run(&s, "2025-03-02"), K::RecordFiling);
        assert_eq!(f.status != Status::NotApplicable, applies, "{g}");
        if !applies {
            assert_eq!(f.reason, Reason::BelowGrade(Grade::II));
        }
    }
}

#[test]
fn grade_determination_art_42() {
    // Operating before the Measures: 180 days from 2007-06-22, i.e. 2007-12-19.
    let s = sys(Grade::III, "lifecycle = { operating_since = 2005-01-01 }");
    let o = run(&s, "2007-12-19");
    let g = find(&o, K::DetermineGrade);
    assert_eq!(g.due.unwrap().date, d("2007-12-19"));
    assert_eq!(g.trigger.unwrap().source, Source::PackEffective);
    assert_eq!(g.status, Status::DueSoon);
    assert_eq!(status(&s, "2007-12-20", K::DetermineGrade), Status::Overdue);
    // Filing cannot be dated before a grade exists.
    assert_eq!(find(&o, K::RecordFiling).reason, Reason::AwaitingGrade);
}

#[test]
fn filing_review_ten_working_days_from_receipt_art_17() {
    // 10个工作日 (the Chinese text). Received Tuesday 1 April 2025; with the State Council's
    // calendar (Qingming: Friday 4 April off) the tenth working day is Wednesday 16 April.
    let base = "{ date = 2025-03-01, type = \"grade_determined\" }, { date = 2025-03-20, type = \"filing_submitted\" }, { date = 2025-04-01, type = \"filing_received\" }";
    let s = sys(Grade::III, &format!("{OPERATING}\nevents = [{base}]"));
    let mut cal = HolidayCalendar::new();
    cal.add_year(HolidayYear {
        year: 2025,
        source: "test arrangement".into(),
        holidays: vec![d("2025-04-04"), d("2025-04-05"), d("2025-04-06")],
        working_days: vec![],
    })
    .unwrap();
    let o = run_with(&s, "2025-04-11", pack(), &cal);
    let r = find(&o, K::FilingReview);
    assert_eq!(
        (r.due.unwrap().date, r.status, r.party),
        (d("2025-04-16"), Status::DueSoon, Party::PublicSecurity)
    );
    assert_eq!(
        run_with(&s, "2025-04-17", pack(), &cal)
            .iter()
            .find(|o| o.kind() == K::FilingReview)
            .map(|o| o.status),
        Some(Status::Overdue)
    );
    // Without a calendar the date is the earliest possible, and says so.
    // Weekends are rest days without it (Civil Code art. 203 needs no calendar for them).
    let r = *find(&run(&s, "2025-04-11"), K::FilingReview);
    assert_eq!(r.due.unwrap().date, d("2025-04-15"));
    assert!(r.due.unwrap().flags.contains(DueFlags::EARLIEST_POSSIBLE));
    assert_eq!(status(&s, "2025-04-15", K::FilingReview), Status::DueSoon);
    assert_eq!(status(&s, "2025-04-16", K::FilingReview), Status::Overdue);
    for outcome in ["certificate_issued", "correction_notice", "regrade_notice"] {
        let s = sys(
            Grade::III,
            &format!(
                "{OPERATING}\nevents = [{base}, {{ date = 2025-04-11, type = \"{outcome}\" }}]"
            ),
        );
        let r = *find(&run(&s, "2025-04-20"), K::FilingReview);
        assert_eq!((r.status, r.late), (Status::Met, false), "{outcome}");
    }
    // Without a receipt the clock runs from submission, and the output says so.
    let s = operating(
        Grade::III,
        "[{ date = 2025-03-01, type = \"grade_determined\" }, { date = 2025-03-20, type = \"filing_submitted\" }]",
    );
    let r = *find(&run(&s, "2025-03-21"), K::FilingReview);
    assert_eq!(
        (r.due.unwrap().date, r.reason),
        // Ten weekdays after Thursday 2025-03-20 (weekends are rest days without a calendar).
        (d("2025-04-03"), Reason::ReceiptAssumed)
    );
}

#[test]
fn correction_notice_needs_a_new_submission() {
    let s = operating(
        Grade::III,
        "[{ date = 2025-03-01, type = \"grade_determined\" }, { date = 2025-03-20, type = \"filing_submitted\" }, { date = 2025-03-25, type = \"correction_notice\", deadline = 2025-04-25 }]",
    );
    let c = *find(&run(&s, "2025-04-26"), K::FilingCorrection);
    assert_eq!(
        (c.status, c.due.unwrap().date, c.reason),
        (Status::Overdue, d("2025-04-25"), Reason::NoticeDeadline)
    );
    let s2 = operating(
        Grade::III,
        "[{ date = 2025-03-01, type = \"grade_determined\" }, { date = 2025-03-20, type = \"filing_submitted\" }, { date = 2025-03-25, type = \"correction_notice\" }]",
    );
    let c = *find(&run(&s2, "2030-01-01"), K::FilingCorrection);
    assert_eq!(
        (c.status, c.due, c.reason),
        (Status::Upcoming, None, Reason::NoStatutoryPeriod)
    );
}

#[test]
fn refiling_after_regrading() {
    let ev = "{ date = 2024-01-10, type = \"grade_determined\", grade = \"III\" }, { date = 2024-01-20, type = \"filing_submitted\" }, { date = 2024-01-25, type = \"regrade_notice\" }, { date = 2024-03-01, type = \"grade_determined\", grade = \"IV\" }";
    let s = sys(Grade::IV, &format!("{OPERATING}\nevents = [{ev}]"));
    let o = run(&s, "2024-03-31");
    let r = find(&o, K::Refiling);
    assert_eq!(
        (r.status, r.due.unwrap().date),
        // 2024-03-31 is a Sunday.
        (Status::DueSoon, d("2024-04-01"))
    );
    assert!(r.rule.cite.contains("art. 17"));
    assert_eq!(find(&o, K::Regrade).status, Status::Met);
    assert_eq!(find(&o, K::RecordFiling).status, Status::Met);
    assert_eq!(status(&s, "2024-04-02", K::Refiling), Status::Overdue);
    let s = sys(
        Grade::IV,
        &format!(
            "{OPERATING}\nevents = [{ev}, {{ date = 2024-03-20, type = \"filing_submitted\" }}]"
        ),
    );
    assert_eq!(status(&s, "2024-04-01", K::Refiling), Status::Met);
    // Never re-graded: not applicable.
    let s = operating(
        Grade::III,
        "[{ date = 2024-01-10, type = \"grade_determined\" }, { date = 2024-01-20, type = \"filing_submitted\" }]",
    );
    assert_eq!(
        find(&run(&s, "2024-05-01"), K::Refiling).reason,
        Reason::NoRegrading
    );
}

/// Every cadence for grades III, IV, V: evaluation, self-inspection, inspection.
#[test]
fn cadences_by_grade() {
    let table = [
        (
            K::GradeEvaluation,
            "evaluation",
            ", conformity = \"conformant\"",
            Party::Operator,
        ),
        (
            K::SelfInspection,
            "self_inspection",
            ", conformity = \"conformant\"",
            Party::Operator,
        ),
        (
            K::SupervisoryInspection,
            "inspection",
            "",
            Party::PublicSecurity,
        ),
    ];
    for (kind, ty, extra, party) in table {
        // Grade III: yearly from the last one.
        let s = sys(
            Grade::III,
            &format!("{OPERATING}\nevents = [{{ date = 2024-06-15, type = \"{ty}\"{extra} }}]"),
        );
        let o = *find(&run(&s, "2025-06-15"), kind);
        assert_eq!(
            (o.status, o.due.unwrap().date, o.party),
            // 2025-06-15 is a Sunday: the last day is the Monday (Civil Code art. 203).
            (Status::Met, d("2025-06-16"), party),
            "{kind} III"
        );
        assert_eq!(
            status(&s, "2025-06-17", kind),
            Status::Overdue,
            "{kind} III"
        );
        // Grade IV: half-yearly; 31 Aug + 6 months ends on the last day of February.
        let s = sys(
            Grade::IV,
            &format!("{OPERATING}\nevents = [{{ date = 2024-08-31, type = \"{ty}\"{extra} }}]"),
        );
        assert_eq!(
            due(&s, "2024-09-01", kind),
            Some(d("2025-02-28")),
            "{kind} IV"
        );
        assert_eq!(status(&s, "2025-02-28", kind), Status::Met);
        assert_eq!(status(&s, "2025-03-01", kind), Status::Overdue);
        // Grade V: per special demand — no date invented.
        let s = sys(Grade::V, OPERATING);
        let o = *find(&run(&s, "2030-01-01"), kind);
        assert_eq!(
            (o.status, o.due, o.reason),
            (Status::Upcoming, None, Reason::SpecialDemand),
            "{kind} V"
        );
        // Grade II: not applicable, "III or above" (art. 43).
        let s = sys(Grade::II, OPERATING);
        assert_eq!(
            find(&run(&s, "2030-01-01"), kind).reason,
            Reason::BelowGrade(Grade::III)
        );
        // Never done: one period from going into operation.
        let s = sys(Grade::III, OPERATING);
        assert_eq!(due(&s, "2024-06-01", kind), Some(d("2025-01-01")));
        assert_eq!(status(&s, "2024-12-02", kind), Status::DueSoon);
        assert_eq!(status(&s, "2024-06-01", kind), Status::Upcoming);
    }
}

#[test]
fn cadence_runs_from_reaching_grade_iii() {
    // Operating at Grade II since 2015, re-graded to III in 2024: first evaluation a year
    // after the re-grading, not a decade overdue.
    let s = sys(
        Grade::III,
        "lifecycle = { operating_since = 2015-01-01 }\nevents = [{ date = 2015-01-01, type = \"grade_determined\", grade = \"II\" }, { date = 2024-05-10, type = \"grade_determined\", grade = \"III\" }]",
    );
    assert_eq!(
        due(&s, "2024-06-01", K::GradeEvaluation),
        // 2025-05-10 is a Saturday.
        Some(d("2025-05-12"))
    );
}

#[test]
fn nonconforming_evaluation_needs_a_rectification_plan() {
    let s = operating(
        Grade::III,
        "[{ date = 2024-06-15, type = \"evaluation\", conformity = \"basically_conformant\" }]",
    );
    let o = *find(&run(&s, "2024-07-01"), K::RectificationPlan);
    assert_eq!(
        (o.status, o.reason),
        (Status::Upcoming, Reason::NoStatutoryPeriod)
    );
    assert_eq!(o.trigger.unwrap().date, d("2024-06-15"));
    let s = operating(
        Grade::III,
        "[{ date = 2024-06-15, type = \"evaluation\", conformity = \"non_conformant\" }, { date = 2024-07-15, type = \"rectification_plan\" }]",
    );
    assert_eq!(status(&s, "2024-08-01", K::RectificationPlan), Status::Met);
    let s = operating(
        Grade::III,
        "[{ date = 2024-06-15, type = \"evaluation\", conformity = \"conformant\" }]",
    );
    assert_eq!(
        find(&run(&s, "2024-08-01"), K::RectificationPlan).reason,
        Reason::NoFinding
    );
}

#[test]
fn rectification_notice_past_its_limit_is_a_violation_for_grade_iii() {
    for (g, expect) in [(Grade::II, 0), (Grade::III, 1)] {
        let s = sys(
            g,
            &format!(
                "{OPERATING}\nevents = [{{ date = 2024-01-01, type = \"grade_determined\" }}, {{ date = 2024-01-15, type = \"filing_submitted\" }}, {{ date = 2024-01-20, type = \"certificate_issued\" }}, {{ date = 2024-02-01, type = \"evaluation\", conformity = \"conformant\" }}, {{ date = 2024-02-02, type = \"self_inspection\", conformity = \"conformant\" }}, {{ date = 2024-03-01, type = \"rectification_notice\", deadline = 2024-04-01 }}]"
            ),
        );
        let o = run(&s, "2024-04-02");
        assert_eq!(
            find(&o, K::RectificationAfterNotice).status,
            Status::Overdue
        );
        let v = deadline_violations(&s, &o);
        assert_eq!(v.len(), expect, "{g}: {v:?}");
        if expect == 1 {
            assert_eq!((v[0].item, v[0].cite.as_str()), (5, "Measures art. 40(5)"));
            assert!(
                v[0].evidence[0].text.contains("2024-04-01"),
                "{:?}",
                v[0].evidence
            );
        }
    }
}

#[test]
fn secret_involved_systems_follow_the_secrecy_track() {
    // A low-harm secret system is Grade III by floor (art. 27), files with the secrecy
    // department rather than the public security organ, and may not operate unapproved.
    let s = sys(
        Grade::I,
        "secret = { degree = \"secret\" }\nlifecycle = { operating_since = 2024-01-01 }\nevents = [{ date = 2023-06-01, type = \"grade_determined\" }]",
    );
    assert_eq!(grade_of(&s), Grade::III);
    let o = run(&s, "2024-02-01");
    assert_eq!(find(&o, K::RecordFiling).reason, Reason::SecretTrack);
    assert_eq!(
        find(&o, K::SupervisoryInspection).reason,
        Reason::SecretTrack
    );
    let a = find(&o, K::SecrecyApproval);
    assert_eq!(
        (a.status, a.due.unwrap().date),
        (Status::Overdue, d("2024-01-01"))
    );
    let v = violations(
        pack(),
        Grade::III,
        &o,
        &InUse {
            products: &[],
            agencies: &[],
            crypto_products: &[],
        },
        None,
    );
    assert!(v.iter().any(|v| v.item == 8), "{v:?}");
    // Secrecy examination: every 2 years for secret and confidential, yearly for top secret.
    for (degree, every) in [
        // 2026-03-01 is a Sunday, 2025-03-01 a Saturday: the Monday after.
        ("secret", "2026-03-02"),
        ("confidential", "2026-03-02"),
        ("top_secret", "2025-03-03"),
    ] {
        let s = sys(
            Grade::I,
            &format!(
                "secret = {{ degree = \"{degree}\", important = true }}\nlifecycle = {{ operating_since = 2024-01-01 }}\nevents = [{{ date = 2023-12-01, type = \"secrecy_approval\" }}, {{ date = 2024-03-01, type = \"secrecy_examination\" }}]"
            ),
        );
        let o = run(&s, "2024-04-01");
        let e = find(&o, K::SecrecyExamination);
        assert_eq!(
            (e.status, e.due.unwrap().date, e.party),
            (Status::Met, d(every), Party::SecrecyDepartment),
            "{degree}"
        );
        assert_eq!(find(&o, K::SecrecyApproval).status, Status::Met);
        // Cryptography examination: every 2 years for important systems (art. 39).
        assert_eq!(
            find(&o, K::CryptographyExamination).due.unwrap().date,
            d("2026-01-01")
        );
    }
    let s = sys(
        Grade::I,
        "secret = { degree = \"secret\" }\nlifecycle = { operating_since = 2024-01-01 }",
    );
    assert_eq!(
        find(&run(&s, "2024-04-01"), K::CryptographyExamination).reason,
        Reason::NotImportant
    );
}

#[test]
fn change_reports_per_aspect() {
    let s = sys(
        Grade::I,
        "secret = { degree = \"confidential\" }\nlifecycle = { operating_since = 2024-01-01 }\nevents = [{ date = 2024-05-01, type = \"secret_change\", aspect = \"connection_area\" }, { date = 2024-05-03, type = \"secret_change\", aspect = \"principal_applications\" }, { date = 2024-05-10, type = \"change_reported\", aspect = \"connection_area\" }]",
    );
    let o = run(&s, "2024-06-01");
    let reports: Vec<_> = o
        .iter()
        .filter(|o| o.kind() == K::SecretChangeReport)
        .collect();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].status, Status::Met);
    assert_eq!(reports[1].status, Status::Upcoming);
    assert_eq!(reports[1].reason, Reason::NoStatutoryPeriod);
}

/// Art. 31: when the secrecy department requires a reported change to be re-approved, the
/// operator owes a new approval — by the department's time limit when it sets one (then
/// overdue after it, an art. 40(8) matter), with no statutory period otherwise — and the
/// next approval answers it; a first approval before the change does not.
#[test]
fn secrecy_reapproval_after_a_change() {
    let base = "secret = { degree = \"confidential\" }\nlifecycle = { operating_since = 2024-01-01 }\nevents = [{ date = 2023-12-01, type = \"secrecy_approval\" }, { date = 2024-05-01, type = \"secret_change\", aspect = \"connection_area\" }, { date = 2024-05-03, type = \"change_reported\", aspect = \"connection_area\" }";
    let cases: [(&str, &str, Status, Option<&str>); 5] = [
        ("", "2024-06-01", Status::NotApplicable, None),
        (
            ", { date = 2024-05-10, type = \"reapproval_required\" }",
            "2024-06-01",
            Status::Upcoming,
            None,
        ),
        (
            ", { date = 2024-05-10, type = \"reapproval_required\", deadline = 2024-07-31 }",
            "2024-07-31",
            Status::DueSoon,
            Some("2024-07-31"),
        ),
        (
            ", { date = 2024-05-10, type = \"reapproval_required\", deadline = 2024-07-31 }",
            "2024-08-01",
            Status::Overdue,
            Some("2024-07-31"),
        ),
        (
            ", { date = 2024-05-10, type = \"reapproval_required\", deadline = 2024-07-31 }, { date = 2024-07-20, type = \"secrecy_approval\" }",
            "2024-08-01",
            Status::Met,
            Some("2024-07-31"),
        ),
    ];
    for (extra, today, status, due) in cases {
        let s = sys(Grade::I, &format!("{base}{extra}]"));
        let o = run(&s, today);
        let r = *find(&o, K::SecrecyReapproval);
        assert_eq!(r.status, status, "{extra} on {today}");
        assert_eq!(r.due.map(|d| d.date.to_string()).as_deref(), due, "{extra}");
        assert_eq!(r.rule.cite, "Measures art. 31");
        if status == Status::Met {
            assert_eq!(
                r.satisfied_by.map(|d| d.date.to_string()).as_deref(),
                Some("2024-07-20")
            );
        }
    }
}

#[test]
fn retired_systems_owe_nothing() {
    let s = sys(
        Grade::III,
        "lifecycle = { operating_since = 2020-01-01, retired = 2024-01-01 }",
    );
    assert!(
        run(&s, "2024-01-02")
            .iter()
            .all(|o| o.status == Status::NotApplicable && o.reason == Reason::Retired)
    );
    assert!(
        run(&s, "2023-01-02")
            .iter()
            .any(|o| o.status == Status::Overdue)
    );
}

#[test]
fn department_files_for_uniformly_graded_nationwide_system_and_branches_file_locally() {
    // Art. 15 ¶3: the department in charge files only for a trans-provincial or nationwide
    // system of a central Beijing-located entity that it graded uniformly.
    let facts = "central_beijing_entity = true\ngraded_uniformly = true\n";
    let table = [
        (
            "nationwide",
            "department_in_charge = \"Ministry\"\n",
            facts,
            Party::DepartmentInCharge,
        ),
        (
            "trans_provincial",
            "department_in_charge = \"Ministry\"\n",
            facts,
            Party::DepartmentInCharge,
        ),
        // Any condition missing: the operator files.
        (
            "local",
            "department_in_charge = \"Ministry\"\n",
            facts,
            Party::Operator,
        ),
        ("nationwide", "", facts, Party::Operator),
        (
            "nationwide",
            "department_in_charge = \"Ministry\"\n",
            "graded_uniformly = true\n",
            Party::Operator,
        ),
        (
            "nationwide",
            "department_in_charge = \"Ministry\"\n",
            "central_beijing_entity = true\n",
            Party::Operator,
        ),
    ];
    for (scope, dept, facts, party) in table {
        let s = sys(
            Grade::III,
            &format!(
                "network_scope = \"{scope}\"\n{dept}{facts}{OPERATING}\nevents = [{{ date = 2025-03-01, type = \"grade_determined\" }}]"
            ),
        );
        let o = run(&s, "2025-05-01");
        let f = *find(&o, K::RecordFiling);
        assert_eq!(f.party, party, "{scope} {dept} {facts}");
        // Overdue either way, with its evidence; art. 40(1) is the operator's only when the
        // operator files (art. 40 binds the operator).
        assert_eq!(f.status, Status::Overdue);
        assert!(f.trigger.is_some() && f.due.is_some());
        let v = deadline_violations(&s, &o);
        assert_eq!(
            v.iter().any(|v| v.item == 1),
            party == Party::Operator,
            "{scope} {dept} {facts}: {v:?}"
        );
    }
    let s = sys(
        Grade::III,
        &format!(
            "branch_of = \"national-system\"\n{OPERATING}\nevents = [{{ date = 2025-03-01, type = \"grade_determined\" }}]"
        ),
    );
    let o = run(&s, "2025-03-02");
    let b = find(&o, K::BranchFiling);
    assert_eq!(
        (b.rule.cite.as_str(), b.party, b.due.unwrap().date),
        (
            "Measures art. 15 ¶3 (period per art. 15 ¶1)",
            Party::Operator,
            d("2025-03-31")
        )
    );
    assert!(o.iter().all(|o| o.kind() != K::RecordFiling));
}

#[test]
fn holiday_calendar_moves_a_deadline_off_a_rest_day() {
    let mut cal = HolidayCalendar::new();
    cal.add_year(HolidayYear {
        year: 2025,
        source: "test arrangement".into(),
        holidays: [
            "2025-10-01",
            "2025-10-02",
            "2025-10-03",
            "2025-10-04",
            "2025-10-05",
            "2025-10-06",
            "2025-10-07",
            "2025-10-08",
        ]
        .iter()
        .map(|s| d(s))
        .collect(),
        working_days: vec![d("2025-09-28"), d("2025-10-11")],
    })
    .unwrap();
    // Graded 2025-09-01 → day 30 is 2025-10-01, a holiday → last day 2025-10-09.
    let s = operating(
        Grade::III,
        "[{ date = 2025-09-01, type = \"grade_determined\" }]",
    );
    let o = run_with(&s, "2025-09-02", pack(), &cal);
    let f = find(&o, K::RecordFiling).due.unwrap();
    assert_eq!(f.date, d("2025-10-09"));
    assert!(f.flags.contains(DueFlags::ADJUSTED_FOR_REST_DAY));
    // Without the calendar the date is not adjusted, and says so.
    let f = find(&run(&s, "2025-09-02"), K::RecordFiling).due.unwrap();
    assert_eq!(f.date, d("2025-10-01"));
    assert!(f.flags.contains(DueFlags::NO_CALENDAR));
}

#[test]
fn user_pack_with_working_days() {
    let overlay = "id = \"mlps2\"\nextends = \"measures-2007\"\ntitle = \"t\"\nsource = \"s\"\n[obligations.record_filing]\nperiod = \"10 working days\"\ncite = \"MPS guidance 2020 (unconfirmed)\"\nunconfirmed = true\n";
    let p = RulePack::from_toml(overlay, "o.toml").unwrap();
    let mut cal = HolidayCalendar::new();
    cal.add_year(HolidayYear {
        year: 2025,
        source: "t".into(),
        holidays: vec![d("2025-05-01"), d("2025-05-02"), d("2025-05-05")],
        working_days: vec![d("2025-04-27")],
    })
    .unwrap();
    // Graded Mon 2025-04-21: working days 22,23,24,25,27(Sun, adjusted),28,29,30, 6,7 → 2025-05-07.
    let s = operating(
        Grade::III,
        "[{ date = 2025-04-21, type = \"grade_determined\" }]",
    );
    let o = run_with(&s, "2025-04-22", &p, &cal);
    let f = find(&o, K::RecordFiling);
    assert_eq!(f.due.unwrap().date, d("2025-05-07"));
    assert_eq!(f.rule.cite, "MPS guidance 2020 (unconfirmed)");
    assert!(f.rule.unconfirmed);
}

#[test]
fn events_after_as_of_have_not_happened() {
    let s = operating(
        Grade::III,
        "[{ date = 2025-03-01, type = \"grade_determined\" }, { date = 2025-03-10, type = \"filing_submitted\" }]",
    );
    assert_eq!(status(&s, "2025-03-05", K::RecordFiling), Status::DueSoon);
    assert_eq!(status(&s, "2025-03-10", K::RecordFiling), Status::Met);
}

#[test]
fn every_obligation_is_cited() {
    let s = sys(Grade::IV, OPERATING);
    for o in run(&s, "2025-01-01") {
        assert!(
            o.rule.cite.starts_with("Measures art."),
            "{}: {}",
            o.kind(),
            o.rule.cite
        );
    }
}

// ----- property tests ------------------------------------------------------------------------

const TYPES: [EventType; 12] = [
    EventType::GradeDetermined,
    EventType::FilingSubmitted,
    EventType::FilingReceived,
    EventType::CertificateIssued,
    EventType::CorrectionNotice,
    EventType::RegradeNotice,
    EventType::Evaluation,
    EventType::SelfInspection,
    EventType::Inspection,
    EventType::RectificationNotice,
    EventType::RectificationPlan,
    EventType::RectificationReport,
];

fn arb_system() -> impl Strategy<Value = GradingObject> {
    let grade = 0usize..5;
    let op = proptest::option::of(0i32..4000);
    let events = proptest::collection::vec(
        (
            0i32..4000,
            0usize..TYPES.len(),
            any::<bool>(),
            proptest::option::of(0i32..90),
        ),
        0..14,
    );
    (grade, op, events).prop_map(|(g, op, evs)| {
        let mut s = sys(Grade::ALL[g], "");
        let base = d("2015-01-01");
        s.lifecycle.operating_since = op.map(|o| base.add_days(o));
        s.events = evs
            .into_iter()
            .map(|(day, t, conform, deadline)| {
                let mut e = Event::new(base.add_days(day), TYPES[t]);
                if matches!(e.kind, EventType::Evaluation | EventType::SelfInspection) {
                    e.conformity = Some(if conform {
                        Conformity::Conformant
                    } else {
                        Conformity::NonConformant
                    });
                }
                if matches!(
                    e.kind,
                    EventType::CorrectionNotice
                        | EventType::RegradeNotice
                        | EventType::RectificationNotice
                ) {
                    e.deadline = deadline.map(|x| e.date.add_days(x));
                }
                e
            })
            .collect();
        s.events.sort_by_key(|e| e.date);
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// No obligation falls due before its trigger.
    #[test]
    fn nothing_falls_due_before_its_trigger(s in arb_system(), as_of in 0i32..5000) {
        let as_of = d("2015-01-01").add_days(as_of).to_string();
        for o in run(&s, &as_of) {
            if let (Some(due), Some(t)) = (o.due, o.trigger) {
                prop_assert!(due.date >= t.date, "{}: due {} before trigger {}", o.kind(), due.date, t.date);
            }
            // A completion is never in the future.
            if let Some(done) = o.satisfied_by {
                prop_assert!(done.date <= d(&as_of));
            }
        }
    }

    /// An obligation met on one day stays met on every later day up to its due date (for a
    /// cadence, until the cadence runs out), with the same history.
    #[test]
    fn met_stays_met_until_the_cadence_runs_out(s in arb_system(), t1 in 0i32..4500, step in 1i32..800) {
        let day1 = d("2015-01-01").add_days(t1);
        let day2 = day1.add_days(step);
        // Only history up to day1, so day2 sees nothing new.
        let mut s = s;
        s.events.retain(|e| e.date <= day1);
        // Going into operation in between would be a new fact too.
        if s.lifecycle.operating_since.is_some_and(|o| o > day1) {
            s.lifecycle.operating_since = None;
        }
        let first = run(&s, &day1.to_string());
        let later = run(&s, &day2.to_string());
        prop_assert_eq!(first.len(), later.len());
        for (a, b) in first.iter().zip(&later) {
            if a.status != Status::Met {
                continue;
            }
            let recurring = matches!(a.kind(), K::GradeEvaluation | K::SelfInspection | K::SupervisoryInspection | K::SecrecyExamination | K::CryptographyExamination);
            let still_due = a.due.is_none_or(|due| day2 <= due.date);
            if !recurring || still_due {
                prop_assert_eq!(b.status, Status::Met, "{} met on {} but {:?} on {}", a.kind(), day1, b.status, day2);
            } else {
                prop_assert_eq!(b.status, Status::Overdue);
            }
        }
    }

    /// Status agrees with the due date: overdue exactly when as_of is past it.
    #[test]
    fn overdue_iff_past_due(s in arb_system(), as_of in 0i32..5000) {
        let as_of = d("2015-01-01").add_days(as_of);
        for o in run(&s, &as_of.to_string()) {
            match (o.status, o.due) {
                (Status::Overdue, Some(due)) => prop_assert!(as_of > due.date),
                (Status::Overdue, None) => prop_assert!(false, "overdue without a due date"),
                (Status::DueSoon | Status::Upcoming, Some(due)) => prop_assert!(as_of <= due.date),
                _ => {}
            }
        }
    }
}

/// Measures art. 15 ¶1, art. 17: the organ's receipt or certificate proves a filing was made,
/// on or before its date — so no overdue filing and no art. 40(1), even without a recorded
/// submission; and it says nothing of lateness.
#[test]
fn a_receipt_or_certificate_proves_the_filing_art_15_17() {
    for (proof, date) in [
        ("filing_received", "2025-06-20"),
        ("certificate_issued", "2025-07-01"),
    ] {
        let s = sys(
            Grade::III,
            &format!(
                "{OPERATING}\nevents = [{{ date = 2025-03-01, type = \"grade_determined\" }}, {{ date = {date}, type = \"{proof}\" }}]"
            ),
        );
        let o = run(&s, "2025-08-01");
        let f = *find(&o, K::RecordFiling);
        assert_eq!(f.status, Status::Met, "{proof}");
        let by = f.satisfied_by.unwrap();
        assert_eq!(by.date, d(date), "{proof}");
        assert!(matches!(by.source, Source::Event(_)), "{proof}");
        assert!(
            !f.late,
            "{proof}: a receipt dates the filing at the latest, never late"
        );
        let v = deadline_violations(&s, &o);
        assert!(
            v.iter().all(|v| v.item != 1),
            "{proof}: no art. 40(1): {v:?}"
        );
    }
    // A recorded submission still counts first, with its own lateness.
    let s = sys(
        Grade::III,
        &format!(
            "{OPERATING}\nevents = [{{ date = 2025-03-01, type = \"grade_determined\" }}, {{ date = 2025-05-20, type = \"filing_submitted\" }}, {{ date = 2025-05-25, type = \"certificate_issued\" }}]"
        ),
    );
    let f = *find(&run(&s, "2025-08-01"), K::RecordFiling);
    assert_eq!(
        (f.satisfied_by.unwrap().date, f.late),
        (d("2025-05-20"), true)
    );
}

/// Measures art. 14, art. 40: the evidence of an overdue recurring obligation names the last
/// completion it was counted from, and the first day overdue (the due date is the last day
/// allowed).
#[test]
fn overdue_evidence_names_the_last_completion_and_the_day_after_the_due_date_art_14_40() {
    let s = sys(
        Grade::III,
        &format!(
            "{OPERATING}\nevents = [{{ date = 2024-01-01, type = \"grade_determined\" }}, {{ date = 2024-01-15, type = \"filing_submitted\" }}, {{ date = 2024-01-20, type = \"certificate_issued\" }}, {{ date = 2024-03-10, type = \"evaluation\", conformity = \"conformant\" }}]"
        ),
    );
    let o = run(&s, "2025-06-01");
    let e = *find(&o, K::GradeEvaluation);
    assert_eq!(e.status, Status::Overdue);
    let due = e.due.unwrap().date;
    let v = deadline_violations(&s, &o);
    let text = v
        .iter()
        .flat_map(|v| v.evidence.iter())
        .find(|e| e.text.contains("grade_evaluation"))
        .map(|e| e.text.clone())
        .unwrap_or_else(|| panic!("{v:?}"));
    assert!(text.contains("counted from 2024-03-10"), "{text}");
    assert!(
        text.contains(&format!("since {}", due.add_days(1))),
        "{text}"
    );
}

/// Measures art. 14: a yearly evaluation done five weeks late is marked `late` although the
/// cadence is met again; one done in time is not.
#[test]
fn a_late_recurring_completion_is_marked_late_art_14() {
    let events = |second: &str| {
        format!(
            "{OPERATING}\nevents = [{{ date = 2024-01-01, type = \"grade_determined\" }}, {{ date = 2024-01-15, type = \"filing_submitted\" }}, {{ date = 2024-06-01, type = \"evaluation\", conformity = \"conformant\" }}, {{ date = {second}, type = \"evaluation\", conformity = \"conformant\" }}]"
        )
    };
    let late = sys(Grade::III, &events("2025-07-08"));
    let e = *find(&run(&late, "2025-09-01"), K::GradeEvaluation);
    assert_eq!((e.status, e.late), (Status::Met, true), "{e:?}");
    let on_time = sys(Grade::III, &events("2025-05-20"));
    let e = *find(&run(&on_time, "2025-09-01"), K::GradeEvaluation);
    assert_eq!((e.status, e.late), (Status::Met, false), "{e:?}");
}

/// Civil Code art. 203: a last day on a rest day moves to the next working day, and Saturday
/// and Sunday are rest days whether or not the year's calendar is loaded. Without it only
/// holidays are unknown: a calendar can move a date further, never back; and a deadline
/// passed by fewer days than unknown holidays could add (the pack's `holiday_slack`) is an
/// `unverified` art. 40 item, not an `established` one.
#[test]
fn weekends_are_rest_days_without_a_calendar_civil_code_art_203() {
    use dengbao_core::violations::Basis;
    let mut cal = HolidayCalendar::new();
    cal.add_year(HolidayYear {
        year: 2025,
        source: "test arrangement".into(),
        // Monday 2025-06-02 a holiday (the Dragon Boat Festival was moved onto it).
        holidays: vec![d("2025-05-31"), d("2025-06-01"), d("2025-06-02")],
        working_days: vec![],
    })
    .unwrap();
    let no = no_cal();
    // (grading date, day 30, due without a calendar, due with the 2025 calendar)
    let table = [
        // Day 30 a Saturday: Monday without the calendar; the calendar's holiday moves it on.
        ("2025-05-01", "2025-05-31", "2025-06-02", "2025-06-03"),
        // Day 30 a weekday: it stays.
        ("2025-04-06", "2025-05-06", "2025-05-06", "2025-05-06"),
        ("2025-03-09", "2025-04-08", "2025-04-08", "2025-04-08"),
        // Day 30 a Sunday.
        ("2025-02-07", "2025-03-09", "2025-03-10", "2025-03-10"),
    ];
    for (graded, day30, without, with) in table {
        let s = operating(
            Grade::III,
            &format!("[{{ date = {graded}, type = \"grade_determined\" }}]"),
        );
        assert_eq!(d(graded).add_days(30), d(day30));
        let f = find(&run_with(&s, graded, pack(), no), K::RecordFiling)
            .due
            .unwrap();
        assert_eq!(f.date, d(without), "without a calendar, graded {graded}");
        assert!(
            f.flags.contains(DueFlags::NO_CALENDAR),
            "holidays unknown: {graded}"
        );
        assert_eq!(
            f.flags.contains(DueFlags::ADJUSTED_FOR_REST_DAY),
            day30 != without
        );
        let c = find(&run_with(&s, graded, pack(), &cal), K::RecordFiling)
            .due
            .unwrap();
        assert_eq!(c.date, d(with), "with the calendar, graded {graded}");
        assert!(c.date >= f.date, "a calendar only adds moves");
        assert!(!c.flags.contains(DueFlags::NO_CALENDAR));
    }

    // Overdue by 3 days without a calendar: unverified; by 30 days, or with the calendar:
    // established.
    let s = operating(
        Grade::III,
        "[{ date = 2025-03-09, type = \"grade_determined\" }]",
    );
    let basis = |as_of: &str, cal: &HolidayCalendar| {
        let o = run_with(&s, as_of, pack(), cal);
        let v = deadline_violations(&s, &o);
        let one = v
            .iter()
            .find(|v| v.item == 1)
            .unwrap_or_else(|| panic!("art. 40(1) on {as_of}: {v:?}"));
        (one.basis, one.evidence[0].text.clone())
    };
    let (b, text) = basis("2025-04-11", no);
    assert_eq!(b, Basis::Unverified, "{text}");
    assert!(
        text.contains("holidays not in the calendar may extend it"),
        "{text}"
    );
    assert_eq!(basis("2025-04-11", &cal).0, Basis::RecordsShow);
    assert_eq!(basis("2025-05-08", no).0, Basis::RecordsShow);
}

/// Art. 17: a certificate after a re-grading or a notice to correct proves the re-filing or
/// corrected filing it certifies, as one after the first filing proves that one.
#[test]
fn a_certificate_proves_a_refiling_or_a_corrected_filing_art_17() {
    let table = [
        (
            K::Refiling,
            "{ date = 2024-01-10, type = \"grade_determined\", grade = \"III\" }, { date = 2024-01-20, type = \"filing_submitted\" }, { date = 2024-01-25, type = \"regrade_notice\" }, { date = 2024-03-01, type = \"grade_determined\", grade = \"IV\" }",
        ),
        (
            K::FilingCorrection,
            "{ date = 2024-01-10, type = \"grade_determined\", grade = \"IV\" }, { date = 2024-01-20, type = \"filing_submitted\" }, { date = 2024-01-25, type = \"correction_notice\" }",
        ),
    ];
    for (kind, history) in table {
        let open = sys(Grade::IV, &format!("{OPERATING}\nevents = [{history}]"));
        assert_ne!(
            find(&run(&open, "2024-06-01"), kind).status,
            Status::Met,
            "{kind} open before the certificate"
        );
        let certified = sys(
            Grade::IV,
            &format!(
                "{OPERATING}\nevents = [{history}, {{ date = 2024-03-20, type = \"certificate_issued\" }}]"
            ),
        );
        let o = *find(&run(&certified, "2024-06-01"), kind);
        assert_eq!(o.status, Status::Met, "{kind}");
        assert_eq!(
            o.satisfied_by.map(|r| r.date),
            Some(d("2024-03-20")),
            "{kind}"
        );
    }
}

/// Art. 42: a new system is graded in the design phase; the date shown is the start of
/// construction, or — with none recorded — going into operation, and the reason says which.
#[test]
fn the_design_phase_deadline_names_its_date_art_42() {
    for (lifecycle, due, reason) in [
        (
            "lifecycle = { construction_started = 2025-03-01, operating_since = 2025-09-01 }",
            "2025-03-01",
            Reason::BeforeConstruction,
        ),
        (
            "lifecycle = { operating_since = 2025-09-01 }",
            "2025-09-01",
            Reason::BeforeOperation,
        ),
    ] {
        let s = sys(Grade::II, lifecycle);
        let o = *find(&run(&s, "2025-01-01"), K::DetermineGrade);
        assert_eq!(
            (o.due.map(|d| d.date), o.reason),
            (Some(d(due)), reason),
            "{lifecycle}"
        );
        assert_eq!(o.rule.cite, "Measures art. 42");
    }
}

/// Art. 14 ¶1: a Grade IV system's half-yearly evaluation runs from when it reached Grade IV,
/// not from an earlier Grade III determination (whose cadence was yearly).
#[test]
fn a_cadence_runs_from_reaching_its_own_grade_art_14() {
    let s = sys(
        Grade::IV,
        "lifecycle = { operating_since = 2020-01-01 }\nevents = [{ date = 2024-01-10, type = \"grade_determined\", grade = \"III\" }, { date = 2025-01-10, type = \"grade_determined\", grade = \"IV\" }]",
    );
    let o = *find(&run(&s, "2025-02-01"), K::GradeEvaluation);
    assert_eq!(
        (o.status, o.due.map(|d| d.date), o.trigger.map(|t| t.date)),
        (
            Status::Upcoming,
            Some(d("2025-07-10")),
            Some(d("2025-01-10"))
        )
    );
}

/// Art. 10, 12: the determined grade is the legal fact; a determination that differs from
/// the assessment is reported, not accepted silently.
#[test]
fn a_determined_grade_other_than_the_assessed_one_is_reported_art_10() {
    let inv = |recorded: &str| {
        let text = format!(
            "[[systems]]\nid = \"s1\"\nname = \"S\"\nkind = \"information_system\"\n{OPERATING}\nevents = [{{ date = 2025-03-01, type = \"grade_determined\", grade = \"{recorded}\" }}]\n[systems.assessment]\nbusiness_information = [{h}]\nsystem_service = [{h}]\n",
            h = harms_for(Grade::III)
        );
        let mut inv: Inventory = toml::from_str(&text).unwrap();
        inv.validate(pack(), "test").unwrap();
        inv
    };
    for (recorded, differs) in [
        ("III", None),
        ("II", Some(Grade::II)),
        ("IV", Some(Grade::IV)),
    ] {
        let inv = inv(recorded);
        let r = dengbao_core::assess::assess(&inv, pack(), no_cal(), d("2025-04-01"));
        assert_eq!(r.systems[0].grade, Grade::III);
        assert_eq!(r.systems[0].determined_grade_differs, differs, "{recorded}");
    }
}

/// The review of what these tests found: a certificate of the filing under review does not
/// prove a re-filing opened after it (art. 17); a recurring deadline passed by less than
/// unknown holidays could add is unverified like a one-off one; a grade left and reached
/// again starts its cadence again (art. 14 ¶1).
#[test]
fn certificates_recurring_slack_and_regained_grades_art_14_17() {
    // Filed, re-graded while the filing is under review, then that filing certified: the
    // re-filing is still owed.
    let s = sys(
        Grade::IV,
        &format!(
            "{OPERATING}\nevents = [{{ date = 2024-01-10, type = \"grade_determined\", grade = \"III\" }}, {{ date = 2024-01-20, type = \"filing_submitted\" }}, {{ date = 2024-02-01, type = \"grade_determined\", grade = \"IV\" }}, {{ date = 2024-02-05, type = \"certificate_issued\" }}]"
        ),
    );
    assert_ne!(status(&s, "2024-06-01", K::Refiling), Status::Met);

    // A yearly self-inspection due on a weekday of a year without a calendar, 3 days late.
    let s = sys(
        Grade::III,
        &format!(
            "{OPERATING}\nevents = [{{ date = 2024-01-10, type = \"grade_determined\" }}, {{ date = 2024-04-08, type = \"self_inspection\", conformity = \"conformant\" }}]"
        ),
    );
    let o = run(&s, "2025-04-11");
    let si = find(&o, K::SelfInspection);
    assert_eq!(si.status, Status::Overdue);
    assert!(
        si.due
            .unwrap()
            .flags
            .contains(DueFlags::HOLIDAYS_MAY_EXTEND),
        "{:?}",
        si.due
    );

    // Grade IV in 2019, down to III in 2021, evaluated 2024-12, IV again 2025-03: the
    // half-year runs from 2025-03, as it would without the 2019 history.
    let history = "{ date = 2021-06-01, type = \"grade_determined\", grade = \"III\" }, { date = 2024-12-01, type = \"evaluation\", conformity = \"conformant\" }, { date = 2025-03-03, type = \"grade_determined\", grade = \"IV\" }";
    for old in [
        "{ date = 2019-06-03, type = \"grade_determined\", grade = \"IV\" }, ",
        "",
    ] {
        let s = sys(
            Grade::IV,
            &format!("lifecycle = {{ operating_since = 2019-01-01 }}\nevents = [{old}{history}]"),
        );
        assert_eq!(
            due(&s, "2025-04-01", K::GradeEvaluation),
            Some(d("2025-09-03")),
            "with {old:?}"
        );
    }
}
