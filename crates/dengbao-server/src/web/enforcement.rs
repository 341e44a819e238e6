//! The art. 40 enforcement page: every party's list (the authority's, the operator's, a
//! department informed), with the authority's warning and closing; the order to correct is
//! given from the supervision page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dengbao_app::enforcement::{self, EnforcementView, OrderInput};

use super::{Chrome, Page, Posted, render_status};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "enforcements.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<EnforcementView>,
    error: String,
}

async fn list_page(
    state: &AppState,
    page: &Page,
    error: String,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let c = page.chrome("enforcements", page.cat().get("enf.title"));
    let rows = enforcement::list(state, &page.p).await?;
    Ok(render_status(status, &ListPage { rows, error, c }))
}

pub async fn list(State(state): State<AppState>, page: Page) -> Response {
    list_page(&state, &page, String::new(), StatusCode::OK)
        .await
        .unwrap_or_else(|e| page.fail(e))
}

async fn after(
    state: &AppState,
    page: &Page,
    r: Result<(), ApiError>,
    back: &str,
    ok: &str,
) -> Response {
    let done = format!("{back}?ok={ok}");
    super::after_form(page, r, &done, |detail, status| {
        list_page(state, page, detail, status)
    })
    .await
}

/// The order to correct, from a row of the supervision page.
pub async fn order(
    State(state): State<AppState>,
    Path((operator, id)): Path<(String, String)>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let item = match form.get("item").parse::<u8>() {
        Ok(i) => i,
        Err(_) => {
            let detail = page.refusal(&ApiError::from(dengbao_app::AppError::invalid(
                "item",
                "an art. 40 item, 1–10",
            )));
            return list_page(&state, &page, detail, StatusCode::UNPROCESSABLE_ENTITY)
                .await
                .unwrap_or_else(|e| page.fail(e));
        }
    };
    let input = OrderInput {
        item,
        deadline: form.get("deadline").to_owned(),
        reasons: form.get("reasons").to_owned(),
    };
    let r = enforcement::order(&state, &page.p, &operator, &id, input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "/enforcements", "enf.ordered_ok").await
}

pub async fn warn(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let page = posted.page;
    let r = enforcement::warn(&state, &page.p, &id)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "/enforcements", "enf.warned_ok").await
}

pub async fn close(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let page = posted.page;
    let r = enforcement::close(&state, &page.p, &id)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "/enforcements", "enf.closed_ok").await
}
