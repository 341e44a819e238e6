//! Handlers for the operator's work. Each one: authorize, validate through `dengbao-core`,
//! persist through `dengbao-store` (scoped by the caller's organisation), render.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use dengbao_core::Date;
use dengbao_core::assess::assess;
use dengbao_core::dossier::{DossierFacts, dossier};
use dengbao_core::eligibility::evaluate;
use dengbao_core::grading::final_grade;
use dengbao_core::model::{Event, EventType, GradingObject, Inventory, SecretInvolvement};
use dengbao_core::pack::MaterialKind;
use dengbao_store::{
    CandidateRow, EventRow, FilingRow, MaterialRow, StoreError, SystemFilter, SystemRow, new_id,
};
use serde_json::{Value, json};

use crate::auth::{Permission, Principal, Role, check_password, hash_password};
use crate::dto::*;
use crate::error::{ApiError, ApiResult, from_core};
use crate::state::AppState;
use crate::tenant::{CATEGORIES, candidate_of, object_of};
use crate::{Body, audit};

fn as_of(state: &AppState, s: &Option<String>) -> ApiResult<Date> {
    match s {
        None => Ok(state.clock.today()),
        Some(s) => s
            .parse()
            .map_err(|e: dengbao_core::ValueError| ApiError::invalid("as_of", e.to_string())),
    }
}

pub(crate) fn grade_str(g: i64) -> String {
    ["?", "I", "II", "III", "IV", "V"]
        .get(g as usize)
        .copied()
        .unwrap_or("?")
        .to_owned()
}

pub(crate) fn kind_str(k: dengbao_core::model::ObjectKind) -> ApiResult<String> {
    match serde_json::to_value(k).map_err(ApiError::internal)? {
        Value::String(s) => Ok(s),
        _ => Err(ApiError::internal(
            "object kind did not serialize to a string",
        )),
    }
}

/// Validates one grading object (and optionally one new event) with the core rules; the
/// field in a 422 is relative to the request body.
fn validate(
    state: &AppState,
    obj: GradingObject,
    agencies: Vec<dengbao_core::model::Candidate>,
    strip: &str,
) -> ApiResult<GradingObject> {
    let mut inv = Inventory {
        agencies,
        systems: vec![obj],
        ..Inventory::default()
    };
    inv.validate(&state.pack, "request")
        .map_err(|e| from_core(e, strip))?;
    inv.systems
        .pop()
        .ok_or_else(|| ApiError::internal("validated inventory lost its system"))
}

fn grading_json(state: &AppState, obj: &GradingObject, today: Date) -> ApiResult<Value> {
    let inv = Inventory {
        systems: vec![obj.clone()],
        ..Inventory::default()
    };
    let r = assess(&inv, &state.pack, &state.calendar, today);
    let s = r
        .systems
        .first()
        .ok_or_else(|| ApiError::internal("no grading"))?;
    serde_json::to_value(&s.grading).map_err(ApiError::internal)
}

fn view(state: &AppState, row: &SystemRow) -> ApiResult<SystemView> {
    let obj = object_of(row)?;
    Ok(SystemView {
        id: row.id.clone(),
        name: row.name.clone(),
        kind: row.kind.clone(),
        grade: grade_str(row.grade),
        version: row.version,
        facts: serde_json::from_str(&row.facts).map_err(ApiError::internal)?,
        grading: grading_json(state, &obj, state.clock.today())?,
        created_at_ms: row.created_at,
        updated_at_ms: row.updated_at,
    })
}

fn done(state: &AppState, p: &Principal) {
    state.tenants.invalidate(&p.tenant_id);
}

// ----- grading objects -------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/systems", tag = "systems", params(SystemQuery), responses((status = 200, body = SystemPage)))]
pub async fn list_systems(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<SystemQuery>,
) -> ApiResult<Json<SystemPage>> {
    p.require(Permission::Read)?;
    let (limit, offset, page, per_page) = paging(q.page, q.per_page, 50, 200)?;
    let grade = match &q.grade {
        None => None,
        Some(g) => Some(i64::from(
            g.parse::<dengbao_core::Grade>()
                .map_err(|e| ApiError::invalid("grade", e.to_string()))?
                .number(),
        )),
    };
    if q.q.as_ref().is_some_and(|s| s.chars().count() > MAX_NAME)
        || q.kind.as_ref().is_some_and(|s| s.len() > 64)
    {
        return Err(ApiError::invalid("q", "too long"));
    }
    let f = SystemFilter {
        grade,
        kind: q.kind.clone(),
        search: q.q.clone(),
        limit,
        offset,
    };
    let (rows, total) = state.store.systems(&p.tenant_id, &f).await?;
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
    Ok(Json(SystemPage {
        items,
        total,
        page,
        per_page,
    }))
}

