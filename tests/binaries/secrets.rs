//! The secrets scan of the hardening issue: after a full scripted flow
//! (complete with the key stored on the server, sync from a new device,
//! messages with files over `POST /encrypted` and the WebSocket, a key
//! rotation that re-uploads the server copy), no plain private key,
//! password, sync password, complete token, AES key (message content keys,
//! a request's `K` and `K_resp`), message text, conversation name or file
//! content may appear in the server's files (database, WAL and
//! shared memory, before and after SIGTERM), its trace-level log, the HTTP
//! and WebSocket traffic as captured on the wire, nor the clients' homes.
//!
//! Each secret is searched in the encodings a leak would plausibly take:
//! raw bytes, hex, base64 (standard and URL-safe) at the three byte
//! alignments, PEM lines, Rust `Debug` and JSON escaping (nested too, as a
//! `Debug` string inside a JSON log line is).

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use nanochat::bodies::{Event, Request};
use nanochat::client::chat::{CompleteOptions, to_model};
use nanochat::client::generated::Bodies as _;
use nanochat::client::messages::{self, FileToSend};
use nanochat::client::{Chat, ClientError, Home, Socket, keystore};
use nanochat::crypto::{PrivateKey, Succession};
use nanochat::models::{self, ErrorCode, SyncUser, UpdateUser};
use nanochat::wire::Secret;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use uuid::Uuid;

use crate::support::*;

/// The server key's file in the data directory: the one place where the
/// server's own private key belongs.
const SERVER_KEY_FILE: &str = "nanochat-server-key.pem";
const SERVER_KEY: &str = "server private key";

