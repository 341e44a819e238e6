//! `dengbao ledger …`: keys, proofs, and offline verification with only a public key, a
//! checkpoint and a proof file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use dengbao_ledger::{
    Checkpoint, NoteSigner, NoteVerifier, Tree, leaf_hash, verify_consistency, verify_inclusion,
};
use serde::{Deserialize, Serialize};

#[derive(clap::Subcommand)]
pub enum LedgerCommand {
    /// Generate an SM2 signing key: NAME.key (mode 0600) and NAME.pub in DIR.
    Keygen {
        /// Key name, usually the log's origin (no spaces or `+`).
        #[arg(long)]
        name: String,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Recompute the whole log from storage and check every signed checkpoint; names the
    /// first bad index.
    Verify {
        #[command(flatten)]
        db: crate::server::DbArgs,
        /// Public key (default: ledger.pub in the data directory).
        #[arg(long)]
        pubkey: Option<PathBuf>,
    },
    /// Sign a checkpoint of the stored log now.
    Checkpoint {
        #[command(flatten)]
        db: crate::server::DbArgs,
        /// Signing key (default: ledger.key in the data directory).
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Write the latest signed checkpoint and an inclusion proof for entry SEQ, for
    /// `check-proof` anywhere.
    Prove {
        #[command(flatten)]
        db: crate::server::DbArgs,
        #[arg(long)]
        seq: u64,
        #[arg(long)]
        checkpoint_out: PathBuf,
        #[arg(long)]
        proof_out: PathBuf,
    },
    /// As `prove`, over an entries file (one entry per line), signing with KEY.
    ProveFile {
        #[arg(long)]
        entries: PathBuf,
        /// 0-based index of the entry to prove.
        #[arg(long)]
        index: u64,
        /// Private key file from `ledger keygen`.
        #[arg(long)]
        key: PathBuf,
        /// Where to write the signed checkpoint and the proof (JSON).
        #[arg(long)]
        checkpoint_out: PathBuf,
        #[arg(long)]
        proof_out: PathBuf,
    },
    /// Verify a proof offline: an inclusion proof (entry in the checkpoint's tree) or, with
    /// `--old-checkpoint`, a consistency proof between two checkpoints.
    CheckProof {
        #[arg(long)]
        pubkey: PathBuf,
        #[arg(long)]
        checkpoint: PathBuf,
        #[arg(long)]
        proof: PathBuf,
        #[arg(long)]
        old_checkpoint: Option<PathBuf>,
    },
    /// Verify offline, as the customer, what an IDC operator did under an authorization
    /// request: the checkpoint's signature with the operator's ledger key you hold, every
    /// entry's inclusion under it, and (with `--request`) each decision's SM2 signature by
    /// its approver, with the approvers' keys you hold (`--approver-key`) or, failing that,
    /// the keys the request file names.
    CheckEvidence {
        /// The operator's ledger public key (obtained and checked independently).
        #[arg(long)]
        pubkey: PathBuf,
        /// The evidence JSON (`GET /api/v1/idc/access/{id}/evidence`).
        #[arg(long)]
        evidence: PathBuf,
        /// The request JSON (`GET /api/v1/idc/access/{id}`), to check its signed decisions.
        #[arg(long)]
        request: Option<PathBuf>,
        /// An approver's public key file; repeat for each. Every decision must verify with
        /// one of them.
        #[arg(long)]
        approver_key: Vec<PathBuf>,
    },
}

/// A proof file.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ProofFile {
    Inclusion {
        index: u64,
        tree_size: u64,
        /// The entry itself (base64); its leaf hash is recomputed.
        entry: String,
        path: Vec<String>,
    },
    Consistency {
        old_size: u64,
        new_size: u64,
        path: Vec<String>,
    },
}

fn read(p: &Path) -> Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))
}

fn hashes(path: &[String]) -> Result<Vec<dengbao_ledger::Hash>> {
    path.iter()
        .enumerate()
        .map(|(i, h)| {
            B64.decode(h)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| anyhow!("path[{i}] is not a base64 32-byte hash"))
        })
        .collect()
}

/// The first `limit` stored entries and the tree recomputed from their text (not from the
/// recorded hashes: what is signed or proved is what the entries say).
async fn stored_tree(
    store: &dengbao_store::Store,
    limit: i64,
) -> Result<(Vec<dengbao_store::LedgerRow>, Tree)> {
    let rows = store.ledger_entries(None, 0, limit).await?;
    let tree = Tree::from_leaves(rows.iter().map(|r| leaf_hash(r.entry.as_bytes())));
    Ok((rows, tree))
}

