//! The operator's work on grading objects: inventory, grading, events, obligations, the
//! filing dossier and the products in use.

use std::sync::Arc;

use dengbao_core::Date;
use dengbao_core::assess::{SystemReport, assess};
use dengbao_core::dossier::{DossierFacts, dossier};
use dengbao_core::grading::final_grade;
use dengbao_core::model::{
    Candidate, Event, EventType, GradingObject, Inventory, ObjectKind, SecretInvolvement,
};
use dengbao_core::pack::MaterialKind;
use dengbao_guard::{Action, ObjectRef, Resource};
use dengbao_store::{
    EventRow, FilingRow, MaterialRow, StoreError, SystemFilter, SystemRow, new_id,
};
use serde::Serialize;

use crate::dto::*;
use crate::error::{AppError, AppResult, from_core};
pub use crate::grading::Graded;
use crate::tenant::{Computed, TenantData, candidate_of, object_of};
use crate::{App, Caller};

/// `YYYY-MM-DD`, or today in Asia/Shanghai.
pub fn as_of(app: &App, field: &str, s: Option<&str>) -> AppResult<Date> {
    match s {
        None => Ok(app.clock.today()),
        Some(s) => s
            .parse()
            .map_err(|e: dengbao_core::ValueError| AppError::invalid(field, e.to_string())),
    }
}

pub fn grade_str(g: i64) -> String {
    ["?", "I", "II", "III", "IV", "V"]
        .get(g as usize)
        .copied()
        .unwrap_or("?")
        .to_owned()
}

pub fn kind_str(k: ObjectKind) -> AppResult<String> {
    Ok(k.as_str().to_owned())
}

/// Validates one grading object (and optionally one new event) with the core rules; the
/// field in an error is relative to the request body.
fn validate(
    app: &App,
    mut obj: GradingObject,
    agencies: Vec<Candidate>,
    strip: &str,
) -> AppResult<GradingObject> {
    // The parent of a branch is another stored object: [`check_branch`] looks it up; the
    // core checks one object alone, without it.
    let branch_of = obj.branch_of.take();
    let mut inv = Inventory {
        agencies,
        systems: vec![obj],
        ..Inventory::default()
    };
    inv.validate(app.pack, "request")
        .map_err(|e| from_core(e, strip))?;
    let mut obj = inv
        .systems
        .pop()
        .ok_or_else(|| AppError::internal("validated inventory lost its system"))?;
    obj.branch_of = branch_of;
    Ok(obj)
}

/// A branch's parent, when it is one of the organisation's own objects, is trans-provincial
/// or nationwide (Measures art. 15 ¶3); a parent not stored here is another operator's (a
/// head office's nationwide system).
async fn check_branch(app: &App, org: &str, obj: &GradingObject) -> AppResult<()> {
    let Some(b) = &obj.branch_of else {
        return Ok(());
    };
    if b == &obj.id {
        return Err(AppError::invalid(
            "branch_of",
            "a system cannot be a branch of itself",
        ));
    }
    let parent = match plausible_id(b) {
        true => app.store.system(org, b).await.ok(),
        false => None,
    };
    let Some(parent) = parent else {
        return Ok(());
    };
    if object_of(&parent)?.network_scope == dengbao_core::model::NetworkScope::Local {
        return Err(AppError::invalid(
            "branch_of",
            format!(
                "`{b}` runs on a local network; branches belong to trans-provincial or nationwide systems (Measures art. 15 ¶3)"
            ),
        ));
    }
    Ok(())
}

/// A grading object as the guard sees it.
pub fn object_ref<'a>(org: &'a str, obj: &'a GradingObject) -> ObjectRef<'a> {
    ObjectRef {
        org,
        id: &obj.id,
        division: obj.division.as_ref().map(|d| d.as_str()),
        secret_involved: obj.is_secret(),
        uses_cryptography: obj.uses_cryptography,
    }
}

