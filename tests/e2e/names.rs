//! Sealed conversation names: only members read them, added members read
//! the current one, removed members never read a later one, tampering is
//! refused by the server or caught by readers, and names are re-sealed when
//! a member's key changes.

use nanochat::bodies::Event;
use nanochat::client::names::{member_keys, seal, sealer_member};
use nanochat::client::{Bodies, ClientError, Session, Socket};
use nanochat::crypto::CryptoError;
use nanochat::models::{BaseConversation, Conversation, CreateConversation, MessageConversation};
use uuid::Uuid;

use crate::support::{TestServer, code, complete, key, token_in};

/// Opens the name of `view` as `reader`, verified with the sealer's current
/// member key (these tests never rotate a sealer's key).
fn open(
    view: &MessageConversation,
    reader: &str,
    reader_key: &nanochat::crypto::PrivateKey,
) -> Result<Option<String>, ClientError> {
    let Some(sealer) = sealer_member(view)? else {
        return Ok(None);
    };
    let sealer_key = nanochat::crypto::PublicKey::from_spki_der(&sealer.public_key)?;
    nanochat::client::names::open(view, reader, reader_key, &sealer_key)
}

async fn get(session: &Session, id: Uuid) -> MessageConversation {
    session
        .conversation_get(BaseConversation { id })
        .await
        .expect("conversation.get")
}

/// The name as `session` reads it from a fresh `conversation.get`.
async fn name_seen_by(session: &Session, id: Uuid) -> Option<String> {
    session
        .open_name(&get(session, id).await)
        .await
        .expect("the name opens")
}

#[tokio::test]
async fn members_read_the_name_and_added_members_read_the_current_one() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let c = alice
        .create_conversation(&["bob"], Some("Layoffs 2027"))
        .await
        .unwrap();
    assert_eq!(c.name_revision, 1);
    assert_eq!(
        name_seen_by(&bob, c.id).await.as_deref(),
        Some("Layoffs 2027")
    );
    let listed = bob.conversation_list().await.unwrap();
    assert_eq!(
        bob.open_name(&listed.items[0]).await.unwrap().as_deref(),
        Some("Layoffs 2027")
    );

    let renamed = bob
        .rename_conversation(&get(&bob, c.id).await, "Reorg")
        .await
        .unwrap();
    assert_eq!(renamed.name_revision, 2);
    // The owner adds carol: the name is re-sealed for her in the same update.
    alice
        .set_members(&get(&alice, c.id).await, &["alice", "bob", "carol"])
        .await
        .unwrap();
    assert_eq!(name_seen_by(&carol, c.id).await.as_deref(), Some("Reorg"));
    assert_eq!(get(&carol, c.id).await.name_revision, 3);
}

#[tokio::test]
async fn a_removed_member_cannot_read_a_later_name() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    let carol = server.user("carol").await;
    let c = alice
        .create_conversation(&["bob", "carol"], Some("Before"))
        .await
        .unwrap();
    let carols_view = get(&carol, c.id).await;
    alice
        .set_members(&get(&alice, c.id).await, &["alice", "bob"])
        .await
        .unwrap();
    let after = alice
        .rename_conversation(&get(&alice, c.id).await, "After carol left")
        .await
        .unwrap();
    assert_eq!(
        code(carol.conversation_get(BaseConversation { id: c.id }).await),
        "not_found"
    );
    let name = after.name.as_ref().unwrap();
    assert!(name.recipients.iter().all(|r| r.username != "carol"));
    // Even handed the new sealed name (with alice's key in it), carol's key
    // opens nothing: she is not a signed recipient.
    let mut leaked = after.clone();
    leaked.members = carols_view.members.clone();
    assert!(matches!(
        open(&leaked, "carol", &key("carol")),
        Err(ClientError::Crypto(CryptoError::NotARecipient))
    ));
}

#[tokio::test]
async fn a_members_change_needs_the_name_resealed() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    let dave = server.user("dave").await;
    let c = alice
        .create_conversation(&["bob"], Some("Plans"))
        .await
        .unwrap();
    let without_name = alice
        .conversation_update(Conversation {
            id: c.id,
            name: None,
            remove_name: None,
            members: Some(vec!["alice".into(), "bob".into(), "dave".into()]),
        })
        .await;
    assert_eq!(code(without_name), "members_mismatch");
    // Sealed for the old member list: dave is missing.
    let readers = member_keys(&c.members).unwrap();
    let stale = seal(&key("alice"), c.id, 2, "Plans", &readers).unwrap();
    let refused = alice
        .conversation_update(Conversation {
            id: c.id,
            name: Some(stale),
            remove_name: None,
            members: Some(vec!["alice".into(), "bob".into(), "dave".into()]),
        })
        .await;
    assert_eq!(code(refused), "members_mismatch");
    assert_eq!(
        code(dave.conversation_get(BaseConversation { id: c.id }).await),
        "not_found",
        "a refused update changes nothing"
    );
    // Removing the name instead is fine, and counts as a revision.
    let unnamed = alice
        .conversation_update(Conversation {
            id: c.id,
            name: None,
            remove_name: Some(true),
            members: Some(vec!["alice".into(), "bob".into(), "dave".into()]),
        })
        .await
        .unwrap();
    assert_eq!((unnamed.name.is_none(), unnamed.name_revision), (true, 2));
    let both = alice
        .conversation_update(Conversation {
            id: c.id,
            name: Some(seal(&key("alice"), c.id, 3, "x", &readers).unwrap()),
            remove_name: Some(true),
            members: None,
        })
        .await;
    assert_eq!(code(both), "bad_request");
}

