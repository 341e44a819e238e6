//! The scanner: runs every detector over bytes, streams, files and directory trees.
//!
//! Input is read in chunks with an overlap longer than any match, so memory stays bounded
//! whatever the file (a 10 GB line included) and no match is lost at a chunk boundary.
//! Text in UTF-16 (with BOM) and GB18030/GBK is detected and decoded to UTF-8 first.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE};
use serde::Serialize;

use crate::config::Config;
use crate::detect::{Confidence, Detectors, Hit, Kind};
use crate::error::ScanError;
use crate::mask::mask;
use crate::office;

/// Bytes of text scanned per step.
const CHUNK: usize = 8 << 20;
/// Carried from one chunk to the next; longer than any match (e-mail ≤ 320 bytes).
const OVERLAP: usize = 1024;
/// How much of a file is looked at to decide its encoding or that it is binary.
const SNIFF: usize = 64 << 10;

/// One finding, with the raw value already masked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub confidence: Confidence,
    /// Name of the user keyword list or regex detector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Part of an archive the finding is in (e.g. `word/document.xml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// 1-based line, and column in Unicode code points.
    pub line: u64,
    pub column: u64,
    /// Byte offset and length in the UTF-8 text (after decoding, for other encodings).
    pub offset: u64,
    pub length: u64,
    pub masked: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

impl Counts {
    pub fn add(&mut self, c: Confidence) {
        match c {
            Confidence::High => self.high += 1,
            Confidence::Medium => self.medium += 1,
            Confidence::Low => self.low += 1,
        }
    }
    pub fn total(&self) -> u64 {
        self.high + self.medium + self.low
    }
    pub fn at_least(&self, c: Confidence) -> u64 {
        match c {
            Confidence::High => self.high,
            Confidence::Medium => self.high + self.medium,
            Confidence::Low => self.total(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Scanned,
    /// Deliberately not read (binary, too large, a link); the reason says which.
    Skipped,
    /// Could not be read; the reason says why.
    Failed,
}

/// The result for one input.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub path: String,
    pub status: FileStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    /// Bytes of text scanned.
    pub bytes: u64,
    pub counts: BTreeMap<Kind, Counts>,
    pub findings: Vec<Finding>,
    /// More findings than `limits.max_findings_per_file`; counts are still exact.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Skipped although it holds content the scan could not read (binary or unknown
    /// format, too large): the verdict cannot speak for it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unscanned_content: bool,
}

impl FileReport {
    fn new(path: &str) -> FileReport {
        FileReport {
            path: path.to_owned(),
            status: FileStatus::Scanned,
            reason: None,
            encoding: None,
            bytes: 0,
            counts: BTreeMap::new(),
            findings: Vec::new(),
            truncated: false,
            warnings: Vec::new(),
            unscanned_content: false,
        }
    }
    fn skipped(path: &str, why: impl Into<String>) -> FileReport {
        FileReport {
            status: FileStatus::Skipped,
            reason: Some(why.into()),
            ..FileReport::new(path)
        }
    }
    /// Skipped content: something is in it that was not read.
    fn unread(path: &str, why: impl Into<String>) -> FileReport {
        FileReport {
            unscanned_content: true,
            ..FileReport::skipped(path, why)
        }
    }
    fn failed(path: &str, why: impl Into<String>) -> FileReport {
        FileReport {
            status: FileStatus::Failed,
            reason: Some(why.into()),
            ..FileReport::new(path)
        }
    }
    /// Highest confidence of any finding of a kind other than classification.
    pub fn count_at_least(&self, c: Confidence) -> u64 {
        self.counts.values().map(|x| x.at_least(c)).sum()
    }
}

/// Line/column bookkeeping and finding collection for one stream of UTF-8 text.
struct Sink<'a> {
    scanner: &'a Scanner,
    report: &'a mut FileReport,
    part: Option<String>,
    hits: Vec<Hit>,
    base: u64,
    line: u64,
    col: u64,
}

fn chars(b: &[u8]) -> u64 {
    b.iter().filter(|c| (**c & 0xC0) != 0x80).count() as u64
}

impl Sink<'_> {
    fn advance(&mut self, seg: &[u8]) {
        match memchr::memrchr(b'\n', seg) {
            Some(last) => {
                self.line += memchr::memchr_iter(b'\n', seg).count() as u64;
                self.col = chars(&seg[last + 1..]);
            }
            None => self.col += chars(seg),
        }
    }

