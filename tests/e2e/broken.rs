//! Deliberately broken servers: each protocol rule switched off in turn
//! (`Config::rules`), and the attack that rule stops now gets through. This
//! is what proves the rejection tests elsewhere can fail, and it is the seed
//! of the conformance suite's broken-server catalogue.

use nanochat::client::{Bodies, Session};
use nanochat::crypto::sha256;
use nanochat::models::{BaseConversation, BaseUser, Conversation, CreateConversation};
use nanochat::server::Rules;
use uuid::Uuid;

use crate::messages::sealed;
use crate::support::{TestServer, body, code, duo, key};

async fn broken(off: impl FnOnce(&mut Rules)) -> TestServer {
    TestServer::start_with(|c| off(&mut c.rules)).await
}

#[tokio::test]
async fn without_freshness_stale_requests_pass() {
    let server = broken(|r| r.freshness = false).await;
    let alice = server.user("alice").await;
    let mut stale = body(
        &alice,
        &nanochat::bodies::Request::UserGet(BaseUser {
            username: "alice".into(),
        }),
    );
    stale.created_at -= time::Duration::hours(2);
    let (envelope, secret) = alice.seal(&stale, true).await.unwrap();
    // The server answers; only the client's own freshness check (on the
    // response, which is fresh) would not notice anything.
    alice
        .send(&stale, &envelope, &secret)
        .await
        .expect("a broken server accepts stale requests");
}

#[tokio::test]
async fn without_the_replay_guard_replays_pass() {
    let server = broken(|r| r.replay = false).await;
    let alice = server.user("alice").await;
    let request = body(
        &alice,
        &nanochat::bodies::Request::UserGet(BaseUser {
            username: "alice".into(),
        }),
    );
    let (envelope, secret) = alice.seal(&request, true).await.unwrap();
    alice.send(&request, &envelope, &secret).await.unwrap();
    alice
        .send(&request, &envelope, &secret)
        .await
        .expect("a broken server accepts the replay");
}

#[tokio::test]
async fn without_signatures_impostors_pass() {
    let server = broken(|r| r.signature = false).await;
    server.user("alice").await;
    let impostor = Session::connect(&server.url, "alice", Some(key("bob")))
        .await
        .unwrap();
    impostor
        .user_get(BaseUser {
            username: "alice".into(),
        })
        .await
        .expect("a broken server believes the impostor");
}

#[tokio::test]
async fn without_message_signatures_forgeries_are_stored() {
    let server = broken(|r| r.message_signature = false).await;
    let (alice, _bob, c) = duo(&server).await;
    let forged = sealed(&key("bob"), &c, Uuid::new_v4(), "I am alice", None);
    alice
        .message_create(forged)
        .await
        .expect("a broken server stores the forgery");
}

#[tokio::test]
async fn without_name_signatures_forged_names_are_stored() {
    let server = broken(|r| r.name_signature = false).await;
    let (alice, _bob, c) = duo(&server).await;
    let readers = nanochat::client::names::member_keys(&c.members).unwrap();
    let forged =
        nanochat::client::names::seal(&key("bob"), c.id, 1, "bob says so", &readers).unwrap();
    alice
        .conversation_update(Conversation {
            id: c.id,
            name: Some(forged),
            remove_name: None,
            members: None,
        })
        .await
        .expect("a broken server stores a name its sender did not sign");
}

#[tokio::test]
async fn without_member_matching_unreadable_names_are_stored() {
    let server = broken(|r| r.members_match = false).await;
    let (alice, _bob, c) = duo(&server).await;
    let mut readers = nanochat::client::names::member_keys(&c.members).unwrap();
    readers.retain(|r| r.username == "alice");
    let partial =
        nanochat::client::names::seal(&key("alice"), c.id, 1, "bob cannot read this", &readers)
            .unwrap();
    alice
        .conversation_update(Conversation {
            id: c.id,
            name: Some(partial),
            remove_name: None,
            members: None,
        })
        .await
        .expect("a broken server stores a name bob has no key for");
}

#[tokio::test]
async fn without_member_matching_partial_key_sets_are_stored() {
    let server = broken(|r| r.members_match = false).await;
    let (alice, _bob, c) = duo(&server).await;
    let mut partial = sealed(
        &key("alice"),
        &c,
        Uuid::new_v4(),
        "bob cannot read this",
        None,
    );
    partial.keys.retain(|k| k.username == "alice");
    // The signature covers the recipient list, so re-sign over what is left.
    let resigned = {
        let received: Vec<_> = partial
            .keys
            .iter()
            .map(|k| (k.username.clone(), k.key.to_vec()))
            .collect();
        let digests: Vec<nanochat::crypto::RecipientDigest> = received
            .iter()
            .map(|(u, k)| nanochat::crypto::RecipientDigest {
                username: u.clone(),
                key_digest: sha256(k),
            })
            .collect();
        let iv: [u8; 12] = partial.content_iv.as_slice().try_into().unwrap();
        let bytes = nanochat::crypto::message_signed_bytes(
            &partial.conversation_id,
            &partial.id,
            &iv,
            &partial.content,
            None,
            &digests,
        )
        .unwrap();
        key("alice").sign_pss(&bytes).unwrap()
    };
    partial.signature = resigned.into();
    // Re-signed over the version 1 bytes above.
    partial.signature_version = None;
    alice
        .message_create(partial)
        .await
        .expect("a broken server stores a message bob has no key for");
}

#[tokio::test]
async fn without_membership_outsiders_read_conversations() {
    let server = broken(|r| r.membership = false).await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    let carol = server.user("carol").await;
    let c = alice
        .create_conversation(&["bob"], Some("private"))
        .await
        .unwrap();
    let seen = carol
        .conversation_get(BaseConversation { id: c.id })
        .await
        .expect("a broken server shows it");
    // The metadata leaks, but the sealed name does not: carol holds no key.
    assert!(seen.name.as_ref().is_some_and(|n| n.key.is_none()));
    assert!(carol.open_name(&seen).await.is_err());
    // And with the rule on, the same request is refused.
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    let carol = server.user("carol").await;
    let c = alice
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["bob".into()],
        })
        .await
        .unwrap();
    assert_eq!(
        code(carol.conversation_get(BaseConversation { id: c.id }).await),
        "not_found"
    );
}
