//! The rules api.yml states where an implementation written from the text
//! alone found it ambiguous (issue 9, "The spec must say what the suite
//! checks"): each test builds what the text says, byte for byte where it
//! matters, rather than calling the crate's own helpers, so the text and
//! the server are checked against each other.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Parser;
use nanochat::bodies::Request;
use nanochat::client::http::ClientInfo;
use nanochat::client::{Bodies, Session, Socket};
use nanochat::crypto::{MessageContent, PrivateKey, ResponseEnvelope};
use nanochat::models::{
    BaseUser, CompleteUser, CreateConversation, EncryptedBody, ListMessages, SyncUser, UpdateUser,
};
use nanochat::wire::Secret;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::messages::sealed;
use crate::support::{TestServer, code, complete, duo, key};

/// The rotation proof's bytes exactly as the info description spells them,
/// with `width`-byte big-endian length prefixes.
fn succession_bytes(width: usize, username: &str, previous: &[u8], spki: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for field in [
        b"nanochat/v1 key succession".as_slice(),
        username.as_bytes(),
        &1u64.to_be_bytes(),
        previous,
        spki,
    ] {
        let length = (field.len() as u64).to_be_bytes();
        out.extend_from_slice(&length[8 - width..]);
        out.extend_from_slice(field);
    }
    out
}

#[tokio::test]
async fn key_succession_proofs_use_four_byte_big_endian_lengths() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let old_key = key("alice");
    let new_key = key("erin");
    let previous = old_key.public_key().to_spki_der().to_vec();
    let spki = new_key.public_key().to_spki_der().to_vec();
    let start = succession_bytes(4, "alice", &previous, &spki);
    let mut expected_start = vec![0, 0, 0, 26];
    expected_start.extend_from_slice(b"nanochat/v1 key succession");
    expected_start.extend_from_slice(&[0, 0, 0, 5]);
    expected_start.extend_from_slice(b"alice");
    expected_start.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert!(start.starts_with(&expected_start), "the text's example");
    assert_eq!(
        start,
        nanochat::crypto::key_succession_bytes("alice", 1, &previous, &spki)
    );

    // Any other prefix width is a different message: bad_signature.
    let rotation = |bytes: &[u8]| UpdateUser {
        public_key: Some(spki.clone().into()),
        succession_signature: Some(old_key.sign_pss(bytes).unwrap().into()),
        public_key_signature: Some(new_key.sign_pss(bytes).unwrap().into()),
        ..Default::default()
    };
    for width in [2, 8] {
        let refused = alice
            .user_update(rotation(&succession_bytes(
                width, "alice", &previous, &spki,
            )))
            .await;
        assert_eq!(code(refused), "bad_signature", "{width}-byte lengths");
    }
    let rotated = alice
        .user_update(rotation(&start))
        .await
        .expect("proofs over 4-byte lengths");
    assert_eq!(rotated.public_key.as_slice(), spki.as_slice());
}

/// `key = Argon2id(password, salt, m, t, p)` of the given Argon2 version to
/// 32 bytes, with no secret and no associated data.
fn argon2id(version: Version, password: &[u8], salt: &[u8]) -> [u8; 32] {
    let params = Params::new(19_456, 2, 1, Some(32)).unwrap();
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, version, params)
        .hash_password_into(password, salt, &mut key)
        .unwrap();
    key
}

/// An `EncryptedPrivateKey` built from the text of api.yml alone.
fn blob_from_the_text(
    version: Version,
    private_key: &PrivateKey,
    password: &[u8],
) -> nanochat::models::EncryptedPrivateKey {
    let salt = [7u8; 16];
    let iv = [9u8; 12];
    let key = argon2id(version, password, &salt);
    let der = private_key.to_pkcs8_der().unwrap();
    let ciphertext = aes_gcm::Aes256Gcm::new((&key).into())
        .encrypt(
            (&iv).into(),
            Payload {
                msg: &der,
                aad: b"nanochat/v1 private-key",
            },
        )
        .unwrap();
    serde_json::from_value(serde_json::json!({
        "version": 1,
        "kdf": "argon2id",
        "m_cost": 19456,
        "t_cost": 2,
        "p_cost": 1,
        "salt": STANDARD.encode(salt),
        "iv": STANDARD.encode(iv),
        "ciphertext": STANDARD.encode(ciphertext),
    }))
    .unwrap()
}

