//! Authentication at the HTTP edge: the session cookie, the bearer token and the CSRF header
//! are read here and handed to `dengbao_app::auth`, which decides; the log-in endpoints set
//! and clear the cookie.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dengbao_app::Caller;
use dengbao_app::auth::{
    LoginRequest, Presented, SessionView, TokenRequest, TokenView, TotpEnrolment, TotpRequest,
};

pub use dengbao_app::auth::{
    constant_time_eq, hash_password_blocking, new_totp_secret, random_token, token_hash, totp_for,
};
pub use dengbao_app::{Action, Role};

use crate::Body;
use crate::error::ApiResult;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "dengbao_session";
/// Left by a completed log-in: the account's known device, throttled on its own.
pub const DEVICE_COOKIE: &str = "dengbao_device";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in the request (RFC 6265 parsing by the `cookie` crate).
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value. Secrets are `HttpOnly` and `Secure`; the language cookie is neither.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    http_only: bool,
    same_site: cookie::SameSite,
    max_age_s: i64,
) -> HeaderValue {
    let c = cookie::Cookie::build((name, value))
        .path(path)
        .http_only(http_only)
        .secure(http_only)
        .same_site(same_site)
        .max_age(cookie::time::Duration::seconds(max_age_s))
        .build();
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// The known-device cookie (HttpOnly, Secure, SameSite=Strict, as long as the trust lasts).
pub(crate) fn device_cookie(token: &str) -> HeaderValue {
    set_cookie(
        DEVICE_COOKIE,
        token,
        "/",
        true,
        cookie::SameSite::Strict,
        dengbao_app::auth::DEVICE_MS / 1000,
    )
}

pub(crate) fn session_cookie(token: &str, max_age_s: i64) -> HeaderValue {
    // Secure + HttpOnly + SameSite=Strict: never sent cross-site, never readable by script.
    set_cookie(
        SESSION_COOKIE,
        token,
        "/",
        true,
        cookie::SameSite::Strict,
        max_age_s,
    )
}

fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The request id (set by the request-id layer, which replaced any malformed one) for audit
/// rows and ledger entries.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

/// The peer's address, when the server was started with connection info.
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Authenticates the request. `csrf_in_header` checks the CSRF token of a state-changing
/// request in its header (the API); the web pages pass `false` and check the token in the
/// form body instead ([`crate::web`]), before they act.
pub(crate) async fn authenticate(
    parts: &Parts,
    state: &AppState,
    allow_pending: bool,
    csrf_in_header: bool,
) -> ApiResult<Caller> {
    let h = &parts.headers;
    let session = cookie(h, SESSION_COOKIE);
    let presented = Presented {
        authorization: h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()),
        session: session.as_deref(),
        csrf: h.get(CSRF_HEADER).map(|v| v.as_bytes()),
        check_csrf: csrf_in_header && unsafe_method(&parts.method),
        allow_pending,
    };
    Ok(dengbao_app::auth::authenticate(&state.app, presented, &request_id(h)).await?)
}

/// An authenticated caller (second factor given, CSRF header checked on changes).
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = crate::error::ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Authed> {
        authenticate(parts, state, false, true).await.map(Authed)
    }
}

/// A session that may still be waiting for its second factor (TOTP endpoints only).
pub struct PendingSession(pub Caller);

impl FromRequestParts<AppState> for PendingSession {
    type Rejection = crate::error::ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<PendingSession> {
        let c = authenticate(parts, state, true, true).await?;
        if !matches!(c.via, dengbao_app::Via::Session { .. }) {
            return Err(crate::error::ApiError::forbidden(
                "this endpoint needs an interactive session",
            ));
        }
        Ok(PendingSession(c))
    }
}

/// The peer address of a request, for the log-in throttle.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientIp, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

// ----- handlers ------------------------------------------------------------------------------

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest, security(()),
    responses((status = 200, body = SessionView, description = "Logged in; a session cookie is set"), (status = 401, description = "Wrong username or password"), (status = 403, description = "Account locked"), (status = 429, description = "Too many attempts; see Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Body(req): Body<LoginRequest>,
) -> ApiResult<Response> {
    let device = cookie(&headers, DEVICE_COOKIE);
    let client = dengbao_app::auth::Client {
        ip,
        device: device.as_deref(),
    };
    let login = dengbao_app::auth::login(&state, req, client, &request_id(&headers)).await?;
    let mut r = Json(login.view).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(&login.session, state.config.session_absolute_ms / 1000),
    );
    if let Some(d) = login.device {
        r.headers_mut()
            .append(header::SET_COOKIE, device_cookie(&d));
    }
    Ok(r)
}

#[utoipa::path(post, path = "/api/v1/auth/totp", tag = "auth", request_body = TotpRequest,
    responses((status = 200, body = SessionView), (status = 401, description = "Wrong or reused code")))]
pub async fn totp(
    State(state): State<AppState>,
    PendingSession(c): PendingSession,
    Body(req): Body<TotpRequest>,
) -> ApiResult<Response> {
    let (view, device) = dengbao_app::auth::totp(&state, c, &req.code).await?;
    Ok(with_device(Json(view).into_response(), &device))
}

/// A response that also leaves the known-device cookie.
pub(crate) fn with_device(mut r: Response, device: &str) -> Response {
    r.headers_mut()
        .append(header::SET_COOKIE, device_cookie(device));
    r
}

#[utoipa::path(post, path = "/api/v1/auth/totp/enroll", tag = "auth", responses((status = 200, body = TotpEnrolment), (status = 409, description = "Already enrolled")))]
pub async fn totp_enroll(
    State(state): State<AppState>,
    PendingSession(c): PendingSession,
) -> ApiResult<Json<TotpEnrolment>> {
    Ok(Json(dengbao_app::auth::totp_enroll(&state, &c).await?))
}

#[utoipa::path(post, path = "/api/v1/auth/totp/confirm", tag = "auth", request_body = TotpRequest, responses((status = 200, body = SessionView), (status = 401, description = "Wrong code")))]
pub async fn totp_confirm(
    State(state): State<AppState>,
    PendingSession(c): PendingSession,
    Body(req): Body<TotpRequest>,
) -> ApiResult<Response> {
    let (view, device) = dengbao_app::auth::totp_confirm(&state, c, &req.code).await?;
    Ok(with_device(Json(view).into_response(), &device))
}

/// The response that ends a browser's session: no content, and the cookie cleared.
pub(crate) fn logged_out() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", 0));
    r
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204, description = "Logged out")))]
pub async fn logout(
    State(state): State<AppState>,
    PendingSession(c): PendingSession,
) -> ApiResult<Response> {
    dengbao_app::auth::logout(&state, &c).await?;
    Ok(logged_out())
}

#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = SessionView)))]
pub async fn me(State(state): State<AppState>, Authed(c): Authed) -> ApiResult<Json<SessionView>> {
    Ok(Json(dengbao_app::auth::session_view(&state, &c).await?))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = TokenRequest, responses((status = 201, body = TokenView)))]
pub async fn create_token(
    State(state): State<AppState>,
    Authed(c): Authed,
    Body(req): Body<TokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenView>)> {
    Ok((
        StatusCode::CREATED,
        Json(dengbao_app::auth::create_token(&state, &c, req).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "auth", responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Authed(c): Authed,
) -> ApiResult<Json<Vec<TokenView>>> {
    Ok(Json(dengbao_app::auth::list_tokens(&state, &c).await?))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "auth", params(("id" = String, Path)), responses((status = 204), (status = 404)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    dengbao_app::auth::revoke_token(&state, &c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
