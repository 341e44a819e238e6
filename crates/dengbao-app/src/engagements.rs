//! Evaluation engagements (Measures art. 14, 22, 23). The operator engages an evaluation
//! agency on the platform for one of its objects and a period, naming the registry entry
//! that describes the agency; its art. 22 eligibility is checked then. For an object at or
//! above the pack's grade for agency eligibility (III), an ineligible agency is refused
//! with the failing criteria — or engaged with the operator's recorded override, and then
//! the evaluation it records is art. 40(6) evidence in the engine, as any evaluation by an
//! ineligible agency is. While engaged (and only then) the agency sees the engagement and
//! its lead records the evaluation: the operator's `evaluation` event with the conformity
//! and the agency, and the report as the object's `evaluation_report` material.

use dengbao_core::Date;
use dengbao_core::eligibility::evaluate;
use dengbao_core::model::{Conformity, Event, EventType};
use dengbao_guard::{Action, OrgKind, Resource};
use dengbao_store::{EngagementFull, MaterialRow, StoreError, new_id};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dto::{check_free_text, check_text};
use crate::error::{AppError, AppResult};
use crate::systems::grade_str;
use crate::tenant::candidate_of;
use crate::{App, Caller, beijing_day_start_ms};

/// The longest engagement accepted, in days (a yearly evaluation plus its report).
const MAX_DAYS: i32 = 400;
/// The largest report accepted through the API.
pub const MAX_REPORT: usize = 20 << 20;

/// An evaluation agency on the platform.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgencyView {
    pub id: String,
    pub name: String,
}

/// Engaging an agency for one object.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EngageInput {
    /// The agency's organisation on the platform (`GET /api/v1/evaluation-agencies`).
    pub agency: String,
    /// Your registry entry for the agency (category `agency`), whose facts decide its
    /// eligibility (Measures art. 22).
    pub registry_id: String,
    /// First day, YYYY-MM-DD (default today).
    #[serde(default)]
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (at most 400 days after `from`).
    #[cfg_attr(feature = "openapi", schema(format = Date, pattern = "^(19|[2-9][0-9])[0-9]{2}-"))]
    pub until: String,
    /// Why you engage an agency that is not eligible (required then; the evaluation stays
    /// art. 40(6) evidence).
    #[serde(default)]
    pub override_reason: Option<String>,
}

/// A report file.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    pub file_name: String,
    pub media_type: String,
    /// Standard base64 with padding (RFC 4648 §4).
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
    )]
    pub content_base64: String,
}

/// The agency's evaluation.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EvaluationInput {
    /// YYYY-MM-DD, within the engagement and not after today.
    pub date: String,
    /// `conformant`, `basically_conformant` or `non_conformant`.
    pub conformity: String,
    /// The findings in short (at most 2000 characters).
    #[serde(default)]
    pub findings: Option<String>,
    /// The evaluation report, filed as the object's `evaluation_report` material.
    #[serde(default)]
    pub report: Option<ReportInput>,
}

/// One engagement.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EngagementView {
    pub id: String,
    pub agency: String,
    pub agency_id: String,
    pub operator: String,
    pub operator_id: String,
    pub object_id: String,
    pub object_name: String,
    /// First and last day (Beijing).
    pub from: String,
    pub until: String,
    /// The window includes now.
    pub active: bool,
    pub registry_id: String,
    /// Every art. 22 criterion was met at engagement.
    pub eligible: bool,
    /// The criteria not met or unknown then.
    pub not_met: Vec<String>,
    pub override_reason: Option<String>,
    pub evaluated_on: Option<String>,
    pub conformity: Option<String>,
    pub created_by: String,
    /// The caller may record the evaluation now.
    pub may_evaluate: bool,
    pub cite: String,
}

fn resource(e: &EngagementFull) -> Resource<'_> {
    Resource::Engagement {
        operator: &e.operator_id,
        agency: &e.agency_id,
        from_ms: e.starts_at,
        until_ms: e.ends_at,
    }
}

/// The day that ends (exclusive) at `ms`, i.e. the window's last day.
fn last_day(ms: i64) -> Date {
    Date::from_unix_seconds((ms - 1).div_euclid(1000), crate::BEIJING_OFFSET_S)
}

fn view(app: &App, c: &Caller, e: EngagementFull) -> EngagementView {
    let now = app.clock.now_ms();
    // The guard's engagement rule reads only the resource; asked without recording a probe.
    let may_evaluate = e.evaluated_on.is_none()
        && dengbao_guard::authorize(
            &c.principal,
            Action::Review,
            &resource(&e),
            &dengbao_guard::Relations::default(),
            now,
        )
        .is_allow();
    EngagementView {
        from: Date::from_unix_seconds(e.starts_at.div_euclid(1000), crate::BEIJING_OFFSET_S)
            .to_string(),
        until: last_day(e.ends_at).to_string(),
        active: e.starts_at <= now && now < e.ends_at,
        not_met: e
            .not_met
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        cite: app.pack.eligibility.evaluation_agency.cite.clone(),
        may_evaluate,
        id: e.id,
        agency: e.agency_name,
        agency_id: e.agency_id,
        operator: e.operator_name,
        operator_id: e.operator_id,
        object_id: e.object_id,
        object_name: e.object_name,
        registry_id: e.registry_id,
        eligible: e.eligible,
        override_reason: e.override_reason,
        evaluated_on: e.evaluated_on,
        conformity: e.conformity,
        created_by: e.created_by,
    }
}