/// Reads one stored object after the guard allowed the caller to `action` it.
pub(crate) async fn authorized_row(
    app: &App,
    c: &Caller,
    action: Action,
    id: &str,
) -> AppResult<(String, SystemRow, GradingObject)> {
    // The caller's own organisation first; the guard decides with the object's facts.
    if !plausible_id(id) {
        // Nothing can have this id: absent, without asking the database.
        app.authorize(c, action, Resource::Organisation(c.org()))
            .await?;
        return Err(AppError::not_found());
    }
    let row = match app.store.system(c.org(), id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            // Not in the caller's organisation: still ask the guard (a denial of a write is a
            // security event), then answer absent.
            app.authorize(c, action, Resource::Organisation(c.org()))
                .await?;
            return Err(AppError::not_found());
        }
        Err(e) => return Err(e.into()),
    };
    let obj = object_of(&row)?;
    let scope = app
        .authorize(
            c,
            action,
            Resource::Object(object_ref(&row.tenant_id, &obj)),
        )
        .await?;
    let org = scope.org().unwrap_or(c.org()).to_owned();
    Ok((org, row, obj))
}

fn view(app: &App, row: &SystemRow, obj: &GradingObject) -> AppResult<SystemView> {
    Ok(SystemView {
        id: row.id.clone(),
        name: row.name.clone(),
        kind: row.kind.clone(),
        grade: grade_str(row.grade),
        version: row.version,
        facts: SystemFacts::of(obj),
        grading: Graded::new(app, obj),
        created_at_ms: row.created_at,
        updated_at_ms: row.updated_at,
    })
}

fn done(app: &App, org: &str) {
    app.tenants.invalidate(org);
}

// ----- grading objects -------------------------------------------------------------------

