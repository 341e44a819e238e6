//! Grading approval between parties (Measures art. 10): an operator's proposed grade, the
//! expert committee's opinion (from the pack's expert-review grade) and the department in
//! charge's decision. Rows live in the operator's data; every query names the party asking
//! (the operator, its department in charge or the committee the proposal went to), and each
//! step commits with its audit row and ledger entry — an approval with the operator's
//! `grade_determined` event, each opinion with the dossier material it becomes (art. 16(6),
//! 16(7)).

use super::*;

/// One proposed grade and where its review stands.
#[derive(Clone, Debug, PartialEq)]
pub struct GradeReviewRow {
    pub tenant_id: String,
    pub id: String,
    pub object_id: String,
    /// 1–5.
    pub grade: i64,
    /// `awaiting_expert`, `awaiting_department`, `approved` or `returned`.
    pub status: String,
    pub department_id: String,
    pub committee_id: Option<String>,
    pub proposed_at: i64,
    pub proposed_by: String,
    /// The committee's opinion: whether it agrees with the grade, and its text.
    pub expert_agrees: Option<bool>,
    pub expert_opinion: Option<String>,
    pub expert_at: Option<i64>,
    pub expert_by: Option<String>,
    /// The department's reasons (required to return a proposal).
    pub reasons: Option<String>,
    /// `YYYY-MM-DD` of the department's decision.
    pub decided_on: Option<String>,
    pub decided_by: Option<String>,
    pub operator_name: String,
    pub object_name: String,
    pub department_name: String,
    pub committee_name: Option<String>,
}

/// One step of a review: the fields it sets, the material it files in the operator's
/// dossier and, for an approval, the operator's event.
pub struct GradeStep<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub expert: Option<(bool, &'a str)>,
    pub reasons: Option<&'a str>,
    pub decided_on: Option<&'a str>,
    pub material: Option<(&'a MaterialRow, &'a [u8])>,
    pub event: Option<&'a EventRow>,
}

/// The review's columns with the parties' and object's names, then `$tail`.
macro_rules! select {
    ($tail:literal) => {
        concat!("SELECT r.tenant_id, r.id, r.object_id, r.grade, r.status, r.department_id, r.committee_id, r.proposed_at, r.proposed_by, r.expert_agrees, r.expert_opinion, r.expert_at, r.expert_by, r.reasons, r.decided_on, r.decided_by, o.name AS operator_name, g.name AS object_name, d.name AS department_name, c.name AS committee_name FROM grade_reviews r JOIN organisations o ON o.id = r.tenant_id JOIN grading_objects g ON g.tenant_id = r.tenant_id AND g.id = r.object_id JOIN organisations d ON d.id = r.department_id LEFT JOIN organisations c ON c.id = r.committee_id ", $tail)
    };
}

