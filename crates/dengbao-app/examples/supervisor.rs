//! `bench/supervisor.sh`: a province's public security organ over 100,000 grading objects of
//! 200 operators (issue #14). Seeds SQLite through the import path (every system with its
//! facts and history, 2,000 filings routed to the organ), then times, in process, the organ's
//! two pages' use cases — the jurisdiction dashboard (`supervision::dashboard`) and the review
//! queue (`reviews::queue`) — p50/p99 and requests per second, next to the baseline of the
//! same run: reading the area's objects from the store alone (`jurisdiction_objects`); and
//! the supervision page's list (`supervision::objects`, first page).
//! Usage: supervisor [operators=200] [systems per operator=500] [requests=200]

use std::time::Instant;

use anyhow::Result;
use dengbao_app::{App, Config, import, reviews, supervision};
use dengbao_core::model::Inventory;
use dengbao_core::{HolidayCalendar, RulePack};
use dengbao_store::{Audit, EventRow, FilingRow, Organisation, new_id};
use serde_json::json;

fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
}

/// One operator's inventory: `n` systems across Shanghai's districts, graded II–IV by
/// their harm, operating since 2019–2025, most filed, some evaluated, inspected or noticed.
fn inventory(op: usize, n: usize) -> Result<Inventory> {
    let districts = [
        "310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113",
        "310114", "310115", "310116", "310117", "310118", "310120", "310151",
    ];
    let harms = [
        ("citizens_legal_persons", "serious_damage"),
        ("social_order_public_interest", "serious_damage"),
        (
            "social_order_public_interest",
            "particularly_serious_damage",
        ),
    ];
    let mut systems = Vec::with_capacity(n);
    for i in 0..n {
        let k = op * 7919 + i * 104_729;
        let (object, degree) = harms[k % harms.len()];
        let year = 2019 + (k % 7);
        let since = format!("{year}-{:02}-{:02}", 1 + k % 12, 1 + k % 28);
        let mut events =
            vec![json!({ "date": format!("{year}-01-02"), "type": "grade_determined" })];
        if k % 5 != 0 {
            events.push(json!({ "date": format!("{year}-{:02}-15", 1 + k % 12), "type": "filing_submitted" }));
        }
        if k % 3 == 0 {
            events.push(json!({ "date": "2025-06-10", "type": "evaluation", "conformity": "basically_conformant" }));
        }
        if k % 11 == 0 {
            events.push(json!({ "date": "2025-03-03", "type": "inspection", "findings": ["management_system"] }));
        }
        systems.push(json!({
            "id": format!("s{i:04}"),
            "name": format!("System {i} of operator {op}"),
            "kind": "information_system",
            "division": districts[k % districts.len()],
            "lifecycle": { "operating_since": since },
            "assessment": {
                "business_information": [{ "object": object, "degree": degree }],
                "system_service": [{ "object": "citizens_legal_persons", "degree": "damage" }]
            },
            "events": events,
        }));
    }
    let inv: Inventory = serde_json::from_value(json!({ "systems": systems }))?;
    Ok(inv)
}

