//! Known-answer vectors of the crypto core, committed under
//! `conformance/vectors/` so other implementations can check byte for byte.
//!
//! Each test regenerates its file from the fixture keys and a seeded
//! ChaCha20Rng (test-only) and compares it with the committed one: any drift
//! fails. `NANOCHAT_UPDATE_VECTORS=1 cargo test --test offline crypto_vectors`
//! rewrites the files instead. Each test also checks the committed file
//! independently of the RNG (unwrap/decrypt/verify with the fixture keys),
//! so the vectors stay meaningful even if the rsa crate ever consumes
//! randomness differently.

use std::path::PathBuf;

use crate::crypto_common::*;
use nanochat::crypto::envelope::event_aad;
use nanochat::crypto::sha256;
use nanochat::crypto::{
    EncryptedPrivateKey, EventEnvelope, EventReceiver, EventSealer, KdfParams, KeyFile,
    MessageContent, PrivateKey, PublicKey, ReceivedName, RecipientDigest, RequestEnvelope,
    ResponseEnvelope, aead, message_signed_bytes, name_signed_bytes, open_message, open_name,
    seal_message_with_rng, seal_name_with_rng, seal_request_with_rng,
};
use serde_json::{Value, json};
use uuid::Uuid;

pub fn vectors_dir() -> PathBuf {
    // file!() is relative to the workspace root (the test's cwd) or absolute.
    PathBuf::from(file!())
        .parent()
        .expect("tests dir")
        .join("../../conformance/vectors")
}

/// Compares `generated` with the committed file, or rewrites it when
/// NANOCHAT_UPDATE_VECTORS=1. Returns the committed (or new) content.
pub fn check_or_update(name: &str, generated: &Value) -> Value {
    let path = vectors_dir().join(name);
    let text = serde_json::to_string_pretty(generated).expect("json") + "\n";
    if std::env::var("NANOCHAT_UPDATE_VECTORS").as_deref() == Ok("1") {
        std::fs::create_dir_all(vectors_dir()).expect("mkdir");
        std::fs::write(&path, &text).expect("write vectors");
        eprintln!("rewrote {}", path.display());
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with NANOCHAT_UPDATE_VECTORS=1 to create it",
            path.display()
        )
    });
    assert!(
        committed == text,
        "{} drifted from the implementation; if the change is intended, rerun with NANOCHAT_UPDATE_VECTORS=1 and review the diff",
        path.display()
    );
    serde_json::from_str(&committed).expect("committed vectors parse")
}

fn h(v: &Value, path: &str) -> Vec<u8> {
    let mut cur = v;
    for p in path.split('.') {
        cur = match p.parse::<usize>() {
            Ok(i) => &cur[i],
            Err(_) => &cur[p],
        };
    }
    unhex(
        cur.as_str()
            .unwrap_or_else(|| panic!("{path} not a string")),
    )
}

fn iv(v: &[u8]) -> [u8; 12] {
    v.try_into().expect("12-byte iv")
}

const RNG_NOTE: &str = "rand_chacha 0.10 ChaCha20Rng::from_seed([seed; 32]); draws in the order documented on each *_with_rng function";

