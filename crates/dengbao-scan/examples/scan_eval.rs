//! Recall and precision on a labelled corpus (`scan_eval [MB]`), in UTF-8, GB18030 and
//! UTF-16LE, printed for `bench/scan.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a measurement: fail loudly

#[path = "../tests/support/corpus.rs"]
mod corpus;

use dengbao_scan::{Config, Scanner};
use std::io::Cursor;

fn main() {
    let mb: usize = std::env::args().nth(1).map_or(32, |a| a.parse().unwrap());
    let c = corpus::generate(7, mb << 20, 0.05);
    let s = Scanner::new(Config::default()).unwrap();
    let (gb, _, _) = encoding_rs::GB18030.encode(&c.text);
    let mut le = vec![0xFF, 0xFE];
    le.extend(c.text.encode_utf16().flat_map(u16::to_le_bytes));
    for (name, bytes) in [
        ("utf-8", c.text.clone().into_bytes()),
        ("gb18030", gb.into_owned()),
        ("utf-16le", le),
    ] {
        let mut cfg = Config::default();
        cfg.limits.max_findings_per_file = usize::MAX;
        let s2 = Scanner::new(cfg).unwrap();
        let r = s2.scan_reader(name, &mut Cursor::new(bytes), &|_| {});
        let f: Vec<_> = r
            .findings
            .iter()
            .map(|f| (f.kind, f.offset, f.length, f.confidence))
            .collect();
        let (hit, total, high, high_true) = corpus::score(&c.planted, &f);
        println!(
            "{name:<9} {mb} MB: planted {total}, found {hit} (recall {:.2}%), high-confidence findings {high}, correct {high_true} (precision@high {:.3}%)",
            100.0 * hit as f64 / total as f64,
            100.0 * high_true as f64 / high.max(1) as f64
        );
    }
    drop(s);
}