// Long and distinctive, so that a hit can only be a leak. Some carry
// quotes, a newline and non-ASCII so that the escaped forms differ from the
// raw one.
const ALICE_PASSWORD: &str = "correct horse battery staple 7f3a";
const ALICE_PASSWORD_ROTATED: &str = "tangerine submarine quartz 91c4";
const BOB_PASSWORD: &str = "obsidian lantern meadow 2e8d";
const SYNC_PASSWORD: &str = "sync: violet harbour engine 5b17";
const SYNC_PASSWORD_ROTATED: &str = "sync: amber glacier piano 0c6e";
const CONVERSATION_NAME: &str = "Project \"Nightjar\" — board only";
const TEXTS: [&str; 6] = [
    "The merger closes on Friday; keep it quiet until 4b1d",
    "Quarterly numbers attached, \"draft\" only\nnot for the board yet 9e2f",
    "Got it — the café at 19:30, bring the ledger c7a0",
    "Sending the signed contract over the socket 3d58",
    "New key, same me: this is alice after the rotation 61fb",
    "And from my other device, also rotated, über-secret a2e9",
];
const FILE_NAMES: [&str; 2] = ["q3-salary-review-7f3a.xlsx", "contract-signed-2c91.pdf"];
const FILE_SIZE: usize = 6 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_disk_log_or_wire() {
    let started = Instant::now();
    let dir = server_dir();
    // `trace` for every target: sqlx statements, poem, tungstenite frames.
    let (mut child, server_url, log) = serve_logging(dir.path(), "trace");
    let proxy = Proxy::start(server_url.trim_start_matches("http://").parse().unwrap()).await;
    let url = proxy.url.clone();
    let homes = tempfile::tempdir().unwrap();
    let files = [
        file_bytes(FILE_NAMES[0], FILE_SIZE),
        file_bytes(FILE_NAMES[1], FILE_SIZE),
    ];
    let attachments: Vec<FileToSend> = FILE_NAMES
        .iter()
        .zip(&files)
        .map(|(name, bytes)| FileToSend {
            name: (*name).into(),
            media_type: Some("application/octet-stream".into()),
            bytes: bytes.clone(),
        })
        .collect();

    let alice_token = token_in(&run(
        dir.path(),
        &["user", "create", "alice", "--ttl", "1h"],
    ));
    let bob_token = token_in(&run(dir.path(), &["user", "create", "bob", "--ttl", "1h"]));
    let mut alice = Chat::connect(Home::new(homes.path().join("alice-laptop")), &url, "alice")
        .await
        .unwrap();
    alice
        .complete(
            &alice_token,
            "Alice",
            ALICE_PASSWORD.as_bytes(),
            CompleteOptions {
                import: Some(key("alice")),
                sync_password: Some(Secret::new(SYNC_PASSWORD)),
            },
        )
        .await
        .unwrap();
    let mut bob = Chat::connect(Home::new(homes.path().join("bob")), &url, "bob")
        .await
        .unwrap();
    bob.complete(
        &bob_token,
        "Bob",
        BOB_PASSWORD.as_bytes(),
        CompleteOptions {
            import: Some(key("bob")),
            sync_password: None,
        },
    )
    .await
    .unwrap();

    // "Log in on a new device": an empty home, so the key comes from user.sync.
    let mut alice_phone = Chat::connect(Home::new(homes.path().join("alice-phone")), &url, "alice")
        .await
        .unwrap();
    alice_phone
        .login(ALICE_PASSWORD.as_bytes(), Some(SYNC_PASSWORD))
        .await
        .unwrap();
    assert_eq!(
        alice_phone.key().unwrap().fingerprint(),
        key("alice").fingerprint()
    );

    let mut alice_socket = Socket::open(alice_phone.session()).await.unwrap();
    let mut bob_socket = Socket::open(bob.session()).await.unwrap();
    let conversation = alice
        .create_conversation(&["bob"], Some(CONVERSATION_NAME))
        .await
        .unwrap();
    let id = conversation.id;

    let mut sent = Vec::new();
    sent.push(alice.send(id, Some(TEXTS[0]), None).await.unwrap().id);
    sent.push(
        alice
            .send(id, Some(TEXTS[1]), Some(&attachments[0]))
            .await
            .unwrap()
            .id,
    );
    sent.push(send_over_socket(&bob, &mut bob_socket, id, TEXTS[2], Some(&attachments[1])).await);
    sent.push(send_over_socket(&alice_phone, &mut alice_socket, id, TEXTS[3], None).await);
    // The AES keys of the flow the client can see: message content keys,
    // one request's K and K_resp.
    let mut aes_keys: Vec<(String, Vec<u8>)> = Vec::new();
    for (chat, socket) in [(&alice_phone, &mut alice_socket), (&bob, &mut bob_socket)] {
        for (n, (text, message_id)) in TEXTS[..4].iter().zip(&sent).enumerate() {
            let event = next_message(socket).await;
            assert_eq!(event.id, *message_id);
            let (opened_text, content_key) = opened(chat, &conversation, &event).await;
            assert_eq!(opened_text, *text);
            aes_keys.push((format!("content key of message {n}"), content_key));
        }
    }
    let (content, bytes) = bob.download(id, sent[1]).await.unwrap();
    assert_eq!(content.file_name.as_deref(), Some(FILE_NAMES[0]));
    assert!(bytes == files[0], "bob downloads alice's file intact");
    let (_, bytes) = alice.download(id, sent[2]).await.unwrap();
    assert!(bytes == files[1], "alice downloads bob's file intact");
    drop(alice_socket);

    // The rotation as `Chat::rotate` does it, with a fixture key for the
    // new pair, re-uploading the server copy under new passwords.
    let new_key = key("carol");
    let spki = new_key.public_key().to_spki_der().to_vec();
    let link = Succession::sign("alice", 1, &key("alice"), &new_key).unwrap();
    let encrypted = keystore::encrypt(&new_key, ALICE_PASSWORD_ROTATED.as_bytes())
        .await
        .unwrap();
    // Sealed by hand to keep K: whoever holds it reads the new sync password.
    let update = Request::UserUpdate(UpdateUser {
        public_key: Some(spki.into()),
        succession_signature: Some(link.succession_signature.into()),
        public_key_signature: Some(link.public_key_signature.into()),
        private_key: Some(to_model(&encrypted).unwrap()),
        sync_password: Some(Secret::new(SYNC_PASSWORD_ROTATED)),
        ..Default::default()
    });
    let session = alice.session();
    let body = session.body_for(&update).unwrap();
    let (envelope, request_secret) = session
        .seal(&body, update.body_type().is_signed())
        .await
        .unwrap();
    session
        .send(&body, &envelope, &request_secret)
        .await
        .unwrap();
    aes_keys.push((
        "user.update request key K".into(),
        request_secret.expose_key().to_vec(),
    ));
    aes_keys.push((
        "user.update response key".into(),
        request_secret.response_key().expose_key().to_vec(),
    ));
    alice.home().save_key(&url, "alice", &encrypted).unwrap();
    alice
        .accept_user_key("alice", &new_key.fingerprint())
        .unwrap();
    alice.use_key(new_key.clone());
    loop {
        match next_event(&mut bob_socket).await {
            Event::UserKeyChanged(user) if user.username == "alice" => break,
            _ => {}
        }
    }
    bob.accept_user_key("alice", &new_key.fingerprint())
        .unwrap();

    let mut alice_tablet =
        Chat::connect(Home::new(homes.path().join("alice-tablet")), &url, "alice")
            .await
            .unwrap();
    alice_tablet
        .login(
            ALICE_PASSWORD_ROTATED.as_bytes(),
            Some(SYNC_PASSWORD_ROTATED),
        )
        .await
        .unwrap();
    assert_eq!(
        alice_tablet.key().unwrap().fingerprint(),
        new_key.fingerprint()
    );
    match alice_tablet
        .session()
        .user_sync(SyncUser {
            sync_password: Secret::new(SYNC_PASSWORD),
        })
        .await
    {
        Err(ClientError::Api(e)) if e.code == ErrorCode::WrongPassword => {}
        other => panic!("the old sync password still works: {other:?}"),
    }
    sent.push(alice.send(id, Some(TEXTS[4]), None).await.unwrap().id);
    let mut tablet_socket = Socket::open(alice_tablet.session()).await.unwrap();
    sent.push(send_over_socket(&alice_tablet, &mut tablet_socket, id, TEXTS[5], None).await);
    let conversation = bob.conversation(id).await.unwrap();
    for (n, (text, message_id)) in TEXTS[4..].iter().zip(&sent[4..]).enumerate() {
        let event = next_message(&mut bob_socket).await;
        assert_eq!(event.id, *message_id);
        let (opened_text, content_key) = opened(&bob, &conversation, &event).await;
        assert_eq!(opened_text, *text);
        aes_keys.push((format!("content key of message {}", n + 4), content_key));
    }
    let (history, _) = bob.history(id, None, None).await.unwrap();
    for (text, message_id) in TEXTS[4..].iter().zip(&sent[4..]) {
        let message = history.iter().find(|m| m.id == *message_id).unwrap();
        assert_eq!(
            message.content().and_then(|c| c.text.as_deref()),
            Some(*text),
            "{message:?}"
        );
    }
    drop((tablet_socket, bob_socket));

    let tokens = [
        ("alice complete token", alice_token),
        ("bob complete token", bob_token),
    ];
    let scanner = Scanner::new(secret_needles(&files, &tokens, &aes_keys));
    let mut places = Places::default();
    let before = read_tree(dir.path());
    for suffix in ["-wal", "-shm"] {
        assert!(
            before
                .iter()
                .any(|(name, _)| *name == format!("nanochat.db{suffix}")),
            "no {suffix} while serving: {:?}",
            before.iter().map(|(name, _)| name).collect::<Vec<_>>()
        );
    }
    places.add_files("server dir while serving", before);

    let status = tokio::task::block_in_place(|| terminate(&mut child));
    assert!(status.success(), "serve exits 0 on SIGTERM");
    let log_text = wait_for_log(&log, "stopped");
    places.add_files("server dir after SIGTERM", read_tree(dir.path()));
    places.add("server log", log_text.clone().into_bytes());
    let connections = proxy.connections();
    for (n, connection) in connections.iter().enumerate() {
        places.add(
            &format!("traffic #{n} client→server"),
            connection.up.clone(),
        );
        places.add(
            &format!("traffic #{n} server→client"),
            connection.down.clone(),
        );
        if let Some((up, down)) = connection.websocket_payloads() {
            places.add(&format!("websocket #{n} client→server unmasked"), up);
            places.add(&format!("websocket #{n} server→client"), down);
        }
    }
    places.add_files("client homes", read_tree(homes.path()));

    // The scan proves nothing unless the places hold what they should.
    assert!(
        [
            "INSERT INTO messages",
            "INSERT INTO message_keys",
            "UPDATE users"
        ]
        .iter()
        .all(|statement| log_text.contains(statement)),
        "the log does not show the statements: it is too quiet to prove anything"
    );
    let wire: Vec<u8> = connections
        .iter()
        .flat_map(|c| c.up.iter().chain(&c.down).copied())
        .collect();
    let wire = String::from_utf8_lossy(&wire).to_ascii_lowercase();
    for expected in ["post /encrypted", "get /websocket", "http/1.1 101"] {
        assert!(wire.contains(expected), "the capture misses {expected:?}");
    }
    // Compressed or chunk-split bodies would hide a plain secret from the
    // byte scan.
    for hiding in [
        "content-encoding",
        "transfer-encoding",
        "sec-websocket-extensions",
    ] {
        assert!(!wire.contains(hiding), "the capture holds {hiding:?}");
    }
    let websockets = places.bytes_of("websocket #");
    assert!(
        websockets > 2 * FILE_SIZE,
        "the WebSocket payloads are missing: {websockets} bytes"
    );
    let controls = Scanner::new(control_needles());
    let found: Vec<Finding> = places
        .all()
        .flat_map(|(place, bytes)| controls.scan(place, bytes))
        .collect();
    for (control, where_) in [
        ("bob public key", "server dir while serving/nanochat.db"),
        ("server public key", "traffic #"),
        ("wire request envelope", "websocket #"),
        ("wire request envelope", "server log"),
    ] {
        assert!(
            found
                .iter()
                .any(|f| f.secret == control && f.place.starts_with(where_)),
            "control {control:?} not found in {where_:?}: {found:#?}"
        );
    }

    let mut findings: Vec<Finding> = places
        .all()
        .flat_map(|(place, bytes)| scanner.scan(place, bytes))
        .collect();
    let own_key = |f: &Finding| f.secret == SERVER_KEY && f.place.ends_with(SERVER_KEY_FILE);
    assert!(
        findings.iter().any(own_key),
        "the scan does not even find the server key in its own file"
    );
    findings.retain(|f| !own_key(f));
    println!(
        "secrets scan: {} secrets in {} encoded forms over {} places, {} bytes; {}; {} findings; {:.1} s",
        scanner.secrets(),
        scanner.needles.len(),
        places.0.len(),
        places.bytes_of(""),
        places.summary(),
        findings.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        findings.is_empty(),
        "secrets leaked:\n{}",
        findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Seals `text` (and `file`) for the members of `conversation_id` and posts
/// it as `message.create` over `socket`; returns the message id.
async fn send_over_socket(
    chat: &Chat,
    socket: &mut Socket<'_>,
    conversation_id: Uuid,
    text: &str,
    file: Option<&FileToSend>,
) -> Uuid {
    let conversation = chat.conversation(conversation_id).await.unwrap();
    let readers = chat.readers(&conversation).await.unwrap();
    let payload = messages::seal(
        chat.key().unwrap(),
        conversation_id,
        Uuid::new_v4(),
        Some(text),
        file,
        &readers,
    )
    .unwrap();
    let answer = socket
        .request(Request::MessageCreate(payload))
        .await
        .unwrap();
    serde_json::from_value::<models::Message>(answer)
        .unwrap()
        .id
}

async fn next_event(socket: &mut Socket<'_>) -> Event {
    tokio::time::timeout(Duration::from_secs(10), socket.next_event())
        .await
        .expect("an event within 10 s")
        .unwrap()
}

async fn next_message(socket: &mut Socket<'_>) -> models::Message {
    loop {
        if let Event::MessageCreated(message) = next_event(socket).await {
            return message;
        }
    }
}

/// Opens `message` as `chat`'s user, checking the sender's signature;
/// returns its text and its content key (an AES key the scan looks for).
async fn opened(
    chat: &Chat,
    conversation: &models::MessageConversation,
    message: &models::Message,
) -> (String, Vec<u8>) {
    let readers = chat.readers(conversation).await.unwrap();
    let sender = readers
        .iter()
        .find(|r| r.username == message.sender)
        .map(|r| &r.key)
        .ok_or_else(|| "not a member".to_owned());
    let (chat_message, keys) =
        messages::open(message, chat.username(), Ok(chat.key().unwrap()), sender);
    let text = chat_message.content().and_then(|c| c.text.clone());
    match (text, keys) {
        (Some(text), Some(keys)) => (text, keys.content_key.expose_key().to_vec()),
        _ => panic!("the event does not open: {chat_message:?}"),
    }
}

/// `len` bytes that look random (SHA-256 in counter mode) but are known.
fn file_bytes(seed: &str, len: usize) -> Vec<u8> {
    (0u32..)
        .flat_map(|i| <[u8; 32]>::from(Sha256::digest(format!("{seed} {i}"))))
        .take(len)
        .collect()
}

/// The log once it holds `marker` (stderr is drained on another thread).
fn wait_for_log(log: &Log, marker: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = log.lock().unwrap().join("\n");
        if text.contains(marker) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every file under `root`, by path relative to it.
fn read_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                out.push((name, bytes));
            }
        }
    }
    out.sort();
    out
}

