//! The web interface: server-rendered pages over the same handlers as the JSON API.
//!
//! A page handler authenticates with the session cookie ([`Page`]), checks the CSRF token
//! carried in the form body ([`Posted`]), turns the form into the use case's input type and
//! calls the same `dengbao_app` function as the API — so authorization, validation, tenancy
//! and the audit/ledger entry are exactly the API's — then renders its typed result. Templates (askama) are compiled into the binary; so are the CSS and
//! JS under `assets/`, which only enhance forms that work without them.

mod enforcement;
mod engagements;
mod grades;
pub mod i18n;
mod idc;
mod info;
mod pages;
mod reviews;
mod session;
mod submissions;
mod supervision;
mod work;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use dengbao_app::{Action, Caller, Via};
pub use i18n::{Catalog, Lang};
pub use pages::attachment;

pub const LANG_COOKIE: &str = "dengbao_lang";
/// Beijing time: no daylight saving since 1991.
pub const SHANGHAI_OFFSET_S: i64 = 8 * 3600;
/// Largest dossier file accepted through the page.
pub const MAX_UPLOAD: usize = 20 << 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/login", get(session::login_page).post(session::login_post))
        .route(
            "/login/totp",
            get(session::totp_page).post(session::totp_post),
        )
        .route(
            "/login/enrol",
            get(session::enrol_page).post(session::enrol_post),
        )
        .route("/logout", post(session::logout))
        .route("/lang/{tag}", get(session::switch_lang))
        .route("/systems", get(pages::systems))
        .route("/violations", get(pages::violations))
        .route(
            "/systems/new",
            get(pages::new_system).post(pages::create_system),
        )
        .route("/systems/{id}", get(pages::system))
        .route("/systems/{id}/events", post(pages::record_event))
        .route("/systems/{id}/in-use", post(pages::set_in_use))
        .route(
            "/systems/{id}/grade",
            get(pages::wizard).post(pages::wizard_post),
        )
        .route("/systems/{id}/grade/preview", post(pages::wizard_preview))
        .route("/systems/{id}/dossier", get(pages::dossier))
        .route(
            "/systems/{id}/dossier/upload",
            post(pages::upload).layer(axum::extract::DefaultBodyLimit::max(
                MAX_UPLOAD + (64 << 10),
            )),
        )
        .route("/systems/{id}/dossier/submit", post(pages::submit))
        .route("/systems/{id}/materials/{kind}", get(pages::download))
        .route(
            "/engagements",
            get(engagements::list).post(engagements::engage),
        )
        .route("/engagements/{id}/evaluation", post(engagements::evaluate))
        .route("/supervision", get(supervision::list))
        .route("/enforcements", get(enforcement::list))
        .route("/info-requests", get(info::list))
        .route("/info-requests/{id}/answer", post(info::answer))
        .route("/info-requests/{id}/files/{sha256}", get(info::file))
        .route("/supervision/{operator}/{id}/info-request", post(info::ask))
        .route("/enforcements/{id}/warning", post(enforcement::warn))
        .route("/enforcements/{id}/close", post(enforcement::close))
        .route(
            "/supervision/{operator}/{id}/enforcement",
            post(enforcement::order),
        )
        .route(
            "/supervision/{operator}/{id}/inspection",
            post(supervision::inspect),
        )
        .route(
            "/supervision/{operator}/{id}/notice",
            post(supervision::notify),
        )
        .route(
            "/supervision/{operator}/{id}/approval",
            post(supervision::approve),
        )
        .route("/submissions", get(submissions::list))
        .route("/submissions/secrecy", post(submissions::apply))
        .route("/submissions/change", post(submissions::change))
        .route("/submissions/crypto", post(submissions::crypto))
        .route("/submissions/{id}/decision", post(submissions::decide))
        .route("/submissions/products", post(submissions::add_product))
        .route(
            "/submissions/products/{id}/withdraw",
            post(submissions::withdraw_product),
        )
        .route("/grade-reviews", get(grades::queue))
        .route("/grade-reviews/propose", post(grades::propose))
        .route("/grade-reviews/uniform", post(grades::uniform))
        .route("/grade-reviews/{id}/opinion", post(grades::opinion))
        .route("/grade-reviews/{id}/decision", post(grades::decide))
        .route("/reviews", get(reviews::queue))
        .route("/reviews/{id}/receive", post(reviews::receive))
        .route("/reviews/{id}/dossier", get(reviews::dossier))
        .route("/reviews/{id}/materials/{kind}", get(reviews::download))
        .route("/reviews/{id}/decision", post(reviews::decide))
        .route("/certificates/{number}", get(reviews::certificate))
        .route("/idc", get(idc::overview))
        .route("/idc/programme", post(idc::programme))
        .route("/idc/assets", post(idc::create_asset))
        .route("/idc/customers", post(idc::create_customer))
        .route("/idc/incidents", post(idc::record_incident))
        .route("/idc/access", post(idc::request_access))
        .route("/idc/access/{id}/decision", post(idc::decide_access))
        .route("/idc/access/{id}/{act}", post(idc::operator_access))
        .route("/idc/approver-key", post(idc::approver_key))
        .route(
            "/idc/assets/{id}/destruction",
            post(idc::request_destruction),
        )
        .route("/idc/destructions/{id}/decision", post(idc::decide))
        .route("/idc/destructions/{id}/execute", post(idc::execute))
        .route("/idc/certificates/{number}", get(idc::certificate))
        .route("/idc/incidents/{id}/report", get(idc::report))
        .route("/obligations", get(work::obligations))
        .route("/obligations/feed", post(work::feed_create))
        .route("/obligations/feed/revoke", post(work::feed_revoke))
        .route("/registry", get(work::registry))
        .route("/admin", get(work::admin))
        .route("/audit", get(work::audit))
        .route("/admin/users", post(work::admin_create_user))
        .route("/admin/users/{id}/roles", post(work::admin_assign))
        .route(
            "/admin/users/{id}/roles/{role}/revoke",
            post(work::admin_revoke),
        )
        .route("/admin/users/{id}/status", post(work::admin_status))
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
}