/// Which objects to list, and which page.
#[derive(Clone, Debug, Default)]
pub struct ListSystems {
    /// I–V.
    pub grade: Option<String>,
    pub kind: Option<String>,
    /// Substring of the id or name.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

pub async fn list_systems(app: &App, c: &Caller, q: ListSystems) -> AppResult<SystemPage> {
    let org = app.own(c, Action::Read).await?;
    let (limit, offset, page, per_page) = paging(q.page, q.per_page, 50, 200)?;
    let grade = match &q.grade {
        None => None,
        Some(g) => Some(i64::from(
            g.parse::<dengbao_core::Grade>()
                .map_err(|e| AppError::invalid("grade", e.to_string()))?
                .number(),
        )),
    };
    if q.q.as_ref().is_some_and(|s| s.chars().count() > MAX_NAME) {
        return Err(AppError::invalid("q", "too long"));
    }
    if let Some(search) = &q.q {
        check_free_text("q", search, MAX_NAME)?;
    }
    if let Some(kind) = &q.kind {
        kind.parse::<ObjectKind>().map_err(|_| {
            AppError::invalid(
                "kind",
                "an object kind (`information_system`, `cloud_tenant`, …)",
            )
        })?;
    }
    let f = SystemFilter {
        grade,
        kind: q.kind,
        search: q.q,
        limit,
        offset,
    };
    let (rows, total) = app.store.systems(&org, &f).await?;
    let items = rows
        .into_iter()
        .map(|r| SystemSummary {
            id: r.id,
            name: r.name,
            kind: r.kind,
            grade: grade_str(r.grade),
            version: r.version,
            updated_at_ms: r.updated_at,
        })
        .collect();
    Ok(SystemPage {
        items,
        total,
        page,
        per_page,
    })
}

pub async fn create_system(app: &App, c: &Caller, input: SystemInput) -> AppResult<SystemView> {
    let org = app.own(c, Action::Write).await?;
    input.check()?;
    if input.version.is_some() {
        return Err(AppError::invalid("version", "not used when creating"));
    }
    let obj = validate(
        app,
        input
            .facts()
            .into_object(input.id.clone(), input.name.clone(), input.kind),
        Vec::new(),
        "systems[0].",
    )?;
    check_branch(app, &org, &obj).await?;
    let grade = final_grade(&app.pack.grading, &obj)
        .ok_or_else(|| AppError::invalid("assessment", "cannot be graded"))?;
    let now = app.clock.now_ms();
    let row = SystemRow {
        tenant_id: org.clone(),
        id: obj.id.clone(),
        name: obj.name.clone(),
        kind: kind_str(obj.kind)?,
        grade: i64::from(grade.number()),
        facts: serde_json::to_string(&SystemFacts::of(&obj)).map_err(AppError::internal)?,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    app.store
        .insert_system(&row, &c.audit("system.create", &row.id, now))
        .await?;
    done(app, &org);
    view(app, &row, &obj)
}

pub async fn get_system(app: &App, c: &Caller, id: &str) -> AppResult<SystemView> {
    let (_, row, obj) = authorized_row(app, c, Action::Read, id).await?;
    view(app, &row, &obj)
}

/// The stored object with its facts, for the pages that edit it.
pub async fn system_object(
    app: &App,
    c: &Caller,
    id: &str,
) -> AppResult<(SystemRow, GradingObject)> {
    let (_, row, obj) = authorized_row(app, c, Action::Read, id).await?;
    Ok((row, obj))
}

pub async fn update_system(
    app: &App,
    c: &Caller,
    id: &str,
    input: SystemInput,
) -> AppResult<SystemView> {
    let (org, _, _) = authorized_row(app, c, Action::Write, id).await?;
    input.check()?;
    if input.id != id {
        return Err(AppError::invalid("id", "must match the id in the path"));
    }
    let version = input
        .version
        .ok_or_else(|| AppError::invalid("version", "required: the version you read"))?;
    let obj = validate(
        app,
        input
            .facts()
            .into_object(input.id.clone(), input.name.clone(), input.kind),
        Vec::new(),
        "systems[0].",
    )?;
    check_branch(app, &org, &obj).await?;
    let grade = final_grade(&app.pack.grading, &obj)
        .ok_or_else(|| AppError::invalid("assessment", "cannot be graded"))?;
    let facts = serde_json::to_string(&SystemFacts::of(&obj)).map_err(AppError::internal)?;
    let now = app.clock.now_ms();
    app.store
        .update_system(
            &SystemRow {
                tenant_id: org.clone(),
                id: id.to_owned(),
                name: obj.name.clone(),
                kind: kind_str(obj.kind)?,
                grade: i64::from(grade.number()),
                facts,
                version,
                created_at: now,
                updated_at: now,
            },
            version,
            &c.audit("system.update", id, now),
        )
        .await?;
    done(app, &org);
    let row = app.store.system(&org, id).await?;
    let obj = object_of(&row)?;
    view(app, &row, &obj)
}

pub async fn delete_system(app: &App, c: &Caller, id: &str, version: i64) -> AppResult<()> {
    let (org, _, _) = authorized_row(app, c, Action::Write, id).await?;
    let now = app.clock.now_ms();
    app.store
        .delete_system(&org, id, version, &c.audit("system.delete", id, now))
        .await?;
    done(app, &org);
    Ok(())
}

/// Grades an object (records `grade_determined`, Measures art. 10) and answers it re-read.
pub async fn grade(app: &App, c: &Caller, id: &str, req: GradingRequest) -> AppResult<SystemView> {
    let (org, _, mut obj) = authorized_row(app, c, Action::Write, id).await?;
    obj.assessment = req.assessment;
    if let Some(degree) = req.secret_degree {
        obj.secret = Some(SecretInvolvement {
            degree,
            important: obj.secret.is_some_and(|s| s.important),
        });
    }
    let obj = validate(app, obj, Vec::new(), "systems[0].")?;
    let g = final_grade(&app.pack.grading, &obj)
        .ok_or_else(|| AppError::invalid("assessment", "cannot be graded"))?;
    let date = as_of(app, "date", req.date.as_deref())?;
    let mut ev = Event::new(date, EventType::GradeDetermined);
    ev.grade = Some(g);
    let now = app.clock.now_ms();
    let er = EventRow {
        id: new_id(),
        object_id: id.to_owned(),
        date: date.to_string(),
        kind: "grade_determined".into(),
        payload: serde_json::to_string(&ev).map_err(AppError::internal)?,
        recorded_at: now,
        recorded_by: c.username().to_owned(),
    };
    let facts = serde_json::to_string(&SystemFacts::of(&obj)).map_err(AppError::internal)?;
    app.store
        .add_event(
            &org,
            &er,
            Some((req.version, i64::from(g.number()), &facts)),
            &c.audit("system.grade", id, now),
        )
        .await?;
    done(app, &org);
    let row = app.store.system(&org, id).await?;
    let obj = object_of(&row)?;
    view(app, &row, &obj)
}

/// The grading of facts not yet saved (the wizard's live result).
pub async fn preview(app: &App, c: &Caller, req: GradingPreview) -> AppResult<Graded> {
    app.own(c, Action::Read).await?;
    let mut obj = SystemFacts {
        assessment: req.assessment,
        network_scope: req.network_scope.unwrap_or_default(),
        ..SystemFacts::default()
    }
    .into_object(
        "preview".into(),
        "preview".into(),
        ObjectKind::InformationSystem,
    );
    obj.secret = req.secret_degree.map(|degree| SecretInvolvement {
        degree,
        important: false,
    });
    obj.department_in_charge = req
        .has_department_in_charge
        .then(|| "department".to_owned());
    let obj = validate(app, obj, Vec::new(), "systems[0].")?;
    Ok(Graded::new(app, &obj))
}

// ----- events ------------------------------------------------------------------------------

pub async fn list_events(app: &App, c: &Caller, id: &str) -> AppResult<Vec<EventView>> {
    let (org, _, _) = authorized_row(app, c, Action::Read, id).await?;
    app.store
        .events(&org, id)
        .await?
        .into_iter()
        .map(|e| {
            Ok(EventView {
                id: e.id,
                event: serde_json::from_str(&e.payload).map_err(AppError::internal)?,
                recorded_at_ms: e.recorded_at,
                recorded_by: e.recorded_by,
            })
        })
        .collect()
}

/// Records a regulatory event (evaluation, notice, certificate, …) on an object. The body
/// is parsed here so that a field error names the event's own field.
pub async fn record_event(
    app: &App,
    c: &Caller,
    id: &str,
    body: serde_json::Value,
) -> AppResult<EventView> {
    let (org, _, mut obj) = authorized_row(app, c, Action::Write, id).await?;
    let ev: Event = serde_path_to_error_free(body)?;
    // The organ's own acts on a filing it reviews on the platform come only from the organ
    // (its receipt, certificate or notice); the operator records them only for a filing
    // made outside the platform, from the paper it received.
    if matches!(
        ev.kind,
        EventType::FilingReceived
            | EventType::CertificateIssued
            | EventType::CorrectionNotice
            | EventType::RegradeNotice
    ) && app
        .store
        .filings(&org, id)
        .await?
        .last()
        .is_some_and(|f| f.organ_id.is_some())
    {
        return Err(AppError::invalid(
            "type",
            "the filing is reviewed on the platform: the public security organ records its own acts (Measures art. 17)",
        ));
    }
    obj.events = vec![ev.clone()];
    let agencies = app
        .store
        .candidates(&org, Some("agency"))
        .await?
        .iter()
        .map(candidate_of)
        .collect::<AppResult<Vec<_>>>()?;
    validate(app, obj, agencies, "systems[0].events[0].")?;
    if let Some(note) = &ev.note {
        check_free_text("note", note, 2000)?;
    }
    // A recorded event has happened; a time limit it sets is its `deadline`.
    if ev.date > app.clock.today().add_days(1) {
        return Err(AppError::invalid(
            "date",
            "after today: an event is recorded once it has happened",
        ));
    }
    let now = app.clock.now_ms();
    let payload = serde_json::to_string(&ev).map_err(AppError::internal)?;
    let er = EventRow {
        id: new_id(),
        object_id: id.to_owned(),
        date: ev.date.to_string(),
        kind: ev.kind.as_str().to_owned(),
        payload,
        recorded_at: now,
        recorded_by: c.username().to_owned(),
    };
    app.store
        .add_event(&org, &er, None, &c.audit("event.add", id, now))
        .await?;
    done(app, &org);
    Ok(EventView {
        id: er.id,
        event: serde_json::to_value(&ev).map_err(AppError::internal)?,
        recorded_at_ms: now,
        recorded_by: c.username().to_owned(),
    })
}

/// Deserializes with the path of the failing field.
fn serde_path_to_error_free<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> AppResult<T> {
    serde_path_to_error::deserialize(v)
        .map_err(|e| AppError::invalid(e.path().to_string(), e.inner().to_string()))
}

// ----- obligations -------------------------------------------------------------------------

/// One object's whole assessment on a date (the `assess` contract for one system, with
/// `as_of` and `rules`). Owns what the report borrows; the report is made when serialized.
pub struct SystemAssessment {
    inventory: Inventory,
    pack: &'static dengbao_core::RulePack,
    calendar: Arc<dengbao_core::HolidayCalendar>,
    pub as_of: Date,
}

impl SystemAssessment {
    pub fn report(&self) -> AppResult<SystemReport<'_>> {
        assess(&self.inventory, self.pack, &self.calendar, self.as_of)
            .systems
            .into_iter()
            .next()
            .ok_or_else(AppError::not_found)
    }
}

impl Serialize for SystemAssessment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            report: SystemReport<'a>,
            as_of: String,
            rules: &'a str,
        }
        let report = self.report().map_err(serde::ser::Error::custom)?;
        Out {
            report,
            as_of: self.as_of.to_string(),
            rules: &self.pack.id,
        }
        .serialize(s)
    }
}

