//! Key history over time (api.yml, "Key history"): alice, bob and carol
//! chat; bob rotates twice; every earlier message, file and name still
//! verifies and opens for everyone, for bob on a second device after a sync
//! login and from a key file made after the rotations; a reader who first
//! pins bob's key after the rotations walks back to his first key; carol's
//! operator reset is the one unexplained key change; reset and delete end
//! the users' sessions with their close codes.

use std::path::Path;
use std::time::{Duration, Instant};

use nanochat::client::chat::CompleteOptions;
use nanochat::client::messages::{ChatMessage, FileToSend, Verdict};
use nanochat::client::{Bodies as _, Chat, ClientError, Home, Socket};
use nanochat::crypto::{Succession, key_succession_bytes};
use nanochat::models::{BaseUser, UpdateUser};
use nanochat::wire::Secret;
use uuid::Uuid;

use crate::support::{TestServer, code, key, token_in};

const SYNC: &str = "bob's sync password";

/// Completes `name` through the Chat API with the fixture key `key_name`,
/// its key kept in `home` under "pw-NAME".
async fn complete_chat(
    server: &TestServer,
    home: &Path,
    name: &str,
    key_name: &str,
    sync: Option<&str>,
) -> Chat {
    let token = server.create_user(name).await;
    let mut chat = Chat::connect(Home::new(home), &server.url, name)
        .await
        .unwrap();
    chat.complete(
        &token,
        name,
        format!("pw-{name}").as_bytes(),
        CompleteOptions {
            import: Some(key(key_name)),
            sync_password: sync.map(Secret::new),
        },
    )
    .await
    .unwrap();
    chat
}

/// The texts of a page, oldest first, every message verified.
fn verified_texts(page: &[ChatMessage]) -> Vec<String> {
    page.iter()
        .rev()
        .map(|m| match &m.verdict {
            Verdict::Verified(content) => content
                .text
                .clone()
                .or_else(|| content.file_name.clone())
                .unwrap_or_default(),
            Verdict::Unverified(why) => panic!("{} from {} is not verified: {why}", m.id, m.sender),
        })
        .collect()
}

async fn texts(chat: &Chat, conversation: Uuid) -> Vec<String> {
    let (page, _) = chat.history(conversation, None, None).await.unwrap();
    verified_texts(&page)
}

