//! The secret-involved and cryptography tracks' pages (Measures art. 26–39): the operator
//! applies to the secrecy department, reports changes and files its use of cryptography; the
//! authority decides what reached it; the cryptography administration keeps its approved
//! products, which every party reads.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dengbao_app::Action;
use dengbao_app::guard::OrgKind;
use dengbao_app::submissions::{
    self, CryptoFilingInput, ListProductInput, SecrecyApplicationInput, SecretChangeInput,
    SubmissionDecisionInput, SubmissionView, TrackObject,
};

use super::{Chrome, Page, Posted, render_status};
use crate::error::ApiError;
use crate::state::AppState;

pub struct ProductRow {
    pub name: String,
    pub certificate: String,
    pub status_label: String,
    pub tone: &'static str,
    pub listed_by: String,
}

pub struct Row {
    pub id: String,
    pub kind: String,
    pub kind_label: String,
    pub object: String,
    pub object_id: String,
    /// The other side: the authority for the operator, the operator for the authority.
    pub party: String,
    pub status: String,
    pub status_label: String,
    pub tone: &'static str,
    pub submitted_on: String,
    pub decided_on: String,
    pub reasons: String,
    /// What was submitted, in a line.
    pub summary: String,
    pub products: Vec<ProductRow>,
    pub cite: String,
    pub may_decide: bool,
    /// The decisions of this kind, value and label.
    pub options: Vec<(&'static str, String)>,
}

pub struct ListedRow {
    pub id: String,
    pub admin: String,
    pub certificate: String,
    pub name: String,
    pub vendor: String,
    pub valid_until: String,
    pub withdrawn_on: String,
    pub valid: bool,
    /// The caller's administration listed it and may withdraw it.
    pub may_withdraw: bool,
}

#[derive(Template)]
#[template(path = "submissions.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<Row>,
    /// The operator's forms: its secret-involved objects and those using cryptography.
    secret: Vec<TrackObject>,
    crypto: Vec<TrackObject>,
    operator: bool,
    listed: Vec<ListedRow>,
    /// The caller keeps an approved-product list (a cryptography administration's writer).
    keeper: bool,
    today: String,
    error: String,
}

/// The badge of a status: waiting, settled, or something for the operator to act on.
fn tone(status: &str) -> &'static str {
    match status {
        "submitted" => "b-due_soon",
        "approved" | "recorded" | "filed" | "no_reapproval" | "listed" => "b-met",
        _ => "b-overdue",
    }
}

fn options(c: &Chrome, kind: &str) -> Vec<(&'static str, String)> {
    let values: [&'static str; 2] = match kind {
        "secrecy_application" => ["approve", "return"],
        "secret_change" => ["reapproval_required", "no_reapproval"],
        _ => ["accept", "return"],
    };
    values
        .into_iter()
        .map(|v| (v, c.tk("sub.decision.", v)))
        .collect()
}

fn summary(c: &Chrome, s: &SubmissionView) -> String {
    let field = |k: &str| s.payload.get(k).and_then(|v| v.as_str()).unwrap_or("");
    match s.kind.as_str() {
        "secrecy_application" => {
            let mut out = c.tk("sub.purpose.", field("purpose"));
            if !field("note").is_empty() {
                out = format!("{out} — {}", field("note"));
            }
            out
        }
        "secret_change" => format!(
            "{} ({}): {}",
            c.tk("aspect.", field("aspect")),
            field("changed_on"),
            field("description")
        ),
        _ => {
            let algorithms = s
                .payload
                .get("algorithms")
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            format!("{algorithms} — {}", field("purposes"))
        }
    }
}

