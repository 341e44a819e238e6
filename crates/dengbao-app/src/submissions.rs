//! The secret-involved and cryptography tracks (Measures art. 26–39): what an operator
//! submits to the secrecy department or the cryptography administration, and the authority's
//! decision, each a ledger entry and, where the engine knows the fact, the operator's event.
//!
//! - A secret-involved system applies for approval before it runs, or for the record once in
//!   use (art. 29 ¶2), with the complete art. 30 dossier; an approval or record is the
//!   operator's `secrecy_approval` event.
//! - A change of one of the aspects of art. 31 is reported (`secret_change` and
//!   `change_reported` events); the department decides whether it must be re-approved.
//! - A usage filing of cryptography (art. 36) lists the products used, each checked against
//!   the administrations' approved-product lists (art. 37); accepted, it is the operator's
//!   `cryptography_usage_filed` event — and from then on the administration sees the object.
//!
//! A submission is routed, like a filing (art. 15), to the authority whose jurisdiction covers
//! the object's division: the secrecy department at city level or above (art. 29 ¶2), the
//! most local cryptography administration.

use dengbao_core::Date;
use dengbao_core::model::{ChangeAspect, Event, EventType, FactValue};
use dengbao_guard::{Action, OrgKind, Resource};
use dengbao_store::{ListedProductRow, StoreError, SubmissionRow, new_id};
use serde::{Deserialize, Serialize};

use crate::dto::{check_free_text, plausible_id};
use crate::error::{AppError, AppResult};
use crate::systems::{authorized_row, dossier_of};
use crate::{App, Caller};

/// The kinds of submission, their authority and citation.
const SECRECY_APPLICATION: &str = "secrecy_application";
const SECRET_CHANGE: &str = "secret_change";
const CRYPTO_FILING: &str = "crypto_filing";

fn cite_of(kind: &str) -> &'static str {
    match kind {
        SECRECY_APPLICATION => "Measures art. 29 ¶2, 30",
        SECRET_CHANGE => "Measures art. 31",
        _ => "Measures art. 36, 37",
    }
}

/// An application to the secrecy department.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SecrecyApplicationInput {
    /// `approval` before the system runs, or `record` for a system already in use that was
    /// rectified (art. 29 ¶2).
    #[cfg_attr(feature = "openapi", schema(pattern = "^(approval|record)$"))]
    pub purpose: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// A report of a change (art. 31).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SecretChangeInput {
    /// `secret_degree`, `connection_area`, `environmental_facilities`,
    /// `principal_applications` or `accountable_entity`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(secret_degree|connection_area|environmental_facilities|principal_applications|accountable_entity)$"
        )
    )]
    pub aspect: String,
    /// When it changed, YYYY-MM-DD, not after today.
    #[cfg_attr(feature = "openapi", schema(format = Date, pattern = "^(19|[2-9][0-9])[0-9]{2}-"))]
    pub changed_on: String,
    /// What changed (1–2000 characters).
    pub description: String,
}

/// A product named in a usage filing, with its certificate when the registry has none.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FiledProductInput {
    /// The id of one of the organisation's cryptographic products.
    pub id: String,
    /// The approval or sales-permit certificate number; defaults to the product's evidence
    /// for `approved_by_crypto_admin`.
    #[serde(default)]
    pub certificate: Option<String>,
}

/// A usage filing of cryptography (art. 36).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CryptoFilingInput {
    /// The products used; defaults to the object's cryptographic products in use.
    #[serde(default)]
    pub products: Vec<FiledProductInput>,
    /// The algorithms used (`SM2`, `SM3`, `SM4`, …), at least one.
    pub algorithms: Vec<String>,
    /// How cryptography is set and used: what it protects and where (1–2000 characters).
    pub purposes: String,
}

