//! `dengbao-ledger`: a tamper-evident log that anyone holding a checkpoint can verify
//! offline, with China's commercial cryptography — SM3 Merkle tree (RFC 6962/9162 shape),
//! SM2-signed checkpoints (C2SP tlog-checkpoint in a signed note).
//!
//! **Architecture invariant:** pure computation over bytes; storage and clocks belong to the
//! callers (the store appends entries in the same transaction as each change).

pub mod checkpoint;
pub mod evidence;
pub mod tree;

pub use checkpoint::{Checkpoint, NoteSigner, NoteVerifier};
pub use tree::{Hash, Tree, leaf_hash, node_hash, verify_consistency, verify_inclusion};

/// Lower-case hexadecimal, the form hashes are stored and shown in.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// A 32-byte hash from 64 hexadecimal characters.
pub fn hash_from_hex(s: &str) -> Option<Hash> {
    if s.len() != 64 {
        return None;
    }
    let mut h = [0u8; 32];
    for (i, b) in h.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(h)
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("out of range: {0}")]
    Range(String),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("key: {0}")]
    Key(String),
}
