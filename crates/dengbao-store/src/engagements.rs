//! Evaluation engagements (Measures art. 14, 22, 23): an operator engages an evaluation
//! agency on the platform for one object and a period, with the eligibility of the agency's
//! registry entry recorded at engagement (and the operator's override, if it engaged an
//! ineligible one); while engaged, the agency records the evaluation, which lands in the
//! operator's data as its `evaluation` event (and the report as dossier material) in one
//! transaction with the audit row and ledger entry.

use super::*;

/// One engagement as its parties see it.
#[derive(Clone, Debug, PartialEq)]
pub struct EngagementFull {
    pub id: String,
    pub agency_id: String,
    pub operator_id: String,
    pub object_id: String,
    /// Epoch ms, inclusive.
    pub starts_at: i64,
    /// Epoch ms, exclusive.
    pub ends_at: i64,
    pub created_at: i64,
    pub created_by: String,
    /// The operator's registry entry for the agency whose eligibility was checked.
    pub registry_id: String,
    /// Every criterion of art. 22 met at engagement.
    pub eligible: bool,
    /// The criteria not met or unknown at engagement, comma-separated.
    pub not_met: String,
    /// Why the operator engaged an ineligible agency anyway.
    pub override_reason: Option<String>,
    /// `YYYY-MM-DD` of the evaluation the agency recorded, and its conformity.
    pub evaluated_on: Option<String>,
    pub conformity: Option<String>,
    pub agency_name: String,
    pub operator_name: String,
    pub object_name: String,
}

macro_rules! select_engagement {
    ($tail:literal) => {
        concat!("SELECT e.id, e.agency_id, e.operator_id, e.object_id, e.starts_at, e.ends_at, e.created_at, e.created_by, e.registry_id, e.eligible, e.not_met, e.override_reason, e.evaluated_on, e.conformity, a.name AS agency_name, o.name AS operator_name, g.name AS object_name FROM engagements e JOIN organisations a ON a.id = e.agency_id JOIN organisations o ON o.id = e.operator_id JOIN grading_objects g ON g.tenant_id = e.operator_id AND g.id = e.object_id ", $tail)
    };
}

impl Store {
    /// Records an engagement in the operator's data.
    pub async fn engage(&self, e: &EngagementFull, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, &e.operator_id, &e.object_id).await?;
        sqlx::query("INSERT INTO engagements (id, agency_id, operator_id, object_id, starts_at, ends_at, created_at, created_by, registry_id, eligible, not_met, override_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
            .bind(&e.id)
            .bind(&e.agency_id)
            .bind(&e.operator_id)
            .bind(&e.object_id)
            .bind(e.starts_at)
            .bind(e.ends_at)
            .bind(e.created_at)
            .bind(&e.created_by)
            .bind(&e.registry_id)
            .bind(i64::from(e.eligible))
            .bind(&e.not_met)
            .bind(&e.override_reason)
            .execute(&mut *tx)
            .await
            .map_err(|err| conflict_or(err, "engagement"))?;
        let state = format!(
            "{}:{}:{}:{}:{}-{}:{}",
            e.id, e.agency_id, e.object_id, e.registry_id, e.starts_at, e.ends_at, e.eligible
        );
        Self::finish_with(tx, &e.operator_id, audit, state.as_bytes()).await
    }

    /// The engagements `org` is a party to, as operator or as agency; newest first.
    pub async fn engagements(&self, org: &str) -> Result<Vec<EngagementFull>> {
        sqlx::query(select_engagement!(
            "WHERE e.operator_id = $1 OR e.agency_id = $1 ORDER BY e.starts_at DESC, e.id"
        ))
        .bind(org)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(engagement_from)
        .collect()
    }

    /// One engagement `org` is a party to.
    pub async fn engagement(&self, org: &str, id: &str) -> Result<EngagementFull> {
        let r = sqlx::query(select_engagement!(
            "WHERE e.id = $2 AND (e.operator_id = $1 OR e.agency_id = $1)"
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        engagement_from(&r)
    }

    /// Records the agency's evaluation once: the engagement's result, the operator's event
    /// and, when given, the report as the object's material — one transaction.
    pub async fn record_evaluation(
        &self,
        e: &EngagementFull,
        on: &str,
        conformity: &str,
        event: &EventRow,
        report: Option<(&MaterialRow, &[u8])>,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE engagements SET evaluated_on = $1, conformity = $2 WHERE id = $3 AND operator_id = $4 AND evaluated_on IS NULL")
            .bind(on)
            .bind(conformity)
            .bind(&e.id)
            .bind(&e.operator_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(
                "the evaluation of this engagement is already recorded".into(),
            ));
        }
        if let Some((m, content)) = report {
            Self::insert_material(&mut tx, &e.operator_id, m, Some(content)).await?;
        }
        Self::insert_event(&mut tx, &e.operator_id, event).await?;
        let state = format!(
            "{}:{on}:{conformity}:{}",
            e.id,
            report.map_or("", |(m, _)| m.sha256.as_str())
        );
        Self::finish_with(tx, &e.operator_id, audit, state.as_bytes()).await
    }
}

fn engagement_from(r: &AnyRow) -> Result<EngagementFull> {
    let eligible: Option<i64> = r.try_get("eligible")?;
    Ok(EngagementFull {
        id: r.try_get("id")?,
        agency_id: r.try_get("agency_id")?,
        operator_id: r.try_get("operator_id")?,
        object_id: r.try_get("object_id")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        created_at: r.try_get("created_at")?,
        created_by: r
            .try_get::<Option<String>, _>("created_by")?
            .unwrap_or_default(),
        registry_id: r
            .try_get::<Option<String>, _>("registry_id")?
            .unwrap_or_default(),
        eligible: eligible.is_some_and(|e| e != 0),
        not_met: r
            .try_get::<Option<String>, _>("not_met")?
            .unwrap_or_default(),
        override_reason: r.try_get("override_reason")?,
        evaluated_on: r.try_get("evaluated_on")?,
        conformity: r.try_get("conformity")?,
        agency_name: r.try_get("agency_name")?,
        operator_name: r.try_get("operator_name")?,
        object_name: r.try_get("object_name")?,
    })
}
