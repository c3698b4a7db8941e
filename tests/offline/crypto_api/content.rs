//! Message content: sealing, opening, recipients and tampering.

use super::*;

pub(crate) fn members() -> Vec<(String, PrivateKey)> {
    vec![
        ("alice".to_owned(), alice()),
        ("bob".to_owned(), bob()),
        ("carol".to_owned(), carol()),
    ]
}

#[test]
fn message_round_trip_with_attachment() {
    let m = members();
    let pubs: Vec<(&str, &PublicKey)> = m
        .iter()
        .map(|(u, k)| (u.as_str(), k.public_key()))
        .collect();
    let content = MessageContent {
        text: Some("hello ✓".into()),
        file_name: Some("a.txt".into()),
        file_type: Some("text/plain".into()),
    };
    let json = content.to_json_bytes().unwrap();
    assert_eq!(
        json,
        r#"{"text":"hello ✓","file_name":"a.txt","file_type":"text/plain"}"#.as_bytes()
    );
    assert_eq!(MessageContent::default().to_json_bytes().unwrap(), b"{}");
    let conv = Uuid::from_u128(1);
    let msg_id = Uuid::from_u128(2);
    let sealed = seal_message(&alice(), conv, msg_id, &json, Some(b"file bytes"), &pubs).unwrap();
    assert_eq!(
        sealed
            .recipients
            .iter()
            .map(|r| r.username.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob", "carol"]
    );
    sealed.verify_signature(alice().public_key()).unwrap();
    for (user, key) in &m {
        let received = sealed.for_reader(user).unwrap();
        let opened = open_message(&received, user, key, alice().public_key()).unwrap();
        assert_eq!(
            MessageContent::from_json_bytes(&opened.content).unwrap(),
            content
        );
        let att = sealed.attachment.as_ref().unwrap();
        let digest = received.attachment_digest.unwrap();
        assert_eq!(
            opened.content_key.open_attachment(att, &digest).unwrap(),
            b"file bytes"
        );
        let mut bad = att.clone();
        flip(&mut bad.data, 0);
        assert_eq!(
            opened.content_key.open_attachment(&bad, &digest),
            Err(CryptoError::AttachmentMismatch)
        );
        let mut bad_iv = att.clone();
        flip(&mut bad_iv.iv, 0);
        assert_eq!(
            opened.content_key.open_attachment(&bad_iv, &digest),
            Err(CryptoError::Decrypt)
        );
    }
    // Not a member.
    assert_eq!(
        sealed.for_reader("dave").unwrap_err(),
        CryptoError::NotARecipient
    );
    let received = sealed.for_reader("bob").unwrap();
    assert_eq!(
        open_message(&received, "dave", &dave(), alice().public_key()).unwrap_err(),
        CryptoError::NotARecipient
    );
    // Wrong sender key.
    assert_eq!(
        open_message(&received, "bob", &bob(), carol().public_key()).unwrap_err(),
        CryptoError::BadSignature
    );
    // The server hands bob carol's wrapped key: digest mismatch.
    let mut swapped = received.clone();
    swapped.wrapped_key = sealed.recipients[2].wrapped_key.clone();
    assert_eq!(
        open_message(&swapped, "bob", &bob(), alice().public_key()).unwrap_err(),
        CryptoError::KeyDigestMismatch
    );
    // Edit: fresh C, same id; the old signature does not cover the new content.
    let edited = seal_message(&alice(), conv, msg_id, b"{}", None, &pubs).unwrap();
    let mut mixed = edited.for_reader("bob").unwrap();
    mixed.signature = sealed.signature.clone();
    assert_eq!(
        open_message(&mixed, "bob", &bob(), alice().public_key()).unwrap_err(),
        CryptoError::BadSignature
    );
}

#[test]
fn message_sealing_rules() {
    let a = alice();
    let b = bob();
    let conv = Uuid::from_u128(1);
    // duplicate usernames
    assert_eq!(
        seal_message(
            &a,
            conv,
            conv,
            b"x",
            None,
            &[("alice", a.public_key()), ("alice", b.public_key())]
        )
        .unwrap_err(),
        CryptoError::DuplicateRecipient
    );
    // the sender's own key must be among the members
    assert_eq!(
        seal_message(&a, conv, conv, b"x", None, &[("bob", b.public_key())]).unwrap_err(),
        CryptoError::NotARecipient
    );
    let d = |u: &str| RecipientDigest {
        username: u.into(),
        key_digest: [0; 32],
    };
    assert_eq!(
        message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &[d("x"), d("x")]).unwrap_err(),
        CryptoError::DuplicateRecipient
    );
    assert!(message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &[]).is_err());
    assert!(message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &[d("")]).is_err());
    // Order of the input list does not matter.
    assert_eq!(
        message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &[d("b"), d("a")]).unwrap(),
        message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &[d("a"), d("b")]).unwrap()
    );
}

#[test]
fn message_signed_bytes_layout() {
    let conv = Uuid::parse_str("00112233-4455-6677-8899-AABBCCDDEEFF").unwrap();
    let id = Uuid::from_u128(0xfe);
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
    let got =
        message_signed_bytes(&conv, &id, &[0xaa; 12], b"CT", Some(&[0xdd; 32]), &recips).unwrap();
    let mut want = Vec::new();
    let mut field = |v: &[u8]| {
        want.extend_from_slice(&(v.len() as u32).to_be_bytes());
        want.extend_from_slice(v);
    };
    field(b"nanochat/v1 message");
    field(b"00112233-4455-6677-8899-aabbccddeeff");
    field(b"00000000-0000-0000-0000-0000000000fe");
    field(&[0xaa; 12]);
    field(b"CT");
    field(&[0xdd; 32]);
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
    // No attachment: empty field.
    let none = message_signed_bytes(&conv, &id, &[0xaa; 12], b"CT", None, &recips).unwrap();
    assert_eq!(none.len(), got.len() - 32);
}

#[test]
fn message_tampering_is_rejected() {
    let m = members();
    let pubs: Vec<(&str, &PublicKey)> = m
        .iter()
        .map(|(u, k)| (u.as_str(), k.public_key()))
        .collect();
    let sealed = seal_message(
        &alice(),
        Uuid::from_u128(10),
        Uuid::from_u128(11),
        &[0x33; 150],
        Some(&[0x44; 50]),
        &pubs,
    )
    .unwrap();
    let base = sealed.for_reader("bob").unwrap();
    let (bob, sender) = (bob(), alice().public_key().clone());
    let rejects =
        |r: &nanochat::crypto::ReceivedMessage| open_message(r, "bob", &bob, &sender).is_err();
    assert!(!rejects(&base));
    for i in 0..12 {
        let mut r = base.clone();
        flip(&mut r.content_iv, i);
        assert!(rejects(&r), "iv {i}");
    }
    for i in positions(base.content.len()) {
        let mut r = base.clone();
        flip(&mut r.content, i);
        assert!(rejects(&r), "content {i}");
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
            open_message(&r, "bob", &bob, &sender).unwrap_err(),
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
    for i in positions(32) {
        let mut r = base.clone();
        flip(r.attachment_digest.as_mut().unwrap(), i);
        assert!(rejects(&r), "attachment digest {i}");
    }
    let mut r = base.clone();
    r.attachment_digest = None;
    assert!(rejects(&r), "attachment removed");
    let mut r = base.clone();
    r.message_id = Uuid::from_u128(12);
    assert!(rejects(&r), "message id");
    let mut r = base.clone();
    r.conversation_id = Uuid::from_u128(12);
    assert!(rejects(&r), "conversation id");
}