fn decrypt_with_the_crate(
    blob: &nanochat::models::EncryptedPrivateKey,
    password: &[u8],
) -> Option<PrivateKey> {
    let json = serde_json::to_string(blob).unwrap();
    let blob = nanochat::crypto::EncryptedPrivateKey::from_json(&json).unwrap();
    blob.decrypt(password).ok()
}

#[tokio::test]
async fn encrypted_private_keys_use_argon2id_version_0x13() {
    let server = TestServer::start().await;
    let token = server.create_user("alice").await;
    let alice = server.session("alice").await;
    let blob = blob_from_the_text(Version::V0x13, &key("alice"), b"key password");
    alice
        .user_complete(CompleteUser {
            token: Secret::new(token),
            display_name: "Alice".into(),
            public_key: key("alice").public_key().to_spki_der().to_vec().into(),
            private_key: Some(blob.clone()),
            sync_password: Some(Secret::new("sync password")),
        })
        .await
        .expect("a blob built from the text is accepted");
    let device = Session::connect(&server.url, "alice", None).await.unwrap();
    let synced = device
        .user_sync(SyncUser {
            sync_password: Secret::new("sync password"),
        })
        .await
        .unwrap();
    assert_eq!(synced.private_key, blob, "stored as it is");
    let opened = decrypt_with_the_crate(&synced.private_key, b"key password")
        .expect("the client reads a 0x13 blob");
    assert_eq!(opened.fingerprint(), key("alice").fingerprint());

    // The version is not stored, so it matters: a 0x10 blob does not open.
    let old = blob_from_the_text(Version::V0x10, &key("alice"), b"key password");
    assert!(decrypt_with_the_crate(&old, b"key password").is_none());
}

#[tokio::test]
async fn completing_twice_is_invalid_token_not_conflict() {
    let server = TestServer::start().await;
    let token = server.create_user("alice").await;
    let alice = server.session("alice").await;
    complete(&alice, &token, "alice").await.unwrap();
    assert_eq!(
        code(complete(&alice, &token, "alice").await),
        "invalid_token"
    );
}

#[tokio::test]
async fn sync_answers_wrong_password_for_unknown_and_pending_users() {
    let server = TestServer::start().await;
    // carol is pending, dave completed without storing a key.
    server.create_user("carol").await;
    server.user("dave").await;
    for name in ["nobody", "carol", "dave"] {
        let device = Session::connect(&server.url, name, None).await.unwrap();
        let answer = device
            .user_sync(SyncUser {
                sync_password: Secret::new("a guess"),
            })
            .await;
        assert_eq!(code(answer), "wrong_password", "{name}");
    }
}

/// Seals any JSON as a request Body (signed by `signer` if given), posts it,
/// and returns the decrypted response Body as JSON: for Bodies the typed
/// client would never write.
async fn raw(
    session: &Session,
    signer: Option<&PrivateKey>,
    body: &serde_json::Value,
) -> serde_json::Value {
    let json = serde_json::to_vec(body).unwrap();
    let (envelope, secret) =
        nanochat::crypto::seal_request(session.server_key(), &json, signer).unwrap();
    let wire = nanochat::client::exchange::wire_request(envelope);
    let url = format!("{}/encrypted", session.http().baseurl());
    let response = reqwest::Client::new()
        .post(url)
        .json(&wire)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "an opened envelope is answered in 200"
    );
    let sealed: EncryptedBody = response.json().await.unwrap();
    let sealed = ResponseEnvelope::from_parts(&sealed.iv, sealed.data.into_vec()).unwrap();
    let plain = secret.response_key().open(&sealed).unwrap();
    serde_json::from_slice(&plain).unwrap()
}

