//! Contract snapshots: the OpenAPI document and the problem bodies clients see. A change to
//! either is a snapshot diff to review (`cargo insta review`, or `INSTA_UPDATE=always`), not
//! a surprise for the clients that script against them.

use axum::body::Body;
use axum::http::{Request, header};
use dengbao_server::Config;
use serde_json::{Value, json};

#[test]
fn the_openapi_document() {
    let (_, doc) = dengbao_server::api();
    insta::assert_json_snapshot!("openapi", serde_json::to_value(&doc).unwrap());
}

/// The document's enumerations written as patterns (utoipa takes only literals there) name
/// exactly the values the engine's enums parse: a variant added to one and not the other
/// fails here, not in a client.
#[test]
fn patterns_in_the_document_are_the_engines_enums() {
    use dengbao_core::model::{ChangeAspect, ObjectKind};
    use dengbao_core::pack::MaterialKind;
    use strum::IntoEnumIterator;
    fn alternation<T: Into<&'static str>>(xs: impl Iterator<Item = T>) -> String {
        let names: Vec<&str> = xs.map(Into::into).collect();
        format!("^({})$", names.join("|"))
    }
    let (_, doc) = dengbao_server::api();
    let doc = serde_json::to_value(&doc).unwrap();
    let param = |path: &str, method: &str, name: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["schema"]["pattern"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let materials = alternation(MaterialKind::ALL.into_iter());
    assert_eq!(materials, dengbao_server::dto::MATERIAL_KINDS);
    for method in ["put", "delete"] {
        assert_eq!(
            param("/api/v1/systems/{id}/materials/{kind}", method, "kind"),
            materials
        );
    }
    assert_eq!(
        param("/api/v1/systems", "get", "kind"),
        alternation(ObjectKind::iter())
    );
    assert_eq!(
        doc["components"]["schemas"]["SecretChangeInput"]["properties"]["aspect"]["pattern"],
        alternation(ChangeAspect::iter())
    );
}

/// A request as the snapshot shows it, and what came back (the request id is random).
async fn exchange(s: &dengbao_server::AppState, name: &str, req: Request<Body>) -> Value {
    let (status, headers, bytes) = crate::harness::send(s, req).await;
    let mut body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if let Some(o) = body.as_object_mut() {
        assert!(
            o.remove("request_id").is_some(),
            "{name}: every problem names its request"
        );
    }
    let h = |k: header::HeaderName| headers.get(k).map(|v| v.to_str().unwrap().to_owned());
    json!({
        "case": name,
        "status": status.as_u16(),
        "content_type": h(header::CONTENT_TYPE),
        "retry_after": h(header::RETRY_AFTER),
        "body": body,
    })
}

fn json_post(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn problem_bodies() {
    let (pack, inv) = crate::harness::example();
    let store = crate::harness::sqlite("contract").await;
    dengbao_server::demo::seed(
        &crate::harness::vault(&store),
        &pack,
        &inv,
        crate::harness::now_ms(),
    )
    .await
    .unwrap();
    let s = crate::harness::state(store, Config::default(), pack);
    let mut cases = Vec::new();
    cases.push(
        exchange(
            &s,
            "unknown route",
            Request::get("/api/v1/nothing-here")
                .body(Body::empty())
                .unwrap(),
        )
        .await,
    );
    cases.push(
        exchange(
            &s,
            "wrong method",
            Request::delete("/api/v1/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await,
    );
    cases.push(
        exchange(
            &s,
            "not logged in",
            Request::get("/api/v1/systems").body(Body::empty()).unwrap(),
        )
        .await,
    );
    cases.push(
        exchange(
            &s,
            "not JSON",
            Request::post("/api/v1/auth/login")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("x"))
                .unwrap(),
        )
        .await,
    );
    cases.push(
        exchange(
            &s,
            "malformed JSON",
            json_post("/api/v1/auth/login", "{\"username\":"),
        )
        .await,
    );
    cases.push(
        exchange(
            &s,
            "missing field",
            json_post("/api/v1/auth/login", "{\"username\":\"lead\"}"),
        )
        .await,
    );
    cases.push(
        exchange(
            &s,
            "unknown field",
            json_post(
                "/api/v1/auth/login",
                "{\"username\":\"a\",\"password\":\"b\",\"x\":1}",
            ),
        )
        .await,
    );
    cases.push(
        exchange(
            &s,
            "wrong password",
            json_post(
                "/api/v1/auth/login",
                "{\"username\":\"member\",\"password\":\"Wrong#Pass-2026\"}",
            ),
        )
        .await,
    );
    // The account's bucket (10 at once) runs dry: throttled before any password is checked.
    let mut last = Value::Null;
    for _ in 0..10 {
        last = exchange(
            &s,
            "throttled log-in",
            json_post(
                "/api/v1/auth/login",
                "{\"username\":\"member\",\"password\":\"Wrong#Pass-2026\"}",
            ),
        )
        .await;
    }
    // How long to wait depends on how long the ten attempts took (the bucket refills one
    // attempt per 6 s): any whole number of seconds up to the refill, never more.
    let wait: u64 = last["retry_after"].as_str().unwrap().parse().unwrap();
    assert!((1..=6).contains(&wait), "{last}");
    last["retry_after"] = Value::from("6");
    cases.push(last);
    insta::assert_json_snapshot!("problems", cases);
}
