//! The ledger as a node sees it: a tree of every entry's recorded leaf hash, synced from
//! the store; checkpoints signed at least every second while the log grows (and on demand);
//! reads of entries, inclusion and consistency proofs, an object's verified history, and
//! the full verification of the stored log. An organisation reads only its own entries and
//! proofs (the guard's scope); tree heads and consistency proofs are hashes only.

use std::sync::RwLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use dengbao_guard::{Action, Resource};
use dengbao_ledger::{Checkpoint, NoteSigner, Tree};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::{App, Caller};

#[derive(Default)]
pub struct Ledger {
    tree: RwLock<Tree>,
    signer: RwLock<Option<NoteSigner>>,
    /// Set, for the life of the process, once the stored log is found not to reproduce a
    /// checkpoint this deployment signed: nothing is signed after that.
    fork: RwLock<Option<String>>,
    /// The largest checkpoint of this deployment's key the tree was found to reproduce.
    checked: RwLock<u64>,
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
    /// What is wrong with the stored log, if it no longer reproduces what was signed.
    pub fn fork(&self) -> Option<String> {
        self.fork.read().ok().and_then(|f| f.clone())
    }
    /// Signs `body` as a C2SP signed note with the deployment's key.
    pub fn sign_note(&self, body: &str) -> AppResult<String> {
        let signer = self.signer.read().map_err(AppError::internal)?;
        let signer = signer
            .as_ref()
            .ok_or_else(|| AppError::internal("no signing key loaded"))?;
        signer.sign(body).map_err(AppError::internal)
    }
    /// Whether `note` carries a valid signature of the deployment's key over `body`.
    pub fn verifies(&self, note: &str, body: &str) -> bool {
        self.signer.read().ok().is_some_and(|s| {
            s.as_ref()
                .is_some_and(|s| s.verifier().open(note).is_ok_and(|b| b == body))
        })
    }
}

/// Brings the node's tree up to the stored log; returns its size.
pub async fn sync(app: &App) -> AppResult<u64> {
    loop {
        let len = app.ledger.tree.read().map_err(AppError::internal)?.len();
        let rows = app.store.ledger_leaf_hashes(len as i64, 50_000).await?;
        if rows.is_empty() {
            return Ok(len);
        }
        let mut tree = app.ledger.tree.write().map_err(AppError::internal)?;
        for (seq, hex) in rows {
            // Another task may have appended meanwhile; only the next leaf in order counts.
            if seq as u64 != tree.len() {
                continue;
            }
            tree.push(dengbao_ledger::hash_from_hex(&hex).ok_or_else(|| {
                AppError::internal(format!("ledger entry {seq} has a malformed leaf hash"))
            })?);
        }
    }
}