/// A request Body for `session`'s user, fresh, as JSON.
fn request(
    session: &Session,
    body_type: &str,
    payload: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut body = json!({
        "type": body_type,
        "created_at": OffsetDateTime::now_utc().format(&Rfc3339).unwrap(),
        "request_id": Uuid::new_v4().to_string(),
        "username": session.username(),
    });
    if let Some(payload) = payload {
        body["payload"] = payload;
    }
    body
}

/// The error code of a raw response, or "ok" for a success (which must
/// then carry a payload object and no error).
fn outcome(response: &serde_json::Value) -> String {
    match response.get("error") {
        Some(error) => {
            assert!(response.get("payload").is_none(), "{response}");
            error["code"].as_str().unwrap().to_owned()
        }
        None => {
            assert!(response["payload"].is_object(), "{response}");
            "ok".into()
        }
    }
}

#[tokio::test]
async fn types_without_payload_take_none_null_or_empty() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let signer = key("alice");
    let absent = request(&alice, "conversation.list", None);
    assert_eq!(outcome(&raw(&alice, Some(&signer), &absent).await), "ok");
    for payload in [json!(null), json!({})] {
        let body = request(&alice, "conversation.list", Some(payload.clone()));
        let answer = raw(&alice, Some(&signer), &body).await;
        assert_eq!(outcome(&answer), "ok", "{payload}");
        assert_eq!(answer["payload"], json!({"items": []}));
    }
    for payload in [json!({"items": []}), json!([]), json!("x"), json!(0)] {
        let body = request(&alice, "conversation.list", Some(payload.clone()));
        let answer = raw(&alice, Some(&signer), &body).await;
        assert_eq!(outcome(&answer), "bad_request", "{payload}");
    }
    // A success whose response schema is Empty carries payload {}.
    let body = request(&alice, "user.delete", Some(json!(null)));
    let answer = raw(&alice, Some(&signer), &body).await;
    assert_eq!(outcome(&answer), "ok");
    assert_eq!(answer["payload"], json!({}));
}

#[tokio::test]
async fn session_open_anywhere_but_a_first_frame_is_bad_request() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    assert_eq!(code(alice.session_open().await), "bad_request", "over POST");
    let mut socket = Socket::open(&alice).await.unwrap();
    let again = socket.request(Request::SessionOpen).await;
    assert_eq!(code(again), "bad_request", "a second session.open");
    // The socket keeps its session: it still answers requests.
    let bob = socket
        .request(Request::UserGet(BaseUser {
            username: "bob".into(),
        }))
        .await
        .expect("the socket stays open");
    assert_eq!(bob["username"], "bob");
}

#[tokio::test]
async fn the_body_and_the_envelope_are_json_objects_never_arrays() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let signer = key("alice");
    // The Body's fields in struct order: serde's derive alone would take it.
    let body = request(&alice, "conversation.list", None);
    let array = json!([
        body["type"],
        body["created_at"],
        body["request_id"],
        body["username"]
    ]);
    let answer = raw(&alice, Some(&signer), &array).await;
    assert_eq!(outcome(&answer), "bad_request");
    // The envelope in array form, as a WebSocket frame.
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let upgraded = alice.http().websocket().await.unwrap().into_inner();
    let mut socket = tokio_tungstenite::WebSocketStream::from_raw_socket(
        upgraded,
        tokio_tungstenite::tungstenite::protocol::Role::Client,
        None,
    )
    .await;
    let (envelope, _secret) = alice
        .seal(&alice.body_for(&Request::SessionOpen).unwrap(), true)
        .await
        .unwrap();
    let object = serde_json::to_value(&envelope).unwrap();
    let fields = ["version", "key", "iv", "data", "signature"];
    let array: Vec<serde_json::Value> = fields.iter().map(|f| object[*f].clone()).collect();
    socket
        .send(Message::text(serde_json::to_string(&array).unwrap()))
        .await
        .unwrap();
    let Some(Ok(Message::Text(reply))) = socket.next().await else {
        panic!("no plain answer to an array-form frame")
    };
    let error: nanochat::models::Error = serde_json::from_str(&reply).unwrap();
    assert_eq!(error.code.to_string(), "bad_envelope", "{reply}");
}