#[test]
fn envelope_vectors() {
    let server = server();
    let alice = alice();
    let body = r#"{"type":"conversation.list","created_at":"2026-01-01T00:00:00Z","request_id":"00000000-0000-4000-8000-000000000001","username":"alice"}"#;
    let (env, secret) = seal_request_with_rng(
        &mut test_rng(0x11),
        server.public_key(),
        body.as_bytes(),
        Some(&alice),
    )
    .unwrap();
    let resp_body = r#"{"type":"conversation.list","request_id":"00000000-0000-4000-8000-000000000001","payload":[]}"#;
    let resp = secret
        .response_key()
        .seal_with_rng(&mut test_rng(0x22), resp_body.as_bytes())
        .unwrap();
    let mut sealer = EventSealer::new(secret.event_key());
    let mut rng = test_rng(0x33);
    let events: Vec<(String, EventEnvelope)> = [
        "{\"type\":\"event.message.created\",\"seq\":1}",
        "{\"type\":\"event.message.deleted\",\"seq\":2}",
    ]
    .iter()
    .map(|b| {
        (
            b.to_string(),
            sealer.seal_with_rng(&mut rng, b.as_bytes()).unwrap(),
        )
    })
    .collect();
    let generated = json!({
        "description": "Request envelope (RSA-OAEP-SHA256 wrap of K under the server key, AES-256-GCM body, RSA-PSS-SHA256 signature over key||iv||data), response under K_resp, events under K_events with AAD. See README.md.",
        "rng": RNG_NOTE,
        "server_key": "conformance/fixtures/keys/server-3072.pem",
        "sender_key": "conformance/fixtures/keys/alice-3072.pem",
        "request": {
            "rng_seed": "11",
            "body": body,
            "k": hex(secret.expose_key()),
            "iv": hex(&env.iv),
            "key": hex(&env.key),
            "data": hex(&env.data),
            "signed_bytes_sha256": hex(&sha256(&env.signed_bytes())),
            "signature": hex(env.signature.as_deref().unwrap()),
        },
        "response": {
            "rng_seed": "22",
            "hkdf_info": "nanochat/v1 response",
            "k_resp": hex(secret.response_key().expose_key()),
            "body": resp_body,
            "iv": hex(&resp.iv),
            "data": hex(&resp.data),
        },
        "events": {
            "rng_seed": "33",
            "hkdf_info": "nanochat/v1 events",
            "k_events": hex(secret.event_key().expose_key()),
            "items": events.iter().map(|(b, e)| json!({
                "seq": e.seq,
                "aad": hex(&event_aad(e.seq)),
                "body": b,
                "iv": hex(&e.iv),
                "data": hex(&e.data),
            })).collect::<Vec<_>>(),
        },
    });
    let v = check_or_update("envelope.json", &generated);

    // RNG-independent checks on the committed file.
    let env = RequestEnvelope::from_parts(
        h(&v, "request.key"),
        &h(&v, "request.iv"),
        h(&v, "request.data"),
        Some(h(&v, "request.signature")),
    )
    .unwrap();
    assert_eq!(
        &**server.decrypt_oaep(&env.key).unwrap(),
        h(&v, "request.k").as_slice()
    );
    let opened = env.open(&server).unwrap();
    assert_eq!(
        opened.body,
        v["request"]["body"].as_str().unwrap().as_bytes()
    );
    env.verify_signature(alice.public_key()).unwrap();
    assert_eq!(
        sha256(&env.signed_bytes()).to_vec(),
        h(&v, "request.signed_bytes_sha256")
    );
    let rk = opened.secret.response_key();
    assert_eq!(rk.expose_key().to_vec(), h(&v, "response.k_resp"));
    let resp = ResponseEnvelope::from_parts(&h(&v, "response.iv"), h(&v, "response.data")).unwrap();
    assert_eq!(
        rk.open(&resp).unwrap(),
        v["response"]["body"].as_str().unwrap().as_bytes()
    );
    let ek = opened.secret.event_key();
    assert_eq!(ek.expose_key().to_vec(), h(&v, "events.k_events"));
    let mut rx = EventReceiver::new(ek);
    for item in v["events"]["items"].as_array().unwrap() {
        let seq = item["seq"].as_u64().unwrap();
        let e = EventEnvelope::from_parts(
            seq,
            &unhex(item["iv"].as_str().unwrap()),
            unhex(item["data"].as_str().unwrap()),
        )
        .unwrap();
        assert_eq!(
            rx.open(&e).unwrap(),
            item["body"].as_str().unwrap().as_bytes()
        );
        // Plain AES-GCM with the documented AAD gives the same.
        let k: [u8; 32] = h(&v, "events.k_events").try_into().unwrap();
        assert_eq!(unhex(item["aad"].as_str().unwrap()), event_aad(seq));
        assert_eq!(
            aead::decrypt(&k, &e.iv, &event_aad(seq), &e.data).unwrap(),
            item["body"].as_str().unwrap().as_bytes()
        );
    }
}

