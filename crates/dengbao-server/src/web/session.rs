//! Log in (password, then TOTP or its enrolment), log out, language switch.

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{
    Chrome, Fields, LANG_COOKIE, Lang, Posted, anonymous, csrf_ok, local_path, local_time, query,
    render_status, see_other,
};
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;
use dengbao_app::auth::LoginRequest;
use dengbao_app::{Caller, Via};

/// Double-submit token against login CSRF (an attacker logging a victim into the attacker's
/// account): a cookie set with the form, echoed in the form.
const LOGIN_CSRF_COOKIE: &str = "dengbao_login";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    /// `login`, `totp` or `enrol`.
    mode: &'static str,
    next: String,
    error: String,
    notice: String,
    username: String,
    form_csrf: String,
    secret: String,
    url: String,
}

impl LoginPage {
    fn new(c: Chrome, mode: &'static str, next: &str, form_csrf: String) -> LoginPage {
        LoginPage {
            c,
            mode,
            next: local_path(next).to_owned(),
            error: String::new(),
            notice: String::new(),
            username: String::new(),
            form_csrf,
            secret: String::new(),
            url: String::new(),
        }
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    expired: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

fn chrome(lang: Lang, here: &str, title_key: &str) -> Chrome {
    let mut c = anonymous(lang, here);
    c.title = c.t(title_key).to_owned();
    c
}

fn login_form(
    lang: Lang,
    next: &str,
    status: StatusCode,
    fill: impl FnOnce(&mut LoginPage),
) -> Response {
    let token = match auth::random_token() {
        Ok(t) => t,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let mut page = LoginPage::new(
        chrome(lang, "/login", "login.title"),
        "login",
        next,
        token.clone(),
    );
    fill(&mut page);
    let mut r = render_status(status, &page);
    r.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(
            LOGIN_CSRF_COOKIE,
            &token,
            "/login",
            true,
            cookie::SameSite::Strict,
            3600,
        ),
    );
    r
}

pub async fn login_page(parts: Parts, Query(q): Query<LoginQuery>) -> Response {
    let lang = super::lang_of(&parts.headers);
    let next = q.next.unwrap_or_else(|| "/".into());
    login_form(lang, &next, StatusCode::OK, |p| {
        if q.expired.is_some() {
            p.notice = p.c.t("login.expired").to_owned();
        } else if q.ok.as_deref() == Some("login.logged_out") {
            p.notice = p.c.t("login.logged_out").to_owned();
        }
    })
}

pub async fn login_post(
    State(state): State<AppState>,
    auth::ClientIp(ip): auth::ClientIp,
    parts: Parts,
    body: axum::body::Bytes,
) -> Response {
    let lang = super::lang_of(&parts.headers);
    let form = Fields::parse(&body);
    let next = local_path(form.get("next")).to_owned();
    let sent = auth::cookie(&parts.headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if sent.is_empty() || !auth::constant_time_eq(sent.as_bytes(), form.get("_csrf").as_bytes()) {
        return login_form(lang, &next, StatusCode::FORBIDDEN, |p| {
            p.error = p.c.t("err.csrf").to_owned();
        });
    }
    let username = form.get("username").to_owned();
    let password = form.raw("password");
    let req = LoginRequest {
        username: username.clone(),
        password,
    };
    let device = auth::cookie(&parts.headers, auth::DEVICE_COOKIE);
    let client = dengbao_app::auth::Client {
        ip,
        device: device.as_deref(),
    };
    match dengbao_app::auth::login(&state, req, client, &auth::request_id(&parts.headers))
        .await
        .map_err(ApiError::from)
    {
        Ok(login) => {
            let (view, token) = (login.view, login.session);
            let to = if view.totp_enrolment_required {
                format!("/login/enrol?{}", query(&[("next", &next)]))
            } else if view.mfa_required {
                format!("/login/totp?{}", query(&[("next", &next)]))
            } else {
                next
            };
            let mut r = see_other(&to);
            r.headers_mut().insert(
                header::SET_COOKIE,
                auth::session_cookie(&token, state.config.session_absolute_ms / 1000),
            );
            if let Some(d) = login.device {
                r.headers_mut()
                    .append(header::SET_COOKIE, auth::device_cookie(&d));
            }
            r
        }
        Err(e) => login_form(lang, &next, e.status, |p| {
            p.username = username;
            p.error = failure(&p.c, &e, "login.wrong");
        }),
    }
}

/// The user's words for a failed login step (lockout shows until when).
fn failure(c: &Chrome, e: &ApiError, wrong_key: &str) -> String {
    if e.kind == "account-locked" {
        let until = e.locked_until().map(local_time).unwrap_or_default();
        format!("{} {until}", c.t("login.locked"))
    } else if e.status == StatusCode::UNAUTHORIZED {
        c.t(wrong_key).to_owned()
    } else {
        format!("{} {}", c.t("err.invalid"), e.detail)
    }
}

/// A session that has passed its password but maybe not its second factor.
pub struct Pending {
    p: Caller,
    lang: Lang,
    here: String,
}

impl FromRequestParts<AppState> for Pending {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Pending, Response> {
        let lang = super::lang_of(&parts.headers);
        let here = super::here_of(parts);
        match auth::authenticate(parts, state, true, false).await {
            Ok(p) if matches!(p.via, Via::Session { .. }) => Ok(Pending { p, lang, here }),
            Ok(_) => Err(Redirect::to("/").into_response()),
            Err(e) => Err(super::to_login(lang, "/", e)),
        }
    }
}

impl Pending {
    fn csrf(&self) -> String {
        self.p.csrf().to_owned()
    }
    fn done(&self) -> bool {
        matches!(self.p.via, Via::Session { mfa_ok: true, .. })
    }
    fn page(&self, mode: &'static str, title_key: &str, next: &str) -> LoginPage {
        LoginPage::new(
            chrome(self.lang, &self.here, title_key),
            mode,
            next,
            self.csrf(),
        )
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

pub async fn totp_page(pending: Pending, Query(q): Query<NextQuery>) -> Response {
    let next = q.next.unwrap_or_else(|| "/".into());
    if pending.done() {
        return Redirect::to(local_path(&next)).into_response();
    }
    render_status(
        StatusCode::OK,
        &pending.page("totp", "login.totp_title", &next),
    )
}

/// Reads a form posted by a pending session and checks its CSRF token.
fn pending_form(pending: &Pending, body: &[u8]) -> Result<Fields, Box<Response>> {
    let form = Fields::parse(body);
    if !csrf_ok(&pending.p, form.get("_csrf")) {
        let c = chrome(pending.lang, &pending.here, "err.title");
        let msg = c.t("err.csrf").to_owned();
        return Err(Box::new(super::error_page(c, ApiError::forbidden(msg))));
    }
    Ok(form)
}

pub async fn totp_post(
    State(state): State<AppState>,
    pending: Pending,
    body: axum::body::Bytes,
) -> Response {
    let form = match pending_form(&pending, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let next = local_path(form.get("next")).to_owned();
    match dengbao_app::auth::totp(&state, pending.p.clone(), form.get("code"))
        .await
        .map_err(ApiError::from)
    {
        Ok((_, device)) => auth::with_device(see_other(&next), &device),
        Err(e) => {
            let mut page = pending.page("totp", "login.totp_title", &next);
            page.error = failure(&page.c, &e, "login.totp_wrong");
            render_status(e.status, &page)
        }
    }
}

pub async fn enrol_page(
    State(state): State<AppState>,
    pending: Pending,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = q.next.unwrap_or_else(|| "/".into());
    if pending.done() {
        return Redirect::to(local_path(&next)).into_response();
    }
    match dengbao_app::auth::totp_enroll(&state, &pending.p)
        .await
        .map_err(ApiError::from)
    {
        Ok(en) => {
            let mut page = pending.page("enrol", "login.enrol_title", &next);
            page.secret = en.secret;
            page.url = en.otpauth_url;
            render_status(StatusCode::OK, &page)
        }
        // Already enrolled: the code step.
        Err(e) if e.status == StatusCode::CONFLICT => {
            Redirect::to(&format!("/login/totp?{}", query(&[("next", &next)]))).into_response()
        }
        Err(e) => super::error_page(chrome(pending.lang, &pending.here, "err.title"), e),
    }
}

pub async fn enrol_post(
    State(state): State<AppState>,
    pending: Pending,
    body: axum::body::Bytes,
) -> Response {
    let form = match pending_form(&pending, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let next = local_path(form.get("next")).to_owned();
    match dengbao_app::auth::totp_confirm(&state, pending.p.clone(), form.get("code"))
        .await
        .map_err(ApiError::from)
    {
        Ok((_, device)) => auth::with_device(see_other(&next), &device),
        Err(e) => {
            let mut page = pending.page("enrol", "login.enrol_title", &next);
            page.secret = form.get("secret").to_owned();
            page.error = failure(&page.c, &e, "login.totp_wrong");
            render_status(e.status, &page)
        }
    }
}

pub async fn logout(State(state): State<AppState>, posted: Posted) -> Response {
    match dengbao_app::auth::logout(&state, &posted.page.p)
        .await
        .map(|()| auth::logged_out())
    {
        Ok(r) => {
            let mut to = see_other("/login?ok=login.logged_out");
            if let Some(c) = r.headers().get(header::SET_COOKIE) {
                to.headers_mut().insert(header::SET_COOKIE, c.clone());
            }
            to
        }
        Err(e) => posted.page.fail(e.into()),
    }
}

pub async fn switch_lang(Path(tag): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = Lang::parse(&tag).unwrap_or(Lang::ZhCn);
    let mut r = see_other(local_path(q.next.as_deref().unwrap_or("/")));
    // Not a secret: readable, sent on cross-site navigation, kept a year.
    r.headers_mut().insert(
        header::SET_COOKIE,
        auth::set_cookie(
            LANG_COOKIE,
            lang.tag(),
            "/",
            false,
            cookie::SameSite::Lax,
            31_536_000,
        ),
    );
    r
}
