//! The obligation engine: from a system's facts, its event history and a date, every
//! obligation of RULES.md §2 with party, due date, status, citation and the events that
//! triggered or satisfied it.
//!
//! Shape: one pass over the history builds a [`Summary`] (latest/first events, open notices);
//! then each obligation is decided from the summary. Nothing here allocates except pushing
//! to the caller's output vector, so a caller can reuse it across millions of systems.
//!
//! Conventions:
//! * Events dated after `as_of` have not happened yet; lifecycle dates likewise.
//! * "After" between events means later in the history (sorted by date, file order on ties).
//! * A recurring obligation is `met` from its last completion until its next due date passes
//!   ("at least yearly" = the next one within a year of the last one completed).
//! * An open obligation with no time limit in the rules is `upcoming` with no due date and
//!   says why ([`Reason::NoStatutoryPeriod`]) — it can never become overdue by itself.

use serde::Serialize;

use crate::date::{Date, Due, DueFlags, HolidayCalendar, PeriodUnit};
use crate::grade::Grade;
use crate::model::{ChangeAspect, Event, EventType, GradingObject, NetworkScope};
use crate::pack::{Cadence, ObligationKind, ObligationRule, Party, RulePack, Scope};

/// Status of an obligation on the `as_of` date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    Overdue,
    DueSoon,
    Upcoming,
    Met,
    NotApplicable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where a trigger or a completion comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Index into the system's (sorted) event list.
    Event(u32),
    OperatingSince,
    ConstructionStarted,
    /// The rule pack's entry into force (art. 42 for existing systems).
    PackEffective,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ref {
    pub date: Date,
    pub source: Source,
}

/// Why an obligation has the status it has, where the status alone does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    None,
    /// Applies from this grade up.
    BelowGrade(Grade),
    NotSecretInvolved,
    /// Secret-involved systems follow the secrecy track instead (art. 24–33).
    SecretTrack,
    Retired,
    NotYetOperating,
    /// No grade determination recorded yet.
    AwaitingGrade,
    NoFilingYet,
    NoNotice,
    /// No evaluation or self-inspection found non-conformity.
    NoFinding,
    /// Not re-graded since it was filed.
    NoRegrading,
    /// Grade V etc.: per special security demand, set by the designated department.
    SpecialDemand,
    /// Open, but the rules set no time limit (a user pack may).
    NoStatutoryPeriod,
    /// Only important secret-involved systems (art. 39).
    NotImportant,
    NoCryptography,
    NoChange,
    /// The review clock runs from receipt; none recorded, so from submission.
    ReceiptAssumed,
    /// Design-phase deadline: grade before construction starts (art. 42).
    BeforeConstruction,
    /// The same, with no construction date recorded: the date shown is going into operation,
    /// the latest the design phase can end.
    BeforeOperation,
    /// The time limit comes from the notice.
    NoticeDeadline,
}

impl Reason {
    pub fn describe(self) -> String {
        match self {
            Reason::None => String::new(),
            Reason::BelowGrade(g) => {
                format!("applies from Grade {g} (\"or above\" includes {g}, Measures art. 43)")
            }
            Reason::NotSecretInvolved => "not a secret-involved system".into(),
            Reason::SecretTrack => {
                "secret-involved: handled by the secrecy department (Measures art. 26, 29)".into()
            }
            Reason::Retired => "system retired".into(),
            Reason::NotYetOperating => "the system is not in operation yet".into(),
            Reason::AwaitingGrade => "no grade determination recorded yet".into(),
            Reason::NoFilingYet => "nothing filed yet".into(),
            Reason::NoNotice => "no such notice received".into(),
            Reason::NoFinding => "no evaluation or self-inspection found non-conformity".into(),
            Reason::NoRegrading => "not re-graded since filing".into(),
            Reason::SpecialDemand => {
                "per special security demand, set by the designated department".into()
            }
            Reason::NoStatutoryPeriod => "open; the rules set no time limit".into(),
            Reason::NotImportant => "only for important secret-involved systems".into(),
            Reason::NoCryptography => "the system does not use cryptography".into(),
            Reason::NoChange => "no change recorded".into(),
            Reason::ReceiptAssumed => "no receipt recorded; counted from submission".into(),
            Reason::BeforeConstruction => {
                "due in the design phase: by the start of construction".into()
            }
            Reason::BeforeOperation => {
                "due in the design phase; no construction date recorded, so the date shown is going into operation".into()
            }
            Reason::NoticeDeadline => "time limit set by the notice".into(),
        }
    }
}