async fn css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    )
}

async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
    )
}

fn asset(ct: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, ct)], body).into_response()
}

// ----- the frame of every page ---------------------------------------------------------------

/// What the layout needs: language, user, navigation, CSRF token, the one-off notice.
pub struct Chrome {
    pub lang: Lang,
    pub cat: &'static Catalog,
    pub user: String,
    pub csrf: String,
    /// Path and query of this page (the language switch comes back here).
    pub here: String,
    pub nav: &'static str,
    pub title: String,
    pub flash: String,
    pub can_read: bool,
    pub can_write: bool,
    pub can_admin: bool,
    pub can_audit: bool,
    /// The caller acts for a public security organ: its work is the review queue.
    pub organ: bool,
    /// ... for a department in charge or an expert committee: its work is grade reviews.
    pub grader: bool,
    /// ... for an evaluation agency: its work is its engagements.
    pub agency: bool,
    /// ... for a supervisor (public security, secrecy, cryptography): its area's objects.
    pub supervisor: bool,
    /// ... for a secrecy department or a cryptography administration: submissions reach it.
    pub tracks: bool,
    /// The caller acts for an IDC operator or one of its customers.
    pub idc: bool,
    /// ... for an IDC customer: customer data is all it has.
    pub idc_customer: bool,
}

impl Chrome {
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.cat.get(key)
    }
    /// A message looked up by a key made of a prefix and a value (`ob.kind.` + `record_filing`).
    pub fn tk(&self, prefix: &str, id: &str) -> String {
        let key = format!("{prefix}{id}");
        if self.cat.has(&key) {
            self.cat.get(&key).to_owned()
        } else {
            id.to_owned()
        }
    }
    /// A citation in the reader's language: `Measures art. 15 ¶1` → `《信息安全等级保护管理办法》第十五条第一款`.
    pub fn cite(&self, s: &str) -> String {
        match self.lang {
            Lang::ZhCn => i18n::cite_zh(s),
            Lang::En => s.to_owned(),
        }
    }
    /// An eligibility criterion's text: the rule pack's own in English; the catalog's in
    /// Chinese where it has one (a user overlay's own criteria keep their pack text).
    pub fn criterion(&self, category: &str, id: &str, pack_text: &str) -> String {
        let key = format!("criterion.{category}.{id}");
        match self.lang {
            Lang::ZhCn if self.cat.has(&key) => self.cat.get(&key).to_owned(),
            _ => pack_text.to_owned(),
        }
    }
    /// `III` → 第三级 / Grade III.
    pub fn grade(&self, roman: &str) -> String {
        match roman_number(roman) {
            Some(n) => self.tk("grade.", &n.to_string()),
            None => roman.to_owned(),
        }
    }
    pub fn lang_url(&self) -> String {
        format!(
            "/lang/{}?{}",
            self.lang.other().tag(),
            query(&[("next", &self.here)])
        )
    }
}

pub fn roman_number(g: &str) -> Option<u8> {
    ["I", "II", "III", "IV", "V"]
        .iter()
        .position(|r| *r == g)
        .map(|i| i as u8 + 1)
}