#[utoipa::path(post, path = "/api/v1/systems", tag = "systems", request_body = SystemInput, responses((status = 201, body = SystemView), (status = 409, description = "Id taken"), (status = 422, description = "Invalid field")))]
pub async fn create_system(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Body(input): Body<SystemInput>,
) -> ApiResult<(StatusCode, Json<SystemView>)> {
    p.require(Permission::Write)?;
    input.check()?;
    if input.version.is_some() {
        return Err(ApiError::invalid("version", "not used when creating"));
    }
    let obj = validate(
        &state,
        input
            .facts()
            .into_object(input.id.clone(), input.name.clone(), input.kind),
        Vec::new(),
        "systems[0].",
    )?;
    let grade = final_grade(&state.pack.grading, &obj)
        .ok_or_else(|| ApiError::invalid("assessment", "cannot be graded"))?;
    let now = state.clock.now_ms();
    let row = SystemRow {
        tenant_id: p.tenant_id.clone(),
        id: obj.id.clone(),
        name: obj.name.clone(),
        kind: kind_str(obj.kind)?,
        grade: i64::from(grade.number()),
        facts: serde_json::to_string(&SystemFacts::of(&obj)).map_err(ApiError::internal)?,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    state
        .store
        .insert_system(&row, &audit(&p, &headers, "system.create", &row.id, now))
        .await?;
    done(&state, &p);
    Ok((StatusCode::CREATED, Json(view(&state, &row)?)))
}

#[utoipa::path(get, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = String, Path)), responses((status = 200, body = SystemView), (status = 404)))]
pub async fn get_system(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<SystemView>> {
    p.require(Permission::Read)?;
    let row = state.store.system(&p.tenant_id, &id).await?;
    Ok(Json(view(&state, &row)?))
}

#[utoipa::path(put, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = String, Path)), request_body = SystemInput, responses((status = 200, body = SystemView), (status = 404), (status = 409, description = "Stale version")))]
pub async fn update_system(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path(id): Path<String>,
    Body(input): Body<SystemInput>,
) -> ApiResult<Json<SystemView>> {
    p.require(Permission::Write)?;
    input.check()?;
    if input.id != id {
        return Err(ApiError::invalid("id", "must match the id in the path"));
    }
    let version = input
        .version
        .ok_or_else(|| ApiError::invalid("version", "required: the version you read"))?;
    let obj = validate(
        &state,
        input
            .facts()
            .into_object(input.id.clone(), input.name.clone(), input.kind),
        Vec::new(),
        "systems[0].",
    )?;
    let grade = final_grade(&state.pack.grading, &obj)
        .ok_or_else(|| ApiError::invalid("assessment", "cannot be graded"))?;
    let facts = serde_json::to_string(&SystemFacts::of(&obj)).map_err(ApiError::internal)?;
    let now = state.clock.now_ms();
    state
        .store
        .update_system(
            &SystemRow {
                tenant_id: p.tenant_id.clone(),
                id: id.clone(),
                name: obj.name.clone(),
                kind: kind_str(obj.kind)?,
                grade: i64::from(grade.number()),
                facts,
                version,
                created_at: now,
                updated_at: now,
            },
            version,
            &audit(&p, &headers, "system.update", &id, now),
        )
        .await?;
    done(&state, &p);
    let row = state.store.system(&p.tenant_id, &id).await?;
    Ok(Json(view(&state, &row)?))
}

#[utoipa::path(delete, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = String, Path), VersionQuery), responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete_system(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path(id): Path<String>,
    Query(v): Query<VersionQuery>,
) -> ApiResult<StatusCode> {
    p.require(Permission::Write)?;
    let now = state.clock.now_ms();
    state
        .store
        .delete_system(
            &p.tenant_id,
            &id,
            v.version,
            &audit(&p, &headers, "system.delete", &id, now),
        )
        .await?;
    done(&state, &p);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/systems/{id}/grading", tag = "systems", params(("id" = String, Path)), request_body = GradingRequest,
    responses((status = 200, body = SystemView, description = "Graded; a grade_determined event is recorded"), (status = 404), (status = 409), (status = 422)))]
