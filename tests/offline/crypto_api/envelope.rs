//! Request, response and event envelopes: round trips and tampering.

use super::*;

#[test]
fn request_response_round_trip() {
    let server = server();
    let alice = alice();
    let body = br#"{"type":"conversation.list","username":"alice"}"#;
    let (env, client_secret) = seal_request(server.public_key(), body, Some(&alice)).unwrap();
    assert_eq!(env.key.len(), 384);
    assert_eq!(env.data.len(), body.len() + 16);
    let opened = env.open(&server).unwrap();
    assert_eq!(opened.body, body);
    env.verify_signature(alice.public_key()).unwrap();
    assert_eq!(
        env.verify_signature(bob().public_key()),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(opened.secret.expose_key(), client_secret.expose_key());

    // Server answers under K_resp, client opens.
    let resp = opened.secret.response_key().seal(b"{\"ok\":true}").unwrap();
    assert_eq!(
        client_secret.response_key().open(&resp).unwrap(),
        b"{\"ok\":true}"
    );
    // K_resp and K_events differ from each other and from K.
    assert_ne!(
        client_secret.response_key().expose_key(),
        client_secret.event_key().expose_key()
    );
    assert_ne!(
        client_secret.response_key().expose_key(),
        client_secret.expose_key()
    );
    // Another request's key cannot open this response.
    let (_, other) = seal_request(server.public_key(), body, None).unwrap();
    assert_eq!(other.response_key().open(&resp), Err(CryptoError::Decrypt));
    // Wrong server key.
    assert_eq!(env.open(&bob()).unwrap_err(), CryptoError::Decrypt);
}

#[test]
fn unsigned_request() {
    let (env, _) = seal_request(server().public_key(), b"sync", None).unwrap();
    assert!(env.signature.is_none());
    assert_eq!(env.open(&server()).unwrap().body, b"sync");
    assert_eq!(
        env.verify_signature(alice().public_key()),
        Err(CryptoError::MissingSignature)
    );
}

#[test]
fn request_with_2048_and_4096_server_keys() {
    for server in [dave(), erin()] {
        let (env, _) = seal_request(server.public_key(), b"b", Some(&alice())).unwrap();
        assert_eq!(env.key.len(), server.public_key().modulus_len());
        assert_eq!(env.open(&server).unwrap().body, b"b");
        env.verify_signature(alice().public_key()).unwrap();
    }
}

#[test]
fn request_tampering_is_rejected() {
    let server = server();
    let alice = alice();
    let (env, _) = seal_request(server.public_key(), &[0x42; 100], Some(&alice)).unwrap();
    let sig_ok = |e: &RequestEnvelope| e.verify_signature(alice.public_key()).is_ok();
    // key
    for i in positions(env.key.len()) {
        let mut e = env.clone();
        flip(&mut e.key, i);
        assert!(e.open(&server).is_err(), "key byte {i}");
        assert!(!sig_ok(&e), "key byte {i}");
    }
    // iv: every byte
    for i in 0..12 {
        let mut e = env.clone();
        flip(&mut e.iv, i);
        assert_eq!(e.open(&server).unwrap_err(), CryptoError::Decrypt, "iv {i}");
        assert!(!sig_ok(&e));
    }
    // data, tag included
    for i in positions(env.data.len()) {
        let mut e = env.clone();
        flip(&mut e.data, i);
        assert_eq!(
            e.open(&server).unwrap_err(),
            CryptoError::Decrypt,
            "data {i}"
        );
        assert!(!sig_ok(&e));
    }
    // signature
    let sig = env.signature.clone().unwrap();
    for i in positions(sig.len()) {
        let mut e = env.clone();
        let mut s = sig.clone();
        flip(&mut s, i);
        e.signature = Some(s);
        assert!(e.open(&server).is_ok());
        assert_eq!(
            e.verify_signature(alice.public_key()),
            Err(CryptoError::BadSignature),
            "sig {i}"
        );
    }
    // truncations
    let mut e = env.clone();
    e.data.truncate(15);
    assert!(matches!(
        e.open(&server),
        Err(CryptoError::BadLength { .. })
    ));
    let mut e = env.clone();
    e.key.pop();
    assert_eq!(e.open(&server).unwrap_err(), CryptoError::Decrypt);
    assert!(RequestEnvelope::from_parts(vec![0; 384], &[0; 11], vec![], None).is_err());
}

#[test]
fn response_tampering_is_rejected() {
    let (_, secret) = seal_request(server().public_key(), b"x", None).unwrap();
    let key = secret.response_key();
    let resp = key.seal(&[9u8; 300]).unwrap();
    for i in 0..12 {
        let mut r = resp.clone();
        flip(&mut r.iv, i);
        assert_eq!(key.open(&r), Err(CryptoError::Decrypt));
    }
    for i in positions(resp.data.len()) {
        let mut r = resp.clone();
        flip(&mut r.data, i);
        assert_eq!(key.open(&r), Err(CryptoError::Decrypt));
    }
    // An event key cannot open a response (different derivation).
    let as_event = EventEnvelope {
        seq: 1,
        iv: resp.iv,
        data: resp.data.clone(),
    };
    assert!(secret.event_key().open_unordered(&as_event).is_err());
    assert!(ResponseEnvelope::from_parts(&[0; 13], vec![]).is_err());
}

#[test]
fn events_are_ordered_and_bound_to_seq() {
    let (_, secret) = seal_request(server().public_key(), b"session.open", None).unwrap();
    let mut sealer = EventSealer::new(secret.event_key());
    let mut rx = EventReceiver::new(secret.event_key());
    let e1 = sealer.seal(b"one").unwrap();
    let e2 = sealer.seal(b"two").unwrap();
    let e3 = sealer.seal(b"three").unwrap();
    assert_eq!((e1.seq, e2.seq, e3.seq), (1, 2, 3));
    assert_eq!(rx.open(&e1).unwrap(), b"one");
    assert_eq!(
        rx.open(&e1).unwrap_err(),
        CryptoError::Replay { last: 1, got: 1 }
    );
    // gap is fine, going back is not
    assert_eq!(rx.open(&e3).unwrap(), b"three");
    assert_eq!(
        rx.open(&e2).unwrap_err(),
        CryptoError::Replay { last: 3, got: 2 }
    );
    // A relabelled seq fails authentication and does not advance the state.
    let mut forged = sealer.seal(b"four").unwrap();
    forged.seq = 10;
    assert_eq!(rx.open(&forged).unwrap_err(), CryptoError::Decrypt);
    assert_eq!(rx.last_seq(), Some(3));
    forged.seq = 4;
    assert_eq!(rx.open(&forged).unwrap(), b"four");
    assert_eq!(event_aad(0x0102).len(), "nanochat/v1 event".len() + 8);
    assert!(event_aad(0x0102).ends_with(&[0, 0, 0, 0, 0, 0, 1, 2]));
}

#[test]
fn event_tampering_is_rejected() {
    let (_, secret) = seal_request(server().public_key(), b"x", None).unwrap();
    let key: EventKey = secret.event_key();
    let ev = key.seal_with_rng(&mut test_rng(3), 7, &[1u8; 200]).unwrap();
    for i in 0..12 {
        let mut e = ev.clone();
        flip(&mut e.iv, i);
        assert_eq!(key.open_unordered(&e), Err(CryptoError::Decrypt));
    }
    for i in positions(ev.data.len()) {
        let mut e = ev.clone();
        flip(&mut e.data, i);
        assert_eq!(key.open_unordered(&e), Err(CryptoError::Decrypt));
    }
    for bit in 0..64 {
        let mut e = ev.clone();
        e.seq ^= 1 << bit;
        assert_eq!(key.open_unordered(&e), Err(CryptoError::Decrypt));
    }
    assert_eq!(key.open_unordered(&ev).unwrap(), vec![1u8; 200]);
}
