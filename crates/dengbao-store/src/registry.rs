//! Registries of products, evaluation agencies and cryptographic products.

use super::*;

impl Store {
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
}
