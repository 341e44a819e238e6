//! Checkpoints in the C2SP `tlog-checkpoint` format, in `signed-note` envelopes signed with
//! SM2 (GB/T 32918, SM3 digest, user id `1234567812345678` by default).
//!
//! ```text
//! dengbao.example/ledger        ← origin
//! 1234                          ← tree size
//! 3q2+7w…=                      ← base64 root hash
//!
//! — dengbao.example/ledger AbCd…   ← "— <key name> base64(key id ‖ signature)"
//! ```
//!
//! SM2 has no signature type registered with C2SP; Dengbao marks its keys with the type
//! bytes `0xFF 's' 'm' '2'` and derives the 4-byte key id as the first four bytes of
//! `SM3(name ‖ 0x0A ‖ type ‖ SEC1 public key)` (the spec's construction with SM3 in place of
//! SHA-256). Key strings follow the Go `note` package layout:
//! `<name>+<key id hex>+<base64(type ‖ key)>`, and `PRIVATE+KEY+…` for signing keys.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm3::{Digest, Sm3};

use crate::LedgerError;
use crate::tree::Hash;

/// GB/T 35276 default user identity.
pub const DEFAULT_USER_ID: &str = "1234567812345678";
const KEY_TYPE: [u8; 4] = [0xFF, b's', b'm', b'2'];
const DASH: &str = "\u{2014} ";

/// A tree head: the log's origin, its size, and the root hash at that size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note body: three lines, each ending in a newline.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a note body (extension lines after the third are allowed and ignored).
    pub fn parse_body(body: &str) -> Result<Checkpoint, LedgerError> {
        let bad = |why: &str| LedgerError::Checkpoint(why.to_owned());
        let mut lines = body
            .strip_suffix('\n')
            .ok_or_else(|| bad("the body must end with a newline"))?
            .split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("line 1 (origin) is empty"))?;
        let size = lines
            .next()
            .ok_or_else(|| bad("line 2 (tree size) is missing"))?;
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(bad("line 2 must be the tree size in decimal"));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| bad("line 2: tree size out of range"))?;
        let root = lines
            .next()
            .ok_or_else(|| bad("line 3 (root hash) is missing"))?;
        let root: Hash = B64
            .decode(root)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad("line 3 must be a base64 32-byte hash"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

fn check_name(name: &str) -> Result<(), LedgerError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(LedgerError::Key(
            "a key name must be non-empty, without spaces or `+`".into(),
        ));
    }
    Ok(())
}

fn key_id(name: &str, public: &[u8]) -> [u8; 4] {
    let mut h = Sm3::new();
    h.update(name.as_bytes());
    h.update([b'\n']);
    h.update(KEY_TYPE);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

use crate::to_hex as hex;

/// The public half: verifies notes signed under `name`.
#[derive(Clone, Debug)]
pub struct NoteVerifier {
    pub name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

/// The private half.
pub struct NoteSigner {
    pub name: String,
    id: [u8; 4],
    key: SigningKey,
}

impl NoteSigner {
    /// A fresh key from the operating system's randomness.
    pub fn generate(name: &str) -> Result<NoteSigner, LedgerError> {
        check_name(name)?;
        for _ in 0..16 {
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret)
                .map_err(|e| LedgerError::Key(format!("no randomness: {e}")))?;
            if let Ok(k) = NoteSigner::from_secret(name, &secret) {
                return Ok(k);
            }
        }
        Err(LedgerError::Key(
            "could not generate a valid SM2 key".into(),
        ))
    }

    pub fn from_secret(name: &str, secret: &[u8]) -> Result<NoteSigner, LedgerError> {
        check_name(name)?;
        let key = SigningKey::from_slice(DEFAULT_USER_ID, secret)
            .map_err(|_| LedgerError::Key("not a valid SM2 private key".into()))?;
        let id = key_id(name, &key.verifying_key().to_sec1_bytes());
        Ok(NoteSigner {
            name: name.to_owned(),
            id,
            key,
        })
    }

    /// `PRIVATE+KEY+<name>+<id>+<base64(type ‖ secret)>` — keep it in a 0600 file.
    pub fn to_key_string(&self) -> String {
        let mut raw = KEY_TYPE.to_vec();
        raw.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex(&self.id),
            B64.encode(raw)
        )
    }

    pub fn parse(s: &str) -> Result<NoteSigner, LedgerError> {
        let rest = s
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| LedgerError::Key("not a Dengbao private key string".into()))?;
        let (name, _, raw) = split_key(rest)?;
        let secret = raw
            .strip_prefix(&KEY_TYPE)
            .ok_or_else(|| LedgerError::Key("not an SM2 key".into()))?;
        NoteSigner::from_secret(name, secret)
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key().clone(),
        }
    }

    /// Signs a note body (which must end with a newline) and returns the whole note.
    pub fn sign(&self, body: &str) -> Result<String, LedgerError> {
        if !body.ends_with('\n') || body.contains("\n\n") {
            return Err(LedgerError::Checkpoint(
                "a note body ends with one newline and has no blank lines".into(),
            ));
        }
        let sig: Signature = self
            .key
            .try_sign(body.as_bytes())
            .map_err(|e| LedgerError::Key(format!("signing failed: {e}")))?;
        let mut blob = self.id.to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{body}\n{DASH}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }

    pub fn sign_checkpoint(&self, c: &Checkpoint) -> Result<String, LedgerError> {
        self.sign(&c.body())
    }
}

