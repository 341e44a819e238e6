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
        let filed = self.submitted_to(org, "crypto_filing").await?;
        Ok(Relations {
            supervised,
            jurisdictions,
            engagements,
            filed,
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

/// The `[lo, hi)` range of division codes a jurisdiction covers, for the `division` index:
/// a province `31xxxx` is `["31", "32")`, a city `3101xx` `["3101", "3102")`, a county its
/// own code, the ministry everything.
fn division_range(division: &str, level: &str) -> Option<(String, String)> {
    let n = match level {
        "ministry" => return Some((String::new(), "\u{10FFFF}".to_owned())),
        "province" => 2,
        "city" => 4,
        "county" => 6,
        _ => return None,
    };
    let prefix = division.get(..n)?;
    let next: u64 = prefix.parse::<u64>().ok()? + 1;
    Some((prefix.to_owned(), format!("{next:0n$}")))
}

impl Store {
    /// The operators with objects in `organ`'s jurisdictions, with their data versions — an
    /// index range per jurisdiction, so a province of 100,000 objects answers without
    /// reading them.
    pub async fn operators_in_area(&self, organ: &str) -> Result<Vec<(String, i64)>> {
        let js = sqlx::query("SELECT division, level FROM jurisdictions WHERE organ_id = $1")
            .bind(organ)
            .fetch_all(&self.pool)
            .await?;
        let mut out: Vec<(String, i64)> = Vec::new();
        for j in js {
            let (division, level): (String, String) = (j.try_get("division")?, j.try_get("level")?);
            let Some((lo, hi)) = division_range(&division, &level) else {
                continue;
            };
            let rows = sqlx::query("SELECT o.id, o.data_version FROM organisations o WHERE o.kind IN ('operator', 'idc_operator') AND EXISTS (SELECT 1 FROM grading_objects g WHERE g.tenant_id = o.id AND g.division >= $1 AND g.division < $2)")
                .bind(&lo)
                .bind(&hi)
                .fetch_all(&self.pool)
                .await?;
            for r in rows {
                let id: String = r.try_get("id")?;
                if !out.iter().any(|(o, _)| *o == id) {
                    out.push((id, r.try_get("data_version")?));
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod range_tests {
    use super::division_range;

    #[test]
    fn a_jurisdiction_is_a_range_of_division_codes() {
        let r = |d, l| division_range(d, l);
        assert_eq!(r("310000", "province"), Some(("31".into(), "32".into())));
        assert_eq!(r("310100", "city"), Some(("3101".into(), "3102".into())));
        assert_eq!(r("310199", "city"), Some(("3101".into(), "3102".into())));
        assert_eq!(
            r("310115", "county"),
            Some(("310115".into(), "310116".into()))
        );
        assert_eq!(r("090000", "province"), Some(("09".into(), "10".into())));
        assert_eq!(r("310000", "galaxy"), None);
        // Every code of the city sorts inside its range, its neighbour's outside.
        let (lo, hi) = r("310100", "city").unwrap();
        for code in ["310101", "310115", "310199"] {
            assert!(lo.as_str() <= code && code < hi.as_str(), "{code}");
        }
        for code in ["310000", "310200", "320101"] {
            assert!(!(lo.as_str() <= code && code < hi.as_str()), "{code}");
        }
    }
}
