//! What every server test starts from: a migrated store (SQLite, and PostgreSQL when
//! `DATABASE_URL` names a throw-away database), the example inventory, an `AppState` with a
//! ledger signer, and one-shot requests against the router.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use dengbao_core::model::Inventory;
use dengbao_core::{HolidayCalendar, RulePack};
use dengbao_server::{AppState, Config, app};
use dengbao_store::{Store, new_id};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const INVENTORY: &str = include_str!("../../../../examples/payments-operator.toml");

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The built-in rule pack and the example inventory, validated.
pub fn example() -> (RulePack, Inventory) {
    let pack = RulePack::baseline().unwrap();
    let mut inv: Inventory = toml::from_str(INVENTORY).unwrap();
    inv.validate(&pack, "example").unwrap();
    (pack, inv)
}

/// A fresh directory under the system's temporary one.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("dengbao-{tag}-{}-{}", std::process::id(), new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A migrated SQLite store in a fresh directory.
pub async fn sqlite(tag: &str) -> Store {
    let dir = temp_dir(tag);
    let store = Store::connect(&format!("sqlite://{}", dir.join("test.db").display()), 4)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store
}

/// SQLite always; PostgreSQL when `DATABASE_URL` is set (required when `.ci/run` says so,
/// skipped loudly otherwise). Both migrated.
pub async fn stores(tag: &str) -> Vec<(&'static str, Store)> {
    let mut out = vec![("sqlite", sqlite(tag).await)];
    match std::env::var("DATABASE_URL") {
        Ok(url) => {
            let pg = Store::connect(&url, 4).await.unwrap();
            pg.migrate().await.unwrap();
            out.push(("postgres", pg));
        }
        Err(_) if std::env::var("DENGBAO_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
            panic!("DENGBAO_REQUIRE_POSTGRES=1 but DATABASE_URL is not set")
        }
        Err(_) => eprintln!(
            "SKIPPED the PostgreSQL half: set DATABASE_URL to a throw-away database (.ci/run does)"
        ),
    }
    out
}

/// The test process's vault master key: one for all tests, so data seeded before a state
/// exists opens in it.
fn master() -> std::sync::Arc<dyn dengbao_vault::MasterKey> {
    static M: std::sync::OnceLock<std::sync::Arc<dengbao_vault::EnvMasterKey>> =
        std::sync::OnceLock::new();
    M.get_or_init(|| {
        std::sync::Arc::new(dengbao_vault::EnvMasterKey::new(
            "(test)",
            dengbao_vault::Key::generate().unwrap(),
        ))
    })
    .clone()
}

/// The vault over `store`, with the test process's master key.
pub fn vault(store: &Store) -> dengbao_app::vault::Vault {
    dengbao_app::vault::Vault::new(store.clone(), master())
}

/// The server's state over `store`, with a fresh checkpoint signer.
pub fn state(store: Store, config: Config, pack: RulePack) -> AppState {
    state_with(store, config, pack, HolidayCalendar::new())
}

/// [`state`] with a holiday calendar.
pub fn state_with(
    store: Store,
    config: Config,
    pack: RulePack,
    calendar: HolidayCalendar,
) -> AppState {
    let v = vault(&store);
    let state = AppState::new(store, config, pack, calendar, v, None);
    state
        .ledger
        .set_signer(dengbao_ledger::NoteSigner::generate("test.example/ledger").unwrap());
    state
}

/// One request through the whole router (middleware included), as a client would see it.
pub async fn send(state: &AppState, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let r = app(state.clone()).oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, bytes)
}

/// A server state over a fresh SQLite store seeded with the demo (every party).
pub async fn demo(tag: &str) -> AppState {
    let (pack, inv) = example();
    let store = sqlite(tag).await;
    dengbao_server::demo::seed(&vault(&store), &pack, &inv, now_ms())
        .await
        .unwrap();
    state(store, Config::default(), pack)
}

/// The demo lead (`{tag}lead`) files pay-core's usage of cryptography (art. 36): from then on
/// the cryptography administration it was routed to sees pay-core.
pub async fn file_crypto(s: &AppState, tag: &str) -> serde_json::Value {
    let lead = crate::reviews::login(s, &format!("{tag}lead")).await;
    let body = serde_json::json!({
        "products": [{ "id": "sm-hsm" }],
        "algorithms": ["SM2", "SM4"],
        "purposes": "Payment messages signed and encrypted in the HSM."
    });
    let (st, v) = crate::reviews::call(
        s,
        Some(&lead),
        "POST",
        "/api/v1/systems/pay-core/crypto-filings",
        Some(body),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}