/// The named byte streams scanned.
#[derive(Default)]
struct Places(Vec<(String, Vec<u8>)>);

impl Places {
    fn add(&mut self, place: &str, bytes: Vec<u8>) {
        self.0.push((place.to_owned(), bytes));
    }

    fn add_files(&mut self, prefix: &str, files: Vec<(String, Vec<u8>)>) {
        for (name, bytes) in files {
            self.add(&format!("{prefix}/{name}"), bytes);
        }
    }

    fn all(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    fn bytes_of(&self, prefix: &str) -> usize {
        self.0
            .iter()
            .filter(|(p, _)| p.starts_with(prefix))
            .map(|(_, b)| b.len())
            .sum()
    }

    /// Bytes per kind of place, the database files one by one.
    fn summary(&self) -> String {
        let mut groups: Vec<(String, usize, usize)> = Vec::new();
        for (place, bytes) in &self.0 {
            let group = match place.split_once('#') {
                Some((kind, rest)) => {
                    let direction = rest.split_once(' ').map_or("", |(_, d)| d);
                    format!("{kind}* {direction}")
                }
                None if place.starts_with("client homes") => "client homes".to_owned(),
                None => place.clone(),
            };
            match groups.iter_mut().find(|(g, _, _)| *g == group) {
                Some((_, total, count)) => {
                    *total += bytes.len();
                    *count += 1;
                }
                None => groups.push((group, bytes.len(), 1)),
            }
        }
        groups
            .iter()
            .map(|(group, total, count)| match count {
                1 => format!("{group}: {total} B"),
                _ => format!("{group} ({count}): {total} B"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A loopback TCP proxy that records every byte in each direction of each
/// connection, so the scan sees the traffic exactly as it was on the wire.
struct Proxy {
    url: String,
    connections: Arc<Mutex<Vec<Connection>>>,
}

#[derive(Default)]
struct Connection {
    up: Arc<Mutex<Vec<u8>>>,
    down: Arc<Mutex<Vec<u8>>>,
}

/// One connection's capture, copied out.
struct Captured {
    up: Vec<u8>,
    down: Vec<u8>,
}

impl Proxy {
    async fn start(server: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections: Arc<Mutex<Vec<Connection>>> = Arc::default();
        let registry = connections.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(upstream) = tokio::net::TcpStream::connect(server).await else {
                    continue;
                };
                let connection = Connection::default();
                let (up, down) = (connection.up.clone(), connection.down.clone());
                registry.lock().unwrap().push(connection);
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = upstream.into_split();
                tokio::spawn(pump(client_read, server_write, up));
                tokio::spawn(pump(server_read, client_write, down));
            }
        });
        Proxy { url, connections }
    }

    fn connections(&self) -> Vec<Captured> {
        self.connections
            .lock()
            .unwrap()
            .iter()
            .map(|c| Captured {
                up: c.up.lock().unwrap().clone(),
                down: c.down.lock().unwrap().clone(),
            })
            .collect()
    }
}

/// Copies `from` to `to`, recording each chunk before it is forwarded, so
/// whatever the other side received is in the record.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    record: Arc<Mutex<Vec<u8>>>,
) {
    let mut buffer = vec![0; 64 * 1024];
    while let Ok(n @ 1..) = from.read(&mut buffer).await {
        record.lock().unwrap().extend_from_slice(&buffer[..n]);
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Captured {
    /// The payloads of the WebSocket frames after the upgrade, unmasked
    /// (a client masks its frames, which hides them from a raw byte scan);
    /// `None` for plain HTTP connections.
    fn websocket_payloads(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        let up = after_headers(&self.up, b"GET /websocket")?;
        let down = after_headers(&self.down, b"HTTP/1.1 101")?;
        Some((frame_payloads(up), frame_payloads(down)))
    }
}

fn after_headers<'a>(stream: &'a [u8], start_line: &[u8]) -> Option<&'a [u8]> {
    let start = find(stream, start_line)?;
    let end = find(&stream[start..], b"\r\n\r\n")?;
    Some(&stream[start + end + 4..])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The payloads of RFC 6455 frames, unmasked; a newline after each final
/// fragment, so fragments of one message stay contiguous.
fn frame_payloads(mut stream: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let [first, second, rest @ ..] = stream {
        assert_eq!(first & 0x40, 0, "a compressed WebSocket frame");
        let (len, rest) = match second & 0x7f {
            126 if rest.len() >= 2 => (u16::from_be_bytes([rest[0], rest[1]]) as usize, &rest[2..]),
            127 if rest.len() >= 8 => (
                u64::from_be_bytes(rest[..8].try_into().unwrap()) as usize,
                &rest[8..],
            ),
            126 | 127 => break,
            len => (len as usize, rest),
        };
        let (mask, rest) = match second & 0x80 {
            0 => ([0; 4], rest),
            _ if rest.len() >= 4 => (rest[..4].try_into().unwrap(), &rest[4..]),
            _ => break,
        };
        let payload = &rest[..len.min(rest.len())];
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        if first & 0x80 != 0 {
            out.push(b'\n');
        }
        stream = &rest[payload.len()..];
    }
    out
}

/// One encoded form of one secret.
#[derive(Debug, Clone)]
struct Needle {
    secret: String,
    encoding: String,
    bytes: Vec<u8>,
}

/// A needle found somewhere.
#[derive(Debug)]
struct Finding {
    secret: String,
    encoding: String,
    place: String,
    offset: usize,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) in {} at offset {}",
            self.secret, self.encoding, self.place, self.offset
        )
    }
}

