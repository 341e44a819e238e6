//! The secret-involved and cryptography tracks (Measures art. 29–31, 36, 37): an operator's
//! submissions to the secrecy department and the cryptography administration, their
//! decisions, and the administrations' approved-product lists.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dengbao_app::submissions::{
    self, CryptoFilingInput, ListProductInput, ListedProduct, SecrecyApplicationInput,
    SecretChangeInput, SubmissionDecisionInput, SubmissionView,
};

use crate::Body;
use crate::auth::Authed;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/systems/{id}/secrecy-applications", tag = "submissions", params(("id" = String, Path)), request_body = SecrecyApplicationInput, responses((status = 200, body = SubmissionView, description = "Routed to the secrecy department at city level or above covering the object (art. 29 ¶2), with the art. 30 materials"), (status = 404), (status = 409, description = "One is already waiting"), (status = 422, description = "Not secret-involved, the art. 30 dossier incomplete (`missing`), or no department covers the division")))]
pub async fn apply_secrecy(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<SecrecyApplicationInput>,
) -> ApiResult<Json<SubmissionView>> {
    Ok(Json(
        submissions::apply_secrecy(&state, &c, &id, input).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/systems/{id}/secret-changes", tag = "submissions", params(("id" = String, Path)), request_body = SecretChangeInput, responses((status = 200, body = SubmissionView, description = "The change reported (art. 31): the operator's secret_change and change_reported events"), (status = 404), (status = 409), (status = 422)))]
pub async fn report_change(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<SecretChangeInput>,
) -> ApiResult<Json<SubmissionView>> {
    Ok(Json(
        submissions::report_secret_change(&state, &c, &id, input).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/systems/{id}/crypto-filings", tag = "submissions", params(("id" = String, Path)), request_body = CryptoFilingInput, responses((status = 200, body = SubmissionView, description = "Filed with the cryptography administration covering the object (art. 36), each product checked against the approved lists (art. 37)"), (status = 404), (status = 409), (status = 422)))]
pub async fn file_crypto(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<CryptoFilingInput>,
) -> ApiResult<Json<SubmissionView>> {
    Ok(Json(
        submissions::file_cryptography(&state, &c, &id, input).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/submissions", tag = "submissions", responses((status = 200, body = [SubmissionView], description = "An authority's inbox (waiting first), or an operator's own submissions")))]
pub async fn list(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Vec<SubmissionView>>> {
    Ok(Json(submissions::submissions(&state, &c).await?))
}

#[utoipa::path(get, path = "/api/v1/submissions/{id}", tag = "submissions", params(("id" = String, Path)), responses((status = 200, body = SubmissionView), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<SubmissionView>> {
    Ok(Json(submissions::submission(&state, &c, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/submissions/{id}/decision", tag = "submissions", params(("id" = String, Path)), request_body = SubmissionDecisionInput, responses((status = 200, body = SubmissionView, description = "Decided: an approval or record is the operator's secrecy_approval event, an accepted usage filing its cryptography_usage_filed event"), (status = 403, description = "Not the authority's lead"), (status = 404), (status = 409, description = "Decided already"), (status = 422)))]
pub async fn decide(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<SubmissionDecisionInput>,
) -> ApiResult<Json<SubmissionView>> {
    Ok(Json(submissions::decide(&state, &c, &id, input).await?))
}

#[utoipa::path(get, path = "/api/v1/crypto-product-list", tag = "submissions", responses((status = 200, body = [ListedProduct], description = "Every administration's approved cryptographic products, withdrawn ones marked (art. 37)")))]
pub async fn product_list(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Vec<ListedProduct>>> {
    Ok(Json(submissions::product_list(&state, &c).await?))
}

#[utoipa::path(post, path = "/api/v1/crypto-product-list", tag = "submissions", request_body = ListProductInput, responses((status = 201, body = ListedProduct, description = "Listed on the caller's administration's list"), (status = 403, description = "Not a cryptography administration's lead"), (status = 409, description = "Listed already"), (status = 422)))]
pub async fn list_product(
    State(state): State<AppState>,
    Authed(c): Authed,
    Body(input): Body<ListProductInput>,
) -> ApiResult<(StatusCode, Json<ListedProduct>)> {
    Ok((
        StatusCode::CREATED,
        Json(submissions::list_product(&state, &c, input).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/crypto-product-list/{id}", tag = "submissions", params(("id" = String, Path)), responses((status = 204, description = "Withdrawn (the entry stays, marked)"), (status = 403), (status = 404)))]
pub async fn withdraw_product(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    submissions::withdraw_product(&state, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