/// The authority's decision.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubmissionDecisionInput {
    /// An application: `approve` or `return`; a change report: `reapproval_required` or
    /// `no_reapproval`; a usage filing: `accept` or `return`.
    pub decision: String,
    /// Required to return, or to require re-approval (at most 2000 characters).
    #[serde(default)]
    pub reasons: Option<String>,
    /// `reapproval_required` only: the time limit for the new approval, YYYY-MM-DD, not
    /// before today (art. 31 sets none; the department may).
    #[serde(default)]
    pub deadline: Option<String>,
}

/// How a filed product stands against the approved lists (art. 37).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductCheck {
    pub id: String,
    pub name: String,
    pub certificate: Option<String>,
    /// `listed` (on a list, valid today), `lapsed` (listed, but expired or withdrawn),
    /// `not_listed`, or `no_certificate`.
    pub status: String,
    /// The operator's registry says it is approved, but no list has it.
    pub declared_approved: bool,
    /// The administration whose list has it, and until when.
    pub listed_by: Option<String>,
    pub valid_until: Option<String>,
    pub cite: String,
}

/// A submission and its decision.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmissionView {
    pub id: String,
    /// `secrecy_application`, `secret_change` or `crypto_filing`.
    pub kind: String,
    pub authority_id: String,
    pub authority: String,
    pub operator_id: String,
    pub operator: String,
    pub object_id: String,
    pub object_name: String,
    /// `submitted`, then `approved`, `recorded`, `returned`, `reapproval_required`,
    /// `no_reapproval` or `filed`.
    pub status: String,
    /// What was submitted: the kind's own fields.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
    /// A usage filing's products against the approved lists.
    pub products: Vec<ProductCheck>,
    pub submitted_on: String,
    pub submitted_by: String,
    pub decided_on: Option<String>,
    pub decided_by: Option<String>,
    pub reasons: Option<String>,
    pub cite: &'static str,
    /// The caller may decide it.
    pub may_decide: bool,
}

/// The caller may decide `r` now. The guard's submission rule reads only the resource, so no
/// relations are needed; this asks without recording a denial (it is what a page shows).
fn may_decide(app: &App, c: &Caller, r: &SubmissionRow) -> bool {
    r.status == "submitted"
        && dengbao_guard::authorize(
            &c.principal,
            Action::Review,
            &Resource::Submission {
                operator: &r.tenant_id,
                authority: &r.authority_id,
            },
            &dengbao_guard::Relations::default(),
            app.clock.now_ms(),
        )
        .is_allow()
}

fn view(r: SubmissionRow, may_decide: bool) -> SubmissionView {
    let payload: serde_json::Value =
        serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null);
    let products = payload
        .get("products")
        .cloned()
        .and_then(|p| serde_json::from_value(p).ok())
        .unwrap_or_default();
    SubmissionView {
        cite: cite_of(&r.kind),
        may_decide,
        id: r.id,
        kind: r.kind,
        authority_id: r.authority_id,
        authority: r.authority_name,
        operator_id: r.tenant_id,
        operator: r.operator_name,
        object_id: r.object_id,
        object_name: r.object_name,
        status: r.status,
        payload,
        products,
        submitted_on: r.submitted_on,
        submitted_by: r.submitted_by,
        decided_on: r.decided_on,
        decided_by: r.decided_by,
        reasons: r.reasons,
    }
}

fn note_of(field: &str, s: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            check_free_text(field, s, max)?;
            Ok(Some(s.to_owned()))
        }
        None => Ok(None),
    }
}

/// The authority of `kind` covering the object's division (or, without one, the
/// operator's); a clear refusal when the platform has none.
async fn route(
    app: &App,
    org: &str,
    obj: &dengbao_core::model::GradingObject,
    kind: &str,
    min_level: &str,
    what: &str,
) -> AppResult<String> {
    let division = match obj.division {
        Some(d) => Some(d.as_str().to_owned()),
        None => app.store.organisation(org).await?.division,
    };
    let found = match &division {
        Some(d) => app.store.authority_for(kind, d, min_level).await?,
        None => None,
    };
    found.ok_or_else(|| {
        AppError::invalid(
            "division",
            format!(
                "no {what} on the platform covers division {}; set the object's division",
                division.as_deref().unwrap_or("(none)")
            ),
        )
    })
}