#[tokio::test]
async fn a_rotation_costs_nobody_any_history() {
    let server = TestServer::start().await;
    let homes = tempfile::tempdir().unwrap();
    let home = |name: &str| homes.path().join(name);
    let alice = complete_chat(&server, &home("alice"), "alice", "alice", None).await;
    let mut bob = complete_chat(&server, &home("bob"), "bob", "bob", Some(SYNC)).await;
    let carol = complete_chat(&server, &home("carol"), "carol", "carol", None).await;
    // frank is a member from the start, but his client first looks at
    // anything after bob's rotations.
    let frank_token = server.create_user("frank").await;

    let mut frank = Chat::connect(Home::new(home("frank")), &server.url, "frank")
        .await
        .unwrap();
    frank
        .complete(
            &frank_token,
            "frank",
            b"pw-frank",
            CompleteOptions {
                import: Some(key("server")),
                sync_password: None,
            },
        )
        .await
        .unwrap();
    let conversation = alice
        .create_conversation(&["bob", "carol", "frank"], Some("Plans"))
        .await
        .unwrap();
    let id = conversation.id;
    alice
        .send(id, Some("hello from alice"), None)
        .await
        .unwrap();
    bob.send(id, Some("hello from bob"), None).await.unwrap();
    let file = FileToSend {
        name: "notes.txt".into(),
        media_type: Some("text/plain".into()),
        bytes: b"bob's notes".to_vec(),
    };
    let with_file = bob.send(id, None, Some(&file)).await.unwrap();
    carol.send(id, Some("hi from carol"), None).await.unwrap();
    let before = [
        "hello from alice",
        "hello from bob",
        "notes.txt",
        "hi from carol",
    ];
    for chat in [&alice, &bob, &carol] {
        assert_eq!(texts(chat, id).await, before);
    }

    // bob rotates twice, keeping the server copy up to date.
    let first = bob.rotate_to(key("dave"), b"pw-bob", true).await.unwrap();
    assert_eq!(first.key_index, 1);
    bob.send(id, Some("after one rotation"), None)
        .await
        .unwrap();
    let second = bob.rotate_to(key("erin"), b"pw-bob", true).await.unwrap();
    assert_eq!(second.key_index, 2);
    bob.send(id, Some("after two rotations"), None)
        .await
        .unwrap();
    let all: Vec<&str> = before
        .iter()
        .copied()
        .chain(["after one rotation", "after two rotations"])
        .collect();

    // Everyone reads everything, with no key-change warning: alice and
    // carol pinned bob's first key and follow his chain forward.
    for chat in [&alice, &bob, &carol] {
        assert_eq!(texts(chat, id).await, all, "as {}", chat.username());
        let current = chat.conversation(id).await.unwrap();
        assert_eq!(
            chat.conversation_name(&current).await.unwrap().as_deref(),
            Some("Plans")
        );
        let (content, bytes) = chat.download(id, with_file.id).await.unwrap();
        assert_eq!(content.file_name.as_deref(), Some("notes.txt"));
        assert_eq!(bytes, file.bytes);
        assert_eq!(
            chat.user("bob").await.unwrap().fingerprint,
            key("erin").fingerprint().to_string()
        );
    }
    // frank pinned bob's current key first and walked back to the first.
    assert_eq!(texts(&frank, id).await, all);
    let chain = frank.trusted_chain("bob").await.unwrap();
    assert_eq!(chain.indexes().collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(
        chain.key(0).unwrap().key.fingerprint(),
        key("bob").fingerprint()
    );

    // bob on a second device: the sync login fetches the whole ring.
    let mut bob2 = Chat::connect(Home::new(home("bob2")), &server.url, "bob")
        .await
        .unwrap();
    bob2.login(b"pw-bob", Some(SYNC)).await.unwrap();
    assert_eq!(texts(&bob2, id).await, all);
    assert_eq!(bob2.download(id, with_file.id).await.unwrap().1, file.bytes);

    // A key file exported after the rotations holds every key.
    let exported = bob.export_key(Some(b"file password")).await.unwrap();
    assert_eq!(exported.version, 2);
    let mut bob3 = Chat::connect(Home::new(home("bob3")), &server.url, "bob")
        .await
        .unwrap();
    bob3.import_key(&exported, Some(b"file password"), b"pw-bob3")
        .await
        .unwrap();
    assert_eq!(texts(&bob3, id).await, all);

    // A device that kept bob's first key only is told what to do.
    let old_home = Home::new(home("bob-old"));
    old_home
        .encrypt_and_save(&server.url, "bob", &key("bob"), b"pw-bob")
        .await
        .unwrap();
    let mut old = Chat::connect(old_home, &server.url, "bob").await.unwrap();
    match old.login(b"pw-bob", None).await {
        Err(ClientError::RotatedElsewhere { what_to_do, .. }) => {
            assert!(what_to_do.contains("sync password"), "{what_to_do}");
        }
        other => panic!("expected RotatedElsewhere, got {:?}", other.err()),
    }
    // bob's own home holds the ring: a plain login there still works.
    let mut again = Chat::connect(Home::new(home("bob")), &server.url, "bob")
        .await
        .unwrap();
    again.login(b"pw-bob", None).await.unwrap();
    assert_eq!(texts(&again, id).await, all);

    // carol's operator reset: her new key is the one unexplained change.
    let reset_token = token_in(&server.cli(&["user", "reset", "carol"]).await.unwrap());
    let mut carol2 = Chat::connect(Home::new(home("carol2")), &server.url, "carol")
        .await
        .unwrap();
    carol2
        .complete(
            &reset_token,
            "carol",
            b"pw-carol2",
            CompleteOptions {
                import: Some(key("dave")),
                sync_password: None,
            },
        )
        .await
        .unwrap();
    carol2.send(id, Some("carol is back"), None).await.unwrap();
    match alice.history(id, None, None).await {
        Err(ClientError::KeyChanged { announced, .. }) => {
            assert_eq!(announced, key("dave").fingerprint().to_string());
        }
        other => panic!("expected a key change warning, got {:?}", other.map(|_| ())),
    }
    // Once alice accepts it, carol's messages from before and after the
    // reset both verify (her earlier key stays trusted).
    alice
        .accept_user_key("carol", &key("dave").fingerprint())
        .unwrap();
    let mut with_carol = all.clone();
    with_carol.push("carol is back");
    assert_eq!(texts(&alice, id).await, with_carol);
    // bob's rotations never warned anyone: his pin just moved along.
    assert_eq!(
        alice.trusted_chain("bob").await.unwrap().current_index(),
        Some(2)
    );
}

#[tokio::test]
async fn the_server_refuses_a_rotation_whose_proofs_do_not_verify() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let old = key("alice");
    let new = key("carol");
    let new_der = new.public_key().to_spki_der().to_vec();
    let rotate = |succession: Option<Vec<u8>>, possession: Option<Vec<u8>>| UpdateUser {
        public_key: Some(new_der.clone().into()),
        succession_signature: succession.map(Into::into),
        public_key_signature: possession.map(Into::into),
        ..Default::default()
    };
    let good = Succession::sign("alice", 1, &old, &new).unwrap();
    // Either proof missing: bad_request.
    for update in [
        rotate(None, Some(good.public_key_signature.clone())),
        rotate(Some(good.succession_signature.clone()), None),
    ] {
        assert_eq!(code(alice.user_update(update).await), "bad_request");
    }
    // A proof by the wrong key, for the wrong index, or of the old form.
    let by_new_only = new
        .sign_pss(&key_succession_bytes(
            "alice",
            1,
            old.public_key().to_spki_der(),
            &new_der,
        ))
        .unwrap();
    let wrong_index = Succession::sign("alice", 2, &old, &new).unwrap();
    let old_form = {
        let mut bytes = Vec::new();
        for field in [b"nanochat/v1 key rotation".as_slice(), b"alice", &new_der] {
            bytes.extend_from_slice(&(field.len() as u32).to_be_bytes());
            bytes.extend_from_slice(field);
        }
        new.sign_pss(&bytes).unwrap()
    };
    for update in [
        rotate(Some(by_new_only), Some(good.public_key_signature.clone())),
        rotate(
            Some(wrong_index.succession_signature),
            Some(wrong_index.public_key_signature),
        ),
        rotate(Some(good.succession_signature.clone()), Some(old_form)),
    ] {
        assert_eq!(code(alice.user_update(update).await), "bad_signature");
    }
    // Nothing changed: the history still holds one key.
    let history = alice
        .user_keys(BaseUser {
            username: "alice".into(),
        })
        .await
        .unwrap();
    assert_eq!(history.keys.len(), 1);

    // The good rotation goes through; the old key no longer signs.
    let rotated = alice
        .user_update(rotate(
            Some(good.succession_signature),
            Some(good.public_key_signature),
        ))
        .await
        .unwrap();
    assert_eq!(rotated.key_index, 1);
    assert_eq!(
        code(
            alice
                .user_get(BaseUser {
                    username: "alice".into()
                })
                .await
        ),
        "bad_signature"
    );
    let mut alice = alice;
    alice.set_signer(Some(new.clone()));
    let history = alice
        .user_keys(BaseUser {
            username: "alice".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        history.keys.iter().map(|k| k.index).collect::<Vec<_>>(),
        [0, 1]
    );
    assert!(history.keys[0].until.is_some() && history.keys[1].until.is_none());
    assert!(history.keys[0].succession_signature.is_none());
    assert!(history.keys[1].succession_signature.is_some());
    // Unknown users have no history.
    assert_eq!(
        code(
            alice
                .user_keys(BaseUser {
                    username: "nobody".into()
                })
                .await
        ),
        "not_found"
    );
}

/// Waits for the socket's end; returns the close code and how long it took.
async fn closed_within(socket: &mut Socket<'_>, bound: Duration) -> (u16, Duration) {
    let start = Instant::now();
    let ended = tokio::time::timeout(bound, async {
        loop {
            match socket.next_event().await {
                Ok(_) => continue,
                Err(e) => return e,
            }
        }
    })
    .await
    .expect("the session did not end in time");
    match ended {
        ClientError::SessionEnded { code, .. } => (code, start.elapsed()),
        other => panic!("expected a session end with a close code, got {other:?}"),
    }
}

#[tokio::test]
async fn reset_delete_and_rotation_end_sessions_with_their_close_codes() {
    // A generous bound, far below the 30 s ping interval; README gives the
    // measured figure.
    let bound = Duration::from_secs(5);
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;

    // The operator's command line is another process in production: here
    // it writes the same SQLite file, and the server notices.
    let mut socket = Socket::open(&bob).await.unwrap();
    server.cli(&["user", "reset", "bob"]).await.unwrap();
    let (code, took) = closed_within(&mut socket, bound).await;
    assert_eq!(code, 4002);
    eprintln!("an operator reset ended the session in {took:?}");

    let mut socket = Socket::open(&carol).await.unwrap();
    server.cli(&["user", "delete", "carol"]).await.unwrap();
    let (code, took) = closed_within(&mut socket, bound).await;
    assert_eq!(code, 4003);
    eprintln!("an operator delete ended the session in {took:?}");

    // A rotation from another session ends this one with 4001.
    let mut socket = Socket::open(&alice).await.unwrap();
    let link = Succession::sign("alice", 1, &key("alice"), &key("dave")).unwrap();
    alice
        .user_update(UpdateUser {
            public_key: Some(key("dave").public_key().to_spki_der().to_vec().into()),
            succession_signature: Some(link.succession_signature.into()),
            public_key_signature: Some(link.public_key_signature.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(closed_within(&mut socket, bound).await.0, 4001);
}

/// api.yml, "What clients do about a changed key": a contact alice
/// verified stays verified through rotations signed by the previous key;
/// an operator reset is an unexplained change that clears the mark and
/// stops alice from sealing for bob until she accepts the new key, which
/// does not make him verified again.
#[tokio::test]
async fn a_verified_contact_stays_verified_through_rotations_not_through_a_reset() {
    use nanochat::client::chat::KeyChange;
    use nanochat::client::history::KeyOrigin;

    let server = TestServer::start().await;
    let homes = tempfile::tempdir().unwrap();
    let home = |name: &str| homes.path().join(name);
    let alice = complete_chat(&server, &home("alice"), "alice", "alice", None).await;
    let mut bob = complete_chat(&server, &home("bob"), "bob", "bob", None).await;
    let id = alice.create_conversation(&["bob"], None).await.unwrap().id;

    // alice compares bob's fingerprint with him. Another one is refused,
    // naming both.
    match alice
        .verify_contact("bob", &key("carol").fingerprint())
        .await
    {
        Err(e @ ClientError::FingerprintMismatch { .. }) => {
            let said = e.to_string();
            assert!(said.contains(&key("carol").fingerprint().to_string()));
            assert!(said.contains(&key("bob").fingerprint().to_string()));
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert!(!alice.is_verified("bob"));
    alice
        .verify_contact("bob", &key("bob").fingerprint())
        .await
        .unwrap();
    assert!(alice.is_verified("bob"));

    // bob rotates twice: alice follows, still verified, and sends.
    let mut rotated = None;
    for to in ["carol", "dave"] {
        rotated = Some(bob.rotate_to(key(to), b"pw-bob", false).await.unwrap());
    }
    let rotated = rotated.unwrap();
    assert_eq!(
        alice.key_changed(&rotated).await.unwrap(),
        KeyChange::Rotated {
            fingerprint: key("dave").fingerprint().to_string(),
            verified: true,
        }
    );
    alice.send(id, Some("still you"), None).await.unwrap();
    assert!(alice.is_verified("bob"));
    let pinned = alice
        .pinned_users()
        .into_iter()
        .find(|p| p.username == "bob")
        .unwrap();
    assert_eq!(
        (pinned.fingerprint, pinned.index, pinned.verified),
        (key("dave").fingerprint().to_string(), Some(2), true)
    );
    let shown: Vec<_> = alice
        .key_history_view("bob")
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.index, k.trusted, k.origin, k.until.is_none()))
        .collect();
    assert_eq!(
        shown,
        [
            (0, true, KeyOrigin::ChainStart, false),
            (1, true, KeyOrigin::Rotation { signed_by: 0 }, false),
            (2, true, KeyOrigin::Rotation { signed_by: 1 }, true),
        ]
    );

    // The operator resets bob; he completes again with another key.
    let token = token_in(&server.cli(&["user", "reset", "bob"]).await.unwrap());
    let mut bob_again = Chat::connect(Home::new(home("bob-again")), &server.url, "bob")
        .await
        .unwrap();
    let completed = bob_again
        .complete(
            &token,
            "bob",
            b"pw-bob-again",
            CompleteOptions {
                import: Some(key("erin")),
                sync_password: None,
            },
        )
        .await
        .unwrap();
    let erin = key("erin").fingerprint();
    match alice.send(id, Some("are you still bob?"), None).await {
        Err(ClientError::KeyChanged {
            pinned, announced, ..
        }) => {
            assert_eq!(pinned, key("dave").fingerprint().to_string());
            assert_eq!(announced, erin.to_string());
        }
        other => panic!("expected a key change, got {:?}", other.map(|m| m.id)),
    }
    assert!(!alice.is_verified("bob"), "an unexplained change clears it");
    assert!(matches!(
        alice.key_changed(&completed).await.unwrap(),
        KeyChange::Unexplained { refused: None, .. }
    ));
    // Verifying cannot skip accepting: the change is still unaccepted.
    assert!(matches!(
        alice.verify_contact("bob", &erin).await,
        Err(ClientError::KeyChanged { .. })
    ));
    let shown = alice.key_history_view("bob").await.unwrap();
    assert_eq!(
        (shown[3].index, shown[3].trusted, shown[3].origin),
        (3, false, KeyOrigin::ChainStart)
    );

    // alice accepts the new key (after comparing): she sends again, but bob
    // is not verified until she says so.
    alice.accept_user_key("bob", &erin).unwrap();
    alice.send(id, Some("welcome back"), None).await.unwrap();
    assert!(!alice.is_verified("bob"));
    assert!(alice.key_history_view("bob").await.unwrap()[3].trusted);
    alice.verify_contact("bob", &erin).await.unwrap();
    assert!(alice.is_verified("bob"));
    assert!(alice.unverify_contact("bob").unwrap());
    assert!(!alice.is_verified("bob"));
}
