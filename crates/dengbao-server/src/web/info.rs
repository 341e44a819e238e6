//! Information requests of art. 19: the supervisor's requests and answers, the operator's
//! requests to answer; the request is made from the supervision page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dengbao_app::supervision::{self, InfoAnswerInput, InfoRequestInput, InfoRequestView};

use super::{Chrome, Page, Posted, render_status};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "info_requests.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<InfoRequestView>,
    error: String,
}

async fn list_page(
    state: &AppState,
    page: &Page,
    error: String,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let c = page.chrome("info", page.cat().get("info.title"));
    let rows = supervision::info_requests(state, &page.p).await?;
    Ok(render_status(status, &ListPage { rows, error, c }))
}

pub async fn list(State(state): State<AppState>, page: Page) -> Response {
    list_page(&state, &page, String::new(), StatusCode::OK)
        .await
        .unwrap_or_else(|e| page.fail(e))
}

async fn after(state: &AppState, page: &Page, r: Result<(), ApiError>, ok: &str) -> Response {
    let done = format!("/info-requests?ok={ok}");
    super::after_form(page, r, &done, |detail, status| {
        list_page(state, page, detail, status)
    })
    .await
}

pub async fn ask(
    State(state): State<AppState>,
    Path((operator, id)): Path<(String, String)>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let input = InfoRequestInput {
        kinds: form.all("kinds"),
        due: form.get("due").to_owned(),
        note: form.opt("note"),
    };
    let r = supervision::request_info(&state, &page.p, &operator, &id, input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "info.asked_ok").await
}

pub async fn answer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let input = InfoAnswerInput {
        answer: form.get("answer").to_owned(),
    };
    let r = supervision::answer_info(&state, &page.p, &id, input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "info.answered_ok").await
}
