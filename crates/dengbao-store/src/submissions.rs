//! What an operator submits to the secrecy department or the cryptography administration —
//! a secret-involved system's application for approval or record (Measures art. 29 ¶2, 30),
//! its change reports (art. 31), a usage filing of cryptography (art. 36) — and the
//! authority's decision; and the cryptography administration's list of approved products
//! (art. 37). Submissions live with the operator's data; every query names the party asking
//! (the authority it went to, or the operator), and each step commits with the operator's
//! events, its audit row and ledger entry.

use super::*;

/// One submission and its decision.
#[derive(Clone, Debug, PartialEq)]
pub struct SubmissionRow {
    pub id: String,
    /// `secrecy_application`, `secret_change` or `crypto_filing`.
    pub kind: String,
    pub authority_id: String,
    pub tenant_id: String,
    pub object_id: String,
    /// `submitted`, then the decision's status.
    pub status: String,
    /// What was submitted, as JSON (the kind's own fields).
    pub payload: String,
    pub submitted_on: String,
    pub submitted_at: i64,
    pub submitted_by: String,
    pub decided_on: Option<String>,
    pub decided_by: Option<String>,
    pub reasons: Option<String>,
    pub authority_name: String,
    pub operator_name: String,
    pub object_name: String,
}

/// A cryptographic product on an administration's approved list (art. 37).
#[derive(Clone, Debug, PartialEq)]
pub struct ListedProductRow {
    pub id: String,
    pub admin_id: String,
    /// The approval or sales-permit certificate number.
    pub certificate: String,
    pub name: String,
    pub vendor: String,
    /// `YYYY-MM-DD`, the last day the approval holds.
    pub valid_until: String,
    pub withdrawn_on: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub admin_name: String,
}

macro_rules! select_submission {
    ($tail:literal) => {
        concat!("SELECT s.id, s.kind, s.authority_id, s.tenant_id, s.object_id, s.status, s.payload, s.submitted_on, s.submitted_at, s.submitted_by, s.decided_on, s.decided_by, s.reasons, a.name AS authority_name, o.name AS operator_name, g.name AS object_name FROM submissions s JOIN organisations a ON a.id = s.authority_id JOIN organisations o ON o.id = s.tenant_id JOIN grading_objects g ON g.tenant_id = s.tenant_id AND g.id = s.object_id ", $tail)
    };
}

impl Store {
    /// The authority of `kind` (`secrecy_department`, `cryptography_administration`,
    /// `public_security`) whose jurisdiction covers `division` at `min_level` or above: the
    /// most local such authority, or `None` when no authority on the platform covers it.
    pub async fn authority_for(
        &self,
        kind: &str,
        division: &str,
        min_level: &str,
    ) -> Result<Option<String>> {
        let rows = sqlx::query("SELECT j.organ_id, j.division, j.level FROM jurisdictions j JOIN organisations o ON o.id = j.organ_id WHERE o.kind = $1 ORDER BY j.organ_id")
            .bind(kind)
            .fetch_all(&self.pool)
            .await?;
        // The digits of the division a level compares.
        let digits_of = |level: &str| match level {
            "ministry" => Some(0),
            "province" => Some(2),
            "city" => Some(4),
            "county" => Some(6),
            _ => None,
        };
        let Some(most_local) = digits_of(min_level) else {
            return Ok(None);
        };
        let mut best: Option<(usize, String)> = None;
        for r in rows {
            let level: String = r.try_get("level")?;
            let seat: String = r.try_get("division")?;
            let Some(digits) = digits_of(&level).filter(|d| *d <= most_local) else {
                continue;
            };
            let covers = digits == 0
                || (division.len() >= digits
                    && seat.len() >= digits
                    && division.as_bytes()[..digits] == seat.as_bytes()[..digits]);
            if covers && best.as_ref().is_none_or(|(d, _)| digits > *d) {
                best = Some((digits, r.try_get("organ_id")?));
            }
        }
        Ok(best.map(|(_, organ)| organ))
    }

