//! Group commit for records that stand alone in the ledger (security events such as log-ins,
//! lock-outs and log-outs; later the IDC systems' access events): many producers, one
//! transaction per batch, one durable commit for all of them. A caller's `append` returns
//! only after the commit that holds its record — each acknowledged record is on disk — and a
//! failed batch fails every caller in it, so nothing is acknowledged that was not written.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use serde_json::{Value, json};

use crate::{Audit, Backend, Result, Store, StoreError, Tx, canonical_entry};

/// A record to append: who did what to which object, when, and the bytes whose SM3 the entry
/// carries.
#[derive(Clone, Debug)]
pub struct Record {
    pub tenant: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub request_id: String,
    pub at: i64,
    pub state: Vec<u8>,
}

impl Record {
    fn audit(&self) -> Audit<'_> {
        Audit {
            actor: &self.actor,
            action: &self.action,
            object: &self.object,
            request_id: &self.request_id,
            at: self.at,
        }
    }
}

impl Store {
    /// Appends `records` in one transaction: their sequence numbers are taken from the
    /// locked head row at once (gapless, in commit order, also across processes), and
    /// entries and audit rows go in with one statement per table. An unknown organisation
    /// fails the whole call. Answers the first sequence number; record `i` has `first + i`.
    pub async fn append_records(&self, records: &[Record]) -> Result<i64> {
        if records.is_empty() {
            return Err(StoreError::Internal("nothing to append".into()));
        }
        let mut tx = self.begin().await?;
        let first: i64 = sqlx::query("UPDATE ledger_head SET next_seq = next_seq + $1 WHERE id = 1 RETURNING next_seq - $1 AS seq")
            .bind(records.len() as i64)
            .fetch_one(&mut *tx)
            .await
            .and_then(|r| sqlx::Row::try_get(&r, "seq"))?;
        insert_batch(&mut tx, self.backend, first, records).await?;
        // Stand-alone records change no compliance data: the organisations' data versions
        // (and the servers' caches keyed by them) stay as they are. The organisations must
        // exist, though.
        let mut tenants: Vec<&str> = records.iter().map(|r| r.tenant.as_str()).collect();
        tenants.sort_unstable();
        tenants.dedup();
        for t in tenants {
            sqlx::query("SELECT id FROM organisations WHERE id = $1")
                .bind(t)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        }
        tx.commit().await?;
        Ok(first)
    }
}

// The whole batch travels as one JSON array per table and is unpacked by the database:
// binding thousands of parameters costs more than the inserts themselves (sqlx's SQLite
// driver looks each parameter up by name).
const ENTRIES_SQLITE: &str = "INSERT INTO ledger_entries (seq, tenant_id, entry, leaf_hash) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]') FROM json_each($1)";
const ENTRIES_PG: &str = "INSERT INTO ledger_entries (seq, tenant_id, entry, leaf_hash) SELECT (e->>0)::bigint, e->>1, e->>2, e->>3 FROM jsonb_array_elements($1::jsonb) AS e";
const AUDIT_SQLITE: &str = "INSERT INTO audit_log (tenant_id, actor, action, object, request_id, at) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]') FROM json_each($1)";
const AUDIT_PG: &str = "INSERT INTO audit_log (tenant_id, actor, action, object, request_id, at) SELECT e->>0, e->>1, e->>2, e->>3, e->>4, (e->>5)::bigint FROM jsonb_array_elements($1::jsonb) AS e";

async fn insert_batch(tx: &mut Tx, backend: Backend, first: i64, records: &[Record]) -> Result<()> {
    let mut entries = Vec::with_capacity(records.len());
    let mut audit = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let seq = first + i as i64;
        let entry = canonical_entry(seq, &r.tenant, &r.audit(), &r.state);
        let leaf = dengbao_ledger::to_hex(&dengbao_ledger::leaf_hash(entry.as_bytes()));
        entries.push(json!([seq, r.tenant, entry, leaf]));
        audit.push(json!([
            r.tenant,
            r.actor,
            r.action,
            r.object,
            r.request_id,
            r.at
        ]));
    }
    let (e_sql, a_sql) = match backend {
        Backend::Sqlite => (ENTRIES_SQLITE, AUDIT_SQLITE),
        Backend::Postgres => (ENTRIES_PG, AUDIT_PG),
    };
    for (sql, rows) in [(e_sql, entries), (a_sql, audit)] {
        let n = rows.len();
        let done = sqlx::query(sql)
            .bind(Value::Array(rows).to_string())
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() != n as u64 {
            return Err(StoreError::Internal(format!(
                "batch insert wrote {} of {n} rows",
                done.rows_affected()
            )));
        }
    }
    Ok(())
}

type Reply = oneshot::Sender<std::result::Result<i64, Arc<StoreError>>>;

/// The group committer: a task that takes whatever records are waiting (up to `max_batch`),
/// appends them in one transaction, and answers each caller with its sequence number.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<(Record, Reply)>,
}

/// Why a record was not appended.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("the batch holding this record failed: {0}")]
    Failed(Arc<StoreError>),
    #[error("the group committer has stopped")]
    Stopped,
}

impl GroupCommit {
    /// Starts the committer on the current Tokio runtime. `max_batch` bounds one
    /// transaction; `queue` bounds the records waiting (callers wait when it is full).
    pub fn start(store: Store, max_batch: usize, queue: usize) -> GroupCommit {
        let (tx, mut rx) = mpsc::channel::<(Record, Reply)>(queue.max(1));
        let max_batch = max_batch.max(1);
        tokio::spawn(async move {
            let mut batch: Vec<(Record, Reply)> = Vec::with_capacity(max_batch);
            // Waits for the first record, then takes what else is already queued.
            while rx.recv_many(&mut batch, max_batch).await > 0 {
                let (records, replies): (Vec<Record>, Vec<Reply>) = batch.drain(..).unzip();
                match store.append_records(&records).await {
                    Ok(first) => {
                        for (i, reply) in replies.into_iter().enumerate() {
                            // A caller that stopped waiting is not an error of the batch.
                            let _ = reply.send(Ok(first + i as i64));
                        }
                    }
                    // One bad record must not fail its neighbours: the batch rolled back as
                    // a whole, so append each again on its own and answer each its result.
                    Err(_) => {
                        for (r, reply) in records.iter().zip(replies) {
                            let one = store.append_records(std::slice::from_ref(r)).await;
                            let _ = reply.send(one.map_err(Arc::new));
                        }
                    }
                }
            }
        });
        GroupCommit { queue: tx }
    }

    /// Appends one record; returns its sequence number once the record is committed.
    pub async fn append(&self, record: Record) -> std::result::Result<i64, AppendError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send((record, tx))
            .await
            .map_err(|_| AppendError::Stopped)?;
        match rx.await {
            Ok(Ok(seq)) => Ok(seq),
            Ok(Err(e)) => Err(AppendError::Failed(e)),
            Err(_) => Err(AppendError::Stopped),
        }
    }
}
