//! Supervision of the objects in an organ's area (Measures art. 18–20, 33, 39): the
//! supervisor's list of what it supervises — a public security organ every object whose
//! division its jurisdiction covers, a secrecy department the secret-involved ones, a
//! cryptography administration those using cryptography — each with the engine's
//! supervisory-inspection obligation (its cadence from the rule pack) and its art. 40
//! violations; and the supervisor's acts, each the operator's event and ledger entry: an
//! inspection on the matters of art. 18 ¶2 (an examination, for the secrecy and
//! cryptography authorities) and the organ's rectification notice with its time limit.

use std::collections::HashMap;

use dengbao_core::Date;
use dengbao_core::model::{Event, EventType, InspectionMatter};
use dengbao_guard::{Action, OrgKind, Resource};
use dengbao_store::StoreError;
use serde::{Deserialize, Serialize};

use crate::dto::check_free_text;
use crate::error::{AppError, AppResult};
use crate::systems::{grade_str, object_ref};
use crate::tenant::object_of;
use crate::{App, Caller};

/// One supervised object.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupervisedObject {
    pub operator_id: String,
    pub operator: String,
    pub object_id: String,
    pub name: String,
    /// I–V.
    pub grade: String,
    pub division: Option<String>,
    pub secret_involved: bool,
    pub uses_cryptography: bool,
    /// The supervisory inspection obligation as the engine computes it today: `status`
    /// (`met`, `due`, `overdue`, …), the next `due` date and its citation.
    pub inspection_status: Option<String>,
    pub inspection_due: Option<String>,
    pub inspection_cite: Option<String>,
    /// Art. 40 violations of this object today.
    pub violations: usize,
    /// The caller may record an inspection (or examination) of it.
    pub may_act: bool,
}

/// An inspection (or an examination) as recorded by the supervisor.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InspectionInput {
    /// YYYY-MM-DD, not after today.
    pub date: String,
    /// The matters of art. 18 ¶2 found wanting (`grade_correctness`, `management_system`,
    /// `self_inspection_results`, `evaluations_done`, `products_conform`,
    /// `rectification_status`, `filing_matches_reality`, `other`); public security only.
    #[serde(default)]
    pub findings: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A rectification notice (art. 20 ¶2 / art. 40's order to correct within a time limit).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticeInput {
    /// The time limit, YYYY-MM-DD, after today.
    pub deadline: String,
    /// What must be corrected (1–2000 characters).
    pub reasons: String,
}

/// What the caller supervises, by operator and object.
pub async fn objects(app: &App, c: &Caller) -> AppResult<Vec<SupervisedObject>> {
    let org = app.own(c, Action::Read).await?;
    if !matches!(
        c.principal.org_kind,
        OrgKind::PublicSecurity | OrgKind::SecrecyDepartment | OrgKind::CryptographyAdministration
    ) {
        return Ok(Vec::new());
    }
    let rel = app.relations(&org).await?;
    let now = app.clock.now_ms();
    let today = app.clock.today();
    let mut out = Vec::new();
    let mut computed = HashMap::new();
    for (row, operator) in app.store.jurisdiction_objects(&org).await? {
        let obj = object_of(&row)?;
        // The guard decides object by object (its kind, and whether the area covers it).
        let r = Resource::Object(object_ref(&row.tenant_id, &obj));
        if !dengbao_guard::authorize(&c.principal, Action::Read, &r, &rel, now).is_allow() {
            continue;
        }
        if !computed.contains_key(&row.tenant_id) {
            let o = app.tenants.obligations(app, &row.tenant_id, today).await?;
            computed.insert(row.tenant_id.clone(), o);
        }
        let o = &computed[&row.tenant_id];
        let inspection = o
            .items
            .iter()
            .find(|i| i.system_id == row.id && i.kind == "supervisory_inspection");
        let may_act =
            dengbao_guard::authorize(&c.principal, Action::Review, &r, &rel, now).is_allow();
        out.push(SupervisedObject {
            may_act,
            inspection_status: inspection.map(|i| i.status.clone()),
            inspection_due: inspection.and_then(|i| i.due.clone()),
            inspection_cite: inspection.map(|i| i.cite.clone()),
            violations: o.violations.iter().filter(|v| v.0 == row.id).count(),
            division: obj.division.as_ref().map(|d| d.as_str().to_owned()),
            secret_involved: obj.is_secret(),
            uses_cryptography: obj.uses_cryptography,
            grade: grade_str(row.grade),
            operator_id: row.tenant_id,
            operator,
            object_id: row.id,
            name: row.name,
        });
    }
    // Overdue inspections first.
    out.sort_by_key(|s| s.inspection_status.as_deref() != Some("overdue"));
    Ok(out)
}

