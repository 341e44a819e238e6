//! Checking the evidence of an IDC authorization request offline, as the customer: the
//! checkpoint's signature with the operator's ledger key the customer holds, each entry's
//! inclusion under that checkpoint, every entry about the one request, and each signed
//! decision with its approver's key. Pure: the caller reads the files. `dengbao ledger
//! check-evidence` prints the report; tests check real evidence with it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

use crate::{Checkpoint, Hash, NoteVerifier, leaf_hash, verify_inclusion};

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("{file}: not {what} ({detail})")]
    Format {
        file: &'static str,
        what: &'static str,
        detail: String,
    },
    #[error("the checkpoint is not signed by the key given ({0})")]
    Checkpoint(String),
}

/// `GET /api/v1/idc/access/{id}/evidence`.
#[derive(Deserialize)]
struct EvidenceFile {
    checkpoint: String,
    tree_size: u64,
    proofs: Vec<Proof>,
}

#[derive(Deserialize)]
struct Proof {
    index: u64,
    tree_size: u64,
    /// The entry, base64.
    entry: String,
    path: Vec<String>,
}

/// `GET /api/v1/idc/access/{id}`: the request and its signed decisions.
#[derive(Deserialize)]
struct RequestFile {
    id: String,
    decisions: Vec<Decision>,
}

#[derive(Deserialize)]
struct Decision {
    by: String,
    decision: String,
    note: String,
    public_key: String,
}

/// One checked item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// `entry 12 idc.access.use by idc-ops at 1790000000000`, `decision approve by cust-a`.
    pub what: String,
    pub ok: bool,
    /// `included`, `signature verified with your key`, or what is wrong.
    pub detail: String,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub checkpoint: Checkpoint,
    /// The name of the key that signed the checkpoint.
    pub signer: String,
    pub lines: Vec<Line>,
}

impl Report {
    pub fn failures(&self) -> usize {
        self.lines.iter().filter(|l| !l.ok).count()
    }
}

fn format(file: &'static str, what: &'static str) -> impl Fn(String) -> EvidenceError {
    move |detail| EvidenceError::Format { file, what, detail }
}

fn hashes(path: &[String]) -> Option<Vec<Hash>> {
    path.iter()
        .map(|h| B64.decode(h).ok()?.try_into().ok())
        .collect()
}

