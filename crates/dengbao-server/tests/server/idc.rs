//! IDC customer data end to end, on SQLite and PostgreSQL: the demo IDC operator and its two
//! customers, destruction by crypto-shredding with a certificate checked here independently
//! (SM2 signature with the `sm2` crate, RFC 9162 inclusion with SM3 written out below), the
//! database bytes after shredding, encryption at rest of TOTP secrets and dossier files, and
//! the isolation sweep over every IDC route as the other customer and as every other party.

use axum::http::StatusCode;
use base64::Engine;
use dengbao_server::Config;
use dengbao_server::demo::{DemoLogin, seed_idc, seed_idc_access, seed_named};
use dengbao_store::{Store, new_id};
use serde_json::{Value, json};
use sqlx::Row;

use crate::api::{Env, Who};
use crate::harness::{example, now_ms, state, temp_dir, vault};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

struct IdcEnv {
    env: Env,
    tag: String,
    /// The SQLite file, to read its bytes.
    file: Option<std::path::PathBuf>,
    url: String,
}

impl IdcEnv {
    fn user(&self, name: &str) -> &DemoLogin {
        let want = format!("{}{name}", self.tag);
        self.env
            .logins
            .iter()
            .find(|l| l.username == want)
            .unwrap_or_else(|| panic!("no login {want}"))
    }
    async fn who(&self, name: &str) -> Who {
        self.env.login(self.user(name)).await
    }
}

async fn envs() -> Vec<IdcEnv> {
    let (pack, inv) = example();
    let dir = temp_dir("idc");
    let file = dir.join("idc.db");
    let url = format!("sqlite://{}", file.display());
    let sqlite = Store::connect(&url, 4).await.unwrap();
    sqlite.migrate().await.unwrap();
    let mut stores = vec![("sqlite", sqlite, Some(file), url)];
    if let Ok(pg) = std::env::var("DATABASE_URL") {
        let store = Store::connect(&pg, 4).await.unwrap();
        store.migrate().await.unwrap();
        stores.push(("postgres", store, None, pg));
    } else if std::env::var("DENGBAO_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
        panic!("DENGBAO_REQUIRE_POSTGRES=1 but DATABASE_URL is not set");
    } else {
        eprintln!("SKIPPED the PostgreSQL half of the IDC tests: set DATABASE_URL");
    }
    let mut out = Vec::new();
    for (backend, store, file, url) in stores {
        let tag = format!("i{}-", &new_id()[20..]);
        let mut logins = seed_named(&vault(&store), &pack, &inv, now_ms(), &tag)
            .await
            .unwrap();
        let state = state(store, Config::default(), pack.clone());
        logins.extend(seed_idc(&state.app, &tag).await.unwrap());
        out.push(IdcEnv {
            env: Env {
                backend,
                app: dengbao_server::app(state.clone()),
                state,
                logins,
            },
            tag,
            file,
            url,
        });
    }
    out
}

fn by_name<'a>(list: &'a Value, field: &str, needle: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| v[field].as_str().is_some_and(|s| s.contains(needle)))
        .unwrap_or_else(|| panic!("no {needle} in {list}"))
}

// ----- an independent verifier: SM2 signed notes and RFC 9162 inclusion over SM3 ---------

fn sm3(parts: &[&[u8]]) -> [u8; 32] {
    use sm3::Digest;
    let mut h = sm3::Sm3::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Verifies a C2SP signed note with an SM2 key string `name+id+base64(FF 's' 'm' '2' ‖ SEC1)`;
/// answers the body.
fn open_note(key: &str, note: &str) -> String {
    let mut parts = key.trim().splitn(3, '+');
    let (name, id_hex, raw) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        B64.decode(parts.next().unwrap()).unwrap(),
    );
    assert_eq!(&raw[..4], &[0xFF, b's', b'm', b'2']);
    let vk = sm2::dsa::VerifyingKey::from_sec1_bytes("1234567812345678", &raw[4..]).unwrap();
    let (body, sigs) = note.split_once("\n\n").unwrap();
    let body = format!("{body}\n");
    let line = sigs
        .lines()
        .find(|l| l.starts_with(&format!("\u{2014} {name} ")))
        .unwrap();
    let blob = B64.decode(line.rsplit(' ').next().unwrap()).unwrap();
    let id: String = blob[..4].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(id, id_hex);
    let sig = sm2::dsa::Signature::from_slice(&blob[4..]).unwrap();
    use sm2::dsa::signature::Verifier;
    vk.verify(body.as_bytes(), &sig).expect("SM2 signature");
    body
}

