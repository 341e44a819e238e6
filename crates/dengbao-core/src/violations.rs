//! Violations of art. 40 for Grade III or above, each derived from state the product holds —
//! an overdue operator obligation, an ineligible product or agency in use, an inspection
//! finding — and each with its evidence.

use serde::Serialize;

use crate::date::{Date, DueFlags};
use crate::eligibility::Eligibility;
use crate::grade::Grade;
use crate::model::Event;
use crate::obligations::{Obligation, Status};
use crate::pack::{Party, RulePack};

/// How firmly the state supports the violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Basis {
    /// Found by the competent party: a supervisory inspection recorded the matter wanting.
    Established,
    /// What the records show — a deadline passed with nothing recorded, a registry fact
    /// failing a criterion — not a finding of the competent party (an overdue rectification
    /// is "not rectified by the deadline", not "refused").
    RecordsShow,
    /// Evidence is missing (an eligibility fact unknown, a deadline passed by less than
    /// unknown holidays could add): not a pass, not yet a finding.
    Unverified,
}

impl Basis {
    /// The serde name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    pub text: String,
    pub cite: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Violation {
    /// Art. 40 item 1–10.
    pub item: u8,
    /// Stable kind id, `art40_<item>`.
    pub kind: String,
    pub title: String,
    pub cite: String,
    pub basis: Basis,
    pub evidence: Vec<Evidence>,
}

/// What a system uses that eligibility rules apply to.
pub struct InUse<'a> {
    pub products: &'a [Eligibility<'a>],
    /// Agencies that carried out this system's evaluations, with the evaluation date.
    pub agencies: &'a [(Date, Eligibility<'a>)],
    pub crypto_products: &'a [Eligibility<'a>],
}

fn criteria_evidence(
    e: &Eligibility<'_>,
    what: &str,
    date: Option<Date>,
) -> Option<(Basis, Evidence)> {
    let bad: Vec<&str> = e.not_met().map(|c| c.cite).collect();
    let unknown: Vec<&str> = e.unknown().map(|c| c.id).collect();
    let (basis, text) = if !bad.is_empty() {
        (
            Basis::RecordsShow,
            format!(
                "{what} `{}` ({}) does not meet {}",
                e.id,
                e.name,
                bad.join(", ")
            ),
        )
    } else if !unknown.is_empty() {
        (
            Basis::Unverified,
            format!(
                "{what} `{}` ({}): no evidence for {}",
                e.id,
                e.name,
                unknown.join(", ")
            ),
        )
    } else {
        return None;
    };
    Some((
        basis,
        Evidence {
            text,
            cite: e.cite.to_owned(),
            date,
        },
    ))
}

pub fn violations(
    pack: &RulePack,
    grade: Grade,
    obligations: &[Obligation<'_>],
    in_use: &InUse<'_>,
    last_inspection: Option<&Event>,
) -> Vec<Violation> {
    let v = &pack.violations;
    if grade < v.min_grade {
        return Vec::new();
    }
    let mut found: Vec<(u8, Basis, Evidence)> = Vec::new();
    for o in obligations {
        let (Status::Overdue, Some(item), Party::Operator) = (o.status, o.rule.violation, o.party)
        else {
            continue;
        };
        let due = o.due.map(|d| d.date);
        // The due date is the last day allowed: overdue from the day after.
        let since = due
            .map(|d| format!(" since {} (due {d})", d.add_days(1)))
            .unwrap_or_default();
        // A recurring obligation is counted from its last completion, once there is one.
        let trig = o
            .satisfied_by
            .or(o.trigger)
            .map(|t| format!(", counted from {}", t.date))
            .unwrap_or_default();
        // Past a date computed without the holiday calendar, by less than holidays could add.
        let uncertain = o
            .due
            .is_some_and(|d| d.flags.contains(DueFlags::HOLIDAYS_MAY_EXTEND));
        let (basis, unless) = if uncertain {
            (
                Basis::Unverified,
                "; holidays not in the calendar may extend it",
            )
        } else {
            (Basis::RecordsShow, "")
        };
        found.push((
            item,
            basis,
            Evidence {
                text: format!(
                    "{} ({}) overdue{since}{trig}{unless}",
                    o.rule.title, o.rule.kind
                ),
                cite: o.rule.cite.clone(),
                date: due,
            },
        ));
    }
    let elig = &pack.eligibility;
    for e in in_use.products {
        if let Some((b, ev)) = criteria_evidence(e, "security product", None) {
            found.push((elig.security_product.violation, b, ev));
        }
    }
    for (date, e) in in_use.agencies {
        if let Some((b, ev)) = criteria_evidence(e, "evaluation agency", Some(*date)) {
            found.push((elig.evaluation_agency.violation, b, ev));
        }
    }
    for e in in_use.crypto_products {
        if let Some((b, ev)) = criteria_evidence(e, "cryptographic product", None) {
            found.push((elig.crypto_product.violation, b, ev));
        }
    }
    if let Some(ins) = last_inspection {
        for m in &ins.findings {
            let item = v.by_inspection_matter[*m as usize];
            found.push((
                item,
                Basis::Established,
                Evidence {
                    text: format!("inspection on {} found `{}` wanting", ins.date, m.as_str()),
                    cite: v.inspection_cite.clone(),
                    date: Some(ins.date),
                },
            ));
        }
    }
    let mut out: Vec<Violation> = Vec::new();
    found.sort_by_key(|(item, b, _)| (*item, *b));
    for (item, basis, ev) in found {
        match out.last_mut() {
            Some(last) if last.item == item => {
                last.basis = last.basis.min(basis);
                last.evidence.push(ev);
            }
            _ => out.push(Violation {
                item,
                kind: format!("art40_{item}"),
                title: match (&v.records_titles[usize::from(item - 1)], basis) {
                    (Some(t), Basis::RecordsShow | Basis::Unverified) => t.clone(),
                    _ => v.titles[usize::from(item - 1)].clone(),
                },
                cite: format!("{}({item})", v.cite),
                basis,
                evidence: vec![ev],
            }),
        }
    }
    out
}
