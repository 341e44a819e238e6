//! The store on SQLite (always) and PostgreSQL (when `DATABASE_URL` is set): tenancy,
//! optimistic concurrency, audit and data versions, filters, lockout counting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use dengbao_store::{
    Audit, EventRow, Organisation, Store, StoreError, SystemFilter, SystemRow, User, new_id,
};

async fn stores() -> Vec<(&'static str, Store)> {
    let dir =
        std::env::temp_dir().join(format!("dengbao-store-{}-{}", std::process::id(), new_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}", dir.join("t.db").display()), 4)
        .await
        .unwrap();
    let mut v = vec![("sqlite", sqlite)];
    match std::env::var("DATABASE_URL") {
        Ok(url) => v.push(("postgres", Store::connect(&url, 4).await.unwrap())),
        Err(_) if std::env::var("DENGBAO_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
            panic!("DENGBAO_REQUIRE_POSTGRES=1 but DATABASE_URL is not set")
        }
        Err(_) => eprintln!(
            "SKIPPED the PostgreSQL half: set DATABASE_URL to a throw-away database (.ci/run does)"
        ),
    }
    for (_, s) in &v {
        s.migrate().await.unwrap();
        // Idempotent.
        assert_eq!(s.migrate().await.unwrap(), 0);
    }
    v
}

fn audit(at: i64) -> Audit<'static> {
    Audit {
        actor: "test",
        action: "test",
        object: "x",
        request_id: "r",
        at,
    }
}

async fn org(s: &Store) -> String {
    let id = new_id();
    s.create_organisation(&Organisation {
        id: id.clone(),
        name: format!("org-{id}"),
        kind: "operator".into(),
        credit_code: None,
        division: None,
        data_version: 0,
        created_at: 1,
    })
    .await
    .unwrap();
    id
}

fn system(tenant: &str, id: &str, name: &str, grade: i64) -> SystemRow {
    SystemRow {
        tenant_id: tenant.into(),
        id: id.into(),
        name: name.into(),
        kind: "information_system".into(),
        grade,
        facts: "{}".into(),
        version: 1,
        created_at: 10,
        updated_at: 10,
    }
}