/// RFC 9162 §2.1.3.2: the root from a leaf, its index, the tree size and the path.
fn root_from_inclusion(index: u64, size: u64, leaf: [u8; 32], path: &[[u8; 32]]) -> [u8; 32] {
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf;
    for p in path {
        assert!(sn != 0, "path too long");
        if fn_ & 1 == 1 || fn_ == sn {
            r = sm3(&[&[1], p, &r]);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = sm3(&[&[1], &r, p]);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    assert_eq!(sn, 0, "path too short");
    r
}

// ----- the tests -------------------------------------------------------------------------

#[tokio::test]
async fn customers_contracts_assets_and_destruction_by_crypto_shredding() {
    for e in envs().await {
        let env = &e.env;
        let ops = e.who("idc-ops").await;
        let a = e.who("cust-a").await;
        let a2 = e.who("cust-a2").await;
        let b = e.who("cust-b").await;
        let o = env.call(&ops, "GET", "/api/v1/idc", None).await;
        assert_eq!(o.status, StatusCode::OK, "{}", o.text);
        // Categories from the rule pack: the bank (finance, important data) c3 with two
        // approvers; the studio (personal information) c2.
        let bank = by_name(&o.body["customers"], "name", "Bank").clone();
        let studio = by_name(&o.body["customers"], "name", "Studio").clone();
        assert_eq!(bank["category"]["id"], "c3");
        assert_eq!(bank["category"]["status"], "unconfirmed");
        assert_eq!(bank["profile"]["approvals_for_destruction"], 2);
        assert_eq!(studio["category"]["id"], "c2");
        // The studio's contract leaves duties unassigned; the bank's is complete.
        let contracts = o.body["contracts"].as_array().unwrap();
        let gaps = contracts
            .iter()
            .find(|c| c["customer"] == studio["id"])
            .unwrap();
        assert_eq!(gaps["complete"], false);
        let problems: Vec<&str> = gaps["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["duty"].as_str().unwrap())
            .collect();
        assert_eq!(problems, ["monitoring", "transit_encryption"]);
        assert!(
            contracts
                .iter()
                .any(|c| c["customer"] == bank["id"] && c["complete"] == true)
        );
        // The studio's volume in the bank's rack is found, with the notice's citation.
        let iso = o.body["isolation"].as_array().unwrap();
        assert_eq!(iso.len(), 1, "{}", o.text);
        assert_eq!(iso[0]["isolation_unit"], "rack-B12/vlan-301");
        // The incident the IDC caused: told at once, 40 minutes after detection.
        let inc = &o.body["incidents"][0];
        assert!(inc["regulator_notified_at_ms"].is_i64());
        let clock = inc["detection_to_notice_ms"].as_i64().unwrap();
        assert!((40 * 60_000..41 * 60_000).contains(&clock), "{clock}");
        let report = env
            .call(
                &ops,
                "GET",
                &format!(
                    "/api/v1/idc/incidents/{}/report",
                    inc["id"].as_str().unwrap()
                ),
                None,
            )
            .await;
        assert_eq!(report.status, StatusCode::OK);
        assert!(
            report
                .text
                .contains("Regulator notified / 报告电信主管部门")
                && report.text.contains("40 min"),
            "{}",
            report.text
        );

        // The customer sees itself only; the other customer's names never.
        let mine = env.call(&b, "GET", "/api/v1/idc", None).await;
        assert_eq!(mine.body["customer_view"], true);
        assert_eq!(mine.body["customers"].as_array().unwrap().len(), 1);
        assert!(
            !mine.text.contains("Bank") && !mine.text.contains(bank["id"].as_str().unwrap()),
            "{}",
            mine.text
        );
        assert_eq!(mine.body["isolation"][0]["other_customers"], 1);

        // A new asset of the bank with content: sealed copies, primary and two backups.
        let marker = format!("ROW-{}-客户账户余额", new_id());
        let r = env
            .call(&ops, "POST", "/api/v1/idc/assets", Some(json!({
                "customer": bank["id"], "name": "Loan book 贷款台账", "kind": "database",
                "location": "Shanghai DC2", "isolation_unit": "rack-B14", "classification": "important",
                "personal": true, "sensitive_personal": true })))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let asset = r.body["id"].as_str().unwrap().to_owned();
        let r = env
            .call(
                &ops,
                "PUT",
                &format!("/api/v1/idc/assets/{asset}/content"),
                Some(json!({ "content_base64": B64.encode(&marker) })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["copies"], json!(["backup-1", "backup-2", "primary"]));
        // The customer opens its data; the operator may not without its authorization; the
        // other customer cannot see it at all.
        for copy in ["primary", "backup-2"] {
            let r = env
                .call(
                    &a,
                    "GET",
                    &format!("/api/v1/idc/assets/{asset}/copies/{copy}"),
                    None,
                )
                .await;
            assert_eq!(
                B64.decode(r.body["content_base64"].as_str().unwrap())
                    .unwrap(),
                marker.as_bytes()
            );
        }
        let r = env
            .call(
                &ops,
                "GET",
                &format!("/api/v1/idc/assets/{asset}/copies/primary"),
                None,
            )
            .await;
        assert_eq!(
            (r.status, r.body["type"].as_str()),
            (
                StatusCode::FORBIDDEN,
                Some("/problems/customer-authorization-required")
            )
        );
        let r = env
            .call(
                &b,
                "GET",
                &format!("/api/v1/idc/assets/{asset}/copies/primary"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // The raw rows hold no plaintext.
        let raw = sqlx::AnyPool::connect(&e.url).await.unwrap();
        let sealed: Vec<Vec<u8>> =
            sqlx::query("SELECT sealed FROM asset_copies WHERE asset_id = $1")
                .bind(&asset)
                .fetch_all(&raw)
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get("sealed").unwrap())
                .collect();
        assert_eq!(sealed.len(), 3);
        assert!(
            sealed
                .iter()
                .all(|s| s.starts_with(b"DBV1") && !contains(s, marker.as_bytes()))
        );
        let wrapped: Vec<u8> =
            sqlx::query("SELECT wrapped FROM vault_keys WHERE purpose = 'asset' AND subject = $1")
                .bind(&asset)
                .fetch_one(&raw)
                .await
                .unwrap()
                .try_get("wrapped")
                .unwrap();

        // The ledger keeps ids and a keyed hash: no name, and not the unkeyed hash of one.
        let entries = env
            .call(&ops, "GET", "/api/v1/ledger/entries?limit=1000", None)
            .await;
        let created = entries
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|x| {
                x["entry"]["object"] == asset.as_str() && x["entry"]["action"] == "idc.asset.create"
            })
            .unwrap_or_else(|| panic!("{}", entries.text));
        // The label exactly as the app serializes it (name, then description).
        let label = r#"{"name":"Loan book 贷款台账","description":""}"#;
        let unkeyed: String = sm3(&[label.as_bytes()])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(created["entry"]["state"].as_str().unwrap(), unkeyed);
        assert!(!entries.text.contains("Loan book") && !entries.text.contains("Example Bank"));

        // Destruction: requested by the operator, two distinct approvers of the bank.
        let r = env
            .call(
                &ops,
                "POST",
                &format!("/api/v1/idc/assets/{asset}/destruction"),
                Some(json!({ "reason": "contract ended" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["approvals_needed"], 2);
        let d = r.body["id"].as_str().unwrap().to_owned();
        let decide = |who: &Who, decision: &str| {
            let url = format!("/api/v1/idc/destructions/{d}/decision");
            let body = json!({ "decision": decision });
            let who = who.clone();
            async move { env.call(&who, "POST", &url, Some(body)).await }
        };
        assert_eq!(
            decide(&ops, "approve").await.status,
            StatusCode::FORBIDDEN,
            "the operator never approves for the customer"
        );
        assert_eq!(
            decide(&b, "approve").await.status,
            StatusCode::NOT_FOUND,
            "another customer cannot see it"
        );
        assert_eq!(decide(&a, "approve").await.body["state"], "requested");
        assert_eq!(
            decide(&a, "approve").await.status,
            StatusCode::CONFLICT,
            "one person approves once"
        );
        let exec = format!("/api/v1/idc/destructions/{d}/execute");
        assert_eq!(
            env.call(&ops, "POST", &exec, None).await.status,
            StatusCode::CONFLICT
        );
        assert_eq!(decide(&a2, "approve").await.body["state"], "approved");
        let cert = env.call(&ops, "POST", &exec, None).await;
        assert_eq!(cert.status, StatusCode::OK, "{}", cert.text);
        assert_eq!(cert.body["verified"], true);
        assert_eq!(
            env.call(&ops, "POST", &exec, None).await.status,
            StatusCode::CONFLICT,
            "executed once"
        );

        // Checked here without the server's code: the SM2 signature over the body ...
        let key = env
            .call(&a, "GET", "/api/v1/ledger/public-key", None)
            .await
            .text;
        let body = open_note(&key, cert.body["note"].as_str().unwrap());
        assert_eq!(body, cert.body["body"].as_str().unwrap());
        assert!(
            body.contains(&format!("asset: {asset}\n"))
                && body.contains("classification: important, personal, sensitive_personal")
        );
        assert!(body.contains("approved: ") && body.contains(&e.user("cust-a2").username));
        assert!(
            !body.contains("Loan book"),
            "the certificate names ids, not names"
        );
        // ... and the ledger entry it cites, in a signed checkpoint (RFC 9162 inclusion).
        let seq = cert.body["ledger_seq"].as_i64().unwrap();
        let cp = env
            .call(&ops, "POST", "/api/v1/ledger/checkpoint", None)
            .await;
        let cp_body = open_note(&key, &cp.text);
        let lines: Vec<&str> = cp_body.lines().collect();
        let size: u64 = lines[1].parse().unwrap();
        let root: [u8; 32] = B64.decode(lines[2]).unwrap().try_into().unwrap();
        let p = env
            .call(
                &ops,
                "GET",
                &format!("/api/v1/ledger/entries/{seq}/proof"),
                None,
            )
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
        let entry = B64
            .decode(p.body["proof"]["entry"].as_str().unwrap())
            .unwrap();
        let text = String::from_utf8(entry.clone()).unwrap();
        assert!(
            text.contains("\"action\":\"idc.destruction.execute\"") && text.contains(&d),
            "{text}"
        );
        let path: Vec<[u8; 32]> = p.body["proof"]["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
            .collect();
        assert_eq!(p.body["proof"]["tree_size"].as_u64().unwrap(), size);
        assert_eq!(
            root_from_inclusion(seq as u64, size, sm3(&[&[0], &entry]), &path),
            root
        );
        // The customer sees its certificate; the other customer does not.
        let number = cert.body["number"].as_str().unwrap();
        assert_eq!(
            env.call(
                &a,
                "GET",
                &format!("/api/v1/idc/certificates/{number}"),
                None
            )
            .await
            .body["verified"],
            true
        );
        assert_eq!(
            env.call(
                &b,
                "GET",
                &format!("/api/v1/idc/certificates/{number}"),
                None
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );

        // After shredding: every copy refuses with a typed error, the name is gone.
        for copy in ["primary", "backup-1", "backup-2"] {
            let r = env
                .call(
                    &a,
                    "GET",
                    &format!("/api/v1/idc/assets/{asset}/copies/{copy}"),
                    None,
                )
                .await;
            assert_eq!(
                (r.status, r.body["type"].as_str()),
                (StatusCode::CONFLICT, Some("/problems/key-destroyed")),
                "{}",
                r.text
            );
        }
        let v = env
            .call(&a, "GET", &format!("/api/v1/idc/assets/{asset}"), None)
            .await;
        assert_eq!(
            (v.body["state"].as_str(), v.body["name"].is_null()),
            (Some("destroyed"), true),
            "{}",
            v.text
        );
        let gone: Option<Vec<u8>> =
            sqlx::query("SELECT wrapped FROM vault_keys WHERE purpose = 'asset' AND subject = $1")
                .bind(&asset)
                .fetch_one(&raw)
                .await
                .unwrap()
                .try_get("wrapped")
                .unwrap();
        assert_eq!(gone, None);
        // The other assets of the bank still open (their keys were re-wrapped, not lost).
        let archive = by_name(&o.body["assets"], "name", "Statement archive")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = env
            .call(
                &a,
                "GET",
                &format!("/api/v1/idc/assets/{archive}/copies/primary"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        // Nowhere in the SQLite files: neither the content nor the destroyed key's wrapping.
        if let Some(file) = &e.file {
            raw.close().await;
            let mut bytes = std::fs::read(file).unwrap();
            if let Ok(wal) = std::fs::read(file.with_extension("db-wal")) {
                bytes.extend(wal);
            }
            assert!(
                !contains(&bytes, marker.as_bytes()),
                "{}: plaintext in the database file",
                env.backend
            );
            assert!(
                !contains(&bytes, "Loan book".as_bytes()),
                "the asset's name in the file"
            );
            assert!(
                !contains(&bytes, &wrapped),
                "the destroyed key's wrapped bytes survive in the file"
            );
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn operations_wait_for_a_named_officer_and_bad_input_is_named() {
    for e in envs().await {
        let env = &e.env;
        // An IDC operator without an officer: customer-data operations are refused.
        let store = &env.state.store;
        let org = dengbao_store::Organisation {
            id: new_id(),
            name: format!("{}Bare IDC", e.tag),
            kind: "idc_operator".into(),
            credit_code: None,
            division: Some("310115".into()),
            data_version: 0,
            created_at: now_ms(),
        };
        store.create_organisation(&org).await.unwrap();
        let u = dengbao_store::User {
            id: new_id(),
            tenant_id: org.id.clone(),
            username: format!("{}bare-ops", e.tag),
            display_name: "ops".into(),
            password_hash: dengbao_app::auth::hash_password_blocking("Dengbao#2026-1").unwrap(),
            totp_secret: None,
            totp_enabled: false,
            failed_attempts: 0,
            locked_until: 0,
            last_totp_step: 0,
            disabled: false,
            created_at: now_ms(),
        };
        let audit = dengbao_store::Audit {
            actor: "t",
            action: "t",
            object: "t",
            request_id: "-",
            at: now_ms(),
        };
        store
            .create_user(&u, &["security_lead"], &audit)
            .await
            .unwrap();
        let login = DemoLogin {
            organisation: org.name.clone(),
            username: u.username.clone(),
            password: "Dengbao#2026-1".into(),
            roles: vec!["security_lead"],
            totp_secret: None,
        };
        let bare = env.login(&login).await;
        let c = env.call(&bare, "POST", "/api/v1/idc/customers", Some(json!({ "name": format!("{}Tiny shop", e.tag), "sector": "retail", "declared_class": "general" }))).await;
        assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
        assert_eq!(c.body["category"]["id"], "c1");
        let r = env.call(&bare, "POST", "/api/v1/idc/assets", Some(json!({ "customer": c.body["id"], "name": "x", "kind": "bucket", "location": "l", "isolation_unit": "u", "classification": "general" }))).await;
        assert_eq!(
            (r.status, r.body["type"].as_str()),
            (StatusCode::CONFLICT, Some("/problems/officer-required")),
            "{}",
            r.text
        );
        let r = env
            .call(
                &bare,
                "PUT",
                "/api/v1/idc/programme",
                Some(json!({ "officer": e.user("idc-officer").username, "department": "d" })),
            )
            .await;
        assert_eq!(
            (r.status, r.body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("officer")),
            "another operator's user is not ours: {}",
            r.text
        );

        // Bad input names the field and the rule.
        let ops = e.who("idc-ops").await;
        let o = env.call(&ops, "GET", "/api/v1/idc", None).await;
        let bank = by_name(&o.body["customers"], "name", "Bank")["id"].clone();
        for (body, field) in [
            (
                json!({ "customer": bank, "name": "x", "kind": "tape", "location": "l", "isolation_unit": "u", "classification": "general" }),
                "kind",
            ),
            (
                json!({ "customer": bank, "name": "x", "kind": "bucket", "location": "l", "isolation_unit": "u", "classification": "secret" }),
                "classification",
            ),
            (
                json!({ "customer": bank, "name": "x", "kind": "bucket", "location": "l", "isolation_unit": "u", "classification": "general", "sensitive_personal": true }),
                "personal",
            ),
            (
                json!({ "customer": "nobody", "name": "x", "kind": "bucket", "location": "l", "isolation_unit": "u", "classification": "general" }),
                "customer",
            ),
        ] {
            let r = env
                .call(&ops, "POST", "/api/v1/idc/assets", Some(body))
                .await;
            assert_eq!(
                (r.status, r.body["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
                "{}",
                r.text
            );
        }
        let r = env.call(&ops, "POST", "/api/v1/idc/customers", Some(json!({ "name": "y", "sector": "internet", "declared_class": "core", "overrides": { "approvals_for_destruction": 1 } }))).await;
        assert_eq!(
            (r.status, r.body["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("overrides.approvals_for_destruction")
            ),
            "{}",
            r.text
        );
        // A customer keeps no data itself.
        let a = e.who("cust-a").await;
        let r = env.call(&a, "POST", "/api/v1/idc/assets", Some(json!({ "customer": bank, "name": "x", "kind": "bucket", "location": "l", "isolation_unit": "u", "classification": "general" }))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    }
}

#[tokio::test]
async fn totp_secrets_and_dossier_files_are_encrypted_at_rest() {
    for e in envs().await {
        let raw = sqlx::AnyPool::connect(&e.url).await.unwrap();
        let admins: Vec<&DemoLogin> = e
            .env
            .logins
            .iter()
            .filter(|l| l.totp_secret.is_some())
            .collect();
        assert!(admins.len() >= 3);
        for l in &admins {
            let stored: String = sqlx::query("SELECT totp_secret FROM users WHERE username = $1")
                .bind(&l.username)
                .fetch_one(&raw)
                .await
                .unwrap()
                .try_get("totp_secret")
                .unwrap();
            assert!(stored.starts_with("sm4gcm:"), "{stored}");
            assert!(!stored.contains(l.totp_secret.as_deref().unwrap()));
            // And the second factor still works from the sealed secret.
            e.env.login(l).await;
        }
        let files: Vec<Vec<u8>> = sqlx::query("SELECT f.content FROM material_files f JOIN organisations o ON o.id = f.tenant_id WHERE o.name LIKE $1")
            .bind(format!("{}%", e.tag))
            .fetch_all(&raw)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get("content").unwrap())
            .collect();
        assert!(!files.is_empty());
        assert!(
            files
                .iter()
                .all(|f| f.starts_with(b"DBV1") && !contains(f, b"Dengbao import record"))
        );
        if let Some(file) = &e.file {
            raw.close().await;
            let bytes = std::fs::read(file).unwrap();
            assert!(!contains(&bytes, b"Dengbao import record"));
            for l in &admins {
                assert!(!contains(
                    &bytes,
                    l.totp_secret.as_deref().unwrap().as_bytes()
                ));
            }
        }
    }
}

/// Every IDC route in the OpenAPI document, called with the bank's live identifiers by the
/// other customer and by every other party: the answer is exactly the answer for an id that
/// does not exist (status and detail), nothing of the bank is shown, nothing of it changes.
#[tokio::test]
async fn isolation_sweep_over_the_idc_routes() {
    for e in envs().await {
        let env = &e.env;
        let ops = e.who("idc-ops").await;
        let a = e.who("cust-a").await;
        let a2 = e.who("cust-a2").await;
        let o = env.call(&ops, "GET", "/api/v1/idc", None).await;
        let bank_id = by_name(&o.body["customers"], "name", "Bank")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let ledger_db = by_name(&o.body["assets"], "name", "Core ledger")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let archive = by_name(&o.body["assets"], "name", "Statement archive")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // An executed destruction (for a certificate number) and an open one on a live asset.
        let d = env
            .call(
                &ops,
                "POST",
                &format!("/api/v1/idc/assets/{ledger_db}/destruction"),
                Some(json!({ "reason": "r" })),
            )
            .await;
        let done = d.body["id"].as_str().unwrap().to_owned();
        for who in [&a, &a2] {
            env.call(
                who,
                "POST",
                &format!("/api/v1/idc/destructions/{done}/decision"),
                Some(json!({ "decision": "approve" })),
            )
            .await;
        }
        let cert = env
            .call(
                &ops,
                "POST",
                &format!("/api/v1/idc/destructions/{done}/execute"),
                None,
            )
            .await;
        let number = cert.body["number"].as_str().unwrap().to_owned();
        let d = env
            .call(
                &ops,
                "POST",
                &format!("/api/v1/idc/assets/{archive}/destruction"),
                Some(json!({ "reason": "r" })),
            )
            .await;
        let open = d.body["id"].as_str().unwrap().to_owned();
        let before = env.call(&a, "GET", "/api/v1/idc", None).await.text;
        let markers = [
            bank_id.as_str(),
            ledger_db.as_str(),
            archive.as_str(),
            done.as_str(),
            open.as_str(),
            number.as_str(),
            "Example Bank",
            "Core ledger",
            "Statement archive",
        ];

        let doc = env
            .call(&Who::default(), "GET", "/api/v1/openapi.json", None)
            .await;
        let paths: Vec<(String, Vec<String>)> = doc.body["paths"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.starts_with("/api/v1/idc"))
            .map(|(p, ops)| {
                (
                    p.clone(),
                    ops.as_object().unwrap().keys().cloned().collect(),
                )
            })
            .collect();
        assert!(paths.len() >= 14, "{paths:?}");
        let body_for = |path: &str, method: &str, name: &str| match method {
            "post" | "put" => Some(match path {
                "/api/v1/idc/assets" => {
                    json!({ "customer": bank_id, "name": "x", "kind": "bucket", "location": "l", "isolation_unit": "u", "classification": "general" })
                }
                "/api/v1/idc/contracts" => {
                    json!({ "customer": bank_id, "title": "t", "signed_on": "2026-01-01", "matrix": {} })
                }
                "/api/v1/idc/incidents" => {
                    json!({ "title": "t", "severity": "low", "caused_by_idc": true, "detected_at_ms": 1, "customers": [{ "customer": bank_id }] })
                }
                "/api/v1/idc/customers" => {
                    json!({ "name": format!("{}evil", e.tag), "sector": "internet", "declared_class": "general" })
                }
                "/api/v1/idc/programme" => json!({ "officer": name, "department": "d" }),
                p if p.ends_with("/decision") => json!({ "decision": "refuse" }),
                p if p.ends_with("/content") => json!({ "content_base64": "AAAA" }),
                p if p.ends_with("/destruction") => json!({ "reason": "r" }),
                p if p.ends_with("/answer") => json!({ "text": "t" }),
                "/api/v1/idc/access" => {
                    json!({ "customer": bank_id, "operation": "read", "assets": [archive], "justification": "customer_initiated_support" })
                }
                "/api/v1/idc/policies" => {
                    json!({ "name": "p", "text": "@id(\"p\") forbid (principal, action, resource);" })
                }
                p if p.ends_with("/share") => {
                    json!({ "asset": archive, "recipient": "r", "purpose": "p", "legal_basis": "l" })
                }
                _ => json!({}),
            }),
            _ => None,
        };
        let fill = |path: &str, asset: &str, destruction: &str, cert: &str| {
            path.replace(
                "{id}",
                if path.contains("destructions") {
                    destruction
                } else {
                    asset
                },
            )
            .replace("{copy}", "primary")
            .replace("{number}", cert)
        };
        let answer = |r: &crate::api::Resp| {
            let mut b = r.body.clone();
            if let Some(o) = b.as_object_mut() {
                o.remove("instance");
                o.remove("request_id");
            }
            (r.status, b)
        };
        let mut checked = 0;
        for name in [
            "cust-b",
            "lead",
            "member",
            "sysadmin",
            "auditor",
            "hospital-lead",
        ] {
            let who = e.who(name).await;
            for (path, methods) in &paths {
                for method in methods {
                    let body = body_for(path, method, name);
                    let url = fill(path, &archive, &open, &number);
                    let r = env
                        .call(&who, &method.to_uppercase(), &url, body.clone())
                        .await;
                    assert!(
                        matches!(
                            r.status,
                            StatusCode::NOT_FOUND
                                | StatusCode::FORBIDDEN
                                | StatusCode::UNPROCESSABLE_ENTITY
                        ) || (r.status == StatusCode::CREATED
                            && name == "cust-b"
                            && url == "/api/v1/idc/policies")
                            || (r.status == StatusCode::OK
                                && matches!(
                                    url.as_str(),
                                    "/api/v1/idc"
                                        | "/api/v1/idc/access"
                                        | "/api/v1/idc/approver-key"
                                        | "/api/v1/idc/policies"
                                )),
                        "{} as {name}: {method} {url} → {} {}",
                        env.backend,
                        r.status,
                        r.text
                    );
                    if path.contains('{') {
                        // Indistinguishable from an id nobody has.
                        let ghost = fill(path, &new_id(), &new_id(), "D-2026-000000000000");
                        let g = env.call(&who, &method.to_uppercase(), &ghost, body).await;
                        assert_eq!(
                            answer(&r),
                            answer(&g),
                            "{} as {name}: {method} {url} differs from a missing id",
                            env.backend
                        );
                        // The other customer reads nothing there (the regulator's report is
                        // the operator's alone, refused the same for every id).
                        if name == "cust-b" && method == "get" && !path.ends_with("/report") {
                            assert_eq!(r.status, StatusCode::NOT_FOUND, "{url}: {}", r.text);
                        }
                    }
                    let mut shown = r.body.clone();
                    if let Some(o) = shown.as_object_mut() {
                        o.remove("instance");
                    }
                    for m in markers {
                        assert!(
                            !shown.to_string().contains(m),
                            "{} as {name}: {method} {url} leaked {m}: {}",
                            env.backend,
                            r.text
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked >= 6 * 14, "{checked}");
        assert_eq!(
            env.call(&a, "GET", "/api/v1/idc", None).await.text,
            before,
            "nothing of the bank changed"
        );
    }
}

/// With the master key in a file, a copy of the database taken before a destruction opens
/// the asset until the destruction, and not after: the customer's KEK was rotated and the
/// master version that wrapped the old KEK is forgotten.
#[tokio::test]
async fn a_database_copy_from_before_the_destruction_cannot_open_the_data() {
    let dir = temp_dir("idc-copy");
    let url = format!("sqlite://{}", dir.join("live.db").display());
    let store = Store::connect(&url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let key_file = dir.join("master.key");
    let master = || -> std::sync::Arc<dyn dengbao_vault::MasterKey> {
        std::sync::Arc::new(dengbao_vault::FileMasterKey::open_or_create(&key_file).unwrap())
    };
    let vault = dengbao_app::vault::Vault::new(store.clone(), master());
    let (pack, _) = example();
    let state = dengbao_server::AppState::new(
        store.clone(),
        Config::default(),
        pack,
        Default::default(),
        vault,
        None,
    );
    state
        .ledger
        .set_signer(dengbao_ledger::NoteSigner::generate("copy.example/ledger").unwrap());
    let logins = seed_idc(&state.app, "").await.unwrap();
    let env = Env {
        backend: "sqlite",
        app: dengbao_server::app(state.clone()),
        state,
        logins,
    };
    let who = |n: &str| {
        let l = env.logins.iter().find(|l| l.username == n).unwrap();
        env.login(l)
    };
    let (ops, a, a2) = (
        who("idc-ops").await,
        who("cust-a").await,
        who("cust-a2").await,
    );
    let o = env.call(&ops, "GET", "/api/v1/idc", None).await;
    let archive = by_name(&o.body["assets"], "name", "Statement archive").clone();
    let (asset, bank) = (
        archive["id"].as_str().unwrap().to_owned(),
        archive["customer"].as_str().unwrap().to_owned(),
    );
    let d = env
        .call(
            &ops,
            "POST",
            &format!("/api/v1/idc/assets/{asset}/destruction"),
            Some(json!({ "reason": "end" })),
        )
        .await;
    let d = d.body["id"].as_str().unwrap().to_owned();
    for w in [&a, &a2] {
        env.call(
            w,
            "POST",
            &format!("/api/v1/idc/destructions/{d}/decision"),
            Some(json!({ "decision": "approve" })),
        )
        .await;
    }
    // The backup.
    let copy = dir.join("copy.db");
    let raw = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "VACUUM INTO '{}'",
        copy.display()
    )))
    .execute(&raw)
    .await
    .unwrap();
    let copy_store = Store::connect(&format!("sqlite://{}", copy.display()), 2)
        .await
        .unwrap();
    let idc_id: String = sqlx::query("SELECT idc_id FROM data_assets WHERE id = $1")
        .bind(&asset)
        .fetch_one(&raw)
        .await
        .unwrap()
        .try_get("idc_id")
        .unwrap();
    let sealed: Vec<u8> =
        sqlx::query("SELECT sealed FROM asset_copies WHERE asset_id = $1 AND copy = 'primary'")
            .bind(&asset)
            .fetch_one(&raw)
            .await
            .unwrap()
            .try_get("sealed")
            .unwrap();
    let aad = format!("asset-copy/{idc_id}/{asset}/primary");
    let from_copy = || async {
        dengbao_app::vault::Vault::new(copy_store.clone(), master())
            .open(
                &bank,
                dengbao_app::vault::Purpose::Asset,
                &asset,
                aad.as_bytes(),
                &sealed,
            )
            .await
    };
    assert!(
        from_copy().await.is_ok(),
        "before the destruction the copy opens: the test can tell"
    );
    let cert = env
        .call(
            &ops,
            "POST",
            &format!("/api/v1/idc/destructions/{d}/execute"),
            None,
        )
        .await;
    assert_eq!(cert.status, StatusCode::OK, "{}", cert.text);
    assert!(
        cert.text.contains("every older version forgotten"),
        "{}",
        cert.text
    );
    let after = from_copy().await;
    assert!(
        after.is_err(),
        "the copy taken before still opens the destroyed data"
    );
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(
        key_text.lines().count(),
        2,
        "one master version left: {key_text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Two of the customer's approvers at once: every approval answered 200 is counted (compare
/// and set), the loser is told to read again, and two open destructions of one asset cannot
/// both exist.
#[tokio::test]
async fn concurrent_approvals_are_never_lost() {
    for e in envs().await {
        let env = &e.env;
        let ops = e.who("idc-ops").await;
        let (a, a2) = (e.who("cust-a").await, e.who("cust-a2").await);
        let o = env.call(&ops, "GET", "/api/v1/idc", None).await;
        let asset = by_name(&o.body["assets"], "name", "Core ledger")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let url = format!("/api/v1/idc/assets/{asset}/destruction");
        let (r1, r2) = tokio::join!(
            env.call(&ops, "POST", &url, Some(json!({ "reason": "one" }))),
            env.call(&ops, "POST", &url, Some(json!({ "reason": "two" })))
        );
        let mut codes = [r1.status, r2.status];
        codes.sort();
        assert_eq!(
            codes,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "{} {}",
            r1.text,
            r2.text
        );
        let d = if r1.status == StatusCode::CREATED {
            r1
        } else {
            r2
        };
        let id = d.body["id"].as_str().unwrap().to_owned();
        let decide = format!("/api/v1/idc/destructions/{id}/decision");
        let body = Some(json!({ "decision": "approve" }));
        let (x, y) = tokio::join!(
            env.call(&a, "POST", &decide, body.clone()),
            env.call(&a2, "POST", &decide, body.clone())
        );
        let ok = [&x, &y]
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count();
        assert!(
            [&x, &y]
                .iter()
                .all(|r| matches!(r.status, StatusCode::OK | StatusCode::CONFLICT))
        );
        let now = env.call(&ops, "GET", "/api/v1/idc", None).await;
        let row = now.body["destructions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id.as_str())
            .unwrap()
            .clone();
        assert_eq!(
            row["approvals"].as_array().unwrap().len(),
            ok,
            "an acknowledged approval was lost: {row}"
        );
    }
}

/// The customer's explicit authorization: without a grant the operator opens nothing; two
/// of the bank's approvers (one with a key the platform keeps, one signing with its own key)
/// approve, each decision an SM2 note this test verifies itself; the grant opens the data and
/// each use is in the ledger; a revocation stops the next use; questions, break-glass,
/// policy refusals and expiry.
#[tokio::test]
async fn access_needs_the_customers_signed_approval_and_stops_when_revoked() {
    for e in envs().await {
        let env = &e.env;
        let ops = e.who("idc-ops").await;
        let (a, a2, b) = (
            e.who("cust-a").await,
            e.who("cust-a2").await,
            e.who("cust-b").await,
        );
        let o = env.call(&ops, "GET", "/api/v1/idc", None).await;
        let archive = by_name(&o.body["assets"], "name", "Statement archive").clone();
        let (asset, bank) = (
            archive["id"].as_str().unwrap().to_owned(),
            archive["customer"].as_str().unwrap().to_owned(),
        );
        let read = format!("/api/v1/idc/assets/{asset}/copies/primary");
        let ask = |extra: Value| {
            let mut body = json!({ "customer": bank, "operation": "read", "assets": [asset], "justification": "customer_initiated_support", "ticket": "CS-1024" });
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        // No grant, no plaintext.
        assert_eq!(
            env.call(&ops, "GET", &read, None).await.status,
            StatusCode::FORBIDDEN
        );
        let r = env
            .call(&ops, "POST", "/api/v1/idc/access", Some(ask(json!({}))))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(
            (
                r.body["state"].as_str(),
                r.body["approvals_needed"].as_i64()
            ),
            (Some("pending"), Some(2))
        );
        let id = r.body["id"].as_str().unwrap().to_owned();
        let decide = format!("/api/v1/idc/access/{id}/decision");
        let r = env.call(&ops, "GET", &read, None).await;
        assert_eq!(
            r.body["type"], "/problems/customer-authorization-required",
            "pending opens nothing"
        );
        assert_eq!(
            env.call(&b, "GET", &format!("/api/v1/idc/access/{id}"), None)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // Every decision is signed: no key, no decision.
        let r = env
            .call(&a, "POST", &decide, Some(json!({ "decision": "approve" })))
            .await;
        assert_eq!(
            r.body["type"], "/problems/approver-key-required",
            "{}",
            r.text
        );
        let k = env
            .call(&a, "PUT", "/api/v1/idc/approver-key", Some(json!({})))
            .await;
        assert_eq!(k.body["custody"], "platform", "{}", k.text);
        let own = dengbao_ledger::NoteSigner::generate("bank-approver-2").unwrap();
        let k2 = env
            .call(
                &a2,
                "PUT",
                "/api/v1/idc/approver-key",
                Some(json!({ "public_key": own.verifier().to_key_string() })),
            )
            .await;
        assert_eq!(k2.body["custody"], "customer", "{}", k2.text);
        assert_eq!(
            env.call(
                &ops,
                "POST",
                &decide,
                Some(json!({ "decision": "approve" }))
            )
            .await
            .status,
            StatusCode::FORBIDDEN,
            "the operator never approves"
        );
        // The first approver asks a question; the operator answers; then approves.
        let r = env
            .call(
                &a,
                "POST",
                &decide,
                Some(json!({ "decision": "more_info" })),
            )
            .await;
        assert_eq!(r.body["state"], "more_info", "{}", r.text);
        let r = env
            .call(
                &ops,
                "POST",
                &format!("/api/v1/idc/access/{id}/answer"),
                Some(json!({ "text": "the customer's ticket CS-1024 asks us to check a balance" })),
            )
            .await;
        assert_eq!(r.body["state"], "pending", "{}", r.text);
        let r = env
            .call(&a, "POST", &decide, Some(json!({ "decision": "approve" })))
            .await;
        assert_eq!(
            (
                r.body["state"].as_str(),
                r.body["approvers"].as_array().unwrap().len()
            ),
            (Some("pending"), 1),
            "{}",
            r.text
        );
        assert_eq!(
            env.call(&a, "POST", &decide, Some(json!({ "decision": "approve" })))
                .await
                .status,
            StatusCode::CONFLICT,
            "one person approves once"
        );
        // The second signs with its own key what the server asks it to sign.
        let text = env
            .call(
                &a2,
                "GET",
                &format!("/api/v1/idc/access/{id}/payload?decision=approve"),
                None,
            )
            .await
            .text;
        assert!(
            text.contains(&format!("request: {id}\n")) && text.contains("decision: approve\n"),
            "{text}"
        );
        let forged = own
            .sign(&text.replace("ticket: CS-1024", "ticket: CS-9999"))
            .unwrap();
        let r = env
            .call(
                &a2,
                "POST",
                &decide,
                Some(json!({ "decision": "approve", "signed_note": forged })),
            )
            .await;
        assert_eq!(
            r.body["field"], "signed_note",
            "a note over another text is refused: {}",
            r.text
        );
        let note = own.sign(&text).unwrap();
        let r = env
            .call(
                &a2,
                "POST",
                &decide,
                Some(json!({ "decision": "approve", "signed_note": note })),
            )
            .await;
        assert_eq!(r.body["state"], "approved", "{}", r.text);
        // Each decision verifies here, with the approver's public key alone.
        for d in r.body["decisions"].as_array().unwrap() {
            let body = open_note(
                d["public_key"].as_str().unwrap(),
                d["note"].as_str().unwrap(),
            );
            assert!(
                body.contains(&format!("request: {id}\n"))
                    && body.contains(&format!("decision: {}\n", d["decision"].as_str().unwrap()))
            );
            assert_eq!(d["verified"], true);
        }
        // The grant opens the data; the use is recorded with its ledger entry.
        let r = env.call(&ops, "GET", &read, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(
            String::from_utf8(
                B64.decode(r.body["content_base64"].as_str().unwrap())
                    .unwrap()
            )
            .unwrap()
            .contains("balance")
        );
        let v = env
            .call(&a, "GET", &format!("/api/v1/idc/access/{id}"), None)
            .await;
        assert_eq!(v.body["state"], "active");
        let uses = v.body["uses"].as_array().unwrap();
        assert_eq!(uses.len(), 1);
        assert!(uses[0]["anomaly"].is_null());
        env.call(&ops, "POST", "/api/v1/ledger/checkpoint", None)
            .await;
        let seq = uses[0]["ledger_seq"].as_i64().unwrap();
        let p = env
            .call(
                &ops,
                "GET",
                &format!("/api/v1/ledger/entries/{seq}/proof"),
                None,
            )
            .await;
        let entry = String::from_utf8(
            B64.decode(p.body["proof"]["entry"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert!(
            entry.contains("\"action\":\"idc.access.use\"") && entry.contains(&id),
            "{entry}"
        );
        // The customer revokes: the very next use is refused.
        let r = env
            .call(
                &a2,
                "GET",
                &format!("/api/v1/idc/access/{id}/payload?decision=revoke"),
                None,
            )
            .await;
        let r = env
            .call(
                &a2,
                "POST",
                &decide,
                Some(json!({ "decision": "revoke", "signed_note": own.sign(&r.text).unwrap() })),
            )
            .await;
        assert_eq!(r.body["state"], "revoked", "{}", r.text);
        assert_eq!(
            env.call(&ops, "GET", &read, None).await.status,
            StatusCode::FORBIDDEN,
            "a revoked grant opens nothing"
        );
        // Below HTTP too: the app function itself refuses, for the operator who asked.
        let u = env
            .state
            .app
            .store
            .user_by_username(&e.user("idc-ops").username)
            .await
            .unwrap();
        let caller = dengbao_app::Caller {
            principal: dengbao_app::Principal {
                user_id: u.id.clone(),
                username: u.username.clone(),
                org: u.tenant_id.clone(),
                org_kind: dengbao_app::guard::OrgKind::IdcOperator,
                roles: vec![dengbao_app::Role::SecurityLead],
                credential: dengbao_app::guard::Credential::Session,
            },
            via: dengbao_app::Via::Token {
                write: true,
                expires_at: i64::MAX,
            },
            request_id: "test".into(),
        };
        let refused = dengbao_app::idc::content(&env.state.app, &caller, &asset, "primary")
            .await
            .unwrap_err();
        assert_eq!(
            refused.slug, "customer-authorization-required",
            "{refused:?}"
        );
        // The customer checks the whole story against the ledger, with this test's own code:
        // the checkpoint's signature, then each entry's inclusion under its root.
        let ev = env
            .call(
                &a,
                "GET",
                &format!("/api/v1/idc/access/{id}/evidence"),
                None,
            )
            .await;
        assert_eq!(ev.status, StatusCode::OK, "{}", ev.text);
        let cp = open_note(
            ev.body["public_key"].as_str().unwrap(),
            ev.body["checkpoint"].as_str().unwrap(),
        );
        let lines: Vec<&str> = cp.lines().collect();
        let size: u64 = lines[1].parse().unwrap();
        let root: [u8; 32] = B64.decode(lines[2]).unwrap().try_into().unwrap();
        let mut actions = Vec::new();
        for p in ev.body["proofs"].as_array().unwrap() {
            let entry = B64.decode(p["entry"].as_str().unwrap()).unwrap();
            let path: Vec<[u8; 32]> = p["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
                .collect();
            assert_eq!(
                root_from_inclusion(
                    p["index"].as_u64().unwrap(),
                    size,
                    sm3(&[&[0], &entry]),
                    &path
                ),
                root
            );
            let v: Value = serde_json::from_slice(&entry).unwrap();
            assert_eq!(v["object"], id.as_str());
            actions.push(v["action"].as_str().unwrap().to_owned());
        }
        // The same, with the verifier `dengbao ledger check-evidence` runs, given the
        // operator's ledger key and the customer's own approver key for a2's decisions.
        let view = env
            .call(&a, "GET", &format!("/api/v1/idc/access/{id}"), None)
            .await;
        let operator =
            dengbao_ledger::NoteVerifier::parse(ev.body["public_key"].as_str().unwrap()).unwrap();
        let report =
            dengbao_ledger::evidence::check(&operator, &ev.text, Some(&view.text), &[]).unwrap();
        assert_eq!(report.failures(), 0, "{:?}", report.lines);
        assert_eq!(
            report.lines.len(),
            ev.body["proofs"].as_array().unwrap().len()
                + view.body["decisions"].as_array().unwrap().len()
        );
        // Forged: an entry's actor changed after the checkpoint.
        let first = ev.body["proofs"][0]["entry"].as_str().unwrap();
        let text = String::from_utf8(B64.decode(first).unwrap()).unwrap();
        let forged = ev.text.replace(
            first,
            &B64.encode(text.replace(&e.user("idc-ops").username, "someone-else")),
        );
        let report =
            dengbao_ledger::evidence::check(&operator, &forged, Some(&view.text), &[]).unwrap();
        assert_eq!(report.failures(), 1, "{:?}", report.lines);
        assert_eq!(
            actions,
            [
                "idc.access.request",
                "idc.access.decide",
                "idc.access.answer",
                "idc.access.decide",
                "idc.access.decide",
                "idc.access.use",
                "idc.access.decide"
            ],
            "{}",
            ev.text
        );
        assert_eq!(
            env.call(
                &b,
                "GET",
                &format!("/api/v1/idc/access/{id}/evidence"),
                None
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );

        // Break-glass in response to an alert: at once, flagged for the customer's review.
        let r = env
            .call(
                &ops,
                "POST",
                "/api/v1/idc/access",
                Some(ask(
                    json!({ "justification": "alert_response", "break_glass": true }),
                )),
            )
            .await;
        assert_eq!(
            (r.status, r.body["state"].as_str()),
            (StatusCode::CREATED, Some("approved")),
            "{}",
            r.text
        );
        assert!(r.body["review_due_ms"].is_i64());
        let bg = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            env.call(&ops, "GET", &read, None).await.status,
            StatusCode::OK
        );
        let inbox = env.call(&a, "GET", "/api/v1/idc/access", None).await;
        assert!(
            inbox
                .body
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == bg.as_str() && x["break_glass"] == true)
        );
        let r = env
            .call(
                &a,
                "POST",
                &format!("/api/v1/idc/access/{bg}/decision"),
                Some(json!({ "decision": "review" })),
            )
            .await;
        assert!(
            r.body["reviewed_at_ms"].is_i64() && r.body["review_due_ms"].is_null(),
            "{}",
            r.text
        );
        env.call(
            &ops,
            "POST",
            &format!("/api/v1/idc/access/{bg}/complete"),
            None,
        )
        .await;
        assert_eq!(
            env.call(&ops, "GET", &read, None).await.status,
            StatusCode::FORBIDDEN,
            "completed"
        );
        // Break-glass only answers an alert; an unknown operation is named.
        let r = env.call(&ops, "POST", "/api/v1/idc/access", Some(ask(json!({ "justification": "operator_initiated_maintenance", "break_glass": true })))).await;
        assert_eq!(r.body["type"], "/problems/policy-denied", "{}", r.text);
        let r = env
            .call(
                &ops,
                "POST",
                "/api/v1/idc/access",
                Some(ask(json!({ "operation": "peek" }))),
            )
            .await;
        assert_eq!(r.body["field"], "operation");
        let r = env
            .call(
                &ops,
                "POST",
                "/api/v1/idc/access",
                Some(ask(json!({ "duration_hours": 500 }))),
            )
            .await;
        assert_eq!(r.body["field"], "duration_hours");
        // Undecided for four days: expired.
        let r = env
            .call(&ops, "POST", "/api/v1/idc/access", Some(ask(json!({}))))
            .await;
        let late = r.body["id"].as_str().unwrap().to_owned();
        env.state.clock.advance(97 * 3_600_000);
        let a = e.who("cust-a").await;
        let v = env
            .call(&a, "GET", &format!("/api/v1/idc/access/{late}"), None)
            .await;
        assert_eq!(v.body["state"], "expired");
        let r = env
            .call(
                &a,
                "POST",
                &format!("/api/v1/idc/access/{late}/decision"),
                Some(json!({ "decision": "approve" })),
            )
            .await;
        assert_eq!(
            (r.status, r.body["type"].as_str()),
            (StatusCode::CONFLICT, Some("/problems/lifecycle")),
            "{}",
            r.text
        );
    }
}

/// A customer's own Cedar policy: checked against the schema, put in force only by a second
/// approver, and then it decides — here three approvers for personal data, where the
/// profile asked two; a policy cannot loosen.
#[tokio::test]
async fn customer_policies_in_cedar_are_checked_approved_and_applied() {
    for e in envs().await {
        let env = &e.env;
        let ops = e.who("idc-ops").await;
        let (a, a2) = (e.who("cust-a").await, e.who("cust-a2").await);
        let o = env.call(&ops, "GET", "/api/v1/idc", None).await;
        let archive = by_name(&o.body["assets"], "name", "Statement archive").clone();
        let (asset, bank) = (
            archive["id"].as_str().unwrap().to_owned(),
            archive["customer"].as_str().unwrap().to_owned(),
        );
        let v = env.call(&a, "GET", "/api/v1/idc/policies", None).await;
        assert!(
            v.body["builtin"]
                .as_str()
                .unwrap()
                .contains("@approvers(\"2\")"),
            "{}",
            v.text
        );
        assert!(v.body["schema"].as_str().unwrap().contains("entity Asset"));
        let bad = env.call(&a, "POST", "/api/v1/idc/policies", Some(json!({ "name": "x", "text": "@id(\"x\") permit (principal, action == Action::\"read\", resource) when { resource.colour == \"red\" };" }))).await;
        assert_eq!(
            (bad.status, bad.body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("text")),
            "{}",
            bad.text
        );
        assert!(bad.text.contains("schema"), "{}", bad.text);
        let text = "@id(\"three-for-personal-data\")\n@approvers(\"3\")\npermit (principal, action == Action::\"read\", resource) when { resource.personal };\n@id(\"loosen\")\n@pre_approved(\"true\")\npermit (principal, action == Action::\"read\", resource);";
        let p = env
            .call(
                &a,
                "POST",
                "/api/v1/idc/policies",
                Some(json!({ "name": "Three approvers for personal data", "text": text })),
            )
            .await;
        assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
        let pid = p.body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            env.call(
                &ops,
                "POST",
                "/api/v1/idc/policies",
                Some(json!({ "name": "x", "text": text }))
            )
            .await
            .status,
            StatusCode::FORBIDDEN,
            "the operator writes no customer policy"
        );
        let ask = json!({ "customer": bank, "operation": "read", "assets": [asset], "justification": "customer_initiated_support" });
        // Proposed is not in force.
        let r = env
            .call(&ops, "POST", "/api/v1/idc/access", Some(ask.clone()))
            .await;
        assert_eq!(r.body["approvals_needed"], 2, "{}", r.text);
        let decide = format!("/api/v1/idc/policies/{pid}/decision");
        assert_eq!(
            env.call(&a, "POST", &decide, Some(json!({ "decision": "approve" })))
                .await
                .status,
            StatusCode::CONFLICT,
            "not by its proposer"
        );
        let r = env
            .call(&a2, "POST", &decide, Some(json!({ "decision": "approve" })))
            .await;
        assert_eq!(r.body["state"], "active", "{}", r.text);
        let r = env
            .call(&ops, "POST", "/api/v1/idc/access", Some(ask.clone()))
            .await;
        assert_eq!(r.body["approvals_needed"], 3, "{}", r.text);
        assert!(
            r.body["policy"]
                .as_str()
                .unwrap()
                .contains("three-for-personal-data"),
            "{}",
            r.text
        );
        // The operator sees the customer's policies too, with the customer named.
        let v = env
            .call(
                &ops,
                "GET",
                &format!("/api/v1/idc/policies?customer={bank}"),
                None,
            )
            .await;
        assert_eq!(v.body["policies"][0]["state"], "active", "{}", v.text);
        // Retiring takes two people as well.
        assert_eq!(
            env.call(&a, "POST", &decide, Some(json!({ "decision": "retire" })))
                .await
                .body["state"],
            "retiring"
        );
        assert_eq!(
            env.call(&a, "POST", &decide, Some(json!({ "decision": "approve" })))
                .await
                .status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            env.call(&a2, "POST", &decide, Some(json!({ "decision": "approve" })))
                .await
                .body["state"],
            "retired"
        );
        let r = env
            .call(&ops, "POST", "/api/v1/idc/access", Some(ask))
            .await;
        assert_eq!(r.body["approvals_needed"], 2, "{}", r.text);
        // The changes are in the ledger under the policy's id.
        let entries = env
            .call(&ops, "GET", "/api/v1/ledger/entries?limit=1000", None)
            .await;
        let n = entries
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["entry"]["object"] == pid.as_str())
            .count();
        assert_eq!(n, 4, "propose, approve, retire, approve: {}", entries.text);
    }
}

/// The external-sharing gate: no export without the customer's approved export grant; the
/// content is scanned and evaluated; identifiers need a written risk assessment, a secrecy
/// marking needs declassification; released content leaves, blocked content does not; every
/// evaluation is kept with masked findings and is in the request's ledger evidence.
#[tokio::test]
async fn sharing_goes_through_the_gate() {
    for e in envs().await {
        let env = &e.env;
        let ops = e.who("idc-ops").await;
        let (a, a2) = (e.who("cust-a").await, e.who("cust-a2").await);
        let o = env.call(&ops, "GET", "/api/v1/idc", None).await;
        let archive = by_name(&o.body["assets"], "name", "Statement archive").clone();
        let (asset, bank) = (
            archive["id"].as_str().unwrap().to_owned(),
            archive["customer"].as_str().unwrap().to_owned(),
        );
        let id_no = "11010519491231002X";
        let put = |text: String| {
            let url = format!("/api/v1/idc/assets/{asset}/content");
            let ops = ops.clone();
            async move {
                env.call(
                    &ops,
                    "PUT",
                    &url,
                    Some(json!({ "content_base64": B64.encode(text) })),
                )
                .await
            }
        };
        assert_eq!(
            put(format!("name,id\nZhang San,{id_no}\n")).await.status,
            StatusCode::OK
        );
        let r = env.call(&ops, "POST", "/api/v1/idc/access", Some(json!({ "customer": bank, "operation": "export", "assets": [asset], "justification": "regulator_data_request", "ticket": "REG-5" }))).await;
        assert_eq!(r.body["approvals_needed"], 2, "{}", r.text);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let share = format!("/api/v1/idc/access/{id}/share");
        let ask = |extra: Value| {
            let mut b = json!({ "asset": asset, "recipient": "Shanghai Communications Administration", "purpose": "inspection", "legal_basis": "order 2026-17" });
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        let r = env.call(&ops, "POST", &share, Some(ask(json!({})))).await;
        assert_eq!(
            r.body["type"], "/problems/customer-authorization-required",
            "not approved yet: {}",
            r.text
        );
        for w in [&a, &a2] {
            env.call(w, "PUT", "/api/v1/idc/approver-key", Some(json!({})))
                .await;
            let r = env
                .call(
                    w,
                    "POST",
                    &format!("/api/v1/idc/access/{id}/decision"),
                    Some(json!({ "decision": "approve" })),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
        // Identifiers found: a written risk assessment first.
        let r = env.call(&ops, "POST", &share, Some(ask(json!({})))).await;
        assert_eq!(
            (r.status, r.body["verdict"].as_str()),
            (StatusCode::OK, Some("blocked")),
            "{}",
            r.text
        );
        assert!(
            r.body["reason"]
                .as_str()
                .unwrap()
                .contains("risk assessment"),
            "{}",
            r.text
        );
        assert!(r.body["content_base64"].is_null());
        assert!(
            !r.text.contains(id_no),
            "the scan report is masked: {}",
            r.text
        );
        assert!(
            r.body["scan"]["counts"]["resident_id"].as_u64().unwrap() >= 1,
            "{}",
            r.text
        );
        let r = env.call(&ops, "POST", &share, Some(ask(json!({ "risk_assessment": "one record, named in the order; sent over the regulator's encrypted channel" })))).await;
        assert_eq!(r.body["verdict"], "released", "{}", r.text);
        assert!(
            String::from_utf8(
                B64.decode(r.body["content_base64"].as_str().unwrap())
                    .unwrap()
            )
            .unwrap()
            .contains(id_no)
        );
        // A secrecy marking: blocked until declassified.
        assert_eq!(
            put("通知\n机密★5年\n内容\n".to_owned()).await.status,
            StatusCode::OK
        );
        let full = json!({ "risk_assessment": "reviewed by the security office before release" });
        let r = env
            .call(&ops, "POST", &share, Some(ask(full.clone())))
            .await;
        assert_eq!(r.body["verdict"], "blocked", "{}", r.text);
        assert!(
            r.body["reason"].as_str().unwrap().contains("declassify"),
            "{}",
            r.text
        );
        let mut declassified = full.clone();
        declassified["declassified"] = json!(true);
        assert_eq!(
            env.call(&ops, "POST", &share, Some(ask(declassified)))
                .await
                .body["verdict"],
            "released"
        );
        // The customer sees every pass, without the content.
        let v = env
            .call(&a, "GET", &format!("/api/v1/idc/access/{id}"), None)
            .await;
        let verdicts: Vec<&str> = v.body["shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["verdict"].as_str().unwrap())
            .collect();
        assert_eq!(
            verdicts,
            ["blocked", "released", "blocked", "released"],
            "{}",
            v.text
        );
        assert!(
            v.body["shares"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["content_base64"].is_null())
        );
        assert!(!v.text.contains(id_no));
        // Each pass is in the request's evidence.
        env.call(&ops, "POST", "/api/v1/ledger/checkpoint", None)
            .await;
        let ev = env
            .call(
                &a,
                "GET",
                &format!("/api/v1/idc/access/{id}/evidence"),
                None,
            )
            .await;
        let actions: Vec<String> = ev.body["proofs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                serde_json::from_slice::<Value>(&B64.decode(p["entry"].as_str().unwrap()).unwrap())
                    .unwrap()["action"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            actions
                .iter()
                .filter(|x| x.starts_with("idc.share."))
                .count(),
            4,
            "{actions:?}"
        );
        assert_eq!(
            actions.iter().filter(|x| *x == "idc.access.use").count(),
            4,
            "{actions:?}"
        );
    }
}

/// The demo's access story (what `serve --demo` shows): seeded once, through the use cases —
/// the bank sees a signed, approved export given out once through the gate and a read
/// waiting in its inbox; the studio sees none of it; and a share under a request that is
/// not approved is refused although another grant of the same operator covers the asset.
#[tokio::test]
async fn the_demo_tells_an_access_story_and_a_share_needs_its_own_grant() {
    for e in envs().await {
        let env = &e.env;
        seed_idc_access(&env.state.app, &e.tag).await.unwrap();
        seed_idc_access(&env.state.app, &e.tag).await.unwrap();
        let (ops, a, b) = (
            e.who("idc-ops").await,
            e.who("cust-a").await,
            e.who("cust-b").await,
        );
        let list = env.call(&a, "GET", "/api/v1/idc/access", None).await;
        let rows = list.body.as_array().unwrap();
        assert_eq!(rows.len(), 2, "seeded once: {}", list.text);
        let export = rows.iter().find(|r| r["operation"] == "export").unwrap();
        assert_eq!(export["state"], "active", "{export}");
        let decisions = export["decisions"].as_array().unwrap();
        assert_eq!(decisions.len(), 2, "both bank approvers: {export}");
        for d in decisions {
            assert_eq!(d["verified"], true, "{d}");
            let body = open_note(
                d["public_key"].as_str().unwrap(),
                d["note"].as_str().unwrap(),
            );
            assert!(body.contains("decision: approve"), "{body}");
        }
        let shares = export["shares"].as_array().unwrap();
        assert_eq!(shares.len(), 1, "{export}");
        assert_eq!(shares[0]["verdict"], "released", "{}", shares[0]);
        assert_eq!(export["uses"].as_array().unwrap().len(), 1, "{export}");
        let read = rows.iter().find(|r| r["operation"] == "read").unwrap();
        assert_eq!(read["state"], "pending", "{read}");
        let other = env.call(&b, "GET", "/api/v1/idc/access", None).await;
        assert_eq!(other.body, json!([]), "the studio sees no bank request");

        let asset = export["assets"][0].as_str().unwrap();
        let r = env.call(&ops, "POST", "/api/v1/idc/access", Some(json!({ "customer": export["customer"], "operation": "export", "assets": [asset], "justification": "third_party_data_request", "ticket": "AUD-9" }))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.body["id"].as_str().unwrap();
        let r = env
            .call(
                &ops,
                "POST",
                &format!("/api/v1/idc/access/{id}/share"),
                Some(json!({ "asset": asset, "recipient": "Example Audit LLP", "purpose": "audit", "legal_basis": "clause 7.2", "risk_assessment": "one statement row for the annual audit, sent over SFTP" })),
            )
            .await;
        assert_eq!(
            r.body["type"], "/problems/customer-authorization-required",
            "the demo's live grant is not this request's: {}",
            r.text
        );
    }
}
