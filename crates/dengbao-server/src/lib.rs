//! `dengbao-server`: the HTTP API and the web pages over it ([`web`]).
//!
//! Adapters only: a handler authenticates ([`auth::Authed`]), parses, calls one
//! `dengbao_app` use case — which authorizes through `dengbao-guard`, decides with
//! `dengbao-core` and persists with `dengbao-store` — and renders its typed result.
//! **Architecture invariant:** this is the only crate that knows HTTP; it contains no SQL
//! and makes no access decision of its own.

pub mod auth;
pub mod calendar;
pub mod dto;
pub mod engagements;
pub mod error;
pub mod grades;
pub mod idc;
pub mod ledger;
pub mod reviews;
pub mod routes;
pub mod state;
pub mod submissions;
pub mod supervision;
pub mod web;

/// Demo data and inventory import (re-exported for tests and tools that start a server).
pub use dengbao_app::import as demo;

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{FromRequest, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use state::{AppState, Config};

use crate::error::{ApiError, PROBLEM_JSON, problem_body};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY: usize = 1 << 20;

/// `application/json` or `…+json`, compared case-insensitively (RFC 9110 §8.3.1), with no
/// charset but UTF-8 (RFC 8259 §8.1).
fn json_media_type(ct: &str) -> bool {
    let mut parts = ct.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let json =
        mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"));
    json && parts.all(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        !k.trim().eq_ignore_ascii_case("charset")
            || v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
    })
}

mod strict {
    //! JSON values that refuse a key repeated in one object.
    use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Number, Value};

    pub struct Strict(pub Value);

    impl<'de> Deserialize<'de> for Strict {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
            d.deserialize_any(V)
        }
    }

    struct V;

    impl<'de> Visitor<'de> for V {
        type Value = Strict;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, b: bool) -> Result<Strict, E> {
            Ok(Strict(Value::Bool(b)))
        }
        fn visit_i64<E>(self, n: i64) -> Result<Strict, E> {
            Ok(Strict(Value::Number(n.into())))
        }
        fn visit_u64<E>(self, n: u64) -> Result<Strict, E> {
            Ok(Strict(Value::Number(n.into())))
        }
        fn visit_f64<E>(self, n: f64) -> Result<Strict, E> {
            // `5.0` is the integer 5 to JSON Schema (and to clients that only have doubles).
            const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
            if n.fract() == 0.0 && (-LIMIT..LIMIT).contains(&n) {
                return Ok(Strict(Value::Number((n as i64).into())));
            }
            Ok(Strict(
                Number::from_f64(n).map_or(Value::Null, Value::Number),
            ))
        }
        fn visit_str<E>(self, s: &str) -> Result<Strict, E> {
            Ok(Strict(Value::String(s.to_owned())))
        }
        fn visit_string<E>(self, s: String) -> Result<Strict, E> {
            Ok(Strict(Value::String(s)))
        }
        fn visit_unit<E>(self) -> Result<Strict, E> {
            Ok(Strict(Value::Null))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Strict, A::Error> {
            let mut v = Vec::new();
            while let Some(Strict(x)) = a.next_element()? {
                v.push(x);
            }
            Ok(Strict(Value::Array(v)))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Strict, A::Error> {
            let mut m = Map::new();
            while let Some(k) = a.next_key::<String>()? {
                if m.contains_key(&k) {
                    return Err(A::Error::custom(format!("duplicate key `{k}`")));
                }
                let Strict(v) = a.next_value()?;
                m.insert(k, v);
            }
            Ok(Strict(Value::Object(m)))
        }
    }
}