/// Checks the node's tree against the latest checkpoint this deployment signed: its
/// signature, and that the tree at its size has its root. A log rewritten under a signed
/// checkpoint (entry text and recorded hash edited together) is a fork: it is remembered,
/// reported with the range that changed, and nothing is signed over it.
pub async fn check_fork(app: &App) -> AppResult<Option<String>> {
    if let Some(f) = app.ledger.fork() {
        return Ok(Some(f));
    }
    let size = sync(app).await?;
    let Some(verifier) = app
        .ledger
        .signer
        .read()
        .map_err(AppError::internal)?
        .as_ref()
        .map(NoteSigner::verifier)
    else {
        return Ok(None);
    };
    let root_at = |n: u64| app.ledger.tree.read().ok().and_then(|t| t.root_at(n).ok());
    let ours = |note: &str| {
        verifier
            .open(note)
            .and_then(Checkpoint::parse_body)
            .ok()
            .filter(|c| c.origin == verifier.name)
    };
    // The newest checkpoint this key signed, newer than the last one checked (checkpoints of
    // another key — a rotated one, another deployment — vouch for nothing of ours).
    let checked = *app.ledger.checked.read().map_err(AppError::internal)?;
    let mut before = i64::MAX;
    let mut newest = None;
    'pages: loop {
        // Usually the newest row is ours and already checked: a few rows at a time.
        let page = app.store.checkpoints_before(before, 16).await?;
        let Some(last) = page.last() else { break };
        before = last.0;
        for (s, note) in &page {
            if (*s as u64) <= checked {
                break 'pages;
            }
            if let Some(c) = ours(note) {
                newest = Some(c);
                break 'pages;
            }
        }
    }
    let Some(c) = newest else {
        return Ok(None);
    };
    let problem = if c.size > size {
        Some(format!(
            "a checkpoint was signed at size {} but the log has {size} entries: entries were removed",
            c.size
        ))
    } else if root_at(c.size) == Some(c.root) {
        if let Ok(mut k) = app.ledger.checked.write() {
            *k = (*k).max(c.size);
        }
        None
    } else {
        // The largest earlier checkpoint of ours the log still reproduces bounds the change.
        let mut good = 0;
        for (_, n) in app.store.checkpoints().await?.into_iter().rev() {
            if let Some(e) = ours(&n).filter(|e| e.size < c.size) {
                if root_at(e.size) == Some(e.root) {
                    good = e.size;
                    break;
                }
            }
        }
        Some(format!(
            "the log no longer reproduces the checkpoint signed at size {}: an entry in [{good}, {}) was rewritten after it was signed",
            c.size, c.size
        ))
    };
    if let Some(p) = &problem {
        tracing::error!(problem = %p, "ledger fork: refusing to sign");
        if let Ok(mut f) = app.ledger.fork.write() {
            *f = Some(p.clone());
        }
    }
    Ok(problem)
}

/// Signs a checkpoint for the current tree if it grew since the last one; returns the
/// latest `(size, note)`. Refuses (503) over a log that does not reproduce what was signed.
pub async fn checkpoint(app: &App) -> AppResult<Option<(i64, String)>> {
    if let Some(f) = check_fork(app).await? {
        return Err(AppError::new(
            crate::ErrorKind::Unavailable,
            "ledger-fork",
            format!("refusing to sign a checkpoint: {f}"),
        ));
    }
    let size = sync(app).await?;
    let latest = app.store.latest_checkpoint().await?;
    if latest.as_ref().is_some_and(|(s, _)| *s as u64 >= size) || size == 0 {
        return Ok(latest);
    }
    let note = {
        let signer = app.ledger.signer.read().map_err(AppError::internal)?;
        let Some(signer) = signer.as_ref() else {
            return Ok(latest);
        };
        let root = app
            .ledger
            .tree
            .read()
            .map_err(AppError::internal)?
            .root_at(size)
            .map_err(AppError::internal)?;
        signer
            .sign_checkpoint(&Checkpoint {
                origin: signer.name.clone(),
                size,
                root,
            })
            .map_err(AppError::internal)?
    };
    app.store
        .put_checkpoint(size as i64, &note, app.clock.now_ms())
        .await?;
    Ok(app.store.latest_checkpoint().await?)
}

/// Signs a checkpoint every second while there are new entries.
pub fn spawn_checkpointer(app: App) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = checkpoint(&app).await {
                tracing::warn!(detail = %e.detail, "checkpoint failed");
            }
        }
    });
}

/// The organisation whose entries the caller reads (`None`: every organisation's — the
/// platform's audit administrator).
async fn scope(app: &App, c: &Caller) -> AppResult<Option<String>> {
    Ok(app
        .authorize(c, Action::ReadLedger, Resource::Ledger)
        .await?
        .org()
        .map(str::to_owned))
}

/// The latest signed checkpoint (a C2SP signed note).
pub async fn latest_checkpoint(app: &App, c: &Caller) -> AppResult<String> {
    scope(app, c).await?;
    let (_, note) = app
        .store
        .latest_checkpoint()
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(note)
}

/// A checkpoint of the log as it is now (signed if the log grew).
pub async fn checkpoint_now(app: &App, c: &Caller) -> AppResult<String> {
    scope(app, c).await?;
    let (_, note) = checkpoint(app).await?.ok_or_else(AppError::not_found)?;
    Ok(note)
}

