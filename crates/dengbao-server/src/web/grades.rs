//! Grading approval pages (Measures art. 10): one queue for every party to a proposal —
//! the operator proposes and follows its proposals, the expert committee gives its opinion,
//! the department in charge approves or returns.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dengbao_app::Action;
use dengbao_app::grades::{self, GradeDecisionInput, OpinionInput, ProposeInput};
use dengbao_app::guard::OrgKind;
use dengbao_app::systems::{ListSystems, list_systems};

use super::{Chrome, Page, Posted, local_time, render_status};
use crate::error::ApiError;
use crate::state::AppState;

pub struct Row {
    pub id: String,
    pub object: String,
    pub object_id: String,
    pub operator: String,
    pub grade: String,
    pub status: String,
    pub status_label: String,
    pub department: String,
    pub committee: String,
    pub proposed: String,
    pub proposed_by: String,
    /// The committee's opinion: agrees (`yes`/`no`, empty before) and its text.
    pub agrees: String,
    pub opinion: String,
    pub reasons: String,
    pub decided_on: String,
    pub cite: String,
    /// What the caller may do now: `opinion`, `decide` or nothing.
    pub act: &'static str,
}

#[derive(Template)]
#[template(path = "grade_reviews.html")]
struct QueuePage {
    c: Chrome,
    rows: Vec<Row>,
    /// The operator's objects it may propose a grade for (empty for the other parties).
    objects: Vec<(String, String)>,
    /// A department in charge grades nationwide systems uniformly (art. 10 ¶2).
    department: bool,
    error: String,
}

async fn queue_page(
    state: &AppState,
    page: &Page,
    error: String,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let c = page.chrome("grades", page.cat().get("grades.title"));
    let kind = page.p.principal.org_kind;
    let items = grades::queue(state, &page.p).await?;
    let rows = items
        .into_iter()
        .map(|i| Row {
            act: match (i.may_act, i.status.as_str()) {
                (true, "awaiting_expert") => "opinion",
                (true, "awaiting_department") => "decide",
                _ => "",
            },
            status_label: c.tk("grades.status.", &i.status),
            grade: c.grade(&i.grade),
            proposed: local_time(i.proposed_at_ms),
            proposed_by: i.proposed_by,
            agrees: i
                .expert
                .as_ref()
                .map(|e| if e.agrees { "yes" } else { "no" })
                .unwrap_or_default()
                .to_owned(),
            opinion: i.expert.map(|e| e.opinion).unwrap_or_default(),
            reasons: i.reasons.unwrap_or_default(),
            decided_on: i.decided_on.unwrap_or_default(),
            cite: c.cite(&i.cite),
            department: i.department,
            committee: i.committee.unwrap_or_default(),
            id: i.id,
            object: i.object_name,
            object_id: i.object_id,
            operator: i.operator,
            status: i.status,
        })
        .collect();
    let objects = if kind == OrgKind::Operator && page.p.may(Action::Write) {
        let q = ListSystems {
            per_page: Some(200),
            ..ListSystems::default()
        };
        list_systems(state, &page.p, q)
            .await?
            .items
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect()
    } else {
        Vec::new()
    };
    Ok(render_status(
        status,
        &QueuePage {
            rows,
            objects,
            department: page.p.principal.org_kind == OrgKind::DepartmentInCharge,
            error,
            c,
        },
    ))
}

pub async fn queue(State(state): State<AppState>, page: Page) -> Response {
    queue_page(&state, &page, String::new(), StatusCode::OK)
        .await
        .unwrap_or_else(|e| page.fail(e))
}

/// After an act: back to the queue, or the queue again with what went wrong.
async fn after(state: &AppState, page: &Page, r: Result<(), ApiError>, ok: &str) -> Response {
    let done = format!("/grade-reviews?ok={ok}");
    super::after_form(page, r, &done, |detail, status| {
        queue_page(state, page, detail, status)
    })
    .await
}

pub async fn propose(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    let input = ProposeInput {
        grade: form.opt("grade"),
        department: None,
        committee: None,
    };
    let r = grades::propose(&state, &page.p, form.get("object"), input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "grades.proposed_ok").await
}

pub async fn opinion(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let input = OpinionInput {
        agrees: form.get("agrees") == "yes",
        opinion: form.get("opinion").to_owned(),
    };
    let r = grades::opinion(&state, &page.p, &id, input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "grades.opinion_ok").await
}

pub async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let input = GradeDecisionInput {
        decision: form.get("decision").to_owned(),
        reasons: form.opt("reasons"),
    };
    let r = grades::decide(&state, &page.p, &id, input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "grades.decided_ok").await
}

pub async fn uniform(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    let input = dengbao_app::grades::UniformInput {
        system: form.get("system").to_owned(),
        grade: form.get("grade").to_owned(),
        note: form.opt("note"),
    };
    let r = grades::grade_uniformly(&state, &page.p, input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "grades.uniform_ok").await
}
