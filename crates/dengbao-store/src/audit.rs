//! The audit trail.

use super::*;

impl Store {
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
