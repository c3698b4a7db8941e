//! The envelope pipeline's rejections: stale, future, replayed, tampered,
//! wrong signature, unknown user, malformed, too large, rate limited; and
//! what survives a restart.

use nanochat::bodies::Request;
use nanochat::client::{Bodies, ClientError, Session};
use nanochat::models::{BaseUser, CreateConversation, EncryptedBody};

use crate::support::{TestServer, body, code, key};

fn get_bob() -> Request {
    Request::UserGet(BaseUser {
        username: "bob".into(),
    })
}

async fn send(
    session: &Session,
    body: &nanochat::models::Body,
    sign: bool,
) -> Result<serde_json::Value, ClientError> {
    let (envelope, secret) = session.seal(body, sign).await?;
    session.send(body, &envelope, &secret).await
}

#[tokio::test]
async fn stale_and_future_requests_are_refused() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    let mut stale = body(&alice, &get_bob());
    stale.created_at -= time::Duration::seconds(301);
    assert_eq!(code(send(&alice, &stale, true).await), "stale");
    let mut future = body(&alice, &get_bob());
    future.created_at += time::Duration::seconds(301);
    assert_eq!(code(send(&alice, &future, true).await), "stale");
    let mut edge = body(&alice, &get_bob());
    edge.created_at -= time::Duration::seconds(290);
    send(&alice, &edge, true).await.expect("inside the window");
}

#[tokio::test]
async fn replays_are_refused_across_a_restart() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    let request = body(&alice, &get_bob());
    let (envelope, secret) = alice.seal(&request, true).await.unwrap();
    alice.send(&request, &envelope, &secret).await.unwrap();
    assert_eq!(
        code(alice.send(&request, &envelope, &secret).await),
        "replayed"
    );
    // The same request_id in a brand-new envelope is a replay too.
    assert_eq!(code(send(&alice, &request, true).await), "replayed");

    let server = server.restart().await;
    let alice = Session::connect(&server.url, "alice", Some(key("alice")))
        .await
        .unwrap();
    assert_eq!(
        code(alice.send(&request, &envelope, &secret).await),
        "replayed",
        "the guard is durable"
    );
    // And the data survived: bob is still there.
    alice
        .user_get(BaseUser {
            username: "bob".into(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn tampering_is_detected() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    let flip = |mut envelope: EncryptedBody, field: &str| {
        let bytes = match field {
            "key" => &mut envelope.key.as_mut().unwrap().0,
            "iv" => &mut envelope.iv.0,
            "data" => &mut envelope.data.0,
            _ => &mut envelope.signature.as_mut().unwrap().0,
        };
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        envelope
    };
    for (field, expected) in [
        ("key", "undecryptable"),
        ("iv", "undecryptable"),
        ("data", "undecryptable"),
        ("signature", "bad_signature"),
    ] {
        let request = body(&alice, &get_bob());
        let (envelope, secret) = alice.seal(&request, true).await.unwrap();
        let result = alice.send(&request, &flip(envelope, field), &secret).await;
        assert_eq!(code(result), expected, "flipping {field}");
    }
}

#[tokio::test]
async fn signatures_must_match_the_named_user() {
    let server = TestServer::start().await;
    server.user("alice").await;
    server.user("bob").await;
    let impostor = Session::connect(&server.url, "alice", Some(key("bob")))
        .await
        .unwrap();
    assert_eq!(
        code(
            impostor
                .user_get(BaseUser {
                    username: "bob".into()
                })
                .await
        ),
        "bad_signature"
    );
    let alice = server.session("alice").await;
    assert_eq!(
        code(send(&alice, &body(&alice, &get_bob()), false).await),
        "bad_signature",
        "unsigned"
    );
    let ghost = Session::connect(&server.url, "ghost", Some(key("carol")))
        .await
        .unwrap();
    assert_eq!(
        code(
            ghost
                .user_get(BaseUser {
                    username: "bob".into()
                })
                .await
        ),
        "unknown_user"
    );
}

#[tokio::test]
async fn malformed_bodies_get_precise_codes() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let mut unknown = body(&alice, &get_bob());
    unknown.r#type = "user.teleport".into();
    assert_eq!(code(send(&alice, &unknown, true).await), "unknown_type");
    let mut bad_payload = body(&alice, &get_bob());
    bad_payload.payload = Some(
        serde_json::json!({"username": 42})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert_eq!(code(send(&alice, &bad_payload, true).await), "bad_request");
    let mut anonymous = body(&alice, &get_bob());
    anonymous.username = None;
    assert_eq!(code(send(&alice, &anonymous, true).await), "bad_request");
    assert_eq!(
        code(send(&alice, &body(&alice, &Request::SessionOpen), true).await),
        "bad_request",
        "session.open over HTTP"
    );
}

#[tokio::test]
async fn broken_envelopes_get_plain_errors() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/encrypted", server.url);
    let cases = [
        ("not json", 400, "bad_envelope"),
        (
            r#"{"version":1,"iv":"AAECAwQFBgcICQoL","data":"AAAA"}"#,
            400,
            "bad_envelope",
        ),
        (
            r#"{"version":2,"key":"AAAA","iv":"AAECAwQFBgcICQoL","data":"AAAA"}"#,
            400,
            "bad_envelope",
        ),
        (
            r#"{"version":1,"key":"AAAA","iv":"AAEC","data":"AAAA"}"#,
            400,
            "bad_envelope",
        ),
        (
            r#"{"version":1,"key":"!!!","iv":"AAECAwQFBgcICQoL","data":"AAAA"}"#,
            400,
            "bad_envelope",
        ),
        (
            r#"{"version":1,"key":"AAAA","iv":"AAECAwQFBgcICQoL","data":"AAAA","padding":[0,0,0]}"#,
            400,
            "bad_envelope",
        ),
        (
            r#"{"version":1,"key":"AAAA","iv":"AAECAwQFBgcICQoL","data":"AAAA"}"#,
            401,
            "undecryptable",
        ),
    ];
    let mut texts = Vec::new();
    for (text, status, expected) in cases {
        let response = http
            .post(&url)
            .header("content-type", "application/json")
            .body(text)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{text}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["code"], expected, "{text}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{text}");
        texts.push(format!("{status} {text}\n  -> {message}"));
    }
    // What a client author reads when an envelope is wrong.
    insta::assert_snapshot!("plain_envelope_errors", texts.join("\n"));
}