/// The SM2 key checkpoints are signed with, in note-verifier form.
pub async fn public_key(app: &App, c: &Caller) -> AppResult<String> {
    scope(app, c).await?;
    app.ledger.public_key().ok_or_else(AppError::not_found)
}

/// The fields of a canonical entry (see `dengbao_store::canonical_entry`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryFields {
    pub action: String,
    pub actor: String,
    pub object: String,
    pub request_id: String,
    pub seq: i64,
    /// Hex SM3 of the new state.
    pub state: String,
    pub tenant: String,
    /// Epoch ms.
    pub time: i64,
}

fn fields(entry: &str) -> Option<EntryFields> {
    serde_json::from_str(entry).ok()
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerEntry {
    pub seq: i64,
    /// The canonical entry: action, actor, object, request id, seq, SM3 of the new state, tenant, time.
    pub entry: Option<EntryFields>,
    pub leaf_hash: String,
}

pub async fn entries(
    app: &App,
    c: &Caller,
    from: Option<i64>,
    limit: Option<i64>,
) -> AppResult<Vec<LedgerEntry>> {
    let scope = scope(app, c).await?;
    let from = from.unwrap_or(0);
    if from < 0 {
        return Err(AppError::invalid("from", "0 or more"));
    }
    let limit = limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::invalid("limit", "1–1000"));
    }
    let rows = app
        .store
        .ledger_entries(scope.as_deref(), from, limit)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| LedgerEntry {
            seq: r.seq,
            entry: fields(&r.entry),
            leaf_hash: r.leaf_hash,
        })
        .collect())
}

/// An inclusion proof in the form `dengbao ledger check-proof` reads.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InclusionProof {
    /// `inclusion`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub index: i64,
    pub tree_size: i64,
    /// The entry's bytes, base64.
    pub entry: String,
    /// Sibling hashes from the leaf up, base64.
    pub path: Vec<String>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProofResponse {
    pub proof: InclusionProof,
    /// The signed checkpoint at `tree_size`, if one was signed at exactly that size.
    pub checkpoint: Option<String>,
}

pub async fn proof(app: &App, c: &Caller, seq: i64, size: Option<i64>) -> AppResult<ProofResponse> {
    let scope = scope(app, c).await?;
    let row = app
        .store
        .ledger_entries(scope.as_deref(), seq, 1)
        .await?
        .into_iter()
        .next()
        .filter(|r| r.seq == seq)
        .ok_or_else(AppError::not_found)?;
    let latest = app.store.latest_checkpoint().await?;
    let size = match (size, &latest) {
        (Some(s), _) => s,
        (None, Some((s, _))) => *s,
        (None, None) => return Err(AppError::not_found()),
    };
    if size <= seq {
        return Err(AppError::state(
            "size",
            format!("entry {seq} is not in a tree of {size}"),
        ));
    }
    sync(app).await?;
    let path = app
        .ledger
        .tree
        .read()
        .map_err(AppError::internal)?
        .inclusion_proof(seq as u64, size as u64)
        .map_err(|e| AppError::state("size", e.to_string()))?;
    let note = app
        .store
        .checkpoints()
        .await?
        .into_iter()
        .find(|(s, _)| *s == size)
        .map(|(_, n)| n);
    Ok(ProofResponse {
        proof: InclusionProof {
            kind: "inclusion",
            index: seq,
            tree_size: size,
            entry: B64.encode(row.entry.as_bytes()),
            path: path.iter().map(|h| B64.encode(h)).collect(),
        },
        checkpoint: note,
    })
}

/// A consistency proof in the form `dengbao ledger check-proof --old-checkpoint` reads.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsistencyProof {
    /// `consistency`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub old_size: i64,
    pub new_size: i64,
    pub path: Vec<String>,
}

