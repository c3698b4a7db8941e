//! `message.*`: end-to-end content, exact members, sender-only edits,
//! pagination and attachments.

use nanochat::client::{Bodies, Session};
use nanochat::crypto::{
    MessageContent, PrivateKey, PublicKey, ReceivedMessage, RecipientDigest, SealedAttachment,
    open_message,
};
use nanochat::models::{
    BaseConversation, BaseMessage, CreateConversation, CreateMessage, ListMessages, Message,
    MessageConversation, UpdateMessage, WrappedKey,
};
use uuid::Uuid;

use crate::support::{TestServer, code, key};

/// Seals `text` (and an optional file) for every member of `conversation`.
pub fn sealed(
    sender: &PrivateKey,
    conversation: &MessageConversation,
    id: Uuid,
    text: &str,
    file: Option<&[u8]>,
) -> CreateMessage {
    let readers = nanochat::client::names::member_keys(&conversation.members).unwrap();
    let file = file.map(|bytes| nanochat::client::messages::FileToSend {
        name: "notes.txt".into(),
        media_type: None,
        bytes: bytes.to_vec(),
    });
    nanochat::client::messages::seal(
        sender,
        conversation.id,
        id,
        Some(text),
        file.as_ref(),
        &readers,
    )
    .unwrap()
}

/// Opens a message as `reader`, verifying the sender's signature.
pub fn read(
    message: &Message,
    reader: &str,
    sender: &PublicKey,
) -> (MessageContent, nanochat::crypto::OpenedMessage) {
    let received = ReceivedMessage {
        conversation_id: message.conversation_id,
        message_id: message.id,
        content_iv: message.content_iv.as_slice().try_into().unwrap(),
        content: message.content.to_vec(),
        attachment_digest: message
            .attachment
            .as_ref()
            .map(|a| a.digest.as_slice().try_into().unwrap()),
        recipients: message
            .recipients
            .iter()
            .map(|r| RecipientDigest {
                username: r.username.clone(),
                key_digest: r.key_digest.as_slice().try_into().unwrap(),
            })
            .collect(),
        wrapped_key: message.key.to_vec(),
        signature: message.signature.to_vec(),
        version: nanochat::crypto::SignatureVersion::for_signer(
            message.signature_version.unwrap_or(1),
            sender,
        )
        .unwrap(),
    };
    let opened = open_message(&received, reader, &key(reader), sender).unwrap();
    (
        MessageContent::from_json_bytes(&opened.content).unwrap(),
        opened,
    )
}

async fn trio(server: &TestServer) -> (Session, Session, Session, MessageConversation) {
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let c = alice
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["bob".into(), "carol".into()],
        })
        .await
        .unwrap();
    (alice, bob, carol, c)
}

#[tokio::test]
async fn members_read_what_the_sender_wrote() {
    let server = TestServer::start().await;
    let (alice, bob, _carol, c) = trio(&server).await;
    let sent = alice
        .message_create(sealed(&key("alice"), &c, Uuid::new_v4(), "hello", None))
        .await
        .unwrap();
    let page = bob
        .conversation_get(BaseConversation { id: c.id })
        .await
        .unwrap();
    assert_eq!(page.messages.len(), 1);
    let message = &page.messages[0];
    assert_eq!(message.id, sent.id);
    assert_ne!(
        message.key, sent.key,
        "each reader gets only their own wrapped key"
    );
    assert_eq!(message.recipients.len(), 3);
    let (content, _) = read(message, "bob", key("alice").public_key());
    assert_eq!(content.text.as_deref(), Some("hello"));
    let (content, _) = read(&sent, "alice", key("alice").public_key());
    assert_eq!(content.text.as_deref(), Some("hello"));
}