pub async fn grade(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path(id): Path<String>,
    Body(req): Body<GradingRequest>,
) -> ApiResult<Json<SystemView>> {
    p.require(Permission::Write)?;
    let row = state.store.system(&p.tenant_id, &id).await?;
    let mut obj = object_of(&row)?;
    obj.assessment = req.assessment;
    if let Some(degree) = req.secret_degree {
        obj.secret = Some(SecretInvolvement {
            degree,
            important: obj.secret.is_some_and(|s| s.important),
        });
    }
    let obj = validate(&state, obj, Vec::new(), "systems[0].")?;
    let g = final_grade(&state.pack.grading, &obj)
        .ok_or_else(|| ApiError::invalid("assessment", "cannot be graded"))?;
    let date = match &req.date {
        None => state.clock.today(),
        Some(d) => d
            .parse()
            .map_err(|e: dengbao_core::ValueError| ApiError::invalid("date", e.to_string()))?,
    };
    let mut ev = Event::new(date, EventType::GradeDetermined);
    ev.grade = Some(g);
    let now = state.clock.now_ms();
    let er = EventRow {
        id: new_id(),
        object_id: id.clone(),
        date: date.to_string(),
        kind: "grade_determined".into(),
        payload: serde_json::to_string(&ev).map_err(ApiError::internal)?,
        recorded_at: now,
        recorded_by: p.username.clone(),
    };
    let facts = serde_json::to_string(&SystemFacts::of(&obj)).map_err(ApiError::internal)?;
    state
        .store
        .add_event(
            &p.tenant_id,
            &er,
            Some((req.version, i64::from(g.number()), &facts)),
            &audit(&p, &headers, "system.grade", &id, now),
        )
        .await?;
    done(&state, &p);
    Ok(Json(view(
        &state,
        &state.store.system(&p.tenant_id, &id).await?,
    )?))
}

#[utoipa::path(post, path = "/api/v1/grading/preview", tag = "systems", request_body = GradingPreview, responses((status = 200, description = "The grading with citations, nothing saved", body = Object)))]
pub async fn preview(
    State(state): State<AppState>,
    p: Principal,
    Body(req): Body<GradingPreview>,
) -> ApiResult<Json<Value>> {
    p.require(Permission::Read)?;
    let mut obj = SystemFacts {
        assessment: req.assessment,
        network_scope: req.network_scope.unwrap_or_default(),
        ..SystemFacts::default()
    }
    .into_object(
        "preview".into(),
        "preview".into(),
        dengbao_core::model::ObjectKind::InformationSystem,
    );
    obj.secret = req.secret_degree.map(|degree| SecretInvolvement {
        degree,
        important: false,
    });
    obj.department_in_charge = req
        .has_department_in_charge
        .then(|| "department".to_owned());
    let obj = validate(&state, obj, Vec::new(), "systems[0].")?;
    Ok(Json(grading_json(&state, &obj, state.clock.today())?))
}

// ----- events ------------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/systems/{id}/events", tag = "events", params(("id" = String, Path)), responses((status = 200, body = Vec<EventView>), (status = 404)))]
pub async fn list_events(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<EventView>>> {
    p.require(Permission::Read)?;
    state.store.system(&p.tenant_id, &id).await?;
    let rows = state.store.events(&p.tenant_id, &id).await?;
    let v = rows
        .into_iter()
        .map(|e| {
            Ok(EventView {
                id: e.id,
                event: serde_json::from_str(&e.payload).map_err(ApiError::internal)?,
                recorded_at_ms: e.recorded_at,
                recorded_by: e.recorded_by,
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(v))
}

#[utoipa::path(post, path = "/api/v1/systems/{id}/events", tag = "events", params(("id" = String, Path)), request_body(content = Object, description = "An event: `date`, `type` and the type's fields (docs/assess-format.md)"),
    responses((status = 201, body = EventView), (status = 404), (status = 422)))]
pub async fn add_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<(StatusCode, Json<EventView>)> {
    p.require(Permission::Write)?;
    let ev: Event = serde_path_to_error::deserialize(body)
        .map_err(|e| ApiError::invalid(e.path().to_string(), e.inner().to_string()))?;
    let row = state.store.system(&p.tenant_id, &id).await?;
    let mut obj = object_of(&row)?;
    obj.events = vec![ev.clone()];
    let agencies = state
        .store
        .candidates(&p.tenant_id, Some("agency"))
        .await?
        .iter()
        .map(candidate_of)
        .collect::<ApiResult<Vec<_>>>()?;
    validate(&state, obj, agencies, "systems[0].events[0].")?;
    if ev.note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::invalid("note", "at most 2000 characters"));
    }
    let now = state.clock.now_ms();
    let payload = serde_json::to_string(&ev).map_err(ApiError::internal)?;
    let er = EventRow {
        id: new_id(),
        object_id: id.clone(),
        date: ev.date.to_string(),
        kind: ev.kind.as_str().to_owned(),
        payload,
        recorded_at: now,
        recorded_by: p.username.clone(),
    };
    state
        .store
        .add_event(
            &p.tenant_id,
            &er,
            None,
            &audit(&p, &headers, "event.add", &id, now),
        )
        .await?;
    done(&state, &p);
    Ok((
        StatusCode::CREATED,
        Json(EventView {
            id: er.id,
            event: serde_json::to_value(&ev).map_err(ApiError::internal)?,
            recorded_at_ms: now,
            recorded_by: p.username,
        }),
    ))
}