/// A JSON request body whose rejections are problem details naming the field.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !json_media_type(ct) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send `Content-Type: application/json` (UTF-8)",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "body", e.body_text()))?;
        // Syntax first (400), then types with the path of the failing field (422): serde_json
        // alone reports some type errors as syntax errors.
        // A repeated key is refused: a proxy that reads the first and a server that reads the
        // last would disagree about what was sent.
        let value: serde_json::Value = serde_json::from_slice::<strict::Strict>(&bytes)
            .map(|s| s.0)
            .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
        serde_path_to_error::deserialize(value)
            .map(Body)
            .map_err(|e| {
                let path = e.path().to_string();
                let msg = e.inner().to_string();
                let field = if path == "." {
                    ["missing field `", "unknown field `"]
                        .iter()
                        .find_map(|p| {
                            msg.split_once(p)
                                .and_then(|(_, r)| r.split_once('`'))
                                .map(|(f, _)| f.to_owned())
                        })
                        .unwrap_or_else(|| "(body)".to_owned())
                } else {
                    path
                };
                ApiError::invalid(field, msg)
            })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Dengbao API", version = "1", description = "Multi-Level Protection Scheme (等级保护) compliance: grading objects, obligations with citations, filing dossiers, registries. Errors are RFC 9457 problem details. Authenticate with the session cookie from `POST /api/v1/auth/login` (send `x-csrf-token` on state-changing requests) or `Authorization: Bearer <API token>`."),
    modifiers(&Security),
    tags((name = "auth"), (name = "systems"), (name = "events"), (name = "obligations"), (name = "dossier"), (name = "registry"), (name = "admin"), (name = "ledger"), (name = "reviews"), (name = "grading"), (name = "evaluations"), (name = "supervision"), (name = "submissions"), (name = "idc"))
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::SESSION_COOKIE))),
        );
        c.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // Every operation needs one or the other, unless it says `security(())` itself.
        api.security = Some(vec![
            SecurityRequirement::new("session", Vec::<String>::new()),
            SecurityRequirement::new("token", Vec::<String>::new()),
        ]);
    }
}

/// Every error the server can answer, on every operation, as a problem body: the statuses
/// raised before or around a handler (authentication, parsing, body limits, media types,
/// state conflicts) are the same for all operations of a shape, so they are added here
/// rather than listed by hand on each — a hand list is what drifted before.
fn problem_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{Operation, ParameterIn};
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let content = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build()
    };
    let c = api.components.get_or_insert_with(Default::default);
    c.schemas.insert(
        "Problem".to_owned(),
        <error::ProblemDoc as utoipa::PartialSchema>::schema(),
    );
    c.responses.insert(
        "Problem".to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description("A problem (RFC 9457): `type` names a page under /problems/, `field` the input at fault")
                .content(PROBLEM_JSON, content())
                .build(),
        ),
    );
    let public_ok = |op: &Operation| {
        op.security
            .as_ref()
            .is_some_and(|s| s.iter().any(|r| r == &SecurityRequirement::default()))
    };
    for item in api.paths.paths.values_mut() {
        let ops = [
            (&mut item.get, false),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
        ];
        for (op, write) in ops {
            let Some(op) = op.as_mut() else { continue };
            let params = op.parameters.as_deref().unwrap_or_default();
            let has_path = params
                .iter()
                .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
            let has_input = !params.is_empty() || op.request_body.is_some();
            let mut codes: Vec<&str> = Vec::new();
            if has_input {
                codes.extend(["400", "422"]);
            }
            if !public_ok(op) {
                codes.extend(["401", "403"]);
            }
            if has_path {
                codes.push("404");
            }
            if write {
                codes.push("409");
            }
            if op.request_body.is_some() {
                codes.extend(["413", "415"]);
            }
            let problem = || RefOr::Ref(Ref::new("#/components/responses/Problem"));
            for (code, r) in op.responses.responses.iter_mut() {
                // An error listed by hand keeps its description and gets the problem body.
                if let RefOr::T(r) = r
                    && code.as_str() >= "400"
                    && r.content.is_empty()
                {
                    r.content
                        .insert(PROBLEM_JSON.to_owned(), RefOr::T(content()));
                }
            }
            for code in codes {
                op.responses
                    .responses
                    .entry(code.to_owned())
                    .or_insert_with(problem);
            }
        }
    }
}

