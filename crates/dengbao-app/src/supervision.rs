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
use crate::systems::object_ref;
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

/// A page of what the caller supervises.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupervisedPage {
    pub items: Vec<SupervisedObject>,
    pub total: usize,
    pub page: i64,
    pub per_page: i64,
}

/// The engine's obligation that is the caller's own periodic act: the organ's inspection
/// (art. 18), the secrecy department's examination (art. 33(6)), the cryptography
/// administration's (art. 39) — what its list plans and its dashboard counts.
fn examination_kind(kind: dengbao_guard::OrgKind) -> &'static str {
    match kind {
        dengbao_guard::OrgKind::SecrecyDepartment => "secrecy_examination",
        dengbao_guard::OrgKind::CryptographyAdministration => "cryptography_examination",
        _ => "supervisory_inspection",
    }
}

/// What the caller supervises, by operator and object, overdue inspections first; one page
/// of it (`per_page` up to 500). Objects come from the tenant cache, so a province's
/// 100,000 are not re-read and re-parsed from the store on every request.
pub async fn objects(
    app: &App,
    c: &Caller,
    page: Option<i64>,
    per_page: Option<i64>,
) -> AppResult<SupervisedPage> {
    let org = app.own(c, Action::Read).await?;
    let (limit, offset, page, per_page) = crate::dto::paging(page, per_page, 100, 500)?;
    let mut out = Vec::new();
    if c.principal.org_kind.supervises_area() {
        let rel = app.relations(&org).await?;
        let now = app.clock.now_ms();
        let today = app.clock.today();
        for (tenant, _) in app.store.operators_in_area(&org).await? {
            let data = app.tenants.data(app, &tenant).await?;
            let o = app.tenants.obligations(app, &tenant, today).await?;
            let operator = app.store.organisation(&tenant).await?.name;
            let inspections: HashMap<&str, &crate::dto::OrgObligation> = o
                .items
                .iter()
                .filter(|i| i.kind == examination_kind(c.principal.org_kind))
                .map(|i| (i.system_id.as_str(), i))
                .collect();
            let mut violations: HashMap<&str, usize> = HashMap::new();
            for (system, _, _) in &o.violations {
                *violations.entry(system.as_str()).or_default() += 1;
            }
            for obj in &data.inventory.systems {
                // The guard decides object by object (its kind, and whether the area covers
                // it).
                let r = Resource::Object(object_ref(&tenant, obj));
                if !dengbao_guard::authorize(&c.principal, Action::Read, &r, &rel, now).is_allow() {
                    continue;
                }
                let inspection = inspections.get(obj.id.as_str());
                out.push(SupervisedObject {
                    may_act: dengbao_guard::authorize(&c.principal, Action::Review, &r, &rel, now)
                        .is_allow(),
                    inspection_status: inspection.map(|i| i.status.clone()),
                    inspection_due: inspection.and_then(|i| i.due.clone()),
                    inspection_cite: inspection.map(|i| i.cite.clone()),
                    violations: violations.get(obj.id.as_str()).copied().unwrap_or(0),
                    division: obj.division.as_ref().map(|d| d.as_str().to_owned()),
                    secret_involved: obj.is_secret(),
                    uses_cryptography: obj.uses_cryptography,
                    grade: dengbao_core::grading::final_grade(&app.pack.grading, obj)
                        .map(|g| g.to_string())
                        .unwrap_or_default(),
                    operator_id: tenant.clone(),
                    operator: operator.clone(),
                    object_id: obj.id.clone(),
                    name: obj.name.clone(),
                });
            }
        }
    }
    // Overdue inspections first, then by operator and object (stable across pages).
    out.sort_by(|a, b| {
        (a.inspection_status.as_deref() != Some("overdue"))
            .cmp(&(b.inspection_status.as_deref() != Some("overdue")))
            .then_with(|| a.operator.cmp(&b.operator))
            .then_with(|| a.object_id.cmp(&b.object_id))
    });
    let total = out.len();
    let items = out
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    Ok(SupervisedPage {
        items,
        total,
        page,
        per_page,
    })
}

