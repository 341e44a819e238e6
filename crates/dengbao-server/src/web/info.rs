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
    /// For each open request the operator may answer: its object's dossier materials
    /// kinds, to give with the answer.
    materials: std::collections::HashMap<String, Vec<String>>,
    error: String,
}

impl ListPage {
    fn materials_of(&self, id: &str) -> &[String] {
        self.materials.get(id).map_or(&[], Vec::as_slice)
    }
}

async fn list_page(
    state: &AppState,
    page: &Page,
    error: String,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let c = page.chrome("info", page.cat().get("info.title"));
    let rows = supervision::info_requests(state, &page.p).await?;
    let mut materials = std::collections::HashMap::new();
    if c.can_write && !c.supervisor {
        for r in rows.iter().filter(|r| r.status == "open") {
            let d = dengbao_app::systems::dossier_view(state, &page.p, &r.object_id).await?;
            materials.insert(
                r.id.clone(),
                d.materials.into_iter().map(|m| m.kind).collect(),
            );
        }
    }
    Ok(render_status(
        status,
        &ListPage {
            rows,
            materials,
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
        materials: form.all("materials"),
    };
    let r = supervision::answer_info(&state, &page.p, &id, input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "info.answered_ok").await
}

/// A file an answer gave, for either party.
pub async fn file(
    State(state): State<AppState>,
    page: Page,
    Path((id, sha256)): Path<(String, String)>,
) -> Response {
    match supervision::info_file(&state, &page.p, &id, &sha256).await {
        Ok((f, bytes)) => super::attachment(&f.file_name, bytes),
        Err(e) => page.fail(e.into()),
    }
}
