//! `dengbao-ledger`: a tamper-evident log that anyone holding a checkpoint can verify
//! offline, with China's commercial cryptography — SM3 Merkle tree (RFC 6962/9162 shape),
//! SM2-signed checkpoints (C2SP tlog-checkpoint in a signed note).
//!
//! **Architecture invariant:** pure computation over bytes; storage and clocks belong to the
//! callers (the store appends entries in the same transaction as each change).

pub mod checkpoint;
pub mod tree;

pub use checkpoint::{Checkpoint, NoteSigner, NoteVerifier};
pub use tree::{Hash, Tree, leaf_hash, node_hash, verify_consistency, verify_inclusion};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("out of range: {0}")]
    Range(String),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("key: {0}")]
    Key(String),
}
