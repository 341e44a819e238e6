//! Durable ledger appends per second: `append_bench URL [SECONDS] [WRITERS] [full|normal]`.
//! Each append is a real audited change (an event on a grading object) committed in its own
//! transaction with its ledger entry; a write is counted only once its commit returned.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement: fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dengbao_store::{Audit, Durability, EventRow, Organisation, Store, SystemRow, new_id};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .expect("usage: append_bench URL [SECONDS] [WRITERS] [full|normal]")
        .clone();
    let secs: u64 = args.get(2).map_or(5, |a| a.parse().unwrap());
    let writers: usize = args.get(3).map_or(16, |a| a.parse().unwrap());
    let durability = if args.get(4).is_some_and(|d| d == "normal") {
        Durability::Normal
    } else {
        Durability::Full
    };
    let store = Store::connect_with(&url, writers as u32 + 1, durability)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let tenant = new_id();
    store
        .create_organisation(&Organisation {
            id: tenant.clone(),
            name: format!("bench-{tenant}"),
            kind: "operator".into(),
            credit_code: None,
            division: None,
            data_version: 0,
            created_at: 0,
        })
        .await
        .unwrap();
    let audit = Audit {
        actor: "bench",
        action: "bench",
        object: "s",
        request_id: "-",
        at: 0,
    };
    store
        .insert_system(
            &SystemRow {
                tenant_id: tenant.clone(),
                id: "s".into(),
                name: "S".into(),
                kind: "information_system".into(),
                grade: 3,
                facts: "{}".into(),
                version: 1,
                created_at: 0,
                updated_at: 0,
            },
            &audit,
        )
        .await
        .unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (store, tenant, count) = (store.clone(), tenant.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            let mut k = 0u64;
            while Instant::now() < deadline {
                let e = EventRow { id: new_id(), object_id: "s".into(), date: "2025-01-01".into(), kind: "self_inspection".into(), payload: format!(r#"{{"date":"2025-01-01","type":"self_inspection","conformity":"conformant","note":"{w}-{k}"}}"#), recorded_at: 0, recorded_by: "bench".into() };
                store.add_event(&tenant, &e, None, &Audit { actor: "bench", action: "event.add", object: "s", request_id: "-", at: 0 }).await.unwrap();
                count.fetch_add(1, Ordering::Relaxed);
                k += 1;
            }
        }));
    }
    let start = Instant::now();
    for t in tasks {
        t.await.unwrap();
    }
    let n = count.load(Ordering::Relaxed);
    println!(
        "{:>8.0} appends/s  ({n} in {:.1} s, {writers} writers, {:?})",
        n as f64 / start.elapsed().as_secs_f64(),
        start.elapsed().as_secs_f64(),
        durability
    );
}