pub async fn consistency(app: &App, c: &Caller, old: i64, new: i64) -> AppResult<ConsistencyProof> {
    scope(app, c).await?;
    if old < 0 || new < old {
        return Err(AppError::invalid("old", "0 ≤ old ≤ new"));
    }
    sync(app).await?;
    let path = app
        .ledger
        .tree
        .read()
        .map_err(AppError::internal)?
        .consistency_proof(old as u64, new as u64)
        .map_err(|e| AppError::state("new", e.to_string()))?;
    Ok(ConsistencyProof {
        kind: "consistency",
        old_size: old,
        new_size: new,
        path: path.iter().map(|h| B64.encode(h)).collect(),
    })
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub seq: i64,
    pub entry: Option<EntryFields>,
    /// The entry is in the tree of the latest signed checkpoint (its inclusion proof checks
    /// out against the signed root).
    pub verified: bool,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct History {
    /// Size of the checkpoint the marks refer to (entries after it are not yet verified).
    pub checkpoint_size: Option<i64>,
    pub checkpoint: Option<String>,
    pub entries: Vec<HistoryEntry>,
}

/// Every change to one object from the ledger, each checked against the latest signed
/// checkpoint.
pub async fn history(app: &App, c: &Caller, id: &str) -> AppResult<History> {
    let (row, _) = crate::systems::system_object(app, c, id).await?;
    let rows = app.store.ledger_entries_about(&row.tenant_id, id).await?;
    let latest = app.store.latest_checkpoint().await?;
    let signed = match (
        &latest,
        app.ledger
            .signer
            .read()
            .map_err(AppError::internal)?
            .as_ref(),
    ) {
        (Some((_, note)), Some(signer)) => signer
            .verifier()
            .open(note)
            .ok()
            .and_then(|b| Checkpoint::parse_body(b).ok()),
        _ => None,
    };
    sync(app).await?;
    let tree = app.ledger.tree.read().map_err(AppError::internal)?;
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
                entry: fields(&r.entry),
                verified,
            }
        })
        .collect();
    Ok(History {
        checkpoint_size: latest.as_ref().map(|(s, _)| *s),
        checkpoint: latest.map(|(_, n)| n),
        entries,
    })
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
pub async fn verify_ledger(
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
            match fields(&r.entry) {
                Some(f) if f.seq == r.seq => {}
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

/// Every ledger entry of `tenant` about `object`, each with its inclusion proof against one
/// signed checkpoint — what a party outside the tenant checks offline with the public key.
/// The caller has authorized the reader for `object`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// The signed checkpoint (C2SP note) every proof leads to.
    pub checkpoint: String,
    /// The key that signs checkpoints (note-verifier form).
    pub public_key: String,
    pub tree_size: i64,
    pub proofs: Vec<InclusionProof>,
}

pub(crate) async fn evidence_about(app: &App, tenant: &str, object: &str) -> AppResult<Evidence> {
    let (size, note) = match checkpoint(app).await? {
        Some(c) => c,
        None => app.store.latest_checkpoint().await?.ok_or_else(|| {
            AppError::new(
                crate::ErrorKind::Unavailable,
                "no-checkpoint",
                "no checkpoint is signed yet",
            )
        })?,
    };
    sync(app).await?;
    let rows = app.store.ledger_entries_about(tenant, object).await?;
    let tree = app.ledger.tree.read().map_err(AppError::internal)?;
    let mut proofs = Vec::new();
    for r in rows.into_iter().filter(|r| r.seq < size) {
        let path = tree
            .inclusion_proof(r.seq as u64, size as u64)
            .map_err(AppError::internal)?;
        proofs.push(InclusionProof {
            kind: "inclusion",
            index: r.seq,
            tree_size: size,
            entry: B64.encode(r.entry.as_bytes()),
            path: path.iter().map(|h| B64.encode(h)).collect(),
        });
    }
    Ok(Evidence {
        checkpoint: note,
        public_key: app.ledger.public_key().unwrap_or_default(),
        tree_size: size,
        proofs,
    })
}