// ----- obligations -------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/systems/{id}/obligations", tag = "obligations", params(("id" = String, Path), AsOfQuery),
    responses((status = 200, description = "Grade, obligations, dossier, eligibility and violations of one system (the assess contract)", body = Object), (status = 404)))]
pub async fn system_obligations(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> ApiResult<Json<Value>> {
    p.require(Permission::Read)?;
    let as_of = as_of(&state, &q.as_of)?;
    let data = state.tenants.data(&state, &p.tenant_id).await?;
    let inv = &data.inventory;
    let obj = inv
        .systems
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(ApiError::not_found)?;
    let one = Inventory {
        systems: vec![obj.clone()],
        products: inv.products.clone(),
        agencies: inv.agencies.clone(),
        crypto_products: inv.crypto_products.clone(),
        organisation: None,
    };
    let r = assess(&one, &state.pack, &state.calendar, as_of);
    let mut v = serde_json::to_value(r.systems.first().ok_or_else(ApiError::not_found)?)
        .map_err(ApiError::internal)?;
    v["as_of"] = json!(as_of.to_string());
    v["rules"] = json!(state.pack.id);
    Ok(Json(v))
}

#[utoipa::path(get, path = "/api/v1/obligations", tag = "obligations", params(ObligationQuery), responses((status = 200, body = ObligationPage)))]
pub async fn org_obligations(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<ObligationQuery>,
) -> ApiResult<Json<ObligationPage>> {
    p.require(Permission::Read)?;
    let as_of = as_of(&state, &q.as_of)?;
    let (limit, offset, page, per_page) = paging(q.page, q.per_page, 100, 500)?;
    let c = state
        .tenants
        .obligations(&state, &p.tenant_id, as_of)
        .await?;
    let (total, items): (usize, Vec<OrgObligation>) = match &q.status {
        None => (
            c.items.len(),
            c.items
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .cloned()
                .collect(),
        ),
        Some(s) => {
            if !["overdue", "due_soon", "upcoming", "met"].contains(&s.as_str()) {
                return Err(ApiError::invalid(
                    "status",
                    "overdue, due_soon, upcoming or met",
                ));
            }
            let idx = c
                .by_status
                .get(s.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            (
                idx.len(),
                idx.iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .map(|i| c.items[*i as usize].clone())
                    .collect(),
            )
        }
    };
    Ok(Json(ObligationPage {
        as_of: as_of.to_string(),
        counts: c.counts.clone(),
        items,
        total,
        page,
        per_page,
    }))
}

// ----- dossier and filing ------------------------------------------------------------------

fn material_kind(s: &str) -> ApiResult<MaterialKind> {
    serde_json::from_value(json!(s)).map_err(|_| {
        ApiError::invalid(
            "kind",
            format!(
                "`{s}` is not a dossier material; one of: {}",
                MaterialKind::ALL.map(|k| k.as_str()).join(", ")
            ),
        )
    })
}

async fn dossier_of(
    state: &AppState,
    tenant: &str,
    id: &str,
) -> ApiResult<(SystemRow, Value, Vec<MaterialRow>, bool)> {
    let row = state.store.system(tenant, id).await?;
    let obj = object_of(&row)?;
    let materials = state.store.materials(tenant, id).await?;
    let kinds: Vec<MaterialKind> = materials
        .iter()
        .map(|m| material_kind(&m.kind))
        .collect::<ApiResult<_>>()?;
    let grade = final_grade(&state.pack.grading, &obj)
        .ok_or_else(|| ApiError::internal("stored system cannot be graded"))?;
    let d = dossier(
        &state.pack,
        DossierFacts {
            grade,
            has_department_in_charge: obj.department_in_charge.is_some(),
            secret_involved: obj.is_secret(),
        },
        &kinds,
    );
    let ready = d.applicable && d.complete;
    let v = json!({
        "applicable": d.applicable,
        "complete": d.complete,
        "cite": d.cite,
        "grade": grade.as_str(),
        "required": d.required.iter().map(|m| json!({ "kind": m.kind.as_str(), "title": m.title, "cite": m.cite, "provided": kinds.contains(&m.kind) })).collect::<Vec<_>>(),
        "missing": d.missing.iter().map(|m| json!({ "kind": m.kind.as_str(), "title": m.title, "cite": m.cite })).collect::<Vec<_>>(),
    });
    Ok((row, v, materials, ready))
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
    }
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/dossier", tag = "dossier", params(("id" = String, Path)), responses((status = 200, body = DossierResponse), (status = 404)))]
pub async fn get_dossier(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<DossierResponse>> {
    p.require(Permission::Read)?;
    let (_, d, materials, _) = dossier_of(&state, &p.tenant_id, &id).await?;
    let filings = state.store.filings(&p.tenant_id, &id).await?;
    Ok(Json(DossierResponse {
        dossier: d,
        materials: materials.into_iter().map(material_view).collect(),
        filings: filings.into_iter().map(filing_view).collect(),
    }))
}

#[utoipa::path(put, path = "/api/v1/systems/{id}/materials/{kind}", tag = "dossier", params(("id" = String, Path), ("kind" = String, Path)), request_body = MaterialInput,
    responses((status = 200, body = MaterialView), (status = 404), (status = 422)))]
pub async fn put_material(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path((id, kind)): Path<(String, String)>,
    Body(m): Body<MaterialInput>,
) -> ApiResult<Json<MaterialView>> {
    Ok(Json(
        store_material(&state, &headers, &p, &id, &kind, m, None).await?,
    ))
}

/// Records a dossier material (and keeps its file when the web page uploaded one).
pub(crate) async fn store_material(
    state: &AppState,
    headers: &HeaderMap,
    p: &Principal,
    id: &str,
    kind: &str,
    m: MaterialInput,
    content: Option<&[u8]>,
) -> ApiResult<MaterialView> {
    p.require(Permission::Write)?;
    material_kind(kind)?;
    check_text("title", &m.title, MAX_NAME)?;
    check_text("file_name", &m.file_name, 255)?;
    check_text("media_type", &m.media_type, 100)?;
    if !(0..=(1i64 << 32)).contains(&m.size) {
        return Err(ApiError::invalid("size", "0 to 4 GiB"));
    }
    if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::invalid("sha256", "64 hexadecimal characters"));
    }
    let now = state.clock.now_ms();
    let row = MaterialRow {
        object_id: id.to_owned(),
        kind: kind.to_owned(),
        title: m.title,
        file_name: m.file_name,
        media_type: m.media_type,
        size: m.size,
        sha256: m.sha256.to_ascii_lowercase(),
        uploaded_at: now,
        uploaded_by: p.username.clone(),
    };
    state
        .store
        .put_material_with_file(
            &p.tenant_id,
            &row,
            content,
            &audit(p, headers, "material.put", &format!("{id}/{kind}"), now),
        )
        .await?;
    done(state, p);
    Ok(material_view(row))
}

