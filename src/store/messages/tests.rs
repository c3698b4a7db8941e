//! Tests of `store::messages`.

use super::*;
use crate::store::NewAttachment;
use crate::store::tests::{
    T0, create_conversation, delete_conversation, delete_message, insert_message,
    insert_sent_message, leave_conversation, message, new_user, set_members, store, update_message,
};

async fn setup() -> (Store, Uuid) {
    let s = store().await;
    for name in ["alice", "bob", "carol"] {
        new_user(&s, name).await;
    }
    let id = Uuid::new_v4();
    create_conversation(&s, id, None, "alice", &["bob".into()], T0)
        .await
        .unwrap();
    (s, id)
}

fn with_attachment(mut msg: NewMessage, data: &[u8]) -> NewMessage {
    msg.attachment = Some(NewAttachment {
        iv: vec![7; 12],
        data: data.to_vec(),
        digest: Digest([9; 32]),
    });
    msg
}

#[tokio::test]
async fn a_batch_is_stored_whole_or_not_at_all() {
    let (s, c) = setup().await;
    let batch: Vec<(NewMessage, i64)> = (0..300)
        .map(|i| (message(c, "alice", &["alice", "bob"]), T0 + i))
        .collect();
    s.seed_messages(&batch).await.unwrap();
    let (page, _) = s.list_messages(c, "bob", None, 100).await.unwrap();
    assert_eq!(page.len(), 100);
    assert_eq!(page[0].id, batch[299].0.id, "newest first");
    // A duplicate id anywhere in a batch leaves nothing of it behind.
    let fresh = message(c, "alice", &["alice", "bob"]);
    let broken = vec![(fresh.clone(), T0 + 400), (batch[0].0.clone(), T0 + 401)];
    assert!(matches!(
        s.seed_messages(&broken).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(s.get_message(c, fresh.id, "bob").await.unwrap().is_none());
}

#[tokio::test]
async fn insert_returns_sender_view_and_bumps() {
    let (s, c) = setup().await;
    let msg = with_attachment(message(c, "bob", &["bob", "alice"]), b"file-bytes");
    let rec = insert_message(&s, &msg, T0 + 5).await.unwrap();
    assert_eq!(rec.id, msg.id);
    assert_eq!(rec.conversation_id, c);
    assert_eq!(rec.sender, "bob");
    assert_eq!(rec.created_at, T0 + 5);
    assert_eq!(rec.edited_at, None);
    assert_eq!(rec.key, b"wrapped-for-bob");
    assert_eq!(
        rec.recipients,
        vec![
            ("alice".to_owned(), Digest::of(b"digest-alice")),
            ("bob".to_owned(), Digest::of(b"digest-bob"))
        ]
    );
    assert_eq!(
        rec.attachment,
        Some(AttachmentMeta {
            iv: vec![7; 12],
            digest: Digest([9; 32]),
            size: 10
        })
    );
    assert_eq!(
        s.get_conversation(c, "alice")
            .await
            .unwrap()
            .unwrap()
            .updated_at,
        T0 + 5
    );
    // What bob reads back is what insert returned.
    assert_eq!(s.get_message(c, msg.id, "bob").await.unwrap().unwrap(), rec);
    // alice gets her own key.
    let for_alice = s.get_message(c, msg.id, "alice").await.unwrap().unwrap();
    assert_eq!(for_alice.key, b"wrapped-for-alice");
    assert_eq!(for_alice.recipients, rec.recipients);
}

#[tokio::test]
async fn insert_conflicts_and_missing() {
    let (s, c) = setup().await;
    let msg = message(c, "alice", &["alice", "bob"]);
    insert_message(&s, &msg, T0 + 1).await.unwrap();
    let dup = insert_message(&s, &msg, T0 + 2).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    // Same id in another conversation is still a conflict.
    let other = Uuid::new_v4();
    create_conversation(&s, other, None, "alice", &["bob".into()], T0)
        .await
        .unwrap();
    let moved = NewMessage {
        conversation_id: other,
        ..msg.clone()
    };
    assert!(matches!(
        insert_message(&s, &moved, T0 + 2).await,
        Err(StoreError::Conflict(_))
    ));

    let nowhere = message(Uuid::new_v4(), "alice", &["alice"]);
    assert!(matches!(
        insert_message(&s, &nowhere, T0).await,
        Err(StoreError::NotFound)
    ));
    let ghost = message(c, "ghost", &["alice"]);
    assert!(matches!(
        insert_message(&s, &ghost, T0).await,
        Err(StoreError::NotFound)
    ));

    let mut twice = message(c, "alice", &["alice", "bob"]);
    twice.keys.push(twice.keys[0].clone());
    assert!(matches!(
        insert_message(&s, &twice, T0).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(s.get_message_sender(c, twice.id).await.unwrap().is_none());
}

#[tokio::test]
async fn update_replaces_everything_and_keeps_cursor() {
    let (s, c) = setup().await;
    let msg = with_attachment(message(c, "alice", &["alice", "bob"]), b"old");
    let first = insert_message(&s, &msg, T0 + 1).await.unwrap();

    // New content, no attachment, keys for alice only.
    let mut edited = message(c, "alice", &["alice"]);
    edited.id = msg.id;
    edited.content = b"new-content".to_vec();
    let rec = update_message(&s, &edited, T0 + 9).await.unwrap();
    assert_eq!(rec.cursor, first.cursor);
    assert_eq!(rec.created_at, T0 + 1);
    assert_eq!(rec.edited_at, Some(T0 + 9));
    assert_eq!(rec.content, b"new-content");
    assert_eq!(rec.attachment, None);
    assert_eq!(rec.recipients.len(), 1);
    assert_eq!(
        s.get_message(c, msg.id, "alice").await.unwrap().unwrap(),
        rec
    );
    // bob's key is gone with the old keys.
    assert!(s.get_message(c, msg.id, "bob").await.unwrap().is_none());
    assert!(
        s.get_attachment(c, msg.id, "alice")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.get_conversation(c, "alice")
            .await
            .unwrap()
            .unwrap()
            .updated_at,
        T0 + 9
    );

    let wrong_conv = NewMessage {
        conversation_id: Uuid::new_v4(),
        ..edited.clone()
    };
    assert!(matches!(
        update_message(&s, &wrong_conv, T0).await,
        Err(StoreError::NotFound)
    ));
    let missing = NewMessage {
        id: Uuid::new_v4(),
        ..edited
    };
    assert!(matches!(
        update_message(&s, &missing, T0).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn delete_and_sender() {
    let (s, c) = setup().await;
    let msg = message(c, "bob", &["alice", "bob"]);
    insert_message(&s, &msg, T0 + 1).await.unwrap();
    assert_eq!(
        s.get_message_sender(c, msg.id).await.unwrap().as_deref(),
        Some("bob")
    );
    assert!(
        s.get_message_sender(Uuid::new_v4(), msg.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        delete_message(&s, Uuid::new_v4(), msg.id, T0).await,
        Err(StoreError::NotFound)
    ));
    delete_message(&s, c, msg.id, T0 + 4).await.unwrap();
    assert!(s.get_message_sender(c, msg.id).await.unwrap().is_none());
    assert_eq!(
        s.get_conversation(c, "alice")
            .await
            .unwrap()
            .unwrap()
            .updated_at,
        T0 + 4
    );
    assert!(matches!(
        delete_message(&s, c, msg.id, T0).await,
        Err(StoreError::NotFound)
    ));
    // A message.create may not use the deleted id again, and is refused
    // in the insert itself (nothing stored)...
    let digest = Digest::of(b"create");
    assert!(matches!(
        insert_sent_message(&s, &msg, Some(digest), T0 + 5).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(s.get_message_sender(c, msg.id).await.unwrap().is_none());
    // ...while a bulk import may (keys cascaded).
    insert_message(&s, &msg, T0 + 5).await.unwrap();
}

#[tokio::test]
async fn pagination_is_stable() {
    let (s, c) = setup().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let msg = message(c, "alice", &["alice", "bob"]);
        ids.push(insert_message(&s, &msg, T0 + i).await.unwrap().cursor);
    }
    let (p1, n1) = s.list_messages(c, "bob", None, 3).await.unwrap();
    assert_eq!(
        p1.iter().map(|m| m.cursor).collect::<Vec<_>>(),
        [ids[6], ids[5], ids[4]]
    );
    assert_eq!(n1, Some(ids[4]));
    // A message arriving between page fetches does not shift older pages.
    insert_message(&s, &message(c, "bob", &["alice", "bob"]), T0 + 100)
        .await
        .unwrap();
    let (p2, n2) = s.list_messages(c, "bob", n1, 3).await.unwrap();
    assert_eq!(
        p2.iter().map(|m| m.cursor).collect::<Vec<_>>(),
        [ids[3], ids[2], ids[1]]
    );
    assert_eq!(n2, Some(ids[1]));
    let (p3, n3) = s.list_messages(c, "bob", n2, 3).await.unwrap();
    assert_eq!(p3.iter().map(|m| m.cursor).collect::<Vec<_>>(), [ids[0]]);
    assert_eq!(n3, None);
    // Exactly a page left: no next cursor.
    let (p, n) = s.list_messages(c, "bob", Some(ids[3]), 3).await.unwrap();
    assert_eq!(p.len(), 3);
    assert_eq!(n, None);
    // Every message once, each with both recipients and bob's key.
    let all: Vec<_> = p1.iter().chain(&p2).chain(&p3).collect();
    let unique: HashSet<_> = all.iter().map(|m| m.id).collect();
    assert_eq!(unique.len(), 7);
    assert!(
        all.iter()
            .all(|m| m.key == b"wrapped-for-bob" && m.recipients.len() == 2)
    );
    // Newest page now starts with the new message.
    let (newest, _) = s.list_messages(c, "bob", None, 1).await.unwrap();
    assert_eq!(newest[0].sender, "bob");
    assert!(matches!(
        s.list_messages(c, "bob", None, 0).await,
        Err(StoreError::Invalid(_))
    ));
}

#[tokio::test]
async fn readers_only_see_messages_keyed_to_them() {
    let (s, c) = setup().await;
    let early = message(c, "alice", &["alice", "bob"]);
    insert_message(&s, &early, T0 + 1).await.unwrap();
    set_members(
        &s,
        c,
        &["alice".into(), "bob".into(), "carol".into()],
        "alice",
        T0 + 2,
    )
    .await
    .unwrap();
    let late = message(c, "alice", &["alice", "bob", "carol"]);
    insert_message(&s, &late, T0 + 3).await.unwrap();

    let (carol, next) = s.list_messages(c, "carol", None, 10).await.unwrap();
    assert_eq!(carol.iter().map(|m| m.id).collect::<Vec<_>>(), [late.id]);
    assert_eq!(next, None);
    assert_eq!(carol[0].key, b"wrapped-for-carol");
    assert!(s.get_message(c, early.id, "carol").await.unwrap().is_none());
    let (bob, _) = s.list_messages(c, "bob", None, 10).await.unwrap();
    assert_eq!(
        bob.iter().map(|m| m.id).collect::<Vec<_>>(),
        [late.id, early.id]
    );
    assert!(
        s.list_messages(c, "stranger", None, 10)
            .await
            .unwrap()
            .0
            .is_empty()
    );
}

#[tokio::test]
async fn attachments_only_on_request_and_for_key_holders() {
    let (s, c) = setup().await;
    let msg = with_attachment(message(c, "alice", &["alice", "bob"]), &[0xAB; 4096]);
    insert_message(&s, &msg, T0 + 1).await.unwrap();
    let plain = message(c, "alice", &["alice", "bob"]);
    insert_message(&s, &plain, T0 + 2).await.unwrap();

    let (page, _) = s.list_messages(c, "bob", None, 10).await.unwrap();
    let listed = page.iter().find(|m| m.id == msg.id).unwrap();
    // Lists carry the metadata only; the record type has no room for bytes.
    assert_eq!(listed.attachment.as_ref().unwrap().size, 4096);
    assert_eq!(
        page.iter().find(|m| m.id == plain.id).unwrap().attachment,
        None
    );

    let att = s.get_attachment(c, msg.id, "bob").await.unwrap().unwrap();
    assert_eq!(att.conversation_id, c);
    assert_eq!(att.message_id, msg.id);
    assert_eq!(att.iv, vec![7; 12]);
    assert_eq!(att.data, vec![0xAB; 4096]);
    assert!(
        // A random UUID may contain "171"; dumped bytes repeat it.
        !format!("{att:?}").contains("171, 171"),
        "Debug must not dump the bytes"
    );
    assert!(
        s.get_attachment(c, msg.id, "carol")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_attachment(c, plain.id, "bob")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_attachment(Uuid::new_v4(), msg.id, "bob")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn latest_messages_per_conversation() {
    let (s, c1) = setup().await;
    let c2 = Uuid::new_v4();
    create_conversation(&s, c2, None, "bob", &["carol".into(), "alice".into()], T0)
        .await
        .unwrap();
    let c3 = Uuid::new_v4();
    create_conversation(&s, c3, None, "alice", &["carol".into()], T0)
        .await
        .unwrap();
    let a = message(c1, "alice", &["alice", "bob"]);
    let b = message(c1, "bob", &["alice", "bob"]);
    let c = message(c2, "carol", &["alice", "bob", "carol"]);
    // Newest in c2, but not keyed to alice.
    let d = message(c2, "bob", &["bob", "carol"]);
    for (i, m) in [&a, &b, &c, &d].into_iter().enumerate() {
        insert_message(&s, m, T0 + 1 + i as i64).await.unwrap();
    }
    let latest = s.latest_messages("alice").await.unwrap();
    assert_eq!(latest.len(), 2);
    assert_eq!(latest[&c1].id, b.id);
    assert_eq!(latest[&c1].key, b"wrapped-for-alice");
    assert_eq!(latest[&c1].recipients.len(), 2);
    assert_eq!(latest[&c2].id, c.id);
    assert!(!latest.contains_key(&c3));
    // After leaving, the conversation no longer shows up.
    leave_conversation(&s, c1, "alice", T0 + 10).await.unwrap();
    let latest = s.latest_messages("alice").await.unwrap();
    assert_eq!(latest.keys().copied().collect::<Vec<_>>(), [c2]);
}

#[test]
fn listing_sql_never_selects_attachment_bytes() {
    let select: &str = message_select!();
    assert!(select.contains("m.attachment_size"));
    assert!(!select.contains("m.attachment,") && !select.contains("m.attachment "));
}

#[tokio::test]
async fn an_id_remembers_its_create_and_its_deletion() {
    let (s, c) = setup().await;
    let msg = message(c, "alice", &["alice", "bob"]);
    assert_eq!(s.earlier_message(msg.id).await.unwrap(), None);
    let digest = Digest([3; 32]);
    insert_sent_message(&s, &msg, Some(digest), T0 + 1)
        .await
        .unwrap();
    let stored = EarlierMessage::Stored {
        conversation_id: c,
        sender: "alice".into(),
        create_digest: Some(digest),
    };
    assert_eq!(
        s.earlier_message(msg.id).await.unwrap(),
        Some(stored.clone())
    );
    // An edit keeps the digest of the create.
    update_message(&s, &msg, T0 + 2).await.unwrap();
    assert_eq!(s.earlier_message(msg.id).await.unwrap(), Some(stored));
    // A bulk import keeps none.
    let imported = message(c, "bob", &["alice", "bob"]);
    insert_message(&s, &imported, T0 + 3).await.unwrap();
    assert!(matches!(
        s.earlier_message(imported.id).await.unwrap(),
        Some(EarlierMessage::Stored {
            create_digest: None,
            ..
        })
    ));
    delete_message(&s, c, msg.id, T0 + 4).await.unwrap();
    assert_eq!(
        s.earlier_message(msg.id).await.unwrap(),
        Some(EarlierMessage::Deleted { conversation_id: c })
    );
    // The tombstone goes with its conversation.
    delete_conversation(&s, c).await.unwrap();
    assert_eq!(s.earlier_message(msg.id).await.unwrap(), None);
}
