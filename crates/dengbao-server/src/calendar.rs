//! The obligations feed: creating and revoking its secret URL (JSON API), and serving it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dengbao_app::calendar::{self, FeedUrl};

use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/calendar/feed", tag = "obligations", responses((status = 201, body = FeedUrl, description = "A new secret feed URL; the previous one stops working")))]
pub async fn create_feed(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<(StatusCode, Json<FeedUrl>)> {
    Ok((
        StatusCode::CREATED,
        Json(calendar::create_feed(&state, &c).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/calendar/feed", tag = "obligations", responses((status = 204, description = "Every feed URL of the organisation stops working")))]
pub async fn revoke_feed(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<StatusCode> {
    calendar::revoke_feed(&state, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /calendar/{token}.ics` — not under the JSON API and not in its OpenAPI document: a
/// capability URL, authenticated by possession of the token.
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> ApiResult<Response> {
    let token = file.strip_suffix(".ics").ok_or_else(ApiError::not_found)?;
    let mut r = calendar::feed(&state, token).await?.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    Ok(r)
}
