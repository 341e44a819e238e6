//! Calendar feed capabilities.

use super::*;

impl Store {
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
}