/// The operator's object, after the guard allowed the supervisor's act on it.
pub(crate) async fn supervised(
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
        Err(dengbao_store::StoreError::NotFound) => return app.absent(c, Action::Review).await,
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

/// One overdue obligation in the supervisor's area.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverdueItem {
    pub operator_id: String,
    pub operator: String,
    pub object_id: String,
    pub object_name: String,
    pub grade: String,
    pub kind: &'static str,
    pub title: String,
    /// Whose duty it is (`operator`, `public_security`, …).
    pub party: &'static str,
    pub due: Option<String>,
    pub cite: String,
}

/// The supervisor's area at a glance (Measures art. 18–20, 40).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub as_of: String,
    /// Operators with objects in the area, and the objects the caller supervises.
    pub operators: usize,
    pub systems: usize,
    /// Objects by grade, I–V.
    pub by_grade: [usize; 5],
    /// The filings routed to the caller, by status (a public security organ's).
    pub filings: std::collections::BTreeMap<String, usize>,
    /// Overdue obligations of the supervised objects, and the first of them by due date.
    pub overdue_total: usize,
    pub overdue: Vec<OverdueItem>,
    /// Supervisory inspections overdue (the caller's own duty, art. 18 ¶1).
    pub inspections_overdue: usize,
    /// Art. 40 violations, in all and by item 1–10.
    pub violations_total: usize,
    pub violations_by_item: [usize; 10],
}

/// One operator's share of a supervisor's dashboard, kept while the operator's computed
/// obligations are the same (`App::areas`).
#[derive(Debug, Default)]
pub struct Partial {
    systems: usize,
    by_grade: [usize; 5],
    /// How many are overdue, and the oldest of them (no more than the dashboard shows).
    overdue_total: usize,
    overdue: Vec<OverdueItem>,
    inspections_overdue: usize,
    violations_by_item: [usize; 10],
}

/// How many overdue items the dashboard lists.
const OVERDUE_SHOWN: usize = 50;

async fn partial(
    app: &App,
    c: &Caller,
    rel: &dengbao_guard::Relations,
    tenant: &str,
    today: Date,
) -> AppResult<std::sync::Arc<Partial>> {
    let computed = app.tenants.obligations(app, tenant, today).await?;
    let key = (c.org().to_owned(), tenant.to_owned());
    if let Some((seen, p)) = app.areas.get(&key)
        && std::sync::Arc::ptr_eq(&seen, &computed)
    {
        return Ok(p);
    }
    let data = app.tenants.data(app, tenant).await?;
    let operator = app.store.organisation(tenant).await?.name;
    let now = app.clock.now_ms();
    let mut p = Partial::default();
    let mut mine = std::collections::HashSet::new();
    for obj in &data.inventory.systems {
        let r = Resource::Object(object_ref(tenant, obj));
        if !dengbao_guard::authorize(&c.principal, Action::Read, &r, rel, now).is_allow() {
            continue;
        }
        mine.insert(obj.id.as_str());
        p.systems += 1;
        if let Some(g) = dengbao_core::grading::final_grade(&app.pack.grading, obj) {
            p.by_grade[usize::from(g.number()) - 1] += 1;
        }
    }
    for &i in computed.by_status.get("overdue").into_iter().flatten() {
        let Some(o) = computed.items.get(i as usize) else {
            continue;
        };
        if !mine.contains(o.system_id.as_str()) {
            continue;
        }
        if o.kind == examination_kind(c.principal.org_kind) {
            p.inspections_overdue += 1;
        }
        p.overdue.push(OverdueItem {
            operator_id: tenant.to_owned(),
            operator: operator.clone(),
            object_id: o.system_id.clone(),
            object_name: o.system_name.clone(),
            grade: o.grade.clone(),
            kind: o.kind,
            title: o.title.clone(),
            party: o.party,
            due: o.due.clone(),
            cite: o.cite.clone(),
        });
    }
    p.overdue_total = p.overdue.len();
    p.overdue.sort_by(|a, b| a.due.cmp(&b.due));
    p.overdue.truncate(OVERDUE_SHOWN);
    for (system, _, v) in &computed.violations {
        if mine.contains(system.as_str())
            && let Some(n) = p
                .violations_by_item
                .get_mut(usize::from(v.item).saturating_sub(1))
        {
            *n += 1;
        }
    }
    let p = std::sync::Arc::new(p);
    app.areas.put(key, (computed, p.clone()));
    Ok(p)
}

