//! Text output for a compliance officer: what is wrong first, every line with its article.

use std::io::{self, Write};

use dengbao_core::assess::{ObligationView, RefView, Report, SystemReport};
use dengbao_core::eligibility::{Eligibility, Verdict};
use dengbao_core::grade::{HarmDegree, HarmObject};
use dengbao_core::obligations::Status;
use dengbao_core::violations::Basis;

fn object(o: HarmObject) -> &'static str {
    match o {
        HarmObject::CitizensLegalPersons => "citizens, legal persons and other organisations",
        HarmObject::SocialOrderPublicInterest => "social order and public interest",
        HarmObject::NationalSecurity => "national security",
    }
}

fn degree(d: HarmDegree) -> &'static str {
    match d {
        HarmDegree::Damage => "damage",
        HarmDegree::SeriousDamage => "serious damage",
        HarmDegree::ParticularlySeriousDamage => "particularly serious damage",
    }
}

fn party(p: &str) -> &str {
    match p {
        "operator" => "operator",
        "department_in_charge" => "dept. in charge",
        "public_security" => "public security",
        "secrecy_department" => "secrecy dept.",
        "cryptography_administration" => "crypto admin.",
        other => other,
    }
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Overdue => "OVERDUE",
        Status::DueSoon => "DUE SOON",
        Status::Upcoming => "upcoming",
        Status::Met => "met",
        Status::NotApplicable => "n/a",
    }
}

fn yes(b: bool) -> &'static str {
    if b { "required" } else { "not required" }
}

fn reference(r: &RefView) -> String {
    match r.event {
        Some(e) => format!("{} {}", e.replace('_', " "), r.date),
        None => format!("{} {}", r.source.replace('_', " "), r.date),
    }
}

fn obligation_line(w: &mut impl Write, o: &ObligationView) -> io::Result<()> {
    let due = o.due.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
    let title = match o.aspect {
        Some(a) => format!("{} ({})", o.title, a.replace('_', " ")),
        None => o.title.to_owned(),
    };
    writeln!(
        w,
        "    {:<9} {:<10}  {:<16} {}  [{}]",
        status(o.status),
        due,
        party(o.party),
        title,
        o.cite
    )?;
    let mut notes: Vec<String> = Vec::new();
    if let Some(t) = &o.trigger {
        notes.push(format!("from {}", reference(t)));
    }
    if let Some(s) = &o.satisfied_by {
        notes.push(format!(
            "done: {}{}",
            reference(s),
            if o.late { " (late)" } else { "" }
        ));
    }
    if let Some(r) = &o.reason {
        notes.push(r.clone());
    }
    // How a past deadline was computed matters little once it is met.
    let due_notes: &[&str] = if o.status == Status::Met {
        &[]
    } else {
        &o.due_notes
    };
    for n in due_notes {
        notes.push(match *n {
            "adjusted_for_rest_day" => "moved off a rest day (Civil Code art. 203)".into(),
            "no_holiday_calendar" => {
                "no holiday calendar for that year: not adjusted for rest days".into()
            }
            "earliest_possible" => {
                "earliest possible date (working days need the holiday calendar)".into()
            }
            other => other.to_owned(),
        });
    }
    if o.unconfirmed {
        notes.push("parameter from an unconfirmed source".into());
    }
    if !notes.is_empty() {
        writeln!(
            w,
            "    {:<9} {:<10}  {:<16} {}",
            "",
            "",
            "",
            notes.join("; ")
        )?;
    }
    Ok(())
}

fn eligibility_line(w: &mut impl Write, what: &str, e: &Eligibility) -> io::Result<()> {
    let verdict = if e.eligible {
        "eligible"
    } else {
        "NOT ELIGIBLE"
    };
    writeln!(
        w,
        "    {what} `{}` ({}): {verdict}  [{}]",
        e.id, e.name, e.cite
    )?;
    for c in e.criteria.iter().filter(|c| c.result != Verdict::Met) {
        let r = if c.result == Verdict::NotMet {
            "not met"
        } else {
            "unknown"
        };
        let ev = c
            .evidence
            .map(|x| format!(" — evidence: {x}"))
            .unwrap_or_default();
        let note = c
            .note
            .as_ref()
            .map(|x| format!(" ({x})"))
            .unwrap_or_default();
        writeln!(
            w,
            "      {r:<8} {}: {}{note}{ev}  [{}]",
            c.id, c.text, c.cite
        )?;
    }
    Ok(())
}

