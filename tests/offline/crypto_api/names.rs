//! Sealed conversation names: sealing, opening and the name rules.

use super::content::members;
use super::*;

#[test]
fn name_round_trip_and_rules() {
    let m = members();
    let pubs: Vec<(&str, &PublicKey)> = m
        .iter()
        .map(|(u, k)| (u.as_str(), k.public_key()))
        .collect();
    let conv = Uuid::from_u128(1);
    let sealed = seal_name(&bob(), conv, 1, "Ωμάδα ☕", &pubs).unwrap();
    assert_eq!(
        sealed
            .recipients
            .iter()
            .map(|r| r.username.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob", "carol"]
    );
    sealed.verify_signature(bob().public_key()).unwrap();
    assert_eq!(
        sealed.verify_signature(alice().public_key()),
        Err(CryptoError::BadSignature)
    );
    for (user, key) in &m {
        let received = sealed.for_reader(user).unwrap();
        assert_eq!(
            open_name(&received, user, key, bob().public_key()).unwrap(),
            "Ωμάδα ☕"
        );
    }
    assert_eq!(
        sealed.for_reader("dave").unwrap_err(),
        CryptoError::NotARecipient
    );
    // A rename: fresh N, next revision; the old signature does not cover it.
    let renamed = seal_name(&alice(), conv, 2, "Team", &pubs).unwrap();
    let mut mixed = renamed.for_reader("carol").unwrap();
    mixed.signature = sealed.signature.clone();
    assert_eq!(
        open_name(&mixed, "carol", &carol(), bob().public_key()).unwrap_err(),
        CryptoError::BadSignature
    );
    // Rules, on both sides.
    check_name(&"é".repeat(MAX_NAME_CHARS)).unwrap();
    for bad in [
        String::new(),
        "é".repeat(MAX_NAME_CHARS + 1),
        "a\u{1b}[2J".into(),
        "trailing ".into(),
    ] {
        assert!(
            matches!(check_name(&bad), Err(CryptoError::Malformed(_))),
            "{bad:?}"
        );
        assert!(
            matches!(
                seal_name(&alice(), conv, 3, &bad, &pubs),
                Err(CryptoError::Malformed(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        seal_name(&alice(), conv, 0, "x", &pubs),
        Err(CryptoError::Malformed(_))
    ));
    assert_eq!(
        seal_name(&alice(), conv, 1, "x", &[("bob", bob().public_key())]).unwrap_err(),
        CryptoError::NotARecipient
    );
    assert_eq!(
        seal_name(
            &alice(),
            conv,
            1,
            "x",
            &[
                ("alice", alice().public_key()),
                ("alice", bob().public_key())
            ]
        )
        .unwrap_err(),
        CryptoError::DuplicateRecipient
    );
}

#[test]
fn name_signed_bytes_layout() {
    let conv = Uuid::parse_str("00112233-4455-6677-8899-AABBCCDDEEFF").unwrap();
    let recips = [
        RecipientDigest {
            username: "bob".into(),
            key_digest: [0xbb; 32],
        },
        RecipientDigest {
            username: "Zed".into(), // 'Z' (0x5a) sorts before 'b' (0x62)
            key_digest: [0x5a; 32],
        },
    ];
    let got = name_signed_bytes(&conv, 0x0102_0304_0506_0708, &[0xaa; 12], b"CT", &recips).unwrap();
    let mut want = Vec::new();
    let mut field = |v: &[u8]| {
        want.extend_from_slice(&(v.len() as u32).to_be_bytes());
        want.extend_from_slice(v);
    };
    field(b"nanochat/v1 conversation name");
    field(b"00112233-4455-6677-8899-aabbccddeeff");
    field(&[1, 2, 3, 4, 5, 6, 7, 8]);
    field(&[0xaa; 12]);
    field(b"CT");
    let head = want.len();
    want.extend_from_slice(&2u32.to_be_bytes());
    let mut field = |v: &[u8]| {
        want.extend_from_slice(&(v.len() as u32).to_be_bytes());
        want.extend_from_slice(v);
    };
    field(b"Zed");
    field(&[0x5a; 32]);
    field(b"bob");
    field(&[0xbb; 32]);
    assert_eq!(got, want);
    // The recipient list is encoded exactly as for messages.
    let message = message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &recips).unwrap();
    assert!(message.ends_with(&want[head..]));
    // Same list rules as messages, plus revisions start at 1.
    let d = |u: &str| RecipientDigest {
        username: u.into(),
        key_digest: [0; 32],
    };
    assert_eq!(
        name_signed_bytes(&conv, 1, &[0; 12], b"", &[d("x"), d("x")]).unwrap_err(),
        CryptoError::DuplicateRecipient
    );
    assert!(name_signed_bytes(&conv, 1, &[0; 12], b"", &[]).is_err());
    assert!(name_signed_bytes(&conv, 1, &[0; 12], b"", &[d("")]).is_err());
    assert!(name_signed_bytes(&conv, 0, &[0; 12], b"", &[d("x")]).is_err());
    assert_eq!(
        name_signed_bytes(&conv, 1, &[0; 12], b"", &[d("b"), d("a")]).unwrap(),
        name_signed_bytes(&conv, 1, &[0; 12], b"", &[d("a"), d("b")]).unwrap()
    );
}

#[test]
fn name_tampering_is_rejected() {
    let m = members();
    let pubs: Vec<(&str, &PublicKey)> = m
        .iter()
        .map(|(u, k)| (u.as_str(), k.public_key()))
        .collect();
    let sealed = seal_name(&alice(), Uuid::from_u128(10), 5, &"n".repeat(100), &pubs).unwrap();
    let base = sealed.for_reader("bob").unwrap();
    let (bob, sender) = (bob(), alice().public_key().clone());
    let rejects = |r: &ReceivedName| open_name(r, "bob", &bob, &sender).is_err();
    assert!(!rejects(&base));
    for i in 0..12 {
        let mut r = base.clone();
        flip(&mut r.iv, i);
        assert!(rejects(&r), "iv {i}");
    }
    for i in positions(base.ciphertext.len()) {
        let mut r = base.clone();
        flip(&mut r.ciphertext, i);
        assert!(rejects(&r), "ciphertext {i}");
    }
    for i in positions(base.signature.len()) {
        let mut r = base.clone();
        flip(&mut r.signature, i);
        assert!(rejects(&r), "sig {i}");
    }
    for i in positions(base.wrapped_key.len()) {
        let mut r = base.clone();
        flip(&mut r.wrapped_key, i);
        assert_eq!(
            open_name(&r, "bob", &bob, &sender).unwrap_err(),
            CryptoError::KeyDigestMismatch
        );
    }
    for j in 0..base.recipients.len() {
        for i in [0, 31] {
            let mut r = base.clone();
            flip(&mut r.recipients[j].key_digest, i);
            assert!(rejects(&r), "recipient {j} digest {i}");
        }
        let mut r = base.clone();
        r.recipients[j].username.push('x');
        assert!(rejects(&r), "recipient {j} name");
    }
    let mut r = base.clone();
    r.recipients.pop();
    assert!(rejects(&r), "recipient dropped");
    for bit in 0..64 {
        let mut r = base.clone();
        r.revision ^= 1 << bit;
        assert!(rejects(&r), "revision bit {bit}");
    }
    let mut r = base.clone();
    r.conversation_id = Uuid::from_u128(11);
    assert!(rejects(&r), "conversation id");
}