impl Store {
    /// The departments in charge of `operator` on the platform (art. 10 ¶1).
    pub async fn departments_of(&self, operator: &str) -> Result<Vec<String>> {
        sqlx::query(
            "SELECT department_id FROM supervision WHERE operator_id = $1 ORDER BY department_id",
        )
        .bind(operator)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok(r.try_get("department_id")?))
        .collect()
    }

    /// The organisations of one kind, by name (the expert committees an operator may ask).
    pub async fn organisations_of_kind(&self, kind: &str) -> Result<Vec<(String, String)>> {
        sqlx::query("SELECT id, name FROM organisations WHERE kind = $1 ORDER BY name, id")
            .bind(kind)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
            .collect()
    }

    /// Records a proposed grade. One open proposal per object: a second is a conflict.
    pub async fn propose_grade(&self, r: &GradeReviewRow, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, &r.tenant_id, &r.object_id).await?;
        sqlx::query("INSERT INTO grade_reviews (tenant_id, id, object_id, grade, status, department_id, committee_id, proposed_at, proposed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&r.tenant_id)
            .bind(&r.id)
            .bind(&r.object_id)
            .bind(r.grade)
            .bind(&r.status)
            .bind(&r.department_id)
            .bind(&r.committee_id)
            .bind(r.proposed_at)
            .bind(&r.proposed_by)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "an open grade proposal for this object"))?;
        let state = format!("{}:{}:{}:{}", r.id, r.object_id, r.grade, r.status);
        Self::finish_with(tx, &r.tenant_id, audit, state.as_bytes()).await
    }

    /// The proposals `org` is a party to: its own as operator, those sent to it as
    /// department in charge or expert committee. Newest first.
    pub async fn grade_reviews(&self, org: &str) -> Result<Vec<GradeReviewRow>> {
        let rows = sqlx::query(select!("WHERE r.tenant_id = $1 OR r.department_id = $1 OR r.committee_id = $1 ORDER BY r.proposed_at DESC, r.id"))
            .bind(org)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(grade_review_from).collect()
    }

    /// One proposal `org` is a party to.
    pub async fn grade_review(&self, org: &str, id: &str) -> Result<GradeReviewRow> {
        let r = sqlx::query(select!(
            "WHERE r.id = $2 AND (r.tenant_id = $1 OR r.department_id = $1 OR r.committee_id = $1)"
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        grade_review_from(&r)
    }

    /// Moves a proposal from `step.from` to `step.to` with the step's fields, filing its
    /// material and recording its event in the operator's data, in one transaction. A
    /// proposal no longer in `from` is stale.
    pub async fn advance_grade_review(
        &self,
        tenant: &str,
        id: &str,
        step: &GradeStep<'_>,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = match step.expert {
            Some((agrees, opinion)) => sqlx::query("UPDATE grade_reviews SET status = $1, expert_agrees = $2, expert_opinion = $3, expert_at = $4, expert_by = $5 WHERE tenant_id = $6 AND id = $7 AND status = $8")
                .bind(step.to)
                .bind(i64::from(agrees))
                .bind(opinion)
                .bind(audit.at)
                .bind(audit.actor)
                .bind(tenant)
                .bind(id)
                .bind(step.from)
                .execute(&mut *tx)
                .await?,
            None => sqlx::query("UPDATE grade_reviews SET status = $1, reasons = $2, decided_on = $3, decided_by = $4 WHERE tenant_id = $5 AND id = $6 AND status = $7")
                .bind(step.to)
                .bind(step.reasons)
                .bind(step.decided_on)
                .bind(audit.actor)
                .bind(tenant)
                .bind(id)
                .bind(step.from)
                .execute(&mut *tx)
                .await?,
        }
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(format!(
                "the grade proposal is no longer `{}`",
                step.from
            )));
        }
        if let Some((m, content)) = step.material {
            Self::insert_material(&mut tx, tenant, m, Some(content)).await?;
        }
        if let Some(e) = step.event {
            Self::insert_event(&mut tx, tenant, e).await?;
        }
        let state = format!(
            "{id}:{}:{}",
            step.to,
            step.material.map_or("", |(m, _)| m.sha256.as_str())
        );
        Self::finish_with(tx, tenant, audit, state.as_bytes()).await
    }
}

fn grade_review_from(r: &AnyRow) -> Result<GradeReviewRow> {
    let agrees: Option<i64> = r.try_get("expert_agrees")?;
    Ok(GradeReviewRow {
        tenant_id: r.try_get("tenant_id")?,
        id: r.try_get("id")?,
        object_id: r.try_get("object_id")?,
        grade: r.try_get("grade")?,
        status: r.try_get("status")?,
        department_id: r.try_get("department_id")?,
        committee_id: r.try_get("committee_id")?,
        proposed_at: r.try_get("proposed_at")?,
        proposed_by: r.try_get("proposed_by")?,
        expert_agrees: agrees.map(|a| a != 0),
        expert_opinion: r.try_get("expert_opinion")?,
        expert_at: r.try_get("expert_at")?,
        expert_by: r.try_get("expert_by")?,
        reasons: r.try_get("reasons")?,
        decided_on: r.try_get("decided_on")?,
        decided_by: r.try_get("decided_by")?,
        operator_name: r.try_get("operator_name")?,
        object_name: r.try_get("object_name")?,
        department_name: r.try_get("department_name")?,
        committee_name: r.try_get("committee_name")?,
    })
}