#[test]
fn content_vectors() {
    let keys: Vec<(&str, PrivateKey, &str)> = vec![
        ("alice", alice(), "alice-3072.pem"),
        ("bob", bob(), "bob-3072.pem"),
        ("dave", dave(), "dave-2048.pem"),
        ("erin", erin(), "erin-4096.pem"),
    ];
    let members: Vec<(&str, &PublicKey)> =
        keys.iter().map(|(u, k, _)| (*u, k.public_key())).collect();
    let conv = Uuid::parse_str("6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f").unwrap();
    let msg = Uuid::parse_str("0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d").unwrap();
    let content = MessageContent {
        text: Some("Hello, Bob! Here is the file.".into()),
        file_name: Some("notes.txt".into()),
        file_type: Some("text/plain".into()),
    }
    .to_json_bytes()
    .unwrap();
    let attachment = b"line 1\nline 2\n";
    let sealed = seal_message_with_rng(
        &mut test_rng(0x44),
        &alice(),
        conv,
        msg,
        &content,
        Some(attachment),
        &members,
    )
    .unwrap();
    let bob_view = sealed.for_reader("bob").unwrap();
    let opened = open_message(&bob_view, "bob", &bob(), alice().public_key()).unwrap();
    let att = sealed.attachment.as_ref().unwrap();
    let generated = json!({
        "description": "End-to-end message content: C wraps (RSA-OAEP-SHA256) per member, content and attachment under C (AES-256-GCM), RSA-PSS-SHA256 signature over the canonical signed bytes. See README.md.",
        "rng": RNG_NOTE,
        "rng_seed": "44",
        "sender": "alice",
        "keys": keys.iter().map(|(u, _, f)| json!({"username": u, "key": format!("conformance/fixtures/keys/{f}")})).collect::<Vec<_>>(),
        "conversation_id": conv.to_string(),
        "message_id": msg.to_string(),
        "content_plaintext": String::from_utf8(content.clone()).unwrap(),
        "c": hex(opened.content_key.expose_key()),
        "content_iv": hex(&sealed.content_iv),
        "content": hex(&sealed.content),
        "attachment_plaintext": hex(attachment),
        "attachment_iv": hex(&att.iv),
        "attachment": hex(&att.data),
        "attachment_digest": hex(&att.digest()),
        "recipients": sealed.recipients.iter().map(|r| json!({
            "username": r.username,
            "wrapped_key": hex(&r.wrapped_key),
            "key_digest": hex(&r.digest().key_digest),
        })).collect::<Vec<_>>(),
        "signed_bytes": hex(&sealed.signed_bytes().unwrap()),
        "signature": hex(&sealed.signature),
    });
    let v = check_or_update("content.json", &generated);

    // RNG-independent checks.
    let c: [u8; 32] = h(&v, "c").try_into().unwrap();
    let digests: Vec<RecipientDigest> = v["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let wrapped = unhex(r["wrapped_key"].as_str().unwrap());
            let digest = unhex(r["key_digest"].as_str().unwrap());
            assert_eq!(sha256(&wrapped).to_vec(), digest);
            RecipientDigest {
                username: r["username"].as_str().unwrap().into(),
                key_digest: digest.try_into().unwrap(),
            }
        })
        .collect();
    let conv = Uuid::parse_str(v["conversation_id"].as_str().unwrap()).unwrap();
    let msg = Uuid::parse_str(v["message_id"].as_str().unwrap()).unwrap();
    let content_iv = iv(&h(&v, "content_iv"));
    let signed = message_signed_bytes(
        &conv,
        &msg,
        &content_iv,
        &h(&v, "content"),
        Some(&sha256(&h(&v, "attachment"))),
        &digests,
    )
    .unwrap();
    assert_eq!(signed, h(&v, "signed_bytes"));
    alice()
        .public_key()
        .verify_pss(&signed, &h(&v, "signature"))
        .unwrap();
    assert_eq!(
        aead::decrypt(&c, &content_iv, &[], &h(&v, "content")).unwrap(),
        v["content_plaintext"].as_str().unwrap().as_bytes()
    );
    assert_eq!(
        aead::decrypt(&c, &iv(&h(&v, "attachment_iv")), &[], &h(&v, "attachment")).unwrap(),
        h(&v, "attachment_plaintext")
    );
    for (i, r) in v["recipients"].as_array().unwrap().iter().enumerate() {
        let user = r["username"].as_str().unwrap();
        let key = &keys.iter().find(|(u, _, _)| *u == user).unwrap().1;
        let wrapped = unhex(r["wrapped_key"].as_str().unwrap());
        assert_eq!(&**key.decrypt_oaep(&wrapped).unwrap(), &c);
        let received = nanochat::crypto::ReceivedMessage {
            conversation_id: conv,
            message_id: msg,
            content_iv,
            content: h(&v, "content"),
            attachment_digest: Some(h(&v, "attachment_digest").try_into().unwrap()),
            recipients: digests.clone(),
            wrapped_key: wrapped,
            signature: h(&v, "signature"),
            version: nanochat::crypto::SignatureVersion::V1,
        };
        let opened = open_message(&received, user, key, alice().public_key()).unwrap();
        assert_eq!(opened.content_key.expose_key(), &c, "recipient {i}");
    }
}