#[tokio::test]
async fn keys_must_name_exactly_the_members() {
    let server = TestServer::start().await;
    let (alice, _bob, _carol, c) = trio(&server).await;
    let mut missing = sealed(&key("alice"), &c, Uuid::new_v4(), "hi", None);
    missing.keys.retain(|k| k.username != "carol");
    assert_eq!(
        code(alice.message_create(missing).await),
        "members_mismatch"
    );
    let mut extra = sealed(&key("alice"), &c, Uuid::new_v4(), "hi", None);
    extra.keys.push(WrappedKey {
        username: "mallory".into(),
        key: extra.keys[0].key.clone(),
        key_index: None,
    });
    assert_eq!(code(alice.message_create(extra).await), "members_mismatch");
    let mut doubled = sealed(&key("alice"), &c, Uuid::new_v4(), "hi", None);
    let first = doubled.keys[0].clone();
    doubled.keys.push(first);
    assert_eq!(
        code(alice.message_create(doubled).await),
        "members_mismatch"
    );
}

#[tokio::test]
async fn forged_or_duplicate_messages_are_refused() {
    let server = TestServer::start().await;
    let (alice, bob, _carol, c) = trio(&server).await;
    // Signed by bob's key but sent by alice.
    let forged = sealed(&key("bob"), &c, Uuid::new_v4(), "hi", None);
    assert_eq!(code(alice.message_create(forged).await), "bad_signature");
    // Tampered content after signing.
    let mut tampered = sealed(&key("alice"), &c, Uuid::new_v4(), "hi", None);
    tampered.content.0[0] ^= 1;
    assert_eq!(code(alice.message_create(tampered).await), "bad_signature");
    let id = Uuid::new_v4();
    alice
        .message_create(sealed(&key("alice"), &c, id, "one", None))
        .await
        .unwrap();
    assert_eq!(
        code(
            alice
                .message_create(sealed(&key("alice"), &c, id, "two", None))
                .await
        ),
        "conflict"
    );
    // Outsiders cannot post.
    let dave = server.user("dave").await;
    let mut with_dave = c.clone();
    let mut dave_member = with_dave.members[0].clone();
    dave_member.username = "dave".into();
    dave_member.public_key = key("dave").public_key().to_spki_der().to_vec().into();
    with_dave.members.push(dave_member);
    let as_dave = sealed(&key("dave"), &with_dave, Uuid::new_v4(), "hi", None);
    assert_eq!(code(dave.message_create(as_dave).await), "not_found");
    drop(bob);
}

#[tokio::test]
async fn only_the_sender_edits_or_deletes() {
    let server = TestServer::start().await;
    let (alice, bob, _carol, c) = trio(&server).await;
    let id = Uuid::new_v4();
    alice
        .message_create(sealed(&key("alice"), &c, id, "first", None))
        .await
        .unwrap();
    let edit = |who: &str, text: &str| sealed_edit(who, &c, id, text);
    assert_eq!(
        code(bob.message_update(edit("bob", "hijacked")).await),
        "forbidden"
    );
    let edited = alice.message_update(edit("alice", "second")).await.unwrap();
    assert!(edited.edited_at.is_some());
    let page = bob
        .conversation_get(BaseConversation { id: c.id })
        .await
        .unwrap();
    assert_eq!(
        read(&page.messages[0], "bob", key("alice").public_key())
            .0
            .text
            .as_deref(),
        Some("second")
    );
    let target = BaseMessage {
        conversation_id: c.id,
        id,
    };
    assert_eq!(code(bob.message_delete(target.clone()).await), "forbidden");
    alice.message_delete(target.clone()).await.unwrap();
    assert_eq!(code(alice.message_delete(target).await), "not_found");
    assert!(
        bob.conversation_get(BaseConversation { id: c.id })
            .await
            .unwrap()
            .messages
            .is_empty()
    );
}

#[tokio::test]
async fn history_pages_by_stable_cursor() {
    let server = TestServer::start().await;
    let (alice, bob, _carol, c) = trio(&server).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let id = Uuid::new_v4();
        alice
            .message_create(sealed(&key("alice"), &c, id, &format!("m{i}"), None))
            .await
            .unwrap();
        ids.push(id);
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = bob
            .message_list(ListMessages {
                conversation_id: c.id,
                before: before.clone(),
                limit: Some(3),
            })
            .await
            .unwrap();
        seen.extend(page.messages.iter().map(|m| m.id));
        // A message posted mid-walk does not shift the pages already fetched.
        if seen.len() == 3 {
            alice
                .message_create(sealed(&key("alice"), &c, Uuid::new_v4(), "late", None))
                .await
                .unwrap();
        }
        match page.next_cursor {
            Some(cursor) => before = Some(cursor),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "newest first, each exactly once");
    let bad = bob
        .message_list(ListMessages {
            conversation_id: c.id,
            before: Some("nonsense".into()),
            limit: None,
        })
        .await;
    assert_eq!(code(bad), "bad_request");
    let huge = bob
        .message_list(ListMessages {
            conversation_id: c.id,
            before: None,
            limit: Some(100_000),
        })
        .await;
    assert_eq!(code(huge), "bad_request");
}