/// Grade, obligations, dossier, eligibility and violations of one system on `as_of`.
pub async fn system_obligations(
    app: &App,
    c: &Caller,
    id: &str,
    as_of_date: Option<&str>,
) -> AppResult<SystemAssessment> {
    let (org, _, _) = authorized_row(app, c, Action::Read, id).await?;
    let as_of = as_of(app, "as_of", as_of_date)?;
    let data = app.tenants.data(app, &org).await?;
    let inv = &data.inventory;
    let obj = inv
        .systems
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(AppError::not_found)?;
    Ok(SystemAssessment {
        inventory: Inventory {
            systems: vec![obj.clone()],
            products: inv.products.clone(),
            agencies: inv.agencies.clone(),
            crypto_products: inv.crypto_products.clone(),
            organisation: None,
        },
        pack: app.pack,
        calendar: app.calendar.clone(),
        as_of,
    })
}

/// Which obligations of the organisation, and which page.
#[derive(Clone, Debug, Default)]
pub struct ListObligations {
    pub as_of: Option<String>,
    /// `overdue`, `due_soon`, `upcoming`, `met`.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

pub async fn org_obligations(
    app: &App,
    c: &Caller,
    q: ListObligations,
) -> AppResult<ObligationPage> {
    let as_of = as_of(app, "as_of", q.as_of.as_deref())?;
    let (limit, offset, page, per_page) = paging(q.page, q.per_page, 100, 500)?;
    let computed = organisation(app, c, as_of).await?;
    let (total, items): (usize, Vec<OrgObligation>) = match &q.status {
        None => (
            computed.items.len(),
            computed
                .items
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .cloned()
                .collect(),
        ),
        Some(s) => {
            if !["overdue", "due_soon", "upcoming", "met"].contains(&s.as_str()) {
                return Err(AppError::invalid(
                    "status",
                    "overdue, due_soon, upcoming or met",
                ));
            }
            let idx = computed
                .by_status
                .get(s.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            (
                idx.len(),
                idx.iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .map(|i| computed.items[*i as usize].clone())
                    .collect(),
            )
        }
    };
    Ok(ObligationPage {
        as_of: as_of.to_string(),
        counts: computed.counts.clone(),
        items,
        total,
        page,
        per_page,
    })
}

/// The organisation's assessment on `as_of` (obligations, violations, grade counts),
/// computed once per data version and date.
pub async fn organisation(app: &App, c: &Caller, as_of: Date) -> AppResult<Arc<Computed>> {
    let org = app.own(c, Action::Read).await?;
    app.tenants.obligations(app, &org, as_of).await
}

/// The organisation's whole inventory as the core sees it.
pub async fn inventory(app: &App, c: &Caller) -> AppResult<Arc<TenantData>> {
    let org = app.own(c, Action::Read).await?;
    app.tenants.data(app, &org).await
}

// ----- dossier and filing ------------------------------------------------------------------

fn material_kind(s: &str) -> AppResult<MaterialKind> {
    s.parse().map_err(|_| {
        AppError::invalid(
            "kind",
            format!(
                "`{s}` is not a dossier material; one of: {}",
                MaterialKind::ALL.map(|k| k.as_str()).join(", ")
            ),
        )
    })
}

/// The art. 16 state of a stored object's dossier.
pub(crate) fn dossier_of(
    app: &App,
    obj: &GradingObject,
    materials: &[MaterialRow],
) -> AppResult<DossierSummary> {
    let kinds: Vec<MaterialKind> = materials
        .iter()
        .map(|m| material_kind(&m.kind))
        .collect::<AppResult<_>>()?;
    let grade = final_grade(&app.pack.grading, obj)
        .ok_or_else(|| AppError::internal("stored system cannot be graded"))?;
    let d = dossier(
        app.pack,
        DossierFacts {
            grade,
            has_department_in_charge: obj.department_in_charge.is_some(),
            secret_involved: obj.is_secret(),
        },
        &kinds,
    );
    Ok(DossierSummary {
        applicable: d.applicable,
        complete: d.complete,
        cite: d.cite,
        grade: grade.as_str(),
        required: d
            .required
            .iter()
            .map(|m| RequiredMaterial {
                kind: m.kind.as_str(),
                title: &m.title,
                cite: &m.cite,
                provided: kinds.contains(&m.kind),
            })
            .collect(),
        missing: d
            .missing
            .iter()
            .map(|m| MissingMaterial {
                kind: m.kind.as_str(),
                title: &m.title,
                cite: &m.cite,
            })
            .collect(),
    })
}

fn material_view(m: MaterialRow) -> MaterialView {
    MaterialView {
        kind: m.kind,
        title: m.title,
        file_name: m.file_name,
        media_type: m.media_type,
        size: m.size,
        sha256: m.sha256,
        uploaded_at_ms: m.uploaded_at,
        uploaded_by: m.uploaded_by,
    }
}

fn filing_view(f: FilingRow) -> FilingView {
    FilingView {
        id: f.id,
        status: f.status,
        grade: grade_str(f.grade),
        materials: serde_json::from_str(&f.materials).unwrap_or_default(),
        created_at_ms: f.created_at,
        submitted_at_ms: f.submitted_at,
        routed: f.organ_id.is_some(),
        received_on: f.received_on,
        decided_on: f.decided_on,
        reasons: f.reasons,
        certificate: f.certificate,
    }
}

pub async fn dossier_view(app: &App, c: &Caller, id: &str) -> AppResult<DossierResponse> {
    let (org, _, obj) = authorized_row(app, c, Action::Read, id).await?;
    dossier_in(app, &org, id, &obj).await
}

/// The dossier of object `id` of organisation `org` — for a caller the guard already let
/// read it (its operator, or the organ reviewing its filing).
pub(crate) async fn dossier_in(
    app: &App,
    org: &str,
    id: &str,
    obj: &GradingObject,
) -> AppResult<DossierResponse> {
    let materials = app.store.materials(org, id).await?;
    let d = dossier_of(app, obj, &materials)?;
    let filings = app.store.filings(org, id).await?;
    Ok(DossierResponse {
        dossier: d,
        materials: materials.into_iter().map(material_view).collect(),
        filings: filings.into_iter().map(filing_view).collect(),
    })
}

/// Records a dossier material, keeping its file when one was uploaded (then its size and
/// SHA-256 must be the file's).
pub async fn put_material(
    app: &App,
    c: &Caller,
    id: &str,
    kind: &str,
    m: MaterialInput,
    content: Option<&[u8]>,
) -> AppResult<MaterialView> {
    let (org, _, _) = authorized_row(app, c, Action::Write, id).await?;
    material_kind(kind)?;
    check_text("title", &m.title, MAX_NAME)?;
    check_text("file_name", &m.file_name, 255)?;
    check_text("media_type", &m.media_type, 100)?;
    if !(0..=(1i64 << 32)).contains(&m.size) {
        return Err(AppError::invalid("size", "0 to 4 GiB"));
    }
    if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid("sha256", "64 hexadecimal characters"));
    }
    let now = app.clock.now_ms();
    let row = MaterialRow {
        object_id: id.to_owned(),
        kind: kind.to_owned(),
        title: m.title,
        file_name: m.file_name,
        media_type: m.media_type,
        size: m.size,
        sha256: m.sha256.to_ascii_lowercase(),
        uploaded_at: now,
        uploaded_by: c.username().to_owned(),
    };
    let sealed = match content {
        Some(bytes) => Some(seal_file(app, &org, &row.sha256, bytes, now).await?),
        None => None,
    };
    app.store
        .put_material_with_file(
            &org,
            &row,
            sealed.as_deref(),
            &c.audit("material.put", &format!("{id}/{kind}"), now),
        )
        .await?;
    done(app, &org);
    Ok(material_view(row))
}

