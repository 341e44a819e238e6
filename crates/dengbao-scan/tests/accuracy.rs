//! Accuracy on the labelled corpus, in several encodings and formats: recall must be 100 %
//! on valid planted identifiers, precision at high confidence at least 99 %.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

mod support;

use std::io::{Cursor, Write};

use dengbao_scan::detect::{Confidence, Kind};
use dengbao_scan::{Config, FileReport, Scanner};
use support::corpus::{Planted, generate, score, wrap_lines};

fn spans(r: &FileReport) -> Vec<(Kind, u64, u64, Confidence)> {
    assert!(!r.truncated);
    r.findings
        .iter()
        .map(|f| (f.kind, f.offset, f.length, f.confidence))
        .collect()
}

fn check(name: &str, planted: &[Planted], r: &FileReport) {
    let (hit, total, high, high_true) = score(planted, &spans(r));
    let recall = hit as f64 / total as f64;
    let precision = high_true as f64 / high.max(1) as f64;
    println!(
        "{name:<16} planted {total:>5}  found {hit:>5}  recall {:.2}%  high {high:>5}  precision@high {:.2}%",
        recall * 100.0,
        precision * 100.0
    );
    if hit < total {
        let found: Vec<_> = spans(r).iter().map(|f| (f.0, f.1)).collect();
        let missed: Vec<_> = planted
            .iter()
            .filter(|p| !found.contains(&(p.kind, p.start as u64)))
            .take(5)
            .collect();
        panic!("{name}: missed {missed:?}");
    }
    assert!(precision >= 0.99, "{name}: precision@high {precision}");
}

fn docx(lines: &str) -> Vec<u8> {
    let mut body = String::from("<w:document><w:body>");
    for l in lines.lines() {
        let esc = l
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        // Split each paragraph into two runs to exercise run joining.
        let cut = esc
            .char_indices()
            .nth(esc.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        body.push_str(&format!(
            "<w:p><w:r><w:t>{}</w:t></w:r><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
            &esc[..cut],
            &esc[cut..]
        ));
    }
    body.push_str("</w:body></w:document>");
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    z.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    z.write_all(body.as_bytes()).unwrap();
    z.finish().unwrap().into_inner()
}

#[test]
fn recall_and_precision_on_the_labelled_corpus() {
    let c = generate(20261122, 400_000, 0.5);
    assert!(
        c.planted.len() > 500,
        "corpus too thin: {}",
        c.planted.len()
    );
    for k in [
        Kind::ResidentId,
        Kind::ResidentIdLegacy,
        Kind::CreditCode,
        Kind::BankCard,
        Kind::Mobile,
        Kind::Email,
        Kind::Passport,
        Kind::Ipv4,
        Kind::Classification,
    ] {
        assert!(c.planted.iter().any(|p| p.kind == k), "no {k:?} planted");
    }
    let s = Scanner::new(Config::default()).unwrap();
    let scan = |bytes: Vec<u8>| s.scan_reader("corpus", &mut Cursor::new(bytes), &|_| {});

    check("utf-8", &c.planted, &scan(c.text.clone().into_bytes()));
    let (gb, _, _) = encoding_rs::GB18030.encode(&c.text);
    let r = scan(gb.into_owned());
    assert_eq!(r.encoding, Some("gb18030"));
    check("gb18030", &c.planted, &r);
    let mut le = vec![0xFF, 0xFE];
    le.extend(c.text.encode_utf16().flat_map(u16::to_le_bytes));
    check("utf-16le", &c.planted, &scan(le));

    let (csv, p) = wrap_lines(&c, |n| format!("{n},\""), "\"");
    check("csv", &p, &scan(csv.into_bytes()));
    let (jsonl, p) = wrap_lines(&c, |n| format!("{{\"n\":{n},\"text\":\""), "\"}");
    check("json-lines", &p, &scan(jsonl.into_bytes()));
    let (log, p) = wrap_lines(
        &c,
        |n| {
            format!(
                "2025-11-21T08:{:02}:{:02}Z INFO [worker-{}] ",
                n / 60 % 60,
                n % 60,
                n % 8
            )
        },
        "",
    );
    check("log", &p, &scan(log.into_bytes()));

    let dir = std::env::temp_dir().join(format!("dengbao-acc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("corpus.docx");
    std::fs::write(&path, docx(&c.text)).unwrap();
    let r = s.scan_path(&path, &|_| {});
    assert!(
        r.findings
            .iter()
            .all(|f| f.part.as_deref() == Some("word/document.xml"))
    );
    check("docx", &c.planted, &r);
}