/// Finds many needles in one pass: every needle is indexed by its first 8
/// bytes, and a bit filter over those prefixes rejects almost every
/// position at the cost of one multiply (this runs unoptimised on
/// megabytes of log, for hundreds of needles).
struct Scanner {
    needles: Vec<Needle>,
    prefixes: Vec<(u64, usize)>,
    filter: Vec<u64>,
}

const FILTER_BITS: u32 = 20;
/// Shorter needles could match by chance.
const MIN_NEEDLE: usize = 16;

fn prefix_of(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes[..8].try_into().unwrap())
}

fn bucket(prefix: u64) -> usize {
    (prefix.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - FILTER_BITS)) as usize
}

impl Scanner {
    fn new(needles: Vec<Needle>) -> Scanner {
        let mut seen = HashSet::new();
        let needles: Vec<Needle> = needles
            .into_iter()
            .filter(|n| seen.insert(n.bytes.clone()))
            .collect();
        let mut prefixes = Vec::new();
        let mut filter = vec![0u64; 1 << (FILTER_BITS - 6)];
        for (i, needle) in needles.iter().enumerate() {
            assert!(
                needle.bytes.len() >= MIN_NEEDLE,
                "{} ({}) is too short to search for",
                needle.secret,
                needle.encoding
            );
            let prefix = prefix_of(&needle.bytes);
            prefixes.push((prefix, i));
            let b = bucket(prefix);
            filter[b / 64] |= 1 << (b % 64);
        }
        prefixes.sort_unstable();
        Scanner {
            needles,
            prefixes,
            filter,
        }
    }

