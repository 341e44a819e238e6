use super::*;
use proptest::prelude::*;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// RFC 8998, Appendix A.1 (SM4-GCM).
#[test]
fn rfc8998_a1_known_answer() {
    let key = Key::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap();
    let nonce: [u8; 12] = unhex("00001234567800000000ABCD").try_into().unwrap();
    let aad = unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
    let pt = unhex(concat!(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    ));
    let expected = unhex(concat!(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
        "83DE3541E4C2B58177E065A9BF7B62EC"
    ));
    let got = seal_with_nonce(&key, &nonce, &aad, &pt).unwrap();
    assert_eq!(got, expected);
    // The same bytes open through `open` once framed.
    let framed = [b"DBV1".as_slice(), &nonce, &got].concat();
    assert_eq!(open(&key, &aad, &framed).unwrap().as_slice(), pt.as_slice());
    // One flipped bit anywhere is refused.
    for i in [4, 20, framed.len() - 1] {
        let mut bad = framed.clone();
        bad[i] ^= 1;
        assert!(
            matches!(open(&key, &aad, &bad), Err(VaultError::Decrypt)),
            "byte {i}"
        );
    }
}

/// GB/T 32907 (SM4) example 1 through the block cipher the AEAD is built on.
#[test]
fn sm4_block_known_answer() {
    use aes_gcm::aead::array::Array;
    use sm4::cipher::{BlockCipherEncrypt, KeyInit};
    let k = unhex("0123456789abcdeffedcba9876543210");
    let c = sm4::Sm4::new_from_slice(&k).unwrap();
    let mut block = Array::try_from(k.as_slice()).unwrap();
    c.encrypt_block(&mut block);
    assert_eq!(
        block.as_slice(),
        unhex("681edf34d206965e86b3e94f536e4246").as_slice()
    );
}

#[test]
fn sealed_values_are_bound_to_key_and_place() {
    let a = Key::generate().unwrap();
    let b = Key::generate().unwrap();
    let s = seal(&a, b"tenant/row-1", b"secret").unwrap();
    assert!(is_sealed(&s));
    assert_eq!(open(&a, b"tenant/row-1", &s).unwrap().as_slice(), b"secret");
    assert!(matches!(
        open(&b, b"tenant/row-1", &s),
        Err(VaultError::Decrypt)
    ));
    assert!(matches!(
        open(&a, b"tenant/row-2", &s),
        Err(VaultError::Decrypt)
    ));
    assert!(matches!(
        open(&a, b"", b"plain"),
        Err(VaultError::Format(_))
    ));
    // Two seals of the same plaintext differ (random nonces).
    assert_ne!(
        seal(&a, b"x", b"secret").unwrap(),
        seal(&a, b"x", b"secret").unwrap()
    );
}

#[test]
fn wrapping_and_rewrapping_keep_the_data_key() {
    let kek1 = Key::generate().unwrap();
    let kek2 = Key::generate().unwrap();
    let dek = Key::generate().unwrap();
    let data = seal(&dek, b"asset", b"customer rows").unwrap();
    let w1 = wrap(&kek1, &dek, b"asset").unwrap();
    // Rotation: unwrap with the old KEK, wrap with the new; the data is not touched.
    let w2 = wrap(&kek2, &unwrap(&kek1, &w1, b"asset").unwrap(), b"asset").unwrap();
    let again = unwrap(&kek2, &w2, b"asset").unwrap();
    assert_eq!(again.fingerprint(), dek.fingerprint());
    assert_eq!(
        open(&again, b"asset", &data).unwrap().as_slice(),
        b"customer rows"
    );
    assert!(matches!(
        unwrap(&kek1, &w2, b"asset"),
        Err(VaultError::Decrypt)
    ));
    assert!(matches!(
        unwrap(&kek2, &w2, b"other"),
        Err(VaultError::Decrypt)
    ));
}

#[test]
fn debug_and_fingerprint_do_not_reveal_the_key() {
    let k = Key::from_hex("0123456789abcdeffedcba9876543210").unwrap();
    let shown = format!("{k:?}");
    assert!(!shown.contains("0123456789"), "{shown}");
    assert_eq!(k.fingerprint().len(), 32);
    assert_ne!(k.fingerprint(), Key::generate().unwrap().fingerprint());
    assert!(Key::from_hex("xyz").is_none());
    assert!(Key::from_hex("0123456789abcdeffedcba987654321g").is_none());
}

