//! IDC customer data pages: the operator's and the customer's view of customers, contracts
//! (the responsibility matrix as a grid), assets, isolation, destructions and incidents —
//! over `dengbao_app::idc`, the API's use cases.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dengbao_app::Action;
use dengbao_app::idc::{
    self, AffectedInput, ApprovalInput, DestructionCertificateView, DestructionInput, NewAsset,
    NewCustomer, NewIncident, Overview, ProgrammeInput,
};

use super::pages::urlpath;
use super::{Chrome, Page, Posted, local_time, render, render_status, see_other};
use crate::error::ApiError;
use crate::state::AppState;

/// One cell of the responsibility matrix: which of R, A, C a party holds for a duty.
pub struct Cell {
    pub marks: String,
}

pub struct MatrixRow {
    pub duty: String,
    pub title: String,
    pub cite: String,
    pub cells: Vec<Cell>,
    pub gap: bool,
}

pub struct ContractCard {
    pub id: String,
    pub title: String,
    pub customer: String,
    pub signed_on: String,
    pub parties: Vec<String>,
    pub rows: Vec<MatrixRow>,
    pub complete: bool,
    pub findings: Vec<String>,
}

pub struct CustomerRow {
    pub name: String,
    pub sector: String,
    pub class: String,
    pub category: String,
    pub category_title: String,
    pub reason: String,
    pub approvals: u32,
    pub backups: u32,
    pub sites: u32,
    pub shared: bool,
    pub assets: usize,
}

pub struct AssetRow {
    pub id: String,
    pub name: String,
    pub customer: String,
    pub kind: String,
    pub class: String,
    pub class_id: String,
    pub personal: bool,
    pub sensitive: bool,
    pub unit: String,
    pub location: String,
    pub copies: String,
    pub fingerprint: String,
    pub active: bool,
    pub open_destruction: bool,
}

pub struct DestructionRow {
    pub id: String,
    pub asset: String,
    pub customer: String,
    pub state: String,
    pub state_label: String,
    pub approvals: usize,
    pub needed: i64,
    pub approvers: String,
    pub requested: String,
    pub requested_by: String,
    pub reason: String,
    pub certificate: String,
    pub mine: bool,
}

pub struct AccessRow {
    pub id: String,
    pub customer: String,
    pub operation: String,
    /// The operation's id (`export`, …), for the page's choices.
    pub operation_id: String,
    pub assets: String,
    /// The request's assets as (id, name), for the sharing gate's form.
    pub asset_choices: Vec<(String, String)>,
    pub justification: String,
    pub ticket: String,
    pub detail: String,
    pub requested_by: String,
    pub window: String,
    pub state: String,
    pub state_label: String,
    pub approvals: usize,
    pub needed: i64,
    pub approvers: String,
    pub break_glass: bool,
    pub review_due: String,
    pub policy: String,
    pub decisions: Vec<String>,
    pub uses: Vec<String>,
    pub shares: Vec<(String, String)>,
    pub anomalies: usize,
    pub mine: bool,
}

pub struct IncidentRow {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub severity_label: String,
    pub detected: String,
    pub notified: String,
    pub minutes: String,
    pub caused_by_idc: bool,
    pub customers: String,
}

#[derive(Template)]
#[template(path = "idc.html")]
struct IdcPage {
    c: Chrome,
    o: Overview,
    officer_cite: String,
    isolation_cite: String,
    customers: Vec<CustomerRow>,
    contracts: Vec<ContractCard>,
    assets: Vec<AssetRow>,
    destructions: Vec<DestructionRow>,
    incidents: Vec<IncidentRow>,
    access: Vec<AccessRow>,
    /// The caller's approver key custody (`platform`, `customer`), empty without one.
    key_custody: String,
    asset_ids: Vec<(String, String)>,
    isolation: Vec<(String, String)>,
    operator: bool,
    can_write: bool,
    can_approve: bool,
    customer_ids: Vec<(String, String)>,
    error: String,
}