    fn secrets(&self) -> usize {
        self.needles
            .iter()
            .map(|n| n.secret.as_str())
            .collect::<HashSet<_>>()
            .len()
    }

    fn scan(&self, place: &str, haystack: &[u8]) -> Vec<Finding> {
        let mut found = Vec::new();
        for (offset, window) in haystack.windows(8).enumerate() {
            let prefix = prefix_of(window);
            let b = bucket(prefix);
            if self.filter[b / 64] & (1 << (b % 64)) == 0 {
                continue;
            }
            let first = self.prefixes.partition_point(|(p, _)| *p < prefix);
            for &(p, i) in &self.prefixes[first..] {
                if p != prefix {
                    break;
                }
                let needle = &self.needles[i];
                if haystack[offset..].starts_with(&needle.bytes) {
                    found.push(Finding {
                        secret: needle.secret.clone(),
                        encoding: needle.encoding.clone(),
                        place: place.to_owned(),
                        offset,
                    });
                }
            }
        }
        found
    }
}

/// Every secret of the flow in every encoding.
fn secret_needles(
    files: &[Vec<u8>],
    tokens: &[(&str, String)],
    aes_keys: &[(String, Vec<u8>)],
) -> Vec<Needle> {
    let mut needles = Vec::new();
    for (label, token) in tokens {
        needles.extend(text_forms(label, token));
    }
    for (label, key) in aes_keys {
        needles.extend(binary_forms(label, "the key", key));
    }
    for (label, name) in [
        ("alice private key", "alice"),
        ("alice rotated private key", "carol"),
        ("bob private key", "bob"),
        (SERVER_KEY, "server"),
    ] {
        needles.extend(key_forms(label, &key(name)));
    }
    for (label, text) in [
        ("alice password", ALICE_PASSWORD),
        ("alice rotated password", ALICE_PASSWORD_ROTATED),
        ("bob password", BOB_PASSWORD),
        ("alice sync password", SYNC_PASSWORD),
        ("alice rotated sync password", SYNC_PASSWORD_ROTATED),
        ("conversation name", CONVERSATION_NAME),
    ] {
        needles.extend(text_forms(label, text));
    }
    for (i, text) in TEXTS.iter().enumerate() {
        needles.extend(text_forms(&format!("message text {i}"), text));
    }
    for (name, bytes) in FILE_NAMES.iter().zip(files) {
        needles.extend(text_forms(&format!("file name {name}"), name));
        needles.extend(file_forms(&format!("file content {name}"), bytes));
    }
    needles
}

