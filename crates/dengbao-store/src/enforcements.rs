//! Art. 40 enforcement (Measures art. 40): the authority's order to correct within a time
//! limit and, failing that, its warning with the superior department informed. Rows live
//! with the operator's data; every query names the party asking (the authority, the
//! operator, or a department informed), and each step commits with the operator's event
//! where there is one, its audit row and ledger entry.

use super::*;

/// One enforcement of an art. 40 item against one object.
#[derive(Clone, Debug, PartialEq)]
pub struct EnforcementRow {
    pub id: String,
    pub organ_id: String,
    pub tenant_id: String,
    pub object_id: String,
    /// Art. 40 item 1–10.
    pub item: i64,
    /// `ordered`, `warned` or `closed`.
    pub stage: String,
    pub ordered_on: String,
    pub deadline: String,
    pub reasons: String,
    pub warned_on: Option<String>,
    /// The departments in charge informed with the warning, comma-separated ids.
    pub informed: String,
    pub closed_on: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub organ_name: String,
    pub operator_name: String,
    pub object_name: String,
}

macro_rules! select_enforcement {
    ($tail:literal) => {
        concat!("SELECT e.id, e.organ_id, e.tenant_id, e.object_id, e.item, e.stage, e.ordered_on, e.deadline, e.reasons, e.warned_on, e.informed, e.closed_on, e.created_by, e.created_at, a.name AS organ_name, o.name AS operator_name, g.name AS object_name FROM enforcements e JOIN organisations a ON a.id = e.organ_id JOIN organisations o ON o.id = e.tenant_id JOIN grading_objects g ON g.tenant_id = e.tenant_id AND g.id = e.object_id ", $tail)
    };
}

impl Store {
    /// Records an order to correct with the operator's event (its time limit), one open
    /// enforcement per object and item.
    pub async fn order_correction(
        &self,
        e: &EnforcementRow,
        event: &EventRow,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, &e.tenant_id, &e.object_id).await?;
        sqlx::query("INSERT INTO enforcements (id, organ_id, tenant_id, object_id, item, stage, ordered_on, deadline, reasons, informed, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
            .bind(&e.id)
            .bind(&e.organ_id)
            .bind(&e.tenant_id)
            .bind(&e.object_id)
            .bind(e.item)
            .bind(&e.stage)
            .bind(&e.ordered_on)
            .bind(&e.deadline)
            .bind(&e.reasons)
            .bind(&e.informed)
            .bind(&e.created_by)
            .bind(e.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|err| conflict_or(err, "an open enforcement of this item for this object"))?;
        Self::insert_event(&mut tx, &e.tenant_id, event).await?;
        let state = format!(
            "{}:{}:{}:{}:{}",
            e.id, e.object_id, e.item, e.stage, e.deadline
        );
        Self::finish_with(tx, &e.tenant_id, audit, state.as_bytes()).await
    }

    /// The enforcements `org` is a party to: as the authority, the operator, or a department
    /// informed. Newest first.
    pub async fn enforcements(&self, org: &str) -> Result<Vec<EnforcementRow>> {
        sqlx::query(select_enforcement!("WHERE e.organ_id = $1 OR e.tenant_id = $1 OR (',' || e.informed || ',') LIKE ('%,' || $1 || ',%') ORDER BY e.created_at DESC, e.id"))
            .bind(org)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(enforcement_from)
            .collect()
    }

    /// One enforcement `org` is a party to.
    pub async fn enforcement(&self, org: &str, id: &str) -> Result<EnforcementRow> {
        let r = sqlx::query(select_enforcement!("WHERE e.id = $2 AND (e.organ_id = $1 OR e.tenant_id = $1 OR (',' || e.informed || ',') LIKE ('%,' || $1 || ',%'))"))
            .bind(org)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        enforcement_from(&r)
    }

    /// Moves an enforcement from `from` to `to` on `on` (`warned`: with the departments
    /// informed; `closed`: corrected). A row no longer in `from` is stale.
    pub async fn advance_enforcement(
        &self,
        e: &EnforcementRow,
        from: &str,
        to: &str,
        on: &str,
        informed: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let q = if to == "warned" {
            "UPDATE enforcements SET stage = $1, warned_on = $2, informed = $3 WHERE id = $4 AND tenant_id = $5 AND stage = $6"
        } else {
            "UPDATE enforcements SET stage = $1, closed_on = $2, informed = $3 WHERE id = $4 AND tenant_id = $5 AND stage = $6"
        };
        let n = sqlx::query(q)
            .bind(to)
            .bind(on)
            .bind(informed)
            .bind(&e.id)
            .bind(&e.tenant_id)
            .bind(from)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(format!(
                "the enforcement is no longer `{from}`"
            )));
        }
        let state = format!("{}:{to}:{on}:{informed}", e.id);
        Self::finish_with(tx, &e.tenant_id, audit, state.as_bytes()).await
    }
}

fn enforcement_from(r: &AnyRow) -> Result<EnforcementRow> {
    Ok(EnforcementRow {
        id: r.try_get("id")?,
        organ_id: r.try_get("organ_id")?,
        tenant_id: r.try_get("tenant_id")?,
        object_id: r.try_get("object_id")?,
        item: r.try_get("item")?,
        stage: r.try_get("stage")?,
        ordered_on: r.try_get("ordered_on")?,
        deadline: r.try_get("deadline")?,
        reasons: r.try_get("reasons")?,
        warned_on: r.try_get("warned_on")?,
        informed: r.try_get("informed")?,
        closed_on: r.try_get("closed_on")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        organ_name: r.try_get("organ_name")?,
        operator_name: r.try_get("operator_name")?,
        object_name: r.try_get("object_name")?,
    })
}

