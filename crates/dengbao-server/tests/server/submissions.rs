//! The secret-involved and cryptography tracks over the API (Measures art. 29–31, 36, 37), on
//! both backends: an application needs the complete art. 30 dossier, lands with the secrecy
//! department covering the object and is decided by its lead only; a change report and a
//! usage filing likewise; the approved-product list is kept by the cryptography
//! administration alone. Other parties answer as if the submission were absent.

use axum::http::StatusCode;
use dengbao_server::{AppState, Config};
use serde_json::{Value, json};

use crate::reviews::{Session, call, login};

#[tokio::test]
async fn secrecy_and_cryptography_submissions_run_between_the_parties() {
    let (pack, inv) = crate::harness::example();
    for (backend, store) in crate::harness::stores("submissions").await {
        let tag = format!("m{}-", &dengbao_store::new_id()[20..]);
        let now = crate::harness::now_ms();
        let vault = crate::harness::vault(&store);
        dengbao_server::demo::seed_named(&vault, &pack, &inv, now, &tag)
            .await
            .unwrap();
        dengbao_server::demo::seed_organs(&store, now, &tag)
            .await
            .unwrap();
        dengbao_server::demo::seed_parties(&store, now, &tag)
            .await
            .unwrap();
        let s = crate::harness::state(store, Config::default(), pack.clone());
        eprintln!("submissions on {backend}");
        secrecy(&s, &tag).await;
        cryptography(&s, &tag).await;
    }
}

/// The lead of the authority a submission was routed to. On PostgreSQL's shared database the
/// covering authority may be another run's; every demo authority has the same password.
async fn authority_lead(s: &AppState, authority: &str, user: &str) -> (Session, Session) {
    let users = s.store.users(authority).await.unwrap();
    let lead = users
        .iter()
        .find(|u| u.username.ends_with(user))
        .unwrap_or_else(|| panic!("no `{user}` lead in {authority}"));
    (
        login(s, &lead.username).await,
        login(s, &format!("{}-member", lead.username)).await,
    )
}

