//! The external-sharing gate on a 100 MB export (issue #16): `access::share` end to end on
//! SQLite — the live-grant check and its use on record, the vault opening the sealed
//! content, the scan, the risk evaluation, the MAC and the evidence row — next to
//! `Scanner::scan_bytes` (what `dengbao scan` does per file) on the same bytes in the same
//! run. `bench/share.sh` also times the `dengbao scan` binary on the file this writes.
//!
//! Usage: `share_gate [MB=100] [OUT_FILE]` — the export is written to OUT_FILE (default
//! `$TMPDIR/dengbao-share-export.csv`).

use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use dengbao_app::{App, Config, access, idc, import};
use dengbao_core::{HolidayCalendar, RulePack};

/// A customer export as people share it: digit-dense CSV (every row an order with ids,
/// times and amounts), with a mobile number in one row of 25, a resident ID in one of 200
/// and a bank card in one of 500 (valid check digits), and a free-text note line in one of 4.
fn export(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 256);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    out.extend_from_slice("order_id,placed_at,amount_cny,qty,sku,contact,note\n".as_bytes());
    let mut row = 0u64;
    while out.len() < bytes {
        row += 1;
        let r = next();
        if row % 4 == 0 {
            out.extend_from_slice(
                "# 备注 customer asked to merge the shipment with the previous order; see ticket\n"
                    .as_bytes(),
            );
            continue;
        }
        let contact = if row % 500 == 0 {
            luhn_card(r)
        } else if row % 200 == 0 {
            resident_id(r)
        } else if row % 25 == 0 {
            format!("1{}{:09}", 3 + r % 7, r % 1_000_000_000)
        } else {
            String::new()
        };
        let line = format!(
            "{:012},2026-{:02}-{:02} {:02}:{:02}:{:02},{}.{:02},{},SKU-{:06},{},ok\n",
            100_000_000_000 + row,
            1 + r % 12,
            1 + (r >> 8) % 28,
            (r >> 16) % 24,
            (r >> 24) % 60,
            (r >> 32) % 60,
            (r >> 40) % 100_000,
            (r >> 20) % 100,
            1 + (r >> 12) % 9,
            (r >> 28) % 1_000_000,
            contact
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn resident_id(r: u64) -> String {
    let body = format!(
        "110105{}{:02}{:02}{:03}",
        1950 + r % 60,
        1 + (r >> 8) % 12,
        1 + (r >> 16) % 28,
        (r >> 24) % 1000
    );
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

fn luhn_card(r: u64) -> String {
    let body = format!("622202{:09}", r % 1_000_000_000);
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn best_of<T>(n: usize, mut f: impl FnMut() -> Result<T>) -> Result<(f64, T)> {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..n {
        let t0 = Instant::now();
        let v = f()?;
        best = best.min(t0.elapsed().as_secs_f64());
        last = Some(v);
    }
    last.map(|v| (best, v)).ok_or_else(|| anyhow!("no run"))
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mb: usize = args.next().map_or(Ok(100), |a| a.parse()).context("MB")?;
    let out_file = args.next().map_or_else(
        || std::env::temp_dir().join("dengbao-share-export.csv"),
        std::path::PathBuf::from,
    );
    let data = export(mb * 1_000_000);
    std::fs::write(&out_file, &data).with_context(|| format!("{}", out_file.display()))?;
    let size = data.len() as f64 / 1e6;
    eprintln!("export: {size:.1} MB written to {}", out_file.display());

    let dir = std::env::temp_dir().join(format!("dengbao-share-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(run(&dir, &data, size));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(dir: &std::path::Path, data: &[u8], size: f64) -> Result<()> {
    let url = format!("sqlite://{}", dir.join("dengbao.db").display());
    let store =
        dengbao_store::Store::connect_with(&url, 4, dengbao_store::Durability::Normal).await?;
    store.migrate().await?;
    let master = dengbao_vault::FileMasterKey::open_or_create(&dir.join("master.key"))?;
    let vault = dengbao_app::vault::Vault::new(store.clone(), std::sync::Arc::new(master));
    let app = App::new(
        store.clone(),
        Config::default(),
        RulePack::baseline()?,
        HolidayCalendar::new(),
        vault,
    );
    // The demo IDC: its bank customer approved an export of the statement archive (both
    // approvers, signed) — the grant the gate checks here.
    import::seed_idc(&app, "").await?;
    import::seed_idc_access(&app, "").await?;
    let u = store.user_by_username("idc-ops").await?;
    let ops = import::demo_caller(
        &u.id,
        &u.username,
        &u.tenant_id,
        dengbao_guard::OrgKind::IdcOperator,
    );
    let grant = access::list(&app, &ops)
        .await?
        .into_iter()
        .find(|r| r.operation == "export" && r.state == "active")
        .ok_or_else(|| anyhow!("the demo has no active export grant"))?;
    let asset = grant.assets[0].clone();
    let t0 = Instant::now();
    idc::put_content(&app, &ops, &asset, data).await?;
    eprintln!(
        "content sealed as the customer's copies in {:.2} s",
        t0.elapsed().as_secs_f64()
    );

    let scanner = dengbao_scan::Scanner::new(dengbao_scan::Config::default())?;
    let (scan_s, report) = best_of(3, || Ok(scanner.scan_bytes("export", data)))?;
    let mut gate_s = f64::MAX;
    let mut verdict = String::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let view = access::share(
            &app,
            &ops,
            &grant.id,
            access::ShareInput {
                asset: asset.clone(),
                recipient: "示例审计所 Example Audit LLP".into(),
                purpose: "annual audit of the order book".into(),
                legal_basis: "audit clause 7.2 of the hosting agreement".into(),
                declassified: false,
                risk_assessment: "order rows with contact numbers; sent to the auditor over SFTP and deleted after the audit".into(),
            },
        )
        .await
        .map_err(|e| anyhow!("{e}"))?;
        gate_s = gate_s.min(t0.elapsed().as_secs_f64());
        verdict = view.verdict;
    }
    // Of the gate's time, what the customer's own read of the primary copy costs (the store
    // read and the SM4-GCM opening), for the breakdown.
    let cu = store.user_by_username("cust-a").await?;
    let customer = import::demo_caller(
        &cu.id,
        &cu.username,
        &cu.tenant_id,
        dengbao_guard::OrgKind::IdcCustomer,
    );
    let mut open_s = f64::MAX;
    for _ in 0..3 {
        let t0 = Instant::now();
        let bytes = idc::content(&app, &customer, &asset, "primary")
            .await
            .map_err(|e| anyhow!("{e}"))?;
        open_s = open_s.min(t0.elapsed().as_secs_f64());
        anyhow::ensure!(bytes.len() == data.len(), "the content read back differs");
    }
    let findings: u64 = report.counts.values().map(|c| c.total()).sum();
    println!(
        "export: {size:.1} MB digit-dense CSV, {findings} identifiers found, verdict {verdict}"
    );
    println!(
        "{:<52} {:>7.3} s {:>7.0} MB/s",
        "Scanner::scan_bytes (dengbao scan's core), 1 thread",
        scan_s,
        size / scan_s
    );
    println!(
        "{:<52} {:>7.3} s {:>7.0} MB/s",
        "access::share (grant + vault + scan + evidence)",
        gate_s,
        size / gate_s
    );
    println!(
        "{:<52} {:>7.3} s {:>7.0} MB/s",
        "  of which: store read + SM4-GCM open (customer's read)",
        open_s,
        size / open_s
    );
    println!(
        "gate / scan alone: {:.2}x the time (gate overhead {:.3} s)",
        gate_s / scan_s,
        gate_s - scan_s
    );
    println!("GATE_SECONDS={gate_s:.4}");
    Ok(())
}