#[test]
fn name_vectors() {
    let keys: Vec<(&str, PrivateKey, &str)> = vec![
        ("alice", alice(), "alice-3072.pem"),
        ("bob", bob(), "bob-3072.pem"),
        ("dave", dave(), "dave-2048.pem"),
        ("erin", erin(), "erin-4096.pem"),
    ];
    // Listed out of order on purpose: sealing sorts by username bytes.
    let members: Vec<(&str, &PublicKey)> = keys
        .iter()
        .rev()
        .map(|(u, k, _)| (*u, k.public_key()))
        .collect();
    let conv = Uuid::parse_str("6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f").unwrap();
    let revision = 3;
    let name = "Café ☕ planning";
    let sealed = seal_name_with_rng(
        &mut test_rng(0x77),
        &alice(),
        conv,
        revision,
        name,
        &members,
    )
    .unwrap();
    let bob_view = sealed.for_reader("bob").unwrap();
    assert_eq!(
        open_name(&bob_view, "bob", &bob(), alice().public_key()).unwrap(),
        name
    );
    let n = bob().decrypt_oaep(&bob_view.wrapped_key).unwrap();
    let generated = json!({
        "description": "End-to-end conversation name: N wraps (RSA-OAEP-SHA256) per member, the UTF-8 name under N (AES-256-GCM), RSA-PSS-SHA256 signature over the canonical signed bytes (conversation id and revision included). See README.md.",
        "rng": RNG_NOTE,
        "rng_seed": "77",
        "sealer": "alice",
        "keys": keys.iter().map(|(u, _, f)| json!({"username": u, "key": format!("conformance/fixtures/keys/{f}")})).collect::<Vec<_>>(),
        "conversation_id": conv.to_string(),
        "revision": revision,
        "name": name,
        "n": hex(&n),
        "iv": hex(&sealed.iv),
        "ciphertext": hex(&sealed.ciphertext),
        "recipients": sealed.recipients.iter().map(|r| json!({
            "username": r.username,
            "wrapped_key": hex(&r.wrapped_key),
            "key_digest": hex(&r.digest().key_digest),
        })).collect::<Vec<_>>(),
        "signed_bytes": hex(&sealed.signed_bytes().unwrap()),
        "signature": hex(&sealed.signature),
    });
    let v = check_or_update("name.json", &generated);

    // RNG-independent checks.
    let n: [u8; 32] = h(&v, "n").try_into().unwrap();
    let digests: Vec<RecipientDigest> = v["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let wrapped = unhex(r["wrapped_key"].as_str().unwrap());
            let digest = unhex(r["key_digest"].as_str().unwrap());
            assert_eq!(sha256(&wrapped).to_vec(), digest);
            RecipientDigest {
                username: r["username"].as_str().unwrap().into(),
                key_digest: digest.try_into().unwrap(),
            }
        })
        .collect();
    let conv = Uuid::parse_str(v["conversation_id"].as_str().unwrap()).unwrap();
    let revision = v["revision"].as_u64().unwrap();
    let name_iv = iv(&h(&v, "iv"));
    let signed =
        name_signed_bytes(&conv, revision, &name_iv, &h(&v, "ciphertext"), &digests).unwrap();
    assert_eq!(signed, h(&v, "signed_bytes"));
    alice()
        .public_key()
        .verify_pss(&signed, &h(&v, "signature"))
        .unwrap();
    assert_eq!(
        aead::decrypt(&n, &name_iv, &[], &h(&v, "ciphertext")).unwrap(),
        v["name"].as_str().unwrap().as_bytes()
    );
    for r in v["recipients"].as_array().unwrap() {
        let user = r["username"].as_str().unwrap();
        let key = &keys.iter().find(|(u, _, _)| *u == user).unwrap().1;
        let wrapped = unhex(r["wrapped_key"].as_str().unwrap());
        assert_eq!(&**key.decrypt_oaep(&wrapped).unwrap(), &n);
        let received = ReceivedName {
            conversation_id: conv,
            revision,
            iv: name_iv,
            ciphertext: h(&v, "ciphertext"),
            recipients: digests.clone(),
            wrapped_key: wrapped,
            signature: h(&v, "signature"),
            version: nanochat::crypto::SignatureVersion::V1,
        };
        assert_eq!(
            open_name(&received, user, key, alice().public_key()).unwrap(),
            v["name"].as_str().unwrap(),
            "recipient {user}"
        );
    }
}