async fn list_page(
    state: &AppState,
    page: &Page,
    error: String,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let c = page.chrome("submissions", page.cat().get("sub.title"));
    let kind = page.p.principal.org_kind;
    let operator = kind == OrgKind::Operator;
    let rows = submissions::submissions(state, &page.p)
        .await?
        .into_iter()
        .map(|s| Row {
            kind_label: c.tk("sub.kind.", &s.kind),
            summary: summary(&c, &s),
            status_label: c.tk("sub.status.", &s.status),
            tone: tone(&s.status),
            party: if operator {
                s.authority.clone()
            } else {
                s.operator.clone()
            },
            products: s
                .products
                .iter()
                .map(|p| ProductRow {
                    name: p.name.clone(),
                    certificate: p.certificate.clone().unwrap_or_default(),
                    status_label: c.tk("sub.check.", &p.status),
                    tone: tone(&p.status),
                    listed_by: p.listed_by.clone().unwrap_or_default(),
                })
                .collect(),
            cite: c.cite(s.cite),
            options: options(&c, &s.kind),
            decided_on: s.decided_on.unwrap_or_default(),
            reasons: s.reasons.unwrap_or_default(),
            may_decide: s.may_decide,
            id: s.id,
            kind: s.kind,
            object: s.object_name,
            object_id: s.object_id,
            status: s.status,
            submitted_on: s.submitted_on,
        })
        .collect();
    let (secret, crypto) = if operator && page.p.may(Action::Write) {
        let t = submissions::tracks(state, &page.p).await?;
        (t.secret, t.crypto)
    } else {
        (Vec::new(), Vec::new())
    };
    let keeper = kind == OrgKind::CryptographyAdministration && page.p.may(Action::Write);
    let listed = submissions::product_list(state, &page.p)
        .await?
        .into_iter()
        .map(|p| ListedRow {
            may_withdraw: keeper && p.admin_id == page.p.org() && p.withdrawn_on.is_none(),
            withdrawn_on: p.withdrawn_on.unwrap_or_default(),
            id: p.id,
            admin: p.admin,
            certificate: p.certificate,
            name: p.name,
            vendor: p.vendor,
            valid_until: p.valid_until,
            valid: p.valid,
        })
        .collect();
    Ok(render_status(
        status,
        &ListPage {
            rows,
            secret,
            crypto,
            operator,
            listed,
            keeper,
            today: state.clock.today().to_string(),
            error,
            c,
        },
    ))
}

pub async fn list(State(state): State<AppState>, page: Page) -> Response {
    list_page(&state, &page, String::new(), StatusCode::OK)
        .await
        .unwrap_or_else(|e| page.fail(e))
}

/// After an act: back to the list, or the list again with what went wrong.
async fn after<T>(
    state: &AppState,
    page: &Page,
    r: Result<T, dengbao_app::AppError>,
    ok: &str,
) -> Response {
    let r = r.map(|_| ()).map_err(ApiError::from);
    let done = format!("/submissions?ok={ok}");
    super::after_form(page, r, &done, |detail, status| {
        list_page(state, page, detail, status)
    })
    .await
}

pub async fn apply(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    let input = SecrecyApplicationInput {
        purpose: form.get("purpose").to_owned(),
        note: form.opt("note"),
    };
    let r = submissions::apply_secrecy(&state, &page.p, form.get("object"), input).await;
    after(&state, &page, r, "sub.applied_ok").await
}

pub async fn change(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    let input = SecretChangeInput {
        aspect: form.get("aspect").to_owned(),
        changed_on: form.get("changed_on").to_owned(),
        description: form.raw("description"),
    };
    let r = submissions::report_secret_change(&state, &page.p, form.get("object"), input).await;
    after(&state, &page, r, "sub.reported_ok").await
}

pub async fn crypto(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    // One field for the algorithms, as people write them: "SM2, SM3 SM4".
    let algorithms = form
        .get("algorithms")
        .split(|ch: char| ch == ',' || ch == '，' || ch == '、' || ch.is_whitespace())
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    let input = CryptoFilingInput {
        products: Vec::new(),
        algorithms,
        purposes: form.raw("purposes"),
    };
    let r = submissions::file_cryptography(&state, &page.p, form.get("object"), input).await;
    after(&state, &page, r, "sub.filed_ok").await
}

pub async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let input = SubmissionDecisionInput {
        decision: form.get("decision").to_owned(),
        reasons: form.opt("reasons"),
        deadline: form.opt("deadline"),
    };
    let r = submissions::decide(&state, &page.p, &id, input).await;
    after(&state, &page, r, "sub.decided_ok").await
}

pub async fn add_product(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    let input = ListProductInput {
        certificate: form.get("certificate").to_owned(),
        name: form.get("name").to_owned(),
        vendor: form.get("vendor").to_owned(),
        valid_until: form.get("valid_until").to_owned(),
    };
    let r = submissions::list_product(&state, &page.p, input).await;
    after(&state, &page, r, "sub.listed_ok").await
}

pub async fn withdraw_product(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let page = posted.page;
    let r = submissions::withdraw_product(&state, &page.p, &id).await;
    after(&state, &page, r, "sub.withdrawn_ok").await
}