#[tokio::test]
async fn tenancy_versions_and_audit() {
    for (name, s) in stores().await {
        let a = org(&s).await;
        let b = org(&s).await;
        s.insert_system(&system(&a, "pay", "Payments", 3), &audit(10))
            .await
            .unwrap();
        assert_eq!(s.data_version(&a).await.unwrap(), 1, "{name}");
        // Same id in another tenant is a different object; B cannot see A's.
        assert!(
            matches!(s.system(&b, "pay").await, Err(StoreError::NotFound)),
            "{name}"
        );
        s.insert_system(&system(&b, "pay", "Other", 2), &audit(11))
            .await
            .unwrap();
        assert_eq!(s.system(&a, "pay").await.unwrap().name, "Payments");
        assert!(
            matches!(
                s.insert_system(&system(&a, "pay", "Dup", 1), &audit(12))
                    .await,
                Err(StoreError::Conflict(_))
            ),
            "{name}"
        );

        // Optimistic concurrency.
        let v = s
            .update_system(
                &SystemRow {
                    name: "Payments v2".into(),
                    grade: 4,
                    facts: "{\"x\":1}".into(),
                    ..system(&a, "pay", "", 0)
                },
                1,
                &audit(13),
            )
            .await
            .unwrap();
        assert_eq!(v, 2);
        match s
            .update_system(&system(&a, "pay", "stale", 1), 1, &audit(14))
            .await
        {
            Err(StoreError::Stale {
                expected: 1,
                actual: 2,
            }) => {}
            other => panic!("{name}: {other:?}"),
        }
        assert!(matches!(
            s.update_system(&system(&b, "nope", "x", 1), 1, &audit(15))
                .await,
            Err(StoreError::NotFound)
        ));

        // Events belong to the tenant's object only.
        let e = EventRow {
            id: new_id(),
            object_id: "pay".into(),
            date: "2025-01-01".into(),
            kind: "grade_determined".into(),
            payload: "{}".into(),
            recorded_at: 16,
            recorded_by: "t".into(),
        };
        s.add_event(&a, &e, None, &audit(16)).await.unwrap();
        assert_eq!(s.events(&a, "pay").await.unwrap().len(), 1);
        assert!(s.events(&b, "pay").await.unwrap().is_empty());
        let ghost = EventRow {
            object_id: "ghost".into(),
            id: new_id(),
            ..e.clone()
        };
        assert!(matches!(
            s.add_event(&a, &ghost, None, &audit(17)).await,
            Err(StoreError::NotFound)
        ));

        // Every change is audited, scoped by tenant.
        let trail = s.audit(Some(&a), 100, 0).await.unwrap();
        assert_eq!(trail.len(), 3, "{name}: {trail:?}");
        assert!(trail.iter().all(|r| r.tenant_id == a));
        assert!(trail[0].seq > trail[1].seq);

        // Delete needs the current version and removes the object's events.
        assert!(matches!(
            s.delete_system(&a, "pay", 1, &audit(18)).await,
            Err(StoreError::Stale { .. })
        ));
        s.delete_system(&a, "pay", 2, &audit(19)).await.unwrap();
        assert!(matches!(
            s.system(&a, "pay").await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(s.system(&b, "pay").await.unwrap().name, "Other");
    }
}

#[tokio::test]
async fn filters_and_pagination() {
    for (name, s) in stores().await {
        let t = org(&s).await;
        for i in 0..25 {
            s.insert_system(
                &system(
                    &t,
                    &format!("s{i:02}"),
                    &format!(
                        "System {i:02}{}",
                        if i % 5 == 0 { " 100%_core" } else { "" }
                    ),
                    1 + i % 5,
                ),
                &audit(i),
            )
            .await
            .unwrap();
        }
        let page = |grade: Option<i64>, search: Option<&str>, limit, offset| SystemFilter {
            grade,
            kind: None,
            search: search.map(Into::into),
            limit,
            offset,
        };
        let (rows, total) = s.systems(&t, &page(None, None, 10, 20)).await.unwrap();
        assert_eq!((rows.len(), total), (5, 25), "{name}");
        assert_eq!(rows[0].id, "s20");
        let (rows, total) = s.systems(&t, &page(Some(3), None, 100, 0)).await.unwrap();
        assert_eq!(total, 5);
        assert!(rows.iter().all(|r| r.grade == 3));
        // LIKE wildcards in the search text are literal.
        let (_, total) = s
            .systems(&t, &page(None, Some("100%_c"), 100, 0))
            .await
            .unwrap();
        assert_eq!(total, 5, "{name}");
        let (_, total) = s.systems(&t, &page(None, Some("%"), 100, 0)).await.unwrap();
        assert_eq!(total, 5, "{name}: `%` must not match everything");
    }
}

#[tokio::test]
async fn users_roles_and_lockout() {
    for (name, s) in stores().await {
        let t = org(&s).await;
        let uname = format!("u-{}", new_id());
        let u = User {
            id: new_id(),
            tenant_id: t.clone(),
            username: uname.clone(),
            display_name: "U".into(),
            password_hash: "h".into(),
            totp_secret: None,
            totp_enabled: false,
            failed_attempts: 0,
            locked_until: 0,
            last_totp_step: 0,
            disabled: false,
            created_at: 1,
        };
        s.create_user(&u, &["member"], &audit(1)).await.unwrap();
        assert!(
            matches!(
                s.create_user(
                    &User {
                        id: new_id(),
                        ..u.clone()
                    },
                    &[],
                    &audit(2)
                )
                .await,
                Err(StoreError::Conflict(_))
            ),
            "{name}"
        );
        assert_eq!(s.roles(&u.id).await.unwrap(), ["member"]);
        s.assign_role(&t, &u.id, "security_lead", &audit(3))
            .await
            .unwrap();
        assert_eq!(s.roles(&u.id).await.unwrap(), ["member", "security_lead"]);
        for i in 1..5 {
            assert_eq!(
                s.login_failed(&u.id, 100, 5, 900_000).await.unwrap(),
                0,
                "attempt {i}"
            );
        }
        assert_eq!(
            s.login_failed(&u.id, 100, 5, 900_000).await.unwrap(),
            900_100
        );
        assert_eq!(
            s.user_by_username(&uname).await.unwrap().locked_until,
            900_100
        );
        // TOTP steps cannot be replayed.
        assert!(s.use_totp_step(&u.id, 10).await.unwrap());
        assert!(!s.use_totp_step(&u.id, 10).await.unwrap());
        assert!(s.use_totp_step(&u.id, 11).await.unwrap());
    }
}

#[tokio::test]
async fn every_audited_change_appends_a_gapless_ledger_entry() {
    for (name, s) in stores().await {
        let t = org(&s).await;
        let before = s.ledger_len().await.unwrap();
        // Concurrent writers: each gets its own number, none is skipped or repeated.
        let mut handles = Vec::new();
        for i in 0..24 {
            let (s, t) = (s.clone(), t.clone());
            handles.push(tokio::spawn(async move {
                s.insert_system(
                    &system(&t, &format!("c{i}"), "Concurrent", 2),
                    &audit(100 + i),
                )
                .await
            }));
        }
        for h in handles {
            h.await.unwrap().unwrap();
        }
        // A failing change (duplicate id) leaves no entry behind.
        assert!(
            s.insert_system(&system(&t, "c0", "dup", 1), &audit(200))
                .await
                .is_err()
        );
        let after = s.ledger_len().await.unwrap();
        assert!(after >= before + 24, "{name}");
        let rows = s.ledger_entries(None, 0, 1_000_000).await.unwrap();
        // Other tests write concurrently: the prefix up to `after` is fixed and gapless.
        assert!(rows.len() as i64 >= after, "{name}: gapless");
        for (i, r) in rows.iter().take(after as usize).enumerate() {
            assert_eq!(r.seq, i as i64, "{name}");
            let v: serde_json::Value = serde_json::from_str(&r.entry).unwrap();
            assert_eq!(v["seq"], r.seq);
            let leaf: String = dengbao_ledger::leaf_hash(r.entry.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(leaf, r.leaf_hash);
        }
        let mine = s.ledger_entries(Some(&t), 0, 1000).await.unwrap();
        assert_eq!(mine.len(), 24);
        assert!(
            mine.iter()
                .all(|r| r.tenant_id == t && r.entry.contains("\"action\":\"test\""))
        );
        // Checkpoints: one per size, the first one kept.
        s.put_checkpoint(after, "note-a", 1).await.unwrap();
        s.put_checkpoint(after, "note-b", 2).await.unwrap();
        let cps = s.checkpoints().await.unwrap();
        assert_eq!(
            cps.iter().find(|(size, _)| *size == after).unwrap().1,
            "note-a"
        );
    }
}

fn record(tenant: &str, i: usize) -> dengbao_store::Record {
    dengbao_store::Record {
        tenant: tenant.into(),
        actor: format!("user-{i}"),
        action: "auth.login".into(),
        // Text that must survive the JSON round trip byte for byte.
        object: format!("对象 \"{i}\" \\ \u{1}"),
        request_id: format!("r{i}"),
        at: 1_000 + i as i64,
        state: vec![i as u8],
    }
}

#[tokio::test]
async fn group_commit_appends_exact_gapless_entries_and_isolates_a_bad_record() {
    for (name, s) in stores().await {
        let t = org(&s).await;
        let version =
            |s: Store, t: String| async move { s.organisation(&t).await.unwrap().data_version };
        let v0 = version(s.clone(), t.clone()).await;
        let gc = dengbao_store::GroupCommit::start(s.clone(), 64, 1024);
        // Many producers at once, interleaved with ordinary audited changes.
        let mut handles = Vec::new();
        for i in 0..300 {
            let (gc, t) = (gc.clone(), t.clone());
            handles.push(tokio::spawn(async move { gc.append(record(&t, i)).await }));
        }
        for i in 0..5 {
            s.insert_system(&system(&t, &format!("g{i}"), "G", 2), &audit(5))
                .await
                .unwrap();
        }
        let mut seqs = Vec::new();
        for h in handles {
            seqs.push(h.await.unwrap().unwrap());
        }
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 300, "{name}: one number each");
        // Every record is stored exactly as the canonical entry of its number.
        let rows = s.ledger_entries(Some(&t), 0, 1_000_000).await.unwrap();
        assert_eq!(rows.len(), 305, "{name}");
        for (i, seq) in seqs.iter().enumerate() {
            let row = rows.iter().find(|r| r.seq == *seq).unwrap();
            let r = record(&t, i);
            let a = Audit {
                actor: &r.actor,
                action: &r.action,
                object: &r.object,
                request_id: &r.request_id,
                at: r.at,
            };
            assert_eq!(
                row.entry,
                dengbao_store::canonical_entry(*seq, &t, &a, &r.state),
                "{name}"
            );
            assert_eq!(
                row.leaf_hash,
                dengbao_ledger::to_hex(&dengbao_ledger::leaf_hash(row.entry.as_bytes()))
            );
        }
        // The whole log stays gapless.
        let all = s.ledger_entries(None, 0, 10_000_000).await.unwrap();
        for (i, r) in all.iter().enumerate() {
            assert_eq!(r.seq, i as i64, "{name}: gapless");
        }
        // Security events do not invalidate compliance caches: only the 5 changes moved it.
        assert_eq!(version(s.clone(), t.clone()).await, v0 + 5, "{name}");
        // The audit trail has them too.
        let trail = s.audit(Some(&t), 1000, 0).await.unwrap();
        assert_eq!(
            trail.iter().filter(|a| a.action == "auth.login").count(),
            300
        );

        // A record for an unknown organisation fails alone; its batch-mates are kept.
        // Counted in this organisation: other tests write to the same log concurrently.
        let mine = |s: Store, t: String| async move {
            s.ledger_entries(Some(&t), 0, 1_000_000)
                .await
                .unwrap()
                .len()
        };
        let before = mine(s.clone(), t.clone()).await;
        let bad = gc.clone();
        let bad = tokio::spawn(async move { bad.append(record("no-such-org", 0)).await });
        let mut good = Vec::new();
        for i in 0..20 {
            let (gc, t) = (gc.clone(), t.clone());
            good.push(tokio::spawn(async move { gc.append(record(&t, i)).await }));
        }
        assert!(matches!(
            bad.await.unwrap(),
            Err(dengbao_store::AppendError::Failed(_))
        ));
        for g in good {
            g.await.unwrap().unwrap();
        }
        assert_eq!(mine(s.clone(), t.clone()).await, before + 20, "{name}");
    }
}