    /// Records a submission with the operator's events, in its data.
    pub async fn create_submission(
        &self,
        s: &SubmissionRow,
        events: &[EventRow],
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, &s.tenant_id, &s.object_id).await?;
        sqlx::query("INSERT INTO submissions (id, kind, authority_id, tenant_id, object_id, status, payload, submitted_on, submitted_at, submitted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(&s.id)
            .bind(&s.kind)
            .bind(&s.authority_id)
            .bind(&s.tenant_id)
            .bind(&s.object_id)
            .bind(&s.status)
            .bind(&s.payload)
            .bind(&s.submitted_on)
            .bind(s.submitted_at)
            .bind(&s.submitted_by)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "a submission of this kind for this object is already waiting for its decision"))?;
        for e in events {
            Self::insert_event(&mut tx, &s.tenant_id, e).await?;
        }
        let state = format!(
            "{}:{}:{}:{}:{}",
            s.id, s.kind, s.object_id, s.authority_id, s.payload
        );
        Self::finish_with(tx, &s.tenant_id, audit, state.as_bytes()).await
    }

    /// The submissions `org` is a party to (the authority or the operator), newest first.
    pub async fn submissions(&self, org: &str) -> Result<Vec<SubmissionRow>> {
        sqlx::query(select_submission!(
            "WHERE s.authority_id = $1 OR s.tenant_id = $1 ORDER BY s.submitted_at DESC, s.id"
        ))
        .bind(org)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(submission_from)
        .collect()
    }

    /// One submission `org` is a party to.
    pub async fn submission(&self, org: &str, id: &str) -> Result<SubmissionRow> {
        let r = sqlx::query(select_submission!(
            "WHERE s.id = $2 AND (s.authority_id = $1 OR s.tenant_id = $1)"
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        submission_from(&r)
    }

    /// The objects with a submission of `kind` to `authority` (any status): what a
    /// cryptography administration sees (art. 36).
    pub async fn submitted_to(&self, authority: &str, kind: &str) -> Result<Vec<(String, String)>> {
        sqlx::query("SELECT DISTINCT tenant_id, object_id FROM submissions WHERE authority_id = $1 AND kind = $2")
            .bind(authority)
            .bind(kind)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("tenant_id")?, r.try_get("object_id")?)))
            .collect()
    }

    /// The authority's decision: from `submitted` to `status`, with the operator's event when
    /// there is one. A submission decided meanwhile is stale.
    pub async fn decide_submission(
        &self,
        s: &SubmissionRow,
        status: &str,
        reasons: Option<&str>,
        on: &str,
        event: Option<&EventRow>,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE submissions SET status = $1, decided_on = $2, decided_by = $3, reasons = $4 WHERE id = $5 AND tenant_id = $6 AND status = 'submitted'")
            .bind(status)
            .bind(on)
            .bind(audit.actor)
            .bind(reasons)
            .bind(&s.id)
            .bind(&s.tenant_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(
                "the submission is decided already".into(),
            ));
        }
        if let Some(e) = event {
            Self::insert_event(&mut tx, &s.tenant_id, e).await?;
        }
        let state = format!("{}:{status}:{on}:{}", s.id, reasons.unwrap_or(""));
        Self::finish_with(tx, &s.tenant_id, audit, state.as_bytes()).await
    }

    /// Lists a product on its administration's approved list.
    pub async fn list_product(&self, p: &ListedProductRow, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO approved_crypto_products (id, admin_id, certificate, name, vendor, valid_until, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&p.id)
            .bind(&p.admin_id)
            .bind(&p.certificate)
            .bind(&p.name)
            .bind(&p.vendor)
            .bind(&p.valid_until)
            .bind(p.created_at)
            .bind(&p.created_by)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "this certificate is on your list already (withdrawn entries stay)"))?;
        let state = format!(
            "{}:{}:{}:{}:{}",
            p.id, p.certificate, p.name, p.vendor, p.valid_until
        );
        Self::finish_with(tx, &p.admin_id, audit, state.as_bytes()).await
    }

    /// Every administration's approved products, withdrawn ones included, by certificate.
    pub async fn approved_products(&self) -> Result<Vec<ListedProductRow>> {
        sqlx::query("SELECT p.id, p.admin_id, p.certificate, p.name, p.vendor, p.valid_until, p.withdrawn_on, p.created_at, p.created_by, a.name AS admin_name FROM approved_crypto_products p JOIN organisations a ON a.id = p.admin_id ORDER BY p.certificate, p.id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(ListedProductRow {
                    id: r.try_get("id")?,
                    admin_id: r.try_get("admin_id")?,
                    certificate: r.try_get("certificate")?,
                    name: r.try_get("name")?,
                    vendor: r.try_get("vendor")?,
                    valid_until: r.try_get("valid_until")?,
                    withdrawn_on: r.try_get("withdrawn_on")?,
                    created_at: r.try_get("created_at")?,
                    created_by: r.try_get("created_by")?,
                    admin_name: r.try_get("admin_name")?,
                })
            })
            .collect()
    }

    /// Withdraws a product from `admin`'s list on `on`.
    pub async fn withdraw_product(
        &self,
        admin: &str,
        id: &str,
        on: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE approved_crypto_products SET withdrawn_on = $1 WHERE id = $2 AND admin_id = $3 AND withdrawn_on IS NULL")
            .bind(on)
            .bind(id)
            .bind(admin)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        Self::finish_with(tx, admin, audit, format!("{id}:withdrawn:{on}").as_bytes()).await
    }
}

fn submission_from(r: &AnyRow) -> Result<SubmissionRow> {
    Ok(SubmissionRow {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        authority_id: r.try_get("authority_id")?,
        tenant_id: r.try_get("tenant_id")?,
        object_id: r.try_get("object_id")?,
        status: r.try_get("status")?,
        payload: r.try_get("payload")?,
        submitted_on: r.try_get("submitted_on")?,
        submitted_at: r.try_get("submitted_at")?,
        submitted_by: r.try_get("submitted_by")?,
        decided_on: r.try_get("decided_on")?,
        decided_by: r.try_get("decided_by")?,
        reasons: r.try_get("reasons")?,
        authority_name: r.try_get("authority_name")?,
        operator_name: r.try_get("operator_name")?,
        object_name: r.try_get("object_name")?,
    })
}