pub fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("{}: cannot create (it must not exist yet)", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

pub fn run(cmd: LedgerCommand) -> Result<ExitCode> {
    match cmd {
        LedgerCommand::CheckEvidence {
            pubkey,
            evidence,
            request,
            approver_key,
        } => return check_evidence(&pubkey, &evidence, request.as_deref(), &approver_key),
        LedgerCommand::Keygen { name, out } => {
            let k = NoteSigner::generate(&name).map_err(|e| anyhow!("{e}"))?;
            let file = name.replace('/', "_");
            let key = out.join(format!("{file}.key"));
            write_private(&key, &format!("{}\n", k.to_key_string()))?;
            let public = out.join(format!("{file}.pub"));
            std::fs::write(&public, format!("{}\n", k.verifier().to_key_string()))?;
            eprintln!(
                "wrote {} (private, mode 0600) and {}",
                key.display(),
                public.display()
            );
        }
        LedgerCommand::Verify { db, pubkey } => {
            let path = pubkey.unwrap_or_else(|| db.data_file("ledger.pub"));
            let v = NoteVerifier::parse(&read(&path)?)
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            let report = crate::server::runtime()?.block_on(async {
                let store = db.connect(2).await?;
                dengbao_app::ledger::verify_ledger(&store, &v)
                    .await
                    .map_err(|e| anyhow!("{e}"))
            })?;
            if report.problems.is_empty() {
                println!(
                    "OK: {} entries recomputed; {} signed checkpoints verify against them",
                    report.entries, report.checkpoints
                );
            } else {
                for p in &report.problems {
                    println!("BAD: {p}");
                }
                println!(
                    "{} problem(s) in {} entries and {} checkpoints",
                    report.problems.len(),
                    report.entries,
                    report.checkpoints
                );
                return Ok(ExitCode::FAILURE);
            }
        }
        LedgerCommand::Checkpoint { db, key } => {
            let path = key.unwrap_or_else(|| db.data_file("ledger.key"));
            let signer =
                NoteSigner::parse(&read(&path)?).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            let note = crate::server::runtime()?.block_on(async {
                let store = db.connect(2).await?;
                let (_, tree) = stored_tree(&store, i64::MAX).await?;
                if tree.is_empty() {
                    anyhow::bail!("the ledger is empty");
                }
                let c = Checkpoint {
                    origin: signer.name.clone(),
                    size: tree.len(),
                    root: tree.root(),
                };
                let note = signer.sign_checkpoint(&c).map_err(|e| anyhow!("{e}"))?;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                store.put_checkpoint(c.size as i64, &note, now).await?;
                Ok(note)
            })?;
            print!("{note}");
        }
        LedgerCommand::Prove {
            db,
            seq,
            checkpoint_out,
            proof_out,
        } => {
            let (note, proof) = crate::server::runtime()?.block_on(async {
                let store = db.connect(2).await?;
                let (size, note) = store.latest_checkpoint().await?.ok_or_else(|| {
                    anyhow!("no signed checkpoint yet (dengbao ledger checkpoint)")
                })?;
                if seq >= size as u64 {
                    anyhow::bail!(
                        "--seq {seq}: the latest checkpoint covers entries 0–{}",
                        size - 1
                    );
                }
                let (rows, tree) = stored_tree(&store, size).await?;
                let path = tree
                    .inclusion_proof(seq, size as u64)
                    .map_err(|e| anyhow!("{e}"))?;
                let entry = &rows[usize::try_from(seq)?].entry;
                Ok((
                    note,
                    ProofFile::Inclusion {
                        index: seq,
                        tree_size: size as u64,
                        entry: B64.encode(entry),
                        path: path.iter().map(|h| B64.encode(h)).collect(),
                    },
                ))
            })?;
            std::fs::write(&checkpoint_out, note)?;
            std::fs::write(&proof_out, serde_json::to_string_pretty(&proof)?)?;
            eprintln!("wrote the latest checkpoint and an inclusion proof for entry {seq}");
        }
        LedgerCommand::ProveFile {
            entries,
            index,
            key,
            checkpoint_out,
            proof_out,
        } => {
            let signer =
                NoteSigner::parse(&read(&key)?).map_err(|e| anyhow!("{}: {e}", key.display()))?;
            let text = read(&entries)?;
            let lines: Vec<&str> = text.lines().collect();
            let tree = Tree::from_leaves(lines.iter().map(|l| leaf_hash(l.as_bytes())));
            let size = tree.len();
            let entry = lines
                .get(usize::try_from(index)?)
                .ok_or_else(|| anyhow!("--index {index}: the file has {size} entries"))?;
            let c = Checkpoint {
                origin: signer.name.clone(),
                size,
                root: tree.root(),
            };
            std::fs::write(
                &checkpoint_out,
                signer.sign_checkpoint(&c).map_err(|e| anyhow!("{e}"))?,
            )?;
            let path = tree
                .inclusion_proof(index, size)
                .map_err(|e| anyhow!("{e}"))?;
            let proof = ProofFile::Inclusion {
                index,
                tree_size: size,
                entry: B64.encode(entry),
                path: path.iter().map(|h| B64.encode(h)).collect(),
            };
            std::fs::write(&proof_out, serde_json::to_string_pretty(&proof)?)?;
            eprintln!("signed checkpoint of {size} entries; inclusion proof for entry {index}");
        }
        LedgerCommand::CheckProof {
            pubkey,
            checkpoint,
            proof,
            old_checkpoint,
        } => {
            let v = NoteVerifier::parse(&read(&pubkey)?)
                .map_err(|e| anyhow!("{}: {e}", pubkey.display()))?;
            let open = |p: &Path| -> Result<Checkpoint> {
                let note = read(p)?;
                let body = v.open(&note).map_err(|e| anyhow!("{}: {e}", p.display()))?;
                Checkpoint::parse_body(body).map_err(|e| anyhow!("{}: {e}", p.display()))
            };
            let c = open(&checkpoint)?;
            let pf: ProofFile = serde_json::from_str(&read(&proof)?)
                .with_context(|| format!("{}: not a proof file", proof.display()))?;
            match (pf, old_checkpoint) {
                (
                    ProofFile::Inclusion {
                        index,
                        tree_size,
                        entry,
                        path,
                    },
                    None,
                ) => {
                    if tree_size != c.size {
                        bail!(
                            "the proof is for a tree of {tree_size} entries, the checkpoint for {}",
                            c.size
                        );
                    }
                    let entry = B64.decode(&entry).context("entry is not base64")?;
                    if !verify_inclusion(
                        index,
                        tree_size,
                        &leaf_hash(&entry),
                        &hashes(&path)?,
                        &c.root,
                    ) {
                        bail!(
                            "INVALID: entry {index} is not in the tree of checkpoint {} (size {})",
                            c.origin,
                            c.size
                        );
                    }
                    println!(
                        "OK: entry {index} is included in {} at size {} (signature by {} verified)",
                        c.origin, c.size, v.name
                    );
                }
                (
                    ProofFile::Consistency {
                        old_size,
                        new_size,
                        path,
                    },
                    Some(old),
                ) => {
                    let o = open(&old)?;
                    if o.size != old_size || c.size != new_size {
                        bail!(
                            "the proof is for sizes {old_size}→{new_size}, the checkpoints are {}→{}",
                            o.size,
                            c.size
                        );
                    }
                    if !verify_consistency(old_size, new_size, &o.root, &c.root, &hashes(&path)?) {
                        bail!(
                            "INVALID: checkpoint {} is not an extension of {} — the log forked or was rewritten",
                            c.size,
                            o.size
                        );
                    }
                    println!(
                        "OK: the log at {new_size} extends the log at {old_size} (both checkpoints signed by {})",
                        v.name
                    );
                }
                (ProofFile::Inclusion { .. }, Some(_)) => {
                    bail!("an inclusion proof takes no --old-checkpoint")
                }
                (ProofFile::Consistency { .. }, None) => {
                    bail!("a consistency proof needs --old-checkpoint")
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `ledger check-evidence`: a line per check and a verdict; any failure exits 1.
fn check_evidence(
    pubkey: &Path,
    evidence: &Path,
    request: Option<&Path>,
    approver_keys: &[PathBuf],
) -> Result<ExitCode> {
    let key = |p: &Path| -> Result<NoteVerifier> {
        NoteVerifier::parse(&read(p)?).map_err(|e| anyhow!("{}: {e}", p.display()))
    };
    let operator = key(pubkey)?;
    let mine = approver_keys
        .iter()
        .map(|p| key(p))
        .collect::<Result<Vec<_>>>()?;
    let request = request.map(read).transpose()?;
    let r = dengbao_ledger::evidence::check(&operator, &read(evidence)?, request.as_deref(), &mine)
        .map_err(|e| anyhow!("INVALID: {e}"))?;
    println!(
        "checkpoint: {} at size {}, signature by {} verified",
        r.checkpoint.origin, r.checkpoint.size, r.signer
    );
    for l in &r.lines {
        let mark = if l.ok { "ok     " } else { "INVALID" };
        println!("{mark} {:<60} {}", l.what, l.detail);
    }
    if r.failures() == 0 {
        println!(
            "OK: every check passed ({} lines) against the checkpoint of size {}",
            r.lines.len(),
            r.checkpoint.size
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("INVALID: {} check(s) failed", r.failures());
        Ok(ExitCode::FAILURE)
    }
}