/// `(name, declared key id, decoded key)`.
fn split_key(s: &str) -> Result<(&str, &str, Vec<u8>), LedgerError> {
    // Base64 may itself contain `+`: the key is everything after the second separator.
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(LedgerError::Key("expected <name>+<key id>+<key>".into()));
    };
    check_name(name)?;
    let raw = B64
        .decode(b64)
        .map_err(|_| LedgerError::Key("key is not base64".into()))?;
    Ok((name, id, raw))
}

impl NoteVerifier {
    /// `<name>+<id>+<base64(type ‖ SEC1 public key)>`.
    pub fn to_key_string(&self) -> String {
        let mut raw = KEY_TYPE.to_vec();
        raw.extend_from_slice(&self.key.to_sec1_bytes());
        format!("{}+{}+{}", self.name, hex(&self.id), B64.encode(raw))
    }

    pub fn parse(s: &str) -> Result<NoteVerifier, LedgerError> {
        let s = s.trim();
        let (name, declared, raw) = split_key(s)?;
        let public = raw
            .strip_prefix(&KEY_TYPE)
            .ok_or_else(|| LedgerError::Key("not an SM2 key".into()))?;
        let key = VerifyingKey::from_sec1_bytes(DEFAULT_USER_ID, public)
            .map_err(|_| LedgerError::Key("not a valid SM2 public key".into()))?;
        let id = key_id(name, public);
        if declared != hex(&id) {
            return Err(LedgerError::Key(format!(
                "key id {declared} does not match the key ({})",
                hex(&id)
            )));
        }
        Ok(NoteVerifier {
            name: name.to_owned(),
            id,
            key,
        })
    }

