//! Tests of `store::users`.

use super::*;
use crate::store::tests::{
    T0, create_conversation, insert_message, leave_conversation, message, new_user, set_members,
    store,
};
use uuid::Uuid;

#[tokio::test]
async fn create_user_and_conflict() {
    let s = store().await;
    s.create_user("alice", b"hash-a", T0 + 1000, T0)
        .await
        .unwrap();
    let err = s
        .create_user("alice", b"hash-b", T0 + 1000, T0)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let user = s.get_user("alice").await.unwrap().unwrap();
    assert!(!user.is_complete());
    assert_eq!(user.created_at, T0);
    assert_eq!(user.token_expires_at, Some(T0 + 1000));
    assert_eq!(user.token_hash.as_deref(), Some(&b"hash-a"[..]));
    assert_eq!(user.public_key, None);
    assert!(s.get_user("nobody").await.unwrap().is_none());
}

#[tokio::test]
async fn list_users_ordered() {
    let s = store().await;
    for name in ["carol", "alice", "bob"] {
        s.create_user(name, name.as_bytes(), T0 + 1000, T0)
            .await
            .unwrap();
    }
    let names: Vec<_> = s
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
}

#[tokio::test]
async fn complete_user_sets_fields_and_clears_token() {
    let s = store().await;
    s.create_user("alice", b"tok", T0 + 1000, T0).await.unwrap();
    let user = s
        .complete_user(
            "alice",
            b"tok",
            T0 + 10,
            "Alice",
            b"spki",
            Some("{\"enc\":1}".into()),
            Some("$argon2id$...".into()),
        )
        .await
        .unwrap();
    assert!(user.is_complete());
    assert_eq!(user.completed_at, Some(T0 + 10));
    assert_eq!(user.display_name.as_deref(), Some("Alice"));
    assert_eq!(user.public_key.as_deref(), Some(&b"spki"[..]));
    assert_eq!(user.private_key.as_deref(), Some("{\"enc\":1}"));
    assert_eq!(user.sync_password_hash.as_deref(), Some("$argon2id$..."));
    assert_eq!(user.token_expires_at, None);
    assert_eq!(user.token_hash, None);
    assert_eq!(s.get_user("alice").await.unwrap().unwrap(), user);
    // Single use.
    let again = s
        .complete_user("alice", b"tok", T0 + 11, "A", b"k", None, None)
        .await;
    assert!(matches!(again, Err(StoreError::InvalidToken)));
}