    /// Scans `buf` (carry from the previous call + new text), reports matches that start
    /// before the overlap (or all, if `last`), and returns how many bytes are done.
    fn process(&mut self, buf: &[u8], last: bool) -> usize {
        let limit = if last {
            buf.len()
        } else {
            buf.len().saturating_sub(OVERLAP)
        };
        self.hits.clear();
        self.scanner.scan_text(buf, &mut self.hits);
        self.hits.retain(|h| h.start < limit);
        self.hits.sort_unstable_by_key(|h| (h.start, h.end));
        let hits = std::mem::take(&mut self.hits);
        let mut pos = 0;
        let max = self.scanner.config.limits.max_findings_per_file;
        for h in &hits {
            self.advance(&buf[pos..h.start]);
            pos = h.start;
            self.report
                .counts
                .entry(h.kind)
                .or_default()
                .add(h.confidence);
            if self.report.findings.len() >= max {
                self.report.truncated = true;
                continue;
            }
            let rule = match h.kind {
                Kind::Keyword => self
                    .scanner
                    .config
                    .keywords
                    .get(usize::from(h.rule))
                    .map(|k| k.name.clone()),
                Kind::Custom => self
                    .scanner
                    .config
                    .regex
                    .get(usize::from(h.rule))
                    .map(|r| r.name.clone()),
                _ => None,
            };
            self.report.findings.push(Finding {
                kind: h.kind,
                confidence: h.confidence,
                rule,
                part: self.part.clone(),
                line: self.line + 1,
                column: self.col + 1,
                offset: self.base + h.start as u64,
                length: (h.end - h.start) as u64,
                masked: mask(h.kind, &buf[h.start..h.end]),
            });
        }
        self.hits = hits;
        self.advance(&buf[pos..limit]);
        self.base += limit as u64;
        self.report.bytes += limit as u64;
        limit
    }
}

/// Appends up to `want - buf.len()` bytes to `buf`, reading into its spare capacity (no
/// zeroing, no intermediate copy); returns whether the input ended.
fn fill(r: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    let need = want.saturating_sub(buf.len());
    buf.reserve(need);
    let got = r.take(need as u64).read_to_end(buf)?;
    Ok(got < need)
}