/// A supervisor's request for the information of art. 19, and the operator's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct InfoRequestRow {
    pub id: String,
    pub organ_id: String,
    pub tenant_id: String,
    pub object_id: String,
    /// The kinds of art. 19 asked for, comma-separated codes.
    pub kinds: String,
    pub note: String,
    /// `YYYY-MM-DD` the answer is due.
    pub due: String,
    /// `open` or `answered`.
    pub status: String,
    pub answer: Option<String>,
    /// The dossier materials the answer gives, as a JSON array of
    /// `{kind, title, file_name, media_type, size, sha256}`: pinned, so a material replaced
    /// later does not change what was answered.
    pub answer_files: Option<String>,
    pub answered_at: Option<i64>,
    pub answered_by: Option<String>,
    pub created_at: i64,
    pub created_by: String,
    pub organ_name: String,
    pub operator_name: String,
    pub object_name: String,
}

macro_rules! select_info {
    ($tail:literal) => {
        concat!("SELECT r.id, r.organ_id, r.tenant_id, r.object_id, r.kinds, r.note, r.due, r.status, r.answer, r.answer_files, r.answered_at, r.answered_by, r.created_at, r.created_by, a.name AS organ_name, o.name AS operator_name, g.name AS object_name FROM info_requests r JOIN organisations a ON a.id = r.organ_id JOIN organisations o ON o.id = r.tenant_id JOIN grading_objects g ON g.tenant_id = r.tenant_id AND g.id = r.object_id ", $tail)
    };
}

impl Store {
    /// Records a request in the operator's data.
    pub async fn request_info(&self, r: &InfoRequestRow, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, &r.tenant_id, &r.object_id).await?;
        sqlx::query("INSERT INTO info_requests (id, organ_id, tenant_id, object_id, kinds, note, due, status, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(&r.id)
            .bind(&r.organ_id)
            .bind(&r.tenant_id)
            .bind(&r.object_id)
            .bind(&r.kinds)
            .bind(&r.note)
            .bind(&r.due)
            .bind(&r.status)
            .bind(r.created_at)
            .bind(&r.created_by)
            .execute(&mut *tx)
            .await?;
        let state = format!("{}:{}:{}:{}", r.id, r.object_id, r.kinds, r.due);
        Self::finish_with(tx, &r.tenant_id, audit, state.as_bytes()).await
    }

    /// The requests `org` is a party to (as the organ or the operator), newest first.
    pub async fn info_requests(&self, org: &str) -> Result<Vec<InfoRequestRow>> {
        sqlx::query(select_info!(
            "WHERE r.organ_id = $1 OR r.tenant_id = $1 ORDER BY r.created_at DESC, r.id"
        ))
        .bind(org)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(info_from)
        .collect()
    }

    /// One request `org` is a party to.
    pub async fn info_request(&self, org: &str, id: &str) -> Result<InfoRequestRow> {
        let r = sqlx::query(select_info!(
            "WHERE r.id = $2 AND (r.organ_id = $1 OR r.tenant_id = $1)"
        ))
        .bind(org)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        info_from(&r)
    }

    /// The operator's answer, once.
    pub async fn answer_info(
        &self,
        tenant: &str,
        id: &str,
        (answer, files): (&str, Option<&str>),
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE info_requests SET status = 'answered', answer = $1, answer_files = $2, answered_at = $3, answered_by = $4 WHERE id = $5 AND tenant_id = $6 AND status = 'open'")
            .bind(answer)
            .bind(files)
            .bind(audit.at)
            .bind(audit.actor)
            .bind(id)
            .bind(tenant)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(
                "the request is answered already".into(),
            ));
        }
        Self::finish_with(
            tx,
            tenant,
            audit,
            format!("{id}:answered:{answer}:{}", files.unwrap_or("")).as_bytes(),
        )
        .await
    }

    /// A stored file of the operator's by its SHA-256 (files are kept by content, never
    /// overwritten).
    pub async fn file_by_sha256(&self, tenant: &str, sha256: &str) -> Result<Vec<u8>> {
        let row =
            sqlx::query("SELECT content FROM material_files WHERE tenant_id = $1 AND sha256 = $2")
                .bind(tenant)
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("content")?)
    }
}

fn info_from(r: &AnyRow) -> Result<InfoRequestRow> {
    Ok(InfoRequestRow {
        id: r.try_get("id")?,
        organ_id: r.try_get("organ_id")?,
        tenant_id: r.try_get("tenant_id")?,
        object_id: r.try_get("object_id")?,
        kinds: r.try_get("kinds")?,
        note: r.try_get("note")?,
        due: r.try_get("due")?,
        status: r.try_get("status")?,
        answer: r.try_get("answer")?,
        answer_files: r.try_get("answer_files")?,
        answered_at: r.try_get("answered_at")?,
        answered_by: r.try_get("answered_by")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        organ_name: r.try_get("organ_name")?,
        operator_name: r.try_get("operator_name")?,
        object_name: r.try_get("object_name")?,
    })
}
