//! Who reads which ledger entries: an organisation its own; the audit administrator of the
//! platform organisation everyone's; an audit administrator elsewhere only its own.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use dengbao_core::RulePack;
use dengbao_server::auth::{hash_password_blocking, new_totp_secret, totp_for};
use dengbao_server::{AppState, Config};
use dengbao_store::{Audit, Organisation, User, new_id};
use serde_json::{Value, json};

const PASSWORD: &str = "Scope#Test-2026x";

async fn call(
    s: &AppState,
    method: &str,
    path: &str,
    cookie: &str,
    csrf: &str,
    body: Value,
) -> (StatusCode, Value, String) {
    let mut b = Request::builder().method(method).uri(path);
    if !cookie.is_empty() {
        b = b
            .header(header::COOKIE, cookie)
            .header("x-csrf-token", csrf);
    }
    let req = b
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, headers, bytes) = crate::harness::send(s, req).await;
    let set = headers
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        set,
    )
}

/// An organisation of `kind` with an audit administrator; answers its id and a session.
async fn org_with_auditor(s: &AppState, kind: &str) -> (String, String, String) {
    let org = Organisation {
        id: new_id(),
        name: format!("{kind}-{}", new_id()),
        kind: kind.into(),
        credit_code: None,
        division: None,
        data_version: 0,
        created_at: 0,
    };
    s.store.create_organisation(&org).await.unwrap();
    let username = format!("aud-{}", &new_id()[24..]);
    let secret = new_totp_secret();
    let u = User {
        id: new_id(),
        tenant_id: org.id.clone(),
        username: username.clone(),
        display_name: "Auditor".into(),
        password_hash: hash_password_blocking(PASSWORD).unwrap(),
        totp_secret: Some(secret.clone()),
        totp_enabled: true,
        failed_attempts: 0,
        locked_until: 0,
        last_totp_step: 0,
        disabled: false,
        created_at: 0,
    };
    let audit = Audit {
        actor: "test",
        action: "test",
        object: "x",
        request_id: "-",
        at: 0,
    };
    s.store
        .create_user(&u, &["audit_admin"], &audit)
        .await
        .unwrap();
    let (status, v, cookie) = call(
        s,
        "POST",
        "/api/v1/auth/login",
        "",
        "",
        json!({ "username": username, "password": PASSWORD }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csrf = v["csrf_token"].as_str().unwrap().to_owned();
    let code = totp_for(&secret, &username)
        .unwrap()
        .generate((s.clock.now_ms() / 1000) as u64)
        .to_string();
    let (status, _, _) = call(
        s,
        "POST",
        "/api/v1/auth/totp",
        &cookie,
        &csrf,
        json!({ "code": code }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    (org.id, cookie, csrf)
}

fn tenants(v: &Value) -> std::collections::BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"]["tenant"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn only_the_platform_audit_administrator_reads_every_organisation() {
    let s = crate::harness::state(
        crate::harness::sqlite("scope").await,
        Config::default(),
        RulePack::baseline().unwrap(),
    );
    let (platform, p_cookie, p_csrf) = org_with_auditor(&s, "platform").await;
    let (operator, o_cookie, o_csrf) = org_with_auditor(&s, "operator").await;

    let (status, all, _) = call(
        &s,
        "GET",
        "/api/v1/ledger/entries?limit=1000",
        &p_cookie,
        &p_csrf,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        tenants(&all).contains(&platform) && tenants(&all).contains(&operator),
        "{all}"
    );
    let (_, own, _) = call(
        &s,
        "GET",
        "/api/v1/ledger/entries?limit=1000",
        &o_cookie,
        &o_csrf,
        Value::Null,
    )
    .await;
    assert_eq!(tenants(&own), [operator.clone()].into());
    // Proofs follow the same scope: the platform auditor can prove an operator's entry.
    dengbao_server::ledger::checkpoint(&s).await.unwrap();
    let theirs = all
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entry"]["tenant"] == json!(operator))
        .unwrap()["seq"]
        .as_i64()
        .unwrap();
    let mine = all
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entry"]["tenant"] == json!(platform))
        .unwrap()["seq"]
        .as_i64()
        .unwrap();
    let path = |seq: i64| format!("/api/v1/ledger/entries/{seq}/proof");
    assert_eq!(
        call(&s, "GET", &path(theirs), &p_cookie, &p_csrf, Value::Null)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&s, "GET", &path(mine), &o_cookie, &o_csrf, Value::Null)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}
