//! The ledger as the server sees it: a tree of every entry's recorded leaf hash, synced from
//! the store; checkpoints signed at least every second while the log grows (and on demand);
//! and read-only endpoints. An organisation reads only its own entries and proofs; tree
//! heads and consistency proofs are hashes only, and open to any user.

use std::sync::RwLock;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use dengbao_ledger::{Checkpoint, NoteSigner, Tree};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Permission, Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Default)]
pub struct Ledger {
    tree: RwLock<Tree>,
    signer: RwLock<Option<NoteSigner>>,
}

impl Ledger {
    pub fn set_signer(&self, s: NoteSigner) {
        if let Ok(mut w) = self.signer.write() {
            *w = Some(s);
        }
    }
    pub fn public_key(&self) -> Option<String> {
        self.signer
            .read()
            .ok()?
            .as_ref()
            .map(|s| s.verifier().to_key_string())
    }
}

/// Brings the node's tree up to the stored log; returns its size.
pub async fn sync(state: &AppState) -> ApiResult<u64> {
    loop {
        let len = state.ledger.tree.read().map_err(ApiError::internal)?.len();
        let rows = state.store.ledger_leaf_hashes(len as i64, 50_000).await?;
        if rows.is_empty() {
            return Ok(len);
        }
        let mut tree = state.ledger.tree.write().map_err(ApiError::internal)?;
        for (seq, hex) in rows {
            // Another task may have appended meanwhile; only the next leaf in order counts.
            if seq as u64 != tree.len() {
                continue;
            }
            tree.push(dengbao_ledger::hash_from_hex(&hex).ok_or_else(|| {
                ApiError::internal(format!("ledger entry {seq} has a malformed leaf hash"))
            })?);
        }
    }
}

/// Signs a checkpoint for the current tree if it grew since the last one; returns the
/// latest `(size, note)`.
pub async fn checkpoint(state: &AppState) -> ApiResult<Option<(i64, String)>> {
    let size = sync(state).await?;
    let latest = state.store.latest_checkpoint().await?;
    if latest.as_ref().is_some_and(|(s, _)| *s as u64 >= size) || size == 0 {
        return Ok(latest);
    }
    let note = {
        let signer = state.ledger.signer.read().map_err(ApiError::internal)?;
        let Some(signer) = signer.as_ref() else {
            return Ok(latest);
        };
        let root = state
            .ledger
            .tree
            .read()
            .map_err(ApiError::internal)?
            .root_at(size)
            .map_err(ApiError::internal)?;
        signer
            .sign_checkpoint(&Checkpoint {
                origin: signer.name.clone(),
                size,
                root,
            })
            .map_err(ApiError::internal)?
    };
    state
        .store
        .put_checkpoint(size as i64, &note, state.clock.now_ms())
        .await?;
    Ok(state.store.latest_checkpoint().await?)
}

/// Signs a checkpoint every second while there are new entries.
pub fn spawn_checkpointer(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = checkpoint(&state).await {
                tracing::warn!(detail = %e.detail, "checkpoint failed");
            }
        }
    });
}

fn may_read(p: &Principal) -> ApiResult<()> {
    if p.can(Permission::Read) || p.can(Permission::ReadAudit) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "reading the ledger needs a member, security lead or audit administrator role",
        ))
    }
}

/// The organisation kind of the platform itself (the one running the server).
pub const PLATFORM_KIND: &str = "platform";