#[tokio::test]
async fn complete_user_rejects_wrong_expired_or_unknown() {
    let s = store().await;
    s.create_user("alice", b"tok", T0 + 1000, T0).await.unwrap();
    let wrong = s
        .complete_user("alice", b"bad", T0 + 1, "A", b"k", None, None)
        .await;
    assert!(matches!(wrong, Err(StoreError::InvalidToken)));
    let expired = s
        .complete_user("alice", b"tok", T0 + 1000, "A", b"k", None, None)
        .await;
    assert!(matches!(expired, Err(StoreError::InvalidToken)));
    let unknown = s
        .complete_user("bob", b"tok", T0 + 1, "B", b"k", None, None)
        .await;
    assert!(matches!(unknown, Err(StoreError::InvalidToken)));
    // Still pending and usable before expiry.
    assert!(!s.get_user("alice").await.unwrap().unwrap().is_complete());
    s.complete_user("alice", b"tok", T0 + 999, "A", b"k", None, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn reset_user_makes_pending_and_keeps_conversations() {
    let s = store().await;
    new_user(&s, "alice").await;
    new_user(&s, "bob").await;
    let id = Uuid::new_v4();
    create_conversation(&s, id, None, "alice", &["bob".into()], T0)
        .await
        .unwrap();

    s.reset_user("alice", b"new-token", T0 + 5000, T0 + 1)
        .await
        .unwrap();
    let user = s.get_user("alice").await.unwrap().unwrap();
    assert!(!user.is_complete());
    assert_eq!(user.public_key, None);
    assert_eq!(user.private_key, None);
    assert_eq!(user.sync_password_hash, None);
    assert_eq!(user.token_expires_at, Some(T0 + 5000));
    assert!(s.is_member(id, "alice").await.unwrap());
    // Pending users cannot be updated, but can complete again.
    let upd = s.update_user("alice", T0 + 2, UserUpdate::default()).await;
    assert!(matches!(upd, Err(StoreError::NotFound)));
    let user = s
        .complete_user("alice", b"new-token", T0 + 3, "Alice 2", b"pk2", None, None)
        .await
        .unwrap();
    assert_eq!(user.public_key.as_deref(), Some(&b"pk2"[..]));

    let missing = s.reset_user("nobody", b"t", T0, T0).await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn update_user_partial_changes() {
    let s = store().await;
    s.create_user("alice", b"tok", T0 + 1000, T0).await.unwrap();
    s.complete_user(
        "alice",
        b"tok",
        T0,
        "Alice",
        b"pk",
        Some("enc".into()),
        Some("phc".into()),
    )
    .await
    .unwrap();

    let user = s
        .update_user(
            "alice",
            T0 + 1,
            UserUpdate {
                display_name: Some("Al".into()),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(user.display_name.as_deref(), Some("Al"));
    assert_eq!(user.public_key.as_deref(), Some(&b"pk"[..]));
    assert_eq!(user.private_key.as_deref(), Some("enc"));
    assert_eq!(user.sync_password_hash.as_deref(), Some("phc"));

    let user = s
        .update_user(
            "alice",
            T0 + 2,
            UserUpdate {
                rotation: Some(crate::store::Rotation {
                    previous_index: 0,
                    public_key: b"pk2".to_vec(),
                    succession_signature: b"by pk".to_vec(),
                    public_key_signature: b"by pk2".to_vec(),
                }),
                private_key: Some(None),
                sync_password_hash: Some(Some("phc2".into())),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(user.display_name.as_deref(), Some("Al"));
    assert_eq!(user.public_key.as_deref(), Some(&b"pk2"[..]));
    assert_eq!(user.private_key, None);
    assert_eq!(user.sync_password_hash.as_deref(), Some("phc2"));

    let missing = s.update_user("nobody", T0, UserUpdate::default()).await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn debug_redacts_secrets() {
    let s = store().await;
    s.create_user("alice", b"tok", T0 + 1000, T0).await.unwrap();
    let user = s
        .complete_user(
            "alice",
            b"tok",
            T0,
            "Alice",
            b"pk",
            Some("SECRET-KEY".into()),
            Some("SECRET-PHC".into()),
        )
        .await
        .unwrap();
    let shown = format!("{user:?}");
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(shown.contains("alice"));
    let update = UserUpdate {
        private_key: Some(Some("SECRET".into())),
        ..UserUpdate::default()
    };
    assert!(!format!("{update:?}").contains("SECRET"));
}

#[tokio::test]
async fn shared_contacts_distinct() {
    let s = store().await;
    for name in ["alice", "bob", "carol", "dave"] {
        new_user(&s, name).await;
    }
    create_conversation(
        &s,
        Uuid::new_v4(),
        None,
        "alice",
        &["bob".into(), "carol".into()],
        T0,
    )
    .await
    .unwrap();
    create_conversation(&s, Uuid::new_v4(), None, "bob", &["alice".into()], T0)
        .await
        .unwrap();
    assert_eq!(s.shared_contacts("alice").await.unwrap(), ["bob", "carol"]);
    assert_eq!(s.shared_contacts("carol").await.unwrap(), ["alice", "bob"]);
    assert!(s.shared_contacts("dave").await.unwrap().is_empty());
}

#[tokio::test]
async fn delete_user_transfers_ownership_and_deletes_empty() {
    let s = store().await;
    for name in ["alice", "bob", "carol", "dave"] {
        new_user(&s, name).await;
    }
    // c1: alice owns; carol joined at T0, bob at T0 + 5 -> carol takes over.
    let c1 = Uuid::new_v4();
    create_conversation(&s, c1, None, "alice", &["carol".into()], T0)
        .await
        .unwrap();
    set_members(
        &s,
        c1,
        &["alice".into(), "carol".into(), "bob".into()],
        "alice",
        T0 + 5,
    )
    .await
    .unwrap();
    // c2: alice is the only member left after dave leaves -> deleted.
    let c2 = Uuid::new_v4();
    create_conversation(&s, c2, None, "dave", &["alice".into()], T0)
        .await
        .unwrap();
    leave_conversation(&s, c2, "dave", T0 + 1).await.unwrap();
    // c3: bob owns, alice is a plain member.
    let c3 = Uuid::new_v4();
    create_conversation(&s, c3, None, "bob", &["alice".into()], T0)
        .await
        .unwrap();

    let m1 = message(c1, "alice", &["alice", "bob", "carol"]);
    insert_message(&s, &m1, T0 + 10).await.unwrap();
    let m3 = message(c3, "bob", &["alice", "bob"]);
    insert_message(&s, &m3, T0 + 11).await.unwrap();
    let m3a = message(c3, "alice", &["alice", "bob"]);
    insert_message(&s, &m3a, T0 + 12).await.unwrap();

    let deleted = s.delete_user("alice", T0 + 20).await.unwrap();
    let mut expected_left = vec![
        (c1, vec!["bob".to_owned(), "carol".to_owned()]),
        (c3, vec!["bob".to_owned()]),
    ];
    expected_left.sort_by_key(|entry| entry.0);
    assert_eq!(deleted.left, expected_left);
    assert_eq!(deleted.deleted_conversations, vec![c2]);

    assert!(s.get_user("alice").await.unwrap().is_none());
    let conv1 = s.get_conversation(c1, "bob").await.unwrap().unwrap();
    assert_eq!(conv1.owner, "carol");
    assert_eq!(conv1.updated_at, T0 + 20);
    assert!(s.get_conversation(c2, "bob").await.unwrap().is_none());
    assert_eq!(
        s.get_conversation(c3, "bob").await.unwrap().unwrap().owner,
        "bob"
    );
    // alice's messages are gone, bob's stays with alice still a recipient.
    assert!(s.get_message_sender(c1, m1.id).await.unwrap().is_none());
    assert!(s.get_message_sender(c3, m3a.id).await.unwrap().is_none());
    let kept = s.get_message(c3, m3.id, "bob").await.unwrap().unwrap();
    let recipients: Vec<_> = kept.recipients.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(recipients, ["alice", "bob"]);
    assert!(
        s.shared_contacts("bob")
            .await
            .unwrap()
            .contains(&"carol".to_owned())
    );

    assert!(matches!(
        s.delete_user("alice", T0).await,
        Err(StoreError::NotFound)
    ));
    // The name is free again.
    s.create_user("alice", b"fresh", T0 + 100_000, T0 + 30)
        .await
        .unwrap();
}
