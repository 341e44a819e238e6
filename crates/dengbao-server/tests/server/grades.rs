//! Grading approval between parties over the API (Measures art. 10): the operator proposes,
//! the expert committee gives its opinion first from Grade IV, the department in charge
//! approves or returns with reasons; the opinions land in the operator's dossier as signed
//! art. 16(6)/(7) materials, an approval is the operator's `grade_determined` event, every
//! step is a ledger entry, and no other party sees any of it.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use dengbao_server::{AppState, Config};
use serde_json::{Value, json};

use crate::reviews::{Session, call, login};

/// The file of a dossier material, as the operator downloads it.
async fn material(s: &AppState, who: &Session, object: &str, kind: &str) -> String {
    let req = Request::get(format!("/systems/{object}/materials/{kind}"))
        .header(header::COOKIE, &who.cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, bytes) = crate::harness::send(s, req).await;
    assert_eq!(status, StatusCode::OK, "{object}/{kind}");
    String::from_utf8(bytes).unwrap()
}

/// The note verifies with the deployment's published key and its text says `needle`.
async fn signed_says(s: &AppState, who: &Session, note: &str, needle: &str) {
    let req = Request::get("/api/v1/ledger/public-key")
        .header(header::COOKIE, &who.cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, key) = crate::harness::send(s, req).await;
    assert_eq!(status, StatusCode::OK);
    let key = String::from_utf8(key).unwrap();
    let verifier = dengbao_ledger::NoteVerifier::parse(key.trim()).unwrap();
    let body = verifier.open(note).unwrap();
    assert!(body.contains(needle), "{needle} in {body}");
}