pub async fn delete_material(app: &App, c: &Caller, id: &str, kind: &str) -> AppResult<()> {
    let (org, _, _) = authorized_row(app, c, Action::Write, id).await?;
    material_kind(kind)?;
    let now = app.clock.now_ms();
    app.store
        .delete_material(
            &org,
            id,
            kind,
            &c.audit("material.delete", &format!("{id}/{kind}"), now),
        )
        .await?;
    done(app, &org);
    Ok(())
}

/// A stored dossier file: its record and its bytes.
pub async fn material_file(
    app: &App,
    c: &Caller,
    id: &str,
    kind: &str,
) -> AppResult<(MaterialView, Vec<u8>)> {
    let (org, _, _) = authorized_row(app, c, Action::Read, id).await?;
    material_file_in(app, &org, id, kind).await
}

/// A dossier file of object `id` of organisation `org` (the caller already authorized).
pub(crate) async fn material_file_in(
    app: &App,
    org: &str,
    id: &str,
    kind: &str,
) -> AppResult<(MaterialView, Vec<u8>)> {
    material_kind(kind)?;
    let (m, bytes) = app.store.material_file(org, id, kind).await?;
    let bytes = open_file(app, org, &m.sha256, bytes).await?;
    Ok((material_view(m), bytes))
}