/// One obligation of one system on one date.
#[derive(Clone, Copy, Debug)]
pub struct Obligation<'p> {
    pub rule: &'p ObligationRule,
    /// Usually the rule's party; the department in charge files for a uniformly graded
    /// trans-provincial system (art. 15 ¶3).
    pub party: Party,
    pub status: Status,
    pub due: Option<Due>,
    pub trigger: Option<Ref>,
    pub satisfied_by: Option<Ref>,
    pub reason: Reason,
    /// Completed, but after the due date.
    pub late: bool,
    /// For change reports (art. 31): which aspect changed.
    pub aspect: Option<ChangeAspect>,
}

impl Obligation<'_> {
    pub fn kind(&self) -> ObligationKind {
        self.rule.kind
    }
}

/// Inputs every obligation decision needs besides the system.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub pack: &'a RulePack,
    pub calendar: &'a HolidayCalendar,
    pub as_of: Date,
}

/// An obligation opened by one event and closed by a later one (notices, findings).
#[derive(Clone, Copy, Default)]
struct Pending {
    /// First event still unanswered.
    open: Option<u32>,
    /// Latest answered pair (opener, closer).
    closed: Option<(u32, u32)>,
}

impl Pending {
    fn open(&mut self, i: u32) {
        if self.open.is_none() {
            self.open = Some(i);
        }
    }
    fn close(&mut self, j: u32) {
        if let Some(i) = self.open.take() {
            self.closed = Some((i, j));
        }
    }
}

/// What one pass over the history learns.
#[derive(Default)]
struct Summary {
    first_grade: Option<u32>,
    /// First determination at or above grade g (index g-1).
    first_grade_at_least: [Option<u32>; 5],
    first_filing: Option<u32>,
    refile: Pending,
    review: Pending,
    correction: Pending,
    regrade: Pending,
    last_evaluation: Option<u32>,
    last_self_inspection: Option<u32>,
    last_inspection: Option<u32>,
    rect_plan: Pending,
    rect_notice: Pending,
    secrecy_approval: Option<u32>,
    last_secrecy_exam: Option<u32>,
    last_crypto_exam: Option<u32>,
    crypto_filed: Option<u32>,
    changes: [Pending; 5],
    /// The department required re-approval of a change; the next approval answers it.
    reapproval: Pending,
}

