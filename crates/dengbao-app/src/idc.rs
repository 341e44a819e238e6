//! IDC customer data (MIIT's notice, RULES.md §7): the customers an IDC operator hosts,
//! their categories and protection profiles, three-party contracts with their
//! responsibility matrix, data assets sealed under per-asset keys, destruction by
//! crypto-shredding with a signed certificate, the data-security officer and department,
//! incidents with notice to the customer and the regulator.
//!
//! Who sees what: the IDC operator's staff (its own organisation's roles) keep the data; a
//! customer reads only its own rows (`Scope::Customer`) and its lead approves operations on
//! them (`Action::Approve`). The content of an asset is never opened for the operator: that
//! needs the customer's authorization, which the authorization gates will grant.
//!
//! What the ledger keeps of an asset: its id and a keyed hash under the asset's own key —
//! once the key is shredded, no entry confirms a guess of what the asset was.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use dengbao_core::idc::{
    AssetKind, Assignment, Classification, DataClass, IdcPack, Parties, Placed, Profile,
    ProfileOverrides, check_isolation, check_matrix,
};
use dengbao_guard::{Action, OrgKind, Resource, Scope};
use dengbao_store::{
    AssetCopyRow, AssetRow, ContractRow, DestructionCertificateRow, DestructionRow, IdcCustomerRow,
    IncidentCustomerRow, IncidentRow, StoreError, new_id,
};
use serde::{Deserialize, Serialize};

use crate::dto::{MAX_NAME, check_free_text, check_text, plausible_id};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::vault::Purpose;
use crate::{App, Caller};

/// The IDC rule pack, loaded once.
pub fn pack() -> AppResult<&'static IdcPack> {
    static PACK: OnceLock<Result<IdcPack, String>> = OnceLock::new();
    PACK.get_or_init(|| IdcPack::builtin().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| AppError::internal(e.clone()))
}

/// Where the caller stands: the IDC operator whose data it is, and — for a customer — the
/// customer it is limited to.
#[derive(Clone, Debug)]
struct Place {
    idc: String,
    customer: Option<String>,
}

/// Resolves the caller's place and asks the guard. `customer`: the customer the action is
/// about, when there is one.
async fn place(app: &App, c: &Caller, action: Action, customer: Option<&str>) -> AppResult<Place> {
    match c.principal.org_kind {
        OrgKind::IdcOperator => {
            let scope = match customer {
                Some(cust) => {
                    app.authorize(
                        c,
                        action,
                        Resource::CustomerData {
                            idc: c.org(),
                            customer: cust,
                        },
                    )
                    .await?
                }
                None => {
                    app.authorize(c, action, Resource::Organisation(c.org()))
                        .await?
                }
            };
            Ok(Place {
                idc: scope.org().unwrap_or(c.org()).to_owned(),
                customer: customer.map(str::to_owned),
            })
        }
        OrgKind::IdcCustomer => {
            let hosted = match app.store.idc_customer(c.org()).await {
                Ok(h) => h,
                Err(StoreError::NotFound) => return Err(not_idc()),
                Err(e) => return Err(e.into()),
            };
            if customer.is_some_and(|x| x != c.org()) {
                return Err(AppError::not_found());
            }
            let scope = app
                .authorize(
                    c,
                    action,
                    Resource::CustomerData {
                        idc: &hosted.idc_id,
                        customer: c.org(),
                    },
                )
                .await?;
            match scope {
                Scope::Customer { idc, customer } => Ok(Place {
                    idc,
                    customer: Some(customer),
                }),
                _ => Err(AppError::internal(
                    "a customer's scope must be its own rows",
                )),
            }
        }
        _ => Err(not_idc()),
    }
}

/// The guard's decision on `action` over one customer's data, for the caller.
pub(crate) async fn authorize_customer(
    app: &App,
    c: &Caller,
    action: Action,
    customer: &str,
) -> AppResult<()> {
    place(app, c, action, Some(customer)).await.map(|_| ())
}

/// A customer's category id, given its assets.
pub(crate) fn category_of(row: &IdcCustomerRow, assets: &[AssetRow]) -> AppResult<String> {
    Ok(customer_view(row, &assets.iter().collect::<Vec<_>>())?
        .category
        .id)
}

/// A customer's effective protection profile, given its assets.
pub(crate) fn profile_of(row: &IdcCustomerRow, assets: &[AssetRow]) -> AppResult<Profile> {
    Ok(customer_view(row, &assets.iter().collect::<Vec<_>>())?.profile)
}

pub(crate) fn not_idc() -> AppError {
    AppError::new(
        ErrorKind::Forbidden,
        "not-idc",
        "IDC customer data belongs to an IDC operator (kind idc_operator) and its customers (kind idc_customer); this organisation is neither",
    )
}

/// Refuses customer-data operations while the operator has named no data-security officer
/// and department (MIIT IDC notice: a customer-data security management system).
pub(crate) async fn require_programme(app: &App, idc: &str) -> AppResult<()> {
    if app.store.idc_programme(idc).await?.is_none() {
        let d = pack()?
            .duty("security_officer")
            .map(|d| d.cite.clone())
            .unwrap_or_default();
        return Err(AppError {
            extra: Some(Box::new(
                serde_json::json!({ "cite": d, "cite_status": "unconfirmed" }),
            )),
            ..AppError::new(
                ErrorKind::Conflict,
                "officer-required",
                "name the data-security officer and the responsible department first (PUT /api/v1/idc/programme)",
            )
        });
    }
    Ok(())
}

// ----- views -----------------------------------------------------------------------------

