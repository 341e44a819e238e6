//! Art. 40 as a tracked workflow over the API: the item's authority orders the correction of
//! a violation on record within a time limit (the operator's notice), warns once the limit
//! has passed with the violation still there and informs the department in charge, which
//! then reads the enforcement; a corrected one is closed. Wrong authorities, members, other
//! organs and strangers cannot.

use axum::http::StatusCode;
use serde_json::json;

use crate::reviews::{call, login};

#[tokio::test]
async fn an_order_to_correct_becomes_a_warning_with_the_department_informed() {
    let s = crate::harness::demo("enforcement").await;
    crate::harness::file_crypto(&s, "").await;
    let lead = login(&s, "lead").await;
    let psb = login(&s, "psb").await;
    let (_, me) = call(&s, Some(&lead), "GET", "/api/v1/me", None).await;
    let op = me["organisation_id"].as_str().unwrap().to_owned();
    let (_, dept_me) = call(
        &s,
        Some(&login(&s, "dept").await),
        "GET",
        "/api/v1/me",
        None,
    )
    .await;
    let dept_id = dept_me["organisation_id"].as_str().unwrap().to_owned();
    let url = format!("/api/v1/supervision/{op}/systems/pay-core/enforcements");
    let today = s.app.clock.today();
    let tomorrow = today.add_days(1).to_string();
    // pay-core's grade evaluation is overdue: art. 40(4) is on record; 40(1) is not.
    let order =
        json!({ "item": 4, "deadline": tomorrow, "reasons": "Have the grade evaluation done." });
    for (who, body, want) in [
        ("psb-member", order.clone(), StatusCode::FORBIDDEN),
        ("psb-other", order.clone(), StatusCode::NOT_FOUND),
        ("crypto", order.clone(), StatusCode::FORBIDDEN), // 40(4) is the organ's
        ("dept", order.clone(), StatusCode::NOT_FOUND),
        ("lead", order.clone(), StatusCode::FORBIDDEN),
        (
            "psb",
            json!({ "item": 9, "deadline": tomorrow, "reasons": "x" }),
            StatusCode::FORBIDDEN,
        ), // 40(9) is cryptography's
        (
            "psb",
            json!({ "item": 1, "deadline": tomorrow, "reasons": "x" }),
            StatusCode::CONFLICT,
        ), // not on record
        (
            "psb",
            json!({ "item": 11, "deadline": tomorrow, "reasons": "x" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "psb",
            json!({ "item": 4, "deadline": today.to_string(), "reasons": "x" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let w = login(&s, who).await;
        let (st, v) = call(&s, Some(&w), "POST", &url, Some(body)).await;
        assert_eq!(st, want, "{who}: {v}");
    }
    let (st, e) = call(&s, Some(&psb), "POST", &url, Some(order.clone())).await;
    assert_eq!(st, StatusCode::OK, "{e}");
    assert_eq!(
        (
            e["stage"].as_str(),
            e["cite"].as_str(),
            e["may_act"].as_bool()
        ),
        (Some("ordered"), Some("Measures art. 40(4)"), Some(true))
    );
    let (st, _) = call(&s, Some(&psb), "POST", &url, Some(order)).await;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "one open order per item and object"
    );
    let id = e["id"].as_str().unwrap().to_owned();
    let one = format!("/api/v1/enforcements/{id}");

    // The operator got the notice with its time limit, and sees the enforcement.
    let (_, ev) = call(
        &s,
        Some(&lead),
        "GET",
        "/api/v1/systems/pay-core/events",
        None,
    )
    .await;
    let notice = ev
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["recorded_by"] == "psb")
        .unwrap();
    assert_eq!(notice["event"]["type"], "rectification_notice");
    assert_eq!(notice["event"]["deadline"], json!(tomorrow));
    let (_, mine) = call(&s, Some(&lead), "GET", "/api/v1/enforcements", None).await;
    assert_eq!(mine[0]["id"], json!(id));
    // Not yet informed: the department does not see it; nobody may warn before the limit.
    let dept = login(&s, "dept").await;
    let (st, _) = call(&s, Some(&dept), "GET", &one, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = call(&s, Some(&psb), "POST", &format!("{one}/warning"), None).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["detail"].as_str().unwrap().contains(&tomorrow), "{v}");

    // Two days on, still not evaluated: the warning, the department informed.
    s.app.clock.advance(2 * 86_400_000);
    let psb = login(&s, "psb").await;
    let (_, v) = call(&s, Some(&psb), "GET", &one, None).await;
    assert_eq!(v["overdue"], true);
    let (st, v) = call(&s, Some(&psb), "POST", &format!("{one}/warning"), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["stage"], "warned");
    assert_eq!(v["informed"], json!([dept_id]));
    let dept = login(&s, "dept").await;
    let (st, v) = call(&s, Some(&dept), "GET", &one, None).await;
    assert_eq!(
        (st, v["may_act"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{v}"
    );
    let (_, list) = call(&s, Some(&dept), "GET", "/api/v1/enforcements", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (st, _) = call(&s, Some(&dept), "POST", &format!("{one}/close"), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let other = login(&s, "psb-other").await;
    let (st, _) = call(&s, Some(&other), "GET", &one, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Corrected: closed, once.
    let (st, v) = call(&s, Some(&psb), "POST", &format!("{one}/close"), None).await;
    assert_eq!(
        (st, v["stage"].as_str()),
        (StatusCode::OK, Some("closed")),
        "{v}"
    );
    let (st, _) = call(&s, Some(&psb), "POST", &format!("{one}/close"), None).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let lead = login(&s, "lead").await;
    let (_, entries) = call(
        &s,
        Some(&lead),
        "GET",
        "/api/v1/ledger/entries?limit=1000",
        None,
    )
    .await;
    let acts: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entry"]["actor"] == "psb")
        .map(|e| e["entry"]["action"].as_str().unwrap())
        .collect();
    for act in ["enforcement.order", "enforcement.warn", "enforcement.close"] {
        assert!(acts.contains(&act), "{act} in {acts:?}");
    }
}

#[tokio::test]
async fn the_enforcement_pages_order_and_list() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let s = crate::harness::demo("enforcement-web").await;
    let psb = login(&s, "psb").await;
    let lead = login(&s, "lead").await;
    let dept = login(&s, "dept").await;
    let page = |who: &crate::reviews::Session, path: &str| {
        Request::get(path)
            .header(header::COOKIE, &who.cookie)
            .body(Body::empty())
            .unwrap()
    };
    let (_, _, html) = crate::harness::send(&s, page(&psb, "/supervision")).await;
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("/enforcement\"") && html.contains("责令限期改正"),
        "{html}"
    );
    let (_, me) = call(&s, Some(&lead), "GET", "/api/v1/me", None).await;
    let op = me["organisation_id"].as_str().unwrap();
    let deadline = s.app.clock.today().add_days(20).to_string();
    let req = Request::post(format!("/supervision/{op}/pay-core/enforcement"))
        .header(header::COOKIE, &psb.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "_csrf={}&item=4&deadline={deadline}&reasons=%E5%AE%8C%E6%88%90%E7%AD%89%E7%BA%A7%E6%B5%8B%E8%AF%84",
            psb.csrf
        )))
        .unwrap();
    let (st, headers, _) = crate::harness::send(&s, req).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/enforcements?ok=enf.ordered_ok");
    let (_, _, html) = crate::harness::send(&s, page(&psb, "/enforcements")).await;
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("完成等级测评") && html.contains("/warning\""),
        "{html}"
    );
    let (_, _, html) = crate::harness::send(&s, page(&lead, "/enforcements")).await;
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("完成等级测评") && !html.contains("/warning\""),
        "the operator reads it"
    );
    let (_, _, html) = crate::harness::send(&s, page(&dept, "/enforcements")).await;
    assert!(
        String::from_utf8(html)
            .unwrap()
            .contains("id=\"enforcements-empty\""),
        "not informed yet"
    );
    // A second order for the same item comes back on the page.
    let req = Request::post(format!("/supervision/{op}/pay-core/enforcement"))
        .header(header::COOKIE, &psb.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "_csrf={}&item=4&deadline={deadline}&reasons=again",
            psb.csrf
        )))
        .unwrap();
    let (st, _, html) = crate::harness::send(&s, req).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(
        String::from_utf8(html)
            .unwrap()
            .contains("already under an order")
    );
}

