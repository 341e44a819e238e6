//! Fuzzes everything between untrusted bytes and the detectors: encoding sniffing and
//! decoding, chunked streaming, Office (zip) extraction under limits, XML text extraction.
#![no_main]

use std::io::Cursor;
use std::sync::OnceLock;

use dengbao_scan::config::Limits;
use dengbao_scan::{Config, Scanner, office};
use libfuzzer_sys::fuzz_target;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| Scanner::new(Config::default()).expect("default config is valid"))
}

fuzz_target!(|data: &[u8]| {
    let s = scanner();
    let r = s.scan_reader("fuzz", &mut Cursor::new(data), &|_| {});
    for f in &r.findings {
        assert!(f.length > 0);
    }
    // Small limits so that a crafted archive cannot make a fuzz run slow.
    let limits = Limits { max_entry_bytes: 1 << 20, max_archive_bytes: 4 << 20, ..Limits::default() };
    let _ = office::extract(Cursor::new(data), &limits, &mut |_, text| {
        let _ = s.scan_bytes("part", text);
    });
    let _ = office::xml_text(data);
});