async fn idc_page(
    state: &AppState,
    page: &Page,
    error: String,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let o = idc::overview(state, &page.p).await?;
    let c = page.chrome("idc", page.cat().get("idc.title"));
    let pack = idc::pack()?;
    let name_of = |id: &str| {
        o.customers
            .iter()
            .find(|x| x.id == id)
            .map_or_else(|| id.to_owned(), |x| x.name.clone())
    };
    let asset_name = |id: &str| {
        o.assets.iter().find(|a| a.id == id).map_or_else(
            || id.to_owned(),
            |a| {
                a.name
                    .clone()
                    .unwrap_or_else(|| format!("{} {id}", c.t("idc.destroyed_asset")))
            },
        )
    };
    let customers = o
        .customers
        .iter()
        .map(|x| CustomerRow {
            name: x.name.clone(),
            sector: x.sector.clone(),
            class: c.tk("idc.class.", &x.highest_class),
            category: x.category.id.clone(),
            category_title: c.tk("idc.category.", &x.category.id),
            reason: x.category.reason.clone(),
            approvals: x.profile.approvals_for_destruction,
            backups: x.profile.backup_copies,
            sites: x.profile.sites,
            shared: x.profile.shared_isolation_unit,
            assets: x.assets,
        })
        .collect();
    let contracts = o
        .contracts
        .iter()
        .map(|k| {
            let mut parties = vec!["customer".to_owned(), "operator".to_owned()];
            parties.extend(k.third_parties.iter().map(|t| t.id.clone()));
            let rows = pack
                .duties
                .iter()
                .map(|d| {
                    let a = k.matrix.get(&d.id);
                    let cells = parties
                        .iter()
                        .map(|p| {
                            let mut m = String::new();
                            if let Some(a) = a {
                                if a.responsible.contains(p) {
                                    m.push('R');
                                }
                                if a.accountable.as_ref() == Some(p) {
                                    m.push('A');
                                }
                                if a.consulted.contains(p) {
                                    m.push('C');
                                }
                            }
                            Cell { marks: m }
                        })
                        .collect();
                    MatrixRow {
                        title: c.tk("idc.duty.", &d.id),
                        cite: d.cite.clone(),
                        gap: k.findings.iter().any(|f| f.duty == d.id),
                        duty: d.id.clone(),
                        cells,
                    }
                })
                .collect();
            let party_names = parties
                .iter()
                .map(|p| match p.as_str() {
                    "customer" => c.t("idc.party.customer").to_owned(),
                    "operator" => c.t("idc.party.operator").to_owned(),
                    other => k
                        .third_parties
                        .iter()
                        .find(|t| t.id == other)
                        .map_or_else(|| other.to_owned(), |t| t.name.clone()),
                })
                .collect();
            ContractCard {
                id: k.id.clone(),
                title: k.title.clone(),
                customer: name_of(&k.customer),
                signed_on: k.signed_on.clone(),
                parties: party_names,
                rows,
                complete: k.complete,
                findings: k
                    .findings
                    .iter()
                    .map(|f| format!("{}: {}", c.tk("idc.duty.", &f.duty), f.problem))
                    .collect(),
            }
        })
        .collect();
    let open: Vec<&str> = o
        .destructions
        .iter()
        .filter(|d| matches!(d.state.as_str(), "requested" | "approved"))
        .map(|d| d.asset.as_str())
        .collect();
    let assets = o
        .assets
        .iter()
        .map(|a| AssetRow {
            id: a.id.clone(),
            name: a
                .name
                .clone()
                .unwrap_or_else(|| c.t("idc.destroyed_asset").to_owned()),
            customer: name_of(&a.customer),
            kind: c.tk("idc.kind.", &a.kind),
            class: c.tk("idc.class.", &a.classification),
            class_id: a.classification.clone(),
            personal: a.personal,
            sensitive: a.sensitive_personal,
            unit: a.isolation_unit.clone(),
            location: a.location.clone(),
            copies: a.copies.join(", "),
            fingerprint: a.key_fingerprint.clone().unwrap_or_default(),
            active: a.state == "active",
            open_destruction: open.contains(&a.id.as_str()),
        })
        .collect();
    let destructions = o
        .destructions
        .iter()
        .map(|d| DestructionRow {
            id: d.id.clone(),
            asset: asset_name(&d.asset),
            customer: name_of(&d.customer),
            state_label: c.tk("idc.state.", &d.state),
            state: d.state.clone(),
            approvals: d.approvals.len(),
            needed: d.approvals_needed,
            approvers: d
                .approvals
                .iter()
                .map(|a| a.user.clone())
                .collect::<Vec<_>>()
                .join(", "),
            requested: local_time(d.requested_at_ms),
            requested_by: d.requested_by.clone(),
            reason: d.reason.clone(),
            certificate: d.certificate.clone().unwrap_or_default(),
            mine: d.approvals.iter().any(|a| a.user == page.p.username()),
        })
        .collect();
    let incidents = o
        .incidents
        .iter()
        .map(|i| IncidentRow {
            id: i.id.clone(),
            title: i.title.clone(),
            severity_label: c.tk("idc.severity.", &i.severity),
            severity: i.severity.clone(),
            detected: local_time(i.detected_at_ms),
            notified: i
                .regulator_notified_at_ms
                .map(local_time)
                .unwrap_or_default(),
            minutes: i
                .detection_to_notice_ms
                .map(|ms| format!("{}", ms / 60_000))
                .unwrap_or_default(),
            caused_by_idc: i.caused_by_idc,
            customers: i
                .customers
                .iter()
                .map(|a| name_of(&a.customer))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let isolation = o
        .isolation
        .iter()
        .map(|b| {
            let names: Vec<String> = b
                .assets
                .iter()
                .map(|a| {
                    let id = a.rsplit('/').next().unwrap_or(a);
                    asset_name(id)
                })
                .collect();
            (b.isolation_unit.clone(), names.join(", "))
        })
        .collect();
    let operator = !o.customer_view;
    let access = idc_access(state, page, &c, &name_of, &asset_name).await?;
    let key_custody = if operator {
        String::new()
    } else {
        dengbao_app::access::my_key(state, &page.p)
            .await?
            .map(|k| k.custody)
            .unwrap_or_default()
    };
    let asset_ids = o
        .assets
        .iter()
        .filter(|a| a.state == "active")
        .map(|a| {
            (
                a.id.clone(),
                format!(
                    "{} — {}",
                    a.name.clone().unwrap_or_default(),
                    name_of(&a.customer)
                ),
            )
        })
        .collect();
    let page_data = IdcPage {
        officer_cite: o.programme.cited.cite.clone(),
        isolation_cite: pack
            .duty("isolation")
            .map(|d| d.cite.clone())
            .unwrap_or_default(),
        customer_ids: o
            .customers
            .iter()
            .map(|x| (x.id.clone(), x.name.clone()))
            .collect(),
        customers,
        contracts,
        assets,
        destructions,
        incidents,
        access,
        key_custody,
        asset_ids,
        isolation,
        operator,
        can_write: operator && page.p.may(Action::Write),
        // Which buttons to show; the decision that counts is the guard's when the form is sent.
        can_approve: !operator && page.p.roles().contains(&dengbao_app::Role::SecurityLead),
        error,
        o,
        c,
    };
    Ok(render_status(status, &page_data))
}

async fn idc_access(
    state: &AppState,
    page: &Page,
    c: &Chrome,
    name_of: &(dyn Fn(&str) -> String + Sync),
    asset_name: &(dyn Fn(&str) -> String + Sync),
) -> Result<Vec<AccessRow>, ApiError> {
    let list = dengbao_app::access::list(state, &page.p).await?;
    Ok(list
        .into_iter()
        .map(|r| AccessRow {
            customer: name_of(&r.customer),
            operation: c.tk("idc.op.", &r.operation),
            asset_choices: r
                .assets
                .iter()
                .map(|a| (a.clone(), asset_name(a)))
                .collect(),
            assets: r
                .assets
                .iter()
                .map(|a| asset_name(a))
                .collect::<Vec<_>>()
                .join(", "),
            justification: c.tk("idc.why.", &r.justification),
            window: format!(
                "{} – {}",
                local_time(r.window_start_ms),
                local_time(r.window_end_ms)
            ),
            state_label: c.tk("idc.access.", &r.state),
            approvals: r.approvers.len(),
            approvers: r.approvers.join(", "),
            mine: r.approvers.iter().any(|a| a == page.p.username()),
            review_due: r.review_due_ms.map(local_time).unwrap_or_default(),
            decisions: r
                .decisions
                .iter()
                .map(|d| {
                    format!(
                        "{} {} · {} · {} {}",
                        d.by,
                        c.tk("idc.decision.", &d.decision),
                        local_time(d.at_ms),
                        c.t("idc.custody"),
                        if d.verified {
                            format!("{} ✓", d.custody)
                        } else {
                            format!("{} ✗", d.custody)
                        }
                    )
                })
                .collect(),
            anomalies: r.uses.iter().filter(|u| u.anomaly.is_some()).count(),
            uses: r
                .uses
                .iter()
                .map(|u| {
                    format!(
                        "{} · {} · {} · {} #{}{}",
                        local_time(u.at_ms),
                        u.by,
                        asset_name(&u.asset),
                        u.what,
                        u.ledger_seq,
                        u.anomaly
                            .as_deref()
                            .map(|a| format!(" ⚠ {a}"))
                            .unwrap_or_default()
                    )
                })
                .collect(),
            shares: r
                .shares
                .iter()
                .map(|x| {
                    (
                        x.verdict.clone(),
                        format!(
                            "{} · {} → {} · {}",
                            local_time(x.at_ms),
                            asset_name(&x.asset),
                            x.recipient,
                            x.reason
                        ),
                    )
                })
                .collect(),
            id: r.id,
            ticket: r.ticket,
            detail: r.detail,
            requested_by: r.requested_by,
            state: r.state,
            operation_id: r.operation,
            needed: r.approvals_needed,
            break_glass: r.break_glass,
            policy: r.policy,
        })
        .collect())
}

pub async fn request_access(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    let hours = match form.opt("duration_hours").map(|h| h.trim().parse::<u32>()) {
        None => None,
        Some(Ok(h)) => Some(h),
        Some(Err(_)) => {
            let e = dengbao_app::AppError::invalid("duration_hours", "a whole number of hours");
            return after::<()>(&state, &page, Err(e), "").await;
        }
    };
    let i = dengbao_app::access::NewAccessRequest {
        customer: form.get("customer").to_owned(),
        operation: form.get("operation").to_owned(),
        assets: form.all("asset"),
        justification: form.get("justification").to_owned(),
        ticket: form.get("ticket").to_owned(),
        detail: form.get("detail").to_owned(),
        window_start_ms: None,
        duration_hours: hours,
        break_glass: form.opt("break_glass").is_some(),
    };
    let r = dengbao_app::access::request(&state, &page.p, i).await;
    after(&state, &page, r, "idc.access_requested_ok").await
}

pub async fn decide_access(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let i = dengbao_app::access::AccessDecisionInput {
        decision: form.get("decision").to_owned(),
        until_ms: None,
        signed_note: None,
    };
    let r = dengbao_app::access::decide(&state, &page.p, &id, i).await;
    after(&state, &page, r, "idc.decided_ok").await
}

pub async fn operator_access(
    State(state): State<AppState>,
    Path((id, act)): Path<(String, String)>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let r = match act.as_str() {
        "answer" => {
            let a = dengbao_app::access::AnswerInput {
                text: form.get("text").to_owned(),
            };
            dengbao_app::access::operator_act(&state, &page.p, &id, "answer", Some(a)).await
        }
        "complete" => {
            dengbao_app::access::operator_act(&state, &page.p, &id, "complete", None).await
        }
        "share" => return share(&state, &page, &id, &form).await,
        _ => Err(dengbao_app::AppError::not_found()),
    };
    after(&state, &page, r, "idc.decided_ok").await
}

/// Through the sharing gate: a release downloads the content (each download is its own
/// scanned, evaluated and recorded pass); a block comes back to the page, its reason
/// listed under the request.
async fn share(state: &AppState, page: &Page, id: &str, form: &super::Fields) -> Response {
    let i = dengbao_app::access::ShareInput {
        asset: form.get("asset").to_owned(),
        recipient: form.get("recipient").to_owned(),
        purpose: form.get("purpose").to_owned(),
        legal_basis: form.get("legal_basis").to_owned(),
        declassified: form.opt("declassified").is_some(),
        risk_assessment: form.get("risk_assessment").to_owned(),
    };
    match dengbao_app::access::share_content(state, &page.p, id, i).await {
        Ok((v, content)) => match content {
            Some(bytes) => (
                [
                    (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"export-{}.bin\"", v.asset),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                bytes.to_vec(),
            )
                .into_response(),
            None => see_other(&format!(
                "/idc?ok=idc.share_blocked_ok#access-{}",
                urlpath(id)
            )),
        },
        Err(e) => after::<()>(state, page, Err(e), "").await,
    }
}

pub async fn approver_key(State(state): State<AppState>, posted: Posted) -> Response {
    let page = posted.page;
    let r = dengbao_app::access::set_approver_key(
        &state,
        &page.p,
        dengbao_app::access::ApproverKeyInput { public_key: None },
    )
    .await;
    after(&state, &page, r, "idc.key_ok").await
}

pub async fn overview(State(state): State<AppState>, page: Page) -> Response {
    idc_page(&state, &page, String::new(), StatusCode::OK)
        .await
        .unwrap_or_else(|e| page.fail(e))
}

async fn after<T>(
    state: &AppState,
    page: &Page,
    r: Result<T, dengbao_app::AppError>,
    ok: &str,
) -> Response {
    match r.map_err(ApiError::from) {
        Ok(_) => see_other(&format!("/idc?ok={ok}")),
        Err(e)
            if matches!(
                e.status,
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT | StatusCode::FORBIDDEN
            ) =>
        {
            let detail = page.refusal(&e);
            idc_page(state, page, detail, e.status)
                .await
                .unwrap_or_else(|e| page.fail(e))
        }
        Err(e) => page.fail(e),
    }
}

pub async fn programme(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    let i = ProgrammeInput {
        officer: form.get("officer").to_owned(),
        department: form.get("department").to_owned(),
    };
    let r = idc::set_programme(&state, &page.p, i).await;
    after(&state, &page, r, "idc.programme_ok").await
}

pub async fn create_asset(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    let i = NewAsset {
        customer: form.get("customer").to_owned(),
        name: form.get("name").to_owned(),
        description: form.get("description").to_owned(),
        kind: form.get("kind").to_owned(),
        location: form.get("location").to_owned(),
        isolation_unit: form.get("isolation_unit").to_owned(),
        classification: form.get("classification").to_owned(),
        personal: form.opt("personal").is_some(),
        sensitive_personal: form.opt("sensitive_personal").is_some(),
    };
    let r = idc::create_asset(&state, &page.p, i).await;
    after(&state, &page, r, "idc.asset_ok").await
}

pub async fn create_customer(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    let mut overrides = dengbao_core::idc::ProfileOverrides::default();
    if let Some(n) = form.opt("approvals_for_destruction") {
        match n.trim().parse::<u32>() {
            Ok(n) => overrides.approvals_for_destruction = Some(n),
            Err(_) => {
                let e = dengbao_app::AppError::invalid(
                    "overrides.approvals_for_destruction",
                    "a whole number",
                );
                return after::<()>(&state, &page, Err(e), "").await;
            }
        }
    }
    let i = NewCustomer {
        name: form.get("name").to_owned(),
        sector: form.get("sector").to_owned(),
        declared_class: form.get("declared_class").to_owned(),
        overrides,
    };
    let r = idc::create_customer(&state, &page.p, i).await;
    after(&state, &page, r, "idc.customer_ok").await
}

/// `YYYY-MM-DDTHH:MM` in Beijing time (a `datetime-local` field) as epoch ms.
fn beijing_ms(s: &str) -> Option<i64> {
    let (d, t) = s.trim().split_once('T')?;
    let date: dengbao_core::Date = d.parse().ok()?;
    let (h, m) = t.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    Some(
        (i64::from(date.days_since_epoch()) * 86_400 + h * 3600 + m * 60
            - super::SHANGHAI_OFFSET_S)
            * 1000,
    )
}

pub async fn record_incident(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    let Some(detected) = beijing_ms(form.get("detected")) else {
        let e = dengbao_app::AppError::invalid("detected_at_ms", "a date and time (Beijing time)");
        return after::<()>(&state, &page, Err(e), "").await;
    };
    let i = NewIncident {
        title: form.get("title").to_owned(),
        description: form.get("description").to_owned(),
        severity: form.get("severity").to_owned(),
        caused_by_idc: form.opt("caused_by_idc").is_some(),
        detected_at_ms: detected,
        customers: form
            .all("customer")
            .into_iter()
            .map(|customer| AffectedInput {
                customer,
                assets: Vec::new(),
            })
            .collect(),
    };
    let r = idc::record_incident(&state, &page.p, i).await;
    after(&state, &page, r, "idc.incident_ok").await
}

pub async fn request_destruction(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let i = DestructionInput {
        reason: form.get("reason").to_owned(),
    };
    let r = idc::request_destruction(&state, &page.p, &id, i).await;
    after(&state, &page, r, "idc.requested_ok").await
}

pub async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let i = ApprovalInput {
        decision: form.get("decision").to_owned(),
    };
    let r = idc::decide_destruction(&state, &page.p, &id, i).await;
    after(&state, &page, r, "idc.decided_ok").await
}

pub async fn execute(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let page = posted.page;
    match idc::execute_destruction(&state, &page.p, &id).await {
        Ok(cert) => see_other(&format!("/idc/certificates/{}", urlpath(&cert.number))),
        Err(e) => after::<()>(&state, &page, Err(e), "").await,
    }
}

#[derive(Template)]
#[template(path = "idc_certificate.html")]
struct CertificatePage {
    c: Chrome,
    cert: DestructionCertificateView,
    issued: String,
}

pub async fn certificate(
    State(state): State<AppState>,
    page: Page,
    Path(number): Path<String>,
) -> Response {
    match idc::certificate(&state, &page.p, &number).await {
        Ok(cert) => {
            let c = page.chrome(
                "idc",
                format!("{} {}", page.cat().get("idc.cert.title"), cert.number),
            );
            render(&CertificatePage {
                issued: local_time(cert.issued_at_ms),
                cert,
                c,
            })
        }
        Err(e) => page.fail(e.into()),
    }
}

pub async fn report(State(state): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    match idc::regulator_report(&state, &page.p, &id).await {
        Ok((name, text)) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            text,
        )
            .into_response(),
        Err(e) => page.fail(e.into()),
    }
}