/// A secret-involved object the caller may write, refused with `refusal` otherwise.
async fn secret_object(
    app: &App,
    c: &Caller,
    id: &str,
    refusal: &'static str,
) -> AppResult<(String, dengbao_core::model::GradingObject)> {
    let (org, _, obj) = authorized_row(app, c, Action::Write, id).await?;
    if !obj.is_secret() {
        return Err(AppError::state("secret", refusal));
    }
    Ok((org, obj))
}

/// The secrecy department at city level or above covering the object (art. 29 ¶2).
async fn secrecy_department(
    app: &App,
    org: &str,
    obj: &dengbao_core::model::GradingObject,
    cite: &str,
) -> AppResult<String> {
    route(
        app,
        org,
        obj,
        "secrecy_department",
        "city",
        &format!("secrecy department at city level or above ({cite})"),
    )
    .await
}

async fn submit(
    app: &App,
    c: &Caller,
    org: &str,
    id: &str,
    (kind, authority): (&str, String),
    payload: serde_json::Value,
    events: Vec<Event>,
) -> AppResult<SubmissionView> {
    let now = app.clock.now_ms();
    let rows = events
        .iter()
        .map(|e| crate::reviews::event_row(c, id, e, now))
        .collect::<AppResult<Vec<_>>>()?;
    let row = SubmissionRow {
        id: new_id(),
        kind: kind.to_owned(),
        authority_id: authority,
        tenant_id: org.to_owned(),
        object_id: id.to_owned(),
        status: "submitted".into(),
        payload: payload.to_string(),
        submitted_on: app.clock.today().to_string(),
        submitted_at: now,
        submitted_by: c.username().to_owned(),
        decided_on: None,
        decided_by: None,
        reasons: None,
        authority_name: String::new(),
        operator_name: String::new(),
        object_name: String::new(),
    };
    let action = format!("submission.{kind}");
    app.store
        .create_submission(&row, &rows, &c.audit(&action, id, now))
        .await?;
    app.tenants.invalidate(org);
    submission(app, c, &row.id).await
}

/// A secret-involved system's application for approval or record (art. 29 ¶2), with the
/// complete art. 30 dossier.
pub async fn apply_secrecy(
    app: &App,
    c: &Caller,
    id: &str,
    input: SecrecyApplicationInput,
) -> AppResult<SubmissionView> {
    let (org, obj) = secret_object(
        app,
        c,
        id,
        "only a secret-involved system applies to the secrecy department (Measures art. 29 ¶2); file it with the public security organ (art. 15)",
    )
    .await?;
    let purpose = match input.purpose.as_str() {
        p @ ("approval" | "record") => p,
        _ => {
            return Err(AppError::invalid(
                "purpose",
                "`approval` before the system runs, or `record` for one already in use (Measures art. 29 ¶2)",
            ));
        }
    };
    let note = note_of("note", input.note.as_deref(), 2000)?;
    let materials = app.store.materials(&org, id).await?;
    let d = dossier_of(app, &obj, &materials)?;
    if !d.complete {
        return Err(AppError::invalid(
            "materials",
            "the application materials are incomplete (Measures art. 30)",
        )
        .with_extra(serde_json::json!({ "missing": d.missing })));
    }
    let authority = secrecy_department(app, &org, &obj, "Measures art. 29 ¶2").await?;
    let payload = serde_json::json!({
        "purpose": purpose,
        "note": note,
        "materials": materials.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(),
    });
    submit(
        app,
        c,
        &org,
        id,
        (SECRECY_APPLICATION, authority),
        payload,
        Vec::new(),
    )
    .await
}