/// Public values that must be found (in the database, on the wire): the
/// scan reads real data where it looks.
fn control_needles() -> Vec<Needle> {
    // Bob's: alice's is replaced by the rotation.
    let spki = key("bob").public_key().to_spki_der().to_vec();
    let mut needles = binary_forms("bob public key", "SPKI[100..148]", &spki[100..148]);
    needles.extend(
        binary_forms(
            "server public key",
            "SPKI[100..148]",
            &key("server").public_key().to_spki_der()[100..148],
        )
        .into_iter()
        .filter(|n| n.encoding.starts_with("base64 ")),
    );
    let envelope = br#"{"version":1,"key":""#;
    needles.push(Needle {
        secret: "wire request envelope".into(),
        encoding: "JSON".into(),
        bytes: envelope.to_vec(),
    });
    // tungstenite's trace log dumps each frame's payload in hex.
    needles.push(Needle {
        secret: "wire request envelope".into(),
        encoding: "hex".into(),
        bytes: hex(envelope).into_bytes(),
    });
    needles
}

/// A private key: two windows of its PKCS#8 DER (inside the private
/// exponent and the second prime) in the binary encodings, and a line of its PEM
/// (base64 wrapped at 64 columns never holds a longer run).
fn key_forms(label: &str, key: &PrivateKey) -> Vec<Needle> {
    let der = key.to_pkcs8_der().unwrap();
    let mut needles = Vec::new();
    for start in [der.len() / 3, 2 * der.len() / 3] {
        let window = &der[start..start + 48];
        needles.extend(binary_forms(
            label,
            &format!("DER[{start}..{}]", start + 48),
            window,
        ));
    }
    let pem = key.to_pkcs8_pem().unwrap();
    let lines: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let middle = lines.len() / 2;
    needles.push(Needle {
        secret: label.into(),
        encoding: format!("PEM line {middle}"),
        bytes: lines[middle].as_bytes().to_vec(),
    });
    needles
}

