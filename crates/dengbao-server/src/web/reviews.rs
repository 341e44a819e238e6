//! The public security organ's pages: the review queue with its art. 17 clocks and the acts
//! on each filing, and the public page that checks a certificate.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dengbao_app::Action;
use dengbao_app::reviews::{self, CertificateView, DecisionInput};

use super::pages::urlpath;
use super::{Chrome, Page, Posted, local_time, render, render_status};
use crate::error::ApiError;
use crate::state::AppState;

pub struct ReviewRow {
    pub id: String,
    pub object: String,
    pub object_id: String,
    pub operator: String,
    pub grade: String,
    pub status: String,
    pub status_label: String,
    pub submitted: String,
    pub received: String,
    pub due: String,
    pub overdue: bool,
    pub cite: String,
    pub certificate: String,
    pub reasons: String,
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct QueuePage {
    c: Chrome,
    rows: Vec<ReviewRow>,
    can_review: bool,
    today: String,
    error: String,
}

async fn queue_page(
    state: &AppState,
    page: &Page,
    error: String,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let c = page.chrome("reviews", page.cat().get("reviews.title"));
    let items = reviews::queue(state, &page.p).await?;
    let rows = items
        .into_iter()
        .map(|i| ReviewRow {
            status_label: c.tk("reviews.status.", &i.status),
            grade: c.grade(&i.grade),
            submitted: i.submitted_at_ms.map(local_time).unwrap_or_default(),
            received: i.received_on.unwrap_or_default(),
            due: i.due.unwrap_or_default(),
            overdue: i.overdue,
            cite: c.cite(&i.cite),
            certificate: i.certificate.unwrap_or_default(),
            reasons: i.reasons.unwrap_or_default(),
            id: i.id,
            object: i.object_name,
            object_id: i.object_id,
            operator: i.operator,
            status: i.status,
        })
        .collect();
    Ok(render_status(
        status,
        &QueuePage {
            rows,
            can_review: page.p.may(Action::Review),
            today: state.clock.today().to_string(),
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
    let done = format!("/reviews?ok={ok}");
    super::after_form(page, r, &done, |detail, status| {
        queue_page(state, page, detail, status)
    })
    .await
}

pub async fn receive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let page = posted.page;
    let r = reviews::receive(&state, &page.p, &id)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "reviews.received_ok").await
}

pub async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let Posted { page, form } = posted;
    let input = DecisionInput {
        decision: form.get("decision").to_owned(),
        reasons: form.opt("reasons"),
        deadline: form.opt("deadline"),
    };
    let r = reviews::decide(&state, &page.p, &id, input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "reviews.decided_ok").await
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage {
    c: Chrome,
    cert: CertificateView,
    issued: String,
}

/// Anyone holding a certificate checks it here, without an account.
pub async fn certificate(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(number): Path<String>,
) -> Response {
    let lang = super::lang_of(&headers);
    let here = format!("/certificates/{}", urlpath(&number));
    let mut c = super::anonymous(lang, &here);
    match reviews::certificate(&state, &number).await {
        Ok(cert) => {
            c.title = format!("{} {}", c.t("cert.title"), cert.number);
            render(&CertificatePage {
                issued: local_time(cert.issued_at_ms),
                cert,
                c,
            })
        }
        Err(e) => super::error_page(c, e.into()),
    }
}

pub struct MaterialRow {
    pub kind: String,
    pub title: String,
    pub cite: String,
    pub provided: bool,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Template)]
#[template(path = "review_dossier.html")]
struct DossierPage {
    c: Chrome,
    id: String,
    object: String,
    operator: String,
    grade: String,
    complete: bool,
    rows: Vec<MaterialRow>,
}

/// The filed object's dossier as the reviewing organ sees it: each art. 16 material, with
/// its digest and a download.
pub async fn dossier(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    let run = async {
        let item = reviews::get(&state, &page.p, &id).await?;
        let d = reviews::dossier(&state, &page.p, &id).await?;
        let c = page.chrome(
            "reviews",
            format!("{} · {}", page.cat().get("dossier.title"), item.object_name),
        );
        let rows = d
            .dossier
            .required
            .iter()
            .map(|m| {
                let file = d.materials.iter().find(|f| f.kind == m.kind);
                MaterialRow {
                    kind: m.kind.to_owned(),
                    title: c.tk("material.", m.kind),
                    cite: c.cite(m.cite),
                    provided: m.provided,
                    file_name: file.map(|f| f.file_name.clone()).unwrap_or_default(),
                    size: file.map_or(0, |f| f.size),
                    sha256: file.map(|f| f.sha256.clone()).unwrap_or_default(),
                }
            })
            .collect();
        Ok::<_, ApiError>(render(&DossierPage {
            grade: c.grade(&item.grade),
            object: format!("{} ({})", item.object_name, item.object_id),
            operator: item.operator,
            complete: d.dossier.complete,
            rows,
            id,
            c,
        }))
    };
    run.await.unwrap_or_else(|e| page.fail(e))
}

/// A file of the filed object's dossier, as a download.
pub async fn download(
    State(state): State<AppState>,
    page: Page,
    Path((id, kind)): Path<(String, String)>,
) -> Response {
    match reviews::material(&state, &page.p, &id, &kind).await {
        Ok((m, bytes)) => super::pages::attachment(&m.file_name, bytes),
        Err(e) => page.fail(e.into()),
    }
}