/// Reports a change of a secret-involved system to the secrecy department (art. 31): the
/// change and its report become the operator's events.
pub async fn report_secret_change(
    app: &App,
    c: &Caller,
    id: &str,
    input: SecretChangeInput,
) -> AppResult<SubmissionView> {
    let (org, obj) = secret_object(
        app,
        c,
        id,
        "change reports of art. 31 are for secret-involved systems",
    )
    .await?;
    let aspect: ChangeAspect = input.aspect.parse().map_err(|_| {
        AppError::invalid(
            "aspect",
            "one of the aspects of Measures art. 31: secret_degree, connection_area, environmental_facilities, principal_applications, accountable_entity",
        )
    })?;
    let today = app.clock.today();
    let changed_on: Date = input
        .changed_on
        .parse()
        .map_err(|e: dengbao_core::ValueError| AppError::invalid("changed_on", e.to_string()))?;
    if changed_on > today {
        return Err(AppError::invalid(
            "changed_on",
            "after today: report a change once it happened",
        ));
    }
    let Some(description) = note_of("description", Some(&input.description), 2000)? else {
        return Err(AppError::invalid(
            "description",
            "required: say what changed (Measures art. 31)",
        ));
    };
    let authority = secrecy_department(app, &org, &obj, "Measures art. 31").await?;
    let mut change = Event::new(changed_on, EventType::SecretChange);
    change.aspect = Some(aspect);
    change.note = Some(description.clone());
    let mut reported = Event::new(today, EventType::ChangeReported);
    reported.aspect = Some(aspect);
    let payload = serde_json::json!({
        "aspect": <&str>::from(aspect),
        "changed_on": changed_on.to_string(),
        "description": description,
    });
    submit(
        app,
        c,
        &org,
        id,
        (SECRET_CHANGE, authority),
        payload,
        vec![change, reported],
    )
    .await
}