pub fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// `YYYY-MM-DD HH:MM` in Beijing time.
pub fn local_time(ms: i64) -> String {
    let s = ms.div_euclid(1000) + SHANGHAI_OFFSET_S;
    let d = dengbao_core::Date::from_unix_seconds(s, 0);
    let sod = s.rem_euclid(86_400);
    format!("{d} {:02}:{:02}", sod / 3600, sod % 3600 / 60)
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    auth::cookie(headers, LANG_COOKIE)
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(Lang::ZhCn)
}

fn here_of(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned())
}

/// A `next` target that stays on this site (no open redirect).
pub fn local_path(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

/// The notice named by `?ok=<key>` after a redirect; only catalog keys are shown.
fn flash_of(cat: &Catalog, parts: &Parts) -> String {
    parts
        .uri
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .and_then(|v| v.into_iter().find(|(k, _)| k == "ok").map(|(_, v)| v))
        .filter(|k| cat.has(k))
        .map(|k| cat.get(&k).to_owned())
        .unwrap_or_default()
}

// ----- extractors ----------------------------------------------------------------------------

/// A signed-in caller of a page, with the frame data. Not signed in (or expired) → the login
/// page, coming back here afterwards.
pub struct Page {
    pub p: Caller,
    pub lang: Lang,
    pub here: String,
    pub flash: String,
    pub headers: HeaderMap,
}

impl Page {
    pub fn cat(&self) -> &'static Catalog {
        self.lang.catalog()
    }
    pub fn chrome(&self, nav: &'static str, title: impl Into<String>) -> Chrome {
        let csrf = self.p.csrf().to_owned();
        Chrome {
            lang: self.lang,
            cat: self.cat(),
            user: self.p.username().to_owned(),
            csrf,
            here: self.here.clone(),
            nav,
            title: title.into(),
            flash: self.flash.clone(),
            can_read: self.p.may(Action::Read),
            can_write: self.p.may(Action::Write),
            can_admin: self.p.may(Action::ListAccounts),
            can_audit: self.p.may(Action::ReadAudit),
            organ: self.p.principal.org_kind == dengbao_app::guard::OrgKind::PublicSecurity,
            grader: matches!(
                self.p.principal.org_kind,
                dengbao_app::guard::OrgKind::DepartmentInCharge
                    | dengbao_app::guard::OrgKind::ExpertCommittee
            ),
            agency: self.p.principal.org_kind == dengbao_app::guard::OrgKind::EvaluationAgency,
            supervisor: self.p.principal.org_kind.supervises_area(),
            tracks: matches!(
                self.p.principal.org_kind,
                dengbao_app::guard::OrgKind::SecrecyDepartment
                    | dengbao_app::guard::OrgKind::CryptographyAdministration
            ),
            idc: matches!(
                self.p.principal.org_kind,
                dengbao_app::guard::OrgKind::IdcOperator | dengbao_app::guard::OrgKind::IdcCustomer
            ),
            idc_customer: self.p.principal.org_kind == dengbao_app::guard::OrgKind::IdcCustomer,
        }
    }
    /// A refused form's message for the page: the rule, and the field when there is one.
    pub fn refusal(&self, e: &ApiError) -> String {
        let invalid = self.cat().get("err.invalid");
        match &e.field {
            Some(f) => format!("{invalid} {f}: {}", e.detail),
            None => format!("{invalid} {}", e.detail),
        }
    }
    /// Whether the caller's roles allow `action` here — for showing a form at all; the use
    /// case asks the guard again when the form is sent.
    pub fn require(&self, action: Action) -> ApiResult<()> {
        self.p.principal.check(action).map_err(ApiError::forbidden)
    }
    /// After a POST that changed something: on to `to` (303), or the error as a page.
    pub fn after<T, E: Into<ApiError>>(&self, r: Result<T, E>, to: &str) -> Response {
        match r {
            Ok(_) => see_other(to),
            Err(e) => self.fail(e.into()),
        }
    }
    /// An error as a page in the caller's language.
    pub fn fail(&self, e: ApiError) -> Response {
        let c = self.chrome("", self.cat().get("err.title"));
        error_page(c, e)
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Page, Response> {
        let lang = lang_of(&parts.headers);
        let here = here_of(parts);
        match auth::authenticate(parts, state, false, false).await {
            Ok(p) => Ok(Page {
                p,
                lang,
                flash: flash_of(lang.catalog(), parts),
                here,
                headers: parts.headers.clone(),
            }),
            Err(e) => Err(to_login(lang, &here, e)),
        }
    }
}

/// Where an authentication failure sends a browser.
fn to_login(lang: Lang, here: &str, e: ApiError) -> Response {
    if e.status != StatusCode::UNAUTHORIZED {
        return error_page(anonymous(lang, here), e);
    }
    let next = if here.starts_with("/login") {
        "/"
    } else {
        here
    };
    match e.reason() {
        Some("mfa_required") => {
            Redirect::to(&format!("/login/totp?{}", query(&[("next", next)]))).into_response()
        }
        Some("session_expired") => Redirect::to(&format!(
            "/login?{}",
            query(&[("next", next), ("expired", "1")])
        ))
        .into_response(),
        _ => Redirect::to(&format!("/login?{}", query(&[("next", next)]))).into_response(),
    }
}

/// The frame for pages shown before signing in.
pub fn anonymous(lang: Lang, here: &str) -> Chrome {
    let cat = lang.catalog();
    Chrome {
        lang,
        cat,
        user: String::new(),
        csrf: String::new(),
        here: here.to_owned(),
        nav: "",
        title: cat.get("err.title").to_owned(),
        flash: String::new(),
        can_read: false,
        can_write: false,
        can_admin: false,
        can_audit: false,
        organ: false,
        grader: false,
        agency: false,
        supervisor: false,
        tracks: false,
        idc: false,
        idc_customer: false,
    }
}

/// After a form's act: on to `done` when it worked; a refusal (422, 409) shows the page
/// again (`again`, with the rule's words and the status); anything else is the error page.
pub async fn after_form<F, Fut>(
    page: &Page,
    r: Result<(), ApiError>,
    done: &str,
    again: F,
) -> Response
where
    F: FnOnce(String, StatusCode) -> Fut,
    Fut: std::future::Future<Output = Result<Response, ApiError>>,
{
    match r {
        Ok(()) => see_other(done),
        Err(e)
            if matches!(
                e.status,
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT
            ) =>
        {
            let detail = page.refusal(&e);
            again(detail, e.status)
                .await
                .unwrap_or_else(|e| page.fail(e))
        }
        Err(e) => page.fail(e),
    }
}

/// Form fields as sent (repeated names kept, in order).
#[derive(Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }
    /// The trimmed value of `name` ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }
    /// The value of `name` exactly as sent (passwords: spaces may be part of them).
    pub fn raw(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    /// Every value sent under `name` (checkbox groups), trimmed, empty ones dropped.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }
}

/// A posted form from a signed-in caller whose CSRF token (`_csrf`) matched.
pub struct Posted {
    pub page: Page,
    pub form: Fields,
}

/// Checks the CSRF token sent with a form against the session's.
pub fn csrf_ok(p: &Caller, sent: &str) -> bool {
    match &p.via {
        Via::Session { csrf, .. } => auth::constant_time_eq(sent.as_bytes(), csrf.as_bytes()),
        // A bearer token is not ambient authority: a browser cannot be tricked into sending it.
        Via::Token { .. } => true,
    }
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Posted, Response> {
        let (mut parts, body) = req.into_parts();
        let page = Page::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| page.fail(ApiError::new(e.status(), "body", e.body_text())))?;
        let form = Fields::parse(&bytes);
        if !csrf_ok(&page.p, form.get("_csrf")) {
            let msg = page.cat().get("err.csrf").to_owned();
            return Err(page.fail(ApiError::forbidden(msg)));
        }
        Ok(Posted { page, form })
    }
}