    /// Checks a signed note and returns its body. Signatures by other keys are ignored;
    /// every signature line of this key must verify, and there must be one (C2SP signed-note:
    /// a failing signature from a known key rejects the note).
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, LedgerError> {
        let bad = |why: &str| LedgerError::Checkpoint(why.to_owned());
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| bad("no signature block"))?;
        let body = &note[..split + 1];
        let sigs = &note[split + 2..];
        let mut seen = false;
        for line in sigs.lines() {
            let rest = line
                .strip_prefix(DASH)
                .ok_or_else(|| bad("a signature line must start with an em dash"))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or_else(|| bad("malformed signature line"))?;
            if name != self.name {
                continue;
            }
            let blob = B64
                .decode(b64)
                .map_err(|_| bad("signature is not base64"))?;
            if blob.len() != 4 + 64 || blob[..4] != self.id {
                continue;
            }
            let sig =
                Signature::from_slice(&blob[4..]).map_err(|_| bad("malformed SM2 signature"))?;
            if self.key.verify(body.as_bytes(), &sig).is_err() {
                return Err(bad(
                    "a signature by this key does not verify: the note was altered, or a signature forged",
                ));
            }
            seen = true;
        }
        if seen {
            Ok(body)
        } else {
            Err(bad("no signature by this key"))
        }
    }

    /// Opens a signed checkpoint and checks its origin.
    pub fn open_checkpoint(&self, note: &str, origin: &str) -> Result<Checkpoint, LedgerError> {
        let c = Checkpoint::parse_body(self.open(note)?)?;
        if c.origin != origin {
            return Err(LedgerError::Checkpoint(format!(
                "checkpoint is for `{}`, not `{origin}`",
                c.origin
            )));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The SM2 signature example on the recommended curve (GB/T 32918 / GM/T 0003 example,
    /// user id 1234567812345678, message "message digest").
    #[test]
    fn sm2_known_answer() {
        let d = unhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8");
        let sk = SigningKey::from_slice(DEFAULT_USER_ID, &d).unwrap();
        let mut public = vec![0x04];
        public.extend(unhex(
            "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020",
        ));
        public.extend(unhex(
            "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13",
        ));
        assert_eq!(
            &*sk.verifying_key().to_sec1_bytes(),
            public.as_slice(),
            "public key from the private key"
        );
        let vk = VerifyingKey::from_sec1_bytes(DEFAULT_USER_ID, &public).unwrap();
        let mut rs = unhex("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3");
        rs.extend(unhex(
            "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA",
        ));
        let sig = Signature::from_slice(&rs).unwrap();
        assert!(
            vk.verify(b"message digest", &sig).is_ok(),
            "published signature verifies"
        );
        assert!(vk.verify(b"message digesT", &sig).is_err());
        let other = VerifyingKey::from_sec1_bytes("ALICE123@YAHOO.COM", &public).unwrap();
        assert!(
            other.verify(b"message digest", &sig).is_err(),
            "the user id is part of the signature"
        );
    }

    #[test]
    fn checkpoints_sign_and_verify() {
        let s = NoteSigner::generate("dengbao.example/ledger").unwrap();
        let v = NoteVerifier::parse(&s.verifier().to_key_string()).unwrap();
        let c = Checkpoint {
            origin: "dengbao.example/ledger".into(),
            size: 42,
            root: [7u8; 32],
        };
        let note = s.sign_checkpoint(&c).unwrap();
        assert!(note.starts_with("dengbao.example/ledger\n42\n"));
        assert_eq!(
            v.open_checkpoint(&note, "dengbao.example/ledger").unwrap(),
            c
        );
        // Altered size, altered root, another key, another origin: all refused.
        assert!(v.open(&note.replacen("\n42\n", "\n43\n", 1)).is_err());
        let other = NoteSigner::generate("dengbao.example/ledger").unwrap();
        assert!(other.verifier().open(&note).is_err());
        assert!(v.open_checkpoint(&note, "elsewhere").is_err());
        // Private keys round-trip through their string form.
        let s2 = NoteSigner::parse(&s.to_key_string()).unwrap();
        assert!(v.open(&s2.sign("hello\n").unwrap()).is_ok());
        let vs = s.verifier().to_key_string();
        let (name, rest) = vs.split_once('+').unwrap();
        assert!(
            NoteVerifier::parse(&format!(
                "{name}+00000000+{}",
                rest.split_once('+').unwrap().1
            ))
            .is_err(),
            "wrong key id"
        );
    }

    /// C2SP signed-note: a failing signature from a known key rejects the note, even when
    /// a good one by the same key follows it.
    #[test]
    fn a_bad_signature_of_the_known_key_rejects_the_note() {
        let s = NoteSigner::generate("dengbao.example/ledger").unwrap();
        let v = s.verifier();
        let note = s.sign("hello\n").unwrap();
        let (body, good) = note.rsplit_once("\n\n").unwrap();
        // The same key id with another signature: flip one byte of the signature.
        let b64 = good.rsplit_once(' ').unwrap().1.trim_end();
        let mut blob = B64.decode(b64).unwrap();
        let last = blob.len() - 1;
        blob[last] ^= 1;
        let forged = format!("{DASH}dengbao.example/ledger {}\n", B64.encode(&blob));
        let two = format!("{body}\n\n{forged}{good}");
        assert!(v.open(&format!("{body}\n\n{good}")).is_ok());
        assert!(v.open(&two).is_err(), "a bad line before a good one");
        let two = format!("{body}\n\n{good}{}", forged);
        assert!(v.open(&two).is_err(), "a bad line after a good one");
        // A line by another key is ignored.
        let other = NoteSigner::generate("other.example/log").unwrap();
        let theirs = other.sign("hello\n").unwrap();
        let their_line = theirs.rsplit_once("\n\n").unwrap().1;
        assert!(v.open(&format!("{body}\n\n{their_line}{good}")).is_ok());
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for body in [
            "",
            "origin\n",
            "origin\n01\nAAAA\n",
            "origin\nx\nAAAA\n",
            "origin\n1\nnot-base64\n",
            "\n1\nAAAA\n",
        ] {
            assert!(Checkpoint::parse_body(body).is_err(), "{body:?}");
        }
    }
}