/// Checks products against every administration's approved list on `today` (art. 37).
fn check_products(
    listed: &[ListedProductRow],
    products: &[(String, String, Option<String>, bool)],
    today: Date,
) -> Vec<ProductCheck> {
    products
        .iter()
        .map(|(id, name, certificate, declared)| {
            let entries: Vec<&ListedProductRow> = certificate
                .as_deref()
                .map(|c| {
                    // A registry's evidence may name the certificate in a sentence.
                    listed
                        .iter()
                        .filter(|l| {
                            c == l.certificate || c.split_whitespace().any(|w| w == l.certificate)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let valid = |l: &ListedProductRow| {
                l.withdrawn_on.is_none() && l.valid_until.parse::<Date>().is_ok_and(|u| today <= u)
            };
            let hit = entries
                .iter()
                .find(|l| valid(l))
                .or_else(|| entries.first())
                .copied();
            let status = match (certificate, hit) {
                (None, _) => "no_certificate",
                (Some(_), None) => "not_listed",
                (Some(_), Some(l)) if valid(l) => "listed",
                (Some(_), Some(_)) => "lapsed",
            };
            ProductCheck {
                id: id.clone(),
                name: name.clone(),
                certificate: certificate.clone(),
                status: status.to_owned(),
                declared_approved: *declared && status != "listed",
                listed_by: hit.map(|l| l.admin_name.clone()),
                valid_until: hit.map(|l| l.valid_until.clone()),
                cite: "Measures art. 37".into(),
            }
        })
        .collect()
}

/// Files the setting and use of cryptography of an object with the cryptography
/// administration (art. 36), its products checked against the approved lists (art. 37).
pub async fn file_cryptography(
    app: &App,
    c: &Caller,
    id: &str,
    input: CryptoFilingInput,
) -> AppResult<SubmissionView> {
    let (org, _, obj) = authorized_row(app, c, Action::Write, id).await?;
    if !obj.uses_cryptography {
        return Err(AppError::state(
            "uses_cryptography",
            "the object does not use cryptography; set `uses_cryptography` first (Measures art. 36)",
        ));
    }
    let mut algorithms: Vec<String> = Vec::new();
    for (i, a) in input.algorithms.iter().enumerate() {
        let a = a.trim();
        if a.is_empty()
            || a.len() > 40
            || !a
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_/.".contains(ch))
        {
            return Err(AppError::invalid(
                format!("algorithms[{i}]"),
                "an algorithm's name, e.g. SM2, SM3, SM4 (letters, digits, - _ / .; at most 40)",
            ));
        }
        if !algorithms.iter().any(|x| x.eq_ignore_ascii_case(a)) {
            algorithms.push(a.to_owned());
        }
    }
    if algorithms.is_empty() {
        return Err(AppError::invalid(
            "algorithms",
            "name at least one algorithm used (Measures art. 36)",
        ));
    }
    let Some(purposes) = note_of("purposes", Some(&input.purposes), 2000)? else {
        return Err(AppError::invalid(
            "purposes",
            "required: say what cryptography protects and where (Measures art. 36)",
        ));
    };
    let data = app.tenants.data(app, &org).await?;
    let registry = &data.inventory.crypto_products;
    let wanted: Vec<(String, Option<String>)> = if input.products.is_empty() {
        // The products in use live beside the object's row; the organisation's data has
        // them merged in.
        data.inventory
            .systems
            .iter()
            .find(|s| s.id == obj.id)
            .map(|s| s.crypto_products_in_use.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|p| (p.clone(), None))
            .collect()
    } else {
        input
            .products
            .iter()
            .map(|p| (p.id.clone(), p.certificate.clone()))
            .collect()
    };
    if wanted.is_empty() {
        return Err(AppError::invalid(
            "products",
            "name the cryptographic products used, or set them in use on the object (Measures art. 37)",
        ));
    }
    let mut products = Vec::new();
    for (i, (pid, cert)) in wanted.iter().enumerate() {
        let Some(p) = registry.iter().find(|p| &p.id == pid) else {
            return Err(AppError::invalid(
                format!("products[{i}].id"),
                format!("`{pid}` is not one of the organisation's cryptographic products"),
            ));
        };
        let certificate = match cert.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => {
                check_free_text(&format!("products[{i}].certificate"), c, 100)?;
                Some(c.to_owned())
            }
            None => p.evidence.get("approved_by_crypto_admin").cloned(),
        };
        let declared = matches!(
            p.facts.get("approved_by_crypto_admin"),
            Some(FactValue::Bool(true))
        );
        products.push((p.id.clone(), p.name.clone(), certificate, declared));
    }
    let checks = check_products(
        &app.store.approved_products().await?,
        &products,
        app.clock.today(),
    );
    let authority = route(
        app,
        &org,
        &obj,
        "cryptography_administration",
        "county",
        "cryptography administration (Measures art. 36)",
    )
    .await?;
    let payload = serde_json::json!({
        "algorithms": algorithms,
        "purposes": purposes,
        "products": checks,
    });
    submit(
        app,
        c,
        &org,
        id,
        (CRYPTO_FILING, authority),
        payload,
        Vec::new(),
    )
    .await
}

/// The submissions the caller's organisation is a party to: an authority's inbox, waiting
/// ones first; an operator's own.
pub async fn submissions(app: &App, c: &Caller) -> AppResult<Vec<SubmissionView>> {
    let org = app.own(c, Action::Read).await?;
    let authority = matches!(
        c.principal.org_kind,
        OrgKind::SecrecyDepartment | OrgKind::CryptographyAdministration
    );
    let mut out: Vec<SubmissionView> = app
        .store
        .submissions(&org)
        .await?
        .into_iter()
        .filter(|r| {
            if authority {
                r.authority_id == org
            } else {
                r.tenant_id == org
            }
        })
        .map(|r| {
            let may = may_decide(app, c, &r);
            view(r, may)
        })
        .collect();
    out.sort_by_key(|s| s.status != "submitted");
    Ok(out)
}

async fn party(app: &App, c: &Caller, action: Action, id: &str) -> AppResult<SubmissionRow> {
    let found = if plausible_id(id) {
        app.store.submission(c.org(), id).await
    } else {
        Err(StoreError::NotFound)
    };
    let r = match found {
        Ok(r) => r,
        // Absent whatever was asked: asking the guard for a review on the caller's own
        // organisation would answer a secrecy department "only a public security organ
        // reviews filings" about a submission it never received.
        Err(StoreError::NotFound) => return app.absent(c, Action::Read).await,
        Err(e) => return Err(e.into()),
    };
    app.authorize(
        c,
        action,
        Resource::Submission {
            operator: &r.tenant_id,
            authority: &r.authority_id,
        },
    )
    .await?;
    Ok(r)
}

pub async fn submission(app: &App, c: &Caller, id: &str) -> AppResult<SubmissionView> {
    let r = party(app, c, Action::Read, id).await?;
    let may = may_decide(app, c, &r);
    Ok(view(r, may))
}

/// The authority decides a submission, once.
pub async fn decide(
    app: &App,
    c: &Caller,
    id: &str,
    input: SubmissionDecisionInput,
) -> AppResult<SubmissionView> {
    let r = party(app, c, Action::Review, id).await?;
    if r.status != "submitted" {
        return Err(AppError::conflict(format!(
            "the submission is `{}` already",
            r.status
        )));
    }
    let reasons = note_of("reasons", input.reasons.as_deref(), 2000)?;
    let today = app.clock.today();
    let deadline = match input
        .deadline
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => None,
        Some(_) if input.decision != "reapproval_required" => {
            return Err(AppError::invalid(
                "deadline",
                "only a decision `reapproval_required` sets a time limit (Measures art. 31)",
            ));
        }
        Some(d) => {
            let d: Date = d.parse().map_err(|e: dengbao_core::ValueError| {
                AppError::invalid("deadline", e.to_string())
            })?;
            if d < today {
                return Err(AppError::invalid("deadline", "before today"));
            }
            Some(d)
        }
    };
    let purpose = serde_json::from_str::<serde_json::Value>(&r.payload)
        .ok()
        .and_then(|p| p.get("purpose").and_then(|v| v.as_str().map(str::to_owned)));
    let d = input.decision.as_str();
    let (status, needs_reasons, event) = match (r.kind.as_str(), d) {
        (SECRECY_APPLICATION, "approve") => {
            let mut ev = Event::new(today, EventType::SecrecyApproval);
            ev.note = Some(match purpose.as_deref() {
                Some("record") => "recorded by the secrecy department (Measures art. 29 ¶2)".into(),
                _ => "approved by the secrecy department (Measures art. 29 ¶2)".into(),
            });
            let status = if purpose.as_deref() == Some("record") {
                "recorded"
            } else {
                "approved"
            };
            (status, false, Some(ev))
        }
        (SECRET_CHANGE, "reapproval_required") => {
            // The operator then owes a new approval (art. 31): the engine's obligation.
            let mut ev = Event::new(today, EventType::ReapprovalRequired);
            ev.note = reasons.clone();
            ev.deadline = deadline;
            ("reapproval_required", true, Some(ev))
        }
        (SECRET_CHANGE, "no_reapproval") => ("no_reapproval", false, None),
        (CRYPTO_FILING, "accept") => {
            // Filed on the day the operator submitted it.
            let on: Date = r
                .submitted_on
                .parse()
                .map_err(|e: dengbao_core::ValueError| AppError::internal(e))?;
            (
                "filed",
                false,
                Some(Event::new(on, EventType::CryptographyUsageFiled)),
            )
        }
        (SECRECY_APPLICATION | CRYPTO_FILING, "return") => ("returned", true, None),
        (kind, _) => {
            let allowed = match kind {
                SECRECY_APPLICATION => "approve or return",
                SECRET_CHANGE => "reapproval_required or no_reapproval",
                _ => "accept or return",
            };
            return Err(AppError::invalid(
                "decision",
                format!("for a `{kind}`: {allowed} ({})", cite_of(kind)),
            ));
        }
    };
    if needs_reasons && reasons.is_none() {
        return Err(AppError::invalid(
            "reasons",
            format!("required to decide `{d}`: say why ({})", cite_of(&r.kind)),
        ));
    }
    let now = app.clock.now_ms();
    let event = event
        .map(|e| crate::reviews::event_row(c, &r.object_id, &e, now))
        .transpose()?;
    let action = format!("submission.{}.{status}", r.kind);
    app.store
        .decide_submission(
            &r,
            status,
            reasons.as_deref(),
            &today.to_string(),
            event.as_ref(),
            &c.audit(&action, &r.object_id, now),
        )
        .await?;
    app.tenants.invalidate(&r.tenant_id);
    submission(app, c, id).await
}

// ----- the approved-product list (art. 37) ----------------------------------------------

/// One of the operator's objects on a track, for its forms.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackObject {
    pub id: String,
    pub name: String,
    /// A secret-involved object: the art. 30 materials not yet in its dossier.
    pub missing: Vec<String>,
    /// An object using cryptography: its cryptographic products in use.
    pub products: Vec<String>,
}

/// The caller's objects that may be submitted on each track.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tracks {
    /// Secret-involved objects (art. 29–31).
    pub secret: Vec<TrackObject>,
    /// Objects using cryptography (art. 36).
    pub crypto: Vec<TrackObject>,
}