#[test]
fn mac_is_keyed() {
    let a = Key::generate().unwrap();
    let b = Key::generate().unwrap();
    assert_eq!(a.mac(b"facts"), a.mac(b"facts"));
    assert_ne!(a.mac(b"facts"), b.mac(b"facts"));
    assert_ne!(a.mac(b"facts"), a.mac(b"fact"));
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dengbao-vault-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn master_key_file_is_private_rotates_and_forgets() {
    let dir = temp_dir("master");
    let path = dir.join("master.key");
    let m = FileMasterKey::open_or_create(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let kek = Key::generate().unwrap();
    let (v1, w1) = m.wrap(&kek, b"org-1").unwrap();
    // Reopened from the file, the same version unwraps.
    let m = FileMasterKey::open_or_create(&path).unwrap();
    assert_eq!(
        m.unwrap(&v1, &w1, b"org-1").unwrap().fingerprint(),
        kek.fingerprint()
    );
    let v2 = m.rotate().unwrap().unwrap();
    assert_ne!(v1, v2);
    assert_eq!(m.current(), v2);
    let (v, w2) = m.wrap(&kek, b"org-1").unwrap();
    assert_eq!(v, v2);
    assert!(
        m.retire(&v2).is_err(),
        "the current version is never retired"
    );
    m.retire(&v1).unwrap();
    assert!(matches!(
        m.unwrap(&v1, &w1, b"org-1"),
        Err(VaultError::UnknownMaster(_))
    ));
    // Forgotten in the file too, not only in memory.
    let m = FileMasterKey::open_or_create(&path).unwrap();
    assert!(matches!(
        m.unwrap(&v1, &w1, b"org-1"),
        Err(VaultError::UnknownMaster(_))
    ));
    assert_eq!(
        m.unwrap(&v2, &w2, b"org-1").unwrap().fingerprint(),
        kek.fingerprint()
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_master_key_file_rotated_by_another_process_is_followed() {
    let dir = temp_dir("follow");
    let path = dir.join("master.key");
    let server = FileMasterKey::open_or_create(&path).unwrap();
    let old = server.current();
    // `dengbao vault rotate-master` in another process: a new version, the old forgotten.
    let cli = FileMasterKey::open_or_create(&path).unwrap();
    let new = cli.rotate().unwrap().unwrap();
    let kek = Key::generate().unwrap();
    let (v, w) = cli.wrap(&kek, b"k").unwrap();
    assert_eq!(v, new);
    cli.retire(&old).unwrap();
    // The server opens what was wrapped under the new version, and wraps under it too.
    assert_eq!(
        server.unwrap(&v, &w, b"k").unwrap().fingerprint(),
        kek.fingerprint()
    );
    assert_eq!(server.wrap(&kek, b"k").unwrap().0, new);
    assert_eq!(server.current(), new);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn a_master_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("perm");
    let path = dir.join("master.key");
    drop(FileMasterKey::open_or_create(&path).unwrap());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = FileMasterKey::open_or_create(&path)
        .err()
        .map(|e| e.to_string())
        .unwrap();
    assert!(e.contains("0600") && e.contains("644"), "{e}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&path, "dengbao-vault-master v1\nmk-000000000000 00\n").unwrap();
    let e = FileMasterKey::open_or_create(&path)
        .err()
        .map(|e| e.to_string())
        .unwrap();
    assert!(e.contains("line 2"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_environment_master_key_cannot_rotate() {
    let m = EnvMasterKey::new("TEST_MK", Key::generate().unwrap());
    assert_eq!(m.rotate().unwrap(), None);
    let kek = Key::generate().unwrap();
    let (v, w) = m.wrap(&kek, b"x").unwrap();
    assert_eq!(
        m.unwrap(&v, &w, b"x").unwrap().fingerprint(),
        kek.fingerprint()
    );
    assert!(m.retire(&v).is_err());
    assert!(matches!(
        m.unwrap("mk-other", &w, b"x"),
        Err(VaultError::UnknownMaster(_))
    ));
}

proptest! {
    #[test]
    fn seal_open_round_trips(pt in proptest::collection::vec(any::<u8>(), 0..2048),
                             aad in proptest::collection::vec(any::<u8>(), 0..64)) {
        let k = Key::generate().unwrap();
        let s = seal(&k, &aad, &pt).unwrap();
        prop_assert_eq!(s.len(), pt.len() + OVERHEAD);
        let back = open(&k, &aad, &s).unwrap();
        prop_assert_eq!(back.as_slice(), pt.as_slice());
    }
}