async fn event_types(s: &AppState, who: &Session, id: &str) -> Vec<String> {
    let (st, v) = call(
        s,
        Some(who),
        "GET",
        &format!("/api/v1/systems/{id}/events"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn material(kind: &str) -> Value {
    json!({ "title": kind, "file_name": format!("{kind}.pdf"), "media_type": "application/pdf", "size": 2048, "sha256": "cd".repeat(32) })
}

async fn secrecy(s: &AppState, tag: &str) {
    let u = |n: &str| format!("{tag}{n}");
    let lead = login(s, &u("lead")).await;
    let psb = login(s, &u("psb")).await;
    let apply = json!({ "purpose": "approval" });
    let path = "/api/v1/systems/archive-c/secrecy-applications";

    // Not secret-involved: pay-core files with the public security organ instead.
    let (st, v) = call(
        s,
        Some(&lead),
        "POST",
        "/api/v1/systems/pay-core/secrecy-applications",
        Some(apply.clone()),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::CONFLICT, Some("secret")),
        "{v}"
    );
    // An unknown purpose names the field and the article.
    let (st, v) = call(
        s,
        Some(&lead),
        "POST",
        path,
        Some(json!({ "purpose": "later" })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("purpose")),
        "{v}"
    );

    // The art. 30 materials missing: refused, each listed.
    let (st, v) = call(s, Some(&lead), "POST", path, Some(apply.clone())).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let missing: Vec<&str> = v["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().or(m.as_str()).unwrap())
        .collect();
    let art30 = [
        "design_plan",
        "integrator_qualification",
        "construction_report",
        "secrecy_evaluation_report",
        "secrecy_organisation",
    ];
    for k in art30 {
        assert!(missing.contains(&k), "{k} not missing: {v}");
    }
    for k in art30 {
        let (st, v) = call(
            s,
            Some(&lead),
            "PUT",
            &format!("/api/v1/systems/archive-c/materials/{k}"),
            Some(material(k)),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{k}: {v}");
    }
    let (st, app) = call(s, Some(&lead), "POST", path, Some(apply.clone())).await;
    assert_eq!(st, StatusCode::OK, "{app}");
    assert_eq!(app["status"], "submitted");
    assert_eq!(app["kind"], "secrecy_application");
    assert_eq!(app["cite"], "Measures art. 29 ¶2, 30");
    assert_eq!(app["may_decide"], false, "the operator never decides");
    let id = app["id"].as_str().unwrap().to_owned();
    // One waiting at a time.
    let (st, v) = call(s, Some(&lead), "POST", path, Some(apply)).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");

    let authority = app["authority_id"].as_str().unwrap();
    let (secrecy, member) = authority_lead(s, authority, "secrecy").await;
    let one = format!("/api/v1/submissions/{id}");
    let decision = format!("{one}/decision");
    // The department reads it in its inbox, waiting first; the lead may decide.
    let (st, inbox) = call(s, Some(&secrecy), "GET", "/api/v1/submissions", None).await;
    assert_eq!(st, StatusCode::OK, "{inbox}");
    let mine = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == json!(id))
        .expect("in the department's inbox");
    assert_eq!(mine["may_decide"], true);
    assert_eq!(mine["payload"]["materials"].as_array().unwrap().len(), 5);
    // The organ, and the operator itself, answer as if absent / refused.
    let (st, _) = call(s, Some(&psb), "GET", &one, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = call(
        s,
        Some(&psb),
        "POST",
        &decision,
        Some(json!({ "decision": "approve" })),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = call(
        s,
        Some(&lead),
        "POST",
        &decision,
        Some(json!({ "decision": "approve" })),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    // The department's member reads but does not decide.
    let (st, _) = call(s, Some(&member), "GET", &one, None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = call(
        s,
        Some(&member),
        "POST",
        &decision,
        Some(json!({ "decision": "approve" })),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    // A decision of another kind, and a return without reasons, name the field.
    let (st, v) = call(
        s,
        Some(&secrecy),
        "POST",
        &decision,
        Some(json!({ "decision": "accept" })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("decision")),
        "{v}"
    );
    let (st, v) = call(
        s,
        Some(&secrecy),
        "POST",
        &decision,
        Some(json!({ "decision": "return" })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reasons")),
        "{v}"
    );

    assert!(
        !event_types(s, &lead, "archive-c")
            .await
            .contains(&"secrecy_approval".to_owned())
    );
    let (st, v) = call(
        s,
        Some(&secrecy),
        "POST",
        &decision,
        Some(json!({ "decision": "approve" })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["may_decide"].as_bool()),
        (Some("approved"), Some(false))
    );
    assert!(v["decided_on"].is_string());
    // The approval is the operator's event (art. 29 ¶2), and it cannot be decided twice.
    assert!(
        event_types(s, &lead, "archive-c")
            .await
            .contains(&"secrecy_approval".to_owned())
    );
    let (st, _) = call(
        s,
        Some(&secrecy),
        "POST",
        &decision,
        Some(json!({ "decision": "approve" })),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);

    // A change (art. 31): the aspect is one of the article's; the date not in the future.
    let change = "/api/v1/systems/archive-c/secret-changes";
    let (st, v) = call(
        s,
        Some(&lead),
        "POST",
        change,
        Some(json!({ "aspect": "colour", "changed_on": "2026-01-05", "description": "d" })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("aspect")),
        "{v}"
    );
    let (st, v) = call(
        s,
        Some(&lead),
        "POST",
        change,
        Some(
            json!({ "aspect": "connection_area", "changed_on": "2999-01-01", "description": "d" }),
        ),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("changed_on")),
        "{v}"
    );
    let (st, rep) = call(s, Some(&lead), "POST", change, Some(json!({ "aspect": "connection_area", "changed_on": "2026-01-05", "description": "Connected to the branch network." }))).await;
    assert_eq!(st, StatusCode::OK, "{rep}");
    assert_eq!(
        (rep["kind"].as_str(), rep["cite"].as_str()),
        (Some("secret_change"), Some("Measures art. 31"))
    );
    let types = event_types(s, &lead, "archive-c").await;
    assert!(
        types.contains(&"secret_change".to_owned())
            && types.contains(&"change_reported".to_owned()),
        "{types:?}"
    );
    let decision = format!(
        "/api/v1/submissions/{}/decision",
        rep["id"].as_str().unwrap()
    );
    let (st, v) = call(
        s,
        Some(&secrecy),
        "POST",
        &decision,
        Some(json!({ "decision": "reapproval_required" })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reasons")),
        "{v}"
    );
    // A time limit belongs to a re-approval only, and not in the past.
    let limit = s.app.clock.today().add_days(60).to_string();
    for (body, field) in [
        (
            json!({ "decision": "no_reapproval", "deadline": limit }),
            "deadline",
        ),
        (
            json!({ "decision": "reapproval_required", "reasons": "r", "deadline": "2000-01-01" }),
            "deadline",
        ),
    ] {
        let (st, v) = call(s, Some(&secrecy), "POST", &decision, Some(body)).await;
        assert_eq!(
            (st, v["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{v}"
        );
    }
    let (st, v) = call(
        s,
        Some(&secrecy),
        "POST",
        &decision,
        Some(
            json!({ "decision": "reapproval_required", "reasons": "The connection area changed.", "deadline": limit }),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "reapproval_required");
    assert_eq!(v["reasons"], "The connection area changed.");
    // The operator sees both, decided, in its own list.
    let (_, own) = call(s, Some(&lead), "GET", "/api/v1/submissions", None).await;
    let statuses: Vec<&str> = own
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["object_id"] == "archive-c")
        .map(|x| x["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 2, "{own}");
    assert!(statuses.contains(&"approved") && statuses.contains(&"reapproval_required"));

    // The decision is the operator's `reapproval_required`: a new approval is owed (art. 31),
    // and the next approval answers it.
    let reapproval = || async {
        let (_, ob) = call(
            s,
            Some(&lead),
            "GET",
            "/api/v1/systems/archive-c/obligations",
            None,
        )
        .await;
        let o = ob["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "secrecy_reapproval")
            .cloned()
            .unwrap_or_else(|| panic!("{ob}"));
        (o["status"].as_str().unwrap().to_owned(), o)
    };
    let (status, o) = reapproval().await;
    assert_eq!(
        (status.as_str(), o["due"].as_str()),
        ("upcoming", Some(limit.as_str())),
        "due by the department's time limit: {o}"
    );
    assert_eq!(o["cite"], "Measures art. 31", "{o}");
    let (st, again) = call(
        s,
        Some(&lead),
        "POST",
        "/api/v1/systems/archive-c/secrecy-applications",
        Some(json!({ "purpose": "approval", "note": "After the change of connection area." })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{again}");
    let (st, v) = call(
        s,
        Some(&secrecy),
        "POST",
        &format!(
            "/api/v1/submissions/{}/decision",
            again["id"].as_str().unwrap()
        ),
        Some(json!({ "decision": "approve" })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (status, o) = reapproval().await;
    assert_eq!(status, "met", "{o}");
}

async fn cryptography(s: &AppState, tag: &str) {
    let lead = login(s, &format!("{tag}lead")).await;
    let psb = login(s, &format!("{tag}psb")).await;
    // Only the cryptography administration keeps the list.
    let product = json!({ "certificate": format!("{tag}GM-1"), "name": "SM HSM", "vendor": "V", "valid_until": "2999-12-31" });
    let (st, v) = call(
        s,
        Some(&lead),
        "POST",
        "/api/v1/crypto-product-list",
        Some(product.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");

    // A filing without algorithms names the field.
    let (st, v) = call(
        s,
        Some(&lead),
        "POST",
        "/api/v1/systems/pay-core/crypto-filings",
        Some(json!({ "algorithms": [], "purposes": "p", "products": [{ "id": "sm-hsm" }] })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("algorithms")),
        "{v}"
    );
    let (st, v) = call(
        s,
        Some(&lead),
        "POST",
        "/api/v1/systems/pay-core/crypto-filings",
        Some(json!({ "algorithms": ["SM2"], "purposes": "p", "products": [{ "id": "nope" }] })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("products[0].id")),
        "{v}"
    );

    let filing = crate::harness::file_crypto(s, tag).await;
    assert_eq!(filing["kind"], "crypto_filing");
    let checks = filing["products"].as_array().unwrap();
    assert_eq!(checks.len(), 1);
    assert!(
        ["listed", "lapsed", "not_listed", "no_certificate"]
            .contains(&checks[0]["status"].as_str().unwrap())
    );
    let authority = filing["authority_id"].as_str().unwrap();
    let (crypto, member) = authority_lead(s, authority, "crypto").await;

    // The list: the administration's lead adds, its member may not; withdrawn stays, invalid.
    let (st, _) = call(
        s,
        Some(&member),
        "POST",
        "/api/v1/crypto-product-list",
        Some(product.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = call(
        s,
        Some(&crypto),
        "POST",
        "/api/v1/crypto-product-list",
        Some(
            json!({ "certificate": "X", "name": "n", "vendor": "v", "valid_until": "2000-01-01" }),
        ),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("valid_until")),
        "{v}"
    );
    let (st, listed) = call(
        s,
        Some(&crypto),
        "POST",
        "/api/v1/crypto-product-list",
        Some(product),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{listed}");
    assert_eq!(listed["valid"], true);
    let gone = format!(
        "/api/v1/crypto-product-list/{}",
        listed["id"].as_str().unwrap()
    );
    let (st, _) = call(s, Some(&lead), "DELETE", &gone, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = call(s, Some(&crypto), "DELETE", &gone, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, all) = call(s, Some(&lead), "GET", "/api/v1/crypto-product-list", None).await;
    let entry = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == listed["id"])
        .expect("withdrawn entries stay on the list");
    assert_eq!(
        (entry["valid"].as_bool(), entry["withdrawn_on"].is_string()),
        (Some(false), true)
    );

    // The filing: the organ cannot see it; the administration accepts it, dated the filing.
    let one = format!("/api/v1/submissions/{}", filing["id"].as_str().unwrap());
    let (st, _) = call(s, Some(&psb), "GET", &one, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let decision = format!("{one}/decision");
    let (st, v) = call(
        s,
        Some(&crypto),
        "POST",
        &decision,
        Some(json!({ "decision": "approve" })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("decision")),
        "{v}"
    );
    // The example's history has an earlier filing: the acceptance adds one.
    let filed = |t: Vec<String>| {
        t.iter()
            .filter(|t| *t == "cryptography_usage_filed")
            .count()
    };
    let before = filed(event_types(s, &lead, "pay-core").await);
    let (st, v) = call(
        s,
        Some(&crypto),
        "POST",
        &decision,
        Some(json!({ "decision": "accept" })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "filed");
    assert_eq!(filed(event_types(s, &lead, "pay-core").await), before + 1);
    // A second filing, naming no product, files the object's products in use; it may be
    // returned, with reasons.
    let (st, again) = call(
        s,
        Some(&lead),
        "POST",
        "/api/v1/systems/pay-core/crypto-filings",
        Some(json!({ "algorithms": ["SM2"], "purposes": "As before, with SM3 logs." })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{again}");
    let filed_ids: Vec<&str> = again["products"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(filed_ids, ["sm-hsm"], "{again}");
    let decision = format!(
        "/api/v1/submissions/{}/decision",
        again["id"].as_str().unwrap()
    );
    let (st, v) = call(
        s,
        Some(&crypto),
        "POST",
        &decision,
        Some(json!({ "decision": "return", "reasons": "Name the key lengths." })),
    )
    .await;
    assert_eq!(
        (st, v["status"].as_str()),
        (StatusCode::OK, Some("returned")),
        "{v}"
    );
}

/// The demo's story: the archive's application waits in the secrecy department's inbox, and
/// the cryptography administration has pay-core's usage filing.
#[tokio::test]
async fn the_demo_has_a_waiting_application_and_a_usage_filing() {
    let s = crate::harness::demo("submissions-demo").await;
    dengbao_server::demo::seed_party_story(&s.app, "")
        .await
        .unwrap();
    for (user, kind, object) in [
        ("secrecy", "secrecy_application", "archive-c"),
        ("crypto", "crypto_filing", "pay-core"),
    ] {
        let who = login(&s, user).await;
        let (st, inbox) = call(&s, Some(&who), "GET", "/api/v1/submissions", None).await;
        assert_eq!(st, StatusCode::OK, "{inbox}");
        let items = inbox.as_array().unwrap();
        assert_eq!(items.len(), 1, "{inbox}");
        assert_eq!(
            (items[0]["kind"].as_str(), items[0]["object_id"].as_str()),
            (Some(kind), Some(object))
        );
        assert_eq!(
            (
                items[0]["status"].as_str(),
                items[0]["may_decide"].as_bool()
            ),
            (Some("submitted"), Some(true))
        );
    }
}

/// The pages answer as the API does: each party sees on `/submissions` only what reached it
/// or what it sent, a decision posted by another party is refused (404 to an authority that
/// never received it, 403 to the operator), and a decision made on the page lands.
#[tokio::test]
async fn the_submissions_page_shows_each_party_only_its_own() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let s = crate::harness::demo("submissions-pages").await;
    dengbao_server::demo::seed_party_story(&s.app, "")
        .await
        .unwrap();
    let page = |who: &Session| {
        Request::get("/submissions")
            .header(header::COOKIE, &who.cookie)
            .body(Body::empty())
            .unwrap()
    };
    let html_of = |b: Vec<u8>| String::from_utf8(b).unwrap();
    let mut seen = Vec::new();
    for user in ["lead", "secrecy", "crypto", "psb", "psb-other", "dept"] {
        let who = login(&s, user).await;
        let (st, _, html) = crate::harness::send(&s, page(&who)).await;
        assert_eq!(st, StatusCode::OK, "{user}");
        let html = html_of(html);
        seen.push((
            user,
            html.contains("archive-c</code>"),
            html.contains("pay-core</code>"),
        ));
    }
    assert_eq!(
        seen,
        [
            ("lead", true, true),
            ("secrecy", true, false),
            ("crypto", false, true),
            ("psb", false, false),
            ("psb-other", false, false),
            ("dept", false, false),
        ],
        "(who, sees the archive's application, sees pay-core's filing)"
    );

    let secrecy = login(&s, "secrecy").await;
    let (_, inbox) = call(&s, Some(&secrecy), "GET", "/api/v1/submissions", None).await;
    let id = inbox[0]["id"].as_str().unwrap().to_owned();
    let decide = |who: &Session, body: &str| {
        Request::post(format!("/submissions/{id}/decision"))
            .header(header::COOKIE, &who.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("_csrf={}&{body}", who.csrf)))
            .unwrap()
    };
    for (user, status) in [
        ("crypto", StatusCode::NOT_FOUND),
        ("psb-other", StatusCode::NOT_FOUND),
        ("lead", StatusCode::FORBIDDEN),
    ] {
        let who = login(&s, user).await;
        let (st, _, _) = crate::harness::send(&s, decide(&who, "decision=approve")).await;
        assert_eq!(
            st, status,
            "{user} deciding the secrecy department's application"
        );
    }
    // A decision of another kind is refused on the page, naming the field; then it lands.
    let (st, _, html) = crate::harness::send(&s, decide(&secrecy, "decision=accept")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html_of(html).contains("decision"));
    let (st, headers, _) = crate::harness::send(&s, decide(&secrecy, "decision=approve")).await;
    assert_eq!(
        (st, headers[header::LOCATION].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/submissions?ok=sub.decided_ok")
    );
    let (_, after) = call(
        &s,
        Some(&secrecy),
        "GET",
        &format!("/api/v1/submissions/{id}"),
        None,
    )
    .await;
    assert_eq!(after["status"], "approved");
}