/// Whose entries the caller reads: its own organisation's — or, for the audit administrator
/// of the platform organisation, every organisation's (the supervisor of the log itself).
async fn scope(state: &AppState, p: &Principal) -> ApiResult<Option<String>> {
    if p.roles.contains(&Role::AuditAdmin)
        && state.store.organisation(&p.tenant_id).await?.kind == PLATFORM_KIND
    {
        Ok(None)
    } else {
        Ok(Some(p.tenant_id.clone()))
    }
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
pub async fn get_checkpoint(State(state): State<AppState>, p: Principal) -> ApiResult<Response> {
    may_read(&p)?;
    let (_, note) = state
        .store
        .latest_checkpoint()
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(text(note))
}

#[utoipa::path(post, path = "/api/v1/ledger/checkpoint", tag = "ledger", responses((status = 200, description = "A checkpoint of the log as it is now", content_type = "text/plain"), (status = 404, description = "The log is empty")))]
pub async fn post_checkpoint(State(state): State<AppState>, p: Principal) -> ApiResult<Response> {
    may_read(&p)?;
    let (_, note) = checkpoint(&state).await?.ok_or_else(ApiError::not_found)?;
    Ok(text(note))
}

#[utoipa::path(get, path = "/api/v1/ledger/public-key", tag = "ledger", responses((status = 200, description = "The SM2 key checkpoints are signed with", content_type = "text/plain")))]
pub async fn public_key(State(state): State<AppState>, p: Principal) -> ApiResult<Response> {
    may_read(&p)?;
    Ok(text(format!(
        "{}\n",
        state.ledger.public_key().ok_or_else(ApiError::not_found)?
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First sequence number (default 0).
    pub from: Option<i64>,
    /// At most this many (1–1000, default 100).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerEntry {
    pub seq: i64,
    /// The canonical entry: action, actor, object, request id, seq, SM3 of the new state, tenant, time.
    #[schema(value_type = Object)]
    pub entry: Value,
    pub leaf_hash: String,
}

#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "ledger", params(RangeQuery), responses((status = 200, body = Vec<LedgerEntry>)))]
pub async fn entries(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<RangeQuery>,
) -> ApiResult<Json<Vec<LedgerEntry>>> {
    may_read(&p)?;
    let from = q.from.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "1–1000"));
    }
    let rows = state
        .store
        .ledger_entries(scope(&state, &p).await?.as_deref(), from, limit)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| LedgerEntry {
                seq: r.seq,
                entry: serde_json::from_str(&r.entry).unwrap_or(Value::Null),
                leaf_hash: r.leaf_hash,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProofQuery {
    /// Tree size to prove against (default: the latest checkpoint's).
    pub size: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/ledger/entries/{seq}/proof", tag = "ledger", params(("seq" = i64, Path), ProofQuery),
    responses((status = 200, description = "`{ proof, checkpoint }`: an inclusion proof file for `dengbao ledger check-proof`, and the signed checkpoint it is against", body = Object), (status = 404)))]
pub async fn proof(
    State(state): State<AppState>,
    p: Principal,
    Path(seq): Path<i64>,
    Query(q): Query<ProofQuery>,
) -> ApiResult<Json<Value>> {
    may_read(&p)?;
    let row = state
        .store
        .ledger_entries(scope(&state, &p).await?.as_deref(), seq, 1)
        .await?
        .into_iter()
        .next()
        .filter(|r| r.seq == seq)
        .ok_or_else(ApiError::not_found)?;
    let latest = state.store.latest_checkpoint().await?;
    let size = match (q.size, &latest) {
        (Some(s), _) => s,
        (None, Some((s, _))) => *s,
        (None, None) => return Err(ApiError::not_found()),
    };
    if size <= seq {
        return Err(ApiError::invalid(
            "size",
            format!("entry {seq} is not in a tree of {size}"),
        ));
    }
    sync(&state).await?;
    let path = state
        .ledger
        .tree
        .read()
        .map_err(ApiError::internal)?
        .inclusion_proof(seq as u64, size as u64)
        .map_err(|e| ApiError::invalid("size", e.to_string()))?;
    let note = state
        .store
        .checkpoints()
        .await?
        .into_iter()
        .find(|(s, _)| *s == size)
        .map(|(_, n)| n);
    Ok(Json(json!({
        "proof": { "type": "inclusion", "index": seq, "tree_size": size, "entry": B64.encode(row.entry.as_bytes()), "path": path.iter().map(|h| B64.encode(h)).collect::<Vec<_>>() },
        "checkpoint": note,
    })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    pub old: i64,
    pub new: i64,
}

#[utoipa::path(get, path = "/api/v1/ledger/consistency", tag = "ledger", params(ConsistencyQuery), responses((status = 200, description = "A consistency proof file for `dengbao ledger check-proof --old-checkpoint`", body = Object), (status = 422)))]
pub async fn consistency(
    State(state): State<AppState>,
    p: Principal,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<Value>> {
    may_read(&p)?;
    if q.old < 0 || q.new < q.old {
        return Err(ApiError::invalid("old", "0 ≤ old ≤ new"));
    }
    sync(&state).await?;
    let path = state
        .ledger
        .tree
        .read()
        .map_err(ApiError::internal)?
        .consistency_proof(q.old as u64, q.new as u64)
        .map_err(|e| ApiError::invalid("new", e.to_string()))?;
    Ok(Json(
        json!({ "type": "consistency", "old_size": q.old, "new_size": q.new, "path": path.iter().map(|h| B64.encode(h)).collect::<Vec<_>>() }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    pub seq: i64,
    #[schema(value_type = Object)]
    pub entry: Value,
    /// The entry is in the tree of the latest signed checkpoint (its inclusion proof checks
    /// out against the signed root).
    pub verified: bool,
}

#[derive(Serialize, ToSchema)]
pub struct History {
    /// Size of the checkpoint the marks refer to (entries after it are not yet verified).
    pub checkpoint_size: Option<i64>,
    pub checkpoint: Option<String>,
    pub entries: Vec<HistoryEntry>,
}

#[utoipa::path(get, path = "/api/v1/systems/{id}/history", tag = "ledger", params(("id" = String, Path)),
    responses((status = 200, body = History, description = "Every change to the object from the ledger, each checked against the latest signed checkpoint"), (status = 404)))]
pub async fn history(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<History>> {
    p.require(Permission::Read)?;
    state.store.system(&p.tenant_id, &id).await?;
    let rows = state.store.ledger_entries_about(&p.tenant_id, &id).await?;
    let latest = state.store.latest_checkpoint().await?;
    let signed = match (
        &latest,
        state
            .ledger
            .signer
            .read()
            .map_err(ApiError::internal)?
            .as_ref(),
    ) {
        (Some((_, note)), Some(signer)) => signer
            .verifier()
            .open(note)
            .ok()
            .and_then(|b| Checkpoint::parse_body(b).ok()),
        _ => None,
    };
    sync(&state).await?;
    let tree = state.ledger.tree.read().map_err(ApiError::internal)?;
    let entries = rows
        .into_iter()
        .map(|r| {
            let verified = signed.as_ref().is_some_and(|c| {
                (r.seq as u64) < c.size
                    && tree
                        .inclusion_proof(r.seq as u64, c.size)
                        .is_ok_and(|path| {
                            dengbao_ledger::verify_inclusion(
                                r.seq as u64,
                                c.size,
                                &dengbao_ledger::leaf_hash(r.entry.as_bytes()),
                                &path,
                                &c.root,
                            )
                        })
            });
            HistoryEntry {
                seq: r.seq,
                entry: serde_json::from_str(&r.entry).unwrap_or(Value::Null),
                verified,
            }
        })
        .collect();
    Ok(Json(History {
        checkpoint_size: latest.as_ref().map(|(s, _)| *s),
        checkpoint: latest.map(|(_, n)| n),
        entries,
    }))
}

/// What `dengbao ledger verify` found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub entries: u64,
    pub checkpoints: u64,
    /// Problems in log order; the first names the first bad index.
    pub problems: Vec<String>,
}

use dengbao_ledger::to_hex as hex;

/// Recomputes the whole tree from the stored entry texts and checks every stored
/// checkpoint against it: an edited entry is named by its index; an entry edited together
/// with its recorded hash is caught by the first checkpoint signed after it.
pub async fn verify_store(
    store: &dengbao_store::Store,
    verifier: &dengbao_ledger::NoteVerifier,
) -> Result<VerifyReport, dengbao_store::StoreError> {
    let mut report = VerifyReport::default();
    let mut tree = Tree::new();
    loop {
        let rows = store
            .ledger_entries(None, tree.len() as i64, 50_000)
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            if r.seq as u64 != tree.len() {
                report.problems.push(format!(
                    "entry {}: expected sequence number {} — an entry is missing or duplicated",
                    r.seq,
                    tree.len()
                ));
            }
            let leaf = dengbao_ledger::leaf_hash(r.entry.as_bytes());
            if hex(&leaf) != r.leaf_hash {
                report.problems.push(format!("entry {}: its text does not match the hash recorded when it was appended (recorded {}, text hashes to {}): the entry was changed", r.seq, r.leaf_hash, hex(&leaf)));
            }
            match serde_json::from_str::<Value>(&r.entry) {
                Ok(v) if v["seq"] == json!(r.seq) => {}
                _ => report.problems.push(format!(
                    "entry {}: not a canonical entry for this position",
                    r.seq
                )),
            }
            tree.push(leaf);
        }
    }
    report.entries = tree.len();
    let mut last_good = 0;
    for (size, note) in store.checkpoints().await? {
        report.checkpoints += 1;
        let c = match verifier.open(&note).and_then(Checkpoint::parse_body) {
            Ok(c) => c,
            Err(e) => {
                report
                    .problems
                    .push(format!("checkpoint at size {size}: {e}"));
                continue;
            }
        };
        if c.size != size as u64 || c.origin != verifier.name {
            report.problems.push(format!(
                "checkpoint at size {size}: its body says size {} of `{}`",
                c.size, c.origin
            ));
            continue;
        }
        match tree.root_at(c.size) {
            Ok(root) if root == c.root => last_good = c.size,
            Ok(root) => report.problems.push(format!(
                "checkpoint at size {size}: the log's root at that size is {}, the signed one {} — an entry in [{last_good}, {size}) changed after the checkpoint was signed",
                hex(&root),
                hex(&c.root)
            )),
            Err(_) => report.problems.push(format!("checkpoint at size {size}: the log has only {} entries — entries were removed", tree.len())),
        }
    }
    Ok(report)
}