/// The supervisor's dashboard: its area's operators and objects by grade, the filings
/// routed to it by status, overdue obligations (oldest first) and art. 40 violations.
pub async fn dashboard(app: &App, c: &Caller) -> AppResult<Dashboard> {
    let org = app.own(c, Action::Read).await?;
    let today = app.clock.today();
    let mut d = Dashboard {
        as_of: today.to_string(),
        operators: 0,
        systems: 0,
        by_grade: [0; 5],
        filings: Default::default(),
        overdue_total: 0,
        overdue: Vec::new(),
        inspections_overdue: 0,
        violations_total: 0,
        violations_by_item: [0; 10],
    };
    if !c.principal.org_kind.supervises_area() {
        return Ok(d);
    }
    let rel = app.relations(&org).await?;
    for (tenant, _) in app.store.operators_in_area(&org).await? {
        let p = partial(app, c, &rel, &tenant, today).await?;
        if p.systems == 0 {
            continue;
        }
        d.operators += 1;
        d.systems += p.systems;
        for (a, b) in d.by_grade.iter_mut().zip(p.by_grade) {
            *a += b;
        }
        for (a, b) in d.violations_by_item.iter_mut().zip(p.violations_by_item) {
            *a += b;
        }
        d.inspections_overdue += p.inspections_overdue;
        d.overdue_total += p.overdue_total;
        d.overdue.extend(p.overdue.iter().cloned());
        // Keep only the oldest as we go: the list stays short however large the area.
        if d.overdue.len() > 4 * OVERDUE_SHOWN {
            d.overdue.sort_by(|a, b| a.due.cmp(&b.due));
            d.overdue.truncate(OVERDUE_SHOWN);
        }
    }
    d.overdue.sort_by(|a, b| a.due.cmp(&b.due));
    d.overdue.truncate(OVERDUE_SHOWN);
    d.violations_total = d.violations_by_item.iter().sum();
    if c.principal.org_kind == OrgKind::PublicSecurity {
        for (status, n) in app.store.review_counts(&org).await? {
            *d.filings.entry(status).or_default() += usize::try_from(n).unwrap_or(0);
        }
    }
    Ok(d)
}

/// The kinds of information of art. 19, in its order (item `n` is `ART19[n - 1]`).
pub const ART19: [&str; 9] = [
    "filing_changes",
    "organisation_changes",
    "management_changes",
    "operating_records",
    "inspection_records",
    "evaluation_report",
    "product_changes",
    "emergency_plan",
    "construction_reports",
];

/// A request for the information of art. 19.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InfoRequestInput {
    /// The kinds asked for: `filing_changes`, `organisation_changes`, `management_changes`,
    /// `operating_records`, `inspection_records`, `evaluation_report`, `product_changes`,
    /// `emergency_plan`, `construction_reports` (art. 19 items 1–9).
    pub kinds: Vec<String>,
    /// The answer's due date, YYYY-MM-DD, after today.
    pub due: String,
    /// What precisely is wanted (at most 2000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// The operator's answer.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InfoAnswerInput {
    /// The information, or where it is (1–4000 characters).
    pub answer: String,
    /// Kinds of the object's dossier materials given with the answer (at most 16); the
    /// organ reads each file as it was when answered.
    #[serde(default)]
    pub materials: Vec<String>,
}

/// A file an answer gives: one of the object's dossier materials, pinned by its hash.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnsweredFile {
    pub kind: String,
    pub title: String,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    /// Hex SHA-256 of the content; the file's name in `…/files/{sha256}`.
    pub sha256: String,
}