/// A stored file's content: opened from its seal under the organisation's `files` key, or as
/// it is when stored before encryption at rest.
pub(crate) async fn open_file(
    app: &App,
    org: &str,
    sha256: &str,
    bytes: Vec<u8>,
) -> AppResult<Vec<u8>> {
    if !dengbao_vault::is_sealed(&bytes) {
        return Ok(bytes);
    }
    Ok(app
        .vault
        .open(
            org,
            crate::vault::Purpose::Files,
            org,
            file_aad(sha256).as_bytes(),
            &bytes,
        )
        .await?
        .to_vec())
}

fn file_aad(sha256: &str) -> String {
    format!("file/{sha256}")
}

/// A dossier file sealed under its organisation's `files` key, bound to its digest (the
/// row it is stored under).
pub(crate) async fn seal_file(
    app_vault: &impl AsRef<crate::vault::Vault>,
    org: &str,
    sha256: &str,
    bytes: &[u8],
    now: i64,
) -> AppResult<Vec<u8>> {
    app_vault
        .as_ref()
        .seal(
            org,
            crate::vault::Purpose::Files,
            org,
            file_aad(sha256).as_bytes(),
            bytes,
            now,
        )
        .await
}

/// Submits the record filing (Measures art. 15, 16): only for a complete dossier.
pub async fn submit_filing(app: &App, c: &Caller, id: &str) -> AppResult<FilingView> {
    let (org, row, obj) = authorized_row(app, c, Action::Write, id).await?;
    let materials = app.store.materials(&org, id).await?;
    let d = dossier_of(app, &obj, &materials)?;
    if app
        .store
        .filings(&org, id)
        .await?
        .iter()
        .any(|f| matches!(f.status.as_str(), "submitted" | "received"))
    {
        return Err(AppError::conflict(
            "a filing of this object is already with the public security organ; wait for its decision (Measures art. 17)",
        ));
    }
    if obj.is_secret() {
        return Err(AppError::state(
            "secret",
            "a secret-involved system applies to the secrecy department instead, with the materials of art. 30 (Measures art. 26, 29 ¶2): POST /api/v1/systems/{id}/secrecy-applications",
        ));
    }
    if !d.applicable {
        return Err(AppError::invalid(
            "grade",
            "no record-filing for this system: below Grade II (Measures art. 15 ¶1)",
        ));
    }
    if !d.complete {
        return Err(
            AppError::state("materials", "the dossier is incomplete (Measures art. 16)")
                .with_extra(serde_json::json!({ "missing": d.missing })),
        );
    }
    let now = app.clock.now_ms();
    let today = app.clock.today();
    // Routed to the organ whose jurisdiction covers the object's division — or, without
    // one, the operator's (Measures art. 15).
    let division = match obj.division {
        Some(d) => Some(d.as_str().to_owned()),
        None => app.store.organisation(&org).await?.division,
    };
    let organ_id = match division {
        Some(d) => app.store.organ_for(&d).await?,
        None => None,
    };
    let f = FilingRow {
        id: new_id(),
        object_id: id.to_owned(),
        status: "submitted".into(),
        grade: row.grade,
        materials: serde_json::to_string(
            &materials.iter().map(|m| m.kind.clone()).collect::<Vec<_>>(),
        )
        .map_err(AppError::internal)?,
        created_at: now,
        submitted_at: Some(now),
        submitted_by: Some(c.username().to_owned()),
        organ_id,
        received_on: None,
        decided_on: None,
        reasons: None,
        certificate: None,
    };
    let ev = Event::new(today, EventType::FilingSubmitted);
    let er = EventRow {
        id: new_id(),
        object_id: id.to_owned(),
        date: today.to_string(),
        kind: "filing_submitted".into(),
        payload: serde_json::to_string(&ev).map_err(AppError::internal)?,
        recorded_at: now,
        recorded_by: c.username().to_owned(),
    };
    app.store
        .create_filing(&org, &f, &er, &c.audit("filing.submit", id, now))
        .await?;
    done(app, &org);
    Ok(filing_view(f))
}

