//! `dengbao-store`: persistence on SQLite (embedded default) and PostgreSQL.
//!
//! One schema, written in the SQL both understand, run through sqlx's `Any` driver with
//! runtime-checked, parameterized queries (`$1, $2, …` in order of first use, which SQLite
//! also accepts). One module per aggregate (`identity`, `relations`, `systems`, `registry`,
//! `ledger`, `calendar`, `audit`), each an `impl Store` block. Every row that belongs to an
//! organisation carries `tenant_id`, and every function that reads or writes such rows takes
//! the organisation (the scope `dengbao-guard` granted) and puts it in the `WHERE` clause.
//! The unscoped reads are deliberate: look-ups by a secret's hash or by log-in name, which
//! resolve *to* an organisation, and the ledger's global log.
//!
//! Writes to compliance data happen in one transaction (`Store::begin` …
//! `Store::finish_with`) that also appends an audit row and a ledger entry and bumps the
//! organisation's `data_version` (caches key on it). Updates carry the version the caller
//! read; a stale one is refused ([`StoreError::Stale`]).
//!
//! **Architecture invariant:** this is the only crate that knows SQL. It knows no HTTP and
//! no access rule, and stores grading facts as opaque JSON produced by `dengbao-app` from
//! `dengbao-core` types.

mod group;
mod schema;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

pub use group::{AppendError, GroupCommit, Record};
pub use schema::MIGRATIONS;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint (e.g. a username or an id already taken).
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("stale write: the record is at version {actual}, not {expected}")]
    Stale { expected: i64, actual: i64 },
    /// A row the change refers to does not exist (a registry entry named by a system).
    #[error("refers to something that does not exist: {0}")]
    Dangling(String),
    /// Our fault, not the caller's (never a conflict).
    #[error("store fault: {0}")]
    Internal(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("unsupported database url `{0}`: use sqlite://PATH or postgres://…")]
    Url(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

fn conflict_or(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(what.to_owned())
        }
        _ => StoreError::Db(e),
    }
}

/// How SQLite commits: `Full` syncs the write-ahead log on every commit (an acknowledged
/// change survives power loss); `Normal` syncs at checkpoints (it survives a crash of the
/// process, not of the machine).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    Full,
    Normal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Who did what, written with every change in the same transaction.
#[derive(Clone, Debug)]
pub struct Audit<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub object: &'a str,
    pub request_id: &'a str,
    pub at: i64,
}

