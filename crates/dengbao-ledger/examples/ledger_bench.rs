//! Ledger figures for `bench/ledger.sh`: proof generation at 1,000,000 entries, and full
//! verification (re-hash every entry and rebuild the tree) next to raw SM3 over the same
//! bytes, measured in the same run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement: fail loudly

use std::hint::black_box;
use std::time::Instant;

use dengbao_ledger::{Tree, leaf_hash, verify_inclusion};
use sm3::{Digest, Sm3};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().unwrap());
    // Entries shaped like the canonical audit entries (about 230 bytes each).
    let entries: Vec<Vec<u8>> = (0..n)
        .map(|i| format!(r#"{{"action":"system.update","actor":"lead-{}","object":"sys-{:06}","request_id":"0b9f3a2c-5d1e-4c7a-9e21-{:012x}","seq":{i},"state":"{:064x}","tenant":"01a200b2c13472b7bcad6982208b99c0","time":{}}}"#, i % 50, i % 10_000, i, i.wrapping_mul(0x9E37_79B9_7F4A_7C15), 1_795_300_000_000u64 + i).into_bytes())
        .collect();
    let bytes: usize = entries.iter().map(Vec::len).sum();
    println!(
        "entries:                         {n} ({:.1} MB, {:.0} bytes each)",
        bytes as f64 / 1e6,
        bytes as f64 / n as f64
    );

    // Raw SM3 over the same bytes as one stream: the ceiling for one core.
    let t = Instant::now();
    let mut h = Sm3::new();
    for e in &entries {
        h.update(e);
    }
    black_box(h.finalize());
    let raw = t.elapsed().as_secs_f64();
    let mbps = |s: f64| bytes as f64 / s / 1e6;
    println!("raw SM3, one stream:             {:>8.1} MB/s", mbps(raw));

    // Full verification: every leaf hash, then the whole tree, on one core.
    let t = Instant::now();
    let tree = Tree::from_leaves(entries.iter().map(|e| leaf_hash(e)));
    black_box(tree.root());
    let one = t.elapsed().as_secs_f64();
    println!(
        "full verification, 1 thread:     {:>8.1} MB/s  ({:.0}% of raw SM3)",
        mbps(one),
        100.0 * raw / one
    );

    // The leaf hashes are independent: split them across the cores, then build the tree.
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let t = Instant::now();
    let chunk = entries.len().div_ceil(threads);
    let leaves: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = entries
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(|e| leaf_hash(e)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let tree2 = Tree::from_leaves_parallel(leaves, threads);
    assert_eq!(tree2.root(), tree.root());
    let par = t.elapsed().as_secs_f64();
    println!(
        "full verification, {threads} threads:    {:>8.1} MB/s  ({:.0}% of raw single-stream SM3)",
        mbps(par),
        100.0 * raw / par
    );

    // Proof generation at this size.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut idx = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        idx.push(x % n);
    }
    let root = tree.root();
    let t = Instant::now();
    let mut total = 0;
    for &i in &idx {
        total += tree.inclusion_proof(i, n).unwrap().len();
    }
    let incl = t.elapsed().as_secs_f64() / idx.len() as f64;
    let t = Instant::now();
    for &i in &idx[..1000] {
        black_box(tree.consistency_proof(1 + i % (n - 1), n).unwrap());
    }
    let cons = t.elapsed().as_secs_f64() / 1000.0;
    let p = tree.inclusion_proof(idx[0], n).unwrap();
    let t = Instant::now();
    for _ in 0..1000 {
        assert!(verify_inclusion(
            idx[0],
            n,
            &tree.leaf(idx[0]).unwrap(),
            &p,
            &root
        ));
    }
    let ver = t.elapsed().as_secs_f64() / 1000.0;
    println!(
        "inclusion proof generation:      {:>8.1} µs  (avg of {}, {} hashes per proof; target <= 100 µs)",
        incl * 1e6,
        idx.len(),
        total / idx.len()
    );
    println!("consistency proof generation:    {:>8.1} µs", cons * 1e6);
    println!("inclusion proof verification:    {:>8.1} µs", ver * 1e6);
}
