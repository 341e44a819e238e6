//! Reads of the ledger: entries, leaf hashes, checkpoints.

use super::*;

impl Store {
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

    /// Checkpoints of size below `before`, newest first, at most `limit`.
    pub async fn checkpoints_before(&self, before: i64, limit: i64) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT size, note FROM ledger_checkpoints WHERE size < $1 ORDER BY size DESC LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("size")?, r.try_get("note")?)))
            .collect()
    }
}
