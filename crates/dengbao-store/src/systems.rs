//! Grading objects, their events, dossier materials and files, products in use, filings.

use super::*;

impl Store {
    // ----- grading objects -----------------------------------------------------------------

    pub async fn insert_system(&self, s: &SystemRow, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(concat!(
            "INSERT INTO grading_objects (",
            system_cols!(),
            ", division) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $8)"
        ))
        .bind(&s.tenant_id)
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.kind)
        .bind(s.grade)
        .bind(&s.facts)
        .bind(s.created_at)
        .bind(division_of(&s.facts))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "grading object id"))?;
        Self::finish_with(tx, &s.tenant_id, audit, s.facts.as_bytes()).await
    }

    /// Replaces a grading object's name, kind, grade and facts (from `row`, whose tenant and
    /// id say which) if it is still at `expected_version`; returns the new version.
    pub async fn update_system(
        &self,
        row: &SystemRow,
        expected_version: i64,
        audit: &Audit<'_>,
    ) -> Result<i64> {
        let (tenant, id) = (row.tenant_id.as_str(), row.id.as_str());
        let (name, kind, grade, facts) = (
            row.name.as_str(),
            row.kind.as_str(),
            row.grade,
            row.facts.as_str(),
        );
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE grading_objects SET name = $1, kind = $2, grade = $3, facts = $4, version = version + 1, updated_at = $5, division = $9 WHERE tenant_id = $6 AND id = $7 AND version = $8")
            .bind(name)
            .bind(kind)
            .bind(grade)
            .bind(facts)
            .bind(audit.at)
            .bind(tenant)
            .bind(id)
            .bind(expected_version)
            .bind(division_of(facts))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            let r =
                sqlx::query("SELECT version FROM grading_objects WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return match r {
                None => Err(StoreError::NotFound),
                Some(r) => Err(StoreError::Stale {
                    expected: expected_version,
                    actual: r.try_get("version")?,
                }),
            };
        }
        Self::finish_with(tx, tenant, audit, facts.as_bytes()).await?;
        Ok(expected_version + 1)
    }

    pub async fn delete_system(
        &self,
        tenant: &str,
        id: &str,
        expected_version: i64,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let r = sqlx::query("SELECT version FROM grading_objects WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let actual: i64 = r.try_get("version")?;
        if actual != expected_version {
            return Err(StoreError::Stale {
                expected: expected_version,
                actual,
            });
        }
        for sql in [
            "DELETE FROM events WHERE tenant_id = $1 AND object_id = $2",
            "DELETE FROM materials WHERE tenant_id = $1 AND object_id = $2",
            "DELETE FROM in_use WHERE tenant_id = $1 AND object_id = $2",
            "DELETE FROM filings WHERE tenant_id = $1 AND object_id = $2",
            "DELETE FROM grade_reviews WHERE tenant_id = $1 AND object_id = $2",
            "DELETE FROM engagements WHERE operator_id = $1 AND object_id = $2",
            "DELETE FROM enforcements WHERE tenant_id = $1 AND object_id = $2",
            "DELETE FROM info_requests WHERE tenant_id = $1 AND object_id = $2",
            "DELETE FROM submissions WHERE tenant_id = $1 AND object_id = $2",
        ] {
            sqlx::query(sql)
                .bind(tenant)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM grading_objects WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Self::finish(tx, tenant, audit).await
    }

    pub async fn system(&self, tenant: &str, id: &str) -> Result<SystemRow> {
        let r = sqlx::query(concat!(
            "SELECT ",
            system_cols!(),
            " FROM grading_objects WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        system_from(&r)
    }

    /// A page of grading objects and the total matching the filter.
    pub async fn systems(&self, tenant: &str, f: &SystemFilter) -> Result<(Vec<SystemRow>, i64)> {
        // Optional filters are written as `($n IS NULL OR col = $n)` so the SQL text is fixed
        // and every value is a bound parameter.
        let search = f.search.as_ref().map(|s| {
            format!(
                "%{}%",
                s.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        });
        let total: i64 = sqlx::query(concat!(
            "SELECT COUNT(*) AS n FROM grading_objects WHERE ",
            system_filter!()
        ))
        .bind(tenant)
        .bind(f.grade)
        .bind(&f.kind)
        .bind(&search)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            system_cols!(),
            " FROM grading_objects WHERE ",
            system_filter!(),
            " ORDER BY name, id LIMIT $5 OFFSET $6"
        ))
        .bind(tenant)
        .bind(f.grade)
        .bind(&f.kind)
        .bind(&search)
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((rows.iter().map(system_from).collect::<Result<_>>()?, total))
    }

    pub async fn all_systems(&self, tenant: &str) -> Result<Vec<SystemRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            system_cols!(),
            " FROM grading_objects WHERE tenant_id = $1 ORDER BY name, id"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(system_from).collect()
    }

    // ----- events, materials, products in use, filings -------------------------------------

    /// Appends an event to an object's history, inside the caller's transaction.
    pub(crate) async fn insert_event(tx: &mut Tx, tenant: &str, e: &EventRow) -> Result<()> {
        sqlx::query("INSERT INTO events (tenant_id, id, object_id, date, kind, payload, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(tenant)
            .bind(&e.id)
            .bind(&e.object_id)
            .bind(&e.date)
            .bind(&e.kind)
            .bind(&e.payload)
            .bind(e.recorded_at)
            .bind(&e.recorded_by)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub(crate) async fn require_system(tx: &mut Tx, tenant: &str, id: &str) -> Result<()> {
        sqlx::query("SELECT id FROM grading_objects WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(())
    }

    /// Adds an event to a system; with `facts`, also replaces the system's facts and grade in
    /// the same transaction (a grading records its event with its result).
    pub async fn add_event(
        &self,
        tenant: &str,
        e: &EventRow,
        update: Option<(i64, i64, &str)>,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, tenant, &e.object_id).await?;
        if let Some((expected, grade, facts)) = update {
            let n = sqlx::query("UPDATE grading_objects SET grade = $1, facts = $2, version = version + 1, updated_at = $3, division = $7 WHERE tenant_id = $4 AND id = $5 AND version = $6")
                .bind(grade)
                .bind(facts)
                .bind(audit.at)
                .bind(tenant)
                .bind(&e.object_id)
                .bind(expected)
                .bind(division_of(facts))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                let actual: i64 = sqlx::query(
                    "SELECT version FROM grading_objects WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant)
                .bind(&e.object_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("version")?;
                return Err(StoreError::Stale { expected, actual });
            }
        }
        Self::insert_event(&mut tx, tenant, e).await?;
        Self::finish_with(tx, tenant, audit, e.payload.as_bytes()).await
    }

    pub async fn events(&self, tenant: &str, object_id: &str) -> Result<Vec<EventRow>> {
        let rows = sqlx::query("SELECT id, object_id, date, kind, payload, recorded_at, recorded_by FROM events WHERE tenant_id = $1 AND object_id = $2 ORDER BY date, recorded_at, id").bind(tenant).bind(object_id).fetch_all(&self.pool).await?;
        rows.iter().map(event_from).collect()
    }

    pub async fn all_events(&self, tenant: &str) -> Result<Vec<EventRow>> {
        let rows = sqlx::query("SELECT id, object_id, date, kind, payload, recorded_at, recorded_by FROM events WHERE tenant_id = $1 ORDER BY object_id, date, recorded_at, id").bind(tenant).fetch_all(&self.pool).await?;
        rows.iter().map(event_from).collect()
    }

    pub async fn put_material(
        &self,
        tenant: &str,
        m: &MaterialRow,
        audit: &Audit<'_>,
    ) -> Result<()> {
        self.put_material_with_file(tenant, m, None, audit).await
    }

    /// Records a material and, when given, keeps its file (content-addressed by the SHA-256
    /// in `m`, which the caller computed from `content`) in the same transaction.
    pub async fn put_material_with_file(
        &self,
        tenant: &str,
        m: &MaterialRow,
        content: Option<&[u8]>,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, tenant, &m.object_id).await?;
        Self::insert_material(&mut tx, tenant, m, content).await?;
        Self::finish_with(
            tx,
            tenant,
            audit,
            format!("{}:{}:{}", m.kind, m.sha256, m.size).as_bytes(),
        )
        .await
    }

    /// Files (or replaces) a material of an object, with its content when given.
    pub(crate) async fn insert_material(
        tx: &mut Tx,
        tenant: &str,
        m: &MaterialRow,
        content: Option<&[u8]>,
    ) -> Result<()> {
        if let Some(bytes) = content {
            sqlx::query("INSERT INTO material_files (tenant_id, sha256, content) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, sha256) DO NOTHING")
                .bind(tenant)
                .bind(&m.sha256)
                .bind(bytes.to_vec())
                .execute(&mut **tx)
                .await?;
        }
        sqlx::query("DELETE FROM materials WHERE tenant_id = $1 AND object_id = $2 AND kind = $3")
            .bind(tenant)
            .bind(&m.object_id)
            .bind(&m.kind)
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO materials (tenant_id, object_id, kind, title, file_name, media_type, size, sha256, uploaded_at, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(tenant)
            .bind(&m.object_id)
            .bind(&m.kind)
            .bind(&m.title)
            .bind(&m.file_name)
            .bind(&m.media_type)
            .bind(m.size)
            .bind(&m.sha256)
            .bind(m.uploaded_at)
            .bind(&m.uploaded_by)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn delete_material(
        &self,
        tenant: &str,
        object_id: &str,
        kind: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "DELETE FROM materials WHERE tenant_id = $1 AND object_id = $2 AND kind = $3",
        )
        .bind(tenant)
        .bind(object_id)
        .bind(kind)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Self::finish(tx, tenant, audit).await
    }

    pub async fn materials(&self, tenant: &str, object_id: &str) -> Result<Vec<MaterialRow>> {
        let rows = sqlx::query("SELECT object_id, kind, title, file_name, media_type, size, sha256, uploaded_at, uploaded_by FROM materials WHERE tenant_id = $1 AND object_id = $2 ORDER BY kind").bind(tenant).bind(object_id).fetch_all(&self.pool).await?;
        rows.iter().map(material_from).collect()
    }

    /// A material with its stored file; `NotFound` when either is missing.
    pub async fn material_file(
        &self,
        tenant: &str,
        object_id: &str,
        kind: &str,
    ) -> Result<(MaterialRow, Vec<u8>)> {
        let row = sqlx::query("SELECT object_id, kind, title, file_name, media_type, size, sha256, uploaded_at, uploaded_by FROM materials WHERE tenant_id = $1 AND object_id = $2 AND kind = $3").bind(tenant).bind(object_id).bind(kind).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)?;
        let m = material_from(&row)?;
        let file =
            sqlx::query("SELECT content FROM material_files WHERE tenant_id = $1 AND sha256 = $2")
                .bind(tenant)
                .bind(&m.sha256)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        let content: Vec<u8> = file.try_get("content")?;
        Ok((m, content))
    }

    pub async fn all_materials(&self, tenant: &str) -> Result<Vec<MaterialRow>> {
        let rows = sqlx::query("SELECT object_id, kind, title, file_name, media_type, size, sha256, uploaded_at, uploaded_by FROM materials WHERE tenant_id = $1 ORDER BY object_id, kind").bind(tenant).fetch_all(&self.pool).await?;
        rows.iter().map(material_from).collect()
    }

    /// Replaces which candidates of each category a system uses, in one transaction with one
    /// audit entry. A candidate id not in its registry fails the whole change with
    /// [`StoreError::Dangling`] naming the category.
    pub async fn set_in_use(
        &self,
        tenant: &str,
        object_id: &str,
        lists: &[(&str, &[String])],
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, tenant, object_id).await?;
        let mut state = String::new();
        for (category, ids) in lists {
            sqlx::query(
                "DELETE FROM in_use WHERE tenant_id = $1 AND object_id = $2 AND category = $3",
            )
            .bind(tenant)
            .bind(object_id)
            .bind(*category)
            .execute(&mut *tx)
            .await?;
            for id in ids.iter() {
                sqlx::query(
                    "SELECT id FROM candidates WHERE tenant_id = $1 AND category = $2 AND id = $3",
                )
                .bind(tenant)
                .bind(*category)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::Dangling((*category).to_owned()))?;
                sqlx::query("INSERT INTO in_use (tenant_id, object_id, category, candidate_id) VALUES ($1, $2, $3, $4)").bind(tenant).bind(object_id).bind(*category).bind(id).execute(&mut *tx).await.map_err(|e| conflict_or(e, "candidate listed twice"))?;
            }
            state.push_str(&format!("{category}={};", ids.join(",")));
        }
        Self::finish_with(tx, tenant, audit, state.as_bytes()).await
    }

    /// `(object_id, category, candidate_id)` for a tenant.
    pub async fn all_in_use(&self, tenant: &str) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query("SELECT object_id, category, candidate_id FROM in_use WHERE tenant_id = $1 ORDER BY object_id, category, candidate_id").bind(tenant).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("object_id")?,
                    r.try_get("category")?,
                    r.try_get("candidate_id")?,
                ))
            })
            .collect()
    }

    pub async fn create_filing(
        &self,
        tenant: &str,
        f: &FilingRow,
        event: &EventRow,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::require_system(&mut tx, tenant, &f.object_id).await?;
        sqlx::query("INSERT INTO filings (tenant_id, id, object_id, status, grade, materials, created_at, submitted_at, submitted_by, organ_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(tenant)
            .bind(&f.id)
            .bind(&f.object_id)
            .bind(&f.status)
            .bind(f.grade)
            .bind(&f.materials)
            .bind(f.created_at)
            .bind(f.submitted_at)
            .bind(&f.submitted_by)
            .bind(&f.organ_id)
            .execute(&mut *tx)
            .await?;
        Self::insert_event(&mut tx, tenant, event).await?;
        Self::finish_with(tx, tenant, audit, f.materials.as_bytes()).await
    }

    pub async fn filings(&self, tenant: &str, object_id: &str) -> Result<Vec<FilingRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            filing_cols!(),
            " FROM filings WHERE tenant_id = $1 AND object_id = $2 ORDER BY created_at"
        ))
        .bind(tenant)
        .bind(object_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(filing_from).collect()
    }
}

/// The object's division code from its facts, kept in its own column so a supervisor's
/// jurisdiction is one indexed range query (`None` when the facts have none).
fn division_of(facts: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(facts)
        .ok()?
        .get("division")?
        .as_str()
        .map(str::to_owned)
}