#[tokio::test]
async fn a_missing_or_malformed_created_at_is_bad_request() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let signer = key("alice");
    let mut missing = request(&alice, "conversation.list", None);
    missing.as_object_mut().unwrap().remove("created_at");
    let answer = raw(&alice, Some(&signer), &missing).await;
    assert_eq!(outcome(&answer), "bad_request");
    // The server could not read the Body, so it echoes nothing.
    assert_eq!(answer["type"], "");
    assert!(answer.get("request_id").is_none());
    for created_at in [
        json!("yesterday"),
        json!("2026-11-25 09:00:00"),
        json!(1_764_061_200),
        json!(null),
    ] {
        let mut body = request(&alice, "conversation.list", None);
        body["created_at"] = created_at.clone();
        let answer = raw(&alice, Some(&signer), &body).await;
        assert_eq!(outcome(&answer), "bad_request", "{created_at}");
    }
    // Well-formed: any offset names an instant; old is stale, not malformed.
    let now = OffsetDateTime::now_utc().to_offset(time::macros::offset!(+02:00));
    let mut offset = request(&alice, "conversation.list", None);
    offset["created_at"] = json!(now.format(&Rfc3339).unwrap());
    assert_eq!(outcome(&raw(&alice, Some(&signer), &offset).await), "ok");
    let mut old = request(&alice, "conversation.list", None);
    old["created_at"] = json!("2020-01-01T00:00:00Z");
    assert_eq!(outcome(&raw(&alice, Some(&signer), &old).await), "stale");
}

#[tokio::test]
async fn unknown_fields_are_refused_in_the_body_and_payloads() {
    let server = TestServer::start().await;
    let (alice, _bob, c) = duo(&server).await;
    let signer = key("alice");
    let get = |extra: Option<(&str, serde_json::Value)>| {
        let mut body = request(&alice, "conversation.get", Some(json!({"id": c.id})));
        if let Some((field, value)) = extra {
            body[field] = value;
        }
        body
    };
    assert_eq!(outcome(&raw(&alice, Some(&signer), &get(None)).await), "ok");
    // In the Body, however large.
    let big = "x".repeat(4 * 1024 * 1024);
    for (field, value) in [("note", json!(1)), ("padding", json!(big))] {
        let answer = raw(&alice, Some(&signer), &get(Some((field, value)))).await;
        assert_eq!(outcome(&answer), "bad_request", "Body.{field}");
    }
    // In a payload.
    let body = request(
        &alice,
        "conversation.get",
        Some(json!({"id": c.id, "note": 1})),
    );
    assert_eq!(
        outcome(&raw(&alice, Some(&signer), &body).await),
        "bad_request"
    );
    // In an object inside a payload (a wrapped key of a message).
    let message = sealed(&key("alice"), &c, Uuid::new_v4(), "hi", None);
    let mut payload = serde_json::to_value(&message).unwrap();
    payload["keys"][0]["note"] = json!(1);
    let body = request(&alice, "message.create", Some(payload.clone()));
    assert_eq!(
        outcome(&raw(&alice, Some(&signer), &body).await),
        "bad_request"
    );
    payload["keys"][0].as_object_mut().unwrap().remove("note");
    let body = request(&alice, "message.create", Some(payload));
    assert_eq!(outcome(&raw(&alice, Some(&signer), &body).await), "ok");
}

