//! The server never signs a forked history: an entry rewritten under a signed checkpoint —
//! its text and its recorded hash edited together in SQL, as someone with database access
//! would — is found at the next start; the node refuses to sign, `/readyz` fails naming
//! the range that changed, and nothing it signed before is contradicted.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dengbao_server::{AppState, Config};
use dengbao_store::Store;
use sqlx::Row;

async fn ready(s: &AppState) -> (StatusCode, String) {
    let (status, _, body) =
        crate::harness::send(s, Request::get("/readyz").body(Body::empty()).unwrap()).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn a_rewritten_entry_under_a_signed_checkpoint_is_never_signed_over() {
    let dir = crate::harness::temp_dir("fork");
    let url = format!("sqlite://{}", dir.join("fork.db").display());
    let (pack, inv) = crate::harness::example();
    let store = Store::connect(&url, 2).await.unwrap();
    store.migrate().await.unwrap();
    dengbao_server::demo::seed(
        &crate::harness::vault(&store),
        &pack,
        &inv,
        crate::harness::now_ms(),
    )
    .await
    .unwrap();
    let key = dengbao_ledger::NoteSigner::generate("fork.example/ledger").unwrap();
    let key_text = key.to_key_string();
    let v = crate::harness::vault(&store);
    let state = AppState::new(
        store,
        Config::default(),
        pack.clone(),
        Default::default(),
        v,
        None,
    );
    state.ledger.set_signer(key);
    let (size, _) = dengbao_server::ledger::checkpoint(&state)
        .await
        .unwrap()
        .unwrap();
    assert!(size > 10);
    assert_eq!(ready(&state).await.0, StatusCode::OK);

    // A restart over the untouched log is fine, and signs on.
    let restart = |store: Store| {
        let v = crate::harness::vault(&store);
        let s = AppState::new(
            store,
            Config::default(),
            pack.clone(),
            Default::default(),
            v,
            None,
        );
        s.ledger
            .set_signer(dengbao_ledger::NoteSigner::parse(&key_text).unwrap());
        s
    };
    let s2 = restart(Store::connect(&url, 2).await.unwrap());
    assert_eq!(ready(&s2).await.0, StatusCode::OK);

    // Rewrite entry 5 consistently: its text and the leaf hash recorded beside it.
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let row = sqlx::query("SELECT entry FROM ledger_entries WHERE seq = 5")
        .fetch_one(&pool)
        .await
        .unwrap();
    let entry: String = row.try_get("entry").unwrap();
    let forged = entry.replacen("\"actor\":\"", "\"actor\":\"x", 1);
    assert_ne!(forged, entry);
    let leaf = dengbao_ledger::to_hex(&dengbao_ledger::leaf_hash(forged.as_bytes()));
    sqlx::query("UPDATE ledger_entries SET entry = $1, leaf_hash = $2 WHERE seq = 5")
        .bind(&forged)
        .bind(&leaf)
        .execute(&pool)
        .await
        .unwrap();

    // The next start rebuilds its tree from the rewritten hashes: it notices, refuses to
    // sign, and is not ready — saying which range changed.
    let s3 = restart(Store::connect(&url, 2).await.unwrap());
    let (status, body) = ready(&s3).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("/problems/ledger-fork"), "{body}");
    assert!(body.contains(&format!("[0, {size})")), "{body}");
    let refused = dengbao_server::ledger::checkpoint(&s3).await;
    assert!(refused.is_err(), "no checkpoint over a rewritten log");
    let stored = s3.store.checkpoints().await.unwrap();
    assert_eq!(stored.len(), 1, "nothing new was signed: {stored:?}");
    assert_eq!(stored[0].0, size);
}