/// File content: windows at its start, middle and end.
fn file_forms(label: &str, bytes: &[u8]) -> Vec<Needle> {
    [0, bytes.len() / 2, bytes.len() - 48]
        .into_iter()
        .flat_map(|start| {
            binary_forms(
                label,
                &format!("[{start}..{}]", start + 48),
                &bytes[start..start + 48],
            )
        })
        .collect()
}

/// Raw, hex, `Debug` of the bytes, and base64 (standard and URL-safe) at
/// each of the three alignments a larger encoded buffer may give them.
fn binary_forms(label: &str, what: &str, bytes: &[u8]) -> Vec<Needle> {
    let form = |encoding: String, bytes: Vec<u8>| Needle {
        secret: label.into(),
        encoding: format!("{encoding} of {what}"),
        bytes,
    };
    let debug = format!("{:?}", &bytes[..24]);
    let mut needles = vec![
        form("raw".into(), bytes.to_vec()),
        form("hex".into(), hex(bytes).into_bytes()),
        form(
            "Debug of the first 24 bytes".into(),
            debug.trim_matches(['[', ']']).as_bytes().to_vec(),
        ),
    ];
    needles.extend(base64_forms(bytes).into_iter().map(|(e, b)| form(e, b)));
    needles
}

/// A string as it could be written: raw, JSON-escaped (also with `\u` for
/// non-ASCII, and twice), `Debug`, `Debug` inside JSON; the raw and
/// JSON-escaped forms also in base64 and the raw one in hex.
fn text_forms(label: &str, text: &str) -> Vec<Needle> {
    let form = |encoding: &str, bytes: Vec<u8>| Needle {
        secret: label.into(),
        encoding: encoding.into(),
        bytes,
    };
    let json = json_escape(text);
    let mut needles = vec![
        form("UTF-8", text.as_bytes().to_vec()),
        form("JSON-escaped", json.clone().into_bytes()),
        form("JSON-escaped, ASCII", ascii_escape(&json).into_bytes()),
        form("JSON-escaped twice", json_escape(&json).into_bytes()),
        form("Debug", debug_escape(text).into_bytes()),
        form(
            "Debug, JSON-escaped",
            json_escape(&debug_escape(text)).into_bytes(),
        ),
        form("hex", hex(text.as_bytes()).into_bytes()),
    ];
    for (what, bytes) in [("UTF-8", text), ("JSON-escaped", json.as_str())] {
        needles.extend(
            base64_forms(bytes.as_bytes())
                .into_iter()
                .map(|(e, b)| form(&format!("{e} of {what}"), b)),
        );
    }
    needles
}