impl Summary {
    fn build(events: &[Event], grade: Grade) -> Summary {
        use EventType::*;
        let mut s = Summary::default();
        for (i, e) in events.iter().enumerate() {
            let i = i as u32;
            match e.kind {
                GradeDetermined => {
                    if s.first_grade.is_none() {
                        s.first_grade = Some(i);
                    }
                    let g = e.grade.unwrap_or(grade);
                    let (reached, above) =
                        s.first_grade_at_least.split_at_mut(usize::from(g.number()));
                    // Since it last reached each grade: a drop below forgets the earlier time.
                    above.fill(None);
                    for slot in reached {
                        if slot.is_none() {
                            *slot = Some(i);
                        }
                    }
                    if s.first_filing.is_some() {
                        s.refile.open(i);
                    }
                    s.regrade.close(i);
                }
                FilingSubmitted => {
                    if s.first_filing.is_none() && s.first_grade.is_some() {
                        s.first_filing = Some(i);
                    }
                    s.refile.close(i);
                    s.correction.close(i);
                    s.review.open(i);
                }
                FilingReceived => {
                    // The organ received a filing, so one was made (on or before this day).
                    if s.first_filing.is_none() && s.first_grade.is_some() {
                        s.first_filing = Some(i);
                    }
                    // Receipt starts the art. 17 clock; it replaces an open submission.
                    match s.review.open {
                        Some(o) if events[o as usize].kind == FilingSubmitted => {
                            s.review.open = Some(i)
                        }
                        Some(_) => {}
                        None => s.review.open = Some(i),
                    }
                }
                CertificateIssued => {
                    // A certificate proves the filing it certifies (art. 17) — a re-filing
                    // or a corrected filing too.
                    if s.first_filing.is_none() && s.first_grade.is_some() {
                        s.first_filing = Some(i);
                    }
                    // Not when a review of an earlier filing is still open: this certifies that.
                    let after =
                        |p: &Pending| p.open.is_some_and(|o| s.review.open.is_none_or(|r| r > o));
                    if after(&s.refile) {
                        s.refile.close(i);
                    }
                    if after(&s.correction) {
                        s.correction.close(i);
                    }
                    s.review.close(i)
                }
                CorrectionNotice => {
                    s.review.close(i);
                    s.correction.open(i);
                }
                RegradeNotice => {
                    s.review.close(i);
                    s.regrade.open(i);
                }
                Evaluation | SelfInspection => {
                    if e.kind == Evaluation {
                        s.last_evaluation = Some(i);
                    } else {
                        s.last_self_inspection = Some(i);
                    }
                    if e.conformity.is_some_and(|c| c.needs_rectification()) {
                        s.rect_plan.open(i);
                    }
                }
                Inspection => s.last_inspection = Some(i),
                RectificationNotice => s.rect_notice.open(i),
                RectificationPlan => s.rect_plan.close(i),
                RectificationReport => s.rect_notice.close(i),
                SecrecyApproval => {
                    if s.secrecy_approval.is_none() {
                        s.secrecy_approval = Some(i);
                    }
                    s.reapproval.close(i);
                }
                ReapprovalRequired => s.reapproval.open(i),
                SecrecyExamination => s.last_secrecy_exam = Some(i),
                CryptographyExamination => s.last_crypto_exam = Some(i),
                CryptographyUsageFiled => {
                    if s.crypto_filed.is_none() {
                        s.crypto_filed = Some(i);
                    }
                }
                SecretChange => {
                    if let Some(a) = e.aspect {
                        s.changes[a as usize].open(i);
                    }
                }
                ChangeReported => {
                    if let Some(a) = e.aspect {
                        s.changes[a as usize].close(i);
                    }
                }
                OperationStarted => {}
            }
        }
        s
    }
}

struct Engine<'a, 'p> {
    ctx: Context<'p>,
    sys: &'a GradingObject,
    events: &'a [Event],
    grade: Grade,
    /// Operating on `as_of` (started on or before it).
    op: Option<Date>,
    retired: bool,
}

impl<'a, 'p> Engine<'a, 'p> {
    fn ev(&self, i: u32) -> Ref {
        Ref {
            date: self.events[i as usize].date,
            source: Source::Event(i),
        }
    }