fn system(w: &mut impl Write, s: &SystemReport) -> io::Result<()> {
    let g = &s.grading;
    writeln!(w, "■ {} — {}", s.id, s.name)?;
    writeln!(
        w,
        "  Grade {}   S {} ({}: {})   G {} ({}: {})   [{}]",
        s.grade,
        g.s.grade,
        object(g.s.object),
        degree(g.s.degree),
        g.g.grade,
        object(g.g.object),
        degree(g.g.degree),
        g.cite
    )?;
    if let Some(d) = s.determined_grade_differs {
        writeln!(
            w,
            "  ! Determined as Grade {d} (the legal fact), assessed as Grade {}: re-grade or correct the assessment",
            s.grade
        )?;
    }
    if let Some(f) = &g.floor {
        let how = if f.raised {
            "raised the grade"
        } else {
            "already met"
        };
        writeln!(
            w,
            "  Secret-involved ({}): floor Grade {} {how}  [{}]",
            f.secret_degree.replace('_', " "),
            f.floor,
            f.cite
        )?;
    }
    writeln!(
        w,
        "  Supervision: {}  [{}];  expert committee review: {}  [{}];  department approval: {}  [{}]",
        g.supervision.value.replace('_', " "),
        g.supervision.cite,
        yes(g.expert_review_required.value),
        g.expert_review_required.cite,
        yes(g.department_approval_required.value),
        g.department_approval_required.cite
    )?;
    if g.uniform_grading_by_department.value {
        writeln!(
            w,
            "  Graded uniformly by the department in charge  [{}]",
            g.uniform_grading_by_department.cite
        )?;
    }
    for d in &g.domains {
        writeln!(
            w,
            "  Security domain `{}`: Grade {} (S {}, G {})",
            d.name, d.grade, d.s_grade, d.g_grade
        )?;
    }

    writeln!(w, "\n  Obligations")?;
    let mut live: Vec<&ObligationView> = s
        .obligations
        .iter()
        .filter(|o| o.status != Status::NotApplicable)
        .collect();
    live.sort_by_key(|o| (o.status, o.due));
    for o in live {
        obligation_line(w, o)?;
    }
    let na: Vec<String> = s
        .obligations
        .iter()
        .filter(|o| o.status == Status::NotApplicable)
        .map(|o| format!("{} ({})", o.kind, o.reason.as_deref().unwrap_or("")))
        .collect();
    if !na.is_empty() {
        writeln!(w, "    not applicable: {}", na.join("; "))?;
    }

    let d = &s.dossier;
    if d.applicable {
        let have = d.required.len() - d.missing.len();
        if d.complete {
            writeln!(
                w,
                "\n  Filing dossier: complete, {have} of {}  [{}]",
                d.required.len(),
                d.cite
            )?;
        } else {
            writeln!(
                w,
                "\n  Filing dossier: {have} of {} provided — missing  [{}]",
                d.required.len(),
                d.cite
            )?;
            for m in &d.missing {
                writeln!(w, "    - {}  [{}]", m.title, m.cite)?;
            }
        }
    } else {
        let why = if s.grading.floor.is_some() {
            "secret-involved: materials go to the secrecy department (Measures art. 30)".to_owned()
        } else {
            format!("not required at Grade {}", s.grade)
        };
        writeln!(w, "\n  Filing dossier: {why}  [{}]", d.cite)?;
    }

    let e = &s.eligibility;
    if !(e.products.is_empty() && e.agencies.is_empty() && e.crypto_products.is_empty()) {
        writeln!(w, "\n  Eligibility of what it uses")?;
        for x in &e.products {
            eligibility_line(w, "security product", x)?;
        }
        for x in &e.agencies {
            eligibility_line(w, "evaluation agency", x)?;
        }
        for x in &e.crypto_products {
            eligibility_line(w, "cryptographic product", x)?;
        }
    }

    if s.violations.is_empty() {
        writeln!(w, "\n  Violations (Measures art. 40): none found")?;
    } else {
        writeln!(w, "\n  Violations")?;
        for v in &s.violations {
            let basis = match v.basis {
                Basis::Established => "established",
                Basis::RecordsShow => "per the records",
                Basis::Unverified => "unverified: evidence missing",
            };
            writeln!(w, "    {} {} — {basis}", v.cite, v.title)?;
            for ev in &v.evidence {
                writeln!(w, "      · {}  [{}]", ev.text, ev.cite)?;
            }
        }
    }
    writeln!(w)
}

pub fn text(w: &mut impl Write, file: &str, r: &Report) -> io::Result<()> {
    writeln!(
        w,
        "Dengbao assessment of {file} on {} — rules `{}`: {} ({})",
        r.as_of, r.rules.id, r.rules.title, r.rules.source
    )?;
    if let Some(o) = r.organisation {
        writeln!(
            w,
            "Operator: {} (credit code {}, division {})",
            o.name, o.credit_code, o.division
        )?;
    }
    if r.holiday_calendar_years.is_empty() {
        writeln!(
            w,
            "Holiday calendar: none supplied — due dates are not moved off rest days (Civil Code art. 203); pass --holidays"
        )?;
    } else {
        let ys: Vec<String> = r
            .holiday_calendar_years
            .iter()
            .map(i32::to_string)
            .collect();
        writeln!(w, "Holiday calendar: {}", ys.join(", "))?;
    }
    writeln!(w)?;
    for s in &r.systems {
        system(w, s)?;
    }
    let overdue = r
        .systems
        .iter()
        .filter(|s| s.obligations.iter().any(|o| o.status == Status::Overdue))
        .count();
    let violating = r
        .systems
        .iter()
        .filter(|s| !s.violations.is_empty())
        .count();
    let incomplete = r
        .systems
        .iter()
        .filter(|s| s.dossier.applicable && !s.dossier.complete)
        .count();
    writeln!(
        w,
        "Summary: {} grading object(s); {overdue} with overdue obligations; {violating} with art. 40 violations; {incomplete} with an incomplete filing dossier",
        r.systems.len()
    )?;
    writeln!(w)
}
