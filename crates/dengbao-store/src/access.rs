//! Customer authorization requests (migration 9): the requests, each signed decision, each
//! use of a grant, and the approvers' SM2 public keys. Scoped by IDC operator and, for a
//! customer, by customer; every change is audited in the IDC operator's log with the
//! request's id as object.

use super::*;

#[derive(Clone, Debug, PartialEq)]
pub struct AccessRequestRow {
    pub id: String,
    pub idc_id: String,
    pub customer_id: String,
    pub requester_id: String,
    pub requested_by: String,
    pub operation: String,
    /// JSON array of asset ids.
    pub assets: String,
    pub justification: String,
    pub ticket: String,
    pub detail: String,
    pub window_start: i64,
    pub window_end: i64,
    pub approvals_needed: i64,
    /// JSON array of usernames.
    pub approvers: String,
    pub state: String,
    pub break_glass: bool,
    pub reviewed_at: Option<i64>,
    /// The policy's reasoning, shown to the approver.
    pub policy: String,
    pub created_at: i64,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DecisionRow {
    pub n: i64,
    pub user_id: String,
    pub username: String,
    pub decision: String,
    /// The canonical text that was signed.
    pub payload: String,
    /// Base64 SM2 signature over `payload`.
    pub signature: String,
    /// `customer` (the approver signed with its own key) or `platform` (a key the platform
    /// keeps sealed for the approver, used from its authenticated session).
    pub custody: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GrantUseRow {
    pub n: i64,
    pub asset_id: String,
    pub what: String,
    pub username: String,
    pub at: i64,
    pub ledger_seq: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApproverKeyRow {
    pub user_id: String,
    pub tenant_id: String,
    /// `name+id+base64` note-verifier string.
    pub public_key: String,
    pub custody: String,
    /// The sealed private key, for `platform` custody.
    pub secret: Option<Vec<u8>>,
    pub created_at: i64,
}

fn request_from(r: &AnyRow) -> Result<AccessRequestRow> {
    Ok(AccessRequestRow {
        id: r.try_get("id")?,
        idc_id: r.try_get("idc_id")?,
        customer_id: r.try_get("customer_id")?,
        requester_id: r.try_get("requester_id")?,
        requested_by: r.try_get("requested_by")?,
        operation: r.try_get("operation")?,
        assets: r.try_get("assets")?,
        justification: r.try_get("justification")?,
        ticket: r.try_get("ticket")?,
        detail: r.try_get("detail")?,
        window_start: r.try_get("window_start")?,
        window_end: r.try_get("window_end")?,
        approvals_needed: r.try_get("approvals_needed")?,
        approvers: r.try_get("approvers")?,
        state: r.try_get("state")?,
        break_glass: b(r.try_get("break_glass")?),
        reviewed_at: r.try_get("reviewed_at")?,
        policy: r.try_get("policy")?,
        created_at: r.try_get("created_at")?,
        version: r.try_get("version")?,
    })
}

macro_rules! request_cols {
    () => {
        "id, idc_id, customer_id, requester_id, requested_by, operation, assets, justification, ticket, detail, window_start, window_end, approvals_needed, approvers, state, break_glass, reviewed_at, policy, created_at, version"
    };
}

impl Store {
    pub async fn insert_access_request(
        &self,
        r: &AccessRequestRow,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(concat!("INSERT INTO access_requests (", request_cols!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"))
            .bind(&r.id)
            .bind(&r.idc_id)
            .bind(&r.customer_id)
            .bind(&r.requester_id)
            .bind(&r.requested_by)
            .bind(&r.operation)
            .bind(&r.assets)
            .bind(&r.justification)
            .bind(&r.ticket)
            .bind(&r.detail)
            .bind(r.window_start)
            .bind(r.window_end)
            .bind(r.approvals_needed)
            .bind(&r.approvers)
            .bind(&r.state)
            .bind(i64::from(r.break_glass))
            .bind(r.reviewed_at)
            .bind(&r.policy)
            .bind(r.created_at)
            .bind(r.version)
            .execute(&mut *tx)
            .await?;
        let state = format!("{}:{}:{}:{}", r.id, r.operation, r.assets, r.state);
        Self::finish_with(tx, &r.idc_id, audit, state.as_bytes()).await
    }

    pub async fn access_requests(
        &self,
        idc: &str,
        customer: Option<&str>,
    ) -> Result<Vec<AccessRequestRow>> {
        sqlx::query(concat!("SELECT ", request_cols!(), " FROM access_requests WHERE idc_id = $1 AND ($2 IS NULL OR customer_id = $2) ORDER BY created_at DESC, id"))
            .bind(idc)
            .bind(customer)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(request_from)
            .collect()
    }

    /// The requests of `requester` for `operation` on a customer's data that may still grant
    /// at `now` (approved, active or extended, window not over): the candidates of a key
    /// release, found by index whatever the number of past requests.
    pub async fn live_grants(
        &self,
        idc: &str,
        customer: &str,
        requester: &str,
        operation: &str,
        now: i64,
    ) -> Result<Vec<AccessRequestRow>> {
        sqlx::query(concat!("SELECT ", request_cols!(), " FROM access_requests WHERE idc_id = $1 AND customer_id = $2 AND requester_id = $3 AND operation = $4 AND state IN ('approved', 'active', 'extended') AND window_end > $5 ORDER BY created_at, id"))
            .bind(idc)
            .bind(customer)
            .bind(requester)
            .bind(operation)
            .bind(now)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(request_from)
            .collect()
    }

    pub async fn access_request(
        &self,
        idc: &str,
        customer: Option<&str>,
        id: &str,
    ) -> Result<AccessRequestRow> {
        sqlx::query(concat!("SELECT ", request_cols!(), " FROM access_requests WHERE idc_id = $1 AND ($2 IS NULL OR customer_id = $2) AND id = $3"))
            .bind(idc)
            .bind(customer)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(request_from)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// Writes the request's new state (and approvers, window, review) if it is still at
    /// `r.version - 1`, with the decision that moved it when there is one. Answers the ledger
    /// entry's sequence number.
    pub async fn update_access_request(
        &self,
        r: &AccessRequestRow,
        decision: Option<&DecisionRow>,
        audit: &Audit<'_>,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE access_requests SET state = $1, approvers = $2, window_end = $3, reviewed_at = $4, version = $5 WHERE id = $6 AND idc_id = $7 AND version = $8")
            .bind(&r.state)
            .bind(&r.approvers)
            .bind(r.window_end)
            .bind(r.reviewed_at)
            .bind(r.version)
            .bind(&r.id)
            .bind(&r.idc_id)
            .bind(r.version - 1)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(
                "the request changed meanwhile: read it again".to_owned(),
            ));
        }
        let mut state = format!("{}:{}:{}", r.id, r.state, r.approvers);
        if let Some(d) = decision {
            sqlx::query("INSERT INTO access_decisions (request_id, n, user_id, username, decision, payload, signature, custody, at) VALUES ($1, (SELECT COUNT(*) FROM access_decisions WHERE request_id = $1), $2, $3, $4, $5, $6, $7, $8)")
                .bind(&r.id)
                .bind(&d.user_id)
                .bind(&d.username)
                .bind(&d.decision)
                .bind(&d.payload)
                .bind(&d.signature)
                .bind(&d.custody)
                .bind(d.at)
                .execute(&mut *tx)
                .await?;
            // The ledger entry commits to the signed decision itself.
            state.push(':');
            state.push_str(&d.signature);
        }
        Self::finish_seq(tx, &r.idc_id, audit, state.as_bytes()).await
    }

    pub async fn access_decisions(&self, request: &str) -> Result<Vec<DecisionRow>> {
        sqlx::query("SELECT n, user_id, username, decision, payload, signature, custody, at FROM access_decisions WHERE request_id = $1 ORDER BY n")
            .bind(request)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(DecisionRow {
                    n: r.try_get("n")?,
                    user_id: r.try_get("user_id")?,
                    username: r.try_get("username")?,
                    decision: r.try_get("decision")?,
                    payload: r.try_get("payload")?,
                    signature: r.try_get("signature")?,
                    custody: r.try_get("custody")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    /// Records one use of a grant — only while the request is still at `version` in a
    /// granting state inside its window (a revocation committed first wins: the use is
    /// refused). Moves `approved` to `active`. Answers the ledger entry's sequence number.
    #[allow(clippy::too_many_arguments)]
    pub async fn use_grant(
        &self,
        r: &AccessRequestRow,
        asset: &str,
        what: &str,
        username: &str,
        at: i64,
        mac: &[u8],
        audit: &Audit<'_>,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE access_requests SET state = CASE WHEN state = 'approved' THEN 'active' ELSE state END, version = version + 1 WHERE id = $1 AND idc_id = $2 AND version = $3 AND state IN ('approved', 'active', 'extended') AND window_start <= $4 AND $4 < window_end")
            .bind(&r.id)
            .bind(&r.idc_id)
            .bind(r.version)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(
                "the grant is no longer usable (revoked, ended or changed): read it again"
                    .to_owned(),
            ));
        }
        // The use cites its ledger entry: lock the head row now (a no-op update) so the
        // number read here is the one `finish_seq` takes.
        let next: i64 = sqlx::query(
            "UPDATE ledger_head SET next_seq = next_seq WHERE id = 1 RETURNING next_seq",
        )
        .fetch_one(&mut *tx)
        .await?
        .try_get("next_seq")?;
        sqlx::query("INSERT INTO grant_uses (request_id, n, asset_id, what, username, at, ledger_seq) VALUES ($1, (SELECT COUNT(*) FROM grant_uses WHERE request_id = $1), $2, $3, $4, $5, $6)")
            .bind(&r.id)
            .bind(asset)
            .bind(what)
            .bind(username)
            .bind(at)
            .bind(next)
            .execute(&mut *tx)
            .await?;
        Self::finish_seq(tx, &r.idc_id, audit, mac).await
    }

    pub async fn grant_uses(&self, request: &str) -> Result<Vec<GrantUseRow>> {
        sqlx::query("SELECT n, asset_id, what, username, at, ledger_seq FROM grant_uses WHERE request_id = $1 ORDER BY n")
            .bind(request)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(GrantUseRow {
                    n: r.try_get("n")?,
                    asset_id: r.try_get("asset_id")?,
                    what: r.try_get("what")?,
                    username: r.try_get("username")?,
                    at: r.try_get("at")?,
                    ledger_seq: r.try_get("ledger_seq")?,
                })
            })
            .collect()
    }

    /// Registers (or replaces) a user's approver key.
    pub async fn set_approver_key(&self, k: &ApproverKeyRow, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM approver_keys WHERE user_id = $1")
            .bind(&k.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO approver_keys (user_id, tenant_id, public_key, custody, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&k.user_id)
            .bind(&k.tenant_id)
            .bind(&k.public_key)
            .bind(&k.custody)
            .bind(&k.secret)
            .bind(k.created_at)
            .execute(&mut *tx)
            .await?;
        Self::finish_with(tx, &k.tenant_id, audit, k.public_key.as_bytes()).await
    }

    pub async fn approver_key(&self, tenant: &str, user: &str) -> Result<Option<ApproverKeyRow>> {
        sqlx::query("SELECT user_id, tenant_id, public_key, custody, secret, created_at FROM approver_keys WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant)
            .bind(user)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| {
                Ok(ApproverKeyRow {
                    user_id: r.try_get("user_id")?,
                    tenant_id: r.try_get("tenant_id")?,
                    public_key: r.try_get("public_key")?,
                    custody: r.try_get("custody")?,
                    secret: r.try_get("secret")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .transpose()
    }
}

/// A customer's own IDC policy (Cedar text), proposed by one approver and put in force by
/// another.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyRow {
    pub id: String,
    pub idc_id: String,
    pub customer_id: String,
    pub name: String,
    pub text: String,
    /// `proposed`, `active`, `refused`, `retiring` or `retired`.
    pub state: String,
    pub proposed_by: String,
    pub decided_by: Option<String>,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    pub version: i64,
}

fn policy_from(r: &AnyRow) -> Result<PolicyRow> {
    Ok(PolicyRow {
        id: r.try_get("id")?,
        idc_id: r.try_get("idc_id")?,
        customer_id: r.try_get("customer_id")?,
        name: r.try_get("name")?,
        text: r.try_get("text")?,
        state: r.try_get("state")?,
        proposed_by: r.try_get("proposed_by")?,
        decided_by: r.try_get("decided_by")?,
        created_at: r.try_get("created_at")?,
        decided_at: r.try_get("decided_at")?,
        version: r.try_get("version")?,
    })
}

impl Store {
    pub async fn insert_policy(&self, p: &PolicyRow, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO idc_policies (id, idc_id, customer_id, name, text, state, proposed_by, decided_by, created_at, decided_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
            .bind(&p.id)
            .bind(&p.idc_id)
            .bind(&p.customer_id)
            .bind(&p.name)
            .bind(&p.text)
            .bind(&p.state)
            .bind(&p.proposed_by)
            .bind(&p.decided_by)
            .bind(p.created_at)
            .bind(p.decided_at)
            .bind(p.version)
            .execute(&mut *tx)
            .await?;
        Self::finish_with(tx, &p.idc_id, audit, p.text.as_bytes()).await
    }

    pub async fn policies(&self, idc: &str, customer: &str) -> Result<Vec<PolicyRow>> {
        sqlx::query("SELECT id, idc_id, customer_id, name, text, state, proposed_by, decided_by, created_at, decided_at, version FROM idc_policies WHERE idc_id = $1 AND customer_id = $2 ORDER BY created_at, id")
            .bind(idc)
            .bind(customer)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(policy_from)
            .collect()
    }

    /// Moves a policy to `p.state` if it is still at `p.version - 1`.
    pub async fn update_policy(&self, p: &PolicyRow, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE idc_policies SET state = $1, decided_by = $2, decided_at = $3, version = $4 WHERE id = $5 AND idc_id = $6 AND customer_id = $7 AND version = $8")
            .bind(&p.state)
            .bind(&p.decided_by)
            .bind(p.decided_at)
            .bind(p.version)
            .bind(&p.id)
            .bind(&p.idc_id)
            .bind(&p.customer_id)
            .bind(p.version - 1)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(
                "the policy changed meanwhile: read it again".to_owned(),
            ));
        }
        let state = format!("{}:{}:{}", p.id, p.state, p.version);
        Self::finish_with(tx, &p.idc_id, audit, state.as_bytes()).await
    }
}

/// One pass through the external-sharing gate: what was to leave, to whom and why, what the
/// scan found (masked), and whether it was released or blocked.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareRow {
    pub id: String,
    pub idc_id: String,
    pub customer_id: String,
    pub request_id: String,
    pub asset_id: String,
    pub recipient: String,
    pub purpose: String,
    pub legal_basis: String,
    pub declassified: bool,
    pub risk_assessment: String,
    pub classification: String,
    /// JSON: counts per kind and the masked findings.
    pub findings: String,
    /// `released` or `blocked`.
    pub verdict: String,
    pub reason: String,
    pub evaluated_by: String,
    pub at: i64,
}

impl Store {
    pub async fn insert_share(&self, r: &ShareRow, mac: &[u8], audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO share_evaluations (id, idc_id, customer_id, request_id, asset_id, recipient, purpose, legal_basis, declassified, risk_assessment, classification, findings, verdict, reason, evaluated_by, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)")
            .bind(&r.id)
            .bind(&r.idc_id)
            .bind(&r.customer_id)
            .bind(&r.request_id)
            .bind(&r.asset_id)
            .bind(&r.recipient)
            .bind(&r.purpose)
            .bind(&r.legal_basis)
            .bind(i64::from(r.declassified))
            .bind(&r.risk_assessment)
            .bind(&r.classification)
            .bind(&r.findings)
            .bind(&r.verdict)
            .bind(&r.reason)
            .bind(&r.evaluated_by)
            .bind(r.at)
            .execute(&mut *tx)
            .await?;
        Self::finish_with(tx, &r.idc_id, audit, mac).await
    }

    pub async fn shares(&self, idc: &str, request: &str) -> Result<Vec<ShareRow>> {
        sqlx::query("SELECT id, idc_id, customer_id, request_id, asset_id, recipient, purpose, legal_basis, declassified, risk_assessment, classification, findings, verdict, reason, evaluated_by, at FROM share_evaluations WHERE idc_id = $1 AND request_id = $2 ORDER BY at, id")
            .bind(idc)
            .bind(request)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(ShareRow {
                    id: r.try_get("id")?,
                    idc_id: r.try_get("idc_id")?,
                    customer_id: r.try_get("customer_id")?,
                    request_id: r.try_get("request_id")?,
                    asset_id: r.try_get("asset_id")?,
                    recipient: r.try_get("recipient")?,
                    purpose: r.try_get("purpose")?,
                    legal_basis: r.try_get("legal_basis")?,
                    declassified: b(r.try_get("declassified")?),
                    risk_assessment: r.try_get("risk_assessment")?,
                    classification: r.try_get("classification")?,
                    findings: r.try_get("findings")?,
                    verdict: r.try_get("verdict")?,
                    reason: r.try_get("reason")?,
                    evaluated_by: r.try_get("evaluated_by")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }
}
