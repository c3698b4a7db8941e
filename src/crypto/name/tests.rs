use std::sync::OnceLock;

use super::*;
use crate::crypto::sha256;

// Fixture keys, parsed once per test binary: generating RSA keys per test
// would take seconds.
fn fixture(cell: &'static OnceLock<PrivateKey>, pem: &str) -> PrivateKey {
    cell.get_or_init(|| PrivateKey::from_pkcs8_pem(pem).expect("fixture key"))
        .clone()
}
fn alice() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    fixture(
        &K,
        include_str!("../../../conformance/fixtures/keys/alice-3072.pem"),
    )
}
fn bob() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    fixture(
        &K,
        include_str!("../../../conformance/fixtures/keys/bob-3072.pem"),
    )
}
fn carol() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    fixture(
        &K,
        include_str!("../../../conformance/fixtures/keys/carol-3072.pem"),
    )
}
fn dave() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    fixture(
        &K,
        include_str!("../../../conformance/fixtures/keys/dave-2048.pem"),
    )
}

const CONV: Uuid = Uuid::from_u128(0x6f1c_2d3e_4a5b_4c6d_8e7f_0a1b_2c3d_4e5f);

fn members() -> Vec<(&'static str, PrivateKey)> {
    vec![("alice", alice()), ("bob", bob()), ("carol", carol())]
}