/// A request and its answer.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InfoRequestView {
    pub id: String,
    pub organ_id: String,
    pub organ: String,
    pub operator_id: String,
    pub operator: String,
    pub object_id: String,
    pub object_name: String,
    pub kinds: Vec<String>,
    /// `Measures art. 19(n)` for each kind.
    pub cites: Vec<String>,
    pub note: String,
    pub due: String,
    /// Open past its due date.
    pub overdue: bool,
    /// `open` or `answered`.
    pub status: String,
    pub answer: Option<String>,
    /// The dossier materials the answer gives.
    pub files: Vec<AnsweredFile>,
    pub answered_at_ms: Option<i64>,
    pub answered_by: Option<String>,
    pub requested_by: String,
}

fn answered_files(json: &Option<String>) -> Vec<AnsweredFile> {
    json.as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

fn info_view(app: &App, r: dengbao_store::InfoRequestRow) -> InfoRequestView {
    let kinds: Vec<String> = r
        .kinds
        .split(',')
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    let cites = kinds
        .iter()
        .filter_map(|k| ART19.iter().position(|a| a == k))
        .map(|i| format!("Measures art. 19({})", i + 1))
        .collect();
    InfoRequestView {
        overdue: r.status == "open" && r.due.parse::<Date>().is_ok_and(|d| app.clock.today() > d),
        kinds,
        cites,
        id: r.id,
        organ_id: r.organ_id,
        organ: r.organ_name,
        operator_id: r.tenant_id,
        operator: r.operator_name,
        object_id: r.object_id,
        object_name: r.object_name,
        note: r.note,
        due: r.due,
        status: r.status,
        answer: r.answer,
        files: answered_files(&r.answer_files),
        answered_at_ms: r.answered_at,
        answered_by: r.answered_by,
        requested_by: r.created_by,
    }
}

/// The supervisor asks the operator for information of art. 19 about one object.
pub async fn request_info(
    app: &App,
    c: &Caller,
    operator: &str,
    id: &str,
    input: InfoRequestInput,
) -> AppResult<InfoRequestView> {
    supervised(app, c, operator, id).await?;
    if input.kinds.is_empty() {
        return Err(AppError::invalid(
            "kinds",
            "name at least one kind of information (Measures art. 19)",
        ));
    }
    let mut kinds: Vec<&str> = Vec::new();
    for (i, k) in input.kinds.iter().enumerate() {
        let Some(known) = ART19.iter().find(|a| **a == k.as_str()) else {
            return Err(AppError::invalid(
                format!("kinds[{i}]"),
                format!("one of the kinds of Measures art. 19: {}", ART19.join(", ")),
            ));
        };
        if !kinds.contains(known) {
            kinds.push(known);
        }
    }
    let due: Date = input
        .due
        .parse()
        .map_err(|e: dengbao_core::ValueError| AppError::invalid("due", e.to_string()))?;
    if due <= app.clock.today() {
        return Err(AppError::invalid("due", "must be after today"));
    }
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_owned();
    if !note.is_empty() {
        check_free_text("note", &note, 2000)?;
    }
    let now = app.clock.now_ms();
    let row = dengbao_store::InfoRequestRow {
        id: dengbao_store::new_id(),
        organ_id: c.org().to_owned(),
        tenant_id: operator.to_owned(),
        object_id: id.to_owned(),
        kinds: kinds.join(","),
        note,
        due: due.to_string(),
        status: "open".into(),
        answer: None,
        answer_files: None,
        answered_at: None,
        answered_by: None,
        created_at: now,
        created_by: c.username().to_owned(),
        organ_name: String::new(),
        operator_name: String::new(),
        object_name: String::new(),
    };
    app.store
        .request_info(&row, &c.audit("supervision.info_request", id, now))
        .await?;
    info_request(app, c, &row.id).await
}

/// The requests the caller's organisation is a party to: a supervisor's own, an operator's
/// to answer. Open ones first.
pub async fn info_requests(app: &App, c: &Caller) -> AppResult<Vec<InfoRequestView>> {
    let org = app.own(c, Action::Read).await?;
    let supervisor = c.principal.org_kind.supervises_area();
    let mut out: Vec<InfoRequestView> = app
        .store
        .info_requests(&org)
        .await?
        .into_iter()
        .filter(|r| {
            if supervisor {
                r.organ_id == org
            } else {
                r.tenant_id == org
            }
        })
        .map(|r| info_view(app, r))
        .collect();
    out.sort_by_key(|r| r.status != "open");
    Ok(out)
}

async fn info_party(
    app: &App,
    c: &Caller,
    action: Action,
    id: &str,
) -> AppResult<dengbao_store::InfoRequestRow> {
    let found = if crate::dto::plausible_id(id) {
        app.store.info_request(c.org(), id).await
    } else {
        Err(StoreError::NotFound)
    };
    let r = match found {
        Ok(r) => r,
        Err(dengbao_store::StoreError::NotFound) => return app.absent(c, action).await,
        Err(e) => return Err(e.into()),
    };
    app.authorize(
        c,
        action,
        Resource::InfoRequest {
            operator: &r.tenant_id,
            organ: &r.organ_id,
        },
    )
    .await?;
    Ok(r)
}

pub async fn info_request(app: &App, c: &Caller, id: &str) -> AppResult<InfoRequestView> {
    Ok(info_view(app, info_party(app, c, Action::Read, id).await?))
}

/// The operator answers a request, once.
pub async fn answer_info(
    app: &App,
    c: &Caller,
    id: &str,
    input: InfoAnswerInput,
) -> AppResult<InfoRequestView> {
    let r = info_party(app, c, Action::Write, id).await?;
    let answer = input.answer.trim();
    if answer.is_empty() {
        return Err(AppError::invalid(
            "answer",
            "required: the information asked for",
        ));
    }
    check_free_text("answer", answer, 4000)?;
    if input.materials.len() > 16 {
        return Err(AppError::invalid("materials", "at most 16 files"));
    }
    let mut files: Vec<AnsweredFile> = Vec::new();
    if !input.materials.is_empty() {
        let held = app.store.materials(&r.tenant_id, &r.object_id).await?;
        for (i, kind) in input.materials.iter().enumerate() {
            let Some(m) = held.iter().find(|m| &m.kind == kind) else {
                return Err(AppError::invalid(
                    format!("materials[{i}]"),
                    format!(
                        "`{kind}` is not in the dossier of `{}`; upload it there first",
                        r.object_id
                    ),
                ));
            };
            if !files.iter().any(|f| f.kind == m.kind) {
                files.push(AnsweredFile {
                    kind: m.kind.clone(),
                    title: m.title.clone(),
                    file_name: m.file_name.clone(),
                    media_type: m.media_type.clone(),
                    size: m.size,
                    sha256: m.sha256.clone(),
                });
            }
        }
    }
    let files_json = if files.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&files).map_err(AppError::internal)?)
    };
    let now = app.clock.now_ms();
    app.store
        .answer_info(
            &r.tenant_id,
            id,
            (answer, files_json.as_deref()),
            &c.audit("supervision.info_answer", &r.object_id, now),
        )
        .await?;
    info_request(app, c, id).await
}

/// One file an answer gave, for either party to the request.
pub async fn info_file(
    app: &App,
    c: &Caller,
    id: &str,
    sha256: &str,
) -> AppResult<(AnsweredFile, Vec<u8>)> {
    let r = info_party(app, c, Action::Read, id).await?;
    let Some(f) = answered_files(&r.answer_files)
        .into_iter()
        .find(|f| f.sha256 == sha256)
    else {
        return Err(AppError::not_found());
    };
    let sealed = app.store.file_by_sha256(&r.tenant_id, &f.sha256).await?;
    let bytes = crate::systems::open_file(app, &r.tenant_id, &f.sha256, sealed).await?;
    Ok((f, bytes))
}
