//! Supervision over the API (Measures art. 18–20): the public security organ lists the
//! objects its jurisdiction covers with their inspection cadence from the engine, records
//! an inspection on the matters of art. 18 ¶2 and sends a rectification notice — each the
//! operator's event and ledger entry; another city's organ, the organ's member, the
//! department in charge and the operator itself cannot.

use axum::http::StatusCode;
use dengbao_server::Config;
use serde_json::{Value, json};

use crate::reviews::{call, login};

/// Every object the caller supervises, page by page.
async fn area(s: &dengbao_server::AppState, who: &crate::reviews::Session) -> Value {
    let mut all = Vec::new();
    for page in 1.. {
        let (st, v) = call(
            s,
            Some(who),
            "GET",
            &format!("/api/v1/supervision/systems?per_page=500&page={page}"),
            None,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let items = v["items"].as_array().unwrap();
        all.extend(items.iter().cloned());
        if all.len() >= v["total"].as_u64().unwrap() as usize || items.is_empty() {
            break;
        }
    }
    Value::Array(all)
}

#[tokio::test]
async fn the_organ_inspects_what_its_jurisdiction_covers_and_orders_rectification() {
    let (pack, inv) = crate::harness::example();
    for (backend, store) in crate::harness::stores("supervision").await {
        // Each run its own organisations: PostgreSQL's database is shared between runs.
        let tag = format!("v{}-", &dengbao_store::new_id()[20..]);
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
        eprintln!("supervision on {backend}");
        journey(&s, &tag).await;
    }
}

async fn journey(s: &dengbao_server::AppState, tag: &str) {
    let u = |name: &str| format!("{tag}{name}");
    let lead = login(s, &u("lead")).await;
    let psb = login(s, &u("psb")).await;
    let (_, me) = call(s, Some(&lead), "GET", "/api/v1/me", None).await;
    let op = me["organisation_id"].as_str().unwrap().to_owned();

    // Shanghai's bureau (city level, 3101xx) supervises pay-core and the archive in Pudong
    // (310115); the objects without a division, or at province level (310000), are not in
    // its city.
    let list = area(s, &psb).await;
    let mine: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["operator_id"] == json!(op))
        .collect();
    let mut ids: Vec<&str> = mine
        .iter()
        .map(|o| o["object_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["archive-c", "pay-core"], "{list}");
    let pay = mine.iter().find(|o| o["object_id"] == "pay-core").unwrap();
    assert_eq!(pay["grade"], "III");
    assert!(
        pay["inspection_cite"].as_str().unwrap().contains("art. 18"),
        "{pay}"
    );
    assert!(pay["inspection_status"].is_string(), "{pay}");
    for who in ["psb-other", "dept", "lead", "evaluator"] {
        let w = login(s, &u(who)).await;
        let l = area(s, &w).await;
        assert!(!l.to_string().contains(&op), "{who} sees the operator: {l}");
    }

    // The cryptography administration sees nothing before a usage filing (art. 36) — then
    // the filed object, its product checked against the approved list (art. 37).
    let crypto = login(s, &u("crypto")).await;
    let before = area(s, &crypto).await;
    assert!(
        !before.to_string().contains(&op),
        "crypto before filing: {before}"
    );
    let filed = crate::harness::file_crypto(s, tag).await;
    let check = &filed["products"][0];
    assert_eq!(
        (
            filed["kind"].as_str(),
            filed["status"].as_str(),
            check["id"].as_str()
        ),
        (Some("crypto_filing"), Some("submitted"), Some("sm-hsm")),
        "{filed}"
    );
    // Declared approved in the registry: flagged unless a list has it (the lists are
    // platform-wide, and PostgreSQL's database is shared with other runs).
    let listed = check["status"] == "listed";
    assert!(listed || check["status"] == "not_listed", "{filed}");
    assert_eq!(check["declared_approved"], json!(!listed), "{filed}");
    // Routed to the most local administration covering the division: on a shared database
    // that may be another run's of the same division — then ours sees nothing of it.
    let (_, crypto_me) = call(s, Some(&crypto), "GET", "/api/v1/me", None).await;
    let ours = filed["authority_id"] == crypto_me["organisation_id"];
    if !ours {
        eprintln!(
            "the filing went to another run's administration of the same division: ours must see nothing"
        );
    }
    // The secrecy bureau sees the secret-involved archive only, the cryptography
    // administration the filed system only (both province level).
    for (who, want) in [
        ("secrecy", vec!["archive-c"]),
        ("crypto", if ours { vec!["pay-core"] } else { vec![] }),
    ] {
        let w = login(s, &u(who)).await;
        let l = area(s, &w).await;
        let seen: Vec<&str> = l
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["operator_id"] == json!(op))
            .map(|o| o["object_id"].as_str().unwrap())
            .collect();
        assert_eq!(seen, want, "{who}: {l}");
        // Each plans its own periodic act from the engine: the secrecy bureau its
        // examination (art. 33(6)), not the organ's inspection.
        if who == "secrecy" {
            let archive = l
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["operator_id"] == json!(op) && o["object_id"] == "archive-c")
                .unwrap();
            assert_eq!(
                archive["inspection_cite"], "Measures art. 33(6)",
                "{archive}"
            );
        }
    }
    // The secrecy bureau's act is an examination, without the organ's inspection matters.
    let secrecy = login(s, &u("secrecy")).await;
    let exam = format!("/api/v1/supervision/{op}/systems/archive-c/inspections");
    let today0 = s.app.clock.today().to_string();
    let (st, v) = call(
        s,
        Some(&secrecy),
        "POST",
        &exam,
        Some(json!({ "date": today0, "findings": ["other"] })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("findings")),
        "{v}"
    );
    let (st, v) = call(
        s,
        Some(&secrecy),
        "POST",
        &exam,
        Some(json!({ "date": today0 })),
    )
    .await;
    assert_eq!(
        (st, v["event"]["type"].as_str()),
        (StatusCode::OK, Some("secrecy_examination")),
        "{v}"
    );
    let (st, _) = call(
        s,
        Some(&secrecy),
        "POST",
        &format!("/api/v1/supervision/{op}/systems/pay-core/inspections"),
        Some(json!({ "date": today0 })),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "not secret-involved: not the bureau's"
    );
    // Its approval before operation (art. 29 ¶2) meets the archive's obligation; the organ
    // does not approve secret-involved systems.
    let approval = format!("/api/v1/supervision/{op}/systems/archive-c/secrecy-approval");
    let (st, _) = call(s, Some(&psb), "POST", &approval, Some(json!({}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = call(
        s,
        Some(&secrecy),
        "POST",
        &approval,
        Some(json!({ "note": "沪密审〔2026〕12号" })),
    )
    .await;
    assert_eq!(
        (st, v["event"]["type"].as_str()),
        (StatusCode::OK, Some("secrecy_approval")),
        "{v}"
    );
    let (_, ob) = call(
        s,
        Some(&lead),
        "GET",
        "/api/v1/systems/archive-c/obligations",
        None,
    )
    .await;
    let approved = ob["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "secrecy_approval")
        .unwrap();
    assert_eq!(
        approved["satisfied_by"]["event"], "secrecy_approval",
        "{approved}"
    );

    let base = format!("/api/v1/supervision/{op}/systems/pay-core");
    let today = s.app.clock.today();
    let inspection = json!({ "date": today.to_string(), "findings": ["management_system", "rectification_status"], "note": "Inspection No. 2026-31" });
    // Who may not: the organ's member (403), another organ, the department, the agency
    // (absent), the operator (never its own inspector).
    for (who, want) in [
        ("psb-member", StatusCode::FORBIDDEN),
        ("psb-other", StatusCode::NOT_FOUND),
        ("dept", StatusCode::NOT_FOUND),
        ("evaluator", StatusCode::NOT_FOUND),
        ("lead", StatusCode::FORBIDDEN),
    ] {
        let w = login(s, &u(who)).await;
        let (st, _) = call(
            s,
            Some(&w),
            "POST",
            &format!("{base}/inspections"),
            Some(inspection.clone()),
        )
        .await;
        assert_eq!(st, want, "{who}");
    }
    let (st, _) = call(
        s,
        Some(&psb),
        "POST",
        &format!("/api/v1/supervision/{op}/systems/nope/inspections"),
        Some(inspection.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    for (field, body) in [
        (
            "findings[1]",
            json!({ "date": today.to_string(), "findings": ["management_system", "vibes"] }),
        ),
        ("date", json!({ "date": today.add_days(3).to_string() })),
    ] {
        let (st, v) = call(
            s,
            Some(&psb),
            "POST",
            &format!("{base}/inspections"),
            Some(body),
        )
        .await;
        assert_eq!(
            (st, v["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{v}"
        );
    }
    let (st, v) = call(
        s,
        Some(&psb),
        "POST",
        &format!("{base}/inspections"),
        Some(inspection),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["event"]["type"], "inspection");
    assert_eq!(v["recorded_by"], json!(u("psb")));

    // The rectification notice, with its time limit.
    for (field, body) in [
        (
            "deadline",
            json!({ "deadline": today.to_string(), "reasons": "x" }),
        ),
        (
            "reasons",
            json!({ "deadline": today.add_days(30).to_string(), "reasons": " " }),
        ),
    ] {
        let (st, v) = call(
            s,
            Some(&psb),
            "POST",
            &format!("{base}/rectification-notices"),
            Some(body),
        )
        .await;
        assert_eq!(
            (st, v["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{v}"
        );
    }
    let deadline = today.add_days(30).to_string();
    let (st, v) = call(
        s,
        Some(&psb),
        "POST",
        &format!("{base}/rectification-notices"),
        Some(json!({ "deadline": deadline, "reasons": "Rectify the management system findings." })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // On the operator's side: both acts in its history, the notice's time limit running.
    let (_, ev) = call(
        s,
        Some(&lead),
        "GET",
        "/api/v1/systems/pay-core/events",
        None,
    )
    .await;
    let by_psb: Vec<&Value> = ev
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["recorded_by"] == json!(u("psb")))
        .collect();
    assert_eq!(by_psb.len(), 2, "{ev}");
    assert_eq!(
        by_psb
            .iter()
            .find(|e| e["event"]["type"] == "inspection")
            .unwrap()["event"]["findings"],
        json!(["management_system", "rectification_status"])
    );
    assert_eq!(
        by_psb
            .iter()
            .find(|e| e["event"]["type"] == "rectification_notice")
            .unwrap()["event"]["deadline"],
        json!(deadline)
    );
    let (_, ob) = call(
        s,
        Some(&lead),
        "GET",
        "/api/v1/systems/pay-core/obligations",
        None,
    )
    .await;
    // The inspection today meets the engine's supervisory-inspection obligation.
    let sup = ob["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "supervisory_inspection")
        .unwrap();
    assert_eq!(
        sup["satisfied_by"]["date"],
        json!(today.to_string()),
        "{sup}"
    );
    let (_, entries) = call(
        s,
        Some(&lead),
        "GET",
        "/api/v1/ledger/entries?limit=1000",
        None,
    )
    .await;
    let acts: Vec<(String, String)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["entry"]["action"].as_str().unwrap().to_owned(),
                e["entry"]["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for act in ["supervision.inspect", "supervision.rectification_notice"] {
        assert!(acts.contains(&(act.into(), u("psb"))), "{act} in {acts:?}");
    }
}

#[tokio::test]
async fn the_supervision_page_records_an_inspection_with_its_matters() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let s = crate::harness::demo("supervision-web").await;
    crate::harness::file_crypto(&s, "").await;
    let psb = login(&s, "psb").await;
    let member = login(&s, "psb-member").await;
    let crypto = login(&s, "crypto").await;
    let lead = login(&s, "lead").await;
    let get = |who: &crate::reviews::Session, path: &str| {
        Request::get(path)
            .header(header::COOKIE, &who.cookie)
            .body(Body::empty())
            .unwrap()
    };
    let (st, headers, _) = crate::harness::send(&s, get(&crypto, "/")).await;
    assert_eq!(
        (st, headers[header::LOCATION].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/supervision")
    );
    let (_, _, html) = crate::harness::send(&s, get(&crypto, "/supervision")).await;
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("辖区监督检查") && html.contains("Payment core system"),
        "{html}"
    );
    assert!(
        !html.contains("Confidential records archive"),
        "not using cryptography"
    );
    assert!(
        !html.contains("name=\"findings\""),
        "an examination has no inspection matters"
    );

    let (_, _, html) = crate::harness::send(&s, get(&psb, "/supervision")).await;
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("备案材料与实际情况是否相符") && html.contains("/notice\""),
        "{html}"
    );
    assert!(
        html.contains("id=\"area-summary\"") && html.contains("<meter"),
        "the area at a glance: {html}"
    );
    let (_, _, html) = crate::harness::send(&s, get(&member, "/supervision")).await;
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("Payment core system") && !html.contains("/inspection\""),
        "a member reads only"
    );

    // The dashboard agrees with the list it summarises (two computations: the list's per
    // object, the dashboard's per operator, cached).
    let list = area(&s, &psb).await;
    let list = list.as_array().unwrap();
    let (st, v) = call(
        &s,
        Some(&psb),
        "GET",
        "/api/v1/supervision/systems?per_page=501",
        None,
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("per_page"))
    );
    let (_, one) = call(
        &s,
        Some(&psb),
        "GET",
        "/api/v1/supervision/systems?per_page=1&page=2",
        None,
    )
    .await;
    assert_eq!(
        (
            one["items"].as_array().unwrap().len(),
            one["total"].as_u64()
        ),
        (1, Some(list.len() as u64))
    );
    assert_eq!(one["items"][0], list[1], "pages follow the same order");
    for _ in 0..2 {
        let (st, d) = call(&s, Some(&psb), "GET", "/api/v1/supervision/dashboard", None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(d["systems"], json!(list.len()), "{d}");
        let operators: std::collections::BTreeSet<&str> = list
            .iter()
            .map(|o| o["operator_id"].as_str().unwrap())
            .collect();
        assert_eq!(d["operators"], json!(operators.len()));
        let by_grade: u64 = d["by_grade"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(by_grade, list.len() as u64);
        // The filings by status are the organ's queue, counted.
        let (_, queue) = call(&s, Some(&psb), "GET", "/api/v1/reviews", None).await;
        let mut counts = serde_json::Map::new();
        for r in queue.as_array().unwrap() {
            let k = r["status"].as_str().unwrap().to_owned();
            let n = counts.get(&k).and_then(|v| v.as_u64()).unwrap_or(0);
            counts.insert(k, json!(n + 1));
        }
        assert_eq!(d["filings"], Value::Object(counts), "{d}");
        let violations: u64 = list.iter().map(|o| o["violations"].as_u64().unwrap()).sum();
        assert_eq!(d["violations_total"], json!(violations));
        let late = list
            .iter()
            .filter(|o| o["inspection_status"] == "overdue")
            .count();
        assert_eq!(d["inspections_overdue"], json!(late));
        assert!(d["overdue_total"].as_u64().unwrap() >= late as u64);
        let dues: Vec<&str> = d["overdue"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|o| o["due"].as_str())
            .collect();
        assert!(
            dues.windows(2).all(|w| w[0] <= w[1]),
            "oldest first: {dues:?}"
        );
    }
    let (_, d) = call(
        &s,
        Some(&lead),
        "GET",
        "/api/v1/supervision/dashboard",
        None,
    )
    .await;
    assert_eq!(
        (d["systems"].as_u64(), d["overdue_total"].as_u64()),
        (Some(0), Some(0)),
        "an operator supervises nothing"
    );
    let (_, me) = call(&s, Some(&lead), "GET", "/api/v1/me", None).await;
    let op = me["organisation_id"].as_str().unwrap();
    let today = s.app.clock.today().to_string();
    let req = Request::post(format!("/supervision/{op}/pay-core/inspection"))
        .header(header::COOKIE, &psb.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "_csrf={}&date={today}&findings=evaluations_done&findings=products_conform&note=No.+7",
            psb.csrf
        )))
        .unwrap();
    let (st, headers, _) = crate::harness::send(&s, req).await;
    assert_eq!(
        (st, headers[header::LOCATION].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/supervision?ok=sup.inspected_ok")
    );
    let (_, ev) = call(
        &s,
        Some(&lead),
        "GET",
        "/api/v1/systems/pay-core/events",
        None,
    )
    .await;
    let inspection = ev
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["recorded_by"] == "psb")
        .unwrap();
    assert_eq!(
        inspection["event"]["findings"],
        json!(["evaluations_done", "products_conform"])
    );
    assert_eq!(inspection["event"]["note"], "No. 7");
    // A notice without reasons comes back on the page with the field.
    let req = Request::post(format!("/supervision/{op}/pay-core/notice"))
        .header(header::COOKIE, &psb.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "_csrf={}&deadline=2099-01-01&reasons=",
            psb.csrf
        )))
        .unwrap();
    let (st, _, html) = crate::harness::send(&s, req).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8(html).unwrap().contains("reasons"));
}
