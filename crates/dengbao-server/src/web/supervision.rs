//! The supervisor's page (Measures art. 18–20, 33, 39): the objects of its area with their
//! inspection cadence and violations, an inspection (or examination) form for each, and the
//! public security organ's rectification notice.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dengbao_app::guard::OrgKind;
use dengbao_app::supervision::{self, InspectionInput, NoticeInput};

use super::{Chrome, Page, Posted, render_status};
use crate::error::ApiError;
use crate::state::AppState;

/// The matters of art. 18 ¶2, in the engine's order.
pub const MATTERS: [&str; 8] = [
    "grade_correctness",
    "management_system",
    "self_inspection_results",
    "evaluations_done",
    "products_conform",
    "rectification_status",
    "filing_matches_reality",
    "other",
];

pub struct Row {
    pub operator_id: String,
    pub operator: String,
    pub object_id: String,
    pub name: String,
    pub grade: String,
    pub division: String,
    pub status: String,
    pub status_label: String,
    pub due: String,
    pub cite: String,
    pub violations: usize,
    pub may_act: bool,
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct ListPage {
    c: Chrome,
    /// Which objects this page shows of how many (1-based), and the next page if any.
    first: i64,
    last: i64,
    total: usize,
    next: Option<i64>,
    prev: Option<i64>,
    d: dengbao_app::supervision::Dashboard,
    /// Objects by grade, with the largest count (the bars' scale).
    grades: Vec<(String, usize, usize)>,
    rows: Vec<Row>,
    /// The organ's own acts (inspection matters, rectification notices); the secrecy and
    /// cryptography authorities record examinations.
    organ: bool,
    /// The secrecy department also approves before operation.
    secrecy: bool,
    /// The kinds of information of art. 19.
    info_kinds: &'static [&'static str],
    matters: Vec<(&'static str, String)>,
    today: String,
    error: String,
}

async fn list_page(
    state: &AppState,
    page: &Page,
    error: String,
    status: StatusCode,
) -> Result<Response, ApiError> {
    list_page_at(state, page, 1, error, status).await
}

/// The objects are shown a page of this many at a time.
const PER_PAGE: i64 = 200;

async fn list_page_at(
    state: &AppState,
    page: &Page,
    at: i64,
    error: String,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let c = page.chrome("supervision", page.cat().get("sup.title"));
    let area = supervision::objects(state, &page.p, Some(at), Some(PER_PAGE)).await?;
    let (total, shown_from) = (area.total, (at - 1) * PER_PAGE);
    let rows: Vec<Row> = area
        .items
        .into_iter()
        .map(|o| Row {
            status_label: o
                .inspection_status
                .as_deref()
                .map(|s| c.tk("ob.status.", s))
                .unwrap_or_default(),
            status: o.inspection_status.unwrap_or_default(),
            due: o.inspection_due.unwrap_or_default(),
            cite: o.inspection_cite.map(|s| c.cite(&s)).unwrap_or_default(),
            grade: c.grade(&o.grade),
            division: o.division.unwrap_or_default(),
            violations: o.violations,
            may_act: o.may_act,
            operator_id: o.operator_id,
            operator: o.operator,
            object_id: o.object_id,
            name: o.name,
        })
        .collect();
    let d = supervision::dashboard(state, &page.p).await?;
    let top = d.by_grade.iter().copied().max().unwrap_or(0).max(1);
    let grades = ["I", "II", "III", "IV", "V"]
        .iter()
        .zip(d.by_grade)
        .map(|(g, n)| (c.grade(g), n, top))
        .collect();
    let matters = MATTERS
        .iter()
        .map(|m| (*m, c.tk("sup.matter.", m)))
        .collect();
    Ok(render_status(
        status,
        &ListPage {
            first: shown_from + 1,
            last: shown_from + rows.len() as i64,
            total,
            next: (shown_from + (rows.len() as i64) < total as i64).then_some(at + 1),
            prev: (at > 1).then_some(at - 1),
            d,
            grades,
            rows,
            organ: page.p.principal.org_kind == OrgKind::PublicSecurity,
            secrecy: page.p.principal.org_kind == OrgKind::SecrecyDepartment,
            info_kinds: &supervision::ART19,
            matters,
            today: state.clock.today().to_string(),
            error,
            c,
        },
    ))
}

pub async fn list(
    State(state): State<AppState>,
    page: Page,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    // A page number that is not one shows the first page.
    let at = q
        .get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    list_page_at(&state, &page, at, String::new(), StatusCode::OK)
        .await
        .unwrap_or_else(|e| page.fail(e))
}

async fn after(state: &AppState, page: &Page, r: Result<(), ApiError>, ok: &str) -> Response {
    let done = format!("/supervision?ok={ok}");
    super::after_form(page, r, &done, |detail, status| {
        list_page(state, page, detail, status)
    })
    .await
}

pub async fn inspect(
    State(state): State<AppState>,
    Path((operator, id)): Path<(String, String)>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let input = InspectionInput {
        date: form.get("date").to_owned(),
        findings: form.all("findings"),
        note: form.opt("note"),
    };
    let r = supervision::inspect(&state, &page.p, &operator, &id, input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "sup.inspected_ok").await
}

pub async fn notify(
    State(state): State<AppState>,
    Path((operator, id)): Path<(String, String)>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let input = NoticeInput {
        deadline: form.get("deadline").to_owned(),
        reasons: form.get("reasons").to_owned(),
    };
    let r = supervision::notify_rectification(&state, &page.p, &operator, &id, input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "sup.notified_ok").await
}

pub async fn approve(
    State(state): State<AppState>,
    Path((operator, id)): Path<(String, String)>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let r = supervision::approve_secret_system(&state, &page.p, &operator, &id, form.opt("note"))
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "sup.approved_ok").await
}