/// A citation, and whether its source text was seen.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cited {
    pub cite: String,
    /// `unconfirmed`: read from secondary reports of the notice.
    pub status: String,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryView {
    /// `c1` … `c4`.
    pub id: String,
    pub title: String,
    /// Why this category (the class held, the sector).
    pub reason: String,
    /// `dengbao default`: the notice asks for tailored protection, not these numbers.
    pub basis: String,
    #[serde(flatten)]
    pub cited: Cited,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerView {
    pub id: String,
    pub name: String,
    pub sector: String,
    pub declared_class: String,
    /// The highest class the customer holds: declared, or found among its assets.
    pub highest_class: String,
    pub category: CategoryView,
    /// The category's profile with the customer's overrides.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub profile: Profile,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub overrides: ProfileOverrides,
    pub assets: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    pub name: String,
    /// `finance`, `healthcare`, `internet`, … (critical sectors raise the category).
    pub sector: String,
    /// `general`, `personal`, `sensitive_personal`, `important` or `core`.
    pub declared_class: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub overrides: ProfileOverrides,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeView {
    pub officer: Option<String>,
    pub department: Option<String>,
    pub named_at_ms: Option<i64>,
    /// Customer-data operations are refused until both are named.
    pub complete: bool,
    #[serde(flatten)]
    pub cited: Cited,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProgrammeInput {
    /// Username of one of the operator's own users.
    pub officer: String,
    pub department: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ThirdParty {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    pub customer: String,
    pub title: String,
    /// YYYY-MM-DD.
    pub signed_on: String,
    #[serde(default)]
    pub third_parties: Vec<ThirdParty>,
    /// Duty → `{responsible: [..], accountable, consulted: [..]}`; parties are `customer`,
    /// `operator` or a third party's id.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub matrix: BTreeMap<String, Assignment>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub duty: String,
    pub problem: String,
    pub cite: String,
    pub status: String,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContractView {
    pub id: String,
    pub customer: String,
    pub title: String,
    pub signed_on: String,
    pub third_parties: Vec<ThirdParty>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub matrix: BTreeMap<String, Assignment>,
    /// Every duty of the notice assigned, exactly one accountable party each.
    pub complete: bool,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAsset {
    pub customer: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `database`, `bucket`, `volume`, `backup` or `training_dataset`.
    pub kind: String,
    /// Site and hall (e.g. `Shanghai Pudong DC2, hall B`).
    pub location: String,
    /// Rack, VLAN, tenant or project that isolates it.
    pub isolation_unit: String,
    /// `general`, `important` or `core` (Data Security Law).
    pub classification: String,
    #[serde(default)]
    pub personal: bool,
    #[serde(default)]
    pub sensitive_personal: bool,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetView {
    pub id: String,
    pub customer: String,
    /// `None` once destroyed: the name was sealed under the asset's key.
    pub name: Option<String>,
    pub description: Option<String>,
    pub kind: String,
    pub location: String,
    pub isolation_unit: String,
    pub classification: String,
    pub personal: bool,
    pub sensitive_personal: bool,
    /// `active` or `destroyed`.
    pub state: String,
    /// Fingerprint of the data key (SM4) that seals it.
    pub key_fingerprint: Option<String>,
    /// Sealed copies kept (primary, backup-1, …).
    pub copies: Vec<String>,
    pub created_at_ms: i64,
    pub destroyed_at_ms: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IsolationView {
    pub isolation_unit: String,
    /// Assets of the caller's view in the unit; other customers' are counted, not named,
    /// for a customer.
    pub assets: Vec<String>,
    pub other_customers: usize,
    #[serde(flatten)]
    pub cited: Cited,
}

/// An asset's content, base64 in JSON.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContentInput {
    /// Standard base64 with padding (RFC 4648 §4).
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
    )]
    pub content_base64: String,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContentView {
    pub copy: String,
    pub size: usize,
    pub content_base64: String,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DestructionInput {
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApprovalInput {
    /// `approve` or `refuse`.
    pub decision: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    pub user: String,
    pub at_ms: i64,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DestructionView {
    pub id: String,
    pub customer: String,
    pub asset: String,
    pub method: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at_ms: i64,
    pub approvals_needed: i64,
    pub approvals: Vec<Approval>,
    /// `requested`, `approved`, `refused` or `executed`.
    pub state: String,
    pub executed_at_ms: Option<i64>,
    pub certificate: Option<String>,
    #[serde(flatten)]
    pub cited: Cited,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DestructionCertificateView {
    pub number: String,
    pub customer: String,
    /// The certificate's text, as signed (ids and fingerprints, no names).
    pub body: String,
    /// The C2SP signed note over `body` (SM2).
    pub note: String,
    pub public_key: String,
    pub verified: bool,
    /// The ledger entry of the execution (its sequence number), for an inclusion proof.
    pub ledger_seq: i64,
    pub issued_at_ms: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AffectedInput {
    pub customer: String,
    #[serde(default)]
    pub assets: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// The IDC caused it: the customers and the telecom regulator are told at once.
    pub caused_by_idc: bool,
    /// When it was detected (epoch ms; not in the future).
    pub detected_at_ms: i64,
    pub customers: Vec<AffectedInput>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AffectedView {
    pub customer: String,
    pub assets: Vec<String>,
    pub notified_at_ms: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: String,
    pub caused_by_idc: bool,
    pub detected_at_ms: i64,
    pub recorded_at_ms: i64,
    pub recorded_by: String,
    pub regulator_notified_at_ms: Option<i64>,
    /// From detection to the customers' and the regulator's notice.
    pub detection_to_notice_ms: Option<i64>,
    pub customers: Vec<AffectedView>,
    #[serde(flatten)]
    pub cited: Cited,
}

/// The IDC page's data in one answer.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Overview {
    /// The IDC operator's name.
    pub idc: String,
    /// The caller is a customer (its own view).
    pub customer_view: bool,
    pub programme: ProgrammeView,
    pub customers: Vec<CustomerView>,
    pub contracts: Vec<ContractView>,
    pub assets: Vec<AssetView>,
    pub isolation: Vec<IsolationView>,
    pub destructions: Vec<DestructionView>,
    pub incidents: Vec<IncidentView>,
}

// ----- parsing ---------------------------------------------------------------------------

pub(crate) fn parse_enum<T: std::str::FromStr + strum::IntoEnumIterator + Into<&'static str>>(
    field: &str,
    s: &str,
) -> AppResult<T> {
    s.parse().map_err(|_| {
        let all: Vec<&'static str> = T::iter().map(Into::into).collect();
        AppError::invalid(field, format!("one of {}", all.join(", ")))
    })
}

fn cited(duty: &str) -> AppResult<Cited> {
    let p = pack()?;
    Ok(p.duty(duty).map_or_else(
        || Cited {
            cite: p.title.clone(),
            status: "unconfirmed".into(),
        },
        |d| Cited {
            cite: d.cite.clone(),
            status: d.status.clone(),
        },
    ))
}

fn overrides_of(row: &IdcCustomerRow) -> AppResult<ProfileOverrides> {
    serde_json::from_str(&row.overrides).map_err(AppError::internal)
}

/// The customer's effective category and profile, given the assets it holds.
fn customer_view(row: &IdcCustomerRow, assets: &[&AssetRow]) -> AppResult<CustomerView> {
    let p = pack()?;
    let declared: DataClass = row.declared_class.parse().map_err(AppError::internal)?;
    let mut highest = declared;
    for a in assets.iter().filter(|a| a.state == "active") {
        let c: Classification = a.classification.parse().map_err(AppError::internal)?;
        highest = highest.max(DataClass::of(c, a.personal, a.sensitive_personal));
    }
    let cat = p.categorize(&row.sector, highest);
    let overrides = overrides_of(row)?;
    let profile = cat.category.profile.tightened(&overrides);
    Ok(CustomerView {
        id: row.id.clone(),
        name: row.name.clone(),
        sector: row.sector.clone(),
        declared_class: row.declared_class.clone(),
        highest_class: <&str>::from(highest).to_owned(),
        category: CategoryView {
            id: cat.category.id.clone(),
            title: cat.category.title.clone(),
            reason: cat.reason,
            basis: cat.category.basis.clone(),
            cited: Cited {
                cite: cat.cite.to_owned(),
                status: cat.status.to_owned(),
            },
        },
        profile,
        overrides,
        assets: assets.iter().filter(|a| a.state == "active").count(),
    })
}

fn label_aad(a: &AssetRow) -> Vec<u8> {
    format!("asset-label/{}/{}", a.idc_id, a.id).into_bytes()
}

pub(crate) fn copy_aad(idc: &str, asset: &str, copy: &str) -> Vec<u8> {
    format!("asset-copy/{idc}/{asset}/{copy}").into_bytes()
}

#[derive(Serialize, Deserialize)]
struct Label {
    name: String,
    description: String,
}

async fn asset_view(app: &App, a: &AssetRow) -> AppResult<AssetView> {
    let (name, description) = if a.state == "active" {
        let bytes = app
            .vault
            .open(
                &a.customer_id,
                Purpose::Asset,
                &a.id,
                &label_aad(a),
                &a.label,
            )
            .await?;
        let l: Label = serde_json::from_slice(&bytes).map_err(AppError::internal)?;
        (Some(l.name), Some(l.description))
    } else {
        (None, None)
    };
    let key = app
        .vault
        .key_history(&a.customer_id, Purpose::Asset, &a.id)
        .await?
        .pop();
    let copies = app.store.asset_copy_names(&a.idc_id, &a.id).await?;
    Ok(AssetView {
        id: a.id.clone(),
        customer: a.customer_id.clone(),
        name,
        description,
        kind: a.kind.clone(),
        location: a.location.clone(),
        isolation_unit: a.isolation_unit.clone(),
        classification: a.classification.clone(),
        personal: a.personal,
        sensitive_personal: a.sensitive_personal,
        state: a.state.clone(),
        key_fingerprint: key.map(|k| k.fingerprint),
        copies,
        created_at_ms: a.created_at,
        destroyed_at_ms: a.destroyed_at,
    })
}

fn contract_view(app_pack: &IdcPack, r: &ContractRow) -> AppResult<ContractView> {
    let third_parties: Vec<ThirdParty> =
        serde_json::from_str(&r.third_parties).map_err(AppError::internal)?;
    let matrix: BTreeMap<String, Assignment> =
        serde_json::from_str(&r.matrix).map_err(AppError::internal)?;
    let parties = Parties {
        customer: "customer",
        operator: "operator",
        third_parties: third_parties.iter().map(|t| t.id.as_str()).collect(),
    };
    let findings: Vec<Finding> = check_matrix(app_pack, &parties, &matrix)
        .into_iter()
        .map(|f| Finding {
            duty: f.duty,
            problem: f.problem,
            cite: f.cite,
            status: f.status,
        })
        .collect();
    Ok(ContractView {
        id: r.id.clone(),
        customer: r.customer_id.clone(),
        title: r.title.clone(),
        signed_on: r.signed_on.clone(),
        third_parties,
        matrix,
        complete: findings.is_empty(),
        findings,
    })
}

fn destruction_view(r: &DestructionRow) -> AppResult<DestructionView> {
    Ok(DestructionView {
        id: r.id.clone(),
        customer: r.customer_id.clone(),
        asset: r.asset_id.clone(),
        method: r.method.clone(),
        reason: r.reason.clone(),
        requested_by: r.requested_by.clone(),
        requested_at_ms: r.requested_at,
        approvals_needed: r.approvals_needed,
        approvals: serde_json::from_str(&r.approvals).map_err(AppError::internal)?,
        state: r.state.clone(),
        executed_at_ms: r.executed_at,
        certificate: r.certificate.clone(),
        cited: cited("destruction")?,
    })
}

fn incident_view(r: IncidentRow) -> AppResult<IncidentView> {
    let notice = r
        .customers
        .iter()
        .filter_map(|c| c.notified_at)
        .chain(r.regulator_notified_at)
        .max();
    Ok(IncidentView {
        detection_to_notice_ms: notice.map(|n| n - r.detected_at),
        customers: r
            .customers
            .into_iter()
            .map(|c| {
                Ok(AffectedView {
                    customer: c.customer_id,
                    assets: serde_json::from_str(&c.assets).map_err(AppError::internal)?,
                    notified_at_ms: c.notified_at,
                })
            })
            .collect::<AppResult<_>>()?,
        id: r.id,
        title: r.title,
        description: r.description,
        severity: r.severity,
        caused_by_idc: r.caused_by_idc,
        detected_at_ms: r.detected_at,
        recorded_at_ms: r.recorded_at,
        recorded_by: r.recorded_by,
        regulator_notified_at_ms: r.regulator_notified_at,
        cited: cited("incident_notice")?,
    })
}

// ----- use cases -------------------------------------------------------------------------

/// Everything the caller may see of IDC customer data, in one answer.
pub async fn overview(app: &App, c: &Caller) -> AppResult<Overview> {
    let at = place(app, c, Action::Read, None).await?;
    let cust = at.customer.as_deref();
    let idc = app.store.organisation(&at.idc).await?;
    let programme = programme_of(app, &at.idc).await?;
    // Every customer's view once: the caller's own are shown, and isolation is judged over
    // every customer's assets (a customer is shown only its own and a count of the others).
    let all_assets = app.store.assets(&at.idc, None).await?;
    let p = pack()?;
    let mut customers = Vec::new();
    let mut profiles: BTreeMap<String, bool> = BTreeMap::new();
    for r in &app.store.idc_customers(&at.idc, None).await? {
        let mine: Vec<&AssetRow> = all_assets
            .iter()
            .filter(|a| a.customer_id == r.id)
            .collect();
        let v = customer_view(r, &mine)?;
        profiles.insert(r.id.clone(), v.profile.shared_isolation_unit);
        if cust.is_none_or(|me| me == r.id) {
            customers.push(v);
        }
    }
    let placed: Vec<Placed<'_>> = all_assets
        .iter()
        .filter(|a| a.state == "active")
        .map(|a| Placed {
            id: &a.id,
            customer: &a.customer_id,
            isolation_unit: &a.isolation_unit,
            may_share: profiles.get(&a.customer_id).copied().unwrap_or(false),
        })
        .collect();
    let isolation = check_isolation(&placed)
        .into_iter()
        .filter(|b| cust.is_none_or(|me| b.assets.iter().any(|(c, _)| c == me)))
        .map(|b| {
            let shown: Vec<String> = b
                .assets
                .iter()
                .filter(|(c, _)| cust.is_none_or(|me| c == me))
                .map(|(c, a)| {
                    if cust.is_some() {
                        a.clone()
                    } else {
                        format!("{c}/{a}")
                    }
                })
                .collect();
            let customers: std::collections::BTreeSet<&str> =
                b.assets.iter().map(|(c, _)| c.as_str()).collect();
            Ok(IsolationView {
                isolation_unit: b.isolation_unit,
                assets: shown,
                other_customers: customers.len() - usize::from(cust.is_some()),
                cited: cited("isolation")?,
            })
        })
        .collect::<AppResult<_>>()?;
    let mut assets = Vec::new();
    for a in all_assets
        .iter()
        .filter(|a| cust.is_none_or(|me| a.customer_id == me))
    {
        assets.push(asset_view(app, a).await?);
    }
    let contracts = app
        .store
        .contracts(&at.idc, cust)
        .await?
        .iter()
        .map(|r| contract_view(p, r))
        .collect::<AppResult<_>>()?;
    let destructions = app
        .store
        .destructions(&at.idc, cust)
        .await?
        .iter()
        .map(destruction_view)
        .collect::<AppResult<_>>()?;
    let incidents = app
        .store
        .incidents(&at.idc, cust)
        .await?
        .into_iter()
        .map(incident_view)
        .collect::<AppResult<_>>()?;
    Ok(Overview {
        idc: idc.name,
        customer_view: cust.is_some(),
        programme,
        customers,
        contracts,
        assets,
        isolation,
        destructions,
        incidents,
    })
}

async fn programme_of(app: &App, idc: &str) -> AppResult<ProgrammeView> {
    let p = app.store.idc_programme(idc).await?;
    Ok(ProgrammeView {
        complete: p.is_some(),
        officer: p.as_ref().map(|p| p.1.clone()),
        department: p.as_ref().map(|p| p.2.clone()),
        named_at_ms: p.map(|p| p.3),
        cited: cited("security_officer")?,
    })
}

/// Names the data-security officer and the responsible department.
pub async fn set_programme(app: &App, c: &Caller, i: ProgrammeInput) -> AppResult<ProgrammeView> {
    let at = own_idc(app, c, Action::Write).await?;
    check_text("department", &i.department, MAX_NAME)?;
    let officer = app
        .store
        .user_by_username(&i.officer)
        .await
        .ok()
        .filter(|u| u.tenant_id == at && !u.disabled)
        .ok_or_else(|| {
            AppError::invalid(
                "officer",
                "the username of an enabled user of this IDC operator",
            )
        })?;
    let now = app.clock.now_ms();
    app.store
        .set_idc_programme(
            &at,
            &officer.id,
            &i.department,
            &c.audit("idc.programme.set", &officer.id, now),
        )
        .await?;
    programme_of(app, &at).await
}

/// The operator's own organisation, for acts only its staff do.
pub(crate) async fn own_idc(app: &App, c: &Caller, action: Action) -> AppResult<String> {
    if c.principal.org_kind != OrgKind::IdcOperator {
        return Err(match c.principal.org_kind {
            OrgKind::IdcCustomer => AppError::forbidden(
                "the IDC operator does this; a customer reads its data and approves operations on it",
            ),
            _ => not_idc(),
        });
    }
    app.own(c, action).await
}

/// Onboards a customer: its organisation (kind `idc_customer`) and its category's inputs.
pub async fn create_customer(app: &App, c: &Caller, i: NewCustomer) -> AppResult<CustomerView> {
    let idc = own_idc(app, c, Action::Write).await?;
    check_text("name", &i.name, MAX_NAME)?;
    check_text("sector", &i.sector, 40)?;
    if !i
        .sector
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        return Err(AppError::invalid(
            "sector",
            "lower-case letters and `_` (e.g. finance, internet)",
        ));
    }
    let _: DataClass = parse_enum("declared_class", &i.declared_class)?;
    // The overrides must tighten the category the customer starts in; against a category it
    // moves up to later they apply as far as they still tighten (`Profile::tightened`).
    i.overrides
        .check()
        .map_err(|(f, m)| AppError::invalid(format!("overrides.{f}"), m))?;
    let base = pack()?.categorize(
        &i.sector,
        i.declared_class.parse().map_err(AppError::internal)?,
    );
    base.category
        .profile
        .with(&i.overrides)
        .map_err(|(f, m)| AppError::invalid(format!("overrides.{f}"), m))?;
    let now = app.clock.now_ms();
    let row = IdcCustomerRow {
        id: new_id(),
        name: i.name,
        idc_id: idc.clone(),
        sector: i.sector,
        declared_class: i.declared_class,
        overrides: serde_json::to_string(&i.overrides).map_err(AppError::internal)?,
        created_at: now,
    };
    let division = app.store.organisation(&idc).await?.division;
    app.store
        .insert_idc_customer(
            &row,
            division.as_deref(),
            &c.audit("idc.customer.create", &row.id, now),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::conflict("an organisation of that name exists"),
            e => e.into(),
        })?;
    customer_view(&row, &[])
}

fn hosted<'a>(rows: &'a [IdcCustomerRow], id: &str) -> AppResult<&'a IdcCustomerRow> {
    rows.iter()
        .find(|r| r.id == id)
        .ok_or_else(|| AppError::invalid("customer", "not a customer of this IDC operator"))
}

/// Records a three-party contract and checks its responsibility matrix.
pub async fn create_contract(app: &App, c: &Caller, i: NewContract) -> AppResult<ContractView> {
    let idc = own_idc(app, c, Action::Write).await?;
    check_text("title", &i.title, MAX_NAME)?;
    i.signed_on
        .parse::<dengbao_core::Date>()
        .map_err(|e| AppError::invalid("signed_on", e.to_string()))?;
    hosted(&app.store.idc_customers(&idc, None).await?, &i.customer)?;
    for (n, t) in i.third_parties.iter().enumerate() {
        if !plausible_id(&t.id) || matches!(t.id.as_str(), "customer" | "operator") {
            return Err(AppError::invalid(
                format!("third_parties[{n}].id"),
                "1–64 of A–Z, a–z, 0–9, `.`, `_`, `-`, and not `customer` or `operator`",
            ));
        }
        check_text(&format!("third_parties[{n}].name"), &t.name, MAX_NAME)?;
    }
    let now = app.clock.now_ms();
    let row = ContractRow {
        id: new_id(),
        idc_id: idc.clone(),
        customer_id: i.customer,
        title: i.title,
        third_parties: serde_json::to_string(&i.third_parties).map_err(AppError::internal)?,
        matrix: serde_json::to_string(&i.matrix).map_err(AppError::internal)?,
        signed_on: i.signed_on,
        created_at: now,
    };
    let terms = format!("{}\n{}\n{}", row.title, row.matrix, row.third_parties);
    let mac = app
        .vault
        .mac(
            &row.customer_id,
            Purpose::Records,
            &row.customer_id,
            terms.as_bytes(),
            now,
        )
        .await?;
    app.store
        .insert_contract(&row, &mac, &c.audit("idc.contract.create", &row.id, now))
        .await?;
    contract_view(pack()?, &row)
}

/// Records a data asset, its name sealed under a key of its own.
pub async fn create_asset(app: &App, c: &Caller, i: NewAsset) -> AppResult<AssetView> {
    let idc = own_idc(app, c, Action::Write).await?;
    require_programme(app, &idc).await?;
    hosted(&app.store.idc_customers(&idc, None).await?, &i.customer)?;
    check_text("name", &i.name, MAX_NAME)?;
    check_free_text("description", &i.description, 2000)?;
    let _: AssetKind = parse_enum("kind", &i.kind)?;
    let _: Classification = parse_enum("classification", &i.classification)?;
    check_text("location", &i.location, MAX_NAME)?;
    check_text("isolation_unit", &i.isolation_unit, 100)?;
    if i.sensitive_personal && !i.personal {
        return Err(AppError::invalid(
            "personal",
            "sensitive personal information is personal information (PIPL art. 28): set personal too",
        ));
    }
    let now = app.clock.now_ms();
    let mut row = AssetRow {
        id: new_id(),
        idc_id: idc.clone(),
        customer_id: i.customer.clone(),
        label: Vec::new(),
        kind: i.kind,
        location: i.location,
        isolation_unit: i.isolation_unit,
        classification: i.classification,
        personal: i.personal,
        sensitive_personal: i.sensitive_personal,
        state: "active".into(),
        created_at: now,
        destroyed_at: None,
    };
    let label = serde_json::to_vec(&Label {
        name: i.name,
        description: i.description,
    })
    .map_err(AppError::internal)?;
    row.label = app
        .vault
        .seal(
            &i.customer,
            Purpose::Asset,
            &row.id,
            &label_aad(&row),
            &label,
            now,
        )
        .await?;
    let mac = app
        .vault
        .mac(&i.customer, Purpose::Asset, &row.id, &label, now)
        .await?;
    app.store
        .insert_asset(&row, &mac, &c.audit("idc.asset.create", &row.id, now))
        .await?;
    asset_view(app, &row).await
}

/// An asset the caller may see.
async fn visible_asset(app: &App, c: &Caller, action: Action, id: &str) -> AppResult<AssetRow> {
    if !plausible_id(id) {
        return Err(AppError::not_found());
    }
    let at = place(app, c, action, None).await?;
    Ok(app.store.asset(&at.idc, at.customer.as_deref(), id).await?)
}

pub async fn asset(app: &App, c: &Caller, id: &str) -> AppResult<AssetView> {
    let a = visible_asset(app, c, Action::Read, id).await?;
    asset_view(app, &a).await
}

/// Stores the asset's content as sealed copies: the primary and as many backups as the
/// customer's profile asks (each sealed on its own, under the asset's key).
pub async fn put_content(app: &App, c: &Caller, id: &str, content: &[u8]) -> AppResult<AssetView> {
    let idc = own_idc(app, c, Action::Write).await?;
    require_programme(app, &idc).await?;
    let a = app
        .store
        .asset(&idc, None, id)
        .await
        .map_err(|_| AppError::not_found())?;
    if a.state != "active" {
        return Err(AppError::conflict("the asset was destroyed"));
    }
    let rows = app.store.idc_customers(&idc, None).await?;
    let assets = app.store.assets(&idc, Some(&a.customer_id)).await?;
    let profile = profile_of(hosted(&rows, &a.customer_id)?, &assets)?;
    let now = app.clock.now_ms();
    let mut copies = Vec::new();
    for copy in std::iter::once("primary".to_owned())
        .chain((1..=profile.backup_copies).map(|n| format!("backup-{n}")))
    {
        let sealed = app
            .vault
            .seal(
                &a.customer_id,
                Purpose::Asset,
                &a.id,
                &copy_aad(&idc, &a.id, &copy),
                content,
                now,
            )
            .await?;
        copies.push(AssetCopyRow {
            copy,
            sealed,
            size: content.len() as i64,
            stored_at: now,
        });
    }
    let mac = app
        .vault
        .mac(&a.customer_id, Purpose::Asset, &a.id, content, now)
        .await?;
    app.store
        .put_asset_copies(
            &idc,
            &a.id,
            &copies,
            &mac,
            &c.audit("idc.asset.content", &a.id, now),
        )
        .await?;
    asset_view(app, &a).await
}

/// The asset's content, opened from `copy`: for the customer, and for the operator only
/// against a live grant of the customer's (`Operation::Read` on that asset) — the use is
/// recorded in the ledger before the data key is unwrapped.
pub async fn content(app: &App, c: &Caller, id: &str, copy: &str) -> AppResult<Vec<u8>> {
    let a = match c.principal.org_kind {
        OrgKind::IdcCustomer => visible_asset(app, c, Action::Read, id).await?,
        OrgKind::IdcOperator => {
            let idc = own_idc(app, c, Action::Write).await?;
            if !plausible_id(id) {
                return Err(AppError::not_found());
            }
            let a = app.store.asset(&idc, None, id).await?;
            crate::access::use_grant(
                app,
                c,
                &idc,
                crate::access::GrantUse {
                    customer: &a.customer_id,
                    asset: &a.id,
                    op: dengbao_core::access::Operation::Read,
                    what: &format!("read {copy}"),
                    only: None,
                },
            )
            .await?;
            a
        }
        _ => return Err(not_idc()),
    };
    let found = app
        .store
        .asset_copy(&a.idc_id, &a.id, copy)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(app
        .vault
        .open(
            &a.customer_id,
            Purpose::Asset,
            &a.id,
            &copy_aad(&a.idc_id, &a.id, copy),
            &found.sealed,
        )
        .await?
        .to_vec())
}

/// [`put_content`] from base64.
pub async fn put_content_base64(
    app: &App,
    c: &Caller,
    id: &str,
    i: ContentInput,
) -> AppResult<AssetView> {
    let bytes = crate::dto::decode_base64("content_base64", &i.content_base64)?;
    put_content(app, c, id, &bytes).await
}

/// [`content`] as base64.
pub async fn content_base64(app: &App, c: &Caller, id: &str, copy: &str) -> AppResult<ContentView> {
    use base64::Engine;
    let bytes = content(app, c, id, copy).await?;
    Ok(ContentView {
        copy: copy.to_owned(),
        size: bytes.len(),
        content_base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
    })
}

/// The operator asks to destroy an asset; the customer's approvals decide.
pub async fn request_destruction(
    app: &App,
    c: &Caller,
    asset_id: &str,
    i: DestructionInput,
) -> AppResult<DestructionView> {
    let idc = own_idc(app, c, Action::Write).await?;
    require_programme(app, &idc).await?;
    check_text("reason", &i.reason, 500)?;
    let a = app
        .store
        .asset(&idc, None, asset_id)
        .await
        .map_err(|_| AppError::not_found())?;
    if a.state != "active" {
        return Err(AppError::conflict("the asset was destroyed already"));
    }
    let rows = app.store.idc_customers(&idc, None).await?;
    let assets = app.store.assets(&idc, Some(&a.customer_id)).await?;
    let profile = profile_of(hosted(&rows, &a.customer_id)?, &assets)?;
    let now = app.clock.now_ms();
    let row = DestructionRow {
        id: new_id(),
        idc_id: idc.clone(),
        customer_id: a.customer_id.clone(),
        asset_id: a.id.clone(),
        method: "crypto-shred: the asset's SM4 data key destroyed, its KEK rotated".into(),
        reason: i.reason,
        requested_by: c.username().to_owned(),
        requested_at: now,
        approvals_needed: i64::from(profile.approvals_for_destruction.max(1)),
        approvals: "[]".into(),
        state: "requested".into(),
        executed_at: None,
        certificate: None,
    };
    app.store
        .insert_destruction(&row, &c.audit("idc.destruction.request", &row.id, now))
        .await?;
    destruction_view(&row)
}

/// The customer's lead approves or refuses a destruction; enough distinct approvers make it
/// approved.
pub async fn decide_destruction(
    app: &App,
    c: &Caller,
    id: &str,
    i: ApprovalInput,
) -> AppResult<DestructionView> {
    if !plausible_id(id) {
        return Err(AppError::not_found());
    }
    let at = place(app, c, Action::Read, None).await?;
    let mut d = app
        .store
        .destruction(&at.idc, at.customer.as_deref(), id)
        .await?;
    place(app, c, Action::Approve, Some(&d.customer_id)).await?;
    if d.state != "requested" {
        return Err(AppError::conflict(format!(
            "the destruction is `{}`, not waiting for approval",
            d.state
        )));
    }
    let read = d.approvals.clone();
    let mut approvals: Vec<Approval> =
        serde_json::from_str(&d.approvals).map_err(AppError::internal)?;
    let now = app.clock.now_ms();
    match i.decision.as_str() {
        "approve" => {
            if approvals.iter().any(|a| a.user == c.username()) {
                return Err(AppError::conflict(
                    "you approved this already: it needs approvals from different people",
                ));
            }
            approvals.push(Approval {
                user: c.username().to_owned(),
                at_ms: now,
            });
            if approvals.len() as i64 >= d.approvals_needed {
                d.state = "approved".into();
            }
        }
        "refuse" => d.state = "refused".into(),
        _ => return Err(AppError::invalid("decision", "`approve` or `refuse`")),
    }
    d.approvals = serde_json::to_string(&approvals).map_err(AppError::internal)?;
    app.store
        .update_destruction(
            &d,
            "requested",
            &read,
            &c.audit("idc.destruction.decide", &d.id, now),
        )
        .await?;
    destruction_view(&d)
}

/// Executes an approved destruction: the asset's data key is destroyed (every sealed copy
/// becomes unreadable), the customer's KEK and — where the master key can rotate — the
/// master key are rotated so that a copy of the database taken before cannot open the
/// destroyed key either, and a signed certificate is issued.
pub async fn execute_destruction(
    app: &App,
    c: &Caller,
    id: &str,
) -> AppResult<DestructionCertificateView> {
    let idc = own_idc(app, c, Action::Write).await?;
    require_programme(app, &idc).await?;
    if !plausible_id(id) {
        return Err(AppError::not_found());
    }
    let d = app.store.destruction(&idc, None, id).await?;
    // Nothing is destroyed that could not be certified.
    if app.ledger.public_key().is_none() {
        return Err(AppError::new(
            ErrorKind::Unavailable,
            "no-signer",
            "no ledger signing key is loaded: a destruction certificate could not be signed",
        ));
    }
    let now = app.clock.now_ms();
    let (key, seq) = match (d.state.as_str(), &d.certificate) {
        ("approved", _) => {
            let key = app
                .vault
                .key_row(&d.customer_id, Purpose::Asset, &d.asset_id)
                .await?
                .ok_or_else(|| AppError::conflict("the asset has no live key"))?;
            let audit = c.audit("idc.destruction.execute", &d.id, now);
            let seq = app
                .store
                .execute_destruction(&d, &key.id, now, &audit)
                .await?;
            (key, seq)
        }
        // Executed, but what follows the key's destruction did not finish (a failure after
        // its transaction): do it again. Rotations repeat harmlessly; the certificate cites
        // the same ledger entry.
        ("executed", None) => {
            let key = app
                .vault
                .key_history(&d.customer_id, Purpose::Asset, &d.asset_id)
                .await?
                .pop()
                .ok_or_else(|| AppError::internal("an executed destruction without its key"))?;
            let seq = app
                .store
                .destruction_seq(&idc, &d.id)
                .await?
                .ok_or_else(|| AppError::internal("an executed destruction without its entry"))?;
            (key, seq)
        }
        (state, _) => {
            return Err(AppError::conflict(format!(
                "the destruction is `{state}`: it needs the customer's approval first, and is executed once"
            )));
        }
    };
    let d = app.store.destruction(&idc, None, id).await?;
    let asset = app.store.asset(&idc, None, &d.asset_id).await?;
    let kek = app.vault.rotate_kek(&d.customer_id, now).await?;
    let master = app.vault.rotate_master().await?;
    app.vault.purge().await;
    let approvals: Vec<Approval> =
        serde_json::from_str(&d.approvals).map_err(AppError::internal)?;
    let master_line = match &master {
        Some(m) if m.retired => format!(
            "rotated {} -> {}; every older version forgotten",
            m.old_version, m.new_version
        ),
        Some(m) => format!(
            "rotated {} -> {}; an older version is still kept, so a copy of the database made before may still open the destroyed key",
            m.old_version, m.new_version
        ),
        None => format!(
            "not rotated ({}): a copy of the database made before this destruction stays readable to whoever holds that master key",
            app.vault.describe()
        ),
    };
    let executed = d.executed_at.unwrap_or(now);
    let cite = cited("destruction")?.cite;
    let body_for = |number: &str| {
        format!(
            "Dengbao destruction certificate 数据销毁证明\nnumber: {number}\nidc: {idc}\ncustomer: {}\nasset: {}\nkind: {}\nclassification: {}{}{}\nmethod: {}\nreason-digest: {}\nrequested: {} by {}\napproved: {}\nexecuted: {executed}\ndata-key: {} (created {}, destroyed {}; never exported: the vault has no operation that returns a key)\nkek: {} -> {}\nmaster: {master_line}\nledger-seq: {seq}\ncite: {cite}\n",
            d.customer_id,
            d.asset_id,
            asset.kind,
            asset.classification,
            if asset.personal { ", personal" } else { "" },
            if asset.sensitive_personal {
                ", sensitive_personal"
            } else {
                ""
            },
            d.method,
            dengbao_ledger::to_hex(&dengbao_ledger::tree::sm3(d.reason.as_bytes())),
            d.requested_at,
            d.requested_by,
            approvals
                .iter()
                .map(|a| format!("{}@{}", a.user, a.at_ms))
                .collect::<Vec<_>>()
                .join(", "),
            key.fingerprint,
            key.created_at,
            key.destroyed_at.unwrap_or(executed),
            kek.old_fingerprint,
            kek.new_fingerprint,
        )
    };
    let year = app.clock.today().ymd().0;
    for _ in 0..3 {
        let mut r = [0u8; 6];
        getrandom::fill(&mut r).map_err(AppError::internal)?;
        let number = format!(
            "D-{year}-{}",
            dengbao_ledger::to_hex(&r).to_ascii_uppercase()
        );
        let body = body_for(&number);
        let signed = app.ledger.sign_note(&body)?;
        let cert = DestructionCertificateRow {
            number,
            idc_id: idc.clone(),
            customer_id: d.customer_id.clone(),
            destruction_id: d.id.clone(),
            body,
            signed,
            issued_at: now,
        };
        let audit = c.audit("idc.destruction.certify", &d.id, now);
        match app
            .store
            .insert_destruction_certificate(&cert, &audit)
            .await
        {
            Ok(()) => return Ok(certificate_view(app, cert)),
            // 48 random bits met a number in use: draw again.
            Err(StoreError::Conflict(m)) if m == "certificate number" => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal("no free certificate number"))
}

fn certificate_view(app: &App, c: DestructionCertificateRow) -> DestructionCertificateView {
    let seq = c
        .body
        .lines()
        .find_map(|l| l.strip_prefix("ledger-seq: "))
        .and_then(|s| s.parse().ok())
        .unwrap_or(-1);
    DestructionCertificateView {
        verified: app.ledger.verifies(&c.signed, &c.body),
        public_key: app.ledger.public_key().unwrap_or_default(),
        number: c.number,
        customer: c.customer_id,
        body: c.body,
        note: c.signed,
        ledger_seq: seq,
        issued_at_ms: c.issued_at,
    }
}

/// A destruction certificate, for the IDC operator or the customer it concerns.
pub async fn certificate(
    app: &App,
    c: &Caller,
    number: &str,
) -> AppResult<DestructionCertificateView> {
    if number.len() > 40
        || !number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(AppError::not_found());
    }
    let at = place(app, c, Action::Read, None).await?;
    let cert = app.store.destruction_certificate(number).await?;
    if cert.idc_id != at.idc
        || at
            .customer
            .as_deref()
            .is_some_and(|me| me != cert.customer_id)
    {
        return Err(AppError::not_found());
    }
    Ok(certificate_view(app, cert))
}

/// Records an incident; when the IDC caused it, the customers and the telecom regulator are
/// told at once (in the same transaction: an in-app notice, and the regulator's report).
pub async fn record_incident(app: &App, c: &Caller, i: NewIncident) -> AppResult<IncidentView> {
    let idc = own_idc(app, c, Action::Write).await?;
    require_programme(app, &idc).await?;
    check_text("title", &i.title, MAX_NAME)?;
    check_free_text("description", &i.description, 4000)?;
    if !matches!(i.severity.as_str(), "low" | "medium" | "high" | "critical") {
        return Err(AppError::invalid(
            "severity",
            "one of low, medium, high, critical",
        ));
    }
    let now = app.clock.now_ms();
    if i.detected_at_ms > now || i.detected_at_ms < 0 {
        return Err(AppError::invalid(
            "detected_at_ms",
            "a time in the past (epoch ms)",
        ));
    }
    if i.customers.is_empty() {
        return Err(AppError::invalid(
            "customers",
            "name at least one affected customer",
        ));
    }
    let rows = app.store.idc_customers(&idc, None).await?;
    let assets = app.store.assets(&idc, None).await?;
    let mut customers = Vec::new();
    for (n, a) in i.customers.iter().enumerate() {
        hosted(&rows, &a.customer).map_err(|_| {
            AppError::invalid(
                format!("customers[{n}].customer"),
                "not a customer of this IDC operator",
            )
        })?;
        for (k, asset) in a.assets.iter().enumerate() {
            if !assets
                .iter()
                .any(|x| &x.id == asset && x.customer_id == a.customer)
            {
                return Err(AppError::invalid(
                    format!("customers[{n}].assets[{k}]"),
                    "not an asset of that customer",
                ));
            }
        }
        customers.push(IncidentCustomerRow {
            customer_id: a.customer.clone(),
            assets: serde_json::to_string(&a.assets).map_err(AppError::internal)?,
            notified_at: Some(now),
        });
    }
    let row = IncidentRow {
        id: new_id(),
        idc_id: idc.clone(),
        title: i.title,
        description: i.description,
        severity: i.severity,
        caused_by_idc: i.caused_by_idc,
        detected_at: i.detected_at_ms,
        recorded_at: now,
        recorded_by: c.username().to_owned(),
        regulator_notified_at: i.caused_by_idc.then_some(now),
        customers,
    };
    app.store
        .insert_incident(&row, &c.audit("idc.incident.record", &row.id, now))
        .await
        .map_err(|e| match e {
            StoreError::Dangling(d) => AppError::invalid("customers", d),
            e => e.into(),
        })?;
    incident_view(row)
}

/// The regulator's report of an incident, as a downloadable text: `(file name, text)`.
pub async fn regulator_report(app: &App, c: &Caller, id: &str) -> AppResult<(String, String)> {
    let idc = own_idc(app, c, Action::Read).await?;
    let incident = app
        .store
        .incidents(&idc, None)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(AppError::not_found)?;
    let org = app.store.organisation(&idc).await?;
    let programme = programme_of(app, &idc).await?;
    let v = incident_view(incident)?;
    let utc = |ms: i64| {
        let secs = ms.div_euclid(1000);
        let d = dengbao_core::Date::from_unix_seconds(secs, 8 * 3600);
        let s = (secs + 8 * 3600).rem_euclid(86_400);
        format!(
            "{d} {:02}:{:02}:{:02} (UTC+8)",
            s / 3600,
            s / 60 % 60,
            s % 60
        )
    };
    let mut t = format!(
        "数据安全事件报告 / Data-security incident report\n\nIDC operator / 互联网数据中心运营者: {}\nData-security officer / 数据安全负责人: {}\nResponsible department / 负责部门: {}\n\nIncident / 事件: {} ({})\nSeverity / 等级: {}\nCaused by the IDC / 由数据中心引起: {}\nDetected / 发现时间: {}\nRecorded / 记录时间: {} by {}\n",
        org.name,
        programme.officer.as_deref().unwrap_or("-"),
        programme.department.as_deref().unwrap_or("-"),
        v.title,
        v.id,
        v.severity,
        if v.caused_by_idc { "yes 是" } else { "no 否" },
        utc(v.detected_at_ms),
        utc(v.recorded_at_ms),
        v.recorded_by,
    );
    if let Some(n) = v.regulator_notified_at_ms {
        t.push_str(&format!(
            "Regulator notified / 报告电信主管部门: {} ({} min after detection)\n",
            utc(n),
            (n - v.detected_at_ms) / 60_000
        ));
    }
    t.push_str(&format!(
        "\nDescription / 经过:\n{}\n\nAffected customers / 受影响客户:\n",
        v.description
    ));
    for a in &v.customers {
        let name = app
            .store
            .organisation(&a.customer)
            .await
            .map(|o| o.name)
            .unwrap_or_else(|_| a.customer.clone());
        t.push_str(&format!(
            "- {name}: {} asset(s) {}; notified {}\n",
            a.assets.len(),
            a.assets.join(", "),
            a.notified_at_ms.map_or("-".into(), utc)
        ));
    }
    t.push_str(&format!(
        "\nBasis / 依据: {} ({})\n",
        v.cited.cite, v.cited.status
    ));
    Ok((format!("incident-{}.txt", v.id), t))
}