#[tokio::test]
async fn tampered_names_are_refused_by_the_server() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let c = alice
        .create_conversation(&["bob"], Some("Original"))
        .await
        .unwrap();
    let other = alice.create_conversation(&["bob"], None).await.unwrap();
    let readers = member_keys(&c.members).unwrap();
    let update = |name| Conversation {
        id: c.id,
        name: Some(name),
        remove_name: None,
        members: None,
    };
    let good = seal(&key("alice"), c.id, 2, "Renamed", &readers).unwrap();

    let mut flipped = good.clone();
    flipped.ciphertext.0[0] ^= 1;
    assert_eq!(
        code(alice.conversation_update(update(flipped)).await),
        "bad_signature"
    );
    let mut dropped = good.clone();
    dropped.keys.retain(|k| k.username != "bob");
    assert_eq!(
        code(alice.conversation_update(update(dropped)).await),
        "members_mismatch"
    );
    // Sealed for another conversation: its id is signed.
    let moved = seal(&key("alice"), other.id, 2, "Renamed", &readers).unwrap();
    assert_eq!(
        code(alice.conversation_update(update(moved)).await),
        "bad_signature"
    );
    // Signed by bob, sent by alice.
    let by_bob = seal(&key("bob"), c.id, 2, "Renamed", &readers).unwrap();
    assert_eq!(
        code(alice.conversation_update(update(by_bob)).await),
        "bad_signature"
    );
    let mut short_iv = good.clone();
    short_iv.iv.0.truncate(8);
    assert_eq!(
        code(alice.conversation_update(update(short_iv)).await),
        "bad_request"
    );
    let mut huge = good.clone();
    huge.ciphertext.0 = vec![0; 4096];
    assert_eq!(
        code(alice.conversation_update(update(huge)).await),
        "too_large"
    );
    // A stale or skipping revision: conflict, the name stays.
    let stale = seal(&key("alice"), c.id, 1, "Renamed", &readers).unwrap();
    assert_eq!(
        code(alice.conversation_update(update(stale)).await),
        "conflict"
    );
    assert_eq!(name_seen_by(&bob, c.id).await.as_deref(), Some("Original"));
    alice.conversation_update(update(good)).await.unwrap();
    assert_eq!(name_seen_by(&bob, c.id).await.as_deref(), Some("Renamed"));

    // The id is the client's: a taken one is a conflict.
    let taken = alice
        .conversation_create(CreateConversation {
            id: c.id,
            name: None,
            members: vec!["bob".into()],
        })
        .await;
    assert_eq!(code(taken), "conflict");
}

#[tokio::test]
async fn readers_detect_a_name_tampered_on_the_way() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let c = alice
        .create_conversation(&["bob"], Some("Original"))
        .await
        .unwrap();
    let other = alice
        .create_conversation(&["bob"], Some("Other"))
        .await
        .unwrap();
    let seen = get(&bob, c.id).await;
    let reject = |view: &MessageConversation| {
        assert!(
            open(view, "bob", &key("bob")).is_err(),
            "a tampered name opened"
        );
    };
    let mut flipped = seen.clone();
    flipped.name.as_mut().unwrap().ciphertext.0[0] ^= 1;
    reject(&flipped);
    let mut moved = get(&bob, other.id).await;
    moved.name = seen.name.clone();
    reject(&moved);
    let mut no_key = seen.clone();
    no_key
        .name
        .as_mut()
        .unwrap()
        .recipients
        .retain(|r| r.username != "alice");
    reject(&no_key);
    let mut older = seen.clone();
    older.name.as_mut().unwrap().revision = 7;
    reject(&older);
    let mut other_sealer = seen.clone();
    other_sealer.name.as_mut().unwrap().sealed_by = "bob".into();
    reject(&other_sealer);
    assert_eq!(
        open(&seen, "bob", &key("bob")).unwrap().as_deref(),
        Some("Original")
    );
}