    fn base(&self, kind: ObligationKind) -> Obligation<'p> {
        let rule = self.ctx.pack.obligation(kind);
        Obligation {
            rule,
            party: rule.party,
            status: Status::NotApplicable,
            due: None,
            trigger: None,
            satisfied_by: None,
            reason: Reason::None,
            late: false,
            aspect: None,
        }
    }

    /// Scope, grade and retirement: `Some(reason)` if the rule does not apply at all.
    fn gate(&self, rule: &ObligationRule) -> Option<Reason> {
        if self.retired {
            return Some(Reason::Retired);
        }
        match (rule.scope, self.sys.is_secret()) {
            (Scope::NonSecret, true) => return Some(Reason::SecretTrack),
            (Scope::Secret, false) => return Some(Reason::NotSecretInvolved),
            _ => {}
        }
        match rule.min_grade {
            Some(min) if self.grade < min => Some(Reason::BelowGrade(min)),
            _ => None,
        }
    }

    fn status_for(&self, due: Option<Due>) -> Status {
        let Some(due) = due else {
            return Status::Upcoming;
        };
        let as_of = self.ctx.as_of;
        if as_of > due.date {
            return Status::Overdue;
        }
        let p = self.ctx.pack.due_soon;
        let soon_from = match p.unit {
            PeriodUnit::Days | PeriodUnit::WorkingDays => due.date.add_days(-i32::from(p.amount)),
            PeriodUnit::Months | PeriodUnit::Years => {
                let months = i32::from(p.amount) * if p.unit == PeriodUnit::Years { 12 } else { 1 };
                // Going back n months: the same day n months earlier, approximately 30.44 days each.
                due.date.add_days(-(months * 3044 / 100))
            }
        };
        if as_of >= soon_from {
            Status::DueSoon
        } else {
            Status::Upcoming
        }
    }

    fn period_due(&self, rule: &ObligationRule, from: Date) -> Option<Due> {
        rule.once_period()
            .map(|p| self.ctx.calendar.period_end(from, p))
    }

    /// Decides an obligation given its trigger, due date and (optional) completion.
    fn decide(
        &self,
        mut o: Obligation<'p>,
        trigger: Option<Ref>,
        due: Option<Due>,
        done: Option<Ref>,
    ) -> Obligation<'p> {
        o.trigger = trigger;
        o.due = due;
        o.satisfied_by = done;
        if let Some(d) = done {
            o.status = Status::Met;
            o.late = due.is_some_and(|due| d.date > due.date);
        } else {
            o.status = self.status_for(due);
            if due.is_none() && o.reason == Reason::None {
                o.reason = Reason::NoStatutoryPeriod;
            }
        }
        o
    }

    /// An obligation opened by one event and closed by another; notices carry their own
    /// deadline, otherwise the rule's period applies.
    fn pending(&self, kind: ObligationKind, p: Pending, none_reason: Reason) -> Obligation<'p> {
        let mut o = self.base(kind);
        if let Some(r) = self.gate(o.rule) {
            o.reason = r;
            return o;
        }
        if let Some(i) = p.open {
            let trig = self.ev(i);
            let due = match self.events[i as usize].deadline {
                Some(d) => {
                    o.reason = Reason::NoticeDeadline;
                    Some(Due {
                        date: d,
                        flags: DueFlags::empty(),
                    })
                }
                None => self.period_due(o.rule, trig.date),
            };
            return self.decide(o, Some(trig), due, None);
        }
        if let Some((i, j)) = p.closed {
            let trig = self.ev(i);
            let due = match self.events[i as usize].deadline {
                Some(d) => Some(Due {
                    date: d,
                    flags: DueFlags::empty(),
                }),
                None => self.period_due(o.rule, trig.date),
            };
            return self.decide(o, Some(trig), due, Some(self.ev(j)));
        }
        o.reason = none_reason;
        o
    }

    /// A recurring obligation: due one cadence after the last completion, or after the
    /// anchor if never done.
    fn recurring(
        &self,
        mut o: Obligation<'p>,
        cadence: Option<Cadence>,
        anchor: Option<Ref>,
        last: Option<u32>,
    ) -> Obligation<'p> {
        // A completion before the anchor (e.g. an evaluation while the system was still
        // Grade II) does not count toward this cadence.
        let last = last
            .map(|i| self.ev(i))
            .filter(|l| anchor.is_none_or(|a| l.date >= a.date));
        let period = match cadence {
            Some(Cadence::Every(p)) => p,
            Some(Cadence::Special) | None => {
                o.reason = Reason::SpecialDemand;
                o.status = Status::Upcoming;
                o.trigger = anchor;
                o.satisfied_by = last;
                return o;
            }
        };
        let from = match (last, anchor) {
            (Some(l), _) => l,
            (None, Some(a)) => a,
            (None, None) => {
                o.reason = Reason::NotYetOperating;
                o.status = Status::Upcoming;
                return o;
            }
        };
        let due = self.ctx.calendar.period_end(from.date, period);
        o.trigger = anchor;
        o.due = Some(due);
        o.satisfied_by = last;
        // The last completion was late if it came after the due date counted from the one
        // before it (or from the anchor, for the first).
        if let (Some(l), Some(Source::Event(i))) = (last, last.map(|l| l.source)) {
            let kind = self.events[i as usize].kind;
            let before = self.events[..i as usize]
                .iter()
                .rev()
                .find(|e| e.kind == kind && anchor.is_none_or(|a| e.date >= a.date))
                .map(|e| e.date)
                .or(anchor.map(|a| a.date));
            if let Some(b) = before {
                // The unadjusted end is a lower bound (a rest day only moves it later): most
                // completions are in time by it, without asking the calendar.
                let lower = match period.unit {
                    crate::date::PeriodUnit::Days => b.add_days(i32::from(period.amount)),
                    crate::date::PeriodUnit::Months => b.add_months(u32::from(period.amount)),
                    crate::date::PeriodUnit::Years => b.add_months(u32::from(period.amount) * 12),
                    crate::date::PeriodUnit::WorkingDays => b,
                };
                o.late = l.date > lower && l.date > self.ctx.calendar.period_end(b, period).date;
            }
        }
        o.status = if last.is_some() && self.ctx.as_of <= due.date {
            Status::Met
        } else {
            self.status_for(Some(due))
        };
        o
    }

    /// The date from which a Grade ≥ `min` cadence runs: going into operation, or the first
    /// determination at that grade if later.
    fn cadence_anchor(&self, s: &Summary, min: Option<Grade>) -> Option<Ref> {
        let op = self.op.map(|d| Ref {
            date: d,
            source: Source::OperatingSince,
        })?;
        // From when the system reached the grade whose cadence applies (a Grade IV half-year
        // does not run from a Grade III determination), else the rule's lowest grade.
        let min = min.unwrap_or(Grade::I);
        let at = |g: Grade| s.first_grade_at_least[usize::from(g.number() - 1)];
        match at(self.grade.max(min))
            .or_else(|| at(min))
            .map(|i| self.ev(i))
        {
            Some(r) if r.date > op.date => Some(r),
            _ => Some(op),
        }
    }

    fn determine_grade(&self, s: &Summary) -> Obligation<'p> {
        let mut o = self.base(ObligationKind::DetermineGrade);
        if let Some(r) = self.gate(o.rule) {
            o.reason = r;
            return o;
        }
        let effective = self.ctx.pack.effective;
        let l = &self.sys.lifecycle;
        let (trigger, due) = match l.operating_since {
            // Already operating when the Measures took effect: 180 days from then (art. 42).
            Some(op) if op < effective => {
                let t = Ref {
                    date: effective,
                    source: Source::PackEffective,
                };
                (Some(t), self.period_due(o.rule, effective))
            }
            // New system: in the design phase, i.e. before construction (or operation) starts.
            _ => {
                o.reason = if l.construction_started.is_some() {
                    Reason::BeforeConstruction
                } else {
                    Reason::BeforeOperation
                };
                let d = l.construction_started.or(l.operating_since);
                (
                    None,
                    d.map(|date| Due {
                        date,
                        flags: DueFlags::empty(),
                    }),
                )
            }
        };
        let done = s.first_grade.map(|i| self.ev(i));
        self.decide(o, trigger, due, done)
    }

    fn filing(&self, s: &Summary) -> Obligation<'p> {
        let branch = self.sys.branch_of.is_some();
        let kind = if branch {
            ObligationKind::BranchFiling
        } else {
            ObligationKind::RecordFiling
        };
        let mut o = self.base(kind);
        if let Some(r) = self.gate(o.rule) {
            o.reason = r;
            return o;
        }
        // Art. 15 ¶3: the department in charge files (with the Ministry of Public Security)
        // only for a trans-provincial or nationwide system of a central Beijing-located entity
        // that it graded uniformly; otherwise the operator files, and branches locally.
        if !branch
            && self.sys.network_scope != NetworkScope::Local
            && self.sys.department_in_charge.is_some()
            && self.sys.central_beijing_entity
            && self.sys.graded_uniformly
        {
            o.party = Party::DepartmentInCharge;
        }
        let done = s.first_filing.map(|i| self.ev(i));
        let Some(g) = s.first_grade.map(|i| self.ev(i)) else {
            o.reason = Reason::AwaitingGrade;
            return self.decide(o, None, None, None);
        };
        let Some(op) = self.op else {
            // New system: 30 days after it goes into operation (art. 15 ¶1).
            o.reason = Reason::NotYetOperating;
            return self.decide(o, None, None, done);
        };
        // Operating when graded: from the grade; graded before operation: from operation.
        let trig = if g.date >= op {
            g
        } else {
            Ref {
                date: op,
                source: Source::OperatingSince,
            }
        };
        let due = self.period_due(o.rule, trig.date);
        let mut o = self.decide(o, Some(trig), due, done);
        // The organ's receipt or certificate proves a filing made on or before its date, not
        // when: it is never evidence of lateness.
        if s.first_filing
            .is_some_and(|i| self.events[i as usize].kind != EventType::FilingSubmitted)
        {
            o.late = false;
        }
        o
    }

    fn filing_review(&self, s: &Summary) -> Obligation<'p> {
        let mut o = self.pending(ObligationKind::FilingReview, s.review, Reason::NoFilingYet);
        if let Some(Ref {
            source: Source::Event(i),
            ..
        }) = o.trigger
        {
            if self.events[i as usize].kind == EventType::FilingSubmitted
                && o.reason == Reason::None
            {
                o.reason = Reason::ReceiptAssumed;
            }
        }
        o
    }

    fn secrecy_approval(&self, s: &Summary) -> Obligation<'p> {
        let mut o = self.base(ObligationKind::SecrecyApproval);
        if let Some(r) = self.gate(o.rule) {
            o.reason = r;
            return o;
        }
        // Due before going into operation, including a planned date still ahead (art. 29 ¶2).
        let due = self.sys.lifecycle.operating_since.map(|date| Due {
            date,
            flags: DueFlags::empty(),
        });
        if due.is_none() {
            o.reason = Reason::NotYetOperating;
        }
        let done = s.secrecy_approval.map(|i| self.ev(i));
        self.decide(o, None, due, done)
    }

    fn cryptography_usage_filing(&self, s: &Summary) -> Obligation<'p> {
        let mut o = self.base(ObligationKind::CryptographyUsageFiling);
        if let Some(r) = self.gate(o.rule) {
            o.reason = r;
            return o;
        }
        if !self.sys.uses_cryptography {
            o.reason = Reason::NoCryptography;
            return o;
        }
        let trig = self.op.map(|d| Ref {
            date: d,
            source: Source::OperatingSince,
        });
        let due = trig.and_then(|t| self.period_due(o.rule, t.date));
        let done = s.crypto_filed.map(|i| self.ev(i));
        self.decide(o, trig, due, done)
    }

    /// Overdue by less than unknown holidays could add: whether it is overdue at all depends
    /// on the calendar (every kind, once or recurring).
    fn mark_uncertain(&self, o: &mut Obligation<'p>) {
        let Some(d) = o.due.as_mut() else {
            return;
        };
        if o.status != Status::Overdue || !d.flags.contains(DueFlags::NO_CALENDAR) {
            return;
        }
        let slack = self.ctx.pack.holiday_slack;
        let last = match slack.unit {
            PeriodUnit::Days | PeriodUnit::WorkingDays => d.date.add_days(i32::from(slack.amount)),
            PeriodUnit::Months => d.date.add_months(u32::from(slack.amount)),
            PeriodUnit::Years => d.date.add_months(u32::from(slack.amount) * 12),
        };
        if self.ctx.as_of <= last {
            d.flags.insert(DueFlags::HOLIDAYS_MAY_EXTEND);
        }
    }

    fn run(&self, out: &mut Vec<Obligation<'p>>) {
        use ObligationKind::*;
        let s = Summary::build(self.events, self.grade);
        out.push(self.determine_grade(&s));
        out.push(self.filing(&s));
        out.push(self.filing_review(&s));
        out.push(self.pending(FilingCorrection, s.correction, Reason::NoNotice));
        out.push(self.pending(Regrade, s.regrade, Reason::NoNotice));
        out.push(self.pending(Refiling, s.refile, Reason::NoRegrading));

        for (kind, last) in [
            (GradeEvaluation, s.last_evaluation),
            (SelfInspection, s.last_self_inspection),
            (SupervisoryInspection, s.last_inspection),
        ] {
            let o = self.base(kind);
            let o = match self.gate(o.rule) {
                Some(r) => Obligation { reason: r, ..o },
                None => {
                    let anchor = self.cadence_anchor(&s, o.rule.min_grade);
                    self.recurring(o, o.rule.cadence_for_grade(self.grade), anchor, last)
                }
            };
            out.push(o);
        }
        out.push(self.pending(RectificationPlan, s.rect_plan, Reason::NoFinding));
        out.push(self.pending(RectificationAfterNotice, s.rect_notice, Reason::NoNotice));
        out.push(self.secrecy_approval(&s));

        // Change reports: one per aspect that changed (art. 31).
        let before = out.len();
        for a in ChangeAspect::ALL {
            let p = s.changes[a as usize];
            if p.open.is_some() || p.closed.is_some() {
                let mut o = self.pending(SecretChangeReport, p, Reason::NoChange);
                o.aspect = Some(a);
                out.push(o);
            }
        }
        if out.len() == before {
            out.push(self.pending(SecretChangeReport, Pending::default(), Reason::NoChange));
        }
        out.push(self.pending(SecrecyReapproval, s.reapproval, Reason::NoNotice));

        for (kind, last) in [
            (SecrecyExamination, s.last_secrecy_exam),
            (CryptographyExamination, s.last_crypto_exam),
        ] {
            let mut o = self.base(kind);
            // The cadence is by secret degree, so a non-secret system never has one even if a
            // user pack widens the scope.
            let reason = match (self.gate(o.rule), self.sys.secret) {
                (Some(r), _) => Some(r),
                (None, None) => Some(Reason::NotSecretInvolved),
                (None, Some(x)) if kind == CryptographyExamination && !x.important => {
                    Some(Reason::NotImportant)
                }
                (None, Some(_)) => None,
            };
            if let (None, Some(x)) = (reason, self.sys.secret) {
                let anchor = match s.secrecy_approval {
                    Some(i) if kind == SecrecyExamination => Some(self.ev(i)),
                    _ => self.op.map(|d| Ref {
                        date: d,
                        source: Source::OperatingSince,
                    }),
                };
                o = self.recurring(o, o.rule.cadence_for_secret(x.degree), anchor, last);
            } else if let Some(r) = reason {
                o.reason = r;
            }
            out.push(o);
        }
        out.push(self.cryptography_usage_filing(&s));
    }
}