/// For each alignment `k`, the base64 of `bytes[k..]` cut to whole 3-byte
/// groups: what any base64 of a buffer holding `bytes` contains whole.
fn base64_forms(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut forms = Vec::new();
    for k in 0..3 {
        let groups = (bytes.len() - k) / 3 * 3;
        let aligned = &bytes[k..k + groups];
        forms.push((
            format!("base64 +{k}"),
            STANDARD.encode(aligned).into_bytes(),
        ));
        forms.push((
            format!("base64url +{k}"),
            URL_SAFE_NO_PAD.encode(aligned).into_bytes(),
        ));
    }
    forms
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json_escape(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap();
    quoted[1..quoted.len() - 1].to_owned()
}

fn debug_escape(text: &str) -> String {
    let quoted = format!("{text:?}");
    quoted[1..quoted.len() - 1].to_owned()
}

/// JSON escaping as ASCII-only encoders (Python's `json.dumps`) write it.
fn ascii_escape(json: &str) -> String {
    let mut out = String::new();
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The scanner finds each kind of secret leaked the way the encodings
/// anticipate, at any offset and alignment, and nothing in clean data: a
/// broken scanner cannot let the flow pass silently.
#[test]
fn the_scanner_finds_planted_secrets() {
    let file = file_bytes("planted", FILE_SIZE);
    let planted_key = key("dave");
    let der = planted_key.to_pkcs8_der().unwrap();
    let text = TEXTS[1];
    let password = ALICE_PASSWORD;
    let mut needles = key_forms("key", &planted_key);
    needles.extend(file_forms("file", &file));
    needles.extend(text_forms("text", text));
    needles.extend(text_forms("password", password));
    let scanner = Scanner::new(needles);
    let noise = file_bytes("noise", 3000);

    let padded = |offset: usize, inner: &[u8]| -> Vec<u8> {
        let mut out = noise[..offset].to_vec();
        out.extend_from_slice(inner);
        out
    };
    let planted: Vec<(&str, &str, Vec<u8>)> =
        vec![
        ("file", "raw at offset 7", padded(7, &file)),
        (
            "file",
            "base64, file at offset 0",
            STANDARD.encode(&file).into_bytes(),
        ),
        (
            "file",
            "base64, file at offset 1",
            STANDARD.encode(padded(1, &file)).into_bytes(),
        ),
        (
            "file",
            "base64, file at offset 2",
            STANDARD.encode(padded(2, &file)).into_bytes(),
        ),
        (
            "file",
            "base64url, file at offset 1",
            URL_SAFE_NO_PAD.encode(padded(1, &file)).into_bytes(),
        ),
        ("file", "hex", hex(&padded(3, &file)).into_bytes()),
        ("file", "Debug", format!("{:?}", &file[..]).into_bytes()),
        ("key", "DER", padded(5, &der)),
        ("key", "PEM", planted_key.to_pkcs8_pem().unwrap().as_bytes().to_vec()),
        (
            "key",
            "base64 PKCS#8 at offset 1",
            STANDARD.encode(padded(1, &der)).into_bytes(),
        ),
        (
            "key",
            "base64 PKCS#8 at offset 2",
            STANDARD.encode(padded(2, &der)).into_bytes(),
        ),
        (
            "key",
            "JSON with the PEM",
            serde_json::json!({ "pem": planted_key.to_pkcs8_pem().unwrap().as_str() })
                .to_string()
                .into_bytes(),
        ),
        ("text", "raw", padded(11, text.as_bytes())),
        (
            "text",
            "JSON",
            serde_json::json!({ "text": text }).to_string().into_bytes(),
        ),
        (
            "text",
            "Debug in a JSON log line",
            serde_json::json!({ "fields": { "message": format!("got {text:?}") } })
                .to_string()
                .into_bytes(),
        ),
        (
            "text",
            "base64 of content JSON",
            STANDARD
                .encode(serde_json::json!({ "text": text }).to_string())
                .into_bytes(),
        ),
        (
            "password",
            "base64 at offset 2",
            STANDARD
                .encode(padded(2, password.as_bytes()))
                .into_bytes(),
        ),
        (
            "password",
            "JSON-escaped twice",
            serde_json::json!({ "body": serde_json::json!({ "password": password }).to_string() })
                .to_string()
                .into_bytes(),
        ),
    ];
    for (secret, how, haystack) in &planted {
        let found = scanner.scan(how, haystack);
        assert!(
            found.iter().any(|f| f.secret == *secret),
            "{secret} planted as {how} not found"
        );
        assert!(
            found.iter().all(|f| f.secret == *secret),
            "{how}: {found:?}"
        );
    }
    let found = scanner.scan("offset", &padded(123, password.as_bytes()));
    assert_eq!(found[0].offset, 123);
    assert_eq!(found[0].encoding, "UTF-8");

    let mut clean = noise.clone();
    clean.extend(STANDARD.encode(&noise).into_bytes());
    clean.extend(hex(&noise).into_bytes());
    clean.extend(key("erin").to_pkcs8_pem().unwrap().as_bytes());
    clean.extend(
        text_forms("other", TEXTS[0])
            .into_iter()
            .flat_map(|n| n.bytes),
    );
    assert!(scanner.scan("clean", &clean).is_empty());
    // A secret cut short is not the secret.
    assert!(
        scanner
            .scan("truncated", &password.as_bytes()[..password.len() - 1])
            .is_empty()
    );
}
