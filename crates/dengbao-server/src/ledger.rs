//! The ledger's read-only endpoints over `dengbao_app::ledger`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use dengbao_app::ledger::{self as app_ledger, ConsistencyProof, LedgerEntry, ProofResponse};
use serde::Deserialize;
use utoipa::IntoParams;

pub use dengbao_app::ledger::{Ledger, VerifyReport, checkpoint, sync, verify_ledger};

use crate::auth::Authed;
use crate::error::ApiResult;
use crate::state::AppState;

/// Signs a checkpoint every second while there are new entries.
pub fn spawn_checkpointer(state: AppState) {
    app_ledger::spawn_checkpointer(state.app);
}

fn text(body: String) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[utoipa::path(get, path = "/api/v1/ledger/checkpoint", tag = "ledger", responses((status = 200, description = "The latest signed checkpoint (C2SP signed note)", content_type = "text/plain"), (status = 404)))]
pub async fn get_checkpoint(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Response> {
    Ok(text(app_ledger::latest_checkpoint(&state, &c).await?))
}

#[utoipa::path(post, path = "/api/v1/ledger/checkpoint", tag = "ledger", responses((status = 200, description = "A checkpoint of the log as it is now", content_type = "text/plain"), (status = 404, description = "The log is empty")))]
pub async fn post_checkpoint(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Response> {
    Ok(text(app_ledger::checkpoint_now(&state, &c).await?))
}

#[utoipa::path(get, path = "/api/v1/ledger/public-key", tag = "ledger", responses((status = 200, description = "The SM2 key checkpoints are signed with", content_type = "text/plain")))]
pub async fn public_key(State(state): State<AppState>, Authed(c): Authed) -> ApiResult<Response> {
    Ok(text(format!(
        "{}\n",
        app_ledger::public_key(&state, &c).await?
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First sequence number (default 0).
    #[param(minimum = 0)]
    pub from: Option<i64>,
    /// At most this many (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "ledger", params(RangeQuery), responses((status = 200, body = Vec<LedgerEntry>)))]
pub async fn entries(
    State(state): State<AppState>,
    Authed(c): Authed,
    Query(q): Query<RangeQuery>,
) -> ApiResult<Json<Vec<LedgerEntry>>> {
    Ok(Json(
        app_ledger::entries(&state, &c, q.from, q.limit).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProofQuery {
    /// Tree size to prove against (default: the latest checkpoint's).
    #[param(minimum = 1)]
    pub size: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/ledger/entries/{seq}/proof", tag = "ledger", params(("seq" = i64, Path), ProofQuery),
    responses((status = 200, description = "`{ proof, checkpoint }`: an inclusion proof file for `dengbao ledger check-proof`, and the signed checkpoint it is against", body = ProofResponse), (status = 404), (status = 409, description = "The entry is not in a tree of that size")))]
pub async fn proof(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(seq): Path<i64>,
    Query(q): Query<ProofQuery>,
) -> ApiResult<Json<ProofResponse>> {
    Ok(Json(app_ledger::proof(&state, &c, seq, q.size).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The smaller tree size (0 ≤ old ≤ new).
    #[param(minimum = 0)]
    pub old: i64,
    #[param(minimum = 0)]
    pub new: i64,
}

#[utoipa::path(get, path = "/api/v1/ledger/consistency", tag = "ledger", params(ConsistencyQuery), responses((status = 200, description = "A consistency proof file for `dengbao ledger check-proof --old-checkpoint`", body = ConsistencyProof), (status = 409, description = "`new` is larger than the log"), (status = 422)))]
pub async fn consistency(
    State(state): State<AppState>,
    Authed(c): Authed,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyProof>> {
    Ok(Json(
        app_ledger::consistency(&state, &c, q.old, q.new).await?,
    ))
}