fn date(field: &str, s: &str) -> AppResult<Date> {
    s.parse()
        .map_err(|e: dengbao_core::ValueError| AppError::invalid(field, e.to_string()))
}

/// The evaluation agencies on the platform (a public directory).
pub async fn agencies(app: &App, c: &Caller) -> AppResult<Vec<AgencyView>> {
    app.own(c, Action::Read).await?;
    Ok(app
        .store
        .organisations_of_kind(OrgKind::EvaluationAgency.as_str())
        .await?
        .into_iter()
        .map(|(id, name)| AgencyView { id, name })
        .collect())
}

/// Engages an agency for one of the caller's objects, checking its eligibility (art. 22).
pub async fn engage(
    app: &App,
    c: &Caller,
    object: &str,
    input: EngageInput,
) -> AppResult<EngagementView> {
    let (org, row, _) = crate::systems::authorized_row(app, c, Action::Write, object).await?;
    let today = app.clock.today();
    let from = match &input.from {
        Some(f) => date("from", f)?,
        None => today,
    };
    let until = date("until", &input.until)?;
    if until < from {
        return Err(AppError::invalid("until", "before `from`"));
    }
    if until.days_since_epoch() - from.days_since_epoch() > MAX_DAYS {
        return Err(AppError::invalid(
            "until",
            format!("at most {MAX_DAYS} days after `from`: engage again for the next evaluation"),
        ));
    }
    if until < today {
        return Err(AppError::invalid("until", "in the past"));
    }
    let agencies = app
        .store
        .organisations_of_kind(OrgKind::EvaluationAgency.as_str())
        .await?;
    if !agencies.iter().any(|(id, _)| *id == input.agency) {
        return Err(AppError::state(
            "agency",
            "not an evaluation agency on the platform (GET /api/v1/evaluation-agencies)",
        ));
    }
    let entry = match app
        .store
        .candidate(&org, "agency", &input.registry_id)
        .await
    {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            return Err(AppError::state(
                "registry_id",
                "no such entry in your registry of evaluation agencies: add the agency's facts there first",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let rules = &app.pack.eligibility.evaluation_agency;
    let cand = candidate_of(&entry)?;
    let elig = evaluate(rules, &cand);
    let failing: Vec<String> = elig
        .not_met()
        .chain(elig.unknown())
        .map(|c| c.id.to_owned())
        .collect();
    let needs = row.grade >= i64::from(rules.min_grade.number());
    let override_reason = match input.override_reason.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(r) => {
            check_free_text("override_reason", r, 2000)?;
            Some(r.to_owned())
        }
    };
    if needs && !elig.eligible && override_reason.is_none() {
        let detail = elig
            .not_met()
            .map(|c| format!("{} ({}) not met", c.text, c.cite))
            .chain(
                elig.unknown()
                    .map(|c| format!("{} ({}) unknown", c.text, c.cite)),
            )
            .collect::<Vec<_>>()
            .join("; ");
        return Err(AppError::state(
            "registry_id",
            format!(
                "`{}` is not eligible to evaluate a Grade {} object ({}): {detail}. Engage an eligible agency, or give override_reason — the evaluation will then be art. 40(6) evidence",
                entry.id,
                grade_str(row.grade),
                rules.cite
            ),
        ));
    }
    if override_reason.is_some() && (elig.eligible || !needs) {
        return Err(AppError::invalid(
            "override_reason",
            "only for an agency that is not eligible for this object's grade",
        ));
    }
    let now = app.clock.now_ms();
    let e = EngagementFull {
        id: new_id(),
        agency_id: input.agency,
        operator_id: org.clone(),
        object_id: object.to_owned(),
        starts_at: beijing_day_start_ms(from),
        ends_at: beijing_day_start_ms(until.add_days(1)),
        created_at: now,
        created_by: c.username().to_owned(),
        registry_id: entry.id,
        eligible: elig.eligible,
        not_met: failing.join(","),
        override_reason,
        evaluated_on: None,
        conformity: None,
        agency_name: String::new(),
        operator_name: String::new(),
        object_name: String::new(),
    };
    let action = if e.override_reason.is_some() {
        "engagement.create_override"
    } else {
        "engagement.create"
    };
    app.store.engage(&e, &c.audit(action, object, now)).await?;
    get(app, c, &e.id).await
}

/// The engagements the caller's organisation is a party to: an operator's all, an agency's
/// only while engaged.
pub async fn list(app: &App, c: &Caller) -> AppResult<Vec<EngagementView>> {
    let org = app.own(c, Action::Read).await?;
    let now = app.clock.now_ms();
    let agency = c.principal.org_kind == OrgKind::EvaluationAgency;
    Ok(app
        .store
        .engagements(&org)
        .await?
        .into_iter()
        .filter(|e| {
            if agency {
                e.agency_id == org && e.starts_at <= now && now < e.ends_at
            } else {
                e.operator_id == org
            }
        })
        .map(|e| view(app, c, e))
        .collect())
}

/// One engagement the caller's organisation is a party to, after the guard allowed `action`.
async fn party(app: &App, c: &Caller, action: Action, id: &str) -> AppResult<EngagementFull> {
    let found = if crate::dto::plausible_id(id) {
        app.store.engagement(c.org(), id).await
    } else {
        Err(StoreError::NotFound)
    };
    let e = match found {
        Ok(e) => e,
        Err(dengbao_store::StoreError::NotFound) => return app.absent(c, action).await,
        Err(e) => return Err(e.into()),
    };
    app.authorize(c, action, resource(&e)).await?;
    Ok(e)
}

pub async fn get(app: &App, c: &Caller, id: &str) -> AppResult<EngagementView> {
    Ok(view(app, c, party(app, c, Action::Read, id).await?))
}

/// A report file as received.
pub struct ReportFile {
    pub file_name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// [`record`] with the report in base64 (the API's form).
pub async fn evaluate_object(
    app: &App,
    c: &Caller,
    id: &str,
    mut input: EvaluationInput,
) -> AppResult<EngagementView> {
    let report = match input.report.take() {
        None => None,
        Some(r) => {
            let bytes = crate::dto::decode_base64("report.content_base64", &r.content_base64)?;
            Some(ReportFile {
                file_name: r.file_name,
                media_type: r.media_type,
                bytes,
            })
        }
    };
    record(app, c, id, input, report).await
}

/// The engaged agency records its evaluation, once: the operator's `evaluation` event (with
/// the agency's registry entry, so the engine judges its eligibility) and the report.
/// `input.report` is ignored: the file comes as `report`.
pub async fn record(
    app: &App,
    c: &Caller,
    id: &str,
    input: EvaluationInput,
    report: Option<ReportFile>,
) -> AppResult<EngagementView> {
    let e = party(app, c, Action::Review, id).await?;
    let on = date("date", &input.date)?;
    let today = app.clock.today();
    let from = Date::from_unix_seconds(e.starts_at.div_euclid(1000), crate::BEIJING_OFFSET_S);
    if on > today {
        return Err(AppError::invalid(
            "date",
            "after today: record an evaluation once it is done",
        ));
    }
    if on < from {
        return Err(AppError::invalid(
            "date",
            format!("before the engagement began ({from})"),
        ));
    }
    let conformity: Conformity = input.conformity.parse().map_err(|_| {
        AppError::invalid(
            "conformity",
            "`conformant`, `basically_conformant` or `non_conformant` (GB/T 28448)",
        )
    })?;
    let findings = match input.findings.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(f) => {
            check_free_text("findings", f, 2000)?;
            Some(f.to_owned())
        }
    };
    if e.evaluated_on.is_some() {
        return Err(AppError::conflict(
            "the evaluation of this engagement is already recorded",
        ));
    }
    let now = app.clock.now_ms();
    let report = match report {
        None => None,
        Some(r) => {
            check_text("report.file_name", &r.file_name, 255)?;
            check_text("report.media_type", &r.media_type, 100)?;
            if r.bytes.is_empty() || r.bytes.len() > MAX_REPORT {
                return Err(AppError::invalid(
                    "report.content_base64",
                    "1 byte to 20 MiB",
                ));
            }
            let sha = dengbao_ledger::to_hex(&Sha256::digest(&r.bytes));
            let sealed =
                crate::systems::seal_file(app, &e.operator_id, &sha, &r.bytes, now).await?;
            let m = MaterialRow {
                object_id: e.object_id.clone(),
                kind: "evaluation_report".to_owned(),
                title: format!("测评报告 Evaluation report — {} ({on})", e.agency_name),
                file_name: r.file_name,
                media_type: r.media_type,
                size: r.bytes.len() as i64,
                sha256: sha,
                uploaded_at: now,
                uploaded_by: c.username().to_owned(),
            };
            Some((m, sealed))
        }
    };
    let mut ev = Event::new(on, EventType::Evaluation);
    ev.conformity = Some(conformity);
    ev.agency = Some(e.registry_id.clone());
    ev.note = findings;
    let row = crate::reviews::event_row(c, &e.object_id, &ev, now)?;
    app.store
        .record_evaluation(
            &e,
            &on.to_string(),
            conformity.as_str(),
            &row,
            report.as_ref().map(|(m, s)| (m, s.as_slice())),
            &c.audit("evaluation.record", &e.object_id, now),
        )
        .await?;
    app.tenants.invalidate(&e.operator_id);
    get(app, c, id).await
}