#[tokio::test]
async fn oversized_requests_get_413() {
    let server = TestServer::start_with(|c| c.limits.max_body_bytes = 4096).await;
    let alice = server.user("alice").await;
    let big = alice
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: (0..500).map(|i| format!("member{i}")).collect(),
        })
        .await;
    assert_eq!(code(big), "too_large");
    // Without a Content-Length (chunked), too.
    let chunks =
        futures_util::stream::iter((0..10).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1000])));
    let response = reqwest::Client::new()
        .post(format!("{}/encrypted", server.url))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
}

#[tokio::test]
async fn peers_are_rate_limited_before_any_rsa_work() {
    let server = TestServer::start_with(|c| {
        c.peer_burst = 3;
        c.peer_rate_per_second = 1;
    })
    .await;
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = http
            .post(format!("{}/encrypted", server.url))
            .header("content-type", "application/json")
            .body(r#"{"version":1,"key":"AAAA","iv":"AAECAwQFBgcICQoL","data":"AAAA"}"#)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    // The first envelope costs RSA work and fails: it costs its address
    // FAILED_ENVELOPE_COST more tokens, so the rest of the burst is gone.
    assert_eq!(statuses, [401, 429, 429, 429, 429]);
}

#[tokio::test]
async fn refusals_are_held_and_say_when_to_retry() {
    let hold = std::time::Duration::from_millis(300);
    let server = TestServer::start_with(|c| {
        c.peer_burst = 1;
        c.peer_rate_per_second = 1;
        c.rate_limited_delay = hold;
    })
    .await;
    let http = reqwest::Client::new();
    let send = || {
        http.post(format!("{}/encrypted", server.url))
            .header("content-type", "application/json")
            .body(r#"{"version":1,"key":"AAAA","iv":"AAECAwQFBgcICQoL","data":"AAAA"}"#)
            .send()
    };
    assert_eq!(send().await.unwrap().status().as_u16(), 401);
    let started = std::time::Instant::now();
    let refused = send().await.unwrap();
    // A functional check (the answer was held at all), not a timing target.
    assert!(
        started.elapsed() >= hold,
        "answered after {:?}",
        started.elapsed()
    );
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert!(
        refused
            .headers()
            .get("connection")
            .is_none_or(|c| c != "close")
    );
}

#[tokio::test]
async fn only_envelopes_that_fail_to_authenticate_cost_extra() {
    // Room for the setup and five requests, and less than one penalty.
    let server = TestServer::start_with(|c| {
        c.peer_burst = 26;
        c.peer_rate_per_second = 1;
    })
    .await;
    server.user("alice").await;
    let alice = server.session("alice").await;
    // Authenticated requests cost one token each, failures included.
    for _ in 0..5 {
        assert_eq!(
            code(
                alice
                    .user_get(BaseUser {
                        username: "nobody".into()
                    })
                    .await
            ),
            "not_found"
        );
    }
    let http = reqwest::Client::new();
    let garbage = || {
        http.post(format!("{}/encrypted", server.url))
            .header("content-type", "application/json")
            .body(r#"{"version":1,"key":"AAAA","iv":"AAECAwQFBgcICQoL","data":"AAAA"}"#)
            .send()
    };
    assert_eq!(garbage().await.unwrap().status().as_u16(), 401);
    assert_eq!(
        garbage().await.unwrap().status().as_u16(),
        429,
        "one undecryptable envelope cost {} tokens",
        nanochat::server::state::FAILED_ENVELOPE_COST + 1
    );
}

#[tokio::test]
async fn health_and_references() {
    let server = TestServer::start().await;
    let health: serde_json::Value = reqwest::get(format!("{}/health", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let references = nanochat::client::http::Client::new(&server.url)
        .get_references()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(references.protocol_version, 1);
    assert_eq!(references.freshness_window_seconds, 300);
    assert_eq!(
        references.server_fingerprint,
        key("server").fingerprint().to_string()
    );
}

#[tokio::test]
async fn a_pinned_client_refuses_a_different_server_key() {
    let server = TestServer::start().await;
    server.user("alice").await;
    let right = key("server").fingerprint();
    Session::connect_pinned(&server.url, "alice", Some(key("alice")), &right)
        .await
        .unwrap();
    let wrong = key("bob").fingerprint();
    match Session::connect_pinned(&server.url, "alice", Some(key("alice")), &wrong).await {
        Err(ClientError::InvalidResponse(message)) => {
            assert!(message.contains("server key changed"), "{message}")
        }
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("a server with another key was accepted"),
    }
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let mut server = TestServer::start().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    let made = uuid::Uuid::new_v4();
    let request = Request::ConversationCreate(CreateConversation {
        id: made,
        name: None,
        members: vec!["bob".into()],
    });
    let request_body = body(&alice, &request);
    let (envelope, secret) = alice.seal(&request_body, true).await.unwrap();
    let json = serde_json::to_vec(&envelope).unwrap();
    let (first, rest) = json.split_at(json.len() / 2);
    let (first, rest) = (first.to_vec(), rest.to_vec());
    // The body arrives in two halves; the shutdown signal lands between them.
    let (half_sent, send_rest) = (
        tokio::sync::oneshot::channel::<()>(),
        tokio::sync::oneshot::channel::<()>(),
    );
    let (half_sent_tx, half_sent_rx) = half_sent;
    let (rest_tx, rest_rx) = send_rest;
    let chunks = futures_util::stream::unfold(
        (Some(first), Some(rest), Some(half_sent_tx), Some(rest_rx)),
        |(first, rest, tx, rx)| async move {
            if let Some(first) = first {
                return Some((Ok::<_, std::io::Error>(first), (None, rest, tx, rx)));
            }
            if let Some(tx) = tx {
                let _ = tx.send(());
            }
            if let Some(rx) = rx {
                let _ = rx.await;
            }
            rest.map(|rest| (Ok(rest), (None, None, None, None)))
        },
    );
    let url = format!("{}/encrypted", server.url);
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await
    });
    half_sent_rx.await.unwrap();
    // Give the server the first half before it hears of the shutdown.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    server.begin_stop();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    rest_tx.send(()).unwrap();
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request was answered");
    assert_eq!(response.status().as_u16(), 200);
    let answer: nanochat::models::EncryptedBody = response.json().await.unwrap();
    alice
        .open_response(&request_body, &answer, &secret)
        .expect("a valid answer");
    server.stop().await;

    // What was acknowledged is durable.
    let server = server.restart().await;
    let bob = Session::connect(&server.url, "bob", Some(key("bob")))
        .await
        .unwrap();
    let list = bob.conversation_list().await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].id, made);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_bucket() {
    let statuses = |server: &TestServer, client: &'static str| {
        let url = format!("{}/encrypted", server.url);
        async move {
            let http = reqwest::Client::new();
            let mut statuses = Vec::new();
            for _ in 0..3 {
                let response = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-forwarded-for", client)
                    .body(r#"{"version":1,"key":"AAAA","iv":"AAECAwQFBgcICQoL","data":"AAAA"}"#)
                    .send()
                    .await
                    .unwrap();
                statuses.push(response.status().as_u16());
            }
            statuses
        }
    };
    let limited = |c: &mut nanochat::server::Config| {
        c.peer_burst = 2;
        c.peer_rate_per_second = 1;
    };
    let trusting = TestServer::start_with(|c| {
        limited(c);
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // Each undecryptable envelope also costs its sender's bucket a penalty.
    assert_eq!(statuses(&trusting, "198.51.100.1").await, [401, 429, 429]);
    assert_eq!(
        statuses(&trusting, "198.51.100.2").await,
        [401, 429, 429],
        "another client, another bucket"
    );
    // Without trust the header is ignored: everyone is the TCP peer.
    let plain = TestServer::start_with(limited).await;
    assert_eq!(statuses(&plain, "198.51.100.1").await, [401, 429, 429]);
    assert_eq!(statuses(&plain, "198.51.100.2").await, [429, 429, 429]);
}