// ----- rendering -----------------------------------------------------------------------------

pub fn render<T: Template>(t: &T) -> Response {
    render_status(StatusCode::OK, t)
}

pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// After a successful POST: back to a page (303, so a reload does not post again).
pub fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    status: u16,
    message: String,
    detail: String,
}

/// The error as a page: the catalog's words for the status, the rule's own detail below.
pub fn error_page(mut c: Chrome, e: ApiError) -> Response {
    let key = match e.status {
        StatusCode::FORBIDDEN => "err.forbidden",
        StatusCode::NOT_FOUND => "err.not_found",
        StatusCode::CONFLICT => "err.conflict",
        s if s.is_server_error() => "err.internal",
        _ => "err.invalid",
    };
    c.title = c.t("err.title").to_owned();
    let message = c.t(key).to_owned();
    let detail = if e.status.is_server_error() {
        String::new()
    } else {
        match &e.field {
            Some(f) => format!("{f}: {}", e.detail),
            None => e.detail.clone(),
        }
    };
    render_status(
        e.status,
        &ErrorPage {
            status: e.status.as_u16(),
            c,
            message,
            detail,
        },
    )
}

/// What each problem `type` (`/problems/<slug>`) means: English, Chinese.
const PROBLEMS: &[(&str, &str, &str)] = &[
    (
        "bad-request",
        "The request could not be read: malformed JSON (a repeated key included) or a malformed parameter.",
        "请求无法解析：JSON 格式错误（包括重复的键）或参数格式错误。",
    ),
    (
        "validation",
        "The request was read but breaks a rule; `field` names the field and `detail` the rule.",
        "请求可以解析，但违反了规则；`field` 指出字段，`detail` 说明规则。",
    ),
    (
        "unauthorized",
        "Not logged in, the session expired, or the user name or password is wrong.",
        "未登录、会话已过期，或用户名、密码错误。",
    ),
    (
        "forbidden",
        "Logged in, but your roles do not allow this; `detail` names the rule (for example 三员分立).",
        "已登录，但您的角色不允许此操作；`detail` 说明依据的规则（例如三员分立）。",
    ),
    (
        "account-locked",
        "Too many failed attempts: the account is locked until `locked_until_ms`.",
        "失败次数过多，账户锁定至 `locked_until_ms`。",
    ),
    (
        "not-found",
        "No such resource — or one you have no relation to, which looks the same.",
        "资源不存在——或者您与其没有关联关系，两者看起来相同。",
    ),
    (
        "method-not-allowed",
        "The path exists but not with this method.",
        "路径存在，但不支持该请求方法。",
    ),
    (
        "conflict",
        "It already exists, is in use, or is not in the state the action needs.",
        "已存在、正在使用，或不处于该操作所需的状态。",
    ),
    (
        "stale-write",
        "The record changed since you read it: reload, then send the `current_version`.",
        "记录在您读取后已被修改：请重新读取，并提交 `current_version`。",
    ),
    (
        "unsupported-media-type",
        "Send `Content-Type: application/json` in UTF-8.",
        "请以 UTF-8 发送 `Content-Type: application/json`。",
    ),
    ("body", "The body could not be read.", "请求体无法读取。"),
    (
        "body-too-large",
        "The body is larger than the server accepts.",
        "请求体超过服务器接受的大小。",
    ),
    (
        "too-many-requests",
        "Too many attempts: wait the seconds in `Retry-After`.",
        "尝试次数过多：请等待 `Retry-After` 所示的秒数。",
    ),
    (
        "not-ready",
        "The server cannot serve now (its database is unavailable).",
        "服务器暂时无法提供服务（数据库不可用）。",
    ),
    (
        "internal",
        "The server failed; it has logged the cause. Nothing you sent was wrong.",
        "服务器内部错误，已记录原因；并非您的请求有误。",
    ),
    (
        "metrics",
        "The metrics recorder is not installed on this server.",
        "本服务器未启用指标记录。",
    ),
    (
        "error",
        "An error without a more specific type.",
        "没有更具体类型的错误。",
    ),
];

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    c: Chrome,
    slug: String,
    text: String,
}

