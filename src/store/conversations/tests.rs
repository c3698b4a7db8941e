//! Tests of `store::conversations`.

use super::*;
use crate::store::Digest;
use crate::store::tests::{
    T0, create_conversation, delete_conversation, insert_message, leave_conversation, message,
    new_user, set_members, store, touch_conversation, update_conversation,
};

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A sealed name as the server would store it (the bytes are stand-ins:
/// the store never reads them).
fn sealed(revision: i64, sealer: &str, readers: &[&str]) -> NewName {
    NewName {
        revision,
        iv: vec![revision as u8; 12],
        ciphertext: format!("ct-{revision}").into_bytes(),
        signature: format!("sig-{revision}").into_bytes(),
        signature_version: 2,
        sealed_by: sealer.to_owned(),
        sealer_key_digest: Digest::of(format!("pkd-{sealer}").as_bytes()),
        sealer_key_index: Some(0),
        keys: readers
            .iter()
            .map(|r| super::super::NewNameKey {
                key: super::super::NewKey {
                    username: (*r).to_owned(),
                    wrapped_key: format!("nk-{r}-{revision}").into_bytes(),
                    key_digest: Digest::of(format!("nkd-{r}-{revision}").as_bytes()),
                    key_index: Some(0),
                },
                recipient_key_digest: Digest::of(format!("pkd-{r}").as_bytes()),
            })
            .collect(),
    }
}

async fn with_users(list: &[&str]) -> Store {
    let s = store().await;
    for name in list {
        new_user(&s, name).await;
    }
    s
}

#[tokio::test]
async fn create_and_get() {
    let s = with_users(&["alice", "bob", "carol"]).await;
    let id = Uuid::new_v4();
    let name = sealed(1, "bob", &["alice", "bob", "carol"]);
    let created = create_conversation(
        &s,
        id,
        Some(&name),
        "bob",
        &names(&["carol", "alice", "carol", "bob"]),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(created.id, id);
    assert_eq!(created.name_revision, 1);
    let stored = created.name.clone().unwrap();
    assert_eq!(
        (
            stored.revision,
            stored.ciphertext.as_slice(),
            stored.sealed_by.as_str()
        ),
        (1, &b"ct-1"[..], "bob")
    );
    assert_eq!(stored.sealed_at, T0);
    // The owner (the reader it was loaded for) gets only their own key.
    assert_eq!(stored.reader_key.as_deref(), Some(&b"nk-bob-1"[..]));
    let digests: Vec<_> = stored
        .recipients
        .iter()
        .map(|r| (r.username.as_str(), r.key_digest, r.holds_key))
        .collect();
    assert_eq!(
        digests,
        [
            ("alice", Digest::of(b"nkd-alice-1"), true),
            ("bob", Digest::of(b"nkd-bob-1"), true),
            ("carol", Digest::of(b"nkd-carol-1"), true)
        ]
    );
    assert_eq!(created.owner, "bob");
    assert_eq!((created.created_at, created.updated_at), (T0, T0));
    let members: Vec<_> = created
        .members
        .iter()
        .map(|m| (m.username.as_str(), m.owner))
        .collect();
    assert_eq!(members, [("alice", false), ("bob", true), ("carol", false)]);
    let alice = &created.members[0];
    assert_eq!(alice.display_name, "Display alice");
    assert_eq!(alice.public_key.as_deref(), Some(&b"pk-alice"[..]));
    assert_eq!(alice.joined_at, T0);
    assert_eq!(
        s.get_conversation(id, "bob").await.unwrap().unwrap(),
        created
    );
    let as_alice = s.get_conversation(id, "alice").await.unwrap().unwrap();
    assert_eq!(
        as_alice.name.unwrap().reader_key.as_deref(),
        Some(&b"nk-alice-1"[..])
    );
    assert!(
        s.get_conversation(Uuid::new_v4(), "bob")
            .await
            .unwrap()
            .is_none()
    );

    let dup = create_conversation(&s, id, None, "alice", &names(&["bob"]), T0).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
}

#[tokio::test]
async fn create_rejects_unknown_and_pending() {
    let s = with_users(&["alice"]).await;
    s.create_user("pending", b"tok", T0 + 1000, T0)
        .await
        .unwrap();
    let id = Uuid::new_v4();
    let err = create_conversation(
        &s,
        id,
        None,
        "alice",
        &names(&["zed", "pending", "alice"]),
        T0,
    )
    .await
    .unwrap_err();
    match err {
        StoreError::UnknownUsers(list) => assert_eq!(list, ["pending", "zed"]),
        other => panic!("{other:?}"),
    }
    assert!(s.get_conversation(id, "alice").await.unwrap().is_none());
}

#[tokio::test]
async fn membership_queries() {
    let s = with_users(&["alice", "bob", "carol"]).await;
    let id = Uuid::new_v4();
    create_conversation(&s, id, None, "alice", &names(&["carol"]), T0)
        .await
        .unwrap();
    assert!(s.is_member(id, "alice").await.unwrap());
    assert!(s.is_member(id, "carol").await.unwrap());
    assert!(!s.is_member(id, "bob").await.unwrap());
    assert!(!s.is_member(Uuid::new_v4(), "alice").await.unwrap());
    assert_eq!(s.member_usernames(id).await.unwrap(), ["alice", "carol"]);
    assert!(s.member_usernames(Uuid::new_v4()).await.unwrap().is_empty());
}

#[tokio::test]
async fn list_orders_by_activity() {
    let s = with_users(&["alice", "bob", "carol"]).await;
    let a = Uuid::new_v4();
    let b = Uuid::new_v4();
    let c = Uuid::new_v4();
    create_conversation(&s, a, None, "alice", &names(&["bob"]), T0)
        .await
        .unwrap();
    create_conversation(&s, b, None, "alice", &names(&["carol"]), T0 + 1)
        .await
        .unwrap();
    create_conversation(&s, c, None, "bob", &names(&["carol"]), T0 + 2)
        .await
        .unwrap();
    let ids: Vec<_> = s
        .list_conversations("alice")
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, [b, a]);
    // A message in `a` makes it the most recent.
    insert_message(&s, &message(a, "bob", &["alice", "bob"]), T0 + 10)
        .await
        .unwrap();
    let list = s.list_conversations("alice").await.unwrap();
    assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), [a, b]);
    assert_eq!(list[0].updated_at, T0 + 10);
    assert_eq!(
        list[0]
            .members
            .iter()
            .map(|m| m.username.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    assert_eq!(
        list[1]
            .members
            .iter()
            .map(|m| m.username.as_str())
            .collect::<Vec<_>>(),
        ["alice", "carol"]
    );
    assert!(s.list_conversations("nobody").await.unwrap().is_empty());
    // Same updated_at: ordered by id.
    touch_conversation(&s, a, T0 + 20).await.unwrap();
    touch_conversation(&s, b, T0 + 20).await.unwrap();
    let mut expected = [a, b];
    expected.sort_by_key(|u| u.hyphenated().to_string());
    let ids: Vec<_> = s
        .list_conversations("alice")
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, expected);
    assert!(matches!(
        touch_conversation(&s, Uuid::new_v4(), T0).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn names_need_the_next_revision() {
    let s = with_users(&["alice", "bob"]).await;
    let id = Uuid::new_v4();
    let first = sealed(2, "alice", &["alice", "bob"]);
    let wrong_first =
        create_conversation(&s, id, Some(&first), "alice", &names(&["bob"]), T0).await;
    assert!(
        matches!(wrong_first, Err(StoreError::Conflict(_))),
        "{wrong_first:?}"
    );
    assert!(s.get_conversation(id, "alice").await.unwrap().is_none());
    create_conversation(&s, id, None, "alice", &names(&["bob"]), T0)
        .await
        .unwrap();
    let set = |revision| NameChange::Set(sealed(revision, "bob", &["alice", "bob"]));
    let (renamed, _, _) = update_conversation(&s, id, &set(1), None, "bob", T0 + 5)
        .await
        .unwrap();
    assert_eq!(renamed.name_revision, 1);
    let key = renamed.name.unwrap().reader_key;
    assert_eq!(key.as_deref(), Some(&b"nk-bob-1"[..]));
    assert_eq!(renamed.updated_at, T0 + 5);
    // A stale or skipping revision loses.
    for stale in [1, 3] {
        let lost = update_conversation(&s, id, &set(stale), None, "bob", T0 + 6).await;
        assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
    }
    // A removal counts as a revision: a name sealed before it is stale.
    let (cleared, _, _) = update_conversation(&s, id, &NameChange::Remove, None, "bob", T0 + 7)
        .await
        .unwrap();
    assert_eq!((cleared.name, cleared.name_revision), (None, 2));
    let late = update_conversation(&s, id, &set(2), None, "bob", T0 + 8).await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    let (again, _, _) = update_conversation(&s, id, &set(3), None, "alice", T0 + 9)
        .await
        .unwrap();
    let key = again.name.unwrap().reader_key;
    assert_eq!(key.as_deref(), Some(&b"nk-alice-3"[..]));
    let keys = s.name_keys(id).await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys["bob"], (b"nk-bob-3".to_vec(), Some(0)));
    let missing =
        update_conversation(&s, Uuid::new_v4(), &NameChange::Remove, None, "bob", T0).await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn leavers_and_reset_users_lose_their_name_key() {
    let s = with_users(&["alice", "bob", "carol"]).await;
    let id = Uuid::new_v4();
    let name = sealed(1, "alice", &["alice", "bob", "carol"]);
    create_conversation(&s, id, Some(&name), "alice", &names(&["bob", "carol"]), T0)
        .await
        .unwrap();
    leave_conversation(&s, id, "carol", T0 + 1).await.unwrap();
    s.reset_user("bob", b"new-token", T0 + 1000, T0 + 2)
        .await
        .unwrap();
    let conv = s.get_conversation(id, "alice").await.unwrap().unwrap();
    let held: Vec<_> = conv
        .name
        .unwrap()
        .recipients
        .iter()
        .map(|r| (r.username.clone(), r.holds_key))
        .collect();
    // The digests stay (the signature covers them); the keys go.
    assert_eq!(
        held,
        [
            ("alice".into(), true),
            ("bob".into(), false),
            ("carol".into(), false)
        ]
    );
    let bob = s.get_conversation(id, "bob").await.unwrap().unwrap();
    assert_eq!(bob.name.unwrap().reader_key, None);
    assert_eq!(s.name_keys(id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn update_conversation_is_all_or_nothing() {
    let s = with_users(&["alice", "bob", "carol"]).await;
    let id = Uuid::new_v4();
    let name = sealed(1, "alice", &["alice", "bob"]);
    create_conversation(&s, id, Some(&name), "alice", &names(&["bob"]), T0)
        .await
        .unwrap();
    // The member list drops the owner: refused, and the new name with it.
    let refused = update_conversation(
        &s,
        id,
        &NameChange::Set(sealed(2, "alice", &["bob", "carol"])),
        Some(&names(&["bob", "carol"])),
        "alice",
        T0 + 1,
    )
    .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
    let conv = s.get_conversation(id, "alice").await.unwrap().unwrap();
    assert_eq!(conv.name.unwrap().revision, 1);
    assert_eq!(conv.members.len(), 2);
    // Both parts valid: both applied.
    let (conv, added, removed) = update_conversation(
        &s,
        id,
        &NameChange::Set(sealed(2, "alice", &["alice", "carol"])),
        Some(&names(&["alice", "carol"])),
        "carol",
        T0 + 2,
    )
    .await
    .unwrap();
    assert_eq!(
        (conv.name.unwrap().reader_key, added, removed),
        (
            Some(b"nk-carol-2".to_vec()),
            names(&["carol"]),
            names(&["bob"])
        )
    );
}

#[tokio::test]
async fn set_members_diff_and_joined_at() {
    let s = with_users(&["alice", "bob", "carol", "dave"]).await;
    let id = Uuid::new_v4();
    create_conversation(&s, id, None, "alice", &names(&["bob", "carol"]), T0)
        .await
        .unwrap();
    let (conv, added, removed) = set_members(
        &s,
        id,
        &names(&["dave", "alice", "bob", "dave"]),
        "alice",
        T0 + 7,
    )
    .await
    .unwrap();
    assert_eq!(added, ["dave"]);
    assert_eq!(removed, ["carol"]);
    assert_eq!(conv.updated_at, T0 + 7);
    let joined: Vec<_> = conv
        .members
        .iter()
        .map(|m| (m.username.as_str(), m.joined_at))
        .collect();
    assert_eq!(joined, [("alice", T0), ("bob", T0), ("dave", T0 + 7)]);

    // No change: updated_at stays.
    let (conv, added, removed) =
        set_members(&s, id, &names(&["alice", "bob", "dave"]), "alice", T0 + 9)
            .await
            .unwrap();
    assert!(added.is_empty() && removed.is_empty());
    assert_eq!(conv.updated_at, T0 + 7);

    let unknown = set_members(&s, id, &names(&["alice", "zed"]), "alice", T0 + 10).await;
    assert!(
        matches!(unknown, Err(StoreError::UnknownUsers(ref l)) if l == &["zed"]),
        "{unknown:?}"
    );
    let no_owner = set_members(&s, id, &names(&["bob"]), "alice", T0 + 10).await;
    assert!(
        matches!(no_owner, Err(StoreError::Invalid(_))),
        "{no_owner:?}"
    );
    let missing = set_members(&s, Uuid::new_v4(), &names(&["alice"]), "alice", T0).await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
    // Failed calls changed nothing.
    assert_eq!(
        s.member_usernames(id).await.unwrap(),
        ["alice", "bob", "dave"]
    );
}

#[tokio::test]
async fn leave_member_owner_and_last() {
    let s = with_users(&["alice", "bob", "carol"]).await;
    let id = Uuid::new_v4();
    create_conversation(&s, id, None, "alice", &names(&["carol"]), T0)
        .await
        .unwrap();
    set_members(&s, id, &names(&["alice", "bob", "carol"]), "alice", T0 + 1)
        .await
        .unwrap();
    let msg = message(id, "alice", &["alice", "bob", "carol"]);
    insert_message(&s, &msg, T0 + 2).await.unwrap();

    // A plain member leaves.
    let out = leave_conversation(&s, id, "bob", T0 + 3).await.unwrap();
    assert_eq!(
        out,
        LeaveOutcome::Left {
            remaining: names(&["alice", "carol"]),
            new_owner: None
        }
    );
    assert!(matches!(
        leave_conversation(&s, id, "bob", T0 + 3).await,
        Err(StoreError::NotFound)
    ));

    // The owner leaves: carol (the only one left) takes over.
    let out = leave_conversation(&s, id, "alice", T0 + 4).await.unwrap();
    assert_eq!(
        out,
        LeaveOutcome::Left {
            remaining: names(&["carol"]),
            new_owner: Some("carol".into())
        }
    );
    let conv = s.get_conversation(id, "alice").await.unwrap().unwrap();
    assert_eq!(conv.owner, "carol");
    assert!(conv.members[0].owner);
    assert_eq!(conv.updated_at, T0 + 4);
    // alice's message stays (leaving is not deleting).
    assert_eq!(
        s.get_message_sender(id, msg.id).await.unwrap().as_deref(),
        Some("alice")
    );

    // The last member leaves: everything goes.
    assert_eq!(
        leave_conversation(&s, id, "carol", T0 + 5).await.unwrap(),
        LeaveOutcome::Deleted
    );
    assert!(s.get_conversation(id, "alice").await.unwrap().is_none());
    assert!(s.get_message_sender(id, msg.id).await.unwrap().is_none());
    assert!(matches!(
        leave_conversation(&s, id, "carol", T0 + 6).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn owner_transfer_prefers_earliest_then_username() {
    let s = with_users(&["alice", "bob", "carol", "dave"]).await;
    let id = Uuid::new_v4();
    // dave joined later; bob and carol tie on joined_at -> bob.
    create_conversation(&s, id, None, "alice", &names(&["carol", "bob"]), T0)
        .await
        .unwrap();
    set_members(
        &s,
        id,
        &names(&["alice", "bob", "carol", "dave"]),
        "alice",
        T0 + 1,
    )
    .await
    .unwrap();
    let out = leave_conversation(&s, id, "alice", T0 + 2).await.unwrap();
    assert_eq!(
        out,
        LeaveOutcome::Left {
            remaining: names(&["bob", "carol", "dave"]),
            new_owner: Some("bob".into())
        }
    );
    // bob leaves: carol joined at T0, dave at T0 + 1.
    let out = leave_conversation(&s, id, "bob", T0 + 3).await.unwrap();
    assert_eq!(
        out,
        LeaveOutcome::Left {
            remaining: names(&["carol", "dave"]),
            new_owner: Some("carol".into())
        }
    );
}

#[tokio::test]
async fn delete_returns_members_and_cascades() {
    let s = with_users(&["alice", "bob"]).await;
    let id = Uuid::new_v4();
    create_conversation(&s, id, None, "alice", &names(&["bob"]), T0)
        .await
        .unwrap();
    let msg = message(id, "bob", &["alice", "bob"]);
    insert_message(&s, &msg, T0 + 1).await.unwrap();
    assert_eq!(delete_conversation(&s, id).await.unwrap(), ["alice", "bob"]);
    assert!(s.get_conversation(id, "alice").await.unwrap().is_none());
    assert!(s.get_message_sender(id, msg.id).await.unwrap().is_none());
    assert!(!s.is_member(id, "alice").await.unwrap());
    assert!(matches!(
        delete_conversation(&s, id).await,
        Err(StoreError::NotFound)
    ));
    // The message id is free again (its key rows went with it).
    create_conversation(&s, id, None, "alice", &names(&["bob"]), T0 + 2)
        .await
        .unwrap();
    insert_message(&s, &msg, T0 + 3).await.unwrap();
}
