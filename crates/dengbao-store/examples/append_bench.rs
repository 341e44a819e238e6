//! Durable ledger appends per second:
//! `append_bench URL [SECONDS] [WRITERS] [full|normal] [change|group]`.
//! `change`: each append is a real audited change (an event on a grading object) committed
//! in its own transaction with its ledger entry. `group`: WRITERS concurrent producers append
//! stand-alone records through the group committer. Either way a write is counted only once
//! its commit returned, and the ledger's length is checked against the count at the end.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement: fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dengbao_store::{
    Audit, Durability, EventRow, GroupCommit, Organisation, Record, Store, SystemRow, new_id,
};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .expect("usage: append_bench URL [SECONDS] [WRITERS] [full|normal] [change|group]")
        .clone();
    let secs: u64 = args.get(2).map_or(5, |a| a.parse().unwrap());
    let writers: usize = args.get(3).map_or(16, |a| a.parse().unwrap());
    let durability = if args.get(4).is_some_and(|d| d == "normal") {
        Durability::Normal
    } else {
        Durability::Full
    };
    let group = args.get(5).is_some_and(|m| m == "group");
    let connections = if group { 2 } else { writers as u32 + 1 };
    let store = Store::connect_with(&url, connections, durability)
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
    let before = store.ledger_len().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    let gc = GroupCommit::start(store.clone(), 4096, 65_536);
    for w in 0..writers {
        if group {
            let (gc, tenant, count) = (gc.clone(), tenant.clone(), count.clone());
            tasks.push(tokio::spawn(async move {
                let mut k = 0u64;
                while Instant::now() < deadline {
                    let r = Record {
                        tenant: tenant.clone(),
                        actor: "bench".into(),
                        action: "auth.login".into(),
                        object: format!("user-{w}"),
                        request_id: format!("{w}-{k}"),
                        at: k as i64,
                        state: Vec::new(),
                    };
                    gc.append(r).await.unwrap();
                    count.fetch_add(1, Ordering::Relaxed);
                    k += 1;
                }
            }));
            continue;
        }
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
    let elapsed = start.elapsed().as_secs_f64();
    let n = count.load(Ordering::Relaxed);
    let stored = store.ledger_len().await.unwrap() - before;
    assert_eq!(
        stored, n as i64,
        "every acknowledged append is in the ledger, and only those"
    );
    println!(
        "{:>8.0} appends/s  ({n} in {elapsed:.1} s, {writers} {}, {:?}; ledger has all {stored})",
        n as f64 / elapsed,
        if group {
            "producers, group commit"
        } else {
            "writers, one transaction each"
        },
        durability
    );
}