/// What the caller's organisation may submit: its secret-involved objects with the art. 30
/// materials they still lack, and its objects using cryptography.
pub async fn tracks(app: &App, c: &Caller) -> AppResult<Tracks> {
    let org = app.own(c, Action::Read).await?;
    let data = app.tenants.data(app, &org).await?;
    let mut t = Tracks::default();
    for obj in &data.inventory.systems {
        if obj.is_secret() {
            let materials = app.store.materials(&org, &obj.id).await?;
            let d = dossier_of(app, obj, &materials)?;
            t.secret.push(TrackObject {
                id: obj.id.clone(),
                name: obj.name.clone(),
                missing: d.missing.iter().map(|m| m.kind.to_owned()).collect(),
                products: Vec::new(),
            });
        }
        if obj.uses_cryptography {
            t.crypto.push(TrackObject {
                id: obj.id.clone(),
                name: obj.name.clone(),
                missing: Vec::new(),
                products: obj.crypto_products_in_use.clone(),
            });
        }
    }
    Ok(t)
}

/// A product to list.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ListProductInput {
    /// The approval or sales-permit certificate number (1–100 characters).
    pub certificate: String,
    pub name: String,
    pub vendor: String,
    /// The last day the approval holds, YYYY-MM-DD, after today.
    pub valid_until: String,
}