/// The operator's object, after the guard allowed the supervisor's act on it.
async fn supervised(
    app: &App,
    c: &Caller,
    operator: &str,
    id: &str,
) -> AppResult<dengbao_core::model::GradingObject> {
    let found = if crate::dto::plausible_id(operator) && crate::dto::plausible_id(id) {
        app.store.system(operator, id).await
    } else {
        Err(StoreError::NotFound)
    };
    let row = match found {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            app.authorize(c, Action::Review, Resource::Organisation(c.org()))
                .await?;
            return Err(AppError::not_found());
        }
        Err(e) => return Err(e.into()),
    };
    let obj = object_of(&row)?;
    app.authorize(
        c,
        Action::Review,
        Resource::Object(object_ref(operator, &obj)),
    )
    .await?;
    Ok(obj)
}

async fn record(
    app: &App,
    c: &Caller,
    operator: &str,
    id: &str,
    ev: Event,
    action: &str,
) -> AppResult<crate::dto::EventView> {
    let now = app.clock.now_ms();
    let row = crate::reviews::event_row(c, id, &ev, now)?;
    app.store
        .add_event(operator, &row, None, &c.audit(action, id, now))
        .await?;
    app.tenants.invalidate(operator);
    Ok(crate::dto::EventView {
        id: row.id,
        event: serde_json::to_value(&ev).map_err(AppError::internal)?,
        recorded_at_ms: now,
        recorded_by: c.username().to_owned(),
    })
}

/// Records the supervisor's inspection of one object: a public security organ's
/// `inspection` (art. 18), a secrecy department's `secrecy_examination` (art. 33), a
/// cryptography administration's `cryptography_examination` (art. 39).
pub async fn inspect(
    app: &App,
    c: &Caller,
    operator: &str,
    id: &str,
    input: InspectionInput,
) -> AppResult<crate::dto::EventView> {
    supervised(app, c, operator, id).await?;
    let date: Date = input
        .date
        .parse()
        .map_err(|e: dengbao_core::ValueError| AppError::invalid("date", e.to_string()))?;
    if date > app.clock.today() {
        return Err(AppError::invalid(
            "date",
            "after today: record an inspection once it is done",
        ));
    }
    let kind = match c.principal.org_kind {
        OrgKind::PublicSecurity => EventType::Inspection,
        OrgKind::SecrecyDepartment => EventType::SecrecyExamination,
        _ => EventType::CryptographyExamination,
    };
    let mut ev = Event::new(date, kind);
    for (i, f) in input.findings.iter().enumerate() {
        if kind != EventType::Inspection {
            return Err(AppError::invalid(
                "findings",
                "the matters of art. 18 ¶2 are the public security organ's inspection",
            ));
        }
        let m: InspectionMatter = serde_json::from_value(serde_json::Value::String(f.clone()))
            .map_err(|_| {
                AppError::invalid(
                    format!("findings[{i}]"),
                    "one of the matters of Measures art. 18 ¶2: grade_correctness, management_system, self_inspection_results, evaluations_done, products_conform, rectification_status, filing_matches_reality, other",
                )
            })?;
        if !ev.findings.contains(&m) {
            ev.findings.push(m);
        }
    }
    if let Some(n) = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        check_free_text("note", n, 2000)?;
        ev.note = Some(n.to_owned());
    }
    record(app, c, operator, id, ev, "supervision.inspect").await
}

/// The public security organ's rectification notice to the operator, with its time limit.
pub async fn notify_rectification(
    app: &App,
    c: &Caller,
    operator: &str,
    id: &str,
    input: NoticeInput,
) -> AppResult<crate::dto::EventView> {
    supervised(app, c, operator, id).await?;
    if c.principal.org_kind != OrgKind::PublicSecurity {
        return Err(AppError::forbidden(
            "a rectification notice is the public security organ's (Measures art. 18, 40)",
        ));
    }
    let today = app.clock.today();
    let deadline: Date = input
        .deadline
        .parse()
        .map_err(|e: dengbao_core::ValueError| AppError::invalid("deadline", e.to_string()))?;
    if deadline <= today {
        return Err(AppError::invalid("deadline", "must be after today"));
    }
    let reasons = input.reasons.trim();
    if reasons.is_empty() {
        return Err(AppError::invalid(
            "reasons",
            "required: say what must be corrected",
        ));
    }
    check_free_text("reasons", reasons, 2000)?;
    let mut ev = Event::new(today, EventType::RectificationNotice);
    ev.deadline = Some(deadline);
    ev.note = Some(reasons.to_owned());
    record(app, c, operator, id, ev, "supervision.rectification_notice").await
}

/// The secrecy department's approval of a secret-involved system before it runs (Measures
/// art. 29 ¶2): the operator's `secrecy_approval` event, dated today.
pub async fn approve_secret_system(
    app: &App,
    c: &Caller,
    operator: &str,
    id: &str,
    note: Option<String>,
) -> AppResult<crate::dto::EventView> {
    supervised(app, c, operator, id).await?;
    if c.principal.org_kind != OrgKind::SecrecyDepartment {
        return Err(AppError::forbidden(
            "the secrecy department approves a secret-involved system before it runs (Measures art. 29 ¶2)",
        ));
    }
    let mut ev = Event::new(app.clock.today(), EventType::SecrecyApproval);
    if let Some(n) = note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        check_free_text("note", n, 2000)?;
        ev.note = Some(n.to_owned());
    }
    record(app, c, operator, id, ev, "supervision.secrecy_approval").await
}