#[tokio::test]
async fn a_reset_member_gets_the_name_resealed_once() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let c = alice
        .create_conversation(&["bob", "carol"], Some("Team"))
        .await
        .unwrap();
    assert!(!get(&alice, c.id).await.name.unwrap().reseal);

    // bob loses his key; the operator resets him, and he completes again
    // with a new one (erin's fixture key stands in for it).
    let token = token_in(&server.cli(&["user", "reset", "bob"]).await.unwrap());
    let new_bob = Session::connect(&server.url, "bob", Some(key("erin")))
        .await
        .unwrap();
    let mut alice_socket = Socket::open(&alice).await.unwrap();
    new_bob
        .user_complete(nanochat::models::CompleteUser {
            token: nanochat::wire::Secret::new(token),
            display_name: "Bob".into(),
            public_key: key("erin").public_key().to_spki_der().to_vec().into(),
            private_key: None,
            sync_password: None,
        })
        .await
        .unwrap();
    drop(bob);
    match alice_socket.next_event().await.unwrap() {
        Event::UserKeyChanged(user) => assert_eq!(user.username, "bob"),
        other => panic!("unexpected {other:?}"),
    }
    let stale = get(&new_bob, c.id).await;
    assert!(stale.name.as_ref().unwrap().reseal);
    assert!(
        new_bob.open_name(&stale).await.is_err(),
        "no key for the new key"
    );

    // alice and carol both notice and re-seal at once: one wins, the other
    // gets conflict and finds nothing left to do.
    let (a, b) = tokio::join!(
        async { alice.reseal_name(&get(&alice, c.id).await).await },
        async { carol.reseal_name(&get(&carol, c.id).await).await },
    );
    let winners = [a.unwrap(), b.unwrap()]
        .into_iter()
        .filter(Option::is_some)
        .count();
    assert_eq!(winners, 1);
    let fresh = get(&new_bob, c.id).await;
    assert!(!fresh.name.as_ref().unwrap().reseal);
    assert_eq!(fresh.name_revision, 2);
    assert_eq!(
        new_bob.open_name(&fresh).await.unwrap().as_deref(),
        Some("Team")
    );
    assert_eq!(
        alice.reseal_name(&get(&alice, c.id).await).await.unwrap(),
        None
    );
    // The pushed event carries the name with alice's own key.
    loop {
        match alice_socket.next_event().await.unwrap() {
            Event::ConversationUpdated(seen) => {
                assert_eq!(
                    alice.open_name(&seen).await.unwrap().as_deref(),
                    Some("Team")
                );
                break;
            }
            Event::UserKeyChanged(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_sealer_who_leaves_asks_for_a_reseal() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let c = alice
        .create_conversation(&["bob", "carol"], None)
        .await
        .unwrap();
    carol
        .rename_conversation(&get(&carol, c.id).await, "By carol")
        .await
        .unwrap();
    // bob's client cached what it verified; after carol leaves, her
    // signature can no longer be checked against a member's key.
    let cached = bob
        .open_name(&get(&bob, c.id).await)
        .await
        .unwrap()
        .unwrap();
    carol
        .conversation_leave(BaseConversation { id: c.id })
        .await
        .unwrap();
    let after = get(&bob, c.id).await;
    assert!(after.name.as_ref().unwrap().reseal);
    assert!(
        bob.open_name(&after).await.is_err(),
        "no member vouches for it"
    );
    bob.rename_conversation(&after, &cached).await.unwrap();
    let fresh = get(&alice, c.id).await;
    assert!(!fresh.name.as_ref().unwrap().reseal);
    assert_eq!(
        alice.open_name(&fresh).await.unwrap().as_deref(),
        Some("By carol")
    );
}

#[tokio::test]
async fn events_carry_each_members_own_name_key() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut bob_socket = Socket::open(&bob).await.unwrap();
    let c = alice
        .create_conversation(&["bob"], Some("Pushed"))
        .await
        .unwrap();
    match bob_socket.next_event().await.unwrap() {
        Event::ConversationCreated(seen) => {
            assert_eq!(seen.id, c.id);
            assert_eq!(
                bob.open_name(&seen).await.unwrap().as_deref(),
                Some("Pushed")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    alice.rename_conversation(&c, "Pushed again").await.unwrap();
    match bob_socket.next_event().await.unwrap() {
        Event::ConversationUpdated(seen) => assert_eq!(
            bob.open_name(&seen).await.unwrap().as_deref(),
            Some("Pushed again")
        ),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_pending_member_is_not_sealed_for() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let c = alice.create_conversation(&["bob"], None).await.unwrap();
    server.cli(&["user", "reset", "bob"]).await.unwrap();
    drop(bob);
    let now = get(&alice, c.id).await;
    assert_eq!(member_keys(&now.members).unwrap().len(), 1);
    alice
        .rename_conversation(&now, "Alone for now")
        .await
        .unwrap();
    let token = token_in(&server.cli(&["user", "reset", "bob"]).await.unwrap());
    let bob = server.session("bob").await;
    complete(&bob, &token, "bob").await.unwrap();
    let seen = get(&bob, c.id).await;
    assert!(seen.name.as_ref().unwrap().reseal);
    assert!(seen.name.as_ref().unwrap().key.is_none());
}