#[utoipa::path(delete, path = "/api/v1/systems/{id}/materials/{kind}", tag = "dossier", params(("id" = String, Path), ("kind" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn delete_material(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path((id, kind)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    p.require(Permission::Write)?;
    material_kind(&kind)?;
    let now = state.clock.now_ms();
    state
        .store
        .delete_material(
            &p.tenant_id,
            &id,
            &kind,
            &audit(
                &p,
                &headers,
                "material.delete",
                &format!("{id}/{kind}"),
                now,
            ),
        )
        .await?;
    done(&state, &p);
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/systems/{id}/filings", tag = "dossier", params(("id" = String, Path)),
    responses((status = 201, body = FilingView, description = "Submitted; a filing_submitted event is recorded"), (status = 404), (status = 422, description = "Dossier incomplete, with the missing materials")))]
pub async fn submit_filing(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<FilingView>)> {
    p.require(Permission::Write)?;
    let (row, d, materials, ready) = dossier_of(&state, &p.tenant_id, &id).await?;
    if d["applicable"] != json!(true) {
        return Err(ApiError::invalid(
            "grade",
            "no record-filing for this system: below Grade II, or secret-involved (Measures art. 15 ¶1, art. 26)",
        ));
    }
    if !ready {
        return Err(
            ApiError::invalid("materials", "the dossier is incomplete (Measures art. 16)")
                .with_extra(json!({ "missing": d["missing"] })),
        );
    }
    let now = state.clock.now_ms();
    let today = state.clock.today();
    let f = FilingRow {
        id: new_id(),
        object_id: id.clone(),
        status: "submitted".into(),
        grade: row.grade,
        materials: serde_json::to_string(
            &materials.iter().map(|m| m.kind.clone()).collect::<Vec<_>>(),
        )
        .map_err(ApiError::internal)?,
        created_at: now,
        submitted_at: Some(now),
        submitted_by: Some(p.username.clone()),
    };
    let ev = Event::new(today, EventType::FilingSubmitted);
    let er = EventRow {
        id: new_id(),
        object_id: id.clone(),
        date: today.to_string(),
        kind: "filing_submitted".into(),
        payload: serde_json::to_string(&ev).map_err(ApiError::internal)?,
        recorded_at: now,
        recorded_by: p.username.clone(),
    };
    state
        .store
        .create_filing(
            &p.tenant_id,
            &f,
            &er,
            &audit(&p, &headers, "filing.submit", &id, now),
        )
        .await?;
    done(&state, &p);
    Ok((StatusCode::CREATED, Json(filing_view(f))))
}

