//! The HTTP API end to end, on SQLite always and on PostgreSQL when `DATABASE_URL` is set:
//! tenant isolation over every route in the OpenAPI document, lockout, TOTP, session expiry,
//! CSRF, role separation, stale writes, malformed input.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use dengbao_server::demo::{DemoLogin, seed_named};
use dengbao_server::{AppState, Config, app};
use dengbao_store::new_id;

use crate::harness::{example, now_ms, state, stores};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

pub(crate) struct Env {
    pub(crate) backend: &'static str,
    pub(crate) app: Router,
    pub(crate) state: AppState,
    pub(crate) logins: Vec<DemoLogin>,
}

#[derive(Clone, Default)]
pub(crate) struct Who {
    cookie: Option<String>,
    csrf: Option<String>,
    bearer: Option<String>,
}

pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
    pub(crate) text: String,
}

async fn envs() -> Vec<Env> {
    let (pack, inv) = example();
    let mut out = Vec::new();
    for (backend, store) in stores("api").await {
        let tag = format!("t{}-", &new_id()[20..]);
        let logins = seed_named(&crate::harness::vault(&store), &pack, &inv, now_ms(), &tag)
            .await
            .unwrap();
        let state = state(store, Config::default(), pack.clone());
        out.push(Env {
            backend,
            app: app(state.clone()),
            state,
            logins,
        });
    }
    out
}

impl Env {
    fn login_of(&self, suffix: &str, other_org: bool) -> &DemoLogin {
        self.logins
            .iter()
            .find(|l| {
                l.username.ends_with(suffix)
                    && l.username.contains("hospital-") == other_org
                    && l.username.rsplit('-').next() == Some(suffix.trim_start_matches('-'))
            })
            .unwrap_or_else(|| panic!("no login {suffix}"))
    }

    pub(crate) async fn call(
        &self,
        who: &Who,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Resp {
        self.raw(
            who,
            method,
            path,
            body.map(|b| ("application/json".to_owned(), b.to_string().into_bytes())),
            true,
        )
        .await
    }

    async fn raw(
        &self,
        who: &Who,
        method: &str,
        path: &str,
        body: Option<(String, Vec<u8>)>,
        send_csrf: bool,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(c) = &who.cookie {
            b = b.header(header::COOKIE, c);
        }
        if let (Some(c), true) = (&who.csrf, send_csrf) {
            b = b.header("x-csrf-token", c);
        }
        if let Some(t) = &who.bearer {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some((ct, bytes)) => b
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(bytes))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        let r = self.app.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_client_error() || status.is_server_error() {
            assert!(
                headers
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|v| v == "application/problem+json"),
                "{method} {path}: {status} without a problem body: {text}"
            );
            assert_eq!(body["status"], status.as_u16(), "{text}");
        }
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{method} {path}: {text}"
        );
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    fn totp_code(&self, l: &DemoLogin) -> String {
        let secret = l.totp_secret.as_ref().unwrap();
        let totp = dengbao_server::auth::totp_for(secret, &l.username).unwrap();
        totp.generate((self.state.clock.now_ms() / 1000) as u64)
            .to_string()
    }

