//! The web pages without a browser: message catalogs, redirects, CSRF on forms, headers.
//! (The browser journey is in `browser.rs`.)

use std::collections::BTreeSet;
use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use dengbao_core::RulePack;
use dengbao_server::web::Lang;
use dengbao_server::web::i18n::dynamic_keys;
use dengbao_server::{AppState, Config};

use crate::harness::sqlite;

fn keys(lang: Lang) -> BTreeSet<String> {
    let table: toml::Table = toml::from_str(lang.source()).unwrap();
    for (k, v) in &table {
        let text = v
            .as_str()
            .unwrap_or_else(|| panic!("{}: {k} is not text", lang.tag()));
        assert!(!text.trim().is_empty(), "{}: {k} is empty", lang.tag());
    }
    table.keys().cloned().collect()
}

#[test]
fn catalogs_have_the_same_keys() {
    let zh = keys(Lang::ZhCn);
    let en = keys(Lang::En);
    let only_zh: Vec<_> = zh.difference(&en).collect();
    let only_en: Vec<_> = en.difference(&zh).collect();
    assert!(
        only_zh.is_empty() && only_en.is_empty(),
        "only in zh-CN: {only_zh:?}; only in en: {only_en:?}"
    );
    assert!(zh.len() > 250);
}

/// Keys written literally as `t("…")` or `get("…")` in templates and page code.
fn literal_keys(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for opener in ["t(\"", "get(\""] {
        let mut rest = text;
        while let Some(i) = rest.find(opener) {
            rest = &rest[i + opener.len()..];
            let Some(end) = rest.find('"') else { break };
            let key = &rest[..end];
            // Catalog keys are dotted lower-case words; form fields (`get("id")`) are not.
            if key.contains('.')
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
            {
                out.push(key.to_owned());
            }
        }
    }
    out
}

#[test]
fn every_key_the_pages_use_is_in_every_catalog() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut used = Vec::new();
    for dir in ["templates", "src/web"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            used.extend(literal_keys(&text).into_iter().map(|k| (k, path.clone())));
        }
    }
    assert!(used.len() > 150, "the scan found the templates' keys");
    let pack = RulePack::baseline().unwrap();
    let dynamic = dynamic_keys(&pack);
    assert!(dynamic.len() > 70);
    for lang in Lang::ALL {
        let cat = keys(lang);
        for (k, path) in &used {
            assert!(
                cat.contains(k),
                "{}: `{k}` (used in {}) is missing",
                lang.tag(),
                path.display()
            );
        }
        for k in &dynamic {
            assert!(
                cat.contains(k),
                "{}: `{k}` (built from data) is missing",
                lang.tag()
            );
        }
    }
}

async fn state() -> AppState {
    crate::harness::state(
        sqlite("web").await,
        Config::default(),
        RulePack::baseline().unwrap(),
    )
}