/// A listed product.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListedProduct {
    pub id: String,
    pub admin_id: String,
    pub admin: String,
    pub certificate: String,
    pub name: String,
    pub vendor: String,
    pub valid_until: String,
    pub withdrawn_on: Option<String>,
    /// Valid today: listed, not withdrawn, not expired.
    pub valid: bool,
    pub cite: &'static str,
}

fn listed_view(p: ListedProductRow, today: Date) -> ListedProduct {
    ListedProduct {
        valid: p.withdrawn_on.is_none() && p.valid_until.parse::<Date>().is_ok_and(|u| today <= u),
        id: p.id,
        admin_id: p.admin_id,
        admin: p.admin_name,
        certificate: p.certificate,
        name: p.name,
        vendor: p.vendor,
        valid_until: p.valid_until,
        withdrawn_on: p.withdrawn_on,
        cite: "Measures art. 37",
    }
}

/// The approved products of every administration: public to every signed-in party, since
/// operators check their products against it.
pub async fn product_list(app: &App, c: &Caller) -> AppResult<Vec<ListedProduct>> {
    app.own(c, Action::Read).await?;
    let today = app.clock.today();
    Ok(app
        .store
        .approved_products()
        .await?
        .into_iter()
        .map(|p| listed_view(p, today))
        .collect())
}

async fn administration(app: &App, c: &Caller) -> AppResult<String> {
    let org = app.own(c, Action::Write).await?;
    if c.principal.org_kind != OrgKind::CryptographyAdministration {
        return Err(AppError::forbidden(
            "the cryptography administration keeps the approved-product list (Measures art. 37)",
        ));
    }
    Ok(org)
}