#[test]
fn every_uuid_field_reads_only_the_canonical_spelling() {
    // The spelling is checked where the JSON is read: every `format: uuid`
    // field of every model (nested ones included) goes through
    // `wire::canonical_uuid`, so no field can slip past a list of names.
    let models = include_str!("../../generated/models.rs");
    let lines: Vec<&str> = models.lines().map(str::trim).collect();
    let mut fields = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("pub ") && line.contains("uuid::Uuid") {
            fields += 1;
            // Its attributes and docs: back to the previous field or the
            // struct's opening brace.
            let attribute = lines[..i]
                .iter()
                .rev()
                .take_while(|l| !l.starts_with("pub ") && !l.ends_with('{'))
                .any(|l| l.contains("crate::wire::canonical_uuid"));
            assert!(attribute, "{line} reads any spelling of a UUID");
        }
    }
    assert!(fields >= 10, "only {fields} UUID fields found");
}

#[tokio::test]
async fn uuids_must_be_lowercase_and_hyphenated() {
    let server = TestServer::start().await;
    let (alice, _bob, c) = duo(&server).await;
    let signer = key("alice");
    let conversation = c.id.to_string();
    let spellings = [
        conversation.to_uppercase(),
        format!("{{{conversation}}}"),
        c.id.simple().to_string(),
        format!("urn:uuid:{conversation}"),
    ];
    for spelling in &spellings {
        let body = request(&alice, "conversation.get", Some(json!({"id": spelling})));
        let answer = raw(&alice, Some(&signer), &body).await;
        assert_eq!(outcome(&answer), "bad_request", "id {spelling}");
    }
    let mut body = request(&alice, "conversation.list", None);
    body["request_id"] = json!(Uuid::new_v4().to_string().to_uppercase());
    let answer = raw(&alice, Some(&signer), &body).await;
    assert_eq!(outcome(&answer), "bad_request", "request_id");
    // A message whose ids are sent uppercase is refused for its spelling,
    // whichever spelling it signed: bad_request, never bad_signature.
    let message = sealed(&key("alice"), &c, Uuid::new_v4(), "hi", None);
    let mut payload = serde_json::to_value(&message).unwrap();
    for field in ["id", "conversation_id"] {
        let mut shouted = payload.clone();
        shouted[field] = json!(shouted[field].as_str().unwrap().to_uppercase());
        let body = request(&alice, "message.create", Some(shouted));
        let answer = raw(&alice, Some(&signer), &body).await;
        assert_eq!(outcome(&answer), "bad_request", "message {field}");
    }
    // So is a conversation id sent uppercase with a sealed name.
    let id = Uuid::new_v4();
    let create = CreateConversation {
        id,
        name: None,
        members: vec!["bob".into()],
    };
    let mut create = serde_json::to_value(&create).unwrap();
    create["id"] = json!(id.to_string().to_uppercase());
    let body = request(&alice, "conversation.create", Some(create));
    let answer = raw(&alice, Some(&signer), &body).await;
    assert_eq!(outcome(&answer), "bad_request", "conversation id");
    // The canonical spelling goes through, and comes back the same.
    payload["id"] = json!(message.id.to_string());
    let body = request(&alice, "message.create", Some(payload));
    let answer = raw(&alice, Some(&signer), &body).await;
    assert_eq!(outcome(&answer), "ok");
    assert_eq!(answer["payload"]["id"], json!(message.id.to_string()));
    assert_eq!(answer["payload"]["conversation_id"], json!(conversation));
}

#[tokio::test]
async fn cursors_are_opaque_and_a_foreign_one_gives_an_older_page() {
    let server = TestServer::start().await;
    let (alice, _bob, c) = duo(&server).await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        let id = Uuid::new_v4();
        alice
            .message_create(sealed(&key("alice"), &c, id, text, None))
            .await
            .unwrap();
        ids.push(id);
    }
    let list = |before: Option<String>| ListMessages {
        conversation_id: c.id,
        before,
        limit: Some(1),
    };
    let newest = alice.message_list(list(None)).await.unwrap();
    assert_eq!(newest.messages[0].id, ids[2]);
    let cursor = newest.next_cursor.clone().expect("older messages exist");
    assert_eq!(
        newest.messages[0].cursor.as_deref(),
        Some(cursor.as_str()),
        "next_cursor is the last message's cursor"
    );
    let older = alice.message_list(list(Some(cursor))).await.unwrap();
    assert_eq!(older.messages[0].id, ids[1]);

    // Not a cursor this server could have issued: bad_request.
    for bogus in ["", "not a cursor", "4.2", "AAAA"] {
        let answer = alice.message_list(list(Some(bogus.into()))).await;
        assert_eq!(code(answer), "bad_request", "{bogus:?}");
    }
    // Well-formed but never issued here: a page of this conversation's
    // messages older than that position, possibly empty; never an error.
    let past_everything = alice
        .message_list(list(Some(i64::MAX.to_string())))
        .await
        .unwrap();
    assert_eq!(past_everything.messages[0].id, ids[2]);
    let before_everything = alice.message_list(list(Some("0".into()))).await.unwrap();
    assert!(before_everything.messages.is_empty());
    assert!(before_everything.next_cursor.is_none());
}