/// The API routes with their OpenAPI document.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use auth as a;
    use routes as r;
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(a::login))
        .routes(routes!(a::totp))
        .routes(routes!(a::totp_enroll))
        .routes(routes!(a::totp_confirm))
        .routes(routes!(a::logout))
        .routes(routes!(a::me))
        .routes(routes!(a::create_token, a::list_tokens))
        .routes(routes!(a::revoke_token))
        .routes(routes!(r::list_systems, r::create_system))
        .routes(routes!(r::get_system, r::update_system, r::delete_system))
        .routes(routes!(r::grade))
        .routes(routes!(r::preview))
        .routes(routes!(r::list_events, r::add_event))
        .routes(routes!(r::system_obligations))
        .routes(routes!(r::org_obligations))
        .routes(routes!(r::get_dossier))
        .routes(routes!(r::put_material, r::delete_material))
        .routes(routes!(r::submit_filing))
        .routes(routes!(r::set_in_use))
        .routes(routes!(r::list_candidates, r::create_candidate))
        .routes(routes!(
            r::get_candidate,
            r::put_candidate,
            r::delete_candidate
        ))
        .routes(routes!(r::list_users, r::create_user))
        .routes(routes!(r::disable_user))
        .routes(routes!(r::enable_user))
        .routes(routes!(r::assign_role, r::revoke_role))
        .routes(routes!(r::audit_trail))
        .routes(routes!(ledger::get_checkpoint, ledger::post_checkpoint))
        .routes(routes!(ledger::public_key))
        .routes(routes!(ledger::entries))
        .routes(routes!(ledger::proof))
        .routes(routes!(ledger::consistency))
        .routes(routes!(r::history))
        .routes(routes!(calendar::create_feed, calendar::revoke_feed))
        .routes(routes!(reviews::queue))
        .routes(routes!(reviews::get))
        .routes(routes!(reviews::dossier))
        .routes(routes!(reviews::receive))
        .routes(routes!(reviews::decide))
        .routes(routes!(reviews::certificate))
        .routes(routes!(grades::propose))
        .routes(routes!(grades::queue))
        .routes(routes!(grades::get))
        .routes(routes!(grades::opinion))
        .routes(routes!(grades::decide))
        .routes(routes!(grades::uniform))
        .routes(routes!(engagements::agencies))
        .routes(routes!(engagements::engage))
        .routes(routes!(engagements::list))
        .routes(routes!(engagements::get))
        .routes(routes!(engagements::evaluate))
        .routes(routes!(supervision::objects))
        .routes(routes!(supervision::dashboard))
        .routes(routes!(supervision::inspect))
        .routes(routes!(supervision::notify))
        .routes(routes!(supervision::approve_secret))
        .routes(routes!(supervision::order))
        .routes(routes!(supervision::enforcements))
        .routes(routes!(supervision::enforcement))
        .routes(routes!(supervision::warn))
        .routes(routes!(supervision::close))
        .routes(routes!(supervision::request_info))
        .routes(routes!(supervision::info_requests))
        .routes(routes!(supervision::info_request))
        .routes(routes!(supervision::answer_info))
        .routes(routes!(supervision::info_file))
        .routes(routes!(submissions::apply_secrecy))
        .routes(routes!(submissions::report_change))
        .routes(routes!(submissions::file_crypto))
        .routes(routes!(submissions::list))
        .routes(routes!(submissions::get))
        .routes(routes!(submissions::decide))
        .routes(routes!(
            submissions::product_list,
            submissions::list_product
        ))
        .routes(routes!(submissions::withdraw_product))
        .routes(routes!(idc::overview))
        .routes(routes!(idc::set_programme))
        .routes(routes!(idc::create_customer))
        .routes(routes!(idc::create_contract))
        .routes(routes!(idc::create_asset))
        .routes(routes!(idc::asset))
        .routes(routes!(idc::put_content))
        .routes(routes!(idc::copy))
        .routes(routes!(idc::request_destruction))
        .routes(routes!(idc::decide_destruction))
        .routes(routes!(idc::execute_destruction))
        .routes(routes!(idc::certificate))
        .routes(routes!(idc::record_incident))
        .routes(routes!(idc::regulator_report))
        .routes(routes!(idc::request_access, idc::list_access))
        .routes(routes!(idc::get_access))
        .routes(routes!(idc::access_payload))
        .routes(routes!(idc::decide_access))
        .routes(routes!(idc::answer_access))
        .routes(routes!(idc::complete_access))
        .routes(routes!(idc::set_approver_key))
        .routes(routes!(idc::access_evidence))
        .routes(routes!(idc::list_policies, idc::propose_policy))
        .routes(routes!(idc::decide_policy))
        .routes(routes!(idc::share));
    // The paths exist only now: modifiers of the derived document ran before any route.
    let (router, mut doc) = router.split_for_parts();
    problem_responses(&mut doc);
    (router, doc)
}