fn sealed(name: &str) -> (SealedName, Vec<(&'static str, PrivateKey)>) {
    let m = members();
    let pubs: Vec<(&str, &PublicKey)> = m.iter().map(|(u, k)| (*u, k.public_key())).collect();
    (seal_name(&alice(), CONV, 1, name, &pubs).unwrap(), m)
}

fn open_as_bob(r: &ReceivedName) -> Result<String> {
    open_name(r, "bob", &bob(), alice().public_key())
}

#[test]
fn round_trip_for_every_member() {
    let (s, m) = sealed("Team ✓ planning");
    let names: Vec<&str> = s.recipients.iter().map(|r| r.username.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    s.verify_signature(alice().public_key()).unwrap();
    for (user, key) in &m {
        let r = s.for_reader(user).unwrap();
        assert_eq!(
            open_name(&r, user, key, alice().public_key()).unwrap(),
            "Team ✓ planning"
        );
    }
}

#[test]
fn a_removed_member_cannot_read() {
    let (s, _) = sealed("after dave left");
    assert_eq!(s.for_reader("dave"), Err(CryptoError::NotARecipient));
    // Even with bob's view in hand, dave is not in the signed list.
    let r = s.for_reader("bob").unwrap();
    assert_eq!(
        open_name(&r, "dave", &dave(), alice().public_key()),
        Err(CryptoError::NotARecipient)
    );
}

#[test]
fn tampering_is_detected() {
    let (s, _) = sealed("secret plans");
    let base = s.for_reader("bob").unwrap();
    assert_eq!(open_as_bob(&base).unwrap(), "secret plans");

    let mut r = base.clone();
    r.ciphertext[0] ^= 1;
    assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
    let mut r = base.clone();
    r.iv[11] ^= 1;
    assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
    let mut r = base.clone();
    r.conversation_id = Uuid::from_u128(7);
    assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
    let mut r = base.clone();
    r.revision = 2;
    assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
    // Hiding from bob that carol can read the name.
    let mut r = base.clone();
    r.recipients.retain(|d| d.username != "carol");
    assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
    // The server hands bob carol's wrapped key.
    let mut r = base.clone();
    r.wrapped_key = s.for_reader("carol").unwrap().wrapped_key;
    assert_eq!(open_as_bob(&r), Err(CryptoError::KeyDigestMismatch));
    // Signed by carol (a member), checked against alice, the claimed sealer.
    let m = members();
    let pubs: Vec<(&str, &PublicKey)> = m.iter().map(|(u, k)| (*u, k.public_key())).collect();
    let by_carol = seal_name(&carol(), CONV, 1, "secret plans", &pubs).unwrap();
    assert_eq!(
        open_as_bob(&by_carol.for_reader("bob").unwrap()),
        Err(CryptoError::BadSignature)
    );
    // A signature taken from carol's sealing and pasted onto alice's.
    let mut r = base.clone();
    r.signature = by_carol.signature.clone();
    assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
}

#[test]
fn name_rules() {
    for bad in [
        "",
        &"x".repeat(MAX_NAME_CHARS + 1),
        "tab\there",
        "bell\u{7}",
        "del\u{7f}",
        "\u{85}next line",
        " leading",
        "trailing\u{a0}",
        "\u{3000}ideographic space",
    ] {
        assert!(
            matches!(check_name(bad), Err(CryptoError::Malformed(_))),
            "{bad:?}"
        );
    }
    for good in [
        "x".repeat(MAX_NAME_CHARS),
        "é".repeat(MAX_NAME_CHARS), // 256 bytes, 128 chars
        "Ωμάδα ☕ 日本語".to_owned(),
        "inner  spaces".to_owned(),
    ] {
        check_name(&good).unwrap();
    }
}

#[test]
fn bad_names_are_refused_both_ways() {
    let m = members();
    let pubs: Vec<(&str, &PublicKey)> = m.iter().map(|(u, k)| (*u, k.public_key())).collect();
    for bad in ["", " x", "a\nb"] {
        assert!(matches!(
            seal_name(&alice(), CONV, 1, bad, &pubs),
            Err(CryptoError::Malformed(_))
        ));
    }
    assert!(matches!(
        seal_name(&alice(), CONV, 0, "ok", &pubs),
        Err(CryptoError::Malformed(_))
    ));
    // A member who bypasses seal_name's checks: validly signed, still
    // refused on open. The same for bytes that are not UTF-8.
    for plaintext in [&b" padded"[..], b"\xff\xfe"] {
        let n = [7u8; KEY_LEN];
        let iv = [9u8; IV_LEN];
        let ciphertext = aead::encrypt(&n, &iv, &[], plaintext).unwrap();
        let wrapped_key = bob().public_key().encrypt_oaep(&n).unwrap();
        let recipients = vec![
            RecipientDigest {
                username: "alice".into(),
                key_digest: [0; 32],
            },
            RecipientDigest {
                username: "bob".into(),
                key_digest: sha256(&wrapped_key),
            },
        ];
        let signed = name_signed_bytes(&CONV, 1, &iv, &ciphertext, &recipients).unwrap();
        let r = ReceivedName {
            conversation_id: CONV,
            revision: 1,
            iv,
            ciphertext,
            recipients,
            wrapped_key,
            signature: alice().sign_pss(&signed).unwrap(),
            version: SignatureVersion::V1,
        };
        assert!(
            matches!(open_as_bob(&r), Err(CryptoError::Malformed(_))),
            "{plaintext:?}"
        );
    }
}

#[test]
fn sealing_rules() {
    let (a, b) = (alice(), bob());
    assert_eq!(
        seal_name(
            &a,
            CONV,
            1,
            "x",
            &[("alice", a.public_key()), ("alice", b.public_key())]
        ),
        Err(CryptoError::DuplicateRecipient)
    );
    assert_eq!(
        seal_name(&a, CONV, 1, "x", &[("bob", b.public_key())]),
        Err(CryptoError::NotARecipient)
    );
}

#[test]
fn canonical_bytes_sort_recipients() {
    let d = |u: &str, b: u8| RecipientDigest {
        username: u.into(),
        key_digest: [b; 32],
    };
    let iv = [0xaa; IV_LEN];
    let forward = [d("Zed", 1), d("bob", 2), d("carol", 3)];
    let backward = [d("carol", 3), d("bob", 2), d("Zed", 1)];
    let got = name_signed_bytes(&CONV, 258, &iv, b"CT", &forward).unwrap();
    assert_eq!(
        got,
        name_signed_bytes(&CONV, 258, &iv, b"CT", &backward).unwrap()
    );
    let mut want = Vec::new();
    let mut field = |v: &[u8]| {
        want.extend_from_slice(&u32::try_from(v.len()).unwrap().to_be_bytes());
        want.extend_from_slice(v);
    };
    field(b"nanochat/v1 conversation name");
    field(b"6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f");
    field(&[0, 0, 0, 0, 0, 0, 1, 2]);
    field(&iv);
    field(b"CT");
    want.extend_from_slice(&3u32.to_be_bytes());
    for (u, b) in [("Zed", 1u8), ("bob", 2), ("carol", 3)] {
        want.extend_from_slice(&u32::try_from(u.len()).unwrap().to_be_bytes());
        want.extend_from_slice(u.as_bytes());
        want.extend_from_slice(&32u32.to_be_bytes());
        want.extend_from_slice(&[b; 32]);
    }
    assert_eq!(got, want);

    assert_eq!(
        name_signed_bytes(&CONV, 1, &iv, b"", &[d("x", 0), d("x", 1)]),
        Err(CryptoError::DuplicateRecipient)
    );
    for bad in [&[][..], &[d("", 0)][..]] {
        assert!(matches!(
            name_signed_bytes(&CONV, 1, &iv, b"", bad),
            Err(CryptoError::Malformed(_))
        ));
    }
    assert!(matches!(
        name_signed_bytes(&CONV, 0, &iv, b"", &forward),
        Err(CryptoError::Malformed(_))
    ));
}

#[test]
fn debug_hides_the_ciphertext() {
    let (s, _) = sealed("quiet");
    let r = s.for_reader("bob").unwrap();
    let shown = format!("{s:?} {r:?}");
    assert!(shown.contains("ciphertext_len"), "{shown}");
    assert!(!shown.contains(&format!("{:?}", s.ciphertext)), "{shown}");
    assert!(!shown.contains(&format!("{:?}", r.wrapped_key)), "{shown}");
}