const PASSWORD: &str = "correct horse battery staple";

#[test]
fn private_key_vectors() {
    let blob = EncryptedPrivateKey::encrypt_with_rng(
        &mut test_rng(0x55),
        &alice(),
        PASSWORD.as_bytes(),
        KdfParams::DEFAULT,
    )
    .unwrap();
    let argon = KdfParams::DEFAULT
        .derive_key(PASSWORD.as_bytes(), &blob.salt)
        .unwrap();
    let generated = json!({
        "description": "Password-encrypted PKCS#8 private key: Argon2id v0x13 (m_cost KiB, t_cost, p_cost, 16-byte salt, 32-byte output, no secret, no associated data) -> AES-256-GCM key; AAD \"nanochat/v1 private-key\". See README.md.",
        "rng": RNG_NOTE,
        "rng_seed": "55",
        "key": "conformance/fixtures/keys/alice-3072.pem",
        "password": PASSWORD,
        "aad": "nanochat/v1 private-key",
        "argon2id_output": hex(&*argon),
        "blob": serde_json::from_str::<Value>(&blob.to_json().unwrap()).unwrap(),
        "blob_json": blob.to_json().unwrap(),
    });
    let v = check_or_update("private_key.json", &generated);
    let committed = EncryptedPrivateKey::from_json(v["blob_json"].as_str().unwrap()).unwrap();
    assert_eq!(
        committed,
        serde_json::from_value::<EncryptedPrivateKey>(v["blob"].clone()).unwrap()
    );
    let k = committed
        .decrypt(v["password"].as_str().unwrap().as_bytes())
        .unwrap();
    assert_eq!(k.public_key(), alice().public_key());
    // The documented steps by hand.
    let argon = committed
        .params()
        .derive_key(PASSWORD.as_bytes(), &committed.salt)
        .unwrap();
    assert_eq!(argon.to_vec(), h(&v, "argon2id_output"));
    let der = aead::decrypt(
        &argon,
        &iv(&committed.iv),
        b"nanochat/v1 private-key",
        &committed.ciphertext,
    )
    .unwrap();
    assert_eq!(der, *alice().to_pkcs8_der().unwrap());
}

