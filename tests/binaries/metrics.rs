//! `nanochat serve --metrics-listen`: Prometheus metrics on their own
//! address, over a day's lifecycle (users created, completed, chatting on a
//! socket, refused requests, the socket gone), with no username or id in
//! them. The last scrape is kept in target/metrics-scrape.txt, which CI
//! checks with `promtool check metrics`.

use std::io::{Read, Write};
use std::net::TcpStream;

use nanochat::client::{Bodies, Socket};
use nanochat::models::BaseConversation;

use crate::support::*;

/// A plain HTTP/1.1 GET: status line, headers and body.
fn get(address: &str, path: &str) -> (String, String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_owned(), headers.to_lowercase(), body.to_owned())
}

/// The value of the sample `name` (with its labels, as written), if any.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .map(|value| value.trim().parse().unwrap())
}

fn scrape(address: &str) -> String {
    let (status, headers, body) = get(address, "/metrics");
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        headers.contains("content-type: text/plain; version=0.0.4"),
        "{headers}"
    );
    body
}

#[tokio::test]
async fn metrics_count_a_day_without_naming_anyone() {
    let dir = server_dir();
    let (mut child, url, log) = serve_with(
        dir.path(),
        "info",
        &[("NANOCHAT_METRICS_LISTEN", "127.0.0.1:0")],
    );
    let metrics = log
        .lock()
        .unwrap()
        .iter()
        .find_map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).ok()?;
            (entry["fields"]["message"] == "metrics at /metrics")
                .then(|| entry["fields"]["address"].as_str().unwrap().to_owned())
        })
        .expect("serve logs where the metrics are");

    // Before anyone completes: two pending users, nothing asked yet.
    let mut tokens = Vec::new();
    for name in ["alice", "bob"] {
        tokens.push(token_in(&run(dir.path(), &["user", "create", name])));
    }
    let text = scrape(&metrics);
    assert_eq!(
        sample(&text, r#"nanochat_users{state="pending"}"#),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"nanochat_users{state="active"}"#),
        Some(0.0),
        "{text}"
    );
    assert!(text.contains(r#"nanochat_build_info{version=""#), "{text}");

    let alice = complete_with_fixture(&url, "alice", tokens.remove(0)).await;
    let bob = complete_with_fixture(&url, "bob", tokens.remove(0)).await;
    let mut socket = Socket::open(&bob).await.unwrap();
    let conversation = alice.create_conversation(&["bob"], None).await.unwrap();
    socket.next_event().await.unwrap();
    let missing = BaseConversation {
        id: uuid::Uuid::new_v4(),
    };
    alice.conversation_delete(missing).await.unwrap_err();

    let text = scrape(&metrics);
    for (name, expected) in [
        (r#"nanochat_users{state="active"}"#, 2.0),
        (
            r#"nanochat_requests_total{body_type="user.complete",code="ok",transport="http"}"#,
            2.0,
        ),
        (
            r#"nanochat_requests_total{body_type="conversation.create",code="ok",transport="http"}"#,
            1.0,
        ),
        (
            r#"nanochat_requests_total{body_type="conversation.delete",code="not_found",transport="http"}"#,
            1.0,
        ),
        (
            r#"nanochat_requests_total{body_type="session.open",code="ok",transport="websocket"}"#,
            1.0,
        ),
        ("nanochat_websocket_sessions", 1.0),
        ("nanochat_websocket_connections", 1.0),
        ("nanochat_events_sent_total", 1.0),
    ] {
        assert_eq!(sample(&text, name), Some(expected), "{name} in {text}");
    }
    // One key unwrap per envelope; a signature check per signed request.
    let decrypts = sample(
        &text,
        r#"nanochat_rsa_operations_total{operation="decrypt"}"#,
    );
    assert!(decrypts.is_some_and(|n| n >= 5.0), "{text}");
    let verifies = sample(
        &text,
        r#"nanochat_rsa_operations_total{operation="verify"}"#,
    );
    assert!(verifies.is_some_and(|n| n >= 4.0), "{text}");
    // Completing two users and creating a conversation are writes.
    let writes = sample(&text, "nanochat_db_write_transactions_total");
    assert!(writes.is_some_and(|n| n >= 3.0), "{text}");
    assert!(
        sample(&text, "nanochat_db_write_seconds_total").is_some_and(|s| s > 0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"nanochat_rate_limited_total{answer="held"}"#),
        Some(0.0),
        "{text}"
    );
    let busy = sample(&text, r#"nanochat_db_pool_connections{state="busy"}"#);
    let idle = sample(&text, r#"nanochat_db_pool_connections{state="idle"}"#);
    // The group commit's writer keeps one connection (busy) between
    // groups; the reads open at least one more.
    assert!(
        busy.is_some_and(|n| n >= 1.0) && busy.zip(idle).is_some_and(|(b, i)| b + i >= 2.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            r#"nanochat_request_duration_seconds_count{body_type="conversation.create"}"#
        ) == Some(1.0),
        "{text}"
    );

    // A socket that goes away is counted as ended by its client, and an
    // envelope that is not JSON as a refusal before any Body was read.
    drop(socket);
    let mut stream = TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    write!(
        stream,
        "POST /encrypted HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let mut text = scrape(&metrics);
    for _ in 0..50 {
        if sample(&text, "nanochat_websocket_connections") == Some(0.0) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        text = scrape(&metrics);
    }
    assert_eq!(
        sample(&text, "nanochat_websocket_connections"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "nanochat_websocket_sessions"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"nanochat_websocket_closed_total{reason="client"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"nanochat_requests_total{body_type="unknown",code="bad_envelope",transport="http"}"#
        ),
        Some(1.0),
        "{text}"
    );

    // Nobody is named, no id appears, and the chat's own address does not
    // serve the metrics.
    for secret in ["alice", "bob", &conversation.id.to_string()] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let (_, _, page) = get(url.trim_start_matches("http://"), "/metrics");
    assert!(!page.contains("nanochat_requests_total"), "{page}");
    let (status, _, _) = get(&metrics, "/");
    assert!(status.contains(" 404 "), "{status}");

    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("metrics-scrape.txt"), &text).unwrap();
    assert!(terminate(&mut child).success());
}