#[tokio::test]
async fn attachments_download_separately() {
    let server = TestServer::start().await;
    let (alice, bob, _carol, c) = trio(&server).await;
    let file = b"file bytes ".repeat(1000);
    let id = Uuid::new_v4();
    alice
        .message_create(sealed(&key("alice"), &c, id, "see attached", Some(&file)))
        .await
        .unwrap();
    let page = bob
        .conversation_get(BaseConversation { id: c.id })
        .await
        .unwrap();
    let message = &page.messages[0];
    let info = message
        .attachment
        .as_ref()
        .expect("attachment info in the list");
    assert_eq!(info.size as usize, file.len() + 16);
    let (_, opened) = read(message, "bob", key("alice").public_key());
    let download = bob
        .message_attachment(BaseMessage {
            conversation_id: c.id,
            id,
        })
        .await
        .unwrap();
    let sealed_file = SealedAttachment {
        iv: download.iv.as_slice().try_into().unwrap(),
        data: download.data.to_vec(),
    };
    let digest: [u8; 32] = info.digest.as_slice().try_into().unwrap();
    assert_eq!(
        opened
            .content_key
            .open_attachment(&sealed_file, &digest)
            .unwrap(),
        file
    );
    let dave = server.user("dave").await;
    assert_eq!(
        code(
            dave.message_attachment(BaseMessage {
                conversation_id: c.id,
                id
            })
            .await
        ),
        "not_found"
    );
}

#[tokio::test]
async fn size_limits() {
    let server = TestServer::start_with(|c| {
        c.limits.max_content_bytes = 64;
        c.limits.max_file_bytes = 100;
    })
    .await;
    let (alice, _bob, _carol, c) = trio(&server).await;
    let long = "x".repeat(100);
    assert_eq!(
        code(
            alice
                .message_create(sealed(&key("alice"), &c, Uuid::new_v4(), &long, None))
                .await
        ),
        "too_large"
    );
    let file = vec![7u8; 200];
    assert_eq!(
        code(
            alice
                .message_create(sealed(&key("alice"), &c, Uuid::new_v4(), "f", Some(&file)))
                .await
        ),
        "too_large"
    );
}

#[tokio::test]
async fn a_reset_member_is_skipped_until_they_complete_again() {
    let server = TestServer::start().await;
    let (alice, _bob, _carol, c) = trio(&server).await;
    server.cli(&["user", "reset", "bob"]).await.unwrap();
    let now = alice
        .conversation_get(BaseConversation { id: c.id })
        .await
        .unwrap();
    let bob = now.members.iter().find(|m| m.username == "bob").unwrap();
    assert!(bob.public_key.is_empty() && bob.fingerprint.is_empty());
    // Keys for alice and carol only: accepted.
    alice
        .message_create(sealed(
            &key("alice"),
            &now,
            Uuid::new_v4(),
            "while bob is away",
            None,
        ))
        .await
        .unwrap();
}

/// The `UpdateMessage` of `text` sealed anew by `who` for message `id`.
fn sealed_edit(who: &str, c: &MessageConversation, id: Uuid, text: &str) -> UpdateMessage {
    let m = sealed(&key(who), c, id, text, None);
    UpdateMessage {
        conversation_id: m.conversation_id,
        id,
        content_iv: m.content_iv,
        content: m.content,
        attachment: None,
        keys: m.keys,
        signature: m.signature,
        signature_version: m.signature_version,
    }
}

/// Whether `socket` receives an event within half a second.
async fn hears_anything(socket: &mut nanochat::client::Socket<'_>) -> bool {
    let wait = std::time::Duration::from_millis(500);
    tokio::time::timeout(wait, socket.next_event())
        .await
        .is_ok()
}