/// Computes every obligation of `sys` (whose final grade is `grade`) on `ctx.as_of`,
/// appending to `out`. `sys.events` must be sorted by date ([`crate::model::Inventory::validate`]
/// does that).
pub fn obligations_into<'p>(
    ctx: Context<'p>,
    sys: &GradingObject,
    grade: Grade,
    out: &mut Vec<Obligation<'p>>,
) {
    debug_assert!(
        sys.events.windows(2).all(|w| w[0].date <= w[1].date),
        "events must be sorted"
    );
    let n = sys.events.partition_point(|e| e.date <= ctx.as_of);
    let l = &sys.lifecycle;
    let engine = Engine {
        ctx,
        sys,
        events: &sys.events[..n],
        grade,
        op: l.operating_since.filter(|d| *d <= ctx.as_of),
        retired: l.retired.is_some_and(|d| d <= ctx.as_of),
    };
    let from = out.len();
    engine.run(out);
    for o in &mut out[from..] {
        engine.mark_uncertain(o);
    }
}

/// Convenience wrapper returning a fresh vector.
pub fn obligations<'p>(ctx: Context<'p>, sys: &GradingObject, grade: Grade) -> Vec<Obligation<'p>> {
    let mut v = Vec::with_capacity(20);
    obligations_into(ctx, sys, grade, &mut v);
    v
}