enum Sniffed {
    Utf8 { bom: usize },
    Decode(&'static Encoding, usize),
    Binary,
    Raw,
}

fn sniff(head: &[u8]) -> Sniffed {
    match head {
        [0xEF, 0xBB, 0xBF, ..] => return Sniffed::Utf8 { bom: 3 },
        [0xFF, 0xFE, ..] => return Sniffed::Decode(UTF_16LE, 2),
        [0xFE, 0xFF, ..] => return Sniffed::Decode(UTF_16BE, 2),
        _ => {}
    }
    let probe = &head[..head.len().min(8192)];
    if memchr::memchr(0, probe).is_some() {
        return Sniffed::Binary;
    }
    match std::str::from_utf8(head) {
        Ok(_) => return Sniffed::Utf8 { bom: 0 },
        // Cut in the middle of a character at the end of the probe: still UTF-8.
        Err(e) if e.error_len().is_none() => return Sniffed::Utf8 { bom: 0 },
        Err(_) => {}
    }
    let mut d = GB18030.new_decoder_without_bom_handling();
    let mut out = vec![
        0u8;
        d.max_utf8_buffer_length_without_replacement(head.len())
            .unwrap_or(head.len() * 3)
    ];
    let (res, _, _) = d.decode_to_utf8_without_replacement(head, &mut out, false);
    match res {
        encoding_rs::DecoderResult::Malformed(_, _) => Sniffed::Raw,
        _ => Sniffed::Decode(GB18030, 0),
    }
}

/// The configured detectors, ready to run on any number of inputs (shareable across threads).
pub struct Scanner {
    detectors: Detectors,
    keywords: Option<AhoCorasick>,
    /// For each keyword pattern: its list index.
    keyword_list: Vec<u16>,
    regexes: Vec<regex::bytes::Regex>,
    config: Config,
}

impl Scanner {
    pub fn new(config: Config) -> Result<Scanner, ScanError> {
        config.check("configuration")?;
        let mut words = Vec::new();
        let mut keyword_list = Vec::new();
        let mut ci = false;
        for (i, k) in config.keywords.iter().enumerate() {
            ci |= k.case_insensitive;
            for w in &k.words {
                words.push(w.clone());
                keyword_list.push(i as u16);
            }
        }
        let keywords = if words.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(ci)
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    .build(&words)
                    .map_err(|e| ScanError::Config {
                        origin: "configuration".into(),
                        field: "keywords".into(),
                        message: e.to_string(),
                    })?,
            )
        };
        let regexes = config
            .regex
            .iter()
            .enumerate()
            .map(|(i, r)| {
                regex::bytes::Regex::new(&r.pattern).map_err(|e| ScanError::Config {
                    origin: "configuration".into(),
                    field: format!("regex[{i}].pattern"),
                    message: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Scanner {
            detectors: Detectors::new(),
            keywords,
            keyword_list,
            regexes,
            config,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every raw hit in one buffer of UTF-8 text (unsorted).
    pub fn scan_text(&self, buf: &[u8], out: &mut Vec<Hit>) {
        self.detectors.scan(buf, out);
        if let Some(ac) = &self.keywords {
            for m in ac.find_iter(buf) {
                let list = self.keyword_list[m.pattern().as_usize()];
                let conf = self.config.keywords[usize::from(list)].confidence;
                out.push(Hit {
                    kind: Kind::Keyword,
                    start: m.start(),
                    end: m.end(),
                    confidence: conf,
                    rule: list,
                });
            }
        }
        for (i, re) in self.regexes.iter().enumerate() {
            for m in re.find_iter(buf) {
                // Longer than the overlap could be split across chunks; such a detector is
                // looking for documents, not identifiers.
                if m.end() - m.start() <= OVERLAP {
                    out.push(Hit {
                        kind: Kind::Custom,
                        start: m.start(),
                        end: m.end(),
                        confidence: self.config.regex[i].confidence,
                        rule: i as u16,
                    });
                }
            }
        }
    }

    /// Scans an in-memory UTF-8 text, e.g. a message about to be shared.
    pub fn scan_bytes(&self, name: &str, text: &[u8]) -> FileReport {
        let mut report = FileReport::new(name);
        report.encoding = Some("utf-8");
        let mut sink = Sink {
            scanner: self,
            report: &mut report,
            part: None,
            hits: Vec::new(),
            base: 0,
            line: 0,
            col: 0,
        };
        sink.process(text, true);
        report
    }

    /// Scans a stream of text whose encoding is detected (UTF-8, UTF-16 with BOM,
    /// GB18030/GBK; otherwise raw bytes with a warning). `progress` receives bytes read.
    pub fn scan_reader(
        &self,
        name: &str,
        reader: &mut dyn Read,
        progress: &(dyn Fn(u64) + Sync),
    ) -> FileReport {
        let mut report = FileReport::new(name);
        let mut raw = Vec::with_capacity(SNIFF);
        let mut ended = match fill(reader, &mut raw, SNIFF) {
            Ok(e) => e,
            Err(e) => return FileReport::failed(name, format!("cannot read: {e}")),
        };
        let sniffed = sniff(&raw);
        let (mut decoder, skip) = match sniffed {
            Sniffed::Binary => {
                return FileReport::unread(
                    name,
                    "binary content (NUL bytes, no UTF-16 byte-order mark)",
                );
            }
            Sniffed::Utf8 { bom } => {
                report.encoding = Some(if bom > 0 { "utf-8 (BOM)" } else { "utf-8" });
                (None, bom)
            }
            Sniffed::Raw => {
                report.encoding = Some("unknown");
                report.warnings.push(
                    "not UTF-8, UTF-16 or GB18030: scanned as raw bytes (ASCII identifiers only)"
                        .into(),
                );
                (None, 0)
            }
            Sniffed::Decode(enc, bom) => {
                report.encoding = Some(match enc.name() {
                    "UTF-16LE" => "utf-16le (BOM)",
                    "UTF-16BE" => "utf-16be (BOM)",
                    _ => "gb18030",
                });
                (Some(enc.new_decoder_without_bom_handling()), bom)
            }
        };
        let mut sink = Sink {
            scanner: self,
            report: &mut report,
            part: None,
            hits: Vec::new(),
            base: 0,
            line: 0,
            col: 0,
        };
        let mut text: Vec<u8> = Vec::with_capacity(CHUNK + OVERLAP);
        let mut pending: Vec<u8> = raw.split_off(skip.min(raw.len()));
        drop(raw);
        let mut decoded = Vec::new();
        progress(pending.len() as u64);
        loop {
            match decoder.as_mut() {
                Some(dec) => {
                    decoded.clear();
                    decoded.resize(
                        dec.max_utf8_buffer_length(pending.len())
                            .unwrap_or(pending.len() * 3 + 16),
                        0,
                    );
                    let (_, _, written, _) = dec.decode_to_utf8(&pending, &mut decoded, ended);
                    text.extend_from_slice(&decoded[..written]);
                    pending.clear();
                }
                // Only the sniffed head passes through `pending`; later reads go to `text`.
                None => text.append(&mut pending),
            }
            let done = sink.process(&text, ended);
            text.drain(..done);
            if ended {
                break;
            }
            let target = if decoder.is_some() {
                &mut pending
            } else {
                &mut text
            };
            let before = target.len();
            let res = fill(reader, target, before + CHUNK);
            progress((target.len() - before) as u64);
            ended = match res {
                Ok(e) => e,
                Err(e) => {
                    sink.report.status = FileStatus::Failed;
                    sink.report.reason =
                        Some(format!("read error after {} bytes: {e}", sink.report.bytes));
                    break;
                }
            };
        }
        report
    }

    /// Scans one file: Office documents by their text, other files as text; binaries and
    /// oversize files are reported as skipped, unreadable ones as failed.
    pub fn scan_path(&self, path: &Path, progress: &(dyn Fn(u64) + Sync)) -> FileReport {
        let name = path.display().to_string();
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => return FileReport::failed(&name, format!("cannot read: {e}")),
        };
        if meta.file_type().is_symlink() {
            match std::fs::metadata(path) {
                Ok(m) if m.is_file() => {}
                _ => {
                    return FileReport::skipped(
                        &name,
                        "symbolic link to something other than a file",
                    );
                }
            }
        }
        let size = std::fs::metadata(path)
            .map(|m| m.len())
            .unwrap_or(meta.len());
        if size > self.config.limits.max_file_bytes {
            return FileReport::unread(
                &name,
                format!(
                    "{size} bytes is larger than limits.max_file_bytes ({})",
                    self.config.limits.max_file_bytes
                ),
            );
        }
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) => return FileReport::failed(&name, format!("cannot open: {e}")),
        };
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if office::EXTENSIONS.contains(&ext.as_str()) {
            return self.scan_office(&name, file, size, progress);
        }
        self.scan_reader(
            &name,
            &mut BufReader::with_capacity(1 << 16, file),
            progress,
        )
    }

    fn scan_office(
        &self,
        name: &str,
        file: File,
        size: u64,
        progress: &(dyn Fn(u64) + Sync),
    ) -> FileReport {
        let mut report = FileReport::new(name);
        report.encoding = Some("office-open-xml");
        let mut parts: Vec<(String, FileReport)> = Vec::new();
        let res = office::extract(file, &self.config.limits, &mut |part, text| {
            let mut r = FileReport::new(name);
            let mut sink = Sink {
                scanner: self,
                report: &mut r,
                part: Some(part.to_owned()),
                hits: Vec::new(),
                base: 0,
                line: 0,
                col: 0,
            };
            sink.process(text, true);
            parts.push((part.to_owned(), r));
        });
        progress(size);
        match res {
            Err(e) => FileReport::failed(name, e),
            Ok(warnings) => {
                report.warnings = warnings;
                for (_, r) in parts {
                    report.bytes += r.bytes;
                    for (k, c) in r.counts {
                        let e = report.counts.entry(k).or_default();
                        e.high += c.high;
                        e.medium += c.medium;
                        e.low += c.low;
                    }
                    report.truncated |= r.truncated;
                    let room = self
                        .config
                        .limits
                        .max_findings_per_file
                        .saturating_sub(report.findings.len());
                    report.truncated |= r.findings.len() > room;
                    report.findings.extend(r.findings.into_iter().take(room));
                }
                report
            }
        }
    }

    /// Scans files and directory trees (recursively, links not followed into directories)
    /// on `threads` threads, in a stable order. `-` means standard input.
    pub fn scan_paths(
        &self,
        inputs: &[PathBuf],
        threads: usize,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Vec<FileReport> {
        let mut files = Vec::new();
        let mut early = Vec::new();
        for p in inputs {
            if p.as_os_str() == "-" {
                continue;
            }
            walk(p, &mut files, &mut early);
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build();
        let mut out: Vec<FileReport> = match pool {
            Ok(pool) => pool.install(|| {
                use rayon::prelude::*;
                files
                    .par_iter()
                    .map(|f| self.scan_path(f, progress))
                    .collect()
            }),
            Err(_) => files.iter().map(|f| self.scan_path(f, progress)).collect(),
        };
        if inputs.iter().any(|p| p.as_os_str() == "-") {
            out.insert(0, self.scan_reader("-", &mut io::stdin().lock(), progress));
        }
        out.extend(early);
        out
    }
}

/// Total size of the regular files under `inputs`, for a progress bar.
pub fn total_size(inputs: &[PathBuf]) -> u64 {
    let mut files = Vec::new();
    let mut early = Vec::new();
    for p in inputs {
        walk(p, &mut files, &mut early);
    }
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

/// The regular files under `p` in name order; what cannot be read — the input itself, a
/// directory that cannot be listed, an entry that vanishes or cannot be inspected — is a
/// `Failed` report, never an omission. Symbolic links are not followed into directories.
fn walk(p: &Path, files: &mut Vec<PathBuf>, early: &mut Vec<FileReport>) {
    let walker = walkdir::WalkDir::new(p)
        .follow_links(false)
        .follow_root_links(false)
        .sort_by_file_name();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(p).display().to_string();
                let why = match (e.io_error(), e.depth()) {
                    (Some(io), 0) => format!("cannot read: {io}"),
                    (Some(io), _) => format!("cannot list or inspect: {io}"),
                    (None, _) => format!("cannot walk: {e}"),
                };
                early.push(FileReport::failed(&path, why));
                continue;
            }
        };
        let name = entry.path().display().to_string();
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        } else if ft.is_symlink() {
            match std::fs::metadata(entry.path()) {
                Ok(m) if m.is_file() => files.push(entry.into_path()),
                _ => early.push(FileReport::skipped(
                    &name,
                    "symbolic link to a directory or nothing (not followed)",
                )),
            }
        } else if ft.is_file() {
            files.push(entry.into_path());
        } else {
            early.push(FileReport::skipped(&name, "not a regular file"));
        }
    }
}