    /// Logs in (with the second factor for administrators).
    pub(crate) async fn login(&self, l: &DemoLogin) -> Who {
        let r = self
            .call(
                &Who::default(),
                "POST",
                "/api/v1/auth/login",
                Some(json!({ "username": l.username, "password": l.password })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", l.username, r.text);
        let cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("Secure")
                && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let who = Who {
            cookie: Some(cookie.split(';').next().unwrap().to_owned()),
            csrf: Some(r.body["csrf_token"].as_str().unwrap().to_owned()),
            bearer: None,
        };
        if r.body["mfa_required"] == json!(true) {
            // A fresh TOTP step for each login: codes cannot be replayed.
            self.state.clock.advance(30_000);
            let code = self.totp_code(l);
            let r = self
                .call(
                    &who,
                    "POST",
                    "/api/v1/auth/totp",
                    Some(json!({ "code": code })),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
        who
    }
}

fn system_body(id: &str, version: Option<i64>) -> Value {
    json!({
        "id": id, "name": "Test system", "kind": "information_system",
        "lifecycle": { "operating_since": "2024-01-01" },
        "assessment": {
            "business_information": [{ "object": "social_order_public_interest", "degree": "serious_damage" }],
            "system_service": [{ "object": "citizens_legal_persons", "degree": "damage" }]
        },
        "version": version
    })
}

#[tokio::test]
async fn operator_workflow_grade_obligations_dossier_filing() {
    for env in envs().await {
        let lead = env.login(env.login_of("lead", false)).await;
        let b = env.backend;
        let r = env
            .call(
                &lead,
                "POST",
                "/api/v1/systems",
                Some(system_body("crm", None)),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {}", r.text);
        assert_eq!(r.body["grade"], "III");
        assert_eq!(
            r.body["grading"]["expert_review_required"]["cite"],
            "Measures art. 10 ¶3"
        );
        // Grade it to IV through the grading endpoint: a grade_determined event is recorded.
        let g = json!({ "assessment": { "business_information": [{ "object": "national_security", "degree": "serious_damage" }], "system_service": [{ "object": "citizens_legal_persons", "degree": "damage" }] }, "date": "2025-03-01", "version": 1 });
        let r = env
            .call(&lead, "POST", "/api/v1/systems/crm/grading", Some(g))
            .await;
        assert_eq!(
            (r.status, r.body["grade"].as_str()),
            (StatusCode::OK, Some("IV")),
            "{b}: {}",
            r.text
        );
        let r = env
            .call(&lead, "GET", "/api/v1/systems/crm/events", None)
            .await;
        assert_eq!(r.body[0]["event"]["type"], "grade_determined");
        assert_eq!(r.body[0]["event"]["grade"], "IV");
        // Obligations on a date: filing due 30 days after grading (art. 15 ¶1).
        let r = env
            .call(
                &lead,
                "GET",
                "/api/v1/systems/crm/obligations?as_of=2025-04-01",
                None,
            )
            .await;
        let filing = r.body["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "record_filing")
            .unwrap();
        assert_eq!(
            (filing["due"].as_str(), filing["status"].as_str()),
            (Some("2025-03-31"), Some("overdue")),
            "{b}"
        );
        let r = env
            .call(
                &lead,
                "GET",
                "/api/v1/obligations?as_of=2025-04-01&status=overdue&per_page=500",
                None,
            )
            .await;
        assert!(
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["system_id"] == "crm" && o["kind"] == "record_filing"),
            "{b}: {}",
            r.text
        );
        // The dossier fills up; submission is refused until it is complete.
        let r = env
            .call(&lead, "POST", "/api/v1/systems/crm/filings", None)
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.body["missing"].as_array().unwrap().len(), 7, "{}", r.text);
        for kind in [
            "record_filing_form",
            "topology",
            "security_organisation",
            "security_design",
            "product_list",
            "evaluation_report",
            "expert_review",
        ] {
            let m = json!({ "title": kind, "file_name": format!("{kind}.pdf"), "media_type": "application/pdf", "size": 1024, "sha256": "ab".repeat(32) });
            let r = env
                .call(
                    &lead,
                    "PUT",
                    &format!("/api/v1/systems/crm/materials/{kind}"),
                    Some(m),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
        let r = env
            .call(&lead, "GET", "/api/v1/systems/crm/dossier", None)
            .await;
        assert_eq!(r.body["dossier"]["complete"], true, "{}", r.text);
        let r = env
            .call(&lead, "POST", "/api/v1/systems/crm/filings", None)
            .await;
        assert_eq!(
            (r.status, r.body["status"].as_str()),
            (StatusCode::CREATED, Some("submitted")),
            "{}",
            r.text
        );
        let r = env
            .call(&lead, "GET", "/api/v1/systems/crm/events", None)
            .await;
        assert!(
            r.body
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["event"]["type"] == "filing_submitted")
        );
        // Registries answer with per-criterion eligibility.
        let r = env
            .call(&lead, "GET", "/api/v1/registry/product/waf-2", None)
            .await;
        assert_eq!(r.body["eligibility"]["eligible"], false);
        // Every change is in the audit trail, which only the audit administrator reads.
        let auditor = env.login(env.login_of("auditor", false)).await;
        let r = env.call(&auditor, "GET", "/api/v1/audit", None).await;
        assert!(
            r.body
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["action"] == "filing.submit" && a["object"] == "crm"),
            "{}",
            r.text
        );
        assert!(r.body[0]["request_id"].as_str().unwrap().len() > 8);
    }
}

#[tokio::test]
async fn lockout_after_five_failures_for_fifteen_minutes() {
    for env in envs().await {
        let l = env.login_of("member", false);
        for i in 1..=5 {
            let r = env
                .call(
                    &Who::default(),
                    "POST",
                    "/api/v1/auth/login",
                    Some(json!({ "username": l.username, "password": "wrong-Password-1" })),
                )
                .await;
            let want = if i < 5 {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(r.status, want, "attempt {i}: {}", r.text);
        }
        let r = env
            .call(
                &Who::default(),
                "POST",
                "/api/v1/auth/login",
                Some(json!({ "username": l.username, "password": l.password })),
            )
            .await;
        assert_eq!(
            (r.status, r.body["type"].as_str()),
            (StatusCode::FORBIDDEN, Some("/problems/account-locked")),
            "the right password does not unlock"
        );
        env.state.clock.advance(15 * 60 * 1000 + 1000);
        let r = env
            .call(
                &Who::default(),
                "POST",
                "/api/v1/auth/login",
                Some(json!({ "username": l.username, "password": l.password })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        // Unknown users get the same answer as wrong passwords.
        let r = env
            .call(
                &Who::default(),
                "POST",
                "/api/v1/auth/login",
                Some(json!({ "username": "nobody-here", "password": "x" })),
            )
            .await;
        assert_eq!(
            (r.status, r.body["detail"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("wrong username or password"))
        );
    }
}

#[tokio::test]
async fn totp_is_required_for_administrators_and_codes_are_single_use() {
    for env in envs().await {
        let l = env.login_of("sysadmin", false);
        let r = env
            .call(
                &Who::default(),
                "POST",
                "/api/v1/auth/login",
                Some(json!({ "username": l.username, "password": l.password })),
            )
            .await;
        assert_eq!(r.body["mfa_required"], true);
        let who = Who {
            cookie: Some(
                r.headers
                    .get(header::SET_COOKIE)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .into(),
            ),
            csrf: Some(r.body["csrf_token"].as_str().unwrap().into()),
            bearer: None,
        };
        // Nothing but the second factor until it is given.
        let r = env.call(&who, "GET", "/api/v1/users", None).await;
        assert_eq!(
            (r.status, r.body["reason"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("mfa_required"))
        );
        let r = env
            .call(
                &who,
                "POST",
                "/api/v1/auth/totp",
                Some(json!({ "code": "000000" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        env.state.clock.advance(30_000);
        let code = env.totp_code(l);
        let r = env
            .call(
                &who,
                "POST",
                "/api/v1/auth/totp",
                Some(json!({ "code": code })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            env.call(&who, "GET", "/api/v1/users", None).await.status,
            StatusCode::OK
        );
        // The same code in another session is refused (RFC 6238 §5.2).
        let r = env
            .call(
                &Who::default(),
                "POST",
                "/api/v1/auth/login",
                Some(json!({ "username": l.username, "password": l.password })),
            )
            .await;
        let who2 = Who {
            cookie: Some(
                r.headers
                    .get(header::SET_COOKIE)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .into(),
            ),
            csrf: Some(r.body["csrf_token"].as_str().unwrap().into()),
            bearer: None,
        };
        let r = env
            .call(
                &who2,
                "POST",
                "/api/v1/auth/totp",
                Some(json!({ "code": code })),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "replayed code accepted");
        // A member can enrol voluntarily; afterwards login asks for the code.
        let m = env.login_of("member", false);
        let who = env.login(m).await;
        let r = env
            .call(&who, "POST", "/api/v1/auth/totp/enroll", None)
            .await;
        let secret = r.body["secret"].as_str().unwrap().to_owned();
        assert!(
            r.body["otpauth_url"]
                .as_str()
                .unwrap()
                .starts_with("otpauth://totp/")
        );
        env.state.clock.advance(30_000);
        let code = dengbao_server::auth::totp_for(&secret, &m.username)
            .unwrap()
            .generate((env.state.clock.now_ms() / 1000) as u64)
            .to_string();
        assert_eq!(
            env.call(
                &who,
                "POST",
                "/api/v1/auth/totp/confirm",
                Some(json!({ "code": code }))
            )
            .await
            .status,
            StatusCode::OK
        );
        let r = env
            .call(
                &Who::default(),
                "POST",
                "/api/v1/auth/login",
                Some(json!({ "username": m.username, "password": m.password })),
            )
            .await;
        assert_eq!(r.body["mfa_required"], true);
    }
}

#[tokio::test]
async fn sessions_expire_idle_and_absolute_and_logout_ends_them() {
    for env in envs().await {
        let l = env.login_of("member", false);
        let who = env.login(l).await;
        assert_eq!(
            env.call(&who, "GET", "/api/v1/me", None).await.status,
            StatusCode::OK
        );
        env.state.clock.advance(31 * 60 * 1000);
        let r = env.call(&who, "GET", "/api/v1/me", None).await;
        assert_eq!(
            (r.status, r.body["reason"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("session_expired")),
            "idle 31 min"
        );
        // Active all along, but no session lives past 12 hours.
        let who = env.login(l).await;
        for _ in 0..30 {
            env.state.clock.advance(25 * 60 * 1000);
            let r = env.call(&who, "GET", "/api/v1/me", None).await;
            if r.status != StatusCode::OK {
                assert_eq!(r.body["reason"], "session_expired");
                assert!(env.state.clock.now_ms() > 0);
                break;
            }
        }
        assert_eq!(
            env.call(&who, "GET", "/api/v1/me", None).await.status,
            StatusCode::UNAUTHORIZED,
            "absolute timeout"
        );
        let who = env.login(l).await;
        assert_eq!(
            env.call(&who, "POST", "/api/v1/auth/logout", None)
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            env.call(&who, "GET", "/api/v1/me", None).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn csrf_and_api_tokens() {
    for env in envs().await {
        let who = env.login(env.login_of("lead", false)).await;
        let body = system_body("csrf-test", None);
        let r = env
            .raw(
                &who,
                "POST",
                "/api/v1/systems",
                Some(("application/json".into(), body.to_string().into_bytes())),
                false,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF header");
        let wrong = Who {
            csrf: Some("forged".into()),
            ..who.clone()
        };
        assert_eq!(
            env.call(&wrong, "POST", "/api/v1/systems", Some(body.clone()))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            env.call(&who, "POST", "/api/v1/systems", Some(body))
                .await
                .status,
            StatusCode::CREATED
        );
        // Tokens: shown once, stored hashed, scoped, expiring, revocable.
        let r = env
            .call(
                &who,
                "POST",
                "/api/v1/tokens",
                Some(json!({ "name": "ci", "scope": "read", "expires_in_days": 1 })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let read = Who {
            bearer: Some(r.body["token"].as_str().unwrap().into()),
            ..Who::default()
        };
        let token_id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            env.call(&read, "GET", "/api/v1/systems", None).await.status,
            StatusCode::OK
        );
        assert_eq!(
            env.call(
                &read,
                "POST",
                "/api/v1/systems",
                Some(system_body("by-token", None))
            )
            .await
            .status,
            StatusCode::FORBIDDEN,
            "read scope cannot write"
        );
        let r = env
            .call(
                &who,
                "POST",
                "/api/v1/tokens",
                Some(json!({ "name": "ci-write", "scope": "write", "expires_in_days": 1 })),
            )
            .await;
        let write = Who {
            bearer: Some(r.body["token"].as_str().unwrap().into()),
            ..Who::default()
        };
        assert_eq!(
            env.call(
                &write,
                "POST",
                "/api/v1/systems",
                Some(system_body("by-token", None))
            )
            .await
            .status,
            StatusCode::CREATED,
            "no CSRF needed for bearer tokens"
        );
        let listed = env.call(&who, "GET", "/api/v1/tokens", None).await;
        assert!(
            listed
                .body
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t.get("token").is_none()),
            "token secret listed again"
        );
        assert_eq!(
            env.call(&who, "DELETE", &format!("/api/v1/tokens/{token_id}"), None)
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            env.call(&read, "GET", "/api/v1/systems", None).await.status,
            StatusCode::UNAUTHORIZED,
            "revoked"
        );
        env.state.clock.advance(86_400_000 + 1000);
        let r = env.call(&write, "GET", "/api/v1/systems", None).await;
        assert_eq!(
            (r.status, r.body["detail"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("token expired"))
        );
    }
}

#[tokio::test]
async fn roles_are_separated() {
    for env in envs().await {
        let member = env.login(env.login_of("member", false)).await;
        let lead = env.login(env.login_of("lead", false)).await;
        let sys = env.login(env.login_of("sysadmin", false)).await;
        let sec = env.login(env.login_of("secadmin", false)).await;
        let aud = env.login(env.login_of("auditor", false)).await;
        assert_eq!(
            env.call(&member, "GET", "/api/v1/systems", None)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            env.call(
                &member,
                "POST",
                "/api/v1/systems",
                Some(system_body("m1", None))
            )
            .await
            .status,
            StatusCode::FORBIDDEN,
            "member cannot write"
        );
        for (who, name) in [(&sys, "sysadmin"), (&sec, "secadmin"), (&aud, "auditor")] {
            assert_eq!(
                env.call(who, "GET", "/api/v1/systems", None).await.status,
                StatusCode::FORBIDDEN,
                "{name} reads compliance data"
            );
        }
        assert_eq!(
            env.call(&sys, "GET", "/api/v1/audit", None).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            env.call(&sec, "GET", "/api/v1/audit", None).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            env.call(&lead, "GET", "/api/v1/audit", None).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            env.call(&aud, "GET", "/api/v1/audit", None).await.status,
            StatusCode::OK
        );
        // The system administrator creates users but cannot give them roles.
        let r = env.call(&sys, "POST", "/api/v1/users", Some(json!({ "username": format!("new-{}", &new_id()[24..]), "display_name": "New", "password": "short" }))).await;
        assert_eq!(
            (r.status, r.body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
        );
        let uname = format!("new-{}", &new_id()[24..]);
        let r = env.call(&sys, "POST", "/api/v1/users", Some(json!({ "username": uname, "display_name": "New", "password": "Correct-Horse-42" }))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let new_user = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            env.call(
                &sys,
                "PUT",
                &format!("/api/v1/users/{new_user}/roles/member"),
                None
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(env.call(&sec, "POST", "/api/v1/users", Some(json!({ "username": "x-y-z", "display_name": "x", "password": "Correct-Horse-42" }))).await.status, StatusCode::FORBIDDEN);
        // The security administrator assigns roles — never to themselves, never an admin role
        // on top of another role.
        assert_eq!(
            env.call(
                &sec,
                "PUT",
                &format!("/api/v1/users/{new_user}/roles/member"),
                None
            )
            .await
            .status,
            StatusCode::NO_CONTENT
        );
        let users = env.call(&sec, "GET", "/api/v1/users", None).await;
        let me = users
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"].as_str().unwrap().ends_with("secadmin"))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let lead_id = users
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"].as_str().unwrap().ends_with("-lead") || u["username"] == "lead")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            env.call(
                &sec,
                "PUT",
                &format!("/api/v1/users/{me}/roles/security_lead"),
                None
            )
            .await
            .status,
            StatusCode::FORBIDDEN,
            "self-assignment"
        );
        assert_eq!(
            env.call(
                &sec,
                "DELETE",
                &format!("/api/v1/users/{me}/roles/security_admin"),
                None
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            env.call(
                &sec,
                "PUT",
                &format!("/api/v1/users/{lead_id}/roles/audit_admin"),
                None
            )
            .await
            .status,
            StatusCode::CONFLICT,
            "admin role on a lead"
        );
        assert_eq!(
            env.call(
                &sec,
                "PUT",
                &format!("/api/v1/users/{new_user}/roles/system_admin"),
                None
            )
            .await
            .status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            env.call(
                &sec,
                "PUT",
                &format!("/api/v1/users/{new_user}/roles/king"),
                None
            )
            .await
            .status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // Administrators cannot mint API tokens (they act only with a second factor).
        assert_eq!(
            env.call(
                &sys,
                "POST",
                "/api/v1/tokens",
                Some(json!({ "name": "x", "scope": "read", "expires_in_days": 1 }))
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        // Disabling ends the user's sessions.
        assert_eq!(
            env.call(
                &sys,
                "POST",
                &format!("/api/v1/users/{lead_id}/disable"),
                None
            )
            .await
            .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            env.call(&lead, "GET", "/api/v1/me", None).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn stale_writes_are_refused() {
    for env in envs().await {
        let lead = env.login(env.login_of("lead", false)).await;
        let r = env
            .call(&lead, "GET", "/api/v1/systems/office-oa", None)
            .await;
        let v = r.body["version"].as_i64().unwrap();
        let mut body = system_body("office-oa", Some(v));
        body["name"] = json!("Office automation v2");
        assert_eq!(
            env.call(
                &lead,
                "PUT",
                "/api/v1/systems/office-oa",
                Some(body.clone())
            )
            .await
            .status,
            StatusCode::OK
        );
        let r = env
            .call(&lead, "PUT", "/api/v1/systems/office-oa", Some(body))
            .await;
        assert_eq!(
            (
                r.status,
                r.body["type"].as_str(),
                r.body["current_version"].as_i64()
            ),
            (
                StatusCode::CONFLICT,
                Some("/problems/stale-write"),
                Some(v + 1)
            ),
            "{}",
            r.text
        );
        let r = env
            .call(
                &lead,
                "DELETE",
                &format!("/api/v1/systems/office-oa?version={v}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let r = env.call(&lead, "POST", "/api/v1/systems/office-oa/grading", Some(json!({ "assessment": { "business_information": [{ "object": "citizens_legal_persons", "degree": "damage" }], "system_service": [{ "object": "citizens_legal_persons", "degree": "damage" }] }, "version": v }))).await;
        assert_eq!(
            r.status,
            StatusCode::CONFLICT,
            "grading with a stale version"
        );
    }
}

/// Method, path, body (content type, bytes), expected status, expected `field`.
type Case = (
    &'static str,
    &'static str,
    Option<(String, Vec<u8>)>,
    StatusCode,
    Option<&'static str>,
);

#[tokio::test]
async fn malformed_input_is_a_4xx_problem_never_a_500() {
    for env in envs().await {
        let lead = env.login(env.login_of("lead", false)).await;
        let raw = |ct: &str, b: &str| Some((ct.to_owned(), b.as_bytes().to_vec()));
        let cases: Vec<Case> = vec![
            ("POST", "/api/v1/systems", raw("application/json", "{\"id\": "), StatusCode::BAD_REQUEST, None),
            ("POST", "/api/v1/systems", raw("text/plain", "{}"), StatusCode::UNSUPPORTED_MEDIA_TYPE, None),
            ("POST", "/api/v1/systems", raw("application/json", &system_body("a", None).to_string().replace("\"information_system\"", "42")), StatusCode::UNPROCESSABLE_ENTITY, Some("kind")),
            ("POST", "/api/v1/systems", raw("application/json", &system_body("a", None).to_string().replace("\"serious_damage\"", "\"grave\"")), StatusCode::UNPROCESSABLE_ENTITY, Some("assessment.business_information[0].degree")),
            ("POST", "/api/v1/systems", raw("application/json", &system_body(&"x".repeat(65), None).to_string()), StatusCode::UNPROCESSABLE_ENTITY, Some("id")),
            ("POST", "/api/v1/systems", raw("application/json", &system_body("a", None).to_string().replace("Test system", &"名".repeat(201))), StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
            ("POST", "/api/v1/systems", raw("application/json", &system_body("a b", None).to_string()), StatusCode::UNPROCESSABLE_ENTITY, Some("id")),
            ("POST", "/api/v1/systems", raw("application/json", &system_body("a", None).to_string().replace("\"lifecycle\"", "\"division\": \"990101\", \"lifecycle\"")), StatusCode::UNPROCESSABLE_ENTITY, Some("division")),
            ("POST", "/api/v1/systems", raw("application/json", &system_body("a", None).to_string().replace("\"lifecycle\"", "\"colour\": 1, \"lifecycle\"")), StatusCode::UNPROCESSABLE_ENTITY, Some("colour")),
            ("POST", "/api/v1/systems", raw("application/json", &system_body("a", None).to_string().replace("2024-01-01", "2024-02-30")), StatusCode::UNPROCESSABLE_ENTITY, Some("lifecycle.operating_since")),
            ("POST", "/api/v1/systems", raw("application/json", &json!({"id":"a","name":"n","kind":"iot","assessment":{"business_information":[],"system_service":[]}}).to_string()), StatusCode::UNPROCESSABLE_ENTITY, Some("assessment.business_information")),
            ("POST", "/api/v1/systems", raw("application/json", &"[".repeat(2_000_000)), StatusCode::PAYLOAD_TOO_LARGE, None),
            ("POST", "/api/v1/systems/pay-core/events", raw("application/json", "{\"date\": \"2025-01-01\", \"type\": \"evaluation\"}"), StatusCode::UNPROCESSABLE_ENTITY, Some("conformity")),
            ("POST", "/api/v1/systems/pay-core/events", raw("application/json", "{\"date\": \"2025-01-01\", \"type\": \"evaluation\", \"conformity\": \"conformant\", \"agency\": \"nobody\"}"), StatusCode::UNPROCESSABLE_ENTITY, Some("agency")),
            ("POST", "/api/v1/systems/pay-core/events", raw("application/json", "{\"date\": 7, \"type\": \"inspection\"}"), StatusCode::UNPROCESSABLE_ENTITY, Some("date")),
            ("PUT", "/api/v1/systems/pay-core/materials/photo", raw("application/json", "{\"title\":\"t\",\"file_name\":\"f\",\"media_type\":\"m\",\"size\":1,\"sha256\":\"00\"}"), StatusCode::UNPROCESSABLE_ENTITY, Some("kind")),
            ("POST", "/api/v1/registry/product", raw("application/json", "{\"id\":\"p1\",\"name\":\"P\",\"facts\":{\"magic\":true}}"), StatusCode::UNPROCESSABLE_ENTITY, Some("facts.magic")),
            ("GET", "/api/v1/obligations?as_of=2025-13-01", None, StatusCode::UNPROCESSABLE_ENTITY, Some("as_of")),
            ("GET", "/api/v1/systems?per_page=100000", None, StatusCode::UNPROCESSABLE_ENTITY, Some("per_page")),
            ("GET", "/api/v1/systems?grade=VI", None, StatusCode::UNPROCESSABLE_ENTITY, Some("grade")),
            ("GET", "/api/v1/systems?page=abc", None, StatusCode::BAD_REQUEST, None),
            ("GET", "/api/v1/nothing-here", None, StatusCode::NOT_FOUND, None),
            ("PATCH", "/api/v1/systems", None, StatusCode::METHOD_NOT_ALLOWED, None),
            ("DELETE", "/api/v1/systems/pay-core", None, StatusCode::BAD_REQUEST, None),
        ];
        for (method, path, body, want, field) in cases {
            let r = env.raw(&lead, method, path, body, true).await;
            assert_eq!(
                r.status,
                want,
                "{} {method} {path}: {}",
                env.backend,
                &r.text[..r.text.len().min(300)]
            );
            if let Some(f) = field {
                assert_eq!(
                    r.body["field"].as_str(),
                    Some(f),
                    "{method} {path}: {}",
                    r.text
                );
            }
            assert!(
                r.body["instance"]
                    .as_str()
                    .is_some_and(|i| path.starts_with(i)),
                "{}",
                r.text
            );
        }
        // An unauthenticated request is a problem too.
        let r = env
            .call(&Who::default(), "GET", "/api/v1/systems", None)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
}

/// Values for path parameters: the demo organisation's own objects.
struct Targets {
    user_id: String,
    token_id: String,
    seq: String,
    /// The demo operator's organisation id.
    org: String,
}

fn fill(path: &str, t: &Targets) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').unwrap() + i;
        let name = &rest[i + 1..j];
        let prefix = &out;
        let v = match name {
            "id" if prefix.ends_with("/users/") => t.user_id.as_str(),
            "id" if prefix.ends_with("/tokens/") => t.token_id.as_str(),
            "id" if prefix.contains("/registry/") => "fw-1",
            "id" => "pay-core",
            "category" => "product",
            "kind" => "topology",
            "role" => "member",
            "seq" => t.seq.as_str(),
            "number" => "310100-2026-00001",
            "copy" => "primary",
            "sha256" => "0000000000000000000000000000000000000000000000000000000000000000",
            "operator" => t.org.as_str(),
            other => panic!("the sweep does not know path parameter `{other}` in {path}: teach it"),
        };
        out.push_str(v);
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

/// A plausible body for each mutating route, so that a 404 comes from tenancy, not parsing.
fn body_for(method: &str, path: &str) -> Option<Value> {
    let v = match (method, path) {
        ("put", "/api/v1/systems/{id}") => system_body("pay-core", Some(1)),
        ("post", "/api/v1/systems/{id}/grading") => {
            json!({ "assessment": { "business_information": [{ "object": "citizens_legal_persons", "degree": "damage" }], "system_service": [{ "object": "citizens_legal_persons", "degree": "damage" }] }, "version": 1 })
        }
        ("post", "/api/v1/systems/{id}/events") => {
            json!({ "date": "2025-01-01", "type": "self_inspection", "conformity": "conformant" })
        }
        ("put", "/api/v1/systems/{id}/materials/{kind}") => {
            json!({ "title": "t", "file_name": "f.pdf", "media_type": "application/pdf", "size": 1, "sha256": "ab".repeat(32) })
        }
        ("put", "/api/v1/systems/{id}/in-use") => json!({ "products": [], "crypto_products": [] }),
        ("post", "/api/v1/reviews/{id}/decision") => json!({ "decision": "certificate" }),
        ("post", "/api/v1/grade-reviews/{id}/decision") => json!({ "decision": "approve" }),
        ("post", "/api/v1/grade-reviews/{id}/opinion") => json!({ "agrees": true, "opinion": "o" }),
        ("post", "/api/v1/systems/{id}/engagements") => {
            json!({ "agency": "a", "registry_id": "sh-eval", "until": "2099-01-01" })
        }
        ("post", "/api/v1/supervision/{operator}/systems/{id}/inspections") => {
            json!({ "date": "2026-01-01" })
        }
        ("post", "/api/v1/supervision/{operator}/systems/{id}/rectification-notices") => {
            json!({ "deadline": "2099-01-01", "reasons": "r" })
        }
        ("post", "/api/v1/supervision/{operator}/systems/{id}/secrecy-approval") => json!({}),
        ("post", "/api/v1/supervision/{operator}/systems/{id}/info-requests") => {
            json!({ "kinds": ["construction_reports"], "due": "2099-01-01" })
        }
        ("post", "/api/v1/info-requests/{id}/answer") => json!({ "answer": "a" }),
        ("post", "/api/v1/systems/{id}/secrecy-applications") => json!({ "purpose": "approval" }),
        ("post", "/api/v1/systems/{id}/secret-changes") => {
            json!({ "aspect": "connection_area", "changed_on": "2026-01-01", "description": "d" })
        }
        ("post", "/api/v1/systems/{id}/crypto-filings") => {
            json!({ "algorithms": ["SM4"], "purposes": "p" })
        }
        ("post", "/api/v1/submissions/{id}/decision") => json!({ "decision": "approve" }),
        ("post", "/api/v1/crypto-product-list") => {
            json!({ "certificate": "c", "name": "n", "vendor": "v", "valid_until": "2030-01-01" })
        }
        ("post", "/api/v1/supervision/{operator}/systems/{id}/enforcements") => {
            json!({ "item": 4, "deadline": "2099-01-01", "reasons": "r" })
        }
        ("post", "/api/v1/engagements/{id}/evaluation") => {
            json!({ "date": "2026-01-01", "conformity": "conformant" })
        }
        ("put", "/api/v1/idc/assets/{id}/content") => json!({ "content_base64": "AAAA" }),
        ("post", "/api/v1/idc/assets/{id}/destruction") => json!({ "reason": "r" }),
        ("post", "/api/v1/idc/destructions/{id}/decision") => json!({ "decision": "approve" }),
        ("post", "/api/v1/idc/access/{id}/decision") => json!({ "decision": "approve" }),
        ("post", "/api/v1/idc/access/{id}/answer") => json!({ "text": "t" }),
        ("post", "/api/v1/idc/policies/{id}/decision") => json!({ "decision": "approve" }),
        ("post", "/api/v1/idc/access/{id}/share") => {
            json!({ "asset": "a", "recipient": "r", "purpose": "p", "legal_basis": "l" })
        }
        ("put", "/api/v1/registry/{category}/{id}") => {
            json!({ "id": "fw-1", "name": "x", "facts": {}, "version": 1 })
        }
        ("post", _) | ("put", _) => json!({}),
        _ => return None,
    };
    Some(v)
}

#[tokio::test]
async fn tenant_isolation_sweep_over_every_route() {
    for env in envs().await {
        // The demo organisation's identifiers, which must never reach the other one.
        let a_lead = env.login(env.login_of("lead", false)).await;
        let a_sys = env.login(env.login_of("sysadmin", false)).await;
        let users = env.call(&a_sys, "GET", "/api/v1/users", None).await;
        let user_id = users.body[0]["id"].as_str().unwrap().to_owned();
        let tok = env
            .call(
                &a_lead,
                "POST",
                "/api/v1/tokens",
                Some(json!({ "name": "t", "scope": "read", "expires_in_days": 1 })),
            )
            .await;
        let own = env
            .call(&a_lead, "GET", "/api/v1/ledger/entries?limit=5", None)
            .await;
        let seq = own.body[0]["seq"].as_i64().unwrap().to_string();
        assert_eq!(
            env.call(&a_lead, "POST", "/api/v1/ledger/checkpoint", None)
                .await
                .status,
            StatusCode::OK
        );
        let me = env.call(&a_lead, "GET", "/api/v1/me", None).await;
        let org_a = me.body["organisation_id"].as_str().unwrap().to_owned();
        let targets = Targets {
            user_id: user_id.clone(),
            token_id: tok.body["id"].as_str().unwrap().to_owned(),
            seq,
            org: org_a.clone(),
        };
        let markers = [
            "\"pay-core\"",
            "\"office-oa\"",
            "\"fw-1\"",
            "\"sh-eval\"",
            "\"Payment core system\"",
            "Example Payments",
            org_a.as_str(),
            user_id.as_str(),
        ];
        let before = env
            .call(&a_lead, "GET", "/api/v1/systems/pay-core", None)
            .await;

        let doc = env
            .call(&Who::default(), "GET", "/api/v1/openapi.json", None)
            .await;
        assert!(
            doc.body["openapi"].as_str().unwrap().starts_with("3.1"),
            "OpenAPI 3.1"
        );
        let paths = doc.body["paths"].as_object().unwrap();
        assert!(paths.len() >= 20, "{} paths", paths.len());
        let mut checked = 0;
        // Every role of the other operator, and every party with no relation to the demo
        // operator: another operator's department in charge, an expert committee and an
        // evaluation agency nobody engaged, and another city's public security organ —
        // leads and members.
        let (pack, inv) = example();
        let tag2 = format!("u{}-", &new_id()[20..]);
        let store = &env.state.store;
        let now = now_ms();
        seed_named(&crate::harness::vault(store), &pack, &inv, now, &tag2)
            .await
            .unwrap();
        let mut strangers = dengbao_server::demo::seed_parties(store, now, &tag2)
            .await
            .unwrap();
        strangers.extend(
            dengbao_server::demo::seed_organs(store, now, &tag2)
                .await
                .unwrap(),
        );
        strangers.retain(|l| {
            ["dept", "expert", "evaluator", "psb-other"]
                .iter()
                .any(|p| {
                    l.username == format!("{tag2}{p}") || l.username == format!("{tag2}{p}-member")
                })
        });
        assert_eq!(strangers.len(), 8);
        let mut sweepers: Vec<(&str, &DemoLogin)> =
            ["lead", "member", "sysadmin", "secadmin", "auditor"]
                .into_iter()
                .map(|r| (r, env.login_of(r, true)))
                .collect();
        sweepers.extend(strangers.iter().map(|l| (l.username.as_str(), l)));
        for (role, login) in sweepers {
            let b = env.login(login).await;
            for (path, ops) in paths {
                if path.starts_with("/api/v1/auth/") {
                    continue;
                }
                for method in ops.as_object().unwrap().keys() {
                    let mut url = fill(path, &targets);
                    if method == "delete" && path == "/api/v1/systems/{id}" {
                        url.push_str("?version=1");
                    }
                    let r = env
                        .call(&b, &method.to_uppercase(), &url, body_for(method, path))
                        .await;
                    let tenant_object =
                        path.contains("{id}") || path.contains("{kind}") || path.contains("{seq}");
                    if tenant_object {
                        assert!(
                            matches!(r.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                            "{} as other org's {role}: {method} {url} → {} {}",
                            env.backend,
                            r.status,
                            r.text
                        );
                    }
                    // A problem's `instance` echoes the caller's own request path; anything
                    // else mentioning the demo organisation's objects would be a leak.
                    let mut shown = r.body.clone();
                    if let Some(o) = shown.as_object_mut() {
                        o.remove("instance");
                    }
                    let shown = if shown.is_null() {
                        r.text.clone()
                    } else {
                        shown.to_string()
                    };
                    for m in markers {
                        assert!(
                            !shown.contains(m),
                            "{} as other org's {role}: {method} {url} leaked {m}: {}",
                            env.backend,
                            r.text
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "{checked}");
        // And nothing of the demo organisation changed.
        let after = env
            .call(&a_lead, "GET", "/api/v1/systems/pay-core", None)
            .await;
        assert_eq!(before.body["version"], after.body["version"]);
        assert_eq!(
            env.call(&a_lead, "GET", "/api/v1/me", None).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn health_readiness_metrics_and_request_ids() {
    for env in envs().await {
        let r = env.call(&Who::default(), "GET", "/healthz", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers.get("x-request-id").is_some());
        assert_eq!(r.headers.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(
            env.call(&Who::default(), "GET", "/readyz", None)
                .await
                .status,
            StatusCode::OK
        );
        let r = env
            .call(&Who::default(), "GET", "/api/v1/openapi.json", None)
            .await;
        assert!(r.body["components"]["securitySchemes"]["session"].is_object());
    }
}

#[tokio::test]
async fn ledger_entries_proofs_and_checkpoints_verify_offline() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    for env in envs().await {
        let lead = env.login(env.login_of("lead", false)).await;
        let r = env
            .call(
                &lead,
                "POST",
                "/api/v1/systems",
                Some(system_body("ledger-test", None)),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let cp = env
            .call(&lead, "POST", "/api/v1/ledger/checkpoint", None)
            .await;
        assert_eq!(cp.status, StatusCode::OK, "{}", cp.text);
        let key = env
            .call(&lead, "GET", "/api/v1/ledger/public-key", None)
            .await;
        let verifier = dengbao_ledger::NoteVerifier::parse(&key.text).unwrap();
        let checkpoint =
            dengbao_ledger::Checkpoint::parse_body(verifier.open(&cp.text).unwrap()).unwrap();
        // The organisation's own entries only; the newest is the change just made.
        let r = env
            .call(&lead, "GET", "/api/v1/ledger/entries?limit=1000", None)
            .await;
        let mine = r.body.as_array().unwrap();
        let me = env.call(&lead, "GET", "/api/v1/me", None).await;
        assert!(
            mine.iter()
                .all(|e| e["entry"]["tenant"] == me.body["organisation_id"])
        );
        let last = mine
            .iter()
            .rev()
            .find(|e| e["entry"]["object"] == "ledger-test")
            .unwrap();
        assert_eq!(last["entry"]["action"], "system.create");
        assert_eq!(last["entry"]["state"].as_str().unwrap().len(), 64);
        let seq = last["seq"].as_i64().unwrap();
        let r = env
            .call(
                &lead,
                "GET",
                &format!("/api/v1/ledger/entries/{seq}/proof"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let p = &r.body["proof"];
        let entry = b64.decode(p["entry"].as_str().unwrap()).unwrap();
        let path: Vec<[u8; 32]> = p["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| b64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
            .collect();
        assert_eq!(p["tree_size"].as_u64().unwrap(), checkpoint.size);
        assert!(dengbao_ledger::verify_inclusion(
            seq as u64,
            checkpoint.size,
            &dengbao_ledger::leaf_hash(&entry),
            &path,
            &checkpoint.root
        ));
        // Later checkpoints extend earlier ones.
        let r = env.call(&lead, "POST", "/api/v1/systems/ledger-test/events", Some(json!({ "date": "2025-01-01", "type": "self_inspection", "conformity": "conformant" }))).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let cp2 = env
            .call(&lead, "POST", "/api/v1/ledger/checkpoint", None)
            .await;
        let c2 = dengbao_ledger::Checkpoint::parse_body(verifier.open(&cp2.text).unwrap()).unwrap();
        assert!(c2.size > checkpoint.size);
        let r = env
            .call(
                &lead,
                "GET",
                &format!(
                    "/api/v1/ledger/consistency?old={}&new={}",
                    checkpoint.size, c2.size
                ),
                None,
            )
            .await;
        let path: Vec<[u8; 32]> = r.body["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| b64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
            .collect();
        assert!(dengbao_ledger::verify_consistency(
            checkpoint.size,
            c2.size,
            &checkpoint.root,
            &c2.root,
            &path
        ));
        // The object's history from the ledger: every change, verified against the signed root.
        let r = env
            .call(&lead, "GET", "/api/v1/systems/ledger-test/history", None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let h = r.body["entries"].as_array().unwrap();
        let actions: Vec<&str> = h
            .iter()
            .map(|e| e["entry"]["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["system.create", "event.add"], "{}", r.text);
        assert!(h.iter().all(|e| e["verified"] == true), "{}", r.text);
        // Not yet checkpointed: shown, but not marked verified.
        env.call(&lead, "POST", "/api/v1/systems/ledger-test/events", Some(json!({ "date": "2025-02-01", "type": "self_inspection", "conformity": "conformant" }))).await;
        let r = env
            .call(&lead, "GET", "/api/v1/systems/ledger-test/history", None)
            .await;
        assert_eq!(
            r.body["entries"].as_array().unwrap().last().unwrap()["verified"],
            false
        );
        // Administrators without a reading role cannot read the ledger.
        let sys = env.login(env.login_of("sysadmin", false)).await;
        assert_eq!(
            env.call(&sys, "GET", "/api/v1/ledger/entries", None)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn calendar_feed_is_valid_icalendar_with_citations_and_revocable() {
    use icalendar::Component;
    for env in envs().await {
        let lead = env.login(env.login_of("lead", false)).await;
        let member = env.login(env.login_of("member", false)).await;
        assert_eq!(
            env.call(&member, "POST", "/api/v1/calendar/feed", None)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let r = env.call(&lead, "POST", "/api/v1/calendar/feed", None).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let url = r.body["path"].as_str().unwrap().to_owned();
        // No session: the secret URL is the credential.
        let feed = env.call(&Who::default(), "GET", &url, None).await;
        assert_eq!(feed.status, StatusCode::OK, "{url}: {}", feed.text);
        assert!(
            feed.headers
                .get(header::CONTENT_TYPE)
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("text/calendar")
        );
        assert!(
            feed.text.split("\r\n").all(|l| l.len() <= 75),
            "unfolded line"
        );
        let cal: icalendar::Calendar = feed.text.parse().unwrap();
        let events: Vec<&icalendar::Event> =
            cal.components.iter().filter_map(|c| c.as_event()).collect();
        let obligations = env
            .call(&lead, "GET", "/api/v1/obligations?per_page=500", None)
            .await;
        let dated = obligations.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| !o["due"].is_null())
            .count();
        assert_eq!(events.len(), dated, "one event per dated obligation");
        assert!(!events.is_empty());
        for e in &events {
            assert!(
                e.get_description().unwrap().contains("Measures art."),
                "{:?}",
                e.get_description()
            );
            assert!(e.get_summary().unwrap().starts_with('['));
            assert!(e.get_start().is_some());
        }
        // A new URL replaces the old one; revoking ends both.
        let r = env.call(&lead, "POST", "/api/v1/calendar/feed", None).await;
        let url2 = r.body["path"].as_str().unwrap().to_owned();
        assert_eq!(
            env.call(&Who::default(), "GET", &url, None).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            env.call(&Who::default(), "GET", &url2, None).await.status,
            StatusCode::OK
        );
        assert_eq!(
            env.call(&lead, "DELETE", "/api/v1/calendar/feed", None)
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            env.call(&Who::default(), "GET", &url2, None).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            env.call(&Who::default(), "GET", "/calendar/guess.ics", None)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
}

/// What an outside client broke (issue: 500 on PostgreSQL, forgeable request ids, …), each
/// as a regression on both backends.
#[tokio::test]
async fn what_an_outside_client_broke_stays_fixed() {
    for env in envs().await {
        let lead = env.login(env.login_of("lead", false)).await;
        let raw = |ct: &str, b: String| Some((ct.to_owned(), b.into_bytes()));
        let sys = |id: &str, name: &str| {
            let mut v = system_body(id, None);
            v["name"] = json!(name);
            v.to_string()
        };
        type Case = (
            &'static str,
            String,
            Option<(String, Vec<u8>)>,
            StatusCode,
            Option<&'static str>,
        );
        let cases: Vec<Case> = vec![
            // NUL and other controls never reach the database (PostgreSQL text cannot hold NUL).
            ("PUT", "/api/v1/systems/pay-core/in-use".into(), raw("application/json", json!({ "products": ["\u{0}"] }).to_string()), StatusCode::UNPROCESSABLE_ENTITY, Some("products")),
            ("POST", "/api/v1/systems".into(), raw("application/json", sys("nul", "a\u{0}b")), StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
            ("GET", "/api/v1/systems/%00".into(), None, StatusCode::NOT_FOUND, None),
            ("GET", "/api/v1/systems?q=%00".into(), None, StatusCode::UNPROCESSABLE_ENTITY, Some("q")),
            ("GET", "/api/v1/registry/product/%00".into(), None, StatusCode::NOT_FOUND, None),
            ("POST", "/api/v1/systems/pay-core/events".into(), raw("application/json", json!({ "date": "2025-01-01", "type": "self_inspection", "conformity": "conformant", "note": "a\u{0}" }).to_string()), StatusCode::UNPROCESSABLE_ENTITY, Some("note")),
            ("POST", "/api/v1/registry/product".into(), raw("application/json", json!({ "id": "p-nul", "name": "P", "evidence": { "domestic_legal_person": "x\u{0}" } }).to_string()), StatusCode::UNPROCESSABLE_ENTITY, Some("evidence.domestic_legal_person")),
            ("POST", "/api/v1/tokens".into(), raw("application/json", json!({ "name": "t\u{0}", "scope": "read", "expires_in_days": 1 }).to_string()), StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
            // Names that display as something else.
            ("POST", "/api/v1/systems".into(), raw("application/json", sys("bidi", "pay\u{202E}eroc")), StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
            ("POST", "/api/v1/systems".into(), raw("application/json", sys("zw", "pay\u{200B}core")), StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
            // Ids that cannot be opened through a URL.
            ("POST", "/api/v1/systems".into(), raw("application/json", sys("..", "dots")), StatusCode::UNPROCESSABLE_ENTITY, Some("id")),
            ("POST", "/api/v1/systems".into(), raw("application/json", sys("new", "new")), StatusCode::UNPROCESSABLE_ENTITY, Some("id")),
            // Parsing: one reading of a body, media types as RFC 9110 compares them.
            ("POST", "/api/v1/auth/login".into(), raw("application/json", "{\"username\":\"nobody\",\"username\":\"lead\",\"password\":\"x\"}".into()), StatusCode::BAD_REQUEST, None),
            ("POST", "/api/v1/auth/login".into(), raw("application/json; charset=iso-8859-1", "{}".into()), StatusCode::UNSUPPORTED_MEDIA_TYPE, None),
            // Events are recorded once they happened.
            ("POST", "/api/v1/systems/pay-core/events".into(), raw("application/json", json!({ "date": "9999-12-31", "type": "self_inspection", "conformity": "conformant" }).to_string()), StatusCode::UNPROCESSABLE_ENTITY, Some("date")),
            // `30.0` is an integer to JSON Schema, as the document's `integer` promises.
            ("POST", "/api/v1/tokens".into(), raw("application/json", "{\"name\":\"float\",\"scope\":\"read\",\"expires_in_days\":30.0}".into()), StatusCode::CREATED, None),
            ("POST", "/api/v1/tokens".into(), raw("application/json", "{\"name\":\"frac\",\"scope\":\"read\",\"expires_in_days\":30.5}".into()), StatusCode::UNPROCESSABLE_ENTITY, Some("expires_in_days")),
            // Bounds of query parameters are the document's, on every parameter alike.
            ("GET", "/api/v1/ledger/entries?from=-1".into(), None, StatusCode::UNPROCESSABLE_ENTITY, Some("from")),
            ("GET", "/api/v1/ledger/entries?limit=-1".into(), None, StatusCode::UNPROCESSABLE_ENTITY, Some("limit")),
        ];
        for (method, path, body, want, field) in cases {
            let r = env.raw(&lead, method, &path, body, true).await;
            assert_eq!(
                r.status, want,
                "{} {method} {path}: {}",
                env.backend, r.text
            );
            assert_eq!(
                r.body["field"].as_str(),
                field,
                "{method} {path}: {}",
                r.text
            );
            if want.is_success() {
                continue;
            }
            // Every problem type resolves to a page that says what it means.
            let t = r.body["type"].as_str().unwrap();
            let page = env.call(&Who::default(), "GET", t, None).await;
            assert_eq!(page.status, StatusCode::OK, "{t}");
        }
        // Media types are case-insensitive.
        let r = env
            .raw(
                &Who::default(),
                "POST",
                "/api/v1/auth/login",
                raw(
                    "APPLICATION/JSON; Charset=\"UTF-8\"",
                    json!({ "username": "nobody", "password": "Wrong#Password-1" }).to_string(),
                ),
                true,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

        // A client's request id is kept only when it is a short token; anything else never
        // reaches the ledger.
        let forged = "x".repeat(60_000);
        let req = Request::get("/api/v1/me")
            .header(header::COOKIE, lead.cookie.as_deref().unwrap())
            .header("x-request-id", &forged)
            .body(Body::empty())
            .unwrap();
        let resp = env.app.clone().oneshot(req).await.unwrap();
        let rid = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(
            rid.len() <= 64 && rid != forged,
            "{}",
            &rid[..rid.len().min(80)]
        );
        let r = env
            .call(&Who::default(), "POST", "/api/v1/auth/login", Some(json!({ "username": env.login_of("lead", false).username, "password": "Wrong#Password-1" })))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let req = Request::post("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-request-id", "bad id with spaces")
            .body(Body::from(json!({ "username": env.login_of("lead", false).username, "password": "Wrong#Password-1" }).to_string()))
            .unwrap();
        let resp = env.app.clone().oneshot(req).await.unwrap();
        assert_ne!(resp.headers()["x-request-id"], "bad id with spaces");
        let kept = Request::get("/api/v1/me")
            .header(header::COOKIE, lead.cookie.as_deref().unwrap())
            .header("x-request-id", "client-42.retry_1")
            .body(Body::empty())
            .unwrap();
        let resp = env.app.clone().oneshot(kept).await.unwrap();
        assert_eq!(
            resp.headers()["x-request-id"],
            "client-42.retry_1",
            "a well-formed id is kept"
        );
        let auditor = env.login(env.login_of("auditor", false)).await;
        let audit = env
            .call(&auditor, "GET", "/api/v1/audit?per_page=1000", None)
            .await;
        assert!(!audit.text.contains("bad id with spaces") && !audit.text.contains(&forged[..100]));

        // 三员分立: the system administrator does not disable the other administrators; the
        // security administrator does, and never itself.
        let sys_admin = env.login(env.login_of("sysadmin", false)).await;
        let users = env.call(&sys_admin, "GET", "/api/v1/users", None).await;
        let id_of = |name: &str| {
            users
                .body
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["username"] == json!(env.login_of(name, false).username))
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let (auditor_id, secadmin_id, member_id) =
            (id_of("auditor"), id_of("secadmin"), id_of("member"));
        for target in [&auditor_id, &secadmin_id] {
            let r = env
                .call(
                    &sys_admin,
                    "POST",
                    &format!("/api/v1/users/{target}/disable"),
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        }
        let sec = env.login(env.login_of("secadmin", false)).await;
        let r = env
            .call(
                &sec,
                "POST",
                &format!("/api/v1/users/{secadmin_id}/disable"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "not itself");
        let r = env
            .call(
                &sec,
                "POST",
                &format!("/api/v1/users/{member_id}/disable"),
                None,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "ordinary accounts are the system administrator's"
        );
        let r = env
            .call(
                &sec,
                "POST",
                &format!("/api/v1/users/{auditor_id}/disable"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        let r = env
            .call(
                &sec,
                "POST",
                &format!("/api/v1/users/{auditor_id}/enable"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

        // Disabling revokes a user's tokens for good.
        let member = env.login(env.login_of("member", false)).await;
        let tok = env
            .call(
                &member,
                "POST",
                "/api/v1/tokens",
                Some(json!({ "name": "ci", "scope": "read", "expires_in_days": 1 })),
            )
            .await;
        let bearer = Who {
            bearer: tok.body["token"].as_str().map(str::to_owned),
            ..Who::default()
        };
        assert_eq!(
            env.call(&bearer, "GET", "/api/v1/systems", None)
                .await
                .status,
            StatusCode::OK
        );
        for step in ["disable", "enable"] {
            let r = env
                .call(
                    &sys_admin,
                    "POST",
                    &format!("/api/v1/users/{member_id}/{step}"),
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{step}: {}", r.text);
        }
        env.state.principals.clear();
        assert_eq!(
            env.call(&bearer, "GET", "/api/v1/systems", None)
                .await
                .status,
            StatusCode::UNAUTHORIZED,
            "the token stays revoked"
        );

        // The document says who may call what: every operation needs a session or a token
        // unless it says otherwise (log-in, the public certificate check).
        let doc = env
            .call(&Who::default(), "GET", "/api/v1/openapi.json", None)
            .await;
        assert_eq!(
            doc.body["security"],
            json!([{ "session": [] }, { "token": [] }])
        );
        assert_eq!(
            doc.body["paths"]["/api/v1/auth/login"]["post"]["security"],
            json!([{}])
        );
        assert_eq!(
            doc.body["paths"]["/api/v1/certificates/{number}"]["get"]["security"],
            json!([{}])
        );
    }
}