fn audit(object: &str, at: i64) -> Audit<'_> {
    Audit {
        actor: "bench",
        action: "bench.seed",
        object,
        request_id: "-",
        at,
    }
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let operators = args.next().transpose()?.unwrap_or(200);
    let per = args.next().transpose()?.unwrap_or(500);
    let requests = args.next().transpose()?.unwrap_or(200);
    let dir = std::env::temp_dir().join(format!("dengbao-supervisor-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let r = rt.block_on(run(&dir, operators, per, requests));
    let _ = std::fs::remove_dir_all(&dir);
    r
}

async fn run(dir: &std::path::Path, operators: usize, per: usize, requests: usize) -> Result<()> {
    let url = format!("sqlite://{}", dir.join("dengbao.db").display());
    let store =
        dengbao_store::Store::connect_with(&url, 4, dengbao_store::Durability::Normal).await?;
    store.migrate().await?;
    let master = dengbao_vault::FileMasterKey::open_or_create(&dir.join("master.key"))?;
    let vault = dengbao_app::vault::Vault::new(store.clone(), std::sync::Arc::new(master));
    let pack = RulePack::baseline()?;
    let now = 1_796_000_000_000;
    // The province's organ.
    let organ = Organisation {
        id: new_id(),
        name: "上海市公安局（省级） Shanghai public security, province level".into(),
        kind: "public_security".into(),
        credit_code: None,
        division: Some("310000".into()),
        data_version: 0,
        created_at: now,
    };
    store.create_organisation(&organ).await?;
    store
        .add_jurisdiction(&organ.id, "310000", "province", &audit(&organ.id, now))
        .await?;
    let t0 = Instant::now();
    let mut filings = 0;
    for op in 0..operators {
        let org = Organisation {
            id: new_id(),
            name: format!("Operator {op:03} Co., Ltd."),
            kind: "operator".into(),
            credit_code: None,
            division: Some("310115".into()),
            data_version: 0,
            created_at: now,
        };
        store.create_organisation(&org).await?;
        let mut inv = inventory(op, per)?;
        inv.validate(&pack, "bench")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        import::load_inventory(&vault, &pack, &org.id, &inv, now).await?;
        // Ten filings each waiting in the organ's queue.
        for i in 0..10 {
            let object = format!("s{:04}", i * per.max(10) / 10);
            let f = FilingRow {
                id: new_id(),
                object_id: object.clone(),
                status: "submitted".into(),
                grade: 3,
                materials: "[]".into(),
                created_at: now,
                submitted_at: Some(now),
                submitted_by: Some("bench".into()),
                organ_id: Some(organ.id.clone()),
                received_on: None,
                decided_on: None,
                reasons: None,
                certificate: None,
            };
            let ev = EventRow {
                id: new_id(),
                object_id: object,
                date: "2026-11-30".into(),
                kind: "filing_submitted".into(),
                payload: r#"{"date":"2026-11-30","type":"filing_submitted"}"#.into(),
                recorded_at: now,
                recorded_by: "bench".into(),
            };
            store
                .create_filing(&org.id, &f, &ev, &audit(&f.id, now))
                .await?;
            filings += 1;
        }
        if (op + 1) % 20 == 0 {
            eprintln!(
                "seeded {} operators, {} systems ({:.0} s)",
                op + 1,
                (op + 1) * per,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    let app = App::new(
        store.clone(),
        Config::default(),
        pack,
        HolidayCalendar::new(),
        vault,
    );
    let lead = import::demo_caller(
        "bench",
        "psb-province",
        &organ.id,
        dengbao_guard::OrgKind::PublicSecurity,
    );
    println!(
        "area: {operators} operators, {} grading objects in province 31, {filings} filings in the organ's queue (seeded in {:.0} s)",
        operators * per,
        t0.elapsed().as_secs_f64()
    );

    // Baseline: the store's read of the area's objects alone.
    let mut base = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let rows = store.jurisdiction_objects(&organ.id).await?;
        base.push(t.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(rows);
    }
    let t = Instant::now();
    let d = supervision::dashboard(&app, &lead).await?;
    let cold = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "dashboard: {} operators, {} objects, {} overdue obligations, {} violations",
        d.operators, d.systems, d.overdue_total, d.violations_total
    );
    let mut dash = Vec::with_capacity(requests);
    let t_all = Instant::now();
    for _ in 0..requests {
        let t = Instant::now();
        std::hint::black_box(supervision::dashboard(&app, &lead).await?);
        dash.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let dash_rps = requests as f64 / t_all.elapsed().as_secs_f64();
    let mut queue = Vec::with_capacity(requests);
    let t_all = Instant::now();
    for _ in 0..requests {
        let t = Instant::now();
        std::hint::black_box(reviews::queue(&app, &lead).await?);
        queue.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let queue_rps = requests as f64 / t_all.elapsed().as_secs_f64();
    // The supervision page's list: the first 200 of the area's objects, overdue first.
    let mut list = Vec::with_capacity(requests.min(50));
    for _ in 0..requests.min(50) {
        let t = Instant::now();
        std::hint::black_box(supervision::objects(&app, &lead, Some(1), Some(200)).await?);
        list.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let base_p50 = pct(&mut base, 0.5);
    let (d50, d99) = (pct(&mut dash, 0.5), pct(&mut dash, 0.99));
    println!(
        "{:<58} {:>9.1} ms",
        "baseline: store read of the area's objects (p50 of 5)", base_p50
    );
    println!(
        "{:<58} {:>9.1} ms",
        "dashboard, first request (every operator computed)", cold
    );
    println!(
        "{:<58} p50 {d50:.2} ms, p99 {d99:.2} ms, {dash_rps:.0} req/s over {requests}",
        "dashboard (warm)"
    );
    println!(
        "{:<58} p50 {:.2} ms, p99 {:.2} ms, {queue_rps:.0} req/s over {requests}",
        "review queue",
        pct(&mut queue, 0.5),
        pct(&mut queue, 0.99)
    );
    println!(
        "{:<58} p50 {:.2} ms, p99 {:.2} ms over {}",
        "area list, first page of 200 (all objects sorted)",
        pct(&mut list, 0.5),
        pct(&mut list, 0.99),
        list.len()
    );
    println!(
        "dashboard p99 / store read: {:.3}x; target dashboard p99 <= 50 ms: {}",
        d99 / base_p50,
        if d99 <= 50.0 { "met" } else { "NOT met" }
    );
    Ok(())
}
