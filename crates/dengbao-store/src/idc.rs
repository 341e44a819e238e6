//! IDC customer data (migration 8): the customers an IDC operator hosts, its data-security
//! programme (officer, department), contracts with their responsibility matrix, data assets
//! and their sealed copies, destructions and their certificates, incidents.
//!
//! Every query is scoped by the IDC operator (`idc`) and, for a customer's own view, by the
//! customer (`customer: Some(..)`). Changes are audited in the IDC operator's log; the
//! ledger state of a change about an asset is a keyed hash made by the app (never a name).

use super::*;

#[derive(Clone, Debug, PartialEq)]
pub struct IdcCustomerRow {
    pub id: String,
    pub name: String,
    pub idc_id: String,
    pub sector: String,
    /// The highest class of data the customer declared it holds.
    pub declared_class: String,
    /// JSON: the customer's overrides of its category's protection profile.
    pub overrides: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContractRow {
    pub id: String,
    pub idc_id: String,
    pub customer_id: String,
    pub title: String,
    /// JSON array of `{id, name}`.
    pub third_parties: String,
    /// JSON object: duty → `{responsible, accountable, consulted}`.
    pub matrix: String,
    pub signed_on: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AssetRow {
    pub id: String,
    pub idc_id: String,
    pub customer_id: String,
    /// The asset's name and description, sealed under its data key.
    pub label: Vec<u8>,
    pub kind: String,
    pub location: String,
    pub isolation_unit: String,
    pub classification: String,
    pub personal: bool,
    pub sensitive_personal: bool,
    pub state: String,
    pub created_at: i64,
    pub destroyed_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AssetCopyRow {
    pub copy: String,
    pub sealed: Vec<u8>,
    pub size: i64,
    pub stored_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DestructionRow {
    pub id: String,
    pub idc_id: String,
    pub customer_id: String,
    pub asset_id: String,
    pub method: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub approvals_needed: i64,
    /// JSON array of `{user, at}`.
    pub approvals: String,
    pub state: String,
    pub executed_at: Option<i64>,
    pub certificate: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DestructionCertificateRow {
    pub number: String,
    pub idc_id: String,
    pub customer_id: String,
    pub destruction_id: String,
    pub body: String,
    pub signed: String,
    pub issued_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IncidentRow {
    pub id: String,
    pub idc_id: String,
    pub title: String,
    pub description: String,
    pub severity: String,
    pub caused_by_idc: bool,
    pub detected_at: i64,
    pub recorded_at: i64,
    pub recorded_by: String,
    pub regulator_notified_at: Option<i64>,
    pub customers: Vec<IncidentCustomerRow>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IncidentCustomerRow {
    pub customer_id: String,
    /// JSON array of asset ids.
    pub assets: String,
    pub notified_at: Option<i64>,
}

fn customer_from(r: &AnyRow) -> Result<IdcCustomerRow> {
    Ok(IdcCustomerRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        idc_id: r.try_get("idc_id")?,
        sector: r.try_get("sector")?,
        declared_class: r.try_get("declared_class")?,
        overrides: r.try_get("overrides")?,
        created_at: r.try_get("created_at")?,
    })
}

fn contract_from(r: &AnyRow) -> Result<ContractRow> {
    Ok(ContractRow {
        id: r.try_get("id")?,
        idc_id: r.try_get("idc_id")?,
        customer_id: r.try_get("customer_id")?,
        title: r.try_get("title")?,
        third_parties: r.try_get("third_parties")?,
        matrix: r.try_get("matrix")?,
        signed_on: r.try_get("signed_on")?,
        created_at: r.try_get("created_at")?,
    })
}

fn asset_from(r: &AnyRow) -> Result<AssetRow> {
    Ok(AssetRow {
        id: r.try_get("id")?,
        idc_id: r.try_get("idc_id")?,
        customer_id: r.try_get("customer_id")?,
        label: r.try_get("label")?,
        kind: r.try_get("kind")?,
        location: r.try_get("location")?,
        isolation_unit: r.try_get("isolation_unit")?,
        classification: r.try_get("classification")?,
        personal: b(r.try_get("personal")?),
        sensitive_personal: b(r.try_get("sensitive_personal")?),
        state: r.try_get("state")?,
        created_at: r.try_get("created_at")?,
        destroyed_at: r.try_get("destroyed_at")?,
    })
}

fn destruction_from(r: &AnyRow) -> Result<DestructionRow> {
    Ok(DestructionRow {
        id: r.try_get("id")?,
        idc_id: r.try_get("idc_id")?,
        customer_id: r.try_get("customer_id")?,
        asset_id: r.try_get("asset_id")?,
        method: r.try_get("method")?,
        reason: r.try_get("reason")?,
        requested_by: r.try_get("requested_by")?,
        requested_at: r.try_get("requested_at")?,
        approvals_needed: r.try_get("approvals_needed")?,
        approvals: r.try_get("approvals")?,
        state: r.try_get("state")?,
        executed_at: r.try_get("executed_at")?,
        certificate: r.try_get("certificate")?,
    })
}

macro_rules! asset_cols {
    () => {
        "id, idc_id, customer_id, label, kind, location, isolation_unit, classification, personal, sensitive_personal, state, created_at, destroyed_at"
    };
}
macro_rules! destruction_cols {
    () => {
        "id, idc_id, customer_id, asset_id, method, reason, requested_by, requested_at, approvals_needed, approvals, state, executed_at, certificate"
    };
}

impl Store {
    // ----- customers and the programme ---------------------------------------------------

    /// Creates the customer's organisation (kind `idc_customer`) hosted by `c.idc_id`.
    pub async fn insert_idc_customer(
        &self,
        c: &IdcCustomerRow,
        division: Option<&str>,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO organisations (id, name, kind, credit_code, division, data_version, created_at) VALUES ($1, $2, 'idc_customer', NULL, $3, 0, $4)")
            .bind(&c.id)
            .bind(&c.name)
            .bind(division)
            .bind(c.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "organisation name"))?;
        sqlx::query("INSERT INTO idc_customers (id, idc_id, sector, declared_class, overrides, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&c.id)
            .bind(&c.idc_id)
            .bind(&c.sector)
            .bind(&c.declared_class)
            .bind(&c.overrides)
            .bind(c.created_at)
            .execute(&mut *tx)
            .await?;
        Self::finish_with(tx, &c.idc_id, audit, c.id.as_bytes()).await
    }

    /// The customers `idc` hosts (`customer`: only that one).
    pub async fn idc_customers(
        &self,
        idc: &str,
        customer: Option<&str>,
    ) -> Result<Vec<IdcCustomerRow>> {
        sqlx::query("SELECT c.id, o.name, c.idc_id, c.sector, c.declared_class, c.overrides, c.created_at FROM idc_customers c JOIN organisations o ON o.id = c.id WHERE c.idc_id = $1 AND ($2 IS NULL OR c.id = $2) ORDER BY o.name")
            .bind(idc)
            .bind(customer)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(customer_from)
            .collect()
    }

    /// The hosting record of a customer organisation, looked up by its own id (it resolves
    /// the caller's organisation to its IDC operator).
    pub async fn idc_customer(&self, id: &str) -> Result<IdcCustomerRow> {
        sqlx::query("SELECT c.id, o.name, c.idc_id, c.sector, c.declared_class, c.overrides, c.created_at FROM idc_customers c JOIN organisations o ON o.id = c.id WHERE c.id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(customer_from)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// Names the data-security officer (a user of `idc`) and the responsible department.
    pub async fn set_idc_programme(
        &self,
        idc: &str,
        officer: &str,
        department: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let ok =
            sqlx::query("SELECT id FROM users WHERE id = $1 AND tenant_id = $2 AND disabled = 0")
                .bind(officer)
                .bind(idc)
                .fetch_optional(&mut *tx)
                .await?;
        if ok.is_none() {
            return Err(StoreError::Dangling(format!("officer {officer}")));
        }
        sqlx::query("DELETE FROM idc_programme WHERE idc_id = $1")
            .bind(idc)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO idc_programme (idc_id, officer_id, department, named_at) VALUES ($1, $2, $3, $4)")
            .bind(idc)
            .bind(officer)
            .bind(department)
            .bind(audit.at)
            .execute(&mut *tx)
            .await?;
        Self::finish_with(tx, idc, audit, format!("{officer}:{department}").as_bytes()).await
    }

    /// `(officer user id, officer username, department, named_at)`.
    pub async fn idc_programme(&self, idc: &str) -> Result<Option<(String, String, String, i64)>> {
        let r = sqlx::query("SELECT p.officer_id, u.username, p.department, p.named_at FROM idc_programme p JOIN users u ON u.id = p.officer_id WHERE p.idc_id = $1")
            .bind(idc)
            .fetch_optional(&self.pool)
            .await?;
        r.map(|r| {
            Ok((
                r.try_get("officer_id")?,
                r.try_get("username")?,
                r.try_get("department")?,
                r.try_get("named_at")?,
            ))
        })
        .transpose()
    }

    // ----- contracts ---------------------------------------------------------------------

    /// Records a contract; `mac` is the keyed hash of its terms for the ledger entry.
    pub async fn insert_contract(
        &self,
        c: &ContractRow,
        mac: &[u8],
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO idc_contracts (id, idc_id, customer_id, title, third_parties, matrix, signed_on, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&c.id)
            .bind(&c.idc_id)
            .bind(&c.customer_id)
            .bind(&c.title)
            .bind(&c.third_parties)
            .bind(&c.matrix)
            .bind(&c.signed_on)
            .bind(c.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "contract id"))?;
        Self::finish_with(tx, &c.idc_id, audit, mac).await
    }

    pub async fn contracts(&self, idc: &str, customer: Option<&str>) -> Result<Vec<ContractRow>> {
        sqlx::query("SELECT id, idc_id, customer_id, title, third_parties, matrix, signed_on, created_at FROM idc_contracts WHERE idc_id = $1 AND ($2 IS NULL OR customer_id = $2) ORDER BY signed_on, id")
            .bind(idc)
            .bind(customer)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(contract_from)
            .collect()
    }

    // ----- data assets -------------------------------------------------------------------

    /// Records an asset; `mac` is the keyed hash of its facts for the ledger entry.
    pub async fn insert_asset(&self, a: &AssetRow, mac: &[u8], audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(concat!(
            "INSERT INTO data_assets (",
            asset_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&a.id)
        .bind(&a.idc_id)
        .bind(&a.customer_id)
        .bind(&a.label)
        .bind(&a.kind)
        .bind(&a.location)
        .bind(&a.isolation_unit)
        .bind(&a.classification)
        .bind(i64::from(a.personal))
        .bind(i64::from(a.sensitive_personal))
        .bind(&a.state)
        .bind(a.created_at)
        .bind(a.destroyed_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "asset id"))?;
        Self::finish_with(tx, &a.idc_id, audit, mac).await
    }

    pub async fn assets(&self, idc: &str, customer: Option<&str>) -> Result<Vec<AssetRow>> {
        sqlx::query(concat!("SELECT ", asset_cols!(), " FROM data_assets WHERE idc_id = $1 AND ($2 IS NULL OR customer_id = $2) ORDER BY customer_id, created_at, id"))
            .bind(idc)
            .bind(customer)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(asset_from)
            .collect()
    }

    pub async fn asset(&self, idc: &str, customer: Option<&str>, id: &str) -> Result<AssetRow> {
        sqlx::query(concat!(
            "SELECT ",
            asset_cols!(),
            " FROM data_assets WHERE idc_id = $1 AND ($2 IS NULL OR customer_id = $2) AND id = $3"
        ))
        .bind(idc)
        .bind(customer)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(asset_from)
        .transpose()?
        .ok_or(StoreError::NotFound)
    }

    /// Stores sealed copies of an active asset's content (primary, backup, …), replacing
    /// copies of the same names.
    pub async fn put_asset_copies(
        &self,
        idc: &str,
        asset: &str,
        copies: &[AssetCopyRow],
        mac: &[u8],
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let live = sqlx::query(
            "SELECT id FROM data_assets WHERE idc_id = $1 AND id = $2 AND state = 'active'",
        )
        .bind(idc)
        .bind(asset)
        .fetch_optional(&mut *tx)
        .await?;
        if live.is_none() {
            return Err(StoreError::NotFound);
        }
        for c in copies {
            sqlx::query("DELETE FROM asset_copies WHERE asset_id = $1 AND copy = $2")
                .bind(asset)
                .bind(&c.copy)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO asset_copies (asset_id, copy, sealed, size, stored_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(asset)
                .bind(&c.copy)
                .bind(&c.sealed)
                .bind(c.size)
                .bind(c.stored_at)
                .execute(&mut *tx)
                .await?;
        }
        Self::finish_with(tx, idc, audit, mac).await
    }

    /// The names of an asset's stored copies, without their (possibly large) sealed bytes.
    pub async fn asset_copy_names(&self, idc: &str, asset: &str) -> Result<Vec<String>> {
        sqlx::query("SELECT c.copy FROM asset_copies c JOIN data_assets a ON a.id = c.asset_id WHERE a.idc_id = $1 AND c.asset_id = $2 ORDER BY c.copy")
            .bind(idc)
            .bind(asset)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(r.try_get("copy")?))
            .collect()
    }

    /// One stored copy of an asset (`primary`, `backup-1`, …), read alone.
    pub async fn asset_copy(
        &self,
        idc: &str,
        asset: &str,
        copy: &str,
    ) -> Result<Option<AssetCopyRow>> {
        sqlx::query("SELECT c.copy, c.sealed, c.size, c.stored_at FROM asset_copies c JOIN data_assets a ON a.id = c.asset_id WHERE a.idc_id = $1 AND c.asset_id = $2 AND c.copy = $3")
            .bind(idc)
            .bind(asset)
            .bind(copy)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| {
                Ok(AssetCopyRow {
                    copy: r.try_get("copy")?,
                    sealed: r.try_get("sealed")?,
                    size: r.try_get("size")?,
                    stored_at: r.try_get("stored_at")?,
                })
            })
            .transpose()
    }

    // ----- destruction -------------------------------------------------------------------

    pub async fn insert_destruction(&self, d: &DestructionRow, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        let open = sqlx::query("SELECT id FROM destructions WHERE asset_id = $1 AND state IN ('requested', 'approved')")
            .bind(&d.asset_id)
            .fetch_optional(&mut *tx)
            .await?;
        if open.is_some() {
            return Err(StoreError::Conflict(
                "a destruction of this asset is already open".to_owned(),
            ));
        }
        sqlx::query(concat!(
            "INSERT INTO destructions (",
            destruction_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&d.id)
        .bind(&d.idc_id)
        .bind(&d.customer_id)
        .bind(&d.asset_id)
        .bind(&d.method)
        .bind(&d.reason)
        .bind(&d.requested_by)
        .bind(d.requested_at)
        .bind(d.approvals_needed)
        .bind(&d.approvals)
        .bind(&d.state)
        .bind(d.executed_at)
        .bind(&d.certificate)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "a destruction of this asset is already open"))?;
        Self::finish_with(tx, &d.idc_id, audit, d.id.as_bytes()).await
    }

    pub async fn destructions(
        &self,
        idc: &str,
        customer: Option<&str>,
    ) -> Result<Vec<DestructionRow>> {
        sqlx::query(concat!("SELECT ", destruction_cols!(), " FROM destructions WHERE idc_id = $1 AND ($2 IS NULL OR customer_id = $2) ORDER BY requested_at DESC, id"))
            .bind(idc)
            .bind(customer)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(destruction_from)
            .collect()
    }

    pub async fn destruction(
        &self,
        idc: &str,
        customer: Option<&str>,
        id: &str,
    ) -> Result<DestructionRow> {
        sqlx::query(concat!(
            "SELECT ",
            destruction_cols!(),
            " FROM destructions WHERE idc_id = $1 AND ($2 IS NULL OR customer_id = $2) AND id = $3"
        ))
        .bind(idc)
        .bind(customer)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(destruction_from)
        .transpose()?
        .ok_or(StoreError::NotFound)
    }

    /// Records an approval (or a refusal: `state = "refused"`) if the destruction is still
    /// in state `from` with the approvals `from_approvals` the caller read (compare and set:
    /// two approvers at once cannot overwrite each other).
    pub async fn update_destruction(
        &self,
        d: &DestructionRow,
        from: &str,
        from_approvals: &str,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE destructions SET approvals = $1, state = $2 WHERE id = $3 AND idc_id = $4 AND state = $5 AND approvals = $6")
            .bind(&d.approvals)
            .bind(&d.state)
            .bind(&d.id)
            .bind(&d.idc_id)
            .bind(from)
            .bind(from_approvals)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(
                "the destruction changed meanwhile (another decision was recorded): read it again"
                    .to_owned(),
            ));
        }
        let state = format!("{}:{}:{}", d.id, d.state, d.approvals);
        Self::finish_with(tx, &d.idc_id, audit, state.as_bytes()).await
    }

    /// Executes an approved destruction in one transaction: the asset's data key destroyed
    /// (its wrapped bytes gone), the asset marked destroyed, the destruction executed.
    /// Answers the ledger entry's sequence number, which the certificate cites.
    pub async fn execute_destruction(
        &self,
        d: &DestructionRow,
        data_key: &str,
        at: i64,
        audit: &Audit<'_>,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE destructions SET state = 'executed', executed_at = $1 WHERE id = $2 AND idc_id = $3 AND state = 'approved'")
            .bind(at)
            .bind(&d.id)
            .bind(&d.idc_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(
                "the destruction is not approved, or was executed already".to_owned(),
            ));
        }
        Self::lock_active_key(&mut tx, data_key).await?;
        Self::destroy_in(&mut tx, data_key, at).await?;
        sqlx::query("UPDATE data_assets SET state = 'destroyed', destroyed_at = $1 WHERE id = $2 AND idc_id = $3")
            .bind(at)
            .bind(&d.asset_id)
            .bind(&d.idc_id)
            .execute(&mut *tx)
            .await?;
        let state = format!("{}:{}:executed", d.id, d.asset_id);
        Self::finish_seq(tx, &d.idc_id, audit, state.as_bytes()).await
    }

    /// The sequence number of the ledger entry that executed destruction `id` (a certificate
    /// issued on a second attempt cites the same entry).
    pub async fn destruction_seq(&self, idc: &str, id: &str) -> Result<Option<i64>> {
        // Canonical entries have sorted keys: action, actor, object, … An id is hex.
        let pattern =
            format!("{{\"action\":\"idc.destruction.execute\",\"actor\":%,\"object\":\"{id}\",%");
        let r = sqlx::query("SELECT seq FROM ledger_entries WHERE tenant_id = $1 AND entry LIKE $2 ORDER BY seq LIMIT 1")
            .bind(idc)
            .bind(pattern)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.map(|r| r.try_get("seq")).transpose()?)
    }

    /// Stores the signed certificate of an executed destruction (once).
    pub async fn insert_destruction_certificate(
        &self,
        c: &DestructionCertificateRow,
        audit: &Audit<'_>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE destructions SET certificate = $1 WHERE id = $2 AND idc_id = $3 AND state = 'executed' AND certificate IS NULL")
            .bind(&c.number)
            .bind(&c.destruction_id)
            .bind(&c.idc_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(
                "the destruction has a certificate already".to_owned(),
            ));
        }
        sqlx::query("INSERT INTO destruction_certificates (number, idc_id, customer_id, destruction_id, body, signed, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&c.number)
            .bind(&c.idc_id)
            .bind(&c.customer_id)
            .bind(&c.destruction_id)
            .bind(&c.body)
            .bind(&c.signed)
            .bind(c.issued_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_or(e, "certificate number"))?;
        Self::finish_with(tx, &c.idc_id, audit, c.body.as_bytes()).await
    }

    /// A destruction certificate by its number (possession of the number is what a verifier
    /// has; the body names ids and fingerprints only).
    pub async fn destruction_certificate(&self, number: &str) -> Result<DestructionCertificateRow> {
        let r = sqlx::query("SELECT number, idc_id, customer_id, destruction_id, body, signed, issued_at FROM destruction_certificates WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(DestructionCertificateRow {
            number: r.try_get("number")?,
            idc_id: r.try_get("idc_id")?,
            customer_id: r.try_get("customer_id")?,
            destruction_id: r.try_get("destruction_id")?,
            body: r.try_get("body")?,
            signed: r.try_get("signed")?,
            issued_at: r.try_get("issued_at")?,
        })
    }

