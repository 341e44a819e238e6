//! Evaluation engagements over the API (Measures art. 14, 22, 23): the operator engages an
//! agency for an object and a period, an ineligible agency is refused with its failing
//! criteria or engaged with a recorded override; the engaged agency — and only while
//! engaged — sees the engagement and records the evaluation, which is the operator's event
//! and dossier material; an override's evaluation is art. 40(6) evidence.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use dengbao_server::Config;
use serde_json::{Value, json};

use crate::reviews::{call, login};

#[tokio::test]
async fn an_engaged_agency_records_the_evaluation_and_only_while_engaged() {
    let (pack, inv) = crate::harness::example();
    let store = crate::harness::sqlite("evaluations").await;
    let logins = dengbao_server::demo::seed(
        &crate::harness::vault(&store),
        &pack,
        &inv,
        crate::harness::now_ms(),
    )
    .await
    .unwrap();
    assert!(logins.iter().any(|l| l.username == "evaluator"));
    let s = crate::harness::state(store, Config::default(), pack);
    dengbao_server::demo::seed_party_story(&s.app, "")
        .await
        .unwrap();
    let lead = login(&s, "lead").await;
    let lab = login(&s, "evaluator").await;
    let lab_member = login(&s, "evaluator-member").await;
    let strangers = [
        login(&s, "dept").await,
        login(&s, "psb").await,
        login(&s, "hospital-lead").await,
    ];

    // The seeded engagement: the payment core system with the eligible agency.
    let (_, agencies) = call(&s, Some(&lead), "GET", "/api/v1/evaluation-agencies", None).await;
    let agency = agencies[0]["id"].as_str().unwrap().to_owned();
    let (st, mine) = call(&s, Some(&lab), "GET", "/api/v1/engagements", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let e = &mine[0];
    assert_eq!(
        (
            e["object_id"].as_str(),
            e["eligible"].as_bool(),
            e["active"].as_bool(),
            e["may_evaluate"].as_bool()
        ),
        (Some("pay-core"), Some(true), Some(true), Some(true)),
        "{e}"
    );
    assert_eq!(e["cite"], "Measures art. 22");
    let id = e["id"].as_str().unwrap().to_owned();
    let url = format!("/api/v1/engagements/{id}");
    let eval_url = format!("{url}/evaluation");
    for who in &strangers {
        let (_, q) = call(&s, Some(who), "GET", "/api/v1/engagements", None).await;
        assert!(!q.to_string().contains(&id), "{q}");
        let (st, _) = call(&s, Some(who), "GET", &url, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
    let (st, v) = call(&s, Some(&lab_member), "GET", &url, None).await;
    assert_eq!(
        (st, v["may_evaluate"].as_bool()),
        (StatusCode::OK, Some(false))
    );

    // Recording: bad fields name themselves; the member and the operator cannot.
    let today = s.app.clock.today();
    let report = b"%PDF-1.7 evaluation report of pay-core".to_vec();
    let good = json!({
        "date": today.to_string(), "conformity": "basically_conformant",
        "findings": "Two medium risks in the audit trail.",
        "report": { "file_name": "pay-core-2026.pdf", "media_type": "application/pdf",
                    "content_base64": base64::engine::general_purpose::STANDARD.encode(&report) }
    });
    for (field, bad) in [
        (
            "conformity",
            json!({ "date": today.to_string(), "conformity": "fine" }),
        ),
        (
            "date",
            json!({ "date": today.add_days(2).to_string(), "conformity": "conformant" }),
        ),
        (
            "date",
            json!({ "date": today.add_days(-1).to_string(), "conformity": "conformant" }),
        ),
        (
            "report.content_base64",
            json!({ "date": today.to_string(), "conformity": "conformant", "report": { "file_name": "r.pdf", "media_type": "application/pdf", "content_base64": "@@" } }),
        ),
    ] {
        let (st, v) = call(&s, Some(&lab), "POST", &eval_url, Some(bad)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {v}");
        assert_eq!(v["field"], field, "{v}");
    }
    for who in [&lab_member, &lead] {
        let (st, _) = call(&s, Some(who), "POST", &eval_url, Some(good.clone())).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
    let (st, v) = call(&s, Some(&lab), "POST", &eval_url, Some(good.clone())).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["evaluated_on"].as_str(),
            v["conformity"].as_str(),
            v["may_evaluate"].as_bool()
        ),
        (
            Some(today.to_string().as_str()),
            Some("basically_conformant"),
            Some(false)
        )
    );
    let (st, _) = call(&s, Some(&lab), "POST", &eval_url, Some(good)).await;
    assert_eq!(st, StatusCode::CONFLICT, "recorded once");

    // The operator's side: the event with the agency's registry entry, the report filed.
    let (_, ev) = call(
        &s,
        Some(&lead),
        "GET",
        "/api/v1/systems/pay-core/events",
        None,
    )
    .await;
    let recorded = ev
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["event"]["type"] == "evaluation" && e["event"]["date"] == json!(today.to_string())
        })
        .unwrap_or_else(|| panic!("{ev}"));
    assert_eq!(recorded["event"]["agency"], "sh-eval");
    assert_eq!(recorded["event"]["conformity"], "basically_conformant");
    assert_eq!(recorded["recorded_by"], "evaluator");
    let req = Request::get("/systems/pay-core/materials/evaluation_report")
        .header(header::COOKIE, &lead.cookie)
        .body(Body::empty())
        .unwrap();
    let (st, _, bytes) = crate::harness::send(&s, req).await;
    assert_eq!((st, bytes), (StatusCode::OK, report));

    // An ineligible agency (one year of testing) for a Grade III object: refused with the
    // criterion, or engaged with the override on record.
    let until = today.add_days(30).to_string();
    let engage = |body: Value| {
        let (s, lead) = (&s, &lead);
        async move {
            call(
                s,
                Some(lead),
                "POST",
                "/api/v1/systems/pay-core/engagements",
                Some(body),
            )
            .await
        }
    };
    let (st, v) =
        engage(json!({ "agency": agency, "registry_id": "newco-eval", "until": until })).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["field"], "registry_id");
    assert!(v["detail"].as_str().unwrap().contains("art. 22(3)"), "{v}");
    // What the platform does not hold is a conflict (409); what breaks a rule, 422.
    for (want, field, body) in [
        (
            StatusCode::CONFLICT,
            "agency",
            json!({ "agency": "nobody", "registry_id": "sh-eval", "until": until }),
        ),
        (
            StatusCode::CONFLICT,
            "registry_id",
            json!({ "agency": agency, "registry_id": "missing", "until": until }),
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "until",
            json!({ "agency": agency, "registry_id": "sh-eval", "until": today.add_days(-1).to_string() }),
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "until",
            json!({ "agency": agency, "registry_id": "sh-eval", "until": today.add_days(500).to_string() }),
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "override_reason",
            json!({ "agency": agency, "registry_id": "sh-eval", "until": until, "override_reason": "no need" }),
        ),
    ] {
        let (st, v) = engage(body).await;
        assert_eq!((st, v["field"].as_str()), (want, Some(field)), "{v}");
    }
    let (st, v) = engage(json!({ "agency": agency, "registry_id": "newco-eval", "until": until, "override_reason": "The only agency free before the deadline." })).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["eligible"], false);
    assert!(
        v["not_met"]
            .as_array()
            .unwrap()
            .contains(&json!("testing_years")),
        "{v}"
    );
    let over = v["id"].as_str().unwrap().to_owned();
    let (st, _) = call(
        &s,
        Some(&lab),
        "POST",
        &format!("/api/v1/engagements/{over}/evaluation"),
        Some(json!({ "date": today.to_string(), "conformity": "conformant" })),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    // The engine now sees an evaluation by an ineligible agency: art. 40(6).
    let (_, ob) = call(
        &s,
        Some(&lead),
        "GET",
        "/api/v1/systems/pay-core/obligations",
        None,
    )
    .await;
    let six = ob["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["item"] == 6)
        .unwrap_or_else(|| panic!("{}", ob["violations"]));
    assert!(six.to_string().contains("newco-eval"), "{six}");
    // Below Grade III the criteria do not bind: no override needed.
    let (st, v) = call(
        &s,
        Some(&lead),
        "POST",
        "/api/v1/systems/office-oa/engagements",
        Some(json!({ "agency": agency, "registry_id": "newco-eval", "until": until })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // The ledger holds the override and the agency's act.
    let (_, entries) = call(
        &s,
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
    for (act, by) in [
        ("engagement.create", "lead"),
        ("engagement.create_override", "lead"),
        ("evaluation.record", "evaluator"),
    ] {
        assert!(
            acts.contains(&(act.into(), by.into())),
            "{act} by {by} in {acts:?}"
        );
    }

    // After its window the agency sees an engagement no more: 32 days on, the 30-day
    // override engagement has ended while the seeded 90-day one still runs.
    s.app.clock.advance(32 * 86_400_000);
    let lab = login(&s, "evaluator").await;
    let (_, mine) = call(&s, Some(&lab), "GET", "/api/v1/engagements", None).await;
    let ids: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&id.as_str()) && !ids.contains(&over.as_str()),
        "{ids:?}"
    );
    let (st, _) = call(
        &s,
        Some(&lab),
        "GET",
        &format!("/api/v1/engagements/{over}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let lead = login(&s, "lead").await;
    let (st, v) = call(
        &s,
        Some(&lead),
        "GET",
        &format!("/api/v1/engagements/{over}"),
        None,
    )
    .await;
    assert_eq!(
        (st, v["active"].as_bool()),
        (StatusCode::OK, Some(false)),
        "the operator keeps its record"
    );
}

#[tokio::test]
async fn the_engagement_pages_carry_the_evaluation_with_its_report() {
    let s = crate::harness::demo("evaluations-web").await;
    dengbao_server::demo::seed_party_story(&s.app, "")
        .await
        .unwrap();
    let lab = login(&s, "evaluator").await;
    let lead = login(&s, "lead").await;
    let get = |who: &crate::reviews::Session, path: &str| {
        Request::get(path)
            .header(header::COOKIE, &who.cookie)
            .body(Body::empty())
            .unwrap()
    };

    // The agency starts on its engagements, in Chinese, with the form for the running one.
    let (st, headers, _) = crate::harness::send(&s, get(&lab, "/")).await;
    assert_eq!(
        (st, &headers[header::LOCATION]),
        (
            StatusCode::SEE_OTHER,
            &"/engagements".parse::<axum::http::HeaderValue>().unwrap()
        )
    );
    let (st, _, html) = crate::harness::send(&s, get(&lab, "/engagements")).await;
    let html = String::from_utf8(html).unwrap();
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("等级测评委托") && html.contains("Payment core system"),
        "{html}"
    );
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    let (_, list) = call(&s, Some(&lab), "GET", "/api/v1/engagements", None).await;
    let id = list[0]["id"].as_str().unwrap().to_owned();

    // The evaluation with its report, as a browser sends the form.
    let today = s.app.clock.today().to_string();
    let boundary = "XdengbaoX";
    let mut body = String::new();
    for (name, value) in [
        ("_csrf", lab.csrf.as_str()),
        ("date", today.as_str()),
        ("conformity", "conformant"),
        ("findings", "No high risk."),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"report\"; filename=\"report.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 report\r\n--{boundary}--\r\n"));
    let req = Request::post(format!("/engagements/{id}/evaluation"))
        .header(header::COOKIE, &lab.cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    let (st, headers, _) = crate::harness::send(&s, req).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/engagements?ok=eng.evaluated_ok"
    );
    let (st, _, bytes) = crate::harness::send(
        &s,
        get(&lead, "/systems/pay-core/materials/evaluation_report"),
    )
    .await;
    assert_eq!(
        (st, bytes.as_slice()),
        (StatusCode::OK, &b"%PDF-1.7 report"[..])
    );

    // The operator's form refuses an ineligible agency on the page, naming the article.
    let (_, agencies) = call(&s, Some(&lead), "GET", "/api/v1/evaluation-agencies", None).await;
    let agency = agencies[0]["id"].as_str().unwrap();
    let until = s.app.clock.today().add_days(10).to_string();
    let req = Request::post("/engagements")
        .header(header::COOKIE, &lead.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "_csrf={}&object=pay-core&agency={agency}&registry_id=newco-eval&until={until}",
            lead.csrf
        )))
        .unwrap();
    let (st, _, html) = crate::harness::send(&s, req).await;
    let html = String::from_utf8(html).unwrap();
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(
        html.contains("art. 22(3)") && html.contains("id=\"engage\""),
        "{html}"
    );
}