#[tokio::test]
async fn a_repeated_create_is_answered_once() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    // Open before the conversation exists, so its creation is the first
    // event on every backend.
    let mut bob_socket = nanochat::client::Socket::open(&bob).await.unwrap();
    let c = alice
        .conversation_create(CreateConversation {
            id: Uuid::new_v4(),
            name: None,
            members: vec!["bob".into()],
        })
        .await
        .unwrap();
    match bob_socket.next_event().await.unwrap() {
        nanochat::bodies::Event::ConversationCreated(seen) => assert_eq!(seen.id, c.id),
        other => panic!("unexpected {other:?}"),
    }
    let id = Uuid::new_v4();
    // With a file, so the attachment is part of what must be identical.
    let create = sealed(&key("alice"), &c, id, "once", Some(b"attached"));
    let first = alice.message_create(create.clone()).await.unwrap();
    // The retry is a new request (fresh request_id) with the same payload.
    let again = alice.message_create(create.clone()).await.unwrap();
    assert_eq!(again, first, "a repeat is answered as the first create was");
    match bob_socket.next_event().await.unwrap() {
        nanochat::bodies::Event::MessageCreated(m) => assert_eq!(m.id, id),
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        !hears_anything(&mut bob_socket).await,
        "a repeat sent a second event"
    );
    let list = ListMessages {
        conversation_id: c.id,
        before: None,
        limit: None,
    };
    let page = bob.message_list(list.clone()).await.unwrap();
    assert_eq!(page.messages.len(), 1, "a repeat stored a second message");

    // The same id with other sealed bytes, or from another sender, is not a
    // repeat.
    let changed = sealed(&key("alice"), &c, id, "once", Some(b"attached"));
    assert_eq!(code(alice.message_create(changed).await), "conflict");
    let mut other_version = create.clone();
    other_version.signature_version = Some(if create.signature_version == Some(2) {
        1
    } else {
        2
    });
    assert_eq!(code(alice.message_create(other_version).await), "conflict");
    assert_eq!(code(bob.message_create(create.clone()).await), "conflict");
    // Nor in another conversation: message ids are unique across them.
    let elsewhere = alice
        .conversation_create(CreateConversation {
            id: Uuid::new_v4(),
            name: None,
            members: vec!["bob".into()],
        })
        .await
        .unwrap();
    let moved = sealed(&key("alice"), &elsewhere, id, "once", None);
    assert_eq!(code(alice.message_create(moved).await), "conflict");

    // After an edit, a repeat gets the message as it is now: it neither
    // undoes the edit nor adds a message.
    let edited = alice
        .message_update(sealed_edit("alice", &c, id, "edited"))
        .await
        .unwrap();
    let after_edit = alice.message_create(create.clone()).await.unwrap();
    assert_eq!(after_edit, edited);
    let page = bob.message_list(list.clone()).await.unwrap();
    assert_eq!(page.messages.len(), 1);
    let (content, _) = read(&page.messages[0], "bob", key("alice").public_key());
    assert_eq!(content.text.as_deref(), Some("edited"));

    // After a deletion, the id stays taken: a late retry stores nothing.
    alice
        .message_delete(BaseMessage {
            conversation_id: c.id,
            id,
        })
        .await
        .unwrap();
    assert_eq!(code(alice.message_create(create).await), "conflict");
    assert!(bob.message_list(list).await.unwrap().messages.is_empty());
}

#[tokio::test]
async fn a_repeat_gets_its_message_after_the_members_changed() {
    let server = TestServer::start().await;
    let (alice, _bob, _carol, c) = trio(&server).await;
    let id = Uuid::new_v4();
    let create = sealed(&key("alice"), &c, id, "before carol left", None);
    let first = alice.message_create(create.clone()).await.unwrap();
    alice
        .conversation_update(nanochat::models::Conversation {
            id: c.id,
            name: None,
            remove_name: None,
            members: Some(vec!["alice".into(), "bob".into()]),
        })
        .await
        .unwrap();
    // The same upload as a new message would be members_mismatch now (it
    // is sealed for carol too); as a repeat it gets the stored message.
    let again = alice.message_create(create).await.unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(again.created_at, first.created_at);
    assert_eq!(again.content, first.content);
}
