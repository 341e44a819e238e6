//! Grading approval between parties (Measures art. 10): the operator's proposal, the expert
//! committee's opinion and the department in charge's decision.

use axum::Json;
use axum::extract::{Path, State};
use dengbao_app::grades::{self, GradeDecisionInput, GradeReviewItem, OpinionInput, ProposeInput};

use crate::Body;
use crate::auth::Authed;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/systems/{id}/grade-proposals", tag = "grading", params(("id" = String, Path)), request_body = ProposeInput, responses((status = 200, body = GradeReviewItem, description = "Proposed: sent to the department in charge, or first to the expert committee from Grade IV (Measures art. 10)"), (status = 403), (status = 404), (status = 409, description = "No department in charge or expert committee on the platform, or a proposal already under review"), (status = 422)))]
pub async fn propose(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<ProposeInput>,
) -> ApiResult<Json<GradeReviewItem>> {
    Ok(Json(grades::propose(&state, &c, &id, input).await?))
}

#[utoipa::path(get, path = "/api/v1/grade-reviews", tag = "grading", responses((status = 200, body = Vec<GradeReviewItem>, description = "The proposals the caller's organisation is a party to — as operator, department in charge or expert committee — its open work first")))]
pub async fn queue(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Vec<GradeReviewItem>>> {
    Ok(Json(grades::queue(&state, &c).await?))
}

#[utoipa::path(get, path = "/api/v1/grade-reviews/{id}", tag = "grading", params(("id" = String, Path)), responses((status = 200, body = GradeReviewItem), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<GradeReviewItem>> {
    Ok(Json(grades::get(&state, &c, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/grade-reviews/{id}/opinion", tag = "grading", params(("id" = String, Path)), request_body = OpinionInput, responses((status = 200, body = GradeReviewItem, description = "The expert committee's signed opinion, filed as the object's expert_review material (art. 16(6)); the proposal goes to the department"), (status = 403), (status = 404), (status = 409, description = "Not awaiting the committee"), (status = 422)))]
pub async fn opinion(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<OpinionInput>,
) -> ApiResult<Json<GradeReviewItem>> {
    Ok(Json(grades::opinion(&state, &c, &id, input).await?))
}

#[utoipa::path(post, path = "/api/v1/grade-reviews/{id}/decision", tag = "grading", params(("id" = String, Path)), request_body = GradeDecisionInput, responses((status = 200, body = GradeReviewItem, description = "Approved (the operator's grade_determined event and its department_approval material, art. 16(7)) or returned with reasons"), (status = 403), (status = 404), (status = 409, description = "Not awaiting the department (the expert committee first, from Grade IV)"), (status = 422)))]
pub async fn decide(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<GradeDecisionInput>,
) -> ApiResult<Json<GradeReviewItem>> {
    Ok(Json(grades::decide(&state, &c, &id, input).await?))
}

#[utoipa::path(post, path = "/api/v1/uniform-gradings", tag = "grading", request_body = dengbao_app::grades::UniformInput, responses((status = 200, body = dengbao_app::grades::UniformView, description = "Graded uniformly: each branch at the operators the department supervises has its grade_determined event (Measures art. 10 ¶2)"), (status = 403, description = "Not a department in charge's lead"), (status = 409, description = "No branch of the system at the operators it supervises"), (status = 422)))]
pub async fn uniform(
    State(state): State<AppState>,
    Authed(c): Authed,
    Body(input): Body<dengbao_app::grades::UniformInput>,
) -> ApiResult<Json<dengbao_app::grades::UniformView>> {
    Ok(Json(grades::grade_uniformly(&state, &c, input).await?))
}