/// Checks `evidence` (and, given, `request`'s decisions) against the operator's key. With
/// `approvers` empty, decisions are checked with the keys the request file names, and the
/// report says so.
pub fn check(
    operator: &NoteVerifier,
    evidence: &str,
    request: Option<&str>,
    approvers: &[NoteVerifier],
) -> Result<Report, EvidenceError> {
    let ev: EvidenceFile = serde_json::from_str(evidence)
        .map_err(|e| format("evidence", "an evidence file")(e.to_string()))?;
    let body = operator
        .open(&ev.checkpoint)
        .map_err(|e| EvidenceError::Checkpoint(e.to_string()))?;
    let c = Checkpoint::parse_body(body).map_err(|e| EvidenceError::Checkpoint(e.to_string()))?;
    let mut lines = Vec::new();
    if c.size != ev.tree_size {
        lines.push(Line {
            what: "tree size".into(),
            ok: false,
            detail: format!(
                "the evidence says {}, its checkpoint {}",
                ev.tree_size, c.size
            ),
        });
    }
    let mut object: Option<String> = None;
    let mut decides = 0usize;
    for p in &ev.proofs {
        let entry = B64.decode(&p.entry).unwrap_or_default();
        let e: serde_json::Value = serde_json::from_slice(&entry).unwrap_or_default();
        let field = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or("?").to_owned();
        let (action, o) = (field("action"), field("object"));
        if action == "idc.access.decide" {
            decides += 1;
        }
        let included = p.tree_size == c.size
            && !entry.is_empty()
            && hashes(&p.path).is_some_and(|path| {
                verify_inclusion(p.index, p.tree_size, &leaf_hash(&entry), &path, &c.root)
            });
        // Every entry is about the same request: evidence about another is not evidence.
        let first = object.get_or_insert_with(|| o.clone()).clone();
        let (ok, detail) = match (included, first == o) {
            (false, _) => (false, "not included under the checkpoint".to_owned()),
            (true, false) => (false, format!("about {o}, not {first}")),
            (true, true) => (true, "included".to_owned()),
        };
        lines.push(Line {
            what: format!(
                "entry {} {action} by {} at {}",
                p.index,
                field("actor"),
                e.get("time").and_then(|t| t.as_i64()).unwrap_or(0)
            ),
            ok,
            detail,
        });
    }
    if ev.proofs.is_empty() {
        lines.push(Line {
            what: "entries".into(),
            ok: false,
            detail: "the evidence holds none".into(),
        });
    }
    if let Some(text) = request {
        let r: RequestFile = serde_json::from_str(text)
            .map_err(|e| format("request", "a request file")(e.to_string()))?;
        if object.as_deref().is_some_and(|o| o != r.id) {
            lines.push(Line {
                what: format!("request {}", r.id),
                ok: false,
                detail: "the evidence is about another request".into(),
            });
        }
        for d in &r.decisions {
            let named;
            let keys: &[NoteVerifier] = if approvers.is_empty() {
                named = NoteVerifier::parse(&d.public_key).ok();
                named.as_slice()
            } else {
                approvers
            };
            let body = keys.iter().find_map(|k| k.open(&d.note).ok());
            let (ok, detail) = match body {
                None => (false, "the signature does not verify".to_owned()),
                Some(b) if !(b.contains(&r.id) && b.contains(&d.decision)) => (
                    false,
                    format!("the signed text is not this {} of {}", d.decision, r.id),
                ),
                Some(_) if approvers.is_empty() => (
                    true,
                    "signature verified (with the key the request file names)".to_owned(),
                ),
                Some(_) => (true, "signature verified with your key".to_owned()),
            };
            lines.push(Line {
                what: format!("decision {} by {}", d.decision, d.by),
                ok,
                detail,
            });
        }
        if r.decisions.len() > decides {
            lines.push(Line {
                what: "decisions".into(),
                ok: false,
                detail: format!(
                    "{} signed decisions but {decides} decision entries in the ledger",
                    r.decisions.len()
                ),
            });
        }
    }
    Ok(Report {
        checkpoint: c,
        signer: operator.name.clone(),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NoteSigner, Tree};

    /// A log of three entries, two about request R; evidence for those two.
    fn fixture() -> (NoteSigner, String, NoteSigner, String) {
        let op = NoteSigner::generate("idc.example/ledger").unwrap();
        let entries = [
            r#"{"action":"idc.access.request","actor":"ops","object":"R","time":1}"#,
            r#"{"action":"other","actor":"x","object":"Q","time":2}"#,
            r#"{"action":"idc.access.decide","actor":"cust-a","object":"R","time":3}"#,
        ];
        let tree = Tree::from_leaves(entries.iter().map(|e| leaf_hash(e.as_bytes())));
        let c = Checkpoint {
            origin: op.name.clone(),
            size: tree.len(),
            root: tree.root(),
        };
        let proofs: Vec<serde_json::Value> = [0u64, 2]
            .iter()
            .map(|&i| {
                serde_json::json!({
                    "index": i, "tree_size": 3,
                    "entry": B64.encode(entries[i as usize]),
                    "path": tree.inclusion_proof(i, 3).unwrap().iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
                })
            })
            .collect();
        let ev = serde_json::json!({
            "checkpoint": op.sign_checkpoint(&c).unwrap(),
            "public_key": op.verifier().to_key_string(),
            "tree_size": 3,
            "proofs": proofs,
        })
        .to_string();
        let approver = NoteSigner::generate("dengbao-approver/cust-a").unwrap();
        let req = serde_json::json!({
            "id": "R",
            "decisions": [{
                "by": "cust-a", "decision": "approve",
                "note": approver.sign("request R version 1\ndecision approve\n").unwrap(),
                "public_key": approver.verifier().to_key_string(),
            }],
        })
        .to_string();
        (op, ev, approver, req)
    }

    #[test]
    fn good_evidence_checks_and_every_tamper_is_named() {
        let (op, ev, approver, req) = fixture();
        let mine = [approver.verifier()];
        let r = check(&op.verifier(), &ev, Some(&req), &mine).unwrap();
        assert_eq!(r.failures(), 0, "{:?}", r.lines);
        assert_eq!(r.lines.len(), 3);
        assert!(r.lines[2].detail.contains("your key"));

        // Another operator key: refused outright.
        let other = NoteSigner::generate("idc.example/ledger").unwrap();
        assert!(matches!(
            check(&other.verifier(), &ev, None, &[]),
            Err(EvidenceError::Checkpoint(_))
        ));
        // An entry edited after the fact.
        let forged = ev.replace(
            &B64.encode(r#"{"action":"idc.access.request","actor":"ops","object":"R","time":1}"#),
            &B64.encode(r#"{"action":"idc.access.request","actor":"eve","object":"R","time":1}"#),
        );
        assert_ne!(forged, ev);
        let r = check(&op.verifier(), &forged, None, &[]).unwrap();
        assert_eq!(r.failures(), 1);
        assert!(r.lines[0].detail.contains("not included"), "{:?}", r.lines);
        // A decision signed by a key the customer does not hold.
        let stranger = NoteSigner::generate("dengbao-approver/cust-a").unwrap();
        let r = check(&op.verifier(), &ev, Some(&req), &[stranger.verifier()]).unwrap();
        assert_eq!(r.failures(), 1, "{:?}", r.lines);
        // Without keys of its own the customer is told whose key was used.
        let r = check(&op.verifier(), &ev, Some(&req), &[]).unwrap();
        assert!(r.lines[2].detail.contains("request file names"));
        // The decisions of another request.
        let r = check(
            &op.verifier(),
            &ev,
            Some(&req.replace("\"R\"", "\"S\"")),
            &mine,
        )
        .unwrap();
        assert!(r.failures() >= 1);
        // Not JSON: named.
        assert!(
            check(&op.verifier(), "{", None, &[])
                .unwrap_err()
                .to_string()
                .contains("evidence")
        );
    }
}
