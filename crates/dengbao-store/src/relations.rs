//! Relations between parties: supervision, jurisdictions, engagements.

use super::*;

impl Store {
    // ----- relations between parties -----------------------------------------------------

    /// The relations in which `org` is the supervising or engaged party: operators it is the
    /// department in charge of, its jurisdictions (division, level), its engagements
    /// (operator, object, from, until).
    pub async fn relations_of(&self, org: &str) -> Result<Relations> {
        let supervised = sqlx::query(
            "SELECT operator_id FROM supervision WHERE department_id = $1 ORDER BY operator_id",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get("operator_id"))
        .collect::<std::result::Result<_, _>>()?;
        let jurisdictions = sqlx::query(
            "SELECT division, level FROM jurisdictions WHERE organ_id = $1 ORDER BY division",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("division")?, r.try_get("level")?)))
        .collect::<Result<_>>()?;
        let engagements = sqlx::query("SELECT id, operator_id, object_id, starts_at, ends_at FROM engagements WHERE agency_id = $1 ORDER BY starts_at").bind(org).fetch_all(&self.pool).await?.iter().map(|r| Ok(EngagementRow {
            id: r.try_get("id")?,
            operator: r.try_get("operator_id")?,
            object: r.try_get("object_id")?,
            starts_at: r.try_get("starts_at")?,
            ends_at: r.try_get("ends_at")?,
        })).collect::<Result<_>>()?;
        Ok(Relations {
            supervised,
            jurisdictions,
            engagements,
        })
    }

    /// Records that `department` is in charge of `operator` (audited in the department's log).
    pub async fn add_supervision(
        &self,
        department: &str,
        operator: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO supervision (department_id, operator_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(department)
        .bind(operator)
        .bind(audit.at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "supervision"))?;
        Self::finish_with(tx, department, audit, operator.as_bytes()).await
    }

    /// Records an organ's jurisdiction: a division code and the level it reaches.
    pub async fn add_jurisdiction(
        &self,
        organ: &str,
        division: &str,
        level: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO jurisdictions (organ_id, division, level, created_at) VALUES ($1, $2, $3, $4)")
            .bind(organ)
            .bind(division)
            .bind(level)
            .bind(audit.at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "jurisdiction"))?;
        Self::finish_with(tx, organ, audit, format!("{division}/{level}").as_bytes()).await
    }

    /// Records an evaluation agency's engagement for one object of an operator, for a time.
    pub async fn add_engagement(
        &self,
        agency: &str,
        e: &EngagementRow,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO engagements (id, agency_id, operator_id, object_id, starts_at, ends_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&e.id)
            .bind(agency)
            .bind(&e.operator)
            .bind(&e.object)
            .bind(e.starts_at)
            .bind(e.ends_at)
            .bind(audit.at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "engagement"))?;
        Self::finish_with(tx, agency, audit, e.id.as_bytes()).await
    }
}

impl Store {
    /// The objects of every operator whose division falls within one of `organ`'s
    /// jurisdictions, with the operator's name, by operator and id. The guard still decides,
    /// object by object, what the organ may see (a secrecy department only secret-involved
    /// systems, …).
    pub async fn jurisdiction_objects(&self, organ: &str) -> Result<Vec<(SystemRow, String)>> {
        let rows = sqlx::query("SELECT DISTINCT g.tenant_id, g.id, g.name, g.kind, g.grade, g.facts, g.version, g.created_at, g.updated_at, o.name AS operator_name FROM jurisdictions j JOIN grading_objects g ON g.division IS NOT NULL AND (j.level = 'ministry' OR (j.level = 'province' AND substr(g.division, 1, 2) = substr(j.division, 1, 2)) OR (j.level = 'city' AND substr(g.division, 1, 4) = substr(j.division, 1, 4)) OR (j.level = 'county' AND g.division = j.division)) JOIN organisations o ON o.id = g.tenant_id WHERE j.organ_id = $1 AND o.kind IN ('operator', 'idc_operator') ORDER BY o.name, g.tenant_id, g.id")
        .bind(organ)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((system_from(r)?, r.try_get("operator_name")?)))
            .collect()
    }
}
