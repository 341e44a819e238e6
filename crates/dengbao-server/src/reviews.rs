//! The public security organ's review of record filings (Measures art. 17), and the public
//! check of a filing certificate.

use axum::Json;
use axum::extract::{Path, State};
use dengbao_app::dto::DossierResponse;
use dengbao_app::reviews::{self, CertificateView, DecisionInput, DecisionOutcome, ReviewItem};

use crate::Body;
use crate::auth::Authed;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/reviews", tag = "reviews", responses((status = 200, body = Vec<ReviewItem>, description = "The filings routed to the caller's public security organ, overdue reviews first, each with its art. 17 due date")))]
pub async fn queue(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Vec<ReviewItem>>> {
    Ok(Json(reviews::queue(&state, &c).await?))
}

#[utoipa::path(get, path = "/api/v1/reviews/{id}", tag = "reviews", params(("id" = String, Path)), responses((status = 200, body = ReviewItem), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<ReviewItem>> {
    Ok(Json(reviews::get(&state, &c, &id).await?))
}

#[utoipa::path(get, path = "/api/v1/reviews/{id}/dossier", tag = "reviews", params(("id" = String, Path)), responses((status = 200, body = DossierResponse, description = "The filed object's art. 16 dossier, for the organ reviewing it"), (status = 404)))]
pub async fn dossier(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<DossierResponse>> {
    Ok(Json(reviews::dossier(&state, &c, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/reviews/{id}/receive", tag = "reviews", params(("id" = String, Path)), responses((status = 200, body = ReviewItem, description = "Received today; the art. 17 clock runs (a filing_received event for the operator)"), (status = 403), (status = 404), (status = 409, description = "Not waiting to be received")))]
pub async fn receive(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<ReviewItem>> {
    Ok(Json(reviews::receive(&state, &c, &id).await?))
}

#[utoipa::path(post, path = "/api/v1/reviews/{id}/decision", tag = "reviews", params(("id" = String, Path)), request_body = DecisionInput, responses((status = 200, body = DecisionOutcome, description = "Decided: a certificate (with its number and signature), a notice to correct or a notice to re-grade, each the operator's event"), (status = 403), (status = 404), (status = 409, description = "Not received, or already decided"), (status = 422)))]
pub async fn decide(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
    Body(input): Body<DecisionInput>,
) -> ApiResult<Json<DecisionOutcome>> {
    Ok(Json(reviews::decide(&state, &c, &id, input).await?))
}

#[utoipa::path(get, path = "/api/v1/certificates/{number}", tag = "reviews", params(("number" = String, Path)), security(()), responses((status = 200, body = CertificateView, description = "The certificate's text, signed note and whether it verifies — public: whoever holds a certificate can check it"), (status = 404)))]
pub async fn certificate(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> ApiResult<Json<CertificateView>> {
    Ok(Json(reviews::certificate(&state, &number).await?))
}
