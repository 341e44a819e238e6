//! The public security organ's review of record filings (Measures art. 17): its queue, the
//! receipt that starts the clock, the decision, and certificates. Every query is scoped by
//! the organ the filing was routed to; the change itself lands in the operator's data, in
//! one transaction with the operator's event, audit row and ledger entry.

use super::*;

impl Store {
    /// The public security organ whose jurisdiction covers `division`, at city level or above
    /// (art. 15): the most local such organ, or `None` when no organ on the platform covers it.
    pub async fn organ_for(&self, division: &str) -> Result<Option<String>> {
        self.authority_for("public_security", division, "city")
            .await
    }

    /// The filings routed to `organ`, oldest submission first.
    pub async fn reviews(&self, organ: &str) -> Result<Vec<ReviewRow>> {
        let rows = sqlx::query("SELECT f.tenant_id, f.id, f.object_id, f.status, f.grade, f.materials, f.created_at, f.submitted_at, f.submitted_by, f.organ_id, f.received_on, f.decided_on, f.reasons, f.certificate, o.name AS operator_name, g.name AS object_name FROM filings f JOIN organisations o ON o.id = f.tenant_id JOIN grading_objects g ON g.tenant_id = f.tenant_id AND g.id = f.object_id WHERE f.organ_id = $1 ORDER BY f.submitted_at, f.id")
            .bind(organ)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(review_from).collect()
    }

    /// How many filings routed to `organ` are in each status (the dashboard's counts, without
    /// reading every filing).
    pub async fn review_counts(&self, organ: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT f.status, COUNT(*) AS n FROM filings f JOIN grading_objects g ON g.tenant_id = f.tenant_id AND g.id = f.object_id WHERE f.organ_id = $1 GROUP BY f.status")
            .bind(organ)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }

    /// One filing routed to `organ`.
    pub async fn review(&self, organ: &str, id: &str) -> Result<ReviewRow> {
        let r = sqlx::query("SELECT f.tenant_id, f.id, f.object_id, f.status, f.grade, f.materials, f.created_at, f.submitted_at, f.submitted_by, f.organ_id, f.received_on, f.decided_on, f.reasons, f.certificate, o.name AS operator_name, g.name AS object_name FROM filings f JOIN organisations o ON o.id = f.tenant_id JOIN grading_objects g ON g.tenant_id = f.tenant_id AND g.id = f.object_id WHERE f.organ_id = $1 AND f.id = $2")
            .bind(organ)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        review_from(&r)
    }

    /// Moves a filing routed to `organ` from `from` to `to` with the decision's fields, records
    /// the operator's event (and the certificate, if one is issued) — all in one transaction
    /// in the operator's data. A filing no longer in `from` is stale.
    #[allow(clippy::too_many_arguments)]
    pub async fn advance_filing(
        &self,
        tenant: &str,
        organ: &str,
        id: &str,
        from: &str,
        to: &str,
        on: &str,
        reasons: Option<&str>,
        certificate: Option<&CertificateRow>,
        event: &EventRow,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = if to == "received" {
            sqlx::query("UPDATE filings SET status = $1, received_on = $2 WHERE tenant_id = $3 AND id = $4 AND organ_id = $5 AND status = $6")
                .bind(to)
                .bind(on)
                .bind(tenant)
                .bind(id)
                .bind(organ)
                .bind(from)
                .execute(&mut *tx)
                .await?
        } else {
            sqlx::query("UPDATE filings SET status = $1, decided_on = $2, reasons = $3, certificate = $4 WHERE tenant_id = $5 AND id = $6 AND organ_id = $7 AND status = $8")
                .bind(to)
                .bind(on)
                .bind(reasons)
                .bind(certificate.map(|c| c.number.as_str()))
                .bind(tenant)
                .bind(id)
                .bind(organ)
                .bind(from)
                .execute(&mut *tx)
                .await?
        }
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(format!(
                "the filing is no longer `{from}`"
            )));
        }
        if let Some(c) = certificate {
            sqlx::query("INSERT INTO certificates (number, organ_id, tenant_id, filing_id, body, signed, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&c.number)
                .bind(&c.organ_id)
                .bind(&c.tenant_id)
                .bind(&c.filing_id)
                .bind(&c.body)
                .bind(&c.signed)
                .bind(c.issued_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| conflict_or(e, "certificate number"))?;
        }
        Self::insert_event(&mut tx, tenant, event).await?;
        let state = format!("{id}:{to}:{}", certificate.map_or("", |c| c.body.as_str()));
        Self::finish_with(tx, tenant, audit, state.as_bytes()).await
    }

    /// A certificate by its number (possession of the number is what a verifier has).
    pub async fn certificate(&self, number: &str) -> Result<CertificateRow> {
        let r = sqlx::query("SELECT number, organ_id, tenant_id, filing_id, body, signed, issued_at FROM certificates WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(CertificateRow {
            number: r.try_get("number")?,
            organ_id: r.try_get("organ_id")?,
            tenant_id: r.try_get("tenant_id")?,
            filing_id: r.try_get("filing_id")?,
            body: r.try_get("body")?,
            signed: r.try_get("signed")?,
            issued_at: r.try_get("issued_at")?,
        })
    }
}

fn review_from(r: &AnyRow) -> Result<ReviewRow> {
    Ok(ReviewRow {
        filing: filing_from(r)?,
        tenant_id: r.try_get("tenant_id")?,
        operator_name: r.try_get("operator_name")?,
        object_name: r.try_get("object_name")?,
    })
}
