//! Evaluation engagement pages (Measures art. 14, 22): the operator engages an agency for an
//! object (its eligibility shown, an override asked for when it fails); the engaged agency
//! sees its running engagements and records each evaluation with its report.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dengbao_app::Action;
use dengbao_app::engagements::{self, EngageInput, EvaluationInput, ReportFile};
use dengbao_app::guard::OrgKind;
use dengbao_app::systems::{ListSystems, list_systems};

use super::{Chrome, Page, Posted, csrf_ok, render_status};
use crate::error::ApiError;
use crate::state::AppState;

pub struct Row {
    pub id: String,
    pub object: String,
    pub object_id: String,
    pub operator: String,
    pub agency: String,
    pub from: String,
    pub until: String,
    pub active: bool,
    pub eligible: bool,
    pub not_met: String,
    pub override_reason: String,
    pub evaluated_on: String,
    pub conformity: String,
    pub may_evaluate: bool,
}

#[derive(Template)]
#[template(path = "engagements.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<Row>,
    /// The operator's form: its objects, the platform's agencies, its registry entries.
    objects: Vec<(String, String)>,
    agencies: Vec<(String, String)>,
    entries: Vec<(String, String)>,
    today: String,
    error: String,
}

async fn list_page(
    state: &AppState,
    page: &Page,
    error: String,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let c = page.chrome("engagements", page.cat().get("eng.title"));
    let rows = engagements::list(state, &page.p)
        .await?
        .into_iter()
        .map(|e| Row {
            conformity: e
                .conformity
                .map(|k| c.tk("conformity.", &k))
                .unwrap_or_default(),
            not_met: e.not_met.join(", "),
            override_reason: e.override_reason.unwrap_or_default(),
            evaluated_on: e.evaluated_on.unwrap_or_default(),
            id: e.id,
            object: e.object_name,
            object_id: e.object_id,
            operator: e.operator,
            agency: e.agency,
            from: e.from,
            until: e.until,
            active: e.active,
            eligible: e.eligible,
            may_evaluate: e.may_evaluate,
        })
        .collect();
    let operator = page.p.principal.org_kind == OrgKind::Operator && page.p.may(Action::Write);
    let (objects, agencies, entries) = if operator {
        let q = ListSystems {
            per_page: Some(200),
            ..ListSystems::default()
        };
        (
            list_systems(state, &page.p, q)
                .await?
                .items
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect(),
            engagements::agencies(state, &page.p)
                .await?
                .into_iter()
                .map(|a| (a.id, a.name))
                .collect(),
            dengbao_app::registry::list(state, &page.p, "agency")
                .await?
                .into_iter()
                .map(|e| (e.id, e.name))
                .collect(),
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    Ok(render_status(
        status,
        &ListPage {
            rows,
            objects,
            agencies,
            entries,
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

async fn after(state: &AppState, page: &Page, r: Result<(), ApiError>, ok: &str) -> Response {
    let done = format!("/engagements?ok={ok}");
    super::after_form(page, r, &done, |detail, status| {
        list_page(state, page, detail, status)
    })
    .await
}

pub async fn engage(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { page, form } = posted;
    let input = EngageInput {
        agency: form.get("agency").to_owned(),
        registry_id: form.get("registry_id").to_owned(),
        from: form.opt("from"),
        until: form.get("until").to_owned(),
        override_reason: form.opt("override_reason"),
    };
    let r = engagements::engage(&state, &page.p, form.get("object"), input)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "eng.engaged_ok").await
}

/// The evaluation form: multipart, for the report file.
pub async fn evaluate(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    mut mp: Multipart,
) -> Response {
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(e.status(), "body", e.body_text())
    };
    let (mut csrf, mut date, mut conformity, mut findings) =
        (String::new(), String::new(), String::new(), String::new());
    let mut file: Option<ReportFile> = None;
    let mut too_large = false;
    loop {
        let field = match mp.next_field().await.map_err(bad) {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return page.fail(e),
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "report" {
            let file_name = field.file_name().unwrap_or("").to_owned();
            let media_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let mut bytes = Vec::new();
            let mut field = field;
            loop {
                match field.chunk().await.map_err(bad) {
                    Ok(Some(chunk)) => {
                        if bytes.len() + chunk.len() > super::MAX_UPLOAD {
                            too_large = true;
                            break;
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => return page.fail(e),
                }
            }
            // A form sent without choosing a file has an empty part.
            if !file_name.is_empty() || !bytes.is_empty() {
                file = Some(ReportFile {
                    file_name,
                    media_type,
                    bytes,
                });
            }
        } else {
            let text = match field.text().await.map_err(bad) {
                Ok(t) => t,
                Err(e) => return page.fail(e),
            };
            match name.as_str() {
                "_csrf" => csrf = text,
                "date" => date = text.trim().to_owned(),
                "conformity" => conformity = text.trim().to_owned(),
                "findings" => findings = text,
                _ => {}
            }
        }
    }
    if !csrf_ok(&page.p, &csrf) {
        return page.fail(ApiError::forbidden(page.cat().get("err.csrf")));
    }
    if too_large {
        let detail = page.cat().get("dossier.file_too_large").to_owned();
        return list_page(&state, &page, detail, StatusCode::PAYLOAD_TOO_LARGE)
            .await
            .unwrap_or_else(|e| page.fail(e));
    }
    let input = EvaluationInput {
        date,
        conformity,
        findings: Some(findings).filter(|f| !f.trim().is_empty()),
        report: None,
    };
    let r = engagements::record(&state, &page.p, &id, input, file)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    after(&state, &page, r, "eng.evaluated_ok").await
}
