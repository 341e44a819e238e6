//! Supervision (Measures art. 18–20, 33, 39): what a supervisor supervises, its inspections
//! and examinations, and the public security organ's rectification notices.

use axum::Json;
use axum::extract::{Path, State};
use dengbao_app::dto::EventView;
use dengbao_app::supervision::{self, Dashboard, InspectionInput, NoticeInput};

use crate::Body;
use crate::auth::Authed;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/supervision/systems", tag = "supervision", params(crate::dto::AreaPageQuery), responses((status = 200, body = supervision::SupervisedPage, description = "The objects of the caller's area (a public security organ's jurisdiction; a secrecy department's secret-involved, a cryptography administration's cryptography-using ones), overdue inspections first, a page at a time"), (status = 422)))]
pub async fn objects(
    State(state): State<AppState>,
    Authed(c): Authed,
    axum::extract::Query(q): axum::extract::Query<crate::dto::AreaPageQuery>,
) -> ApiResult<Json<supervision::SupervisedPage>> {
    Ok(Json(
        supervision::objects(&state, &c, q.page, q.per_page).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/supervision/{operator}/systems/{id}/inspections", tag = "supervision", params(("operator" = String, Path), ("id" = String, Path)), request_body = InspectionInput, responses((status = 200, body = EventView, description = "Recorded as the operator's inspection (art. 18), secrecy examination (art. 33) or cryptography examination (art. 39)"), (status = 403), (status = 404), (status = 422)))]
pub async fn inspect(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((operator, id)): Path<(String, String)>,
    Body(input): Body<InspectionInput>,
) -> ApiResult<Json<EventView>> {
    Ok(Json(
        supervision::inspect(&state, &c, &operator, &id, input).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/supervision/{operator}/systems/{id}/rectification-notices", tag = "supervision", params(("operator" = String, Path), ("id" = String, Path)), request_body = NoticeInput, responses((status = 200, body = EventView, description = "The organ's rectification notice, the operator's event with its time limit"), (status = 403), (status = 404), (status = 422)))]
pub async fn notify(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((operator, id)): Path<(String, String)>,
    Body(input): Body<NoticeInput>,
) -> ApiResult<Json<EventView>> {
    Ok(Json(
        supervision::notify_rectification(&state, &c, &operator, &id, input).await?,
    ))
}

/// An optional note with an act.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecrecyApprovalInput {
    /// The approval's number or conditions (at most 2000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/supervision/{operator}/systems/{id}/secrecy-approval", tag = "supervision", params(("operator" = String, Path), ("id" = String, Path)), request_body = SecrecyApprovalInput, responses((status = 200, body = EventView, description = "The secrecy department's approval before operation (art. 29 ¶2), the operator's secrecy_approval event"), (status = 403), (status = 404), (status = 422)))]
pub async fn approve_secret(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((operator, id)): Path<(String, String)>,
    Body(input): Body<SecrecyApprovalInput>,
) -> ApiResult<Json<EventView>> {
    Ok(Json(
        supervision::approve_secret_system(&state, &c, &operator, &id, input.note).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/supervision/dashboard", tag = "supervision", responses((status = 200, body = Dashboard, description = "The supervisor's area at a glance: operators, objects by grade, filings by status, overdue obligations (oldest first) and art. 40 violations by item")))]
pub async fn dashboard(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Dashboard>> {
    Ok(Json(supervision::dashboard(&state, &c).await?))
}

#[utoipa::path(post, path = "/api/v1/supervision/{operator}/systems/{id}/enforcements", tag = "supervision", params(("operator" = String, Path), ("id" = String, Path)), request_body = dengbao_app::enforcement::OrderInput, responses((status = 200, body = dengbao_app::enforcement::EnforcementView, description = "Ordered to correct within the time limit (art. 40): the operator's rectification_notice event"), (status = 403, description = "Not the item's authority, or a member"), (status = 404), (status = 409, description = "No such violation on record today, or already under an order"), (status = 422)))]
pub async fn order(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((operator, id)): Path<(String, String)>,
    Body(input): Body<dengbao_app::enforcement::OrderInput>,
) -> ApiResult<Json<dengbao_app::enforcement::EnforcementView>> {
    Ok(Json(
        dengbao_app::enforcement::order(&state, &c, &operator, &id, input).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/enforcements", tag = "supervision", responses((status = 200, body = Vec<dengbao_app::enforcement::EnforcementView>, description = "The art. 40 enforcements the caller is a party to: as authority, operator, or department in charge informed")))]
pub async fn enforcements(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Vec<dengbao_app::enforcement::EnforcementView>>> {
    Ok(Json(dengbao_app::enforcement::list(&state, &c).await?))
}

#[utoipa::path(get, path = "/api/v1/enforcements/{id}", tag = "supervision", params(("id" = String, Path)), responses((status = 200, body = dengbao_app::enforcement::EnforcementView), (status = 404)))]
pub async fn enforcement(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<dengbao_app::enforcement::EnforcementView>> {
    Ok(Json(dengbao_app::enforcement::get(&state, &c, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/enforcements/{id}/warning", tag = "supervision", params(("id" = String, Path)), responses((status = 200, body = dengbao_app::enforcement::EnforcementView, description = "Warned, and the operator's departments in charge informed (art. 40)"), (status = 403), (status = 404), (status = 409, description = "Before the time limit, already warned or closed, or corrected")))]
pub async fn warn(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<dengbao_app::enforcement::EnforcementView>> {
    Ok(Json(dengbao_app::enforcement::warn(&state, &c, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/enforcements/{id}/close", tag = "supervision", params(("id" = String, Path)), responses((status = 200, body = dengbao_app::enforcement::EnforcementView, description = "Closed as corrected"), (status = 403), (status = 404), (status = 409)))]
pub async fn close(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<dengbao_app::enforcement::EnforcementView>> {
    Ok(Json(
        dengbao_app::enforcement::close(&state, &c, &id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/supervision/{operator}/systems/{id}/info-requests", tag = "supervision", params(("operator" = String, Path), ("id" = String, Path)), request_body = supervision::InfoRequestInput, responses((status = 200, body = supervision::InfoRequestView, description = "Asked (art. 19): the operator sees the request and its due date"), (status = 403), (status = 404), (status = 422)))]
pub async fn request_info(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((operator, id)): Path<(String, String)>,
    Body(input): Body<supervision::InfoRequestInput>,
) -> ApiResult<Json<supervision::InfoRequestView>> {
    Ok(Json(
        supervision::request_info(&state, &c, &operator, &id, input).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/info-requests", tag = "supervision", responses((status = 200, body = Vec<supervision::InfoRequestView>, description = "A supervisor's requests of art. 19, or an operator's to answer; open first")))]
pub async fn info_requests(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Vec<supervision::InfoRequestView>>> {
    Ok(Json(supervision::info_requests(&state, &c).await?))
}

#[utoipa::path(get, path = "/api/v1/info-requests/{id}", tag = "supervision", params(("id" = String, Path)), responses((status = 200, body = supervision::InfoRequestView), (status = 404)))]
pub async fn info_request(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<supervision::InfoRequestView>> {
    Ok(Json(supervision::info_request(&state, &c, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/info-requests/{id}/answer", tag = "supervision", params(("id" = String, Path)), request_body = supervision::InfoAnswerInput, responses((status = 200, body = supervision::InfoRequestView, description = "Answered, once"), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn answer_info(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<supervision::InfoAnswerInput>,
) -> ApiResult<Json<supervision::InfoRequestView>> {
    Ok(Json(
        supervision::answer_info(&state, &c, &id, input).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/info-requests/{id}/files/{sha256}", tag = "supervision", params(("id" = String, Path), ("sha256" = String, Path, description = "The hex SHA-256 of one of the answer's `files`")), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>, description = "The file as it was when the answer gave it"), (status = 404)))]
pub async fn info_file(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path((id, sha256)): Path<(String, String)>,
) -> ApiResult<axum::response::Response> {
    let (f, bytes) = supervision::info_file(&state, &c, &id, &sha256).await?;
    Ok(crate::web::attachment(&f.file_name, bytes))
}
