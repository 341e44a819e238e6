//! The filing journey between two parties over the API: the operator submits, the filing is
//! routed to the public security organ whose jurisdiction covers the object, which receives
//! it (the art. 17 clock starts) and issues a certificate anyone can verify; another city's
//! organ sees none of it, the organ's member reads but cannot act, and every act is the
//! operator's event and ledger entry.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use dengbao_server::{AppState, Config};
use serde_json::{Value, json};

pub(crate) struct Session {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

pub(crate) async fn call(
    s: &AppState,
    who: Option<&Session>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(w) = who {
        b = b
            .header(header::COOKIE, &w.cookie)
            .header("x-csrf-token", &w.csrf);
    }
    let req = match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    };
    let (status, _, bytes) = crate::harness::send(s, req).await;
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{method} {path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub(crate) async fn login(s: &AppState, user: &str) -> Session {
    login_with(s, user, "Dengbao#2026-1").await
}

pub(crate) async fn login_with(s: &AppState, user: &str, password: &str) -> Session {
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "username": user, "password": password }).to_string(),
        ))
        .unwrap();
    let (status, headers, bytes) = crate::harness::send(s, req).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{user}: {}",
        String::from_utf8_lossy(&bytes)
    );
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    Session {
        cookie: headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned(),
        csrf: v["csrf_token"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn a_filing_goes_to_the_organ_of_its_division_and_comes_back_certified() {
    let (pack, inv) = crate::harness::example();
    let store = crate::harness::sqlite("reviews").await;
    let logins = dengbao_server::demo::seed(
        &crate::harness::vault(&store),
        &pack,
        &inv,
        crate::harness::now_ms(),
    )
    .await
    .unwrap();
    for u in ["psb", "psb-member", "psb-other"] {
        assert!(
            logins.iter().any(|l| l.username == u),
            "the demo prints {u}"
        );
    }
    let s = crate::harness::state(store, Config::default(), pack);
    let lead = login(&s, "lead").await;
    let psb = login(&s, "psb").await;
    let member = login(&s, "psb-member").await;
    let other = login(&s, "psb-other").await;

    // A Grade II system in Pudong (310115), its form, the filing.
    let system = json!({
        "id": "crm", "name": "Customer service CRM", "kind": "information_system", "division": "310115",
        "lifecycle": { "operating_since": "2026-01-05" },
        "assessment": {
            "business_information": [{ "object": "citizens_legal_persons", "degree": "serious_damage" }],
            "system_service": [{ "object": "citizens_legal_persons", "degree": "damage" }]
        }
    });
    let (st, v) = call(&s, Some(&lead), "POST", "/api/v1/systems", Some(system)).await;
    assert_eq!(
        (st, v["grade"].as_str()),
        (StatusCode::CREATED, Some("II")),
        "{v}"
    );
    let form = json!({ "title": "备案表", "file_name": "form.pdf", "media_type": "application/pdf", "size": 10, "sha256": "ab".repeat(32) });
    let (st, _) = call(
        &s,
        Some(&lead),
        "PUT",
        "/api/v1/systems/crm/materials/record_filing_form",
        Some(form),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, filing) = call(&s, Some(&lead), "POST", "/api/v1/systems/crm/filings", None).await;
    assert_eq!(st, StatusCode::CREATED, "{filing}");
    assert_eq!(
        filing["routed"], true,
        "Shanghai's bureau covers Pudong: {filing}"
    );
    let id = filing["id"].as_str().unwrap().to_owned();
    // One filing at a time with the organ, and its acts are the organ's to record.
    let (st, _) = call(&s, Some(&lead), "POST", "/api/v1/systems/crm/filings", None).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let forged = json!({ "date": "2026-01-10", "type": "certificate_issued" });
    let (st, v) = call(
        &s,
        Some(&lead),
        "POST",
        "/api/v1/systems/crm/events",
        Some(forged),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("type")),
        "{v}"
    );

    // The organ's queue has it, waiting to be received; another city's organ has nothing.
    let (st, q) = call(&s, Some(&psb), "GET", "/api/v1/reviews", None).await;
    assert_eq!(st, StatusCode::OK);
    let item = q
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == json!(id))
        .unwrap()
        .clone();
    assert_eq!(item["status"], "submitted");
    assert_eq!(item["object_id"], "crm");
    assert!(
        item["operator"]
            .as_str()
            .unwrap()
            .contains("Example Payments")
    );
    assert_eq!(item["cite"], "Measures art. 17");
    assert_eq!(item["due"], Value::Null, "no clock before receipt");
    let (st, q) = call(&s, Some(&other), "GET", "/api/v1/reviews", None).await;
    assert_eq!((st, q.as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    for (method, path, body) in [
        ("GET", format!("/api/v1/reviews/{id}"), None),
        ("POST", format!("/api/v1/reviews/{id}/receive"), None),
        (
            "POST",
            format!("/api/v1/reviews/{id}/decision"),
            Some(json!({ "decision": "certificate" })),
        ),
    ] {
        let (st, v) = call(&s, Some(&other), method, &path, body).await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "another organ: {method} {path}: {v}"
        );
        assert!(!v.to_string().contains("crm"), "{v}");
    }
    // The organ reads the filed dossier; the other organ cannot.
    let (st, d) = call(
        &s,
        Some(&psb),
        "GET",
        &format!("/api/v1/reviews/{id}/dossier"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["materials"][0]["kind"], "record_filing_form");
    assert_eq!(d["dossier"]["complete"], true);
    let (st, _) = call(
        &s,
        Some(&other),
        "GET",
        &format!("/api/v1/reviews/{id}/dossier"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The organ's member reads it but may not act; the operator may not review its own.
    let (st, _) = call(
        &s,
        Some(&member),
        "GET",
        &format!("/api/v1/reviews/{id}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = call(
        &s,
        Some(&member),
        "POST",
        &format!("/api/v1/reviews/{id}/receive"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = call(
        &s,
        Some(&lead),
        "POST",
        &format!("/api/v1/reviews/{id}/receive"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Deciding before receipt is refused; receiving starts the clock.
    let (st, _) = call(
        &s,
        Some(&psb),
        "POST",
        &format!("/api/v1/reviews/{id}/decision"),
        Some(json!({ "decision": "certificate" })),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, r) = call(
        &s,
        Some(&psb),
        "POST",
        &format!("/api/v1/reviews/{id}/receive"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "received");
    let received: dengbao_core::Date = r["received_on"].as_str().unwrap().parse().unwrap();
    let due: dengbao_core::Date = r["due"].as_str().unwrap().parse().unwrap();
    assert!(due > received && due <= received.add_days(16), "{r}");
    assert_eq!(r["overdue"], false);
    let (st, _) = call(
        &s,
        Some(&psb),
        "POST",
        &format!("/api/v1/reviews/{id}/receive"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "received once");

    // Bad decisions name the field.
    for (body, field) in [
        (json!({ "decision": "approve" }), "decision"),
        (json!({ "decision": "correction" }), "reasons"),
        (
            json!({ "decision": "correction", "reasons": "x", "deadline": "2020-01-01" }),
            "deadline",
        ),
        (
            json!({ "decision": "certificate", "reasons": "fine" }),
            "reasons",
        ),
        (
            json!({ "decision": "regrade", "reasons": "x", "deadline": "2099-01-01" }),
            "deadline",
        ),
    ] {
        let (st, v) = call(
            &s,
            Some(&psb),
            "POST",
            &format!("/api/v1/reviews/{id}/decision"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (st, v["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}: {v}"
        );
    }

    // The certificate: numbered, signed, verifiable by anyone.
    let (st, d) = call(
        &s,
        Some(&psb),
        "POST",
        &format!("/api/v1/reviews/{id}/decision"),
        Some(json!({ "decision": "certificate" })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["review"]["status"], "certified");
    let number = d["certificate"]["number"].as_str().unwrap().to_owned();
    assert!(
        number.starts_with("310100-2") && number.len() == "310100-2026-".len() + 12,
        "{number}"
    );
    assert_eq!(d["certificate"]["verified"], true);
    let (st, _) = call(
        &s,
        Some(&psb),
        "POST",
        &format!("/api/v1/reviews/{id}/decision"),
        Some(json!({ "decision": "certificate" })),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "decided once");
    let (st, c) = call(
        &s,
        None,
        "GET",
        &format!("/api/v1/certificates/{number}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "public: {c}");
    assert_eq!(c["verified"], true);
    let body = c["body"].as_str().unwrap();
    assert!(
        body.contains("crm Customer service CRM") && body.contains("grade: II"),
        "{body}"
    );
    // The signed note verifies with the published key, independently of the server's flag.
    let verifier = dengbao_ledger::NoteVerifier::parse(c["public_key"].as_str().unwrap()).unwrap();
    assert_eq!(verifier.open(c["note"].as_str().unwrap()).unwrap(), body);
    let (st, _) = call(
        &s,
        None,
        "GET",
        "/api/v1/certificates/310100-2026-99999",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Back on the operator's side: the organ's acts are its events, the filing is certified,
    // and the ledger holds both acts by the organ's user.
    let (_, ev) = call(&s, Some(&lead), "GET", "/api/v1/systems/crm/events", None).await;
    let kinds: Vec<&str> = ev
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap())
        .collect();
    for k in ["filing_submitted", "filing_received", "certificate_issued"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let (_, dossier) = call(&s, Some(&lead), "GET", "/api/v1/systems/crm/dossier", None).await;
    assert_eq!(dossier["filings"][0]["status"], "certified");
    assert_eq!(dossier["filings"][0]["certificate"], json!(number));
    let (_, obligations) = call(
        &s,
        Some(&lead),
        "GET",
        "/api/v1/systems/crm/obligations",
        None,
    )
    .await;
    let review = obligations["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "filing_review")
        .unwrap();
    assert_eq!(review["status"], "met", "{review}");
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
    assert!(
        acts.contains(&("filing.receive".into(), "psb".into())),
        "{acts:?}"
    );
    assert!(
        acts.contains(&("filing.decide".into(), "psb".into())),
        "{acts:?}"
    );
}

/// The art. 17 clock of a received filing, with the holidays given (or no calendar).
async fn review_clock(calendar: Option<Vec<dengbao_core::Date>>) -> Value {
    use dengbao_core::date::{HolidayCalendar, HolidayYear};
    let (pack, inv) = crate::harness::example();
    let store = crate::harness::sqlite("review-clock").await;
    dengbao_server::demo::seed(
        &crate::harness::vault(&store),
        &pack,
        &inv,
        crate::harness::now_ms(),
    )
    .await
    .unwrap();
    let mut cal = HolidayCalendar::new();
    if let Some(days) = calendar {
        // Test data, not the State Council's: the years around today, with these holidays.
        let year = days.first().map_or(2026, |d| d.year());
        for y in [year, year + 1] {
            cal.add_year(HolidayYear {
                year: y,
                source: "test calendar".into(),
                holidays: days.iter().copied().filter(|d| d.year() == y).collect(),
                working_days: Vec::new(),
            })
            .unwrap();
        }
    }
    let s = crate::harness::state_with(store, Config::default(), pack, cal);
    let lead = login(&s, "lead").await;
    let psb = login(&s, "psb").await;
    let system = json!({
        "id": "crm", "name": "Customer service CRM", "kind": "information_system", "division": "310115",
        "lifecycle": { "operating_since": "2026-01-05" },
        "assessment": {
            "business_information": [{ "object": "citizens_legal_persons", "degree": "serious_damage" }],
            "system_service": [{ "object": "citizens_legal_persons", "degree": "damage" }]
        }
    });
    let (st, _) = call(&s, Some(&lead), "POST", "/api/v1/systems", Some(system)).await;
    assert_eq!(st, StatusCode::CREATED);
    let form = json!({ "title": "备案表", "file_name": "form.pdf", "media_type": "application/pdf", "size": 10, "sha256": "ab".repeat(32) });
    call(
        &s,
        Some(&lead),
        "PUT",
        "/api/v1/systems/crm/materials/record_filing_form",
        Some(form),
    )
    .await;
    let (_, filing) = call(&s, Some(&lead), "POST", "/api/v1/systems/crm/filings", None).await;
    let id = filing["id"].as_str().unwrap();
    let (st, v) = call(
        &s,
        Some(&psb),
        "POST",
        &format!("/api/v1/reviews/{id}/receive"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

/// `n` working days after `from` (the day itself not counted), skipping weekends and
/// `holidays`: the art. 17 period written out by hand.
fn working_days_after(
    from: dengbao_core::Date,
    n: u32,
    holidays: &[dengbao_core::Date],
) -> dengbao_core::Date {
    let mut d = from;
    let mut left = n;
    while left > 0 {
        d = d.add_days(1);
        if !d.is_weekend() && !holidays.contains(&d) {
            left -= 1;
        }
    }
    d
}

#[tokio::test]
async fn the_art_17_clock_counts_working_days_across_a_holiday_and_says_when_it_cannot() {
    let today = dengbao_app::Clock::default().today();
    // Three holidays on the next three weekdays after the receipt.
    let mut holidays = Vec::new();
    let mut d = today;
    while holidays.len() < 3 {
        d = d.add_days(1);
        if !d.is_weekend() {
            holidays.push(d);
        }
    }
    let with = review_clock(Some(holidays.clone())).await;
    let want = working_days_after(today, 10, &holidays);
    assert_eq!(with["received_on"], json!(today.to_string()));
    assert_eq!(with["due"], json!(want.to_string()), "{with}");
    assert_eq!(with["cite"], "Measures art. 17");
    assert!(
        !with["due_notes"]
            .to_string()
            .contains("no_holiday_calendar"),
        "{with}"
    );
    // Without a calendar weekends are still rest days (Civil Code art. 203) but holidays are
    // unknown: the date is ten weekdays on, the earliest the period can end, and says so.
    let without = review_clock(None).await;
    assert_eq!(
        without["due"],
        json!(working_days_after(today, 10, &[]).to_string()),
        "{without}"
    );
    let notes = without["due_notes"].to_string();
    assert!(
        notes.contains("no_holiday_calendar") && notes.contains("earliest_possible"),
        "{notes}"
    );
    assert!(
        want > working_days_after(today, 10, &[]),
        "the holidays push the date out"
    );
}