#[test]
fn keyfile_vectors() {
    let plain = KeyFile::new_plain("https://chat.example", "alice", &alice()).unwrap();
    let encrypted = KeyFile::new_encrypted_with_rng(
        &mut test_rng(0x66),
        "https://chat.example",
        "alice",
        &alice(),
        PASSWORD.as_bytes(),
        KdfParams::DEFAULT,
    )
    .unwrap();
    let generated = json!({
        "description": "Key files (JSON export/import). plain_json/encrypted_json are the exact bytes KeyFile::to_json writes (pretty, two-space indent). See README.md.",
        "rng": RNG_NOTE,
        "rng_seed": "66",
        "password": PASSWORD,
        "plain_json": plain.to_json().unwrap().as_str(),
        "encrypted_json": encrypted.to_json().unwrap().as_str(),
        "plain": serde_json::from_str::<Value>(&plain.to_json().unwrap()).unwrap(),
        "encrypted": serde_json::from_str::<Value>(&encrypted.to_json().unwrap()).unwrap(),
    });
    let v = check_or_update("keyfile.json", &generated);
    assert_eq!(
        serde_json::from_str::<Value>(v["plain_json"].as_str().unwrap()).unwrap(),
        v["plain"]
    );
    let plain = KeyFile::from_json(v["plain_json"].as_str().unwrap()).unwrap();
    assert_eq!(
        plain.private_key(None).unwrap().public_key(),
        alice().public_key()
    );
    let enc = KeyFile::from_json(v["encrypted_json"].as_str().unwrap()).unwrap();
    assert_eq!(
        enc.private_key(Some(v["password"].as_str().unwrap().as_bytes()))
            .unwrap()
            .public_key(),
        alice().public_key()
    );
}

