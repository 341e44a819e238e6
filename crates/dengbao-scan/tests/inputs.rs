//! Inputs: encodings, Office documents, zip bombs, chunk boundaries, binaries and errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::io::{Cursor, Write};
use std::path::PathBuf;

use dengbao_scan::detect::{Confidence, Kind, resident_id_check};
use dengbao_scan::scanner::FileStatus;
use dengbao_scan::{Config, Scanner};

fn scanner() -> Scanner {
    Scanner::new(Config::default()).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dengbao-scan-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

const ID: &str = "11010519491231002X";

fn kinds(r: &dengbao_scan::FileReport) -> Vec<Kind> {
    r.findings.iter().map(|f| f.kind).collect()
}

#[test]
fn encodings_are_detected_not_assumed() {
    let text = format!("姓名：张三\n身份证：{ID}\n手机：13800138000\n");
    let s = scanner();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![("utf-8", text.clone().into_bytes())];
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    cases.push(("utf-8 (BOM)", bom));
    let (gb, _, bad) = encoding_rs::GB18030.encode(&text);
    assert!(!bad);
    cases.push(("gb18030", gb.into_owned()));
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    cases.push(("utf-16le (BOM)", le));
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    cases.push(("utf-16be (BOM)", be));
    for (enc, bytes) in cases {
        let r = s.scan_reader(enc, &mut Cursor::new(bytes), &|_| {});
        assert_eq!(r.encoding, Some(enc));
        assert_eq!(kinds(&r), [Kind::ResidentId, Kind::Mobile], "{enc}");
        // Lines and columns are those of the text, whatever the encoding.
        assert_eq!((r.findings[0].line, r.findings[0].column), (2, 5), "{enc}");
    }
}

#[test]
fn binary_files_are_reported_as_skipped() {
    let p = tmp("image.bin");
    std::fs::write(&p, [0x89, b'P', b'N', b'G', 0, 0, 0, 13, b'1', b'3', b'8']).unwrap();
    let r = scanner().scan_path(&p, &|_| {});
    assert_eq!(r.status, FileStatus::Skipped);
    assert!(r.reason.unwrap().contains("binary"));
}

#[test]
fn unreadable_inputs_are_reported_as_failed() {
    let missing = tmp("does-not-exist.txt");
    let r = scanner().scan_paths(std::slice::from_ref(&missing), 1, &|_| {});
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status, FileStatus::Failed);
    let bad_docx = tmp("broken.docx");
    std::fs::write(&bad_docx, b"not a zip").unwrap();
    let r = scanner().scan_path(&bad_docx, &|_| {});
    assert_eq!(r.status, FileStatus::Failed);
    assert!(r.reason.unwrap().contains("zip"));
}

#[test]
fn a_directory_that_cannot_be_listed_is_a_failed_report() {
    use std::os::unix::fs::PermissionsExt;
    let root = tmp("walk-root");
    let closed = root.join("closed");
    std::fs::create_dir_all(&closed).unwrap();
    std::fs::write(closed.join("inside.txt"), b"13812345678").unwrap();
    std::fs::write(root.join("open.txt"), b"nothing").unwrap();
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_dir(&closed).is_ok() {
        // Root reads a mode-000 directory anyway: nothing to deny here.
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!(
            "SKIPPED a_directory_that_cannot_be_listed_is_a_failed_report: permissions do not deny this user (root)"
        );
        return;
    }
    let r = scanner().scan_paths(std::slice::from_ref(&root), 1, &|_| {});
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o755)).unwrap();
    let failed: Vec<_> = r
        .iter()
        .filter(|f| f.status == FileStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "{r:?}");
    assert!(failed[0].path.ends_with("closed"), "{}", failed[0].path);
    assert!(
        r.iter()
            .any(|f| f.path.ends_with("open.txt") && f.status == FileStatus::Scanned)
    );
}

