//! The committed corpus (`fuzz/corpus/<target>/`: seeds and crash
//! regressions) replayed through each target's body on stable Rust, and the
//! generator of the seeds (`cargo test --lib fuzzing::tests::write_seeds --
//! --ignored` rewrites them).
//!
//! Longer than the other files of `src/` on purpose: the seeds of every
//! target are built side by side from one set of fixtures, so that a new
//! target's seeds follow the same shapes; splitting them would spread one
//! table over four files.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::password_key::{decrypt_bounded, within_budget};
use super::{PASSWORD, TARGETS, envelope, fixtures, websocket_frame};
use crate::bodies::{BodyType, EventType};
use crate::crypto::{
    self, EncryptedPrivateKey, KdfParams, KeyFile, KeyFilePrivateKey, MessageContent, PrivateKey,
    seal_request,
};
use crate::wire::Bytes;

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn files(target: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus(target))
        .unwrap_or_else(|e| panic!("fuzz/corpus/{target}: {e}"))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every file of `target`'s corpus through its body; names every file
/// that panics.
fn replay(target: &str) {
    let run = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, run)| *run)
        .expect("a target");
    let files = files(target);
    assert!(!files.is_empty(), "fuzz/corpus/{target} is empty");
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("a corpus file");
            catch_unwind(AssertUnwindSafe(|| run(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: these inputs panic: {failed:#?}"
    );
}

#[test]
fn envelope_corpus_replays() {
    replay("envelope");
}

#[test]
fn body_corpus_replays() {
    replay("body");
}

#[test]
fn content_corpus_replays() {
    replay("content");
}

#[test]
fn keyfile_corpus_replays() {
    replay("keyfile");
}

#[test]
fn password_key_corpus_replays() {
    replay("password_key");
}

#[test]
fn websocket_frame_corpus_replays() {
    replay("websocket_frame");
}

/// The harness's cached, budgeted decryption gives what the real one gives,
/// on every blob of the corpus that fits the budget.
#[test]
fn bounded_decryption_agrees_with_decrypt() {
    let mut compared = 0;
    for path in files("password_key").into_iter().chain(files("keyfile")) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let blob = match (
            EncryptedPrivateKey::from_json(&text),
            KeyFile::from_json(&text),
        ) {
            (Ok(blob), _) => blob,
            (
                _,
                Ok(KeyFile {
                    private_key: KeyFilePrivateKey::Encrypted(blob),
                    ..
                }),
            ) => blob,
            _ => continue,
        };
        if !within_budget(blob.params()) {
            continue;
        }
        let fingerprint = |r: crypto::Result<PrivateKey>| r.map(|k| k.fingerprint());
        assert_eq!(
            fingerprint(decrypt_bounded(&blob, PASSWORD)),
            fingerprint(blob.decrypt(PASSWORD)),
            "{}",
            path.display()
        );
        compared += 1;
    }
    assert!(compared >= 2, "the corpus has encrypted keys to compare");
}

/// Writes `data` as `fuzz/corpus/<target>/<name>`.
fn write(target: &str, name: &str, data: &[u8]) {
    let dir = corpus(target);
    std::fs::create_dir_all(&dir).expect("creating the corpus directory");
    std::fs::write(dir.join(name), data).expect("writing a seed");
}

fn with_mode(mode: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![mode];
    out.extend_from_slice(data);
    out
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds")
        .format(&Rfc3339)
        .expect("an RFC 3339 time")
}

fn b64(bytes: &[u8]) -> Value {
    serde_json::to_value(Bytes(bytes.to_vec())).expect("base64")
}

/// The examples of api.yml's component schemas, by name.
fn examples() -> serde_json::Map<String, Value> {
    let spec: Value = serde_norway::from_str(include_str!("../../api.yml")).expect("api.yml");
    spec["components"]["schemas"]
        .as_object()
        .expect("component schemas")
        .iter()
        .filter_map(|(name, schema)| Some((name.clone(), schema.get("example")?.clone())))
        .collect()
}

fn request_body(
    body_type: &str,
    request_id: &str,
    username: &str,
    payload: Option<Value>,
) -> Value {
    let mut body = json!({
        "type": body_type,
        "created_at": now(),
        "request_id": request_id,
        "username": username,
    });
    if let Some(payload) = payload {
        body["payload"] = payload;
    }
    body
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON encodes")
}

/// A message sealed by Alice for Alice and Bob: the upload (CreateMessage
/// JSON) and the message as Bob receives it (Message JSON).
fn sealed_message(conversation_id: &str, message_id: &str, attachment: bool) -> (Value, Value) {
    let f = fixtures();
    let content = MessageContent {
        text: Some("Hello, Bob!".to_owned()),
        file_name: attachment.then(|| "notes.txt".to_owned()),
        file_type: attachment.then(|| "text/plain".to_owned()),
    };
    let sealed = crypto::seal_message(
        &f.alice,
        Uuid::parse_str(conversation_id).expect("a UUID"),
        Uuid::parse_str(message_id).expect("a UUID"),
        &content.to_json_bytes().expect("content encodes"),
        attachment.then_some(&b"line 1\nline 2\n"[..]),
        &[("alice", f.alice.public_key()), ("bob", f.bob.public_key())],
    )
    .expect("sealing");
    let mut upload = json!({
        "conversation_id": conversation_id,
        "id": message_id,
        "content_iv": b64(&sealed.content_iv),
        "content": b64(&sealed.content),
        "keys": sealed.recipients.iter().map(|r| json!({"username": r.username, "key": b64(&r.wrapped_key)})).collect::<Vec<_>>(),
        "signature": b64(&sealed.signature),
    });
    let received = sealed.for_reader("bob").expect("bob reads it");
    let mut message = json!({
        "conversation_id": conversation_id,
        "id": message_id,
        "sender": "alice",
        "created_at": now(),
        "content_iv": b64(&sealed.content_iv),
        "content": b64(&sealed.content),
        "key": b64(&received.wrapped_key),
        "recipients": received.recipients.iter().map(|r| json!({"username": r.username, "key_digest": b64(&r.key_digest)})).collect::<Vec<_>>(),
        "signature": b64(&sealed.signature),
    });
    if let Some(a) = &sealed.attachment {
        upload["attachment"] = json!({"iv": b64(&a.iv), "data": b64(&a.data)});
        message["attachment"] =
            json!({"iv": b64(&a.iv), "size": a.data.len(), "digest": b64(&a.digest())});
    }
    (upload, message)
}

/// Regenerates the seeds (it leaves the regressions, files named
/// `regression-*` or `crash-*`, alone). Ignored: run it by hand after a wire
/// format change.
#[test]
#[ignore]
fn write_seeds() {
    let f = fixtures();
    let examples = examples();
    let example = |schema: &str| examples.get(schema).cloned();

    // body: every request type with its payload example, every response and
    // event payload example.
    for body_type in BodyType::ALL {
        let payload = body_type.payload_schema().and_then(example);
        let body = request_body(
            body_type.as_str(),
            "6f1c1c1e-6c1b-4f0e-9a59-3c1f4d5e6a7b",
            "alice",
            payload,
        );
        write(
            "body",
            &format!("request-{}.json", body_type.as_str()),
            &bytes(&body),
        );
        if let Some(payload) = example(body_type.response_schema()) {
            let body = json!({"type": body_type.as_str(), "created_at": now(), "request_id": "6f1c1c1e-6c1b-4f0e-9a59-3c1f4d5e6a7b", "payload": payload});
            write(
                "body",
                &format!("response-{}.json", body_type.as_str()),
                &bytes(&body),
            );
        }
    }
    let events = [
        (EventType::MessageCreated, "Message"),
        (EventType::MessageDeleted, "BaseMessage"),
        (EventType::ConversationCreated, "MessageConversation"),
        (EventType::ConversationLeft, "MemberLeft"),
        (EventType::UserKeyChanged, "PublicUser"),
    ];
    for (event_type, schema) in events {
        if let Some(payload) = example(schema) {
            let body = json!({"type": event_type.as_str(), "created_at": now(), "seq": 1, "payload": payload});
            write(
                "body",
                &format!("event-{}.json", event_type.as_str()),
                &bytes(&body),
            );
        }
    }
    let error = json!({"type": "message.create", "created_at": now(), "request_id": "6f1c1c1e-6c1b-4f0e-9a59-3c1f4d5e6a7b", "error": {"code": "not_found", "message": "no such conversation"}});
    write("body", "response-error.json", &bytes(&error));

    // envelope
    let server = f.server.public_key();
    let list = request_body(
        "conversation.list",
        "00000000-0000-4000-8000-000000000001",
        "alice",
        None,
    );
    let (sealed, _) = seal_request(server, &bytes(&list), Some(&f.alice)).expect("sealing");
    let wire = crate::client::exchange::wire_request(sealed);
    write(
        "envelope",
        "0-conversation.list.json",
        &with_mode(0, &bytes(&serde_json::to_value(&wire).expect("JSON"))),
    );
    let sync = request_body(
        "user.sync",
        "00000000-0000-4000-8000-000000000002",
        "alice",
        Some(json!({"sync_password": "hunter2"})),
    );
    let (sealed, _) = seal_request(server, &bytes(&sync), None).expect("sealing");
    let wire = crate::client::exchange::wire_request(sealed);
    write(
        "envelope",
        "0-user.sync.json",
        &with_mode(0, &bytes(&serde_json::to_value(&wire).expect("JSON"))),
    );
    let get = request_body(
        "conversation.get",
        "00000000-0000-4000-8000-000000000003",
        "alice",
        Some(json!({"id": "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90"})),
    );
    write(
        "envelope",
        "1-conversation.get.json",
        &with_mode(1, &bytes(&get)),
    );
    let complete = request_body(
        "user.complete",
        "00000000-0000-4000-8000-000000000004",
        "carol",
        Some(
            json!({"token": "t0k3n", "display_name": "Carol", "public_key": b64(f.alice.public_key().to_spki_der())}),
        ),
    );
    write(
        "envelope",
        "2-user.complete.json",
        &with_mode(2, &bytes(&complete)),
    );
    let (upload, _) = sealed_message(
        "0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90",
        "5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b",
        false,
    );
    let create = request_body(
        "message.create",
        "00000000-0000-4000-8000-000000000005",
        "alice",
        Some(upload),
    );
    write(
        "envelope",
        "2-message.create.json",
        &with_mode(2, &bytes(&create)),
    );
    let index = |t: BodyType| BodyType::ALL.iter().position(|x| *x == t).expect("a type") as u8;
    let response = json!({"type": "conversation.list", "created_at": now(), "request_id": envelope::RESPONSE_REQUEST_ID, "payload": example("List").unwrap_or(json!({"items": []}))});
    let mut data = vec![3, index(BodyType::ConversationList)];
    data.extend(bytes(&response));
    write("envelope", "3-response-conversation.list.json", &data);
    let response = json!({"type": "message.list", "created_at": now(), "request_id": envelope::RESPONSE_REQUEST_ID, "error": {"code": "not_found", "message": "no such conversation"}});
    let mut data = vec![3, index(BodyType::MessageList)];
    data.extend(bytes(&response));
    write("envelope", "3-response-error.json", &data);
    let event = json!({"type": "event.message.deleted", "created_at": now(), "seq": 1, "payload": example("BaseMessage")});
    let mut data = vec![4];
    data.extend(1u64.to_be_bytes());
    data.extend(bytes(&event));
    write("envelope", "4-event.message.deleted.json", &data);
    write(
        "envelope",
        "5-frame.json",
        &with_mode(5, crate::models::EncryptedBody::EXAMPLE_JSON.as_bytes()),
    );

    // content
    let content = MessageContent {
        text: Some("Hello, Bob! Here is the file.".to_owned()),
        file_name: Some("notes.txt".to_owned()),
        file_type: Some("text/plain".to_owned()),
    };
    write(
        "content",
        "0-content.json",
        &with_mode(0, &content.to_json_bytes().expect("content")),
    );
    let (upload, message) = sealed_message(
        super::content::CONVERSATION_ID,
        super::content::MESSAGE_ID,
        true,
    );
    write("content", "1-message.json", &with_mode(1, &bytes(&message)));
    write(
        "content",
        "2-create-message.json",
        &with_mode(2, &bytes(&upload)),
    );
    write(
        "content",
        "3-sealed-attachment.bin",
        &with_mode(3, b"\x80line 1\nline 2\n"),
    );
    let mut raw = vec![3, 0];
    raw.extend([1u8; 12]);
    raw.extend([2u8; 40]);
    write("content", "3-attachment.bin", &raw);
    let members = [("alice", &f.alice), ("bob", &f.bob)];
    let name = crypto::seal_name(
        &f.alice,
        Uuid::parse_str(super::content::CONVERSATION_ID).expect("a UUID"),
        1,
        "Project plans",
        &members.map(|(u, k)| (u, k.public_key())),
    )
    .expect("sealing a name");
    let for_bob = name
        .recipients
        .iter()
        .find(|r| r.username == "bob")
        .expect("bob");
    let member = |(username, key): (&str, &PrivateKey)| json!({"username": username, "display_name": username, "public_key": b64(key.public_key().to_spki_der()), "fingerprint": key.fingerprint().to_string(), "owner": username == "alice", "joined_at": now()});
    let conversation = json!({
        "id": super::content::CONVERSATION_ID,
        "name": {
            "revision": 1, "sealed_by": "alice", "sealed_at": now(), "iv": b64(&name.iv),
            "ciphertext": b64(&name.ciphertext), "key": b64(&for_bob.wrapped_key),
            "recipients": name.recipients.iter().map(|r| json!({"username": r.username, "key_digest": b64(&crypto::sha256(&r.wrapped_key))})).collect::<Vec<_>>(),
            "signature": b64(&name.signature), "reseal": false,
        },
        "name_revision": 1, "owner": "alice", "created_at": now(), "updated_at": now(),
        "members": members.map(member),
        "messages": [message],
    });
    write(
        "content",
        "4-conversation.json",
        &with_mode(4, &bytes(&conversation)),
    );

    // keyfile and password_key
    let plain = KeyFile::new_plain("https://chat.example", "alice", &f.alice).expect("a key file");
    write(
        "keyfile",
        "plain.json",
        plain.to_json().expect("JSON").as_bytes(),
    );
    let encrypted = KeyFile::new_encrypted("https://chat.example", "alice", &f.alice, PASSWORD)
        .expect("a key file");
    write(
        "keyfile",
        "encrypted.json",
        encrypted.to_json().expect("JSON").as_bytes(),
    );
    write(
        "keyfile",
        "alice.spki.der",
        f.alice.public_key().to_spki_der(),
    );
    write(
        "keyfile",
        "alice.pub.pem",
        f.alice.public_key().to_pem().as_bytes(),
    );
    write(
        "keyfile",
        "fingerprint.txt",
        f.alice.fingerprint().to_string().as_bytes(),
    );
    let blob = EncryptedPrivateKey::encrypt(&f.alice, PASSWORD).expect("encrypting");
    assert_eq!(blob.params(), KdfParams::DEFAULT);
    write(
        "password_key",
        "alice.json",
        blob.to_json().expect("JSON").as_bytes(),
    );
    if let Some(model) = example("EncryptedPrivateKey") {
        write("password_key", "api-example.json", &bytes(&model));
    }
    write(
        "password_key",
        "alice.pkcs8.der",
        &f.alice.to_pkcs8_der().expect("DER"),
    );

    // websocket_frame: flags 1 = sealed and signed by Alice, | 4 = session open.
    let c1 = websocket_frame::CONVERSATION_ID;
    let m1 = websocket_frame::MESSAGE_ID;
    let rid = "00000000-0000-4000-8000-0000000000aa";
    let open = request_body("session.open", rid, "alice", None);
    let (sealed, _) = seal_request(server, &bytes(&open), Some(&f.alice)).expect("sealing");
    let wire = crate::client::exchange::wire_request(sealed);
    write(
        "websocket_frame",
        "raw-session.open.json",
        &with_mode(0, &bytes(&serde_json::to_value(&wire).expect("JSON"))),
    );
    write(
        "websocket_frame",
        "raw-garbage.json",
        &with_mode(
            4,
            br#"{"version":1,"iv":"AAECAwQFBgcICQoL","data":"AAECAwQFBgcICQoLDA0ODxAREhM="}"#,
        ),
    );
    write(
        "websocket_frame",
        "session.open.json",
        &with_mode(1, &bytes(&open)),
    );
    let (upload, _) = sealed_message(c1, "11111111-1111-4111-8111-111111111111", true);
    let (update, _) = sealed_message(c1, m1, false);
    let frames: Vec<(&str, u8, Value)> = vec![
        (
            "conversation.list",
            5,
            request_body("conversation.list", rid, "alice", None),
        ),
        (
            "conversation.get",
            5,
            request_body("conversation.get", rid, "alice", Some(json!({"id": c1}))),
        ),
        (
            "message.list",
            5,
            request_body(
                "message.list",
                rid,
                "alice",
                Some(json!({"conversation_id": c1, "limit": 10})),
            ),
        ),
        (
            "message.create",
            5,
            request_body("message.create", rid, "alice", Some(upload)),
        ),
        (
            "message.update",
            5,
            request_body("message.update", rid, "alice", Some(update)),
        ),
        (
            "message.attachment",
            5,
            request_body(
                "message.attachment",
                rid,
                "alice",
                Some(json!({"conversation_id": c1, "id": "11111111-1111-4111-8111-111111111111"})),
            ),
        ),
        (
            "message.delete",
            5,
            request_body(
                "message.delete",
                rid,
                "alice",
                Some(json!({"conversation_id": c1, "id": m1})),
            ),
        ),
        (
            "user.get",
            5,
            request_body("user.get", rid, "alice", Some(json!({"username": "bob"}))),
        ),
        (
            "user.update",
            5,
            request_body(
                "user.update",
                rid,
                "alice",
                Some(json!({"display_name": "Alice A."})),
            ),
        ),
        (
            "conversation.create",
            5,
            request_body(
                "conversation.create",
                rid,
                "alice",
                Some(json!({"id": "22222222-2222-4222-8222-222222222222", "members": ["bob"]})),
            ),
        ),
        (
            "conversation.update",
            5,
            request_body(
                "conversation.update",
                rid,
                "alice",
                Some(json!({"id": c1, "members": ["alice", "bob", "carol"]})),
            ),
        ),
        (
            "conversation.leave-bob",
            7,
            request_body("conversation.leave", rid, "bob", Some(json!({"id": c1}))),
        ),
        (
            "user.sync",
            6,
            request_body(
                "user.sync",
                rid,
                "alice",
                Some(json!({"sync_password": "hunter2"})),
            ),
        ),
        (
            "user.complete",
            5,
            request_body(
                "user.complete",
                rid,
                "carol",
                Some(
                    json!({"token": websocket_frame::CAROL_TOKEN, "display_name": "Carol", "public_key": b64(f.alice.public_key().to_spki_der())}),
                ),
            ),
        ),
        ("stale", 5, {
            let mut body = request_body("conversation.list", rid, "alice", None);
            body["created_at"] = json!("1999-01-01T00:00:00Z");
            body
        }),
    ];
    for (name, flags, body) in frames {
        write(
            "websocket_frame",
            &format!("{name}.json"),
            &with_mode(flags, &bytes(&body)),
        );
    }
}
