//! Handlers for the operator's work: each parses, calls one `dengbao_app` function and
//! renders its typed result as JSON.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use dengbao_app::ledger::History;
use dengbao_app::systems::{self, ListObligations, ListSystems};
use dengbao_app::{admin, registry};
use serde_json::Value;

use crate::Body;
use crate::auth::Authed;
use crate::dto::*;
use crate::error::ApiResult;
use crate::state::AppState;

// ----- grading objects -------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/systems", tag = "systems", params(SystemQuery), responses((status = 200, body = SystemPage)))]
pub async fn list_systems(
    State(state): State<AppState>,
    Authed(c): Authed,
    Query(q): Query<SystemQuery>,
) -> ApiResult<Json<SystemPage>> {
    let q = ListSystems {
        grade: q.grade,
        kind: q.kind,
        q: q.q,
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(systems::list_systems(&state, &c, q).await?))
}

#[utoipa::path(post, path = "/api/v1/systems", tag = "systems", request_body = SystemInput, responses((status = 201, body = SystemView), (status = 409, description = "Id taken"), (status = 422, description = "Invalid field")))]
pub async fn create_system(
    State(state): State<AppState>,
    Authed(c): Authed,
    Body(input): Body<SystemInput>,
) -> ApiResult<(StatusCode, Json<SystemView>)> {
    Ok((
        StatusCode::CREATED,
        Json(systems::create_system(&state, &c, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = String, Path)), responses((status = 200, body = SystemView), (status = 404)))]
pub async fn get_system(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<SystemView>> {
    Ok(Json(systems::get_system(&state, &c, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = String, Path)), request_body = SystemInput, responses((status = 200, body = SystemView), (status = 404), (status = 409, description = "Stale version")))]
pub async fn update_system(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<SystemInput>,
) -> ApiResult<Json<SystemView>> {
    Ok(Json(systems::update_system(&state, &c, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/systems/{id}", tag = "systems", params(("id" = String, Path), VersionQuery), responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete_system(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Query(v): Query<VersionQuery>,
) -> ApiResult<StatusCode> {
    systems::delete_system(&state, &c, &id, v.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/systems/{id}/grading", tag = "systems", params(("id" = String, Path)), request_body = GradingRequest,
    responses((status = 200, body = SystemView, description = "Graded; a grade_determined event is recorded"), (status = 404), (status = 409), (status = 422)))]
pub async fn grade(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(req): Body<GradingRequest>,
) -> ApiResult<Json<SystemView>> {
    Ok(Json(systems::grade(&state, &c, &id, req).await?))
}

#[utoipa::path(post, path = "/api/v1/grading/preview", tag = "systems", request_body = GradingPreview, responses((status = 200, description = "The grading with citations, nothing saved", body = Object)))]
pub async fn preview(
    State(state): State<AppState>,
    Authed(c): Authed,
    Body(req): Body<GradingPreview>,
) -> ApiResult<Json<systems::Graded>> {
    Ok(Json(systems::preview(&state, &c, req).await?))
}

// ----- events ------------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/systems/{id}/events", tag = "events", params(("id" = String, Path)), responses((status = 200, body = Vec<EventView>), (status = 404)))]
pub async fn list_events(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<EventView>>> {
    Ok(Json(systems::list_events(&state, &c, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/systems/{id}/events", tag = "events", params(("id" = String, Path)), request_body(content = Object, description = "An event: `date`, `type` and the type's fields (docs/assess-format.md)"),
    responses((status = 201, body = EventView), (status = 404), (status = 422)))]
pub async fn add_event(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<(StatusCode, Json<EventView>)> {
    Ok((
        StatusCode::CREATED,
        Json(systems::record_event(&state, &c, &id, body).await?),
    ))
}

// ----- obligations -------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/systems/{id}/obligations", tag = "obligations", params(("id" = String, Path), AsOfQuery),
    responses((status = 200, description = "Grade, obligations, dossier, eligibility and violations of one system (the assess contract)", body = Object), (status = 404)))]
pub async fn system_obligations(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> ApiResult<Json<systems::SystemAssessment>> {
    Ok(Json(
        systems::system_obligations(&state, &c, &id, q.as_of.as_deref()).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/obligations", tag = "obligations", params(ObligationQuery), responses((status = 200, body = ObligationPage)))]
pub async fn org_obligations(
    State(state): State<AppState>,
    Authed(c): Authed,
    Query(q): Query<ObligationQuery>,
) -> ApiResult<Json<ObligationPage>> {
    let q = ListObligations {
        as_of: q.as_of,
        status: q.status,
        page: q.page,
        per_page: q.per_page,
    };
    Ok(Json(systems::org_obligations(&state, &c, q).await?))
}

// ----- dossier and filing ------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/systems/{id}/dossier", tag = "dossier", params(("id" = String, Path)), responses((status = 200, body = DossierResponse), (status = 404)))]
pub async fn get_dossier(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<DossierResponse>> {
    Ok(Json(systems::dossier_view(&state, &c, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/systems/{id}/materials/{kind}", tag = "dossier", params(("id" = String, Path), ("kind" = String, Path, pattern = "^(record_filing_form|topology|security_organisation|security_design|product_list|evaluation_report|expert_review|department_approval|design_plan|integrator_qualification|construction_report|secrecy_evaluation_report|secrecy_organisation|other_materials)$")), request_body = MaterialInput,
    responses((status = 200, body = MaterialView), (status = 404), (status = 422)))]
pub async fn put_material(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((id, kind)): Path<(String, String)>,
    Body(m): Body<MaterialInput>,
) -> ApiResult<Json<MaterialView>> {
    Ok(Json(
        systems::put_material(&state, &c, &id, &kind, m, None).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/systems/{id}/materials/{kind}", tag = "dossier", params(("id" = String, Path), ("kind" = String, Path, pattern = "^(record_filing_form|topology|security_organisation|security_design|product_list|evaluation_report|expert_review|department_approval|design_plan|integrator_qualification|construction_report|secrecy_evaluation_report|secrecy_organisation|other_materials)$")), responses((status = 204), (status = 404)))]
pub async fn delete_material(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((id, kind)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    systems::delete_material(&state, &c, &id, &kind).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/systems/{id}/filings", tag = "dossier", params(("id" = String, Path)),
    responses((status = 201, body = FilingView, description = "Submitted; a filing_submitted event is recorded"), (status = 404), (status = 422, description = "Dossier incomplete, with the missing materials")))]
pub async fn submit_filing(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<FilingView>)> {
    Ok((
        StatusCode::CREATED,
        Json(systems::submit_filing(&state, &c, &id).await?),
    ))
}

#[utoipa::path(put, path = "/api/v1/systems/{id}/in-use", tag = "registry", params(("id" = String, Path)), request_body = InUseInput, responses((status = 204), (status = 404), (status = 422)))]
pub async fn set_in_use(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(req): Body<InUseInput>,
) -> ApiResult<StatusCode> {
    systems::set_in_use(&state, &c, &id, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- registries --------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/registry/{category}", tag = "registry", params(("category" = String, Path, description = "product, agency or crypto_product")), responses((status = 200, body = Vec<CandidateDoc>), (status = 404)))]
pub async fn list_candidates(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(cat): Path<String>,
) -> ApiResult<Json<Vec<CandidateView>>> {
    Ok(Json(registry::list(&state, &c, &cat).await?))
}

#[utoipa::path(post, path = "/api/v1/registry/{category}", tag = "registry", params(("category" = String, Path)), request_body = CandidateInput, responses((status = 201, body = CandidateDoc), (status = 409), (status = 422)))]
pub async fn create_candidate(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(cat): Path<String>,
    Body(input): Body<CandidateInput>,
) -> ApiResult<(StatusCode, Json<CandidateView>)> {
    Ok((
        StatusCode::CREATED,
        Json(registry::create(&state, &c, &cat, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/registry/{category}/{id}", tag = "registry", params(("category" = String, Path), ("id" = String, Path)), responses((status = 200, body = CandidateDoc), (status = 404)))]
pub async fn get_candidate(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((cat, id)): Path<(String, String)>,
) -> ApiResult<Json<CandidateView>> {
    Ok(Json(registry::get(&state, &c, &cat, &id).await?))
}

#[utoipa::path(put, path = "/api/v1/registry/{category}/{id}", tag = "registry", params(("category" = String, Path), ("id" = String, Path)), request_body = CandidateInput, responses((status = 200, body = CandidateDoc), (status = 404), (status = 409)))]
pub async fn put_candidate(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((cat, id)): Path<(String, String)>,
    Body(input): Body<CandidateInput>,
) -> ApiResult<Json<CandidateView>> {
    Ok(Json(registry::replace(&state, &c, &cat, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/v1/registry/{category}/{id}", tag = "registry", params(("category" = String, Path), ("id" = String, Path)), responses((status = 204), (status = 404), (status = 409, description = "In use")))]
pub async fn delete_candidate(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((cat, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    registry::delete(&state, &c, &cat, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- administration (三权分立) ---------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = Vec<UserView>), (status = 403)))]
pub async fn list_users(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Vec<UserView>>> {
    Ok(Json(admin::list_users(&state, &c).await?))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = UserInput, responses((status = 201, body = UserView), (status = 403), (status = 409), (status = 422)))]
pub async fn create_user(
    State(state): State<AppState>,
    Authed(c): Authed,
    Body(u): Body<UserInput>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    Ok((
        StatusCode::CREATED,
        Json(admin::create_user(&state, &c, u).await?),
    ))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "admin", params(("id" = String, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn disable_user(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin::set_disabled(&state, &c, &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "admin", params(("id" = String, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn enable_user(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin::set_disabled(&state, &c, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/users/{id}/roles/{role}", tag = "admin", params(("id" = String, Path), ("role" = String, Path)), responses((status = 204), (status = 403), (status = 404), (status = 409, description = "Would combine an administrator role with another")))]
pub async fn assign_role(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((id, role)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    admin::assign_role(&state, &c, &id, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/roles/{role}", tag = "admin", params(("id" = String, Path), ("role" = String, Path)), responses((status = 204), (status = 403), (status = 404)))]
pub async fn revoke_role(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((id, role)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    admin::revoke_role(&state, &c, &id, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(PageQuery), responses((status = 200, body = Vec<AuditEntry>), (status = 403)))]
pub async fn audit_trail(
    State(state): State<AppState>,
    Authed(c): Authed,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    Ok(Json(
        admin::audit_trail(&state, &c, q.page, q.per_page).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/history", tag = "ledger", params(("id" = String, Path)),
    responses((status = 200, body = History, description = "Every change to the object from the ledger, each checked against the latest signed checkpoint"), (status = 404)))]
pub async fn history(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<History>> {
    Ok(Json(dengbao_app::ledger::history(&state, &c, &id).await?))
}