/// `GET /problems/<slug>`: what a problem type means, so every `type` in a problem body
/// resolves (RFC 9457 §3.1.1).
pub async fn problem_type(
    headers: HeaderMap,
    axum::extract::Path(slug): axum::extract::Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    let mut c = anonymous(lang, &format!("/problems/{slug}"));
    match PROBLEMS.iter().find(|(s, _, _)| *s == slug) {
        Some((s, en, zh)) => {
            c.title = format!("/problems/{s}");
            render(&ProblemPage {
                slug: (*s).to_owned(),
                text: (if lang == Lang::En { *en } else { *zh }).to_owned(),
                c,
            })
        }
        None => error_page(c, ApiError::not_found()),
    }
}

/// Field errors of a form, shown next to each field.
#[derive(Default)]
pub struct Errs(pub Vec<(String, String)>);

impl Errs {
    pub fn of(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map_or("", |(_, m)| m.as_str())
    }
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
    pub fn add(&mut self, field: &str, msg: impl Into<String>) {
        self.0.push((field.to_owned(), msg.into()));
    }
    /// An API error as a field error when it names one of `fields`, in the user's words
    /// with the rule's detail; anything else is not a form error.
    pub fn from_api(cat: &Catalog, e: ApiError, fields: &[&str]) -> Result<Errs, ApiError> {
        let Some(f) = e.field.clone() else {
            return Err(e);
        };
        let hit = fields.iter().find(|k| {
            f == **k || f.starts_with(&format!("{k}.")) || f.starts_with(&format!("{k}["))
        });
        match hit {
            Some(k) => {
                let mut errs = Errs::default();
                errs.add(k, format!("{} {}", cat.get("err.invalid"), e.detail));
                Ok(errs)
            }
            None => Err(e),
        }
    }
}