async fn send(state: &AppState, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let (status, headers, body) = crate::harness::send(state, req).await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn pages_redirect_to_login_and_back() {
    let s = state().await;
    let (status, h, _) = send(&s, get("/systems?grade=III")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], "/login?next=%2Fsystems%3Fgrade%3DIII");
    // An unknown session counts as expired, not as a server error.
    let (status, h, _) = send(
        &s,
        Request::get("/")
            .header(header::COOKIE, "dengbao_session=forged")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        h[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login?next=%2F")
    );
}

#[tokio::test]
async fn login_form_needs_its_own_csrf_token() {
    let s = state().await;
    let (status, h, html) = send(&s, get("/login")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"zh-CN\">"));
    let cookie = h[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    // Posted without the token (a cross-site form would be): refused before any password check.
    let (status, _, html) = send(
        &s,
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("username=lead&password=x&_csrf=guess"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("CSRF"));
}

#[tokio::test]
async fn language_switch_stays_on_this_site() {
    let s = state().await;
    for (next, to) in [
        ("/systems?page=2", "/systems?page=2"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ] {
        let q = serde_urlencoded::to_string([("next", next)]).unwrap();
        let (status, h, _) = send(&s, get(&format!("/lang/en?{q}"))).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(h[header::LOCATION], to, "next={next}");
        assert!(
            h[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .starts_with("dengbao_lang=en;")
        );
    }
    // The login page then speaks English.
    let (_, _, html) = send(
        &s,
        Request::get("/login")
            .header(header::COOKIE, "dengbao_lang=en")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(html.contains("<html lang=\"en\">") && html.contains("Log in"));
}

#[tokio::test]
async fn assets_are_served_by_the_binary_under_a_strict_policy() {
    let s = state().await;
    for (path, ct) in [
        ("/assets/app.css", "text/css"),
        ("/assets/app.js", "text/javascript"),
    ] {
        let (status, h, body) = send(&s, get(path)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with(ct));
        assert!(body.len() > 500);
    }
    let (_, h, html) = send(&s, get("/login")).await;
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline code"
    );
}

/// Logs in through the JSON API; the pages take the same session.
async fn session_of(s: &AppState, user: &str, password: &str) -> (String, String) {
    let body = serde_json::json!({ "username": user, "password": password }).to_string();
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, headers, bytes) = crate::harness::send(s, req).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    (cookie, v["csrf_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn pages_never_show_another_organisations_objects() {
    let s = state().await;
    let (pack, inv) = crate::harness::example();
    dengbao_server::demo::seed(&s.vault, &pack, &inv, 1_700_000_000_000)
        .await
        .unwrap();
    let pages = [
        "/systems/pay-core",
        "/systems/pay-core/grade",
        "/systems/pay-core/dossier",
        "/systems/pay-core/materials/topology",
    ];
    // The owner sees them (so the refusals below are about tenancy, not a broken page) —
    // the material too: the import keeps a record of it that downloads.
    let (cookie, _) = session_of(&s, "lead", "Dengbao#2026-1").await;
    for p in pages {
        let (status, _, html) = send(
            &s,
            Request::get(p)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{p}");
        assert!(html.contains("Payment core"), "{p}");
    }
    let (cookie, csrf) = session_of(&s, "hospital-lead", "Dengbao#2026-1").await;
    for p in pages {
        let (status, _, html) = send(
            &s,
            Request::get(p)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{p}");
        assert!(!html.contains("Payment core"), "{p} leaks the name");
    }
    for (p, form) in [
        (
            "/systems/pay-core/grade",
            "action=save&version=1&s.national_security=damage&g.national_security=damage",
        ),
        (
            "/systems/pay-core/grade/preview",
            "s.national_security=damage&g.national_security=damage",
        ),
        ("/systems/pay-core/dossier/submit", ""),
    ] {
        let (status, _, html) = send(
            &s,
            Request::post(p)
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("_csrf={csrf}&{form}")))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{p}");
        assert!(!html.contains("Payment core"), "{p} leaks the name");
    }
    let (status, _, html) = send(
        &s,
        Request::get("/systems")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("/systems/h-pay-core"),
        "its own objects are listed"
    );
    assert!(!html.contains("\"/systems/pay-core\""), "{html}");
}

/// Posts the login form the way a browser does: the form's token with its cookie.
async fn form_login(s: &AppState, user: &str, password: &str) -> (StatusCode, String) {
    let (_, h, html) = send(s, get("/login")).await;
    let cookie = h[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let body = serde_urlencoded::to_string([
        ("_csrf", token.as_str()),
        ("username", user),
        ("password", password),
        ("next", "/"),
    ])
    .unwrap();
    let (status, _, html) = send(
        s,
        Request::post("/login")
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    (status, html)
}

#[tokio::test]
async fn login_page_tells_wrong_password_lockout_and_expiry_apart() {
    let s = state().await;
    let pack = RulePack::baseline().unwrap();
    let inv = dengbao_core::model::Inventory::default();
    dengbao_server::demo::seed(&s.vault, &pack, &inv, 1_700_000_000_000)
        .await
        .unwrap();
    let (status, _) = form_login(&s, "lead", "Dengbao#2026-1").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the right password logs in");
    for _ in 0..4 {
        let (status, html) = form_login(&s, "lead", "not the password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(html.contains("用户名或密码错误。"));
    }
    let (status, html) = form_login(&s, "lead", "not the password").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("失败次数过多，账户已锁定至"), "{html}");
    // Locked: even the right password is refused, with the same message.
    let (status, html) = form_login(&s, "lead", "Dengbao#2026-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("账户已锁定"));
    // Each attempt is a security event in the ledger, durable before the page answered.
    let lead = s.store.user_by_username("lead").await.unwrap();
    let actions: Vec<String> = s
        .store
        .ledger_entries_about(&lead.tenant_id, &lead.id)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(&r.entry).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        actions,
        [
            "auth.login",
            "auth.login_failed",
            "auth.login_failed",
            "auth.login_failed",
            "auth.login_failed",
            "auth.locked",
            "auth.login_while_locked"
        ]
    );

    let (cookie, _) = session_of(&s, "member", "Dengbao#2026-2").await;
    let page = |c: &str| {
        Request::get("/")
            .header(header::COOKIE, c)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, _) = send(&s, page(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    s.clock.advance(s.config.session_idle_ms + 1000);
    let (status, h, _) = send(&s, page(&cookie)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = h[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(to, "/login?next=%2F&expired=1");
    let (_, _, html) = send(&s, get(&to)).await;
    assert!(html.contains("会话已过期，请重新登录。"));
}

#[tokio::test]
async fn unknown_paths_answer_browsers_with_a_page_and_programs_with_a_problem() {
    let s = state().await;
    let (status, h, html) = send(
        &s,
        Request::get("/no-such-page")
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::COOKIE, "dengbao_lang=en")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(html.contains("No such page or object."));
    for (path, accept) in [("/no-such-page", "*/*"), ("/api/v1/nothing", "text/html")] {
        let (status, h, _) = send(
            &s,
            Request::get(path)
                .header(header::ACCEPT, accept)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            h[header::CONTENT_TYPE],
            "application/problem+json",
            "{path}"
        );
    }
}