#[tokio::test]
async fn a_message_at_the_default_limits_fits_in_one_request() {
    let server = TestServer::start().await;
    let limits = server.config.limits.clone();
    nanochat::server::protocol::check_limits(&limits).expect("the defaults are consistent");
    let (alice, _bob, c) = duo(&server).await;
    // Ciphertexts of exactly max_content_bytes and max_file_bytes.
    let framing = MessageContent {
        text: Some(String::new()),
        file_name: Some("notes.txt".into()),
        file_type: None,
    };
    let framing = framing.to_json_bytes().unwrap().len();
    let text = "x".repeat(limits.max_content_bytes as usize - 16 - framing);
    let file = vec![7u8; limits.max_file_bytes as usize - 16];
    let message = sealed(&key("alice"), &c, Uuid::new_v4(), &text, Some(&file));
    assert_eq!(message.content.len() as i64, limits.max_content_bytes);
    let attachment = message.attachment.as_ref().unwrap();
    assert_eq!(attachment.data.len() as i64, limits.max_file_bytes);
    alice
        .message_create(message)
        .await
        .expect("a message at the limits is accepted");
    // One byte more is the file limit's refusal, not the body limit's.
    let file = vec![7u8; limits.max_file_bytes as usize - 15];
    let over = sealed(&key("alice"), &c, Uuid::new_v4(), "f", Some(&file));
    assert_eq!(code(alice.message_create(over).await), "too_large");
    // The same two over the WebSocket: the frame limit is the body limit.
    let mut socket = nanochat::client::Socket::open(&alice).await.unwrap();
    let file = vec![7u8; limits.max_file_bytes as usize - 16];
    let at = sealed(&key("alice"), &c, Uuid::new_v4(), &text, Some(&file));
    socket
        .request(nanochat::bodies::Request::MessageCreate(at))
        .await
        .expect("a message at the limits is accepted over the WebSocket");
    let file = vec![7u8; limits.max_file_bytes as usize - 15];
    let over = sealed(&key("alice"), &c, Uuid::new_v4(), "f", Some(&file));
    let refused = socket
        .request(nanochat::bodies::Request::MessageCreate(over))
        .await;
    assert_eq!(code(refused), "too_large");
}

#[tokio::test]
async fn serve_refuses_limits_the_body_limit_cannot_carry() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("nanochat.db");
    let server_key = dir.path().join("key.pem");
    let serve = |extra: &[&str]| {
        let mut argv = vec![
            "nanochat",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            database.to_str().unwrap(),
            "--server-key",
            server_key.to_str().unwrap(),
        ];
        argv.extend_from_slice(extra);
        nanochat::cli::Cli::try_parse_from(argv).unwrap()
    };
    for extra in [
        ["--max-file-bytes", "10485760"],
        ["--max-body-bytes", "1048576"],
        ["--max-members", "0"],
    ] {
        let cli = serve(&extra);
        let refused = nanochat::cli::run(cli.command, &mut Vec::new()).await;
        let error = refused
            .expect_err("inconsistent limits are refused")
            .to_string();
        assert!(error.contains("invalid limits"), "{extra:?}: {error}");
    }
    assert!(!database.exists(), "refused before anything was opened");
}
