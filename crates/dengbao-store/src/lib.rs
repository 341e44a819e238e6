//! `dengbao-store`: persistence on SQLite (embedded default) and PostgreSQL.
//!
//! One schema, written in the SQL both understand, run through sqlx's `Any` driver with
//! runtime-checked, parameterized queries (`$1, $2, …` in order of first use, which SQLite
//! also accepts). Every row that belongs to an organisation carries `tenant_id`, and every
//! function that reads or writes such rows takes the tenant and puts it in the `WHERE`
//! clause — there is no unscoped query for tenant data.
//!
//! Writes to compliance data happen in one transaction that also appends an audit row and
//! bumps the organisation's `data_version` (caches key on it). Updates carry the version the
//! caller read; a stale one is refused ([`StoreError::Stale`]).
//!
//! **Architecture invariant:** this is the only crate that knows SQL. It knows no HTTP, and
//! stores grading facts as opaque JSON produced by the server from `dengbao-core` types.

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
    })
}

// Column lists as macros so every query stays a `&'static str` (sqlx refuses dynamic SQL).
macro_rules! user_cols {
    () => {
        "id, tenant_id, username, display_name, password_hash, totp_secret, totp_enabled, failed_attempts, locked_until, last_totp_step, disabled, created_at"
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
    async fn finish_with(mut tx: Tx, tenant: &str, audit: &Audit<'_>, state: &[u8]) -> Result<()> {
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
        Ok(())
    }

    // ----- organisations -----------------------------------------------------------------

    pub async fn create_organisation(&self, o: &Organisation) -> Result<()> {
        sqlx::query("INSERT INTO organisations (id, name, kind, credit_code, division, data_version, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6)")
            .bind(&o.id)
            .bind(&o.name)
            .bind(&o.kind)
            .bind(&o.credit_code)
            .bind(&o.division)
            .bind(o.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| conflict_or(e, "organisation"))?;
        Ok(())
    }

    pub async fn organisation(&self, id: &str) -> Result<Organisation> {
        let r = sqlx::query("SELECT id, name, kind, credit_code, division, data_version, created_at FROM organisations WHERE id = $1").bind(id).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)?;
        Ok(Organisation {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            credit_code: r.try_get("credit_code")?,
            division: r.try_get("division")?,
            data_version: r.try_get("data_version")?,
            created_at: r.try_get("created_at")?,
        })
    }

    pub async fn organisation_by_name(&self, name: &str) -> Result<Organisation> {
        let id: String = sqlx::query("SELECT id FROM organisations WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get("id")?;
        self.organisation(&id).await
    }

    pub async fn data_version(&self, tenant: &str) -> Result<i64> {
        let r = sqlx::query("SELECT data_version FROM organisations WHERE id = $1")
            .bind(tenant)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(r.try_get("data_version")?)
    }

    // ----- relations between parties -----------------------------------------------------

    /// The relations in which `org` is the supervising or engaged party: operators it is the
    /// department in charge of, its jurisdictions (division, level), its engagements
    /// (operator, object, from, until).
    pub async fn relations_of(&self, org: &str) -> Result<Relations> {
        let supervised = sqlx::query(
            "SELECT operator_id FROM supervision WHERE department_id = $1 ORDER BY operator_id",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get("operator_id"))
        .collect::<std::result::Result<_, _>>()?;
        let jurisdictions = sqlx::query(
            "SELECT division, level FROM jurisdictions WHERE organ_id = $1 ORDER BY division",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("division")?, r.try_get("level")?)))
        .collect::<Result<_>>()?;
        let engagements = sqlx::query("SELECT id, operator_id, object_id, starts_at, ends_at FROM engagements WHERE agency_id = $1 ORDER BY starts_at").bind(org).fetch_all(&self.pool).await?.iter().map(|r| Ok(EngagementRow {
            id: r.try_get("id")?,
            operator: r.try_get("operator_id")?,
            object: r.try_get("object_id")?,
            starts_at: r.try_get("starts_at")?,
            ends_at: r.try_get("ends_at")?,
        })).collect::<Result<_>>()?;
        Ok(Relations {
            supervised,
            jurisdictions,
            engagements,
        })
    }

    /// Records that `department` is in charge of `operator` (audited in the department's log).
    pub async fn add_supervision(
        &self,
        department: &str,
        operator: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO supervision (department_id, operator_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(department)
        .bind(operator)
        .bind(audit.at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "supervision"))?;
        Self::finish_with(tx, department, audit, operator.as_bytes()).await
    }

    /// Records an organ's jurisdiction: a division code and the level it reaches.
    pub async fn add_jurisdiction(
        &self,
        organ: &str,
        division: &str,
        level: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO jurisdictions (organ_id, division, level, created_at) VALUES ($1, $2, $3, $4)")
            .bind(organ)
            .bind(division)
            .bind(level)
            .bind(audit.at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "jurisdiction"))?;
        Self::finish_with(tx, organ, audit, format!("{division}/{level}").as_bytes()).await
    }

    /// Records an evaluation agency's engagement for one object of an operator, for a time.
    pub async fn add_engagement(
        &self,
        agency: &str,
        e: &EngagementRow,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO engagements (id, agency_id, operator_id, object_id, starts_at, ends_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&e.id)
            .bind(agency)
            .bind(&e.operator)
            .bind(&e.object)
            .bind(e.starts_at)
            .bind(e.ends_at)
            .bind(audit.at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "engagement"))?;
        Self::finish_with(tx, agency, audit, e.id.as_bytes()).await
    }

    // ----- users, roles ------------------------------------------------------------------

    pub async fn create_user(&self, u: &User, roles: &[&str], audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO users (id, tenant_id, username, display_name, password_hash, totp_secret, totp_enabled, failed_attempts, locked_until, last_totp_step, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, 0, 0, $8)")
            .bind(&u.id)
            .bind(&u.tenant_id)
            .bind(&u.username)
            .bind(&u.display_name)
            .bind(&u.password_hash)
            .bind(&u.totp_secret)
            .bind(i64::from(u.totp_enabled))
            .bind(u.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "username"))?;
        for role in roles {
            sqlx::query("INSERT INTO role_assignments (user_id, role, tenant_id, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&u.id)
                .bind(*role)
                .bind(&u.tenant_id)
                .bind(audit.actor)
                .bind(audit.at)
                .execute(&mut *tx)
                .await?;
        }
        Self::finish(tx, &u.tenant_id, audit).await
    }

    /// Looks a user up by login name (usernames are unique across organisations).
    pub async fn user_by_username(&self, username: &str) -> Result<User> {
        let r = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        user_from(&r)
    }

    pub async fn user(&self, tenant: &str, id: &str) -> Result<User> {
        let r = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        user_from(&r)
    }

    pub async fn users(&self, tenant: &str) -> Result<Vec<User>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE tenant_id = $1 ORDER BY username"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from).collect()
    }

    /// Counts a failed login; locks the account for `lock_ms` once `max` is reached.
    /// Returns the new lock deadline (0 if not locked).
    pub async fn login_failed(
        &self,
        user_id: &str,
        now: i64,
        max: i64,
        lock_ms: i64,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let r = sqlx::query("SELECT failed_attempts FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        let n: i64 = r.try_get::<i64, _>("failed_attempts")? + 1;
        let (n, until) = if n >= max { (0, now + lock_ms) } else { (n, 0) };
        sqlx::query("UPDATE users SET failed_attempts = $1, locked_until = CASE WHEN $2 > 0 THEN $2 ELSE locked_until END WHERE id = $3").bind(n).bind(until).bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(until)
    }

    pub async fn login_succeeded(&self, user_id: &str) -> Result<()> {
        sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = 0 WHERE id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_totp(
        &self,
        tenant: &str,
        user_id: &str,
        secret: Option<&str>,
        enabled: bool,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_enabled = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(secret)
        .bind(i64::from(enabled))
        .bind(tenant)
        .bind(user_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Records the last TOTP time step used, refusing a step not after the previous one, so
    /// a code cannot be replayed. Returns false on replay.
    pub async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE users SET last_totp_step = $1 WHERE id = $2 AND last_totp_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn set_user_disabled(
        &self,
        tenant: &str,
        user_id: &str,
        disabled: bool,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE users SET disabled = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(i64::from(disabled))
            .bind(tenant)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        Self::finish(tx, tenant, audit).await
    }

    pub async fn roles(&self, user_id: &str) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT role FROM role_assignments WHERE user_id = $1 ORDER BY role")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| r.try_get("role").map_err(StoreError::from))
            .collect()
    }

    pub async fn assign_role(
        &self,
        tenant: &str,
        user_id: &str,
        role: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO role_assignments (user_id, role, tenant_id, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(user_id)
            .bind(role)
            .bind(tenant)
            .bind(audit.actor)
            .bind(audit.at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "role assignment"))?;
        Self::finish(tx, tenant, audit).await
    }

    pub async fn revoke_role(
        &self,
        tenant: &str,
        user_id: &str,
        role: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "DELETE FROM role_assignments WHERE tenant_id = $1 AND user_id = $2 AND role = $3",
        )
        .bind(tenant)
        .bind(user_id)
        .bind(role)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Self::finish(tx, tenant, audit).await
    }

    // ----- sessions, tokens --------------------------------------------------------------

    pub async fn create_session(&self, s: &Session) -> Result<()> {
        sqlx::query("INSERT INTO sessions (id_hash, user_id, tenant_id, csrf_token, mfa_ok, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&s.id_hash)
            .bind(&s.user_id)
            .bind(&s.tenant_id)
            .bind(&s.csrf_token)
            .bind(i64::from(s.mfa_ok))
            .bind(s.created_at)
            .bind(s.last_seen)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn session(&self, id_hash: &str) -> Result<Session> {
        let r = sqlx::query("SELECT id_hash, user_id, tenant_id, csrf_token, mfa_ok, created_at, last_seen FROM sessions WHERE id_hash = $1").bind(id_hash).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)?;
        Ok(Session {
            id_hash: r.try_get("id_hash")?,
            user_id: r.try_get("user_id")?,
            tenant_id: r.try_get("tenant_id")?,
            csrf_token: r.try_get("csrf_token")?,
            mfa_ok: b(r.try_get("mfa_ok")?),
            created_at: r.try_get("created_at")?,
            last_seen: r.try_get("last_seen")?,
        })
    }

    pub async fn touch_session(&self, id_hash: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_session_mfa(&self, id_hash: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET mfa_ok = 1 WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn create_token(&self, t: &ApiToken, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO api_tokens (id, token_hash, user_id, tenant_id, name, scope, expires_at, revoked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)")
            .bind(&t.id)
            .bind(&t.token_hash)
            .bind(&t.user_id)
            .bind(&t.tenant_id)
            .bind(&t.name)
            .bind(&t.scope)
            .bind(t.expires_at)
            .bind(t.created_at)
            .execute(&mut *tx)
            .await?;
        Self::finish(tx, &t.tenant_id, audit).await
    }

    fn token_from(r: &AnyRow) -> Result<ApiToken> {
        Ok(ApiToken {
            id: r.try_get("id")?,
            token_hash: r.try_get("token_hash")?,
            user_id: r.try_get("user_id")?,
            tenant_id: r.try_get("tenant_id")?,
            name: r.try_get("name")?,
            scope: r.try_get("scope")?,
            expires_at: r.try_get("expires_at")?,
            revoked: b(r.try_get("revoked")?),
            created_at: r.try_get("created_at")?,
        })
    }

    pub async fn token_by_hash(&self, hash: &str) -> Result<ApiToken> {
        let r = sqlx::query("SELECT id, token_hash, user_id, tenant_id, name, scope, expires_at, revoked, created_at FROM api_tokens WHERE token_hash = $1").bind(hash).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)?;
        Self::token_from(&r)
    }

    pub async fn tokens(&self, tenant: &str, user_id: &str) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query("SELECT id, token_hash, user_id, tenant_id, name, scope, expires_at, revoked, created_at FROM api_tokens WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at").bind(tenant).bind(user_id).fetch_all(&self.pool).await?;
        rows.iter().map(Self::token_from).collect()
    }

    pub async fn revoke_token(
        &self,
        tenant: &str,
        user_id: &str,
        id: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE api_tokens SET revoked = 1 WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(tenant)
        .bind(user_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Self::finish(tx, tenant, audit).await
    }

    // ----- grading objects -----------------------------------------------------------------

    pub async fn insert_system(&self, s: &SystemRow, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(concat!(
            "INSERT INTO grading_objects (",
            system_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)"
        ))
        .bind(&s.tenant_id)
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.kind)
        .bind(s.grade)
        .bind(&s.facts)
        .bind(s.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "grading object id"))?;
        Self::finish_with(tx, &s.tenant_id, audit, s.facts.as_bytes()).await
    }

    /// Replaces a grading object's name, kind, grade and facts (from `row`, whose tenant and
    /// id say which) if it is still at `expected_version`; returns the new version.
    pub async fn update_system(
        &self,
        row: &SystemRow,
        expected_version: i64,
        audit: &Audit<'_>,
    ) -> Result<i64> {
        let (tenant, id) = (row.tenant_id.as_str(), row.id.as_str());
        let (name, kind, grade, facts) = (
            row.name.as_str(),
            row.kind.as_str(),
            row.grade,
            row.facts.as_str(),
        );
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE grading_objects SET name = $1, kind = $2, grade = $3, facts = $4, version = version + 1, updated_at = $5 WHERE tenant_id = $6 AND id = $7 AND version = $8")
            .bind(name)
            .bind(kind)
            .bind(grade)
            .bind(facts)
            .bind(audit.at)
            .bind(tenant)
            .bind(id)
            .bind(expected_version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            let r =
                sqlx::query("SELECT version FROM grading_objects WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return match r {
                None => Err(StoreError::NotFound),
                Some(r) => Err(StoreError::Stale {
                    expected: expected_version,
                    actual: r.try_get("version")?,
                }),
            };
        }
        Self::finish_with(tx, tenant, audit, facts.as_bytes()).await?;
        Ok(expected_version + 1)
    }

    pub async fn delete_system(
        &self,
        tenant: &str,
        id: &str,
        expected_version: i64,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let r = sqlx::query("SELECT version FROM grading_objects WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let actual: i64 = r.try_get("version")?;
        if actual != expected_version {
            return Err(StoreError::Stale {
                expected: expected_version,
                actual,
            });
        }
        for sql in [
            "DELETE FROM events WHERE tenant_id = $1 AND object_id = $2",
            "DELETE FROM materials WHERE tenant_id = $1 AND object_id = $2",
            "DELETE FROM in_use WHERE tenant_id = $1 AND object_id = $2",
            "DELETE FROM filings WHERE tenant_id = $1 AND object_id = $2",
        ] {
            sqlx::query(sql)
                .bind(tenant)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM grading_objects WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Self::finish(tx, tenant, audit).await
    }

    pub async fn system(&self, tenant: &str, id: &str) -> Result<SystemRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            system_cols!(),
            " FROM grading_objects WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        system_from(&r)
    }

    /// A page of grading objects and the total matching the filter.
    pub async fn systems(&self, tenant: &str, f: &SystemFilter) -> Result<(Vec<SystemRow>, i64)> {
        // Optional filters are written as `($n IS NULL OR col = $n)` so the SQL text is fixed
        // and every value is a bound parameter.
        let search = f.search.as_ref().map(|s| {
            format!(
                "%{}%",
                s.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        });
        let total: i64 = sqlx::query(concat!(
            "SELECT COUNT(*) AS n FROM grading_objects WHERE ",
            system_filter!()
        ))
        .bind(tenant)
        .bind(f.grade)
        .bind(&f.kind)
        .bind(&search)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            system_cols!(),
            " FROM grading_objects WHERE ",
            system_filter!(),
            " ORDER BY name, id LIMIT $5 OFFSET $6"
        ))
        .bind(tenant)
        .bind(f.grade)
        .bind(&f.kind)
        .bind(&search)
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((rows.iter().map(system_from).collect::<Result<_>>()?, total))
    }

    pub async fn all_systems(&self, tenant: &str) -> Result<Vec<SystemRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            system_cols!(),
            " FROM grading_objects WHERE tenant_id = $1 ORDER BY name, id"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(system_from).collect()
    }

    // ----- events, materials, products in use, filings -------------------------------------

    async fn require_system(tx: &mut Tx, tenant: &str, id: &str) -> Result<()> {
        sqlx::query("SELECT id FROM grading_objects WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(())
    }

    /// Adds an event to a system; with `facts`, also replaces the system's facts and grade in
    /// the same transaction (a grading records its event with its result).
    pub async fn add_event(
        &self,
        tenant: &str,
        e: &EventRow,
        update: Option<(i64, i64, &str)>,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, tenant, &e.object_id).await?;
        if let Some((expected, grade, facts)) = update {
            let n = sqlx::query("UPDATE grading_objects SET grade = $1, facts = $2, version = version + 1, updated_at = $3 WHERE tenant_id = $4 AND id = $5 AND version = $6")
                .bind(grade)
                .bind(facts)
                .bind(audit.at)
                .bind(tenant)
                .bind(&e.object_id)
                .bind(expected)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                let actual: i64 = sqlx::query(
                    "SELECT version FROM grading_objects WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant)
                .bind(&e.object_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("version")?;
                return Err(StoreError::Stale { expected, actual });
            }
        }
        sqlx::query("INSERT INTO events (tenant_id, id, object_id, date, kind, payload, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(tenant)
            .bind(&e.id)
            .bind(&e.object_id)
            .bind(&e.date)
            .bind(&e.kind)
            .bind(&e.payload)
            .bind(e.recorded_at)
            .bind(&e.recorded_by)
            .execute(&mut *tx)
            .await?;
        Self::finish_with(tx, tenant, audit, e.payload.as_bytes()).await
    }

    pub async fn events(&self, tenant: &str, object_id: &str) -> Result<Vec<EventRow>> {
        let rows = sqlx::query("SELECT id, object_id, date, kind, payload, recorded_at, recorded_by FROM events WHERE tenant_id = $1 AND object_id = $2 ORDER BY date, recorded_at, id").bind(tenant).bind(object_id).fetch_all(&self.pool).await?;
        rows.iter().map(event_from).collect()
    }

    pub async fn all_events(&self, tenant: &str) -> Result<Vec<EventRow>> {
        let rows = sqlx::query("SELECT id, object_id, date, kind, payload, recorded_at, recorded_by FROM events WHERE tenant_id = $1 ORDER BY object_id, date, recorded_at, id").bind(tenant).fetch_all(&self.pool).await?;
        rows.iter().map(event_from).collect()
    }

    pub async fn put_material(
        &self,
        tenant: &str,
        m: &MaterialRow,
        audit: &Audit<'_>,
    ) -> Result<()> {
        self.put_material_with_file(tenant, m, None, audit).await
    }

    /// Records a material and, when given, keeps its file (content-addressed by the SHA-256
    /// in `m`, which the caller computed from `content`) in the same transaction.
    pub async fn put_material_with_file(
        &self,
        tenant: &str,
        m: &MaterialRow,
        content: Option<&[u8]>,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, tenant, &m.object_id).await?;
        if let Some(bytes) = content {
            sqlx::query("INSERT INTO material_files (tenant_id, sha256, content) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, sha256) DO NOTHING")
                .bind(tenant)
                .bind(&m.sha256)
                .bind(bytes.to_vec())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM materials WHERE tenant_id = $1 AND object_id = $2 AND kind = $3")
            .bind(tenant)
            .bind(&m.object_id)
            .bind(&m.kind)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO materials (tenant_id, object_id, kind, title, file_name, media_type, size, sha256, uploaded_at, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(tenant)
            .bind(&m.object_id)
            .bind(&m.kind)
            .bind(&m.title)
            .bind(&m.file_name)
            .bind(&m.media_type)
            .bind(m.size)
            .bind(&m.sha256)
            .bind(m.uploaded_at)
            .bind(&m.uploaded_by)
            .execute(&mut *tx)
            .await?;
        Self::finish_with(
            tx,
            tenant,
            audit,
            format!("{}:{}:{}", m.kind, m.sha256, m.size).as_bytes(),
        )
        .await
    }

    pub async fn delete_material(
        &self,
        tenant: &str,
        object_id: &str,
        kind: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "DELETE FROM materials WHERE tenant_id = $1 AND object_id = $2 AND kind = $3",
        )
        .bind(tenant)
        .bind(object_id)
        .bind(kind)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Self::finish(tx, tenant, audit).await
    }

    pub async fn materials(&self, tenant: &str, object_id: &str) -> Result<Vec<MaterialRow>> {
        let rows = sqlx::query("SELECT object_id, kind, title, file_name, media_type, size, sha256, uploaded_at, uploaded_by FROM materials WHERE tenant_id = $1 AND object_id = $2 ORDER BY kind").bind(tenant).bind(object_id).fetch_all(&self.pool).await?;
        rows.iter().map(material_from).collect()
    }

    /// A material with its stored file; `NotFound` when either is missing.
    pub async fn material_file(
        &self,
        tenant: &str,
        object_id: &str,
        kind: &str,
    ) -> Result<(MaterialRow, Vec<u8>)> {
        let row = sqlx::query("SELECT object_id, kind, title, file_name, media_type, size, sha256, uploaded_at, uploaded_by FROM materials WHERE tenant_id = $1 AND object_id = $2 AND kind = $3").bind(tenant).bind(object_id).bind(kind).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)?;
        let m = material_from(&row)?;
        let file =
            sqlx::query("SELECT content FROM material_files WHERE tenant_id = $1 AND sha256 = $2")
                .bind(tenant)
                .bind(&m.sha256)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        let content: Vec<u8> = file.try_get("content")?;
        Ok((m, content))
    }

    pub async fn all_materials(&self, tenant: &str) -> Result<Vec<MaterialRow>> {
        let rows = sqlx::query("SELECT object_id, kind, title, file_name, media_type, size, sha256, uploaded_at, uploaded_by FROM materials WHERE tenant_id = $1 ORDER BY object_id, kind").bind(tenant).fetch_all(&self.pool).await?;
        rows.iter().map(material_from).collect()
    }

    /// Replaces which candidates of a category a system uses.
    pub async fn set_in_use(
        &self,
        tenant: &str,
        object_id: &str,
        category: &str,
        ids: &[String],
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, tenant, object_id).await?;
        sqlx::query("DELETE FROM in_use WHERE tenant_id = $1 AND object_id = $2 AND category = $3")
            .bind(tenant)
            .bind(object_id)
            .bind(category)
            .execute(&mut *tx)
            .await?;
        for id in ids {
            sqlx::query(
                "SELECT id FROM candidates WHERE tenant_id = $1 AND category = $2 AND id = $3",
            )
            .bind(tenant)
            .bind(category)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            sqlx::query("INSERT INTO in_use (tenant_id, object_id, category, candidate_id) VALUES ($1, $2, $3, $4)").bind(tenant).bind(object_id).bind(category).bind(id).execute(&mut *tx).await.map_err(|e| conflict_or(e, "candidate listed twice"))?;
        }
        Self::finish_with(tx, tenant, audit, ids.join(",").as_bytes()).await
    }

    /// `(object_id, category, candidate_id)` for a tenant.
    pub async fn all_in_use(&self, tenant: &str) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query("SELECT object_id, category, candidate_id FROM in_use WHERE tenant_id = $1 ORDER BY object_id, category, candidate_id").bind(tenant).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("object_id")?,
                    r.try_get("category")?,
                    r.try_get("candidate_id")?,
                ))
            })
            .collect()
    }

    pub async fn create_filing(
        &self,
        tenant: &str,
        f: &FilingRow,
        event: &EventRow,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, tenant, &f.object_id).await?;
        sqlx::query("INSERT INTO filings (tenant_id, id, object_id, status, grade, materials, created_at, submitted_at, submitted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(tenant)
            .bind(&f.id)
            .bind(&f.object_id)
            .bind(&f.status)
            .bind(f.grade)
            .bind(&f.materials)
            .bind(f.created_at)
            .bind(f.submitted_at)
            .bind(&f.submitted_by)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO events (tenant_id, id, object_id, date, kind, payload, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(tenant)
            .bind(&event.id)
            .bind(&event.object_id)
            .bind(&event.date)
            .bind(&event.kind)
            .bind(&event.payload)
            .bind(event.recorded_at)
            .bind(&event.recorded_by)
            .execute(&mut *tx)
            .await?;
        Self::finish_with(tx, tenant, audit, f.materials.as_bytes()).await
    }

    pub async fn filings(&self, tenant: &str, object_id: &str) -> Result<Vec<FilingRow>> {
        let rows = sqlx::query("SELECT id, object_id, status, grade, materials, created_at, submitted_at, submitted_by FROM filings WHERE tenant_id = $1 AND object_id = $2 ORDER BY created_at").bind(tenant).bind(object_id).fetch_all(&self.pool).await?;
        rows.iter().map(filing_from).collect()
    }

    // ----- registries (products, agencies, cryptographic products) -------------------------

    pub async fn put_candidate(
        &self,
        tenant: &str,
        c: &CandidateRow,
        expected_version: Option<i64>,
        audit: &Audit<'_>,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let version = match expected_version {
            None => {
                sqlx::query("INSERT INTO candidates (tenant_id, category, id, name, facts, evidence, version) VALUES ($1, $2, $3, $4, $5, $6, 1)")
                    .bind(tenant)
                    .bind(&c.category)
                    .bind(&c.id)
                    .bind(&c.name)
                    .bind(&c.facts)
                    .bind(&c.evidence)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| conflict_or(e, "candidate id"))?;
                1
            }
            Some(v) => {
                let n = sqlx::query("UPDATE candidates SET name = $1, facts = $2, evidence = $3, version = version + 1 WHERE tenant_id = $4 AND category = $5 AND id = $6 AND version = $7")
                    .bind(&c.name)
                    .bind(&c.facts)
                    .bind(&c.evidence)
                    .bind(tenant)
                    .bind(&c.category)
                    .bind(&c.id)
                    .bind(v)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n == 0 {
                    let r = sqlx::query("SELECT version FROM candidates WHERE tenant_id = $1 AND category = $2 AND id = $3").bind(tenant).bind(&c.category).bind(&c.id).fetch_optional(&mut *tx).await?;
                    return match r {
                        None => Err(StoreError::NotFound),
                        Some(r) => Err(StoreError::Stale {
                            expected: v,
                            actual: r.try_get("version")?,
                        }),
                    };
                }
                v + 1
            }
        };
        Self::finish(tx, tenant, audit).await?;
        Ok(version)
    }

    pub async fn candidate(&self, tenant: &str, category: &str, id: &str) -> Result<CandidateRow> {
        let r = sqlx::query("SELECT category, id, name, facts, evidence, version FROM candidates WHERE tenant_id = $1 AND category = $2 AND id = $3").bind(tenant).bind(category).bind(id).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)?;
        candidate_from(&r)
    }

    pub async fn candidates(
        &self,
        tenant: &str,
        category: Option<&str>,
    ) -> Result<Vec<CandidateRow>> {
        let rows = sqlx::query("SELECT category, id, name, facts, evidence, version FROM candidates WHERE tenant_id = $1 AND ($2 IS NULL OR category = $2) ORDER BY category, id").bind(tenant).bind(category).fetch_all(&self.pool).await?;
        rows.iter().map(candidate_from).collect()
    }

    pub async fn delete_candidate(
        &self,
        tenant: &str,
        category: &str,
        id: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let used = sqlx::query("SELECT object_id FROM in_use WHERE tenant_id = $1 AND category = $2 AND candidate_id = $3").bind(tenant).bind(category).bind(id).fetch_optional(&mut *tx).await?;
        if let Some(r) = used {
            let obj: String = r.try_get("object_id")?;
            return Err(StoreError::Conflict(format!(
                "in use by grading object `{obj}`"
            )));
        }
        let n = sqlx::query(
            "DELETE FROM candidates WHERE tenant_id = $1 AND category = $2 AND id = $3",
        )
        .bind(tenant)
        .bind(category)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Self::finish(tx, tenant, audit).await
    }

    // ----- ledger --------------------------------------------------------------------------

    /// Number of entries in the ledger.
    pub async fn ledger_len(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT next_seq FROM ledger_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get("next_seq")?)
    }

    /// Entries `[from, from + limit)`, optionally only one tenant's.
    pub async fn ledger_entries(
        &self,
        tenant: Option<&str>,
        from: i64,
        limit: i64,
    ) -> Result<Vec<LedgerRow>> {
        let rows = sqlx::query("SELECT seq, tenant_id, entry, leaf_hash FROM ledger_entries WHERE seq >= $1 AND ($2 IS NULL OR tenant_id = $2) ORDER BY seq LIMIT $3").bind(from).bind(tenant).bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(LedgerRow {
                    seq: r.try_get("seq")?,
                    tenant_id: r.try_get("tenant_id")?,
                    entry: r.try_get("entry")?,
                    leaf_hash: r.try_get("leaf_hash")?,
                })
            })
            .collect()
    }

    /// A tenant's entries about one object (`object` exactly, or `object/…` for its parts),
    /// oldest first.
    pub async fn ledger_entries_about(&self, tenant: &str, object: &str) -> Result<Vec<LedgerRow>> {
        let esc = object
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
            .replace('"', "\\\"");
        let exact = format!("%\"object\":\"{esc}\"%");
        let parts = format!("%\"object\":\"{esc}/%");
        let rows = sqlx::query("SELECT seq, tenant_id, entry, leaf_hash FROM ledger_entries WHERE tenant_id = $1 AND (entry LIKE $2 ESCAPE '\\' OR entry LIKE $3 ESCAPE '\\') ORDER BY seq").bind(tenant).bind(&exact).bind(&parts).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(LedgerRow {
                    seq: r.try_get("seq")?,
                    tenant_id: r.try_get("tenant_id")?,
                    entry: r.try_get("entry")?,
                    leaf_hash: r.try_get("leaf_hash")?,
                })
            })
            .collect()
    }

    /// Recorded leaf hashes `[from, from + limit)` (hex), for building the tree.
    pub async fn ledger_leaf_hashes(&self, from: i64, limit: i64) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT seq, leaf_hash FROM ledger_entries WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("seq")?, r.try_get("leaf_hash")?)))
            .collect()
    }

    /// Stores a signed checkpoint; a second one for the same size is ignored (several nodes
    /// may sign the same tree head).
    pub async fn put_checkpoint(&self, size: i64, note: &str, at: i64) -> Result<()> {
        let exists = sqlx::query("SELECT size FROM ledger_checkpoints WHERE size = $1")
            .bind(size)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_none() {
            if let Err(e) = sqlx::query(
                "INSERT INTO ledger_checkpoints (size, note, created_at) VALUES ($1, $2, $3)",
            )
            .bind(size)
            .bind(note)
            .bind(at)
            .execute(&self.pool)
            .await
            {
                return match conflict_or(e, "checkpoint") {
                    StoreError::Conflict(_) => Ok(()),
                    other => Err(other),
                };
            }
        }
        Ok(())
    }

    /// `(size, note)` of every checkpoint, oldest first.
    pub async fn checkpoints(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT size, note FROM ledger_checkpoints ORDER BY size")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("size")?, r.try_get("note")?)))
            .collect()
    }

    pub async fn latest_checkpoint(&self) -> Result<Option<(i64, String)>> {
        let r = sqlx::query("SELECT size, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        r.map(|r| Ok((r.try_get("size")?, r.try_get("note")?)))
            .transpose()
    }

    // ----- calendar feeds ------------------------------------------------------------------

    /// Replaces the organisation's calendar feed: the previous secret URL stops working.
    pub async fn replace_calendar_feed(
        &self,
        tenant: &str,
        token_hash: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE calendar_feeds SET revoked = 1 WHERE tenant_id = $1")
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO calendar_feeds (token_hash, tenant_id, created_at, revoked) VALUES ($1, $2, $3, 0)").bind(token_hash).bind(tenant).bind(audit.at).execute(&mut *tx).await?;
        Self::finish(tx, tenant, audit).await
    }

    pub async fn revoke_calendar_feeds(&self, tenant: &str, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE calendar_feeds SET revoked = 1 WHERE tenant_id = $1")
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
        Self::finish(tx, tenant, audit).await
    }

    /// The organisation a live feed token belongs to.
    pub async fn calendar_feed_tenant(&self, token_hash: &str) -> Result<String> {
        let r = sqlx::query(
            "SELECT tenant_id FROM calendar_feeds WHERE token_hash = $1 AND revoked = 0",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(r.try_get("tenant_id")?)
    }

    // ----- audit ---------------------------------------------------------------------------

    /// The audit trail, newest first; `tenant = None` for the whole platform.
    pub async fn audit(
        &self,
        tenant: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query("SELECT seq, tenant_id, actor, action, object, request_id, at FROM audit_log WHERE ($1 IS NULL OR tenant_id = $1) ORDER BY seq DESC LIMIT $2 OFFSET $3").bind(tenant).bind(limit).bind(offset).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    seq: r.try_get("seq")?,
                    tenant_id: r.try_get("tenant_id")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    object: r.try_get("object")?,
                    request_id: r.try_get("request_id")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }
}