#[utoipa::path(put, path = "/api/v1/systems/{id}/in-use", tag = "registry", params(("id" = String, Path)), request_body = InUseInput, responses((status = 204), (status = 404), (status = 422)))]
pub async fn set_in_use(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path(id): Path<String>,
    Body(req): Body<InUseInput>,
) -> ApiResult<StatusCode> {
    p.require(Permission::Write)?;
    let now = state.clock.now_ms();
    for (category, field, ids) in [
        ("product", "products", &req.products),
        ("crypto_product", "crypto_products", &req.crypto_products),
    ] {
        if ids.len() > 500 {
            return Err(ApiError::invalid(field, "at most 500"));
        }
        match state
            .store
            .set_in_use(
                &p.tenant_id,
                &id,
                category,
                ids,
                &audit(&p, &headers, "in_use.set", &id, now),
            )
            .await
        {
            Ok(()) => {}
            // The system exists (checked first in the transaction) or this is a 404.
            Err(StoreError::NotFound) => {
                state.store.system(&p.tenant_id, &id).await?;
                return Err(ApiError::invalid(field, "names an id not in the registry"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    done(&state, &p);
    Ok(StatusCode::NO_CONTENT)
}

// ----- registries --------------------------------------------------------------------------

fn category(c: &str) -> ApiResult<&'static str> {
    CATEGORIES
        .iter()
        .copied()
        .find(|x| *x == c)
        .ok_or_else(ApiError::not_found)
}

fn candidate_view(state: &AppState, row: &CandidateRow) -> ApiResult<CandidateView> {
    let c = candidate_of(row)?;
    let rules = match row.category.as_str() {
        "product" => &state.pack.eligibility.security_product,
        "agency" => &state.pack.eligibility.evaluation_agency,
        _ => &state.pack.eligibility.crypto_product,
    };
    let e = serde_json::to_value(evaluate(rules, &c)).map_err(ApiError::internal)?;
    Ok(CandidateView {
        category: row.category.clone(),
        id: row.id.clone(),
        name: row.name.clone(),
        version: row.version,
        eligibility: e,
    })
}

fn check_candidate(state: &AppState, cat: &str, c: &CandidateInput) -> ApiResult<CandidateRow> {
    check_id("id", &c.id)?;
    check_text("name", &c.name, MAX_NAME)?;
    if c.evidence.values().any(|v| v.chars().count() > 1000) {
        return Err(ApiError::invalid(
            "evidence",
            "each at most 1000 characters",
        ));
    }
    let cand = dengbao_core::model::Candidate {
        id: c.id.clone(),
        name: c.name.clone(),
        facts: c.facts.clone(),
        evidence: c.evidence.clone(),
    };
    let (mut inv, prefix) = match cat {
        "product" => (
            Inventory {
                products: vec![cand],
                ..Inventory::default()
            },
            "products[0].",
        ),
        "agency" => (
            Inventory {
                agencies: vec![cand],
                ..Inventory::default()
            },
            "agencies[0].",
        ),
        _ => (
            Inventory {
                crypto_products: vec![cand],
                ..Inventory::default()
            },
            "crypto_products[0].",
        ),
    };
    inv.validate(&state.pack, "request")
        .map_err(|e| from_core(e, prefix))?;
    Ok(CandidateRow {
        category: cat.to_owned(),
        id: c.id.clone(),
        name: c.name.clone(),
        facts: serde_json::to_string(&c.facts).map_err(ApiError::internal)?,
        evidence: serde_json::to_string(&c.evidence).map_err(ApiError::internal)?,
        version: 0,
    })
}

#[utoipa::path(get, path = "/api/v1/registry/{category}", tag = "registry", params(("category" = String, Path, description = "product, agency or crypto_product")), responses((status = 200, body = Vec<CandidateView>), (status = 404)))]
pub async fn list_candidates(
    State(state): State<AppState>,
    p: Principal,
    Path(cat): Path<String>,
) -> ApiResult<Json<Vec<CandidateView>>> {
    p.require(Permission::Read)?;
    let cat = category(&cat)?;
    let rows = state.store.candidates(&p.tenant_id, Some(cat)).await?;
    Ok(Json(
        rows.iter()
            .map(|r| candidate_view(&state, r))
            .collect::<ApiResult<_>>()?,
    ))
}

#[utoipa::path(post, path = "/api/v1/registry/{category}", tag = "registry", params(("category" = String, Path)), request_body = CandidateInput, responses((status = 201, body = CandidateView), (status = 409), (status = 422)))]
pub async fn create_candidate(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path(cat): Path<String>,
    Body(c): Body<CandidateInput>,
) -> ApiResult<(StatusCode, Json<CandidateView>)> {
    p.require(Permission::Write)?;
    let cat = category(&cat)?;
    if c.version.is_some() {
        return Err(ApiError::invalid("version", "not used when creating"));
    }
    let mut row = check_candidate(&state, cat, &c)?;
    let now = state.clock.now_ms();
    row.version = state
        .store
        .put_candidate(
            &p.tenant_id,
            &row,
            None,
            &audit(
                &p,
                &headers,
                "registry.create",
                &format!("{cat}/{}", row.id),
                now,
            ),
        )
        .await?;
    done(&state, &p);
    Ok((StatusCode::CREATED, Json(candidate_view(&state, &row)?)))
}

#[utoipa::path(get, path = "/api/v1/registry/{category}/{id}", tag = "registry", params(("category" = String, Path), ("id" = String, Path)), responses((status = 200, body = CandidateView), (status = 404)))]
pub async fn get_candidate(
    State(state): State<AppState>,
    p: Principal,
    Path((cat, id)): Path<(String, String)>,
) -> ApiResult<Json<CandidateView>> {
    p.require(Permission::Read)?;
    let row = state
        .store
        .candidate(&p.tenant_id, category(&cat)?, &id)
        .await?;
    Ok(Json(candidate_view(&state, &row)?))
}

#[utoipa::path(put, path = "/api/v1/registry/{category}/{id}", tag = "registry", params(("category" = String, Path), ("id" = String, Path)), request_body = CandidateInput, responses((status = 200, body = CandidateView), (status = 404), (status = 409)))]
pub async fn put_candidate(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path((cat, id)): Path<(String, String)>,
    Body(c): Body<CandidateInput>,
) -> ApiResult<Json<CandidateView>> {
    p.require(Permission::Write)?;
    let cat = category(&cat)?;
    if c.id != id {
        return Err(ApiError::invalid("id", "must match the id in the path"));
    }
    let version = c
        .version
        .ok_or_else(|| ApiError::invalid("version", "required: the version you read"))?;
    let mut row = check_candidate(&state, cat, &c)?;
    let now = state.clock.now_ms();
    row.version = state
        .store
        .put_candidate(
            &p.tenant_id,
            &row,
            Some(version),
            &audit(&p, &headers, "registry.update", &format!("{cat}/{id}"), now),
        )
        .await?;
    done(&state, &p);
    Ok(Json(candidate_view(&state, &row)?))
}

#[utoipa::path(delete, path = "/api/v1/registry/{category}/{id}", tag = "registry", params(("category" = String, Path), ("id" = String, Path)), responses((status = 204), (status = 404), (status = 409, description = "In use")))]
pub async fn delete_candidate(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path((cat, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    p.require(Permission::Write)?;
    let cat = category(&cat)?;
    let now = state.clock.now_ms();
    state
        .store
        .delete_candidate(
            &p.tenant_id,
            cat,
            &id,
            &audit(&p, &headers, "registry.delete", &format!("{cat}/{id}"), now),
        )
        .await?;
    done(&state, &p);
    Ok(StatusCode::NO_CONTENT)
}

// ----- administration (三权分立) ---------------------------------------------------------

fn user_view(u: dengbao_store::User, roles: Vec<String>) -> UserView {
    UserView {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        roles,
        disabled: u.disabled,
        totp_enabled: u.totp_enabled,
        locked_until_ms: u.locked_until,
    }
}

#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = Vec<UserView>), (status = 403)))]
pub async fn list_users(
    State(state): State<AppState>,
    p: Principal,
) -> ApiResult<Json<Vec<UserView>>> {
    // The system administrator manages accounts; the security administrator must see them to
    // assign roles.
    if !p.can(Permission::ManageUsers) {
        p.require(Permission::AssignRoles)?;
    }
    let mut out = Vec::new();
    for u in state.store.users(&p.tenant_id).await? {
        let roles = state.store.roles(&u.id).await?;
        out.push(user_view(u, roles));
    }
    Ok(Json(out))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = UserInput, responses((status = 201, body = UserView), (status = 403), (status = 409), (status = 422)))]
pub async fn create_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Body(u): Body<UserInput>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    p.require(Permission::ManageUsers)?;
    if u.username.len() < 3
        || u.username.len() > 64
        || !u.username.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
    {
        return Err(ApiError::invalid(
            "username",
            "3–64 characters of a–z, 0–9, `.`, `_`, `-`",
        ));
    }
    check_text("display_name", &u.display_name, MAX_NAME)?;
    check_password(&state.config, &u.username, &u.password)?;
    let now = state.clock.now_ms();
    let user = dengbao_store::User {
        id: new_id(),
        tenant_id: p.tenant_id.clone(),
        username: u.username,
        display_name: u.display_name,
        password_hash: hash_password(u.password).await?,
        totp_secret: None,
        totp_enabled: false,
        failed_attempts: 0,
        locked_until: 0,
        last_totp_step: 0,
        disabled: false,
        created_at: now,
    };
    state
        .store
        .create_user(
            &user,
            &[],
            &audit(&p, &headers, "user.create", &user.username, now),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user_view(user, Vec::new()))))
}

async fn set_disabled(
    state: AppState,
    headers: HeaderMap,
    p: Principal,
    id: String,
    disabled: bool,
) -> ApiResult<StatusCode> {
    p.require(Permission::ManageUsers)?;
    if id == p.user_id {
        return Err(ApiError::forbidden(
            "you cannot disable or enable your own account",
        ));
    }
    let now = state.clock.now_ms();
    state
        .store
        .set_user_disabled(
            &p.tenant_id,
            &id,
            disabled,
            &audit(
                &p,
                &headers,
                if disabled {
                    "user.disable"
                } else {
                    "user.enable"
                },
                &id,
                now,
            ),
        )
        .await?;
    state.principals.clear();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "admin", params(("id" = String, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn disable_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    set_disabled(state, headers, p, id, true).await
}

#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "admin", params(("id" = String, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn enable_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    set_disabled(state, headers, p, id, false).await
}

#[utoipa::path(put, path = "/api/v1/users/{id}/roles/{role}", tag = "admin", params(("id" = String, Path), ("role" = String, Path)), responses((status = 204), (status = 403), (status = 404), (status = 409, description = "Would combine an administrator role with another")))]
pub async fn assign_role(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path((id, role)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    p.require(Permission::AssignRoles)?;
    let r = Role::parse(&role).ok_or_else(|| {
        ApiError::invalid(
            "role",
            format!("one of: {}", Role::ALL.map(|r| r.as_str()).join(", ")),
        )
    })?;
    if id == p.user_id {
        return Err(ApiError::forbidden(
            "nobody assigns roles to themselves (separation of duties)",
        ));
    }
    state.store.user(&p.tenant_id, &id).await?;
    let held: Vec<Role> = state
        .store
        .roles(&id)
        .await?
        .iter()
        .filter_map(|x| Role::parse(x))
        .collect();
    if held.contains(&r) {
        return Ok(StatusCode::NO_CONTENT);
    }
    if (r.is_admin() && !held.is_empty()) || held.iter().any(|h| h.is_admin()) {
        return Err(ApiError::conflict(
            "an administrator role cannot be combined with any other role (三权分立: system, security and audit administration are separate)",
        ));
    }
    let now = state.clock.now_ms();
    state
        .store
        .assign_role(
            &p.tenant_id,
            &id,
            r.as_str(),
            &audit(&p, &headers, "role.assign", &format!("{id}/{role}"), now),
        )
        .await?;
    state.principals.clear();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/roles/{role}", tag = "admin", params(("id" = String, Path), ("role" = String, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn revoke_role(
    State(state): State<AppState>,
    headers: HeaderMap,
    p: Principal,
    Path((id, role)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    p.require(Permission::AssignRoles)?;
    if id == p.user_id {
        return Err(ApiError::forbidden(
            "nobody changes their own roles (separation of duties)",
        ));
    }
    let now = state.clock.now_ms();
    state
        .store
        .revoke_role(
            &p.tenant_id,
            &id,
            &role,
            &audit(&p, &headers, "role.revoke", &format!("{id}/{role}"), now),
        )
        .await?;
    state.principals.clear();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(PageQuery), responses((status = 200, body = Vec<AuditEntry>), (status = 403)))]
pub async fn audit_trail(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    p.require(Permission::ReadAudit)?;
    let (limit, offset, _, _) = paging(q.page, q.per_page, 100, 1000)?;
    let rows = state.store.audit(Some(&p.tenant_id), limit, offset).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditEntry {
                seq: r.seq,
                actor: r.actor,
                action: r.action,
                object: r.object,
                request_id: r.request_id,
                at_ms: r.at,
            })
            .collect(),
    ))
}
