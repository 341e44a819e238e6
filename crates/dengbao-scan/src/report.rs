//! Summaries and machine-readable reports: JSON, and SARIF 2.1.0 for code-scanning tools.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::detect::{Confidence, Kind};
use crate::scanner::{Counts, FileReport, FileStatus};

/// What may be done with the scanned data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing found.
    Clean,
    /// Only medium- or low-confidence findings: a person should look.
    Review,
    /// Personal or identifying data found with high confidence: declassify before sharing.
    Sensitive,
    /// A state-secret classification marking: must not be shared at all.
    Blocked,
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub files_scanned: u64,
    pub files_skipped: u64,
    pub files_failed: u64,
    /// Skipped files with content that was not read (binary, unknown format, too large).
    pub files_unscanned: u64,
    pub bytes: u64,
    pub counts: BTreeMap<Kind, Counts>,
    pub verdict: Verdict,
    /// False when a file could not be read, or held content the scan does not read: the
    /// verdict covers only what was read, and is never `clean` then.
    pub complete: bool,
}

pub fn summarize(files: &[FileReport]) -> Summary {
    let mut counts: BTreeMap<Kind, Counts> = BTreeMap::new();
    let (mut scanned, mut skipped, mut failed, mut bytes) = (0, 0, 0, 0);
    let mut unscanned = 0;
    for f in files {
        if f.unscanned_content {
            unscanned += 1;
        }
        match f.status {
            FileStatus::Scanned => scanned += 1,
            FileStatus::Skipped => skipped += 1,
            FileStatus::Failed => failed += 1,
        }
        bytes += f.bytes;
        for (k, c) in &f.counts {
            let e = counts.entry(*k).or_default();
            e.high += c.high;
            e.medium += c.medium;
            e.low += c.low;
        }
    }
    let marking = counts
        .get(&Kind::Classification)
        .is_some_and(|c| c.at_least(Confidence::Medium) > 0);
    let high = counts
        .iter()
        .any(|(k, c)| *k != Kind::Classification && c.high > 0);
    let any = counts.values().any(|c| c.total() > 0);
    let verdict = if marking {
        Verdict::Blocked
    } else if high {
        Verdict::Sensitive
    } else if any || failed > 0 || unscanned > 0 {
        // Nothing found is not "clean" when something was not read.
        Verdict::Review
    } else {
        Verdict::Clean
    };
    Summary {
        files_scanned: scanned,
        files_skipped: skipped,
        files_failed: failed,
        files_unscanned: unscanned,
        bytes,
        counts,
        verdict,
        complete: failed == 0 && unscanned == 0,
    }
}

/// The highest confidence of any finding, if any.
pub fn highest(files: &[FileReport]) -> Option<Confidence> {
    files
        .iter()
        .flat_map(|f| f.counts.values())
        .map(|c| {
            if c.high > 0 {
                Some(Confidence::High)
            } else if c.medium > 0 {
                Some(Confidence::Medium)
            } else if c.low > 0 {
                Some(Confidence::Low)
            } else {
                None
            }
        })
        .max()
        .flatten()
}

pub fn json(files: &[FileReport], tool_version: &str) -> Value {
    json!({ "tool": { "name": "dengbao-scan", "version": tool_version }, "summary": summarize(files), "files": files })
}

fn level(kind: Kind, c: Confidence) -> &'static str {
    match (kind, c) {
        (Kind::Classification, _) | (_, Confidence::High) => "error",
        (_, Confidence::Medium) => "warning",
        (_, Confidence::Low) => "note",
    }
}

/// A relative path as a URI reference: `/` separators, everything outside the unreserved
/// set percent-encoded.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SARIF 2.1.0: one run, one rule per kind, one result per finding; files that were
/// skipped or failed become tool notifications.
pub fn sarif(files: &[FileReport], tool_version: &str) -> Value {
    let rules: Vec<Value> = Kind::ALL
        .iter()
        .map(|k| {
            json!({
                "id": k.as_str(),
                "shortDescription": { "text": k.description() },
                "defaultConfiguration": { "level": if *k == Kind::Classification { "error" } else { "warning" } },
            })
        })
        .collect();
    let mut results = Vec::new();
    let mut notes = Vec::new();
    for f in files {
        if f.status != FileStatus::Scanned {
            notes.push(json!({
                "level": if f.status == FileStatus::Failed { "error" } else { "note" },
                "message": { "text": format!("{}: {}", f.path, f.reason.as_deref().unwrap_or("")) },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri(&f.path) } } }],
            }));
        }
        let raw_offsets = matches!(f.encoding, Some("utf-8"));
        for x in &f.findings {
            let mut region = json!({ "startLine": x.line, "startColumn": x.column });
            if raw_offsets && x.part.is_none() {
                region["byteOffset"] = json!(x.offset);
                region["byteLength"] = json!(x.length);
            }
            let mut loc =
                json!({ "physicalLocation": { "artifactLocation": { "uri": uri(&f.path) } } });
            if x.part.is_none() {
                loc["physicalLocation"]["region"] = region;
            }
            let where_ = x
                .part
                .as_ref()
                .map(|p| format!(" in {p}"))
                .unwrap_or_default();
            let rule = x
                .rule
                .as_ref()
                .map(|r| format!(" [{r}]"))
                .unwrap_or_default();
            results.push(json!({
                "ruleId": x.kind.as_str(),
                "ruleIndex": Kind::ALL.iter().position(|k| *k == x.kind).unwrap_or(0),
                "level": level(x.kind, x.confidence),
                "message": { "text": format!("{}{rule}: {} ({} confidence){where_}", x.kind.description(), x.masked, x.confidence.as_str()) },
                "locations": [loc],
                "properties": { "confidence": x.confidence.as_str(), "masked": x.masked, "part": x.part, "line": x.line },
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "dengbao-scan", "version": tool_version, "rules": rules } },
            "columnKind": "unicodeCodePoints",
            "results": results,
            "invocations": [{ "executionSuccessful": files.iter().all(|f| f.status != FileStatus::Failed), "toolExecutionNotifications": notes }],
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Scanner};

    #[test]
    fn verdicts() {
        let s = Scanner::new(Config::default()).unwrap();
        let v = |t: &str| summarize(&[s.scan_bytes("x", t.as_bytes())]).verdict;
        assert_eq!(v("nothing here"), Verdict::Clean);
        assert_eq!(v("call 13800138000"), Verdict::Review);
        assert_eq!(v("ID 11010519491231002X"), Verdict::Sensitive);
        assert_eq!(v("机密★5年\nID 11010519491231002X"), Verdict::Blocked);
    }

    #[test]
    fn sarif_shape() {
        let s = Scanner::new(Config::default()).unwrap();
        let r = s.scan_bytes("dir/a b.txt", "line one\n手机 13800138000".as_bytes());
        let v = sarif(&[r], "0.1.0");
        assert_eq!(v["version"], "2.1.0");
        let res = &v["runs"][0]["results"][0];
        assert_eq!(res["ruleId"], "mobile");
        assert_eq!(res["level"], "error");
        assert_eq!(
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "dir/a%20b.txt"
        );
        assert_eq!(
            res["locations"][0]["physicalLocation"]["region"]["startLine"],
            2
        );
        assert_eq!(
            res["locations"][0]["physicalLocation"]["region"]["startColumn"],
            4
        );
        assert!(
            !v.to_string().contains("13800138000"),
            "raw value leaked into SARIF"
        );
    }
}