/// The process-wide Prometheus recorder (installed once; later calls share it).
pub fn metrics_handle() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static H: OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> = OnceLock::new();
    H.get_or_init(|| {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .ok()
    })
    .clone()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.store.ping().await.map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-ready",
            format!("database unavailable: {e}"),
        )
    })?;
    // A node over a log that no longer reproduces what it signed is not fit to serve.
    if let Some(fork) = dengbao_app::ledger::check_fork(&state).await? {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ledger-fork",
            fork,
        ));
    }
    Ok("ready")
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics",
            "metrics recorder not installed",
        )
        .into_response(),
    }
}

/// Unknown paths: a problem body for the API and for programs, a page for browsers.
async fn fallback(req: Request) -> Response {
    let browser = !req.uri().path().starts_with("/api/")
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    if browser {
        let lang = web::lang_of(req.headers());
        web::error_page(
            web::anonymous(lang, req.uri().path()),
            ApiError::not_found(),
        )
    } else {
        ApiError::not_found().into_response()
    }
}

/// Every error leaves as a problem body, including those raised before a handler runs
/// (unknown route, wrong method, body too large), with the path and request id added.
async fn problems(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let rid = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let resp = next.run(req).await;
    let status = resp.status();
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    // Pages render their own errors, in the user's language.
    if status.as_u16() < 400 || html {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let (mut parts, body) = resp.into_parts();
    let mut value = if is_problem {
        match axum::body::to_bytes(body, MAX_BODY)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        {
            Some(v) => v,
            None => problem_body(
                status,
                "error",
                status.canonical_reason().unwrap_or("error"),
            ),
        }
    } else {
        let kind = match status {
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
            _ => "error",
        };
        problem_body(status, kind, status.canonical_reason().unwrap_or("error"))
    };
    value["instance"] = serde_json::json!(path);
    if !rid.is_empty() {
        value["request_id"] = serde_json::json!(rid);
    }
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(value.to_string()))
}

/// A client's `x-request-id` is kept only if it is a short token of `[A-Za-z0-9._-]`;
/// anything else is dropped, so the request-id layer makes a fresh one. Request ids go into
/// audit rows and ledger entries: clients must not be able to plant text there.
async fn sane_request_id(mut req: Request, next: Next) -> Response {
    let ok = req.headers().get("x-request-id").is_none_or(|v| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= 64
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
    });
    if !ok {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        // Pages load only their own CSS and JS; no inline script or style, no framing.
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    r
}

async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// The whole application: API, health, metrics, OpenAPI, middleware.
pub fn app(state: AppState) -> Router {
    let (api, doc) = api();
    let doc = std::sync::Arc::new(doc);
    api.route(
        "/api/v1/openapi.json",
        get(move || async move { Json((*doc).clone()) }),
    )
    .route("/calendar/{file}", get(calendar::feed))
    .route("/problems/{slug}", get(web::problem_type))
    .merge(web::router())
    .route("/healthz", get(healthz))
    .route("/readyz", get(readyz))
    .route("/metrics", get(metrics_text))
    .fallback(fallback)
    .layer(middleware::from_fn(track))
    .layer(middleware::from_fn(security_headers))
    .layer(middleware::from_fn(problems))
    .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
    .layer(
        // One structured line per request at INFO: method, path, request id, status,
        // latency. Bodies and headers (cookies, tokens) are never logged.
        TraceLayer::new_for_http()
            .make_span_with(|req: &Request| {
                let rid = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %rid)
            })
            .on_request(())
            .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
    )
    .layer(PropagateRequestIdLayer::x_request_id())
    .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
    .layer(middleware::from_fn(sane_request_id))
    .with_state(state)
}