/// The administration lists a product it approved.
pub async fn list_product(
    app: &App,
    c: &Caller,
    input: ListProductInput,
) -> AppResult<ListedProduct> {
    let org = administration(app, c).await?;
    let mut fields = Vec::new();
    for (field, v) in [
        ("certificate", &input.certificate),
        ("name", &input.name),
        ("vendor", &input.vendor),
    ] {
        let Some(v) = note_of(field, Some(v), 100)? else {
            return Err(AppError::invalid(field, "required"));
        };
        fields.push(v);
    }
    let today = app.clock.today();
    let valid_until: Date = input
        .valid_until
        .parse()
        .map_err(|e: dengbao_core::ValueError| AppError::invalid("valid_until", e.to_string()))?;
    if valid_until <= today {
        return Err(AppError::invalid("valid_until", "must be after today"));
    }
    let now = app.clock.now_ms();
    let [certificate, name, vendor] =
        <[String; 3]>::try_from(fields).map_err(|_| AppError::internal("three fields"))?;
    let row = ListedProductRow {
        id: new_id(),
        admin_id: org.clone(),
        certificate,
        name,
        vendor,
        valid_until: valid_until.to_string(),
        withdrawn_on: None,
        created_at: now,
        created_by: c.username().to_owned(),
        admin_name: String::new(),
    };
    app.store
        .list_product(&row, &c.audit("crypto_list.add", &row.id, now))
        .await?;
    let id = row.id.clone();
    app.store
        .approved_products()
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .map(|p| listed_view(p, today))
        .ok_or_else(AppError::not_found)
}

/// The administration withdraws a product from its list (entries stay, marked withdrawn).
pub async fn withdraw_product(app: &App, c: &Caller, id: &str) -> AppResult<()> {
    let org = administration(app, c).await?;
    if !plausible_id(id) {
        return Err(AppError::not_found());
    }
    let now = app.clock.now_ms();
    match app
        .store
        .withdraw_product(
            &org,
            id,
            &app.clock.today().to_string(),
            &c.audit("crypto_list.withdraw", id, now),
        )
        .await
    {
        Err(StoreError::NotFound) => Err(AppError::not_found()),
        r => Ok(r?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(cert: &str, until: &str, withdrawn: Option<&str>) -> ListedProductRow {
        ListedProductRow {
            id: cert.into(),
            admin_id: "crypto".into(),
            certificate: cert.into(),
            name: "HSM".into(),
            vendor: "v".into(),
            valid_until: until.into(),
            withdrawn_on: withdrawn.map(Into::into),
            created_at: 0,
            created_by: "x".into(),
            admin_name: "Crypto".into(),
        }
    }

    #[test]
    fn products_are_checked_against_the_lists_on_the_day() {
        let lists = [
            listed("A", "2027-01-01", None),
            listed("B", "2026-01-01", None),
            listed("C", "2027-01-01", Some("2026-06-01")),
        ];
        let today: Date = "2026-12-03".parse().unwrap();
        let p = |id: &str, cert: Option<&str>, declared| {
            (id.to_owned(), id.to_owned(), cert.map(Into::into), declared)
        };
        let got = check_products(
            &lists,
            &[
                p("a", Some("A"), true),
                p("b", Some("B"), true),
                p("c", Some("C"), false),
                p("d", Some("D"), true),
                p("e", None, false),
            ],
            today,
        );
        let table: Vec<(&str, bool)> = got
            .iter()
            .map(|c| (c.status.as_str(), c.declared_approved))
            .collect();
        assert_eq!(
            table,
            [
                ("listed", false),
                ("lapsed", true),
                ("lapsed", false),
                ("not_listed", true),
                ("no_certificate", false)
            ]
        );
        // The last day of validity still counts.
        let last = check_products(
            &lists,
            &[p("a", Some("A"), true)],
            "2027-01-01".parse().unwrap(),
        );
        assert_eq!(last[0].status, "listed");
    }
}