async fn events(s: &AppState, who: &Session, object: &str) -> Vec<Value> {
    let (st, ev) = call(
        s,
        Some(who),
        "GET",
        &format!("/api/v1/systems/{object}/events"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    ev.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_grade_is_reviewed_by_the_committee_approved_by_the_department_and_seen_by_no_one_else() {
    let (pack, inv) = crate::harness::example();
    let store = crate::harness::sqlite("grades").await;
    let logins = dengbao_server::demo::seed(
        &crate::harness::vault(&store),
        &pack,
        &inv,
        crate::harness::now_ms(),
    )
    .await
    .unwrap();
    for u in ["dept", "dept-member", "expert", "expert-member"] {
        assert!(
            logins.iter().any(|l| l.username == u),
            "the demo prints {u}"
        );
    }
    let s = crate::harness::state(store, Config::default(), pack);
    dengbao_server::demo::seed_party_story(&s.app, "")
        .await
        .unwrap();
    dengbao_server::demo::seed_party_story(&s.app, "")
        .await
        .unwrap();
    let lead = login(&s, "lead").await;
    let dept = login(&s, "dept").await;
    let dept_member = login(&s, "dept-member").await;
    let expert = login(&s, "expert").await;
    let expert_member = login(&s, "expert-member").await;
    let psb = login(&s, "psb").await;
    let other = login(&s, "hospital-lead").await;

    // The seeded story, once: the archive's Grade IV proposal waits for the committee.
    let (st, mine) = call(&s, Some(&lead), "GET", "/api/v1/grade-reviews", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let archive = &mine[0];
    assert_eq!(
        (
            archive["object_id"].as_str(),
            archive["grade"].as_str(),
            archive["status"].as_str()
        ),
        (Some("archive-c"), Some("IV"), Some("awaiting_expert"))
    );
    assert_eq!(archive["expert_review_required"], true);
    assert_eq!(archive["cite"], "Measures art. 10 ¶1; Measures art. 10 ¶3");
    let a = archive["id"].as_str().unwrap().to_owned();
    let at = |what: &str| format!("/api/v1/grade-reviews/{a}{what}");

    // Every party's view: the committee and the department see it, first in the
    // committee's queue; the organ and another operator see nothing and get 404.
    let (_, q) = call(&s, Some(&expert), "GET", "/api/v1/grade-reviews", None).await;
    assert_eq!(q[0]["id"], json!(a), "{q}");
    let (_, q) = call(&s, Some(&dept), "GET", "/api/v1/grade-reviews", None).await;
    assert_eq!(q.as_array().unwrap().len(), 1, "{q}");
    for who in [&psb, &other] {
        let (_, q) = call(&s, Some(who), "GET", "/api/v1/grade-reviews", None).await;
        assert_eq!(q, json!([]));
        let (st, _) = call(&s, Some(who), "GET", &at(""), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // Acting answers as for an id that does not exist (403 for a party that never
        // reviews, 404 for one that might): nothing tells the proposal is there.
        let body = json!({ "agrees": true, "opinion": "x" });
        let (st, _) = call(&s, Some(who), "POST", &at("/opinion"), Some(body.clone())).await;
        let nowhere = "/api/v1/grade-reviews/0000000000000000000000000000000000/opinion";
        let (absent, _) = call(&s, Some(who), "POST", nowhere, Some(body)).await;
        assert_eq!(st, absent);
        assert!(
            st == StatusCode::NOT_FOUND || st == StatusCode::FORBIDDEN,
            "{st}"
        );
    }

    // The department cannot decide before the committee (art. 10 ¶3); nobody but the
    // committee's lead gives the opinion.
    let approve = json!({ "decision": "approve" });
    let (st, v) = call(
        &s,
        Some(&dept),
        "POST",
        &at("/decision"),
        Some(approve.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("art. 10 ¶3"), "{v}");
    let opinion = json!({ "agrees": true, "opinion": "Grade IV is right: a breach would seriously damage social order.\n\nThe storage domain decides it." });
    for who in [&expert_member, &lead, &dept] {
        let (st, _) = call(
            &s,
            Some(who),
            "POST",
            &at("/opinion"),
            Some(opinion.clone()),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
    let (st, v) = call(
        &s,
        Some(&expert),
        "POST",
        &at("/opinion"),
        Some(json!({ "agrees": true, "opinion": "  " })),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("opinion"), "{v}");
    let (st, v) = call(&s, Some(&expert), "POST", &at("/opinion"), Some(opinion)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "awaiting_department");
    assert_eq!(v["expert"]["agrees"], true);
    assert_eq!(v["expert"]["by"], "expert");
    // Once given, the opinion is the committee's last word on this proposal.
    let (st, _) = call(
        &s,
        Some(&expert),
        "POST",
        &at("/opinion"),
        Some(json!({ "agrees": false, "opinion": "changed my mind" })),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // The opinion is dossier material 6, signed.
    let note = material(&s, &lead, "archive-c", "expert_review").await;
    signed_says(&s, &lead, &note, "agrees with the proposed grade: yes").await;
    signed_says(&s, &lead, &note, "> \n> The storage domain decides it.").await;

    // The department's member reads but cannot decide; a bad decision names its field.
    let (st, _) = call(&s, Some(&dept_member), "GET", &at(""), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = call(
        &s,
        Some(&dept_member),
        "POST",
        &at("/decision"),
        Some(approve.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = call(
        &s,
        Some(&dept),
        "POST",
        &at("/decision"),
        Some(json!({ "decision": "ok" })),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("decision"), "{v}");
    let before = events(&s, &lead, "archive-c").await.len();
    let (st, v) = call(
        &s,
        Some(&dept),
        "POST",
        &at("/decision"),
        Some(approve.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "approved");
    let today = s.app.clock.today().to_string();
    assert_eq!(v["decided_on"], json!(today));
    let (st, _) = call(
        &s,
        Some(&dept),
        "POST",
        &at("/decision"),
        Some(approve.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "decided once");

    // On the operator's side: the grade determined today, the approval as material 7.
    let ev = events(&s, &lead, "archive-c").await;
    assert_eq!(ev.len(), before + 1);
    let determined = ev
        .iter()
        .find(|e| e["event"]["type"] == "grade_determined" && e["event"]["date"] == json!(today))
        .unwrap_or_else(|| panic!("{ev:?}"));
    assert_eq!(determined["event"]["grade"], "IV");
    let note = material(&s, &lead, "archive-c", "department_approval").await;
    signed_says(&s, &lead, &note, "decision: approved").await;
    let (_, dossier) = call(
        &s,
        Some(&lead),
        "GET",
        "/api/v1/systems/archive-c/dossier",
        None,
    )
    .await;
    let kinds: Vec<&str> = dossier["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"expert_review") && kinds.contains(&"department_approval"),
        "{kinds:?}"
    );

    // A Grade III proposal goes straight to the department; a return needs reasons, and
    // the operator may propose again after one — but never twice at once.
    let propose = |body: Value| {
        let (s, lead) = (&s, &lead);
        async move {
            call(
                s,
                Some(lead),
                "POST",
                "/api/v1/systems/pay-core/grade-proposals",
                Some(body),
            )
            .await
        }
    };
    let (st, v) = propose(json!({ "grade": "3" })).await;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Roman numerals only: {v}"
    );
    assert!(v.to_string().contains("grade"), "{v}");
    let (st, v) = propose(json!({ "committee": "x" })).await;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no committee below IV: {v}"
    );
    let (st, v) = propose(json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["grade"].as_str(), v["status"].as_str()),
        (Some("III"), Some("awaiting_department"))
    );
    assert_eq!(v["committee_id"], Value::Null);
    assert_eq!(v["cite"], "Measures art. 10 ¶1");
    let (st, _) = propose(json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let p = v["id"].as_str().unwrap().to_owned();
    let decide = format!("/api/v1/grade-reviews/{p}/decision");
    let (st, _) = call(
        &s,
        Some(&expert),
        "GET",
        &format!("/api/v1/grade-reviews/{p}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not sent to the committee");
    let (st, v) = call(
        &s,
        Some(&dept),
        "POST",
        &decide,
        Some(json!({ "decision": "return" })),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("reasons"), "{v}");
    let reasons = "The system service assessment omits the settlement interface.";
    let (st, v) = call(
        &s,
        Some(&dept),
        "POST",
        &decide,
        Some(json!({ "decision": "return", "reasons": reasons })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "returned");
    let (_, v) = call(
        &s,
        Some(&lead),
        "GET",
        &format!("/api/v1/grade-reviews/{p}"),
        None,
    )
    .await;
    assert_eq!(v["reasons"], reasons);
    let (st, _) = propose(json!({ "grade": "III" })).await;
    assert_eq!(st, StatusCode::OK);
    // An operator never decides its own grade.
    let (_, q) = call(&s, Some(&lead), "GET", "/api/v1/grade-reviews", None).await;
    let open = q[0]["id"].as_str().unwrap().to_owned();
    let (st, v) = call(
        &s,
        Some(&lead),
        "POST",
        &format!("/api/v1/grade-reviews/{open}/decision"),
        Some(approve),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");

    // Every step is a ledger entry in the operator's log, by the party that took it.
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
        ("grade.propose", "lead"),
        ("grade.opinion", "expert"),
        ("grade.decide", "dept"),
    ] {
        assert!(
            acts.contains(&(act.into(), by.into())),
            "{act} by {by} in {acts:?}"
        );
    }
}

/// A page as the browser gets it, after following one redirect.
async fn page(s: &AppState, who: &Session, path: &str) -> (StatusCode, String) {
    let req = Request::get(path)
        .header(header::COOKIE, &who.cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, bytes) = crate::harness::send(s, req).await;
    (status, String::from_utf8(bytes).unwrap())
}

/// Posts a form as the browser does; answers the status and where it redirects.
async fn post_form(s: &AppState, who: &Session, path: &str, form: &str) -> (StatusCode, String) {
    let req = Request::post(path)
        .header(header::COOKIE, &who.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("_csrf={}&{form}", who.csrf)))
        .unwrap();
    let (status, headers, bytes) = crate::harness::send(s, req).await;
    let to = headers
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
    (status, to)
}

#[tokio::test]
async fn the_grade_review_pages_carry_the_journey_in_both_languages() {
    let s = crate::harness::demo("grades-web").await;
    dengbao_server::demo::seed_party_story(&s.app, "")
        .await
        .unwrap();
    // In English (the pages default to Chinese), but the department's below.
    let en = |w: Session| Session {
        cookie: format!("{}; dengbao_lang=en", w.cookie),
        csrf: w.csrf,
    };
    let lead = en(login(&s, "lead").await);
    let dept = login(&s, "dept").await;
    let expert = en(login(&s, "expert").await);
    let member = en(login(&s, "expert-member").await);

    // The committee starts on its queue; the form is its lead's, not its member's.
    let req = Request::get("/")
        .header(header::COOKIE, &expert.cookie)
        .body(Body::empty())
        .unwrap();
    let (st, headers, _) = crate::harness::send(&s, req).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/grade-reviews");
    let (st, html) = page(&s, &expert, "/grade-reviews").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Confidential records archive"), "{html}");
    assert!(html.contains("awaiting the expert committee"), "{html}");
    assert!(html.contains("/opinion\""), "the lead's form");
    let (_, html) = page(&s, &member, "/grade-reviews").await;
    assert!(html.contains("Confidential records archive"));
    assert!(!html.contains("/opinion\""), "no form for a member");
    let (_, html) = page(&s, &dept, "/grade-reviews").await;
    assert!(
        !html.contains("/decision\""),
        "the department waits for the committee"
    );

    // The committee's opinion through the form; a blank one comes back with the field.
    let (_, q) = call(&s, Some(&lead), "GET", "/api/v1/grade-reviews", None).await;
    let id = q[0]["id"].as_str().unwrap().to_owned();
    let (st, body) = post_form(
        &s,
        &expert,
        &format!("/grade-reviews/{id}/opinion"),
        "agrees=yes&opinion=",
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("opinion"), "{body}");
    let (st, to) = post_form(
        &s,
        &expert,
        &format!("/grade-reviews/{id}/opinion"),
        "agrees=no&opinion=Grade+V+fits+better",
    )
    .await;
    assert_eq!(
        (st, to.as_str()),
        (StatusCode::SEE_OTHER, "/grade-reviews?ok=grades.opinion_ok")
    );

    // The department decides in Chinese: the page, the opinion and the approval.
    let (_, html) = page(&s, &dept, "/grade-reviews").await;
    assert!(
        html.contains("定级审批") && html.contains("待主管部门审批"),
        "{html}"
    );
    assert!(
        html.contains("不同意") && html.contains("Grade V fits better"),
        "{html}"
    );
    let (st, to) = post_form(
        &s,
        &dept,
        &format!("/grade-reviews/{id}/decision"),
        "decision=approve&reasons=",
    )
    .await;
    assert_eq!(
        (st, to.as_str()),
        (StatusCode::SEE_OTHER, "/grade-reviews?ok=grades.decided_ok")
    );

    // The operator sees it approved, and proposes the next one from its page.
    let (_, html) = page(&s, &lead, "/grade-reviews").await;
    assert!(html.contains("approved"), "{html}");
    assert!(html.contains("id=\"propose\""), "{html}");
    let (st, to) = post_form(
        &s,
        &lead,
        "/grade-reviews/propose",
        "object=office-oa&grade=",
    )
    .await;
    assert_eq!(
        (st, to.as_str()),
        (
            StatusCode::SEE_OTHER,
            "/grade-reviews?ok=grades.proposed_ok"
        )
    );
    let (_, q) = call(&s, Some(&lead), "GET", "/api/v1/grade-reviews", None).await;
    let oa = q
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["object_id"] == "office-oa")
        .unwrap();
    assert_eq!(
        (oa["grade"].as_str(), oa["status"].as_str()),
        (Some("II"), Some("awaiting_department"))
    );
    // Another proposal for it while one is open is refused on the page, not lost silently.
    let (st, body) = post_form(
        &s,
        &lead,
        "/grade-reviews/propose",
        "object=office-oa&grade=III",
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(body.contains("already has a grade proposal"), "{body}");
}

#[tokio::test]
async fn a_nationwide_system_is_graded_by_its_department_and_its_branches_inherit() {
    let s = crate::harness::demo("grades-uniform").await;
    let dept = login(&s, "dept").await;
    let lead = login(&s, "lead").await;
    let body =
        json!({ "system": "settlement-national", "grade": "IV", "note": "银发〔2026〕88号" });
    for (who, want) in [
        ("dept-member", StatusCode::FORBIDDEN),
        ("psb", StatusCode::FORBIDDEN),
        ("lead", StatusCode::FORBIDDEN),
    ] {
        let w = login(&s, who).await;
        let (st, v) = call(
            &s,
            Some(&w),
            "POST",
            "/api/v1/uniform-gradings",
            Some(body.clone()),
        )
        .await;
        assert_eq!(st, want, "{who}: {v}");
    }
    let (st, v) = call(
        &s,
        Some(&dept),
        "POST",
        "/api/v1/uniform-gradings",
        Some(json!({ "system": "nope", "grade": "III" })),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (st, v) = call(
        &s,
        Some(&dept),
        "POST",
        "/api/v1/uniform-gradings",
        Some(json!({ "system": "settlement-national", "grade": "4" })),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("grade"))
    );
    let (st, v) = call(
        &s,
        Some(&dept),
        "POST",
        "/api/v1/uniform-gradings",
        Some(body),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["cite"], "Measures art. 10 ¶2");
    let (_, me) = call(&s, Some(&lead), "GET", "/api/v1/me", None).await;
    // Only the branch at the supervised operator, not the other operator's copy.
    assert_eq!(
        v["branches"],
        json!([{ "operator_id": me["organisation_id"], "object_id": "settlement-sh", "object_name": "Nationwide settlement network — Shanghai branch" }])
    );
    let ev = events(&s, &lead, "settlement-sh").await;
    let today = s.app.clock.today().to_string();
    let inherited = ev
        .iter()
        .find(|e| e["event"]["type"] == "grade_determined" && e["event"]["date"] == json!(today))
        .unwrap_or_else(|| panic!("{ev:?}"));
    assert_eq!(inherited["event"]["grade"], "IV");
    assert_eq!(inherited["recorded_by"], "dept");
    assert!(
        inherited["event"]["note"]
            .as_str()
            .unwrap()
            .contains("银发〔2026〕88号")
    );
    // The department's page carries the form; an unknown system comes back on it.
    let (st, html) = page(&s, &dept, "/grade-reviews").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"uniform\""), "{html}");
    let (_, html) = page(&s, &lead, "/grade-reviews").await;
    assert!(
        !html.contains("id=\"uniform\""),
        "an operator does not grade uniformly"
    );
    let (st, body) = post_form(
        &s,
        &dept,
        "/grade-reviews/uniform",
        "system=nope&grade=III&note=",
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(body.contains("no branch of"), "{body}");
    let (st, to) = post_form(
        &s,
        &dept,
        "/grade-reviews/uniform",
        "system=settlement-national&grade=III&note=",
    )
    .await;
    assert_eq!(
        (st, to.as_str()),
        (StatusCode::SEE_OTHER, "/grade-reviews?ok=grades.uniform_ok")
    );
}
