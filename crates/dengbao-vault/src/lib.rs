//! `dengbao-vault`: envelope encryption with SM4-GCM (RFC 8998), and crypto-shredding.
//!
//! The hierarchy: a **master key** ([`MasterKey`]: a key file, the environment, later a
//! hardware security module) wraps one **key-encryption key** (KEK) per owner — an IDC
//! customer, or an organisation for the platform's own secrets; a KEK wraps one **data key**
//! (DEK) per data asset (or per purpose); a DEK seals the data. Rotating a KEK re-wraps its
//! data keys and never touches the data; destroying a data key makes every copy of the data
//! it sealed unreadable — the shredding. Where the wrapped keys are kept is the caller's
//! business (`dengbao-store`'s `vault_keys`); this crate is the cryptography and the master
//! key's keeping.
//!
//! Sealed bytes are `DBV1 ‖ nonce (12) ‖ ciphertext ‖ tag (16)`. The nonce is random: a data
//! key seals far fewer than the 2³² messages NIST SP 800-38D allows for random nonces. The
//! associated data binds a ciphertext to its place (owner, row, purpose), so a sealed value
//! moved to another row does not open.
//!
//! **Invariants:** no operation returns a key's bytes to a caller outside this crate: keys
//! leave only wrapped. Key bytes are zeroized when dropped. `Debug` never prints a key.

mod master;

pub use master::{EnvMasterKey, FileMasterKey, MasterKey};

use aes_gcm::aead::consts::U12;
use aes_gcm::{AeadInOut, AesGcm, KeyInit, Nonce, Tag};
use sm3::{Digest, Sm3};
use zeroize::{Zeroize, Zeroizing};

/// SM4-GCM with a 96-bit nonce and a 128-bit tag (RFC 8998 §3.1, `TLS_SM4_GCM_SM3`'s AEAD).
pub type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// Bytes in an SM4 key.
pub const KEY_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const MAGIC: &[u8; 4] = b"DBV1";
/// Bytes a sealed value adds to its plaintext.
pub const OVERHEAD: usize = MAGIC.len() + NONCE_LEN + TAG_LEN;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The tag did not verify: wrong key, wrong associated data, tampered, or a key that was
    /// destroyed and replaced.
    #[error("cannot decrypt: the key is wrong or destroyed, or the data was altered")]
    Decrypt,
    #[error("not a sealed value: {0}")]
    Format(&'static str),
    #[error("the key {0} has been destroyed")]
    Destroyed(String),
    #[error("master key {0} is not held by this vault")]
    UnknownMaster(String),
    #[error("master key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("master key from the environment: {0}")]
    Env(String),
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}

pub type Result<T, E = VaultError> = std::result::Result<T, E>;

/// A 128-bit SM4 key. Zeroized on drop; never printed.
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.fingerprint())
    }
}