fn office(name: &str, parts: &[(&str, String)]) -> PathBuf {
    let p = tmp(name);
    let mut z = zip::ZipWriter::new(std::fs::File::create(&p).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("[Content_Types].xml", opts).unwrap();
    z.write_all(b"<Types/>").unwrap();
    for (part, xml) in parts {
        z.start_file(*part, opts).unwrap();
        z.write_all(xml.as_bytes()).unwrap();
    }
    z.finish().unwrap();
    p
}

#[test]
fn office_documents_are_read_by_their_text() {
    // A Word run split in the middle of the number is rejoined.
    let docx = office(
        "a.docx",
        &[(
            "word/document.xml",
            format!(
                "<w:document><w:body><w:p><w:r><w:t>身份证 {}</w:t></w:r><w:r><w:t>{}</w:t></w:r></w:p><w:p><w:r><w:t>机密★5年</w:t></w:r></w:p></w:body></w:document>",
                &ID[..9],
                &ID[9..]
            ),
        )],
    );
    let r = scanner().scan_path(&docx, &|_| {});
    assert_eq!(r.status, FileStatus::Scanned);
    assert_eq!(kinds(&r), [Kind::ResidentId, Kind::Classification]);
    assert_eq!(r.findings[0].part.as_deref(), Some("word/document.xml"));
    let xlsx = office(
        "b.xlsx",
        &[
            (
                "xl/sharedStrings.xml",
                format!("<sst><si><t>{ID}</t></si><si><t>zhang@example.com</t></si></sst>"),
            ),
            (
                "xl/worksheets/sheet1.xml",
                "<sheetData><row><c><v>13800138000</v></c></row></sheetData>".into(),
            ),
        ],
    );
    assert_eq!(
        kinds(&scanner().scan_path(&xlsx, &|_| {})),
        [Kind::ResidentId, Kind::Email, Kind::Mobile]
    );
    let pptx = office(
        "c.pptx",
        &[(
            "ppt/slides/slide1.xml",
            "<p:sld><a:p><a:r><a:t>密级：秘密</a:t></a:r></a:p></p:sld>".into(),
        )],
    );
    assert_eq!(
        kinds(&scanner().scan_path(&pptx, &|_| {})),
        [Kind::Classification]
    );
}

#[test]
fn zip_bombs_are_refused_not_decompressed() {
    let mut cfg = Config::default();
    cfg.limits.max_entry_bytes = 4 << 20;
    let s = Scanner::new(cfg).unwrap();
    // 32 MiB of one byte compresses about 1000:1.
    let big = " ".repeat(32 << 20);
    let p = office(
        "bomb.docx",
        &[
            ("word/document.xml", big),
            ("word/footer1.xml", format!("<w:p><w:t>{ID}</w:t></w:p>")),
        ],
    );
    let r = s.scan_path(&p, &|_| {});
    assert_eq!(r.status, FileStatus::Scanned);
    assert!(
        r.warnings.iter().any(|w| w.contains("zip bomb")),
        "{:?}",
        r.warnings
    );
    // The rest of the document is still scanned.
    assert_eq!(kinds(&r), [Kind::ResidentId]);
}

#[test]
fn matches_across_chunk_boundaries_are_found_once() {
    // The reader takes 64 KiB to sniff the encoding, then 8 MiB steps, carrying 1 KiB over.
    // Plant IDs straddling each buffer end and each overlap start, in one long line (no
    // newline at all), and check each is reported exactly once, at its offset.
    let (sniff, chunk, overlap) = (64 << 10, 8 << 20, 1024);
    let ends = [sniff, sniff + chunk, sniff + 2 * chunk];
    let mut text = vec![b'a'; sniff + 2 * chunk + 4096];
    let mut planted = Vec::new();
    for end in ends {
        for at in [
            end - overlap - 10,
            end - overlap + 30,
            end - 40,
            end - 9,
            end + 30,
        ] {
            text[at - 1] = b' ';
            text[at..at + 18].copy_from_slice(ID.as_bytes());
            text[at + 18] = b' ';
            planted.push(at as u64);
        }
    }
    let r = scanner().scan_reader("long-line", &mut Cursor::new(text), &|_| {});
    let found: Vec<u64> = r.findings.iter().map(|f| f.offset).collect();
    assert_eq!(found, planted);
    assert!(
        r.findings
            .iter()
            .all(|f| f.line == 1 && f.column == f.offset + 1)
    );
}

#[test]
fn stdin_like_streams_and_progress() {
    let seen = std::sync::atomic::AtomicU64::new(0);
    let data = format!(
        "x {}{} y",
        &ID[..17],
        resident_id_check(&ID.as_bytes()[..17]) as char
    );
    let r = scanner().scan_reader("-", &mut Cursor::new(data.clone()), &|n| {
        seen.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(seen.into_inner(), data.len() as u64);
    assert_eq!(r.findings[0].confidence, Confidence::High);
}

#[test]
fn user_keywords_and_regexes() {
    let cfg = Config::from_toml("[[keywords]]\nname = \"codenames\"\nwords = [\"天河\", \"skyline\"]\ncase_insensitive = true\n[[regex]]\nname = \"employee\"\npattern = 'EMP-\\d{6}'\nconfidence = \"high\"\n", "cfg").unwrap();
    let s = Scanner::new(cfg).unwrap();
    let r = s.scan_bytes("x", "天河 project SKYLINE, owner EMP-123456".as_bytes());
    let got: Vec<(Kind, Option<&str>, &str)> = r
        .findings
        .iter()
        .map(|f| (f.kind, f.rule.as_deref(), f.masked.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (Kind::Keyword, Some("codenames"), "**"),
            (Kind::Keyword, Some("codenames"), "S******"),
            (Kind::Custom, Some("employee"), "EM******56")
        ]
    );
}

#[test]
fn directories_are_walked_in_order_and_findings_capped() {
    let dir = tmp("tree");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("b.txt"), "13800138000\n").unwrap();
    std::fs::write(dir.join("sub/a.csv"), format!("name,id\n张三,{ID}\n")).unwrap();
    std::fs::write(dir.join("many.log"), "13800138000 ".repeat(50)).unwrap();
    let mut cfg = Config::default();
    cfg.limits.max_findings_per_file = 10;
    let s = Scanner::new(cfg).unwrap();
    let r = s.scan_paths(std::slice::from_ref(&dir), 2, &|_| {});
    let names: Vec<String> = r
        .iter()
        .map(|f| f.path.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["b.txt", "many.log", "a.csv"]);
    let many = &r[1];
    assert!(many.truncated);
    assert_eq!(many.findings.len(), 10);
    assert_eq!(many.counts[&Kind::Mobile].total(), 50);
}

/// What the scanner cannot read is never reported clean: a `.zip` and a UTF-16LE file without
/// a byte-order mark are skipped as unread content, and the verdict says so.
#[test]
fn unread_content_is_never_clean() {
    use dengbao_scan::report::{Verdict, summarize};
    let zip = tmp("archive.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&zip).unwrap());
        z.start_file("ids.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(b"13812345678").unwrap();
        z.finish().unwrap();
    }
    let utf16 = tmp("utf16le-no-bom.txt");
    let text: Vec<u8> = "手机 13812345678"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    std::fs::write(&utf16, text).unwrap();
    let r = scanner().scan_paths(&[zip, utf16], 1, &|_| {});
    let s = summarize(&r);
    assert_eq!((s.files_unscanned, s.complete), (2, false), "{r:?}");
    assert_eq!(s.verdict, Verdict::Review);
    // A plain text file with nothing in it is still clean.
    let plain = tmp("plain.txt");
    std::fs::write(&plain, "nothing to see").unwrap();
    let s = summarize(&scanner().scan_paths(&[plain], 1, &|_| {}));
    assert_eq!((s.verdict, s.complete), (Verdict::Clean, true));
}