/// Key history (api.yml, "Key history"): the succession bytes and both
/// signatures of a rotation, messages and names signed over the keyed bytes
/// (signature version 2), an encrypted key ring (EncryptedPrivateKey
/// version 2) and key files of version 2.
#[test]
fn key_history_vectors() {
    use nanochat::crypto::{
        KeyRing, SignatureVersion, key_succession_bytes, message_signed_bytes_as,
        name_signed_bytes_as, seal_message_keyed_with_rng, seal_name_keyed_with_rng, verify_link,
    };
    // alice rotates from her key (index 0) to dave's (index 1).
    let succession = key_succession_bytes(
        "alice",
        1,
        alice().public_key().to_spki_der(),
        dave().public_key().to_spki_der(),
    );
    let mut rng = test_rng(0x77);
    let vouch = alice().sign_pss_with_rng(&mut rng, &succession).unwrap();
    let possession = dave().sign_pss_with_rng(&mut rng, &succession).unwrap();

    // A message and a name signed by dave's key over the keyed bytes.
    let (dave_key, bob_key) = (dave(), bob());
    let members: Vec<(&str, &PublicKey)> = vec![
        ("alice", dave_key.public_key()),
        ("bob", bob_key.public_key()),
    ];
    let conv = Uuid::parse_str("6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f").unwrap();
    let msg = Uuid::parse_str("0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d").unwrap();
    let content = MessageContent {
        text: Some("Signed with my second key.".into()),
        ..Default::default()
    }
    .to_json_bytes()
    .unwrap();
    let message = seal_message_keyed_with_rng(
        &mut test_rng(0x78),
        &dave(),
        conv,
        msg,
        &content,
        None,
        &members,
    )
    .unwrap();
    let name =
        seal_name_keyed_with_rng(&mut test_rng(0x79), &dave(), conv, 2, "Plans", &members).unwrap();

    // alice's ring after the rotation, encrypted, and as key files.
    let ring = KeyRing::from_keys(vec![alice(), dave()]).unwrap();
    let blob = EncryptedPrivateKey::encrypt_ring_with_rng(
        &mut test_rng(0x7a),
        &ring,
        PASSWORD.as_bytes(),
        KdfParams::DEFAULT,
    )
    .unwrap();
    let plain_file = KeyFile::new_plain_ring("https://chat.example", "alice", &ring).unwrap();
    let encrypted_file = KeyFile::new_encrypted_ring_with_rng(
        &mut test_rng(0x7b),
        "https://chat.example",
        "alice",
        &ring,
        PASSWORD.as_bytes(),
        KdfParams::DEFAULT,
    )
    .unwrap();
    let generated = json!({
        "description": "Key history: the succession bytes of a rotation (alice, index 1, from alice-3072 to dave-2048) with the previous key's succession_signature and the new key's public_key_signature; a message and a name signed by dave-2048 over the keyed bytes (signature version 2: label and signer fingerprint first); alice's key ring [alice-3072, dave-2048] as an EncryptedPrivateKey of version 2 (AAD \"nanochat/v1 private-key ring\", ring bytes: u32 count, then u32 length + PKCS#8 DER per key, oldest first) and as key files of version 2. See api.yml, \"Key history\".",
        "rng": RNG_NOTE,
        "succession": {
            "rng_seed": "77",
            "username": "alice",
            "index": 1,
            "previous_key": "conformance/fixtures/keys/alice-3072.pem",
            "new_key": "conformance/fixtures/keys/dave-2048.pem",
            "bytes": hex(&succession),
            "succession_signature": hex(&vouch),
            "public_key_signature": hex(&possession),
        },
        "keyed_message": {
            "rng_seed": "78",
            "signer": "conformance/fixtures/keys/dave-2048.pem",
            "signer_fingerprint": hex(dave().fingerprint().as_bytes()),
            "readers": ["alice (dave-2048)", "bob (bob-3072)"],
            "conversation_id": conv.to_string(),
            "message_id": msg.to_string(),
            "content_iv": hex(&message.content_iv),
            "content": hex(&message.content),
            "recipients": message.recipients.iter().map(|r| json!({
                "username": r.username,
                "wrapped_key": hex(&r.wrapped_key),
                "key_digest": hex(&r.digest().key_digest),
            })).collect::<Vec<_>>(),
            "signed_bytes": hex(&message.signed_bytes().unwrap()),
            "signature": hex(&message.signature),
        },
        "keyed_name": {
            "rng_seed": "79",
            "signer": "conformance/fixtures/keys/dave-2048.pem",
            "conversation_id": conv.to_string(),
            "revision": 2,
            "name": "Plans",
            "iv": hex(&name.iv),
            "ciphertext": hex(&name.ciphertext),
            "recipients": name.recipients.iter().map(|r| json!({
                "username": r.username,
                "wrapped_key": hex(&r.wrapped_key),
                "key_digest": hex(&r.digest().key_digest),
            })).collect::<Vec<_>>(),
            "signed_bytes": hex(&name.signed_bytes().unwrap()),
            "signature": hex(&name.signature),
        },
        "key_ring": {
            "rng_seed": "7a",
            "keys": ["conformance/fixtures/keys/alice-3072.pem", "conformance/fixtures/keys/dave-2048.pem"],
            "password": PASSWORD,
            "ring_bytes": hex(&ring.to_bytes().unwrap()),
            "blob_json": blob.to_json().unwrap(),
        },
        "key_files": {
            "rng_seed": "7b",
            "password": PASSWORD,
            "plain_json": plain_file.to_json().unwrap().as_str(),
            "encrypted_json": encrypted_file.to_json().unwrap().as_str(),
        },
    });
    let v = check_or_update("key_history.json", &generated);

    // RNG-independent checks.
    let bytes = h(&v, "succession.bytes");
    assert_eq!(bytes, succession);
    assert_eq!(&bytes[..30], b"\0\0\0\x1ananochat/v1 key succession");
    verify_link(
        "alice",
        1,
        alice().public_key(),
        dave().public_key(),
        &h(&v, "succession.succession_signature"),
        &h(&v, "succession.public_key_signature"),
    )
    .unwrap();
    let signer = SignatureVersion::Keyed(dave().fingerprint());
    let digests = |section: &str| -> Vec<RecipientDigest> {
        v[section]["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| RecipientDigest {
                username: r["username"].as_str().unwrap().into(),
                key_digest: unhex(r["key_digest"].as_str().unwrap()).try_into().unwrap(),
            })
            .collect()
    };
    let signed = message_signed_bytes_as(
        signer,
        &conv,
        &msg,
        &iv(&h(&v, "keyed_message.content_iv")),
        &h(&v, "keyed_message.content"),
        None,
        &digests("keyed_message"),
    )
    .unwrap();
    assert_eq!(signed, h(&v, "keyed_message.signed_bytes"));
    assert_eq!(&signed[4..29], b"nanochat/v1 keyed message");
    assert_eq!(&signed[33..65], dave().fingerprint().as_bytes());
    dave()
        .public_key()
        .verify_pss(&signed, &h(&v, "keyed_message.signature"))
        .unwrap();
    // The version 1 bytes of the same message do not verify: the label and
    // the fingerprint are signed.
    let v1 = message_signed_bytes(
        &conv,
        &msg,
        &iv(&h(&v, "keyed_message.content_iv")),
        &h(&v, "keyed_message.content"),
        None,
        &digests("keyed_message"),
    )
    .unwrap();
    assert!(
        dave()
            .public_key()
            .verify_pss(&v1, &h(&v, "keyed_message.signature"))
            .is_err()
    );
    let signed = name_signed_bytes_as(
        signer,
        &conv,
        2,
        &iv(&h(&v, "keyed_name.iv")),
        &h(&v, "keyed_name.ciphertext"),
        &digests("keyed_name"),
    )
    .unwrap();
    assert_eq!(signed, h(&v, "keyed_name.signed_bytes"));
    dave()
        .public_key()
        .verify_pss(&signed, &h(&v, "keyed_name.signature"))
        .unwrap();
    // bob opens the keyed name with his key.
    let bob_name = v["keyed_name"]["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["username"] == "bob")
        .unwrap();
    let received = ReceivedName {
        conversation_id: conv,
        revision: 2,
        iv: iv(&h(&v, "keyed_name.iv")),
        ciphertext: h(&v, "keyed_name.ciphertext"),
        recipients: digests("keyed_name"),
        wrapped_key: unhex(bob_name["wrapped_key"].as_str().unwrap()),
        signature: h(&v, "keyed_name.signature"),
        version: signer,
    };
    assert_eq!(
        open_name(&received, "bob", &bob(), dave().public_key()).unwrap(),
        "Plans"
    );
    // The ring: bytes by hand, and the blob opens to both keys.
    let ring_bytes = h(&v, "key_ring.ring_bytes");
    assert_eq!(&ring_bytes[..4], &[0, 0, 0, 2]);
    let blob =
        EncryptedPrivateKey::from_json(v["key_ring"]["blob_json"].as_str().unwrap()).unwrap();
    assert_eq!(blob.version, 2);
    let opened = blob.decrypt_ring(PASSWORD.as_bytes()).unwrap();
    assert_eq!(opened.len(), 2);
    assert_eq!(opened.current().fingerprint(), dave().fingerprint());
    assert_eq!(opened.keys()[0].fingerprint(), alice().fingerprint());
    let argon = blob
        .params()
        .derive_key(PASSWORD.as_bytes(), &blob.salt)
        .unwrap();
    let plain = aead::decrypt(
        &argon,
        &iv(&blob.iv),
        b"nanochat/v1 private-key ring",
        &blob.ciphertext,
    )
    .unwrap();
    assert_eq!(plain, ring_bytes);
    for (field, password) in [("plain_json", None), ("encrypted_json", Some(PASSWORD))] {
        let file = KeyFile::from_json(v["key_files"][field].as_str().unwrap()).unwrap();
        assert_eq!(file.version, 2);
        let ring = file.key_ring(password.map(str::as_bytes)).unwrap();
        assert_eq!(ring.len(), 2, "{field}");
        assert_eq!(ring.current().fingerprint(), dave().fingerprint());
    }
}