/// Replaces the security and cryptographic products an object uses.
pub async fn set_in_use(app: &App, c: &Caller, id: &str, req: InUseInput) -> AppResult<()> {
    let (org, _, _) = authorized_row(app, c, Action::Write, id).await?;
    for (field, ids) in [
        ("products", &req.products),
        ("crypto_products", &req.crypto_products),
    ] {
        if ids.len() > 500 {
            return Err(AppError::invalid(field, "at most 500"));
        }
        if ids.iter().any(|i| !plausible_id(i)) {
            return Err(AppError::invalid(
                field,
                "names an id that cannot exist (letters, digits, `.`, `_` and `-`)",
            ));
        }
    }
    let now = app.clock.now_ms();
    let lists: [(&str, &[String]); 2] = [
        ("product", &req.products),
        ("crypto_product", &req.crypto_products),
    ];
    match app
        .store
        .set_in_use(&org, id, &lists, &c.audit("in_use.set", id, now))
        .await
    {
        Ok(()) => {}
        Err(StoreError::Dangling(category)) => {
            let field = if category == "product" {
                "products"
            } else {
                "crypto_products"
            };
            return Err(AppError::state(field, "names an id not in the registry"));
        }
        Err(e) => return Err(e.into()),
    }
    done(app, &org);
    Ok(())
}