#[tokio::test]
async fn the_organ_asks_for_art_19_information_and_the_operator_answers_once() {
    let s = crate::harness::demo("info-requests").await;
    let lead = login(&s, "lead").await;
    let psb = login(&s, "psb").await;
    let (_, me) = call(&s, Some(&lead), "GET", "/api/v1/me", None).await;
    let op = me["organisation_id"].as_str().unwrap().to_owned();
    let url = format!("/api/v1/supervision/{op}/systems/pay-core/info-requests");
    let due = s.app.clock.today().add_days(10).to_string();
    let ask = json!({ "kinds": ["evaluation_report", "emergency_plan", "evaluation_report"], "due": due, "note": "2025年度测评报告及应急预案" });
    for (field, bad) in [
        ("kinds", json!({ "kinds": [], "due": due })),
        (
            "kinds[1]",
            json!({ "kinds": ["construction_reports", "gossip"], "due": due }),
        ),
        (
            "due",
            json!({ "kinds": ["construction_reports"], "due": s.app.clock.today().to_string() }),
        ),
    ] {
        let (st, v) = call(&s, Some(&psb), "POST", &url, Some(bad)).await;
        assert_eq!(
            (st, v["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{v}"
        );
    }
    for (who, want) in [
        ("psb-member", StatusCode::FORBIDDEN),
        ("psb-other", StatusCode::NOT_FOUND),
        ("dept", StatusCode::NOT_FOUND),
        ("lead", StatusCode::FORBIDDEN),
    ] {
        let w = login(&s, who).await;
        let (st, _) = call(&s, Some(&w), "POST", &url, Some(ask.clone())).await;
        assert_eq!(st, want, "{who}");
    }
    let (st, r) = call(&s, Some(&psb), "POST", &url, Some(ask)).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["kinds"], json!(["evaluation_report", "emergency_plan"]));
    assert_eq!(
        r["cites"],
        json!(["Measures art. 19(6)", "Measures art. 19(8)"])
    );
    let id = r["id"].as_str().unwrap().to_owned();
    let one = format!("/api/v1/info-requests/{id}");
    // The operator sees it and answers; its member cannot; the other organ sees nothing.
    let (_, mine) = call(&s, Some(&lead), "GET", "/api/v1/info-requests", None).await;
    assert_eq!(mine[0]["id"], json!(id));
    let member = crate::reviews::login_with(&s, "member", "Dengbao#2026-2").await;
    let (st, _) = call(
        &s,
        Some(&member),
        "POST",
        &format!("{one}/answer"),
        Some(json!({ "answer": "x" })),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let other = login(&s, "psb-other").await;
    let (st, _) = call(&s, Some(&other), "GET", &one, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = call(
        &s,
        Some(&psb),
        "POST",
        &format!("{one}/answer"),
        Some(json!({ "answer": "x" })),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "the organ does not answer for the operator"
    );
    let (st, v) = call(
        &s,
        Some(&lead),
        "POST",
        &format!("{one}/answer"),
        Some(json!({ "answer": " " })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("answer"))
    );
    let (st, v) = call(
        &s,
        Some(&lead),
        "POST",
        &format!("{one}/answer"),
        Some(json!({ "answer": "见附件：测评报告 SH-2025-031；应急预案 v3。" })),
    )
    .await;
    assert_eq!(
        (st, v["status"].as_str()),
        (StatusCode::OK, Some("answered")),
        "{v}"
    );
    let (st, _) = call(
        &s,
        Some(&lead),
        "POST",
        &format!("{one}/answer"),
        Some(json!({ "answer": "again" })),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, v) = call(&s, Some(&psb), "GET", &one, None).await;
    assert_eq!(
        (v["answer"].as_str(), v["answered_by"].as_str()),
        (
            Some("见附件：测评报告 SH-2025-031；应急预案 v3。"),
            Some("lead")
        )
    );
}

#[tokio::test]
async fn the_information_request_pages_ask_and_answer() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let s = crate::harness::demo("info-web").await;
    let psb = login(&s, "psb").await;
    let lead = login(&s, "lead").await;
    let post = |who: &crate::reviews::Session, path: String, form: String| {
        Request::post(path)
            .header(header::COOKIE, &who.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("_csrf={}&{form}", who.csrf)))
            .unwrap()
    };
    let get = |who: &crate::reviews::Session, path: &str| {
        Request::get(path)
            .header(header::COOKIE, &who.cookie)
            .body(Body::empty())
            .unwrap()
    };
    let (_, me) = call(&s, Some(&lead), "GET", "/api/v1/me", None).await;
    let op = me["organisation_id"].as_str().unwrap();
    let due = s.app.clock.today().add_days(7).to_string();
    let (st, headers, _) = crate::harness::send(
        &s,
        post(
            &psb,
            format!("/supervision/{op}/pay-core/info-request"),
            format!("kinds=operating_records&kinds=emergency_plan&due={due}&note="),
        ),
    )
    .await;
    assert_eq!(
        (st, headers[header::LOCATION].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/info-requests?ok=info.asked_ok")
    );
    let (_, _, html) = crate::harness::send(&s, get(&lead, "/info-requests")).await;
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("信息系统运行状况记录") && html.contains("/answer\""),
        "{html}"
    );
    let (_, list) = call(&s, Some(&lead), "GET", "/api/v1/info-requests", None).await;
    let id = list[0]["id"].as_str().unwrap();
    let (st, headers, _) = crate::harness::send(
        &s,
        post(
            &lead,
            format!("/info-requests/{id}/answer"),
            "answer=%E5%B7%B2%E6%8F%90%E4%BE%9B".into(),
        ),
    )
    .await;
    assert_eq!(
        (st, headers[header::LOCATION].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/info-requests?ok=info.answered_ok")
    );
    let (_, _, html) = crate::harness::send(&s, get(&psb, "/info-requests")).await;
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("已提供") && !html.contains("/answer\""),
        "the organ reads the answer: {html}"
    );
    // No kind ticked: back on the page with the field.
    let (st, _, html) = crate::harness::send(
        &s,
        post(
            &psb,
            format!("/supervision/{op}/pay-core/info-request"),
            format!("due={due}"),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8(html).unwrap().contains("kinds"));
}

/// Art. 19: an answer gives files from the object's dossier. The organ reads each as it was
/// answered — replacing the material afterwards does not change what was given; a kind not
/// in the dossier is refused naming its index; the other organ and a wrong hash find nothing.
#[tokio::test]
async fn an_art_19_answer_gives_dossier_files_the_organ_reads_as_answered() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let s = crate::harness::demo("info-files").await;
    let lead = login(&s, "lead").await;
    let psb = login(&s, "psb").await;
    let upload = |bytes: &str| {
        let boundary = "XinfoX";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nother_materials\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n应急预案\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"应急预案.txt\"\r\nContent-Type: text/plain\r\n\r\n{bytes}\r\n--{boundary}--\r\n",
            lead.csrf
        );
        Request::post("/systems/pay-core/dossier/upload")
            .header(header::COOKIE, &lead.cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap()
    };
    let (st, _, _) = crate::harness::send(&s, upload("预案 v3")).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, me) = call(&s, Some(&lead), "GET", "/api/v1/me", None).await;
    let op = me["organisation_id"].as_str().unwrap().to_owned();
    let due = s.app.clock.today().add_days(10).to_string();
    let (_, r) = call(
        &s,
        Some(&psb),
        "POST",
        &format!("/api/v1/supervision/{op}/systems/pay-core/info-requests"),
        Some(json!({ "kinds": ["emergency_plan"], "due": due })),
    )
    .await;
    let one = format!("/api/v1/info-requests/{}", r["id"].as_str().unwrap());

    // The operator's page offers the dossier's files with the answer.
    let (_, _, html) = crate::harness::send(
        &s,
        Request::get("/info-requests")
            .header(header::COOKIE, &lead.cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        String::from_utf8(html)
            .unwrap()
            .contains("name=\"materials\" value=\"other_materials\""),
        "the answer form lists the dossier's files"
    );
    let (st, v) = call(
        &s,
        Some(&lead),
        "POST",
        &format!("{one}/answer"),
        Some(json!({ "answer": "见附件。", "materials": ["other_materials", "topology_diagram"] })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("materials[1]")),
        "{v}"
    );
    let (st, v) = call(
        &s,
        Some(&lead),
        "POST",
        &format!("{one}/answer"),
        Some(json!({ "answer": "见附件。", "materials": ["other_materials", "other_materials"] })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{v}");
    let sha = files[0]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(
        (files[0]["file_name"].as_str(), files[0]["size"].as_i64()),
        (Some("应急预案.txt"), Some("预案 v3".len() as i64))
    );

    // The operator replaces the material; the organ still reads what was answered.
    let (st, _, _) = crate::harness::send(&s, upload("预案 v4，已修订")).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let file = format!("{one}/files/{sha}");
    let read = |who: &crate::reviews::Session, path: String| {
        Request::get(path)
            .header(header::COOKIE, &who.cookie)
            .body(Body::empty())
            .unwrap()
    };
    let (st, headers, bytes) = crate::harness::send(&s, read(&psb, file.clone())).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(String::from_utf8(bytes).unwrap(), "预案 v3");
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let other = login(&s, "psb-other").await;
    for (who, path) in [
        (&other, file.clone()),
        (&psb, format!("{one}/files/{}", "0".repeat(64))),
    ] {
        let (st, _, _) = crate::harness::send(&s, read(who, path.clone())).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    // The organ's page links the file.
    let (_, _, html) = crate::harness::send(&s, read(&psb, "/info-requests".into())).await;
    assert!(
        String::from_utf8(html)
            .unwrap()
            .contains(&format!("/files/{sha}\"")),
        "the organ's page links the answered file"
    );
}