impl<'a> Audit<'a> {
    pub fn with_object(self, object: &'a str) -> Audit<'a> {
        Audit { object, ..self }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub credit_code: Option<String>,
    pub division: Option<String>,
    pub data_version: i64,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub failed_attempts: i64,
    pub locked_until: i64,
    pub last_totp_step: i64,
    pub disabled: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub tenant_id: String,
    pub csrf_token: String,
    pub mfa_ok: bool,
    pub created_at: i64,
    pub last_seen: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApiToken {
    pub id: String,
    pub token_hash: String,
    pub user_id: String,
    pub tenant_id: String,
    pub name: String,
    pub scope: String,
    pub expires_at: i64,
    pub revoked: bool,
    pub created_at: i64,
}

/// A grading object: columns the API filters on, the rest as JSON facts.
#[derive(Clone, Debug, PartialEq)]
pub struct SystemRow {
    pub tenant_id: String,
    pub id: String,
    pub name: String,
    pub kind: String,
    pub grade: i64,
    pub facts: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub id: String,
    pub object_id: String,
    pub date: String,
    pub kind: String,
    pub payload: String,
    pub recorded_at: i64,
    pub recorded_by: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MaterialRow {
    pub object_id: String,
    pub kind: String,
    pub title: String,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: i64,
    pub uploaded_by: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CandidateRow {
    pub category: String,
    pub id: String,
    pub name: String,
    pub facts: String,
    pub evidence: String,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FilingRow {
    pub id: String,
    pub object_id: String,
    pub status: String,
    pub grade: i64,
    pub materials: String,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    pub submitted_by: Option<String>,
    /// The public security organ the filing was routed to (by the object's division).
    pub organ_id: Option<String>,
    /// `YYYY-MM-DD` the organ marked it received (the art. 17 clock starts).
    pub received_on: Option<String>,
    pub decided_on: Option<String>,
    /// The organ's reasons for a notice to correct or to re-grade.
    pub reasons: Option<String>,
    /// The certificate's number, once issued.
    pub certificate: Option<String>,
}

/// A filing as the reviewing organ's queue shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewRow {
    pub filing: FilingRow,
    /// The operator organisation.
    pub tenant_id: String,
    pub operator_name: String,
    pub object_name: String,
}

/// A filing certificate (备案证明) as issued: its canonical text and the signed note over it.
#[derive(Clone, Debug, PartialEq)]
pub struct CertificateRow {
    pub number: String,
    pub organ_id: String,
    pub tenant_id: String,
    pub filing_id: String,
    pub body: String,
    pub signed: String,
    pub issued_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AuditRow {
    pub seq: i64,
    pub tenant_id: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub request_id: String,
    pub at: i64,
}

/// Filters for listing grading objects.
#[derive(Clone, Debug, Default)]
pub struct SystemFilter {
    pub grade: Option<i64>,
    pub kind: Option<String>,
    /// Substring of id or name.
    pub search: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// The canonical ledger entry: JSON with a fixed key order (sorted), no spaces, so the same
/// change always has the same bytes and hash.
pub fn canonical_entry(seq: i64, tenant: &str, a: &Audit<'_>, state: &[u8]) -> String {
    let j = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned());
    let state = dengbao_ledger::to_hex(&dengbao_ledger::tree::sm3(state));
    format!(
        r#"{{"action":{},"actor":{},"object":{},"request_id":{},"seq":{seq},"state":"{state}","tenant":{},"time":{}}}"#,
        j(a.action),
        j(a.actor),
        j(a.object),
        j(a.request_id),
        j(tenant),
        a.at
    )
}

/// One ledger entry as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerRow {
    pub seq: i64,
    pub tenant_id: String,
    pub entry: String,
    /// Hex SM3 leaf hash recorded when the entry was appended.
    pub leaf_hash: String,
}

/// An evaluation agency's engagement for one object (Measures art. 14, 21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngagementRow {
    pub id: String,
    pub operator: String,
    pub object: String,
    /// Epoch ms, inclusive.
    pub starts_at: i64,
    /// Epoch ms, exclusive.
    pub ends_at: i64,
}

/// The relations of one organisation as the supervising or engaged party.
#[derive(Clone, Debug, Default)]
pub struct Relations {
    /// Operators it is the department in charge of.
    pub supervised: Vec<String>,
    /// `(division, level)`.
    pub jurisdictions: Vec<(String, String)>,
    pub engagements: Vec<EngagementRow>,
    /// `(operator, object)` with a usage filing of cryptography submitted to it (art. 36).
    pub filed: Vec<(String, String)>,
}

/// A fresh random id (UUID v7: time-ordered, so indexes stay compact).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

fn b(v: i64) -> bool {
    v != 0
}

fn user_from(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        totp_secret: r.try_get("totp_secret")?,
        totp_enabled: b(r.try_get("totp_enabled")?),
        failed_attempts: r.try_get("failed_attempts")?,
        locked_until: r.try_get("locked_until")?,
        last_totp_step: r.try_get("last_totp_step")?,
        disabled: b(r.try_get("disabled")?),
        created_at: r.try_get("created_at")?,
    })
}

fn system_from(r: &AnyRow) -> Result<SystemRow> {
    Ok(SystemRow {
        tenant_id: r.try_get("tenant_id")?,
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        grade: r.try_get("grade")?,
        facts: r.try_get("facts")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn event_from(r: &AnyRow) -> Result<EventRow> {
    Ok(EventRow {
        id: r.try_get("id")?,
        object_id: r.try_get("object_id")?,
        date: r.try_get("date")?,
        kind: r.try_get("kind")?,
        payload: r.try_get("payload")?,
        recorded_at: r.try_get("recorded_at")?,
        recorded_by: r.try_get("recorded_by")?,
    })
}

fn material_from(r: &AnyRow) -> Result<MaterialRow> {
    Ok(MaterialRow {
        object_id: r.try_get("object_id")?,
        kind: r.try_get("kind")?,
        title: r.try_get("title")?,
        file_name: r.try_get("file_name")?,
        media_type: r.try_get("media_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        uploaded_at: r.try_get("uploaded_at")?,
        uploaded_by: r.try_get("uploaded_by")?,
    })
}

fn candidate_from(r: &AnyRow) -> Result<CandidateRow> {
    Ok(CandidateRow {
        category: r.try_get("category")?,
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        facts: r.try_get("facts")?,
        evidence: r.try_get("evidence")?,
        version: r.try_get("version")?,
    })
}

fn filing_from(r: &AnyRow) -> Result<FilingRow> {
    Ok(FilingRow {
        id: r.try_get("id")?,
        object_id: r.try_get("object_id")?,
        status: r.try_get("status")?,
        grade: r.try_get("grade")?,
        materials: r.try_get("materials")?,
        created_at: r.try_get("created_at")?,
        submitted_at: r.try_get("submitted_at")?,
        submitted_by: r.try_get("submitted_by")?,
        organ_id: r.try_get("organ_id")?,
        received_on: r.try_get("received_on")?,
        decided_on: r.try_get("decided_on")?,
        reasons: r.try_get("reasons")?,
        certificate: r.try_get("certificate")?,
    })
}

// Column lists as macros so every query stays a `&'static str` (sqlx refuses dynamic SQL).
macro_rules! user_cols {
    () => {
        "id, tenant_id, username, display_name, password_hash, totp_secret, totp_enabled, failed_attempts, locked_until, last_totp_step, disabled, created_at"
    };
}
macro_rules! filing_cols {
    () => {
        "id, object_id, status, grade, materials, created_at, submitted_at, submitted_by, organ_id, received_on, decided_on, reasons, certificate"
    };
}
macro_rules! system_cols {
    () => {
        "tenant_id, id, name, kind, grade, facts, version, created_at, updated_at"
    };
}
macro_rules! system_filter {
    () => {
        "tenant_id = $1 AND ($2 IS NULL OR grade = $2) AND ($3 IS NULL OR kind = $3) AND ($4 IS NULL OR id LIKE $4 ESCAPE '\\' OR name LIKE $4 ESCAPE '\\')"
    };
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// The database: a pool on SQLite or PostgreSQL.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to `sqlite://PATH` (created if missing; WAL mode) or `postgres://…`, with
    /// every commit durable on disk.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        Store::connect_with(url, max_connections, Durability::Full).await
    }

    /// As [`Store::connect`], choosing SQLite's durability (PostgreSQL keeps its own
    /// `synchronous_commit` setting).
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        durability: Durability,
    ) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Url(url.to_owned()));
        };
        let url = if backend == Backend::Sqlite && !url.contains("mode=") {
            format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
        } else {
            url.to_owned()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers proceed during a write; the busy timeout makes
                        // concurrent writers wait instead of failing.
                        let sync = match durability {
                            Durability::Full => "PRAGMA synchronous = FULL",
                            Durability::Normal => "PRAGMA synchronous = NORMAL",
                        };
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            sync,
                            "PRAGMA busy_timeout = 5000",
                            "PRAGMA foreign_keys = ON",
                            // Deleted content is overwritten, not left in free pages: a
                            // destroyed key must not survive in the file.
                            "PRAGMA secure_delete = ON",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize> {
        schema::migrate(&self.pool, self.backend).await
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn begin(&self) -> Result<Tx> {
        // SQLite: take the write lock up front. A deferred transaction that reads and then
        // writes fails with SQLITE_BUSY_SNAPSHOT, which the busy timeout does not retry,
        // when another connection wrote in between.
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Appends the audit row and bumps the tenant's data version: the tail of every
    /// compliance write, inside its transaction.
    async fn finish(tx: Tx, tenant: &str, audit: &Audit<'_>) -> Result<()> {
        Self::finish_with(tx, tenant, audit, &[]).await
    }

    /// As [`Store::finish`], recording the SM3 hash of the new state (`state`) in the ledger
    /// entry. The entry's sequence number comes from the locked head row, so concurrent
    /// writers — several processes on one PostgreSQL included — get gapless numbers in
    /// commit order, and a rolled-back change takes its number with it.
    async fn finish_with(tx: Tx, tenant: &str, audit: &Audit<'_>, state: &[u8]) -> Result<()> {
        Self::finish_seq(tx, tenant, audit, state).await.map(|_| ())
    }

    /// As [`Store::finish_with`], answering the ledger entry's sequence number.
    async fn finish_seq(mut tx: Tx, tenant: &str, audit: &Audit<'_>, state: &[u8]) -> Result<i64> {
        let seq: i64 = sqlx::query("UPDATE ledger_head SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1 AS seq").fetch_one(&mut *tx).await?.try_get("seq")?;
        let entry = canonical_entry(seq, tenant, audit, state);
        let leaf = dengbao_ledger::to_hex(&dengbao_ledger::leaf_hash(entry.as_bytes()));
        sqlx::query(
            "INSERT INTO ledger_entries (seq, tenant_id, entry, leaf_hash) VALUES ($1, $2, $3, $4)",
        )
        .bind(seq)
        .bind(tenant)
        .bind(&entry)
        .bind(&leaf)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO audit_log (tenant_id, actor, action, object, request_id, at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(tenant)
            .bind(audit.actor)
            .bind(audit.action)
            .bind(audit.object)
            .bind(audit.request_id)
            .bind(audit.at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE organisations SET data_version = data_version + 1 WHERE id = $1")
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(seq)
    }
}

// Each aggregate in its own module, after the column macros they use.
mod access;
mod audit;
mod calendar;
mod enforcements;
mod engagements;
mod grades;
mod idc;
mod identity;
mod ledger;
mod registry;
mod relations;
mod reviews;
mod submissions;
mod systems;
mod vault;

pub use access::*;
pub use enforcements::*;
pub use engagements::*;
pub use grades::*;
pub use idc::*;
pub use submissions::*;
pub use vault::{MasterRotation, VaultKeyRow};