    // ----- incidents ---------------------------------------------------------------------

    /// Records an incident with the customers it affects. `notify_at`: when the customers
    /// and the regulator are told (the same transaction, for an incident the IDC caused).
    pub async fn insert_incident(&self, i: &IncidentRow, audit: &Audit<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO incidents (id, idc_id, title, description, severity, caused_by_idc, detected_at, recorded_at, recorded_by, regulator_notified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(&i.id)
            .bind(&i.idc_id)
            .bind(&i.title)
            .bind(&i.description)
            .bind(&i.severity)
            .bind(i64::from(i.caused_by_idc))
            .bind(i.detected_at)
            .bind(i.recorded_at)
            .bind(&i.recorded_by)
            .bind(i.regulator_notified_at)
            .execute(&mut *tx)
            .await?;
        for c in &i.customers {
            let hosted = sqlx::query("SELECT id FROM idc_customers WHERE id = $1 AND idc_id = $2")
                .bind(&c.customer_id)
                .bind(&i.idc_id)
                .fetch_optional(&mut *tx)
                .await?;
            if hosted.is_none() {
                return Err(StoreError::Dangling(format!("customer {}", c.customer_id)));
            }
            sqlx::query("INSERT INTO incident_customers (incident_id, customer_id, assets, notified_at) VALUES ($1, $2, $3, $4)")
                .bind(&i.id)
                .bind(&c.customer_id)
                .bind(&c.assets)
                .bind(c.notified_at)
                .execute(&mut *tx)
                .await?;
        }
        Self::finish_with(tx, &i.idc_id, audit, i.id.as_bytes()).await
    }

    /// Incidents of `idc` (`customer`: only those affecting it, with only its own row of
    /// affected customers).
    pub async fn incidents(&self, idc: &str, customer: Option<&str>) -> Result<Vec<IncidentRow>> {
        let rows = sqlx::query("SELECT id, idc_id, title, description, severity, caused_by_idc, detected_at, recorded_at, recorded_by, regulator_notified_at FROM incidents i WHERE idc_id = $1 AND ($2 IS NULL OR EXISTS (SELECT 1 FROM incident_customers c WHERE c.incident_id = i.id AND c.customer_id = $2)) ORDER BY detected_at DESC, id")
            .bind(idc)
            .bind(customer)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("id")?;
            let customers = sqlx::query("SELECT customer_id, assets, notified_at FROM incident_customers WHERE incident_id = $1 AND ($2 IS NULL OR customer_id = $2) ORDER BY customer_id")
                .bind(&id)
                .bind(customer)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|c| {
                    Ok(IncidentCustomerRow {
                        customer_id: c.try_get("customer_id")?,
                        assets: c.try_get("assets")?,
                        notified_at: c.try_get("notified_at")?,
                    })
                })
                .collect::<Result<_>>()?;
            out.push(IncidentRow {
                id,
                idc_id: r.try_get("idc_id")?,
                title: r.try_get("title")?,
                description: r.try_get("description")?,
                severity: r.try_get("severity")?,
                caused_by_idc: b(r.try_get("caused_by_idc")?),
                detected_at: r.try_get("detected_at")?,
                recorded_at: r.try_get("recorded_at")?,
                recorded_by: r.try_get("recorded_by")?,
                regulator_notified_at: r.try_get("regulator_notified_at")?,
                customers,
            });
        }
        Ok(out)
    }
}
