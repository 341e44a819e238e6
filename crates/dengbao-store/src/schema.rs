//! The schema, as SQL both SQLite and PostgreSQL accept. `{SERIAL}` is the one
//! backend-specific piece (an auto-numbered key) and is substituted per backend.

use sqlx::AnyPool;

use crate::{Backend, Result};

/// Migrations in order; each runs once, in its own transaction.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial schema",
        r#"
CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    credit_code TEXT,
    division TEXT,
    data_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_enabled BIGINT NOT NULL DEFAULT 0,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_totp_step BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX users_by_tenant ON users (tenant_id);
CREATE TABLE role_assignments (
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    csrf_token TEXT NOT NULL,
    mfa_ok BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id),
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE TABLE grading_objects (
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    grade BIGINT NOT NULL,
    facts TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX grading_objects_by_grade ON grading_objects (tenant_id, grade);
CREATE TABLE events (
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    date TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, object_id) REFERENCES grading_objects (tenant_id, id)
);
CREATE INDEX events_by_object ON events (tenant_id, object_id, date);
CREATE TABLE materials (
    tenant_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    file_name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, object_id, kind),
    FOREIGN KEY (tenant_id, object_id) REFERENCES grading_objects (tenant_id, id)
);
CREATE TABLE candidates (
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    category TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    facts TEXT NOT NULL,
    evidence TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, category, id)
);
CREATE TABLE in_use (
    tenant_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    category TEXT NOT NULL,
    candidate_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, object_id, category, candidate_id),
    FOREIGN KEY (tenant_id, object_id) REFERENCES grading_objects (tenant_id, id),
    FOREIGN KEY (tenant_id, category, candidate_id) REFERENCES candidates (tenant_id, category, id)
);
CREATE TABLE filings (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    status TEXT NOT NULL,
    grade BIGINT NOT NULL,
    materials TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    submitted_at BIGINT,
    submitted_by TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, object_id) REFERENCES grading_objects (tenant_id, id)
);
CREATE TABLE audit_log (
    seq {SERIAL},
    tenant_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    request_id TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX audit_by_tenant ON audit_log (tenant_id, seq);
"#,
    ),
    (
        2,
        "ledger",
        r#"
CREATE TABLE ledger_entries (
    seq BIGINT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    entry TEXT NOT NULL,
    leaf_hash TEXT NOT NULL
);
CREATE INDEX ledger_by_tenant ON ledger_entries (tenant_id, seq);
CREATE TABLE ledger_head (
    id BIGINT PRIMARY KEY,
    next_seq BIGINT NOT NULL
);
INSERT INTO ledger_head (id, next_seq) VALUES (1, 0);
CREATE TABLE ledger_checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL
)
"#,
    ),
    (
        3,
        "calendar feeds",
        r#"
CREATE TABLE calendar_feeds (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    created_at BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX calendar_feeds_by_tenant ON calendar_feeds (tenant_id)
"#,
    ),
    (
        4,
        "material files",
        r#"
CREATE TABLE material_files (
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    sha256 TEXT NOT NULL,
    content {BLOB} NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
)
"#,
    ),
    (
        5,
        "relations between parties",
        r#"
CREATE TABLE supervision (
    department_id TEXT NOT NULL REFERENCES organisations(id),
    operator_id TEXT NOT NULL REFERENCES organisations(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (department_id, operator_id)
);
CREATE TABLE jurisdictions (
    organ_id TEXT NOT NULL REFERENCES organisations(id),
    division TEXT NOT NULL,
    level TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (organ_id, division)
);
CREATE TABLE engagements (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES organisations(id),
    operator_id TEXT NOT NULL REFERENCES organisations(id),
    object_id TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX engagements_by_agency ON engagements (agency_id)
"#,
    ),
    (
        6,
        "filing review",
        r#"
ALTER TABLE filings ADD COLUMN organ_id TEXT;
ALTER TABLE filings ADD COLUMN received_on TEXT;
ALTER TABLE filings ADD COLUMN decided_on TEXT;
ALTER TABLE filings ADD COLUMN reasons TEXT;
ALTER TABLE filings ADD COLUMN certificate TEXT;
CREATE INDEX filings_by_organ ON filings (organ_id, submitted_at);
CREATE TABLE certificates (
    number TEXT PRIMARY KEY,
    organ_id TEXT NOT NULL REFERENCES organisations(id),
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    filing_id TEXT NOT NULL,
    body TEXT NOT NULL,
    signed TEXT NOT NULL,
    issued_at BIGINT NOT NULL
)
"#,
    ),
    (
        7,
        "trusted devices",
        r#"
CREATE TABLE trusted_devices (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX trusted_devices_by_user ON trusted_devices (user_id)
"#,
    ),
    (
        8,
        "vault keys and IDC customer data",
        r#"
CREATE TABLE vault_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    purpose TEXT NOT NULL,
    subject TEXT NOT NULL,
    parent_id TEXT,
    master_version TEXT,
    wrapped {BLOB},
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    destroyed_at BIGINT
);
CREATE UNIQUE INDEX vault_keys_one_active ON vault_keys (tenant_id, purpose, subject) WHERE state = 'active';
CREATE INDEX vault_keys_by_parent ON vault_keys (parent_id);
CREATE TABLE vault_master (
    id BIGINT PRIMARY KEY,
    epoch BIGINT NOT NULL
);
INSERT INTO vault_master (id, epoch) VALUES (1, 0);
CREATE TABLE idc_customers (
    id TEXT PRIMARY KEY REFERENCES organisations(id),
    idc_id TEXT NOT NULL REFERENCES organisations(id),
    sector TEXT NOT NULL,
    declared_class TEXT NOT NULL,
    overrides TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX idc_customers_by_idc ON idc_customers (idc_id);
CREATE TABLE idc_programme (
    idc_id TEXT PRIMARY KEY REFERENCES organisations(id),
    officer_id TEXT NOT NULL REFERENCES users(id),
    department TEXT NOT NULL,
    named_at BIGINT NOT NULL
);
CREATE TABLE idc_contracts (
    id TEXT PRIMARY KEY,
    idc_id TEXT NOT NULL REFERENCES organisations(id),
    customer_id TEXT NOT NULL REFERENCES organisations(id),
    title TEXT NOT NULL,
    third_parties TEXT NOT NULL,
    matrix TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX idc_contracts_by_customer ON idc_contracts (idc_id, customer_id);
CREATE TABLE data_assets (
    id TEXT PRIMARY KEY,
    idc_id TEXT NOT NULL REFERENCES organisations(id),
    customer_id TEXT NOT NULL REFERENCES organisations(id),
    label {BLOB} NOT NULL,
    kind TEXT NOT NULL,
    location TEXT NOT NULL,
    isolation_unit TEXT NOT NULL,
    classification TEXT NOT NULL,
    personal BIGINT NOT NULL,
    sensitive_personal BIGINT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    destroyed_at BIGINT
);
CREATE INDEX data_assets_by_customer ON data_assets (idc_id, customer_id);
CREATE INDEX data_assets_by_unit ON data_assets (idc_id, isolation_unit);
CREATE TABLE asset_copies (
    asset_id TEXT NOT NULL REFERENCES data_assets(id),
    copy TEXT NOT NULL,
    sealed {BLOB} NOT NULL,
    size BIGINT NOT NULL,
    stored_at BIGINT NOT NULL,
    PRIMARY KEY (asset_id, copy)
);
CREATE TABLE destructions (
    id TEXT PRIMARY KEY,
    idc_id TEXT NOT NULL REFERENCES organisations(id),
    customer_id TEXT NOT NULL REFERENCES organisations(id),
    asset_id TEXT NOT NULL REFERENCES data_assets(id),
    method TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    approvals_needed BIGINT NOT NULL,
    approvals TEXT NOT NULL,
    state TEXT NOT NULL,
    executed_at BIGINT,
    certificate TEXT
);
CREATE INDEX destructions_by_customer ON destructions (idc_id, customer_id);
CREATE UNIQUE INDEX destructions_one_open ON destructions (asset_id) WHERE state IN ('requested', 'approved');
CREATE TABLE destruction_certificates (
    number TEXT PRIMARY KEY,
    idc_id TEXT NOT NULL REFERENCES organisations(id),
    customer_id TEXT NOT NULL REFERENCES organisations(id),
    destruction_id TEXT NOT NULL,
    body TEXT NOT NULL,
    signed TEXT NOT NULL,
    issued_at BIGINT NOT NULL
);
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    idc_id TEXT NOT NULL REFERENCES organisations(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    severity TEXT NOT NULL,
    caused_by_idc BIGINT NOT NULL,
    detected_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT NOT NULL,
    regulator_notified_at BIGINT
);
CREATE TABLE incident_customers (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    customer_id TEXT NOT NULL REFERENCES organisations(id),
    assets TEXT NOT NULL,
    notified_at BIGINT,
    PRIMARY KEY (incident_id, customer_id)
)
"#,
    ),
    (
        9,
        "customer authorization requests",
        r#"
CREATE TABLE approver_keys (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    public_key TEXT NOT NULL,
    custody TEXT NOT NULL,
    secret {BLOB},
    created_at BIGINT NOT NULL
);
CREATE TABLE access_requests (
    id TEXT PRIMARY KEY,
    idc_id TEXT NOT NULL REFERENCES organisations(id),
    customer_id TEXT NOT NULL REFERENCES organisations(id),
    requester_id TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    operation TEXT NOT NULL,
    assets TEXT NOT NULL,
    justification TEXT NOT NULL,
    ticket TEXT NOT NULL,
    detail TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    approvals_needed BIGINT NOT NULL,
    approvers TEXT NOT NULL,
    state TEXT NOT NULL,
    break_glass BIGINT NOT NULL,
    reviewed_at BIGINT,
    policy TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX access_requests_by_customer ON access_requests (idc_id, customer_id, created_at);
CREATE TABLE access_decisions (
    request_id TEXT NOT NULL REFERENCES access_requests(id),
    n BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    decision TEXT NOT NULL,
    payload TEXT NOT NULL,
    signature TEXT NOT NULL,
    custody TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (request_id, n)
);
CREATE TABLE idc_policies (
    id TEXT PRIMARY KEY,
    idc_id TEXT NOT NULL REFERENCES organisations(id),
    customer_id TEXT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL,
    proposed_by TEXT NOT NULL,
    decided_by TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    version BIGINT NOT NULL
);
CREATE INDEX idc_policies_by_customer ON idc_policies (idc_id, customer_id);
CREATE TABLE share_evaluations (
    id TEXT PRIMARY KEY,
    idc_id TEXT NOT NULL REFERENCES organisations(id),
    customer_id TEXT NOT NULL REFERENCES organisations(id),
    request_id TEXT NOT NULL REFERENCES access_requests(id),
    asset_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    purpose TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    declassified BIGINT NOT NULL,
    risk_assessment TEXT NOT NULL,
    classification TEXT NOT NULL,
    findings TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT NOT NULL,
    evaluated_by TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX share_evaluations_by_customer ON share_evaluations (idc_id, customer_id);
CREATE TABLE grant_uses (
    request_id TEXT NOT NULL REFERENCES access_requests(id),
    n BIGINT NOT NULL,
    asset_id TEXT NOT NULL,
    what TEXT NOT NULL,
    username TEXT NOT NULL,
    at BIGINT NOT NULL,
    ledger_seq BIGINT NOT NULL,
    PRIMARY KEY (request_id, n)
)
"#,
    ),
    (
        10,
        "key release finds live grants by index",
        r#"
CREATE INDEX access_requests_live ON access_requests (idc_id, customer_id, requester_id, operation, state, window_end)
"#,
    ),
    (
        11,
        "grading approval between parties",
        r#"
CREATE TABLE grade_reviews (
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    grade BIGINT NOT NULL,
    status TEXT NOT NULL,
    department_id TEXT NOT NULL REFERENCES organisations(id),
    committee_id TEXT REFERENCES organisations(id),
    proposed_at BIGINT NOT NULL,
    proposed_by TEXT NOT NULL,
    expert_agrees BIGINT,
    expert_opinion TEXT,
    expert_at BIGINT,
    expert_by TEXT,
    reasons TEXT,
    decided_on TEXT,
    decided_by TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, object_id) REFERENCES grading_objects (tenant_id, id)
);
CREATE UNIQUE INDEX grade_reviews_one_open ON grade_reviews (tenant_id, object_id) WHERE status IN ('awaiting_expert', 'awaiting_department');
CREATE INDEX grade_reviews_department ON grade_reviews (department_id);
CREATE INDEX grade_reviews_committee ON grade_reviews (committee_id)
"#,
    ),
    (
        12,
        "evaluation engagements with their eligibility and result",
        r#"
ALTER TABLE engagements ADD COLUMN registry_id TEXT;
ALTER TABLE engagements ADD COLUMN created_by TEXT;
ALTER TABLE engagements ADD COLUMN eligible BIGINT;
ALTER TABLE engagements ADD COLUMN not_met TEXT;
ALTER TABLE engagements ADD COLUMN override_reason TEXT;
ALTER TABLE engagements ADD COLUMN evaluated_on TEXT;
ALTER TABLE engagements ADD COLUMN conformity TEXT;
CREATE INDEX engagements_agency ON engagements (agency_id);
CREATE INDEX engagements_object ON engagements (operator_id, object_id)
"#,
    ),
    (
        13,
        "an object's division in its own column, for jurisdictions",
        r#"
ALTER TABLE grading_objects ADD COLUMN division TEXT;
UPDATE grading_objects SET division = {FACT_DIVISION};
CREATE INDEX grading_objects_division ON grading_objects (tenant_id, division)
"#,
    ),
    (
        14,
        "art. 40 enforcement: order to correct, then warning and the superior department informed",
        r#"
CREATE TABLE enforcements (
    id TEXT PRIMARY KEY,
    organ_id TEXT NOT NULL REFERENCES organisations(id),
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    object_id TEXT NOT NULL,
    item BIGINT NOT NULL,
    stage TEXT NOT NULL,
    ordered_on TEXT NOT NULL,
    deadline TEXT NOT NULL,
    reasons TEXT NOT NULL,
    warned_on TEXT,
    informed TEXT NOT NULL,
    closed_on TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, object_id) REFERENCES grading_objects (tenant_id, id)
);
CREATE UNIQUE INDEX enforcements_one_open ON enforcements (tenant_id, object_id, item) WHERE stage IN ('ordered', 'warned');
CREATE INDEX enforcements_organ ON enforcements (organ_id);
CREATE INDEX enforcements_tenant ON enforcements (tenant_id)
"#,
    ),
    (
        15,
        "information requests of art. 19 and the operators' answers",
        r#"
CREATE TABLE info_requests (
    id TEXT PRIMARY KEY,
    organ_id TEXT NOT NULL REFERENCES organisations(id),
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    object_id TEXT NOT NULL,
    kinds TEXT NOT NULL,
    note TEXT NOT NULL,
    due TEXT NOT NULL,
    status TEXT NOT NULL,
    answer TEXT,
    answered_at BIGINT,
    answered_by TEXT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    FOREIGN KEY (tenant_id, object_id) REFERENCES grading_objects (tenant_id, id)
);
CREATE INDEX info_requests_organ ON info_requests (organ_id);
CREATE INDEX info_requests_tenant ON info_requests (tenant_id)
"#,
    ),
    (
        16,
        "submissions to the secrecy department and the cryptography administration; approved cryptographic products",
        r#"
CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    authority_id TEXT NOT NULL REFERENCES organisations(id),
    tenant_id TEXT NOT NULL REFERENCES organisations(id),
    object_id TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT NOT NULL,
    submitted_on TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    submitted_by TEXT NOT NULL,
    decided_on TEXT,
    decided_by TEXT,
    reasons TEXT,
    FOREIGN KEY (tenant_id, object_id) REFERENCES grading_objects (tenant_id, id)
);
CREATE UNIQUE INDEX submissions_one_waiting ON submissions (tenant_id, object_id, kind) WHERE status = 'submitted';
CREATE INDEX submissions_authority ON submissions (authority_id, kind);
CREATE INDEX submissions_tenant ON submissions (tenant_id);
CREATE TABLE approved_crypto_products (
    id TEXT PRIMARY KEY,
    admin_id TEXT NOT NULL REFERENCES organisations(id),
    certificate TEXT NOT NULL,
    name TEXT NOT NULL,
    vendor TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    withdrawn_on TEXT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (admin_id, certificate)
)
"#,
    ),
    (
        17,
        "the files an answer to an information request gives: the dossier materials named, pinned by hash",
        r#"
ALTER TABLE info_requests ADD COLUMN answer_files TEXT
"#,
    ),
];

pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<usize> {
    // One connection for the whole run. On PostgreSQL several server processes may start at
    // once: a session advisory lock makes one migrate while the others wait (even
    // `CREATE TABLE IF NOT EXISTS` races there).
    let mut conn = pool.acquire().await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock(7242017)")
            .execute(&mut *conn)
            .await?;
    }
    let result = migrate_locked(&mut conn, backend).await;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock(7242017)")
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn migrate_locked(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<usize> {
    use sqlx::Connection;
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)").execute(&mut *conn).await?;
    let serial = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    };
    let blob = match backend {
        Backend::Sqlite => "BLOB",
        Backend::Postgres => "BYTEA",
    };
    // The `division` of an object's facts (JSON text), in each dialect.
    let fact_division = match backend {
        Backend::Sqlite => "json_extract(facts, '$.division')",
        Backend::Postgres => "(facts::jsonb ->> 'division')",
    };
    let mut applied = 0;
    for (version, description, sql) in MIGRATIONS {
        let mut tx = conn.begin().await?;
        let done = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            continue;
        }
        let text = sql
            .replace("{SERIAL}", serial)
            .replace("{BLOB}", blob)
            .replace("{FACT_DIVISION}", fact_division);
        for stmt in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            // Our own constant DDL, with constants substituted: no input reaches it.
            sqlx::query(sqlx::AssertSqlSafe(stmt.to_owned()))
                .execute(&mut *tx)
                .await?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        sqlx::query(
            "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(*version)
        .bind(*description)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        applied += 1;
    }
    Ok(applied)
}
