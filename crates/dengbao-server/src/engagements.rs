//! Evaluation engagements (Measures art. 14, 22, 23): the operator engages an agency for an
//! object and a period, with its eligibility checked; the engaged agency records the
//! evaluation.

use axum::Json;
use axum::extract::{Path, State};
use dengbao_app::engagements::{self, AgencyView, EngageInput, EngagementView, EvaluationInput};

use crate::Body;
use crate::auth::Authed;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/evaluation-agencies", tag = "evaluations", responses((status = 200, body = Vec<AgencyView>, description = "The evaluation agencies on the platform")))]
pub async fn agencies(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Vec<AgencyView>>> {
    Ok(Json(engagements::agencies(&state, &c).await?))
}

#[utoipa::path(post, path = "/api/v1/systems/{id}/engagements", tag = "evaluations", params(("id" = String, Path)), request_body = EngageInput, responses((status = 200, body = EngagementView, description = "Engaged: the agency sees the object while the engagement runs"), (status = 403), (status = 404), (status = 422, description = "A bad field, or an agency not eligible for the object's grade (Measures art. 22) without override_reason")))]
pub async fn engage(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<EngageInput>,
) -> ApiResult<Json<EngagementView>> {
    Ok(Json(engagements::engage(&state, &c, &id, input).await?))
}

#[utoipa::path(get, path = "/api/v1/engagements", tag = "evaluations", responses((status = 200, body = Vec<EngagementView>, description = "An operator's engagements; an agency's while they run")))]
pub async fn list(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Vec<EngagementView>>> {
    Ok(Json(engagements::list(&state, &c).await?))
}

#[utoipa::path(get, path = "/api/v1/engagements/{id}", tag = "evaluations", params(("id" = String, Path)), responses((status = 200, body = EngagementView), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<EngagementView>> {
    Ok(Json(engagements::get(&state, &c, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/engagements/{id}/evaluation", tag = "evaluations", params(("id" = String, Path)), request_body = EvaluationInput, responses((status = 200, body = EngagementView, description = "Recorded: the operator's evaluation event, and the report as its evaluation_report material"), (status = 403), (status = 404, description = "Not engaged (before, after, or never)"), (status = 409, description = "Already recorded"), (status = 413), (status = 422)))]
pub async fn evaluate(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<EvaluationInput>,
) -> ApiResult<Json<EngagementView>> {
    Ok(Json(
        engagements::evaluate_object(&state, &c, &id, input).await?,
    ))
}