impl Key {
    /// A fresh random key.
    pub fn generate() -> Result<Key> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(&mut *k).map_err(|e| VaultError::Random(e.to_string()))?;
        Ok(Key(k))
    }

    /// A key from its bytes (known-answer tests, the master key's file).
    pub fn from_bytes(mut bytes: [u8; KEY_LEN]) -> Key {
        let k = Key(Zeroizing::new(bytes));
        bytes.zeroize();
        k
    }

    /// A key from 32 hexadecimal digits.
    pub fn from_hex(s: &str) -> Option<Key> {
        let s = s.trim().as_bytes();
        if s.len() != 2 * KEY_LEN {
            return None;
        }
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        for (i, b) in k.iter_mut().enumerate() {
            let hi = char::from(s[2 * i]).to_digit(16)?;
            let lo = char::from(s[2 * i + 1]).to_digit(16)?;
            *b = (hi * 16 + lo) as u8;
        }
        Some(Key(k))
    }

    /// Hexadecimal, for the master key's own file only.
    fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex(&*self.0))
    }

    /// Names the key without revealing it: the first 128 bits of
    /// SM3("dengbao-vault/fingerprint/v1" ‖ key), in hexadecimal. A key has 128 bits of
    /// entropy, so the fingerprint cannot be searched back to it.
    pub fn fingerprint(&self) -> String {
        let mut h = Sm3::new();
        h.update(b"dengbao-vault/fingerprint/v1");
        h.update(*self.0);
        hex(&h.finalize()[..16])
    }

    fn cipher(&self) -> Result<Sm4Gcm> {
        Sm4Gcm::new_from_slice(&*self.0).map_err(|_| VaultError::Format("key length"))
    }

    /// A keyed SM3 hash (HMAC-SM3, RFC 2104) under a key derived from this one: what a ledger
    /// entry carries instead of an unkeyed hash of customer facts, so that once the key is
    /// destroyed the entry no longer confirms a guess of the facts.
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        let mut k = Zeroizing::new([0u8; 64]);
        let mut d = Sm3::new();
        d.update(b"dengbao-vault/mac/v1");
        d.update(*self.0);
        k[..32].copy_from_slice(&d.finalize());
        let pad = |byte: u8| {
            let mut p = Zeroizing::new([0u8; 64]);
            for (o, i) in p.iter_mut().zip(k.iter()) {
                *o = i ^ byte;
            }
            p
        };
        let inner = Sm3::new()
            .chain_update(*pad(0x36))
            .chain_update(data)
            .finalize();
        let outer = Sm3::new()
            .chain_update(*pad(0x5c))
            .chain_update(inner)
            .finalize();
        outer.into()
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Whether `bytes` look like a sealed value (its magic), as opposed to a legacy plaintext.
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.len() >= OVERHEAD && bytes.starts_with(MAGIC)
}

/// SM4-GCM with an explicit nonce: the primitive, for known-answer tests and the benchmark.
pub fn seal_with_nonce(
    key: &Key,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut buf = plaintext.to_vec();
    let tag = key
        .cipher()?
        .encrypt_inout_detached(&Nonce::<U12>::from(*nonce), aad, buf.as_mut_slice().into())
        .map_err(|_| VaultError::Format("plaintext too long"))?;
    buf.extend_from_slice(&tag);
    Ok(buf)
}

/// Seals `plaintext` under `key`, bound to `aad`.
pub fn seal(key: &Key, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| VaultError::Random(e.to_string()))?;
    let body = seal_with_nonce(key, &nonce, aad, plaintext)?;
    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens what [`seal`] made with the same key and associated data.
pub fn open(key: &Key, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if !is_sealed(sealed) {
        return Err(VaultError::Format("missing DBV1 header or too short"));
    }
    let (nonce, rest) = sealed[MAGIC.len()..].split_at(NONCE_LEN);
    let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| VaultError::Format("nonce"))?;
    let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| VaultError::Format("tag"))?;
    let mut buf = Zeroizing::new(ct.to_vec());
    key.cipher()?
        .decrypt_inout_detached(
            &Nonce::<U12>::from(nonce),
            aad,
            buf.as_mut_slice().into(),
            &Tag::from(tag),
        )
        .map_err(|_| VaultError::Decrypt)?;
    Ok(buf)
}

fn wrap_aad(aad: &[u8]) -> Vec<u8> {
    [b"dengbao-vault/wrap/v1|".as_slice(), aad].concat()
}

/// `child` sealed under `parent` (a KEK wrapping a data key, a master key wrapping a KEK).
pub fn wrap(parent: &Key, child: &Key, aad: &[u8]) -> Result<Vec<u8>> {
    seal(parent, &wrap_aad(aad), &*child.0)
}

/// The key [`wrap`] sealed.
pub fn unwrap(parent: &Key, wrapped: &[u8], aad: &[u8]) -> Result<Key> {
    let bytes = open(parent, &wrap_aad(aad), wrapped)?;
    let arr: [u8; KEY_LEN] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| VaultError::Format("wrapped key length"))?;
    Ok(Key::from_bytes(arr))
}

#[cfg(test)]
mod tests;
