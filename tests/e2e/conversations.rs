//! `conversation.*` and their permission rules.

use nanochat::client::Bodies;
use nanochat::models::{BaseConversation, Conversation, CreateConversation};

use crate::support::{TestServer, code, duo};

#[tokio::test]
async fn create_get_list() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let group = alice
        .create_conversation(&["bob", "carol", "alice"], Some("Plans"))
        .await
        .unwrap();
    assert_eq!(group.owner, "alice");
    let names: Vec<&str> = group.members.iter().map(|m| m.username.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    assert!(
        group
            .members
            .iter()
            .all(|m| !m.public_key.is_empty() && m.fingerprint.len() == 79)
    );

    let one = bob
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["carol".into()],
        })
        .await
        .unwrap();
    let seen = carol
        .conversation_get(BaseConversation { id: group.id })
        .await
        .unwrap();
    assert_eq!(
        carol.open_name(&seen).await.unwrap().as_deref(),
        Some("Plans")
    );
    assert_eq!(
        alice.open_name(&group).await.unwrap().as_deref(),
        Some("Plans")
    );
    let listed = carol.conversation_list().await.unwrap();
    let ids: Vec<_> = listed.items.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&group.id) && ids.contains(&one.id));
    // alice is not in bob's 1:1 with carol: not_found, never the data.
    assert_eq!(
        code(
            alice
                .conversation_get(BaseConversation { id: one.id })
                .await
        ),
        "not_found"
    );
    assert_eq!(alice.conversation_list().await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn create_refuses_bad_member_lists() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    server.create_user("pending").await;
    let alone = alice
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["alice".into()],
        })
        .await;
    assert_eq!(code(alone), "bad_request");
    let ghost = alice
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["ghost".into()],
        })
        .await;
    assert_eq!(code(ghost), "not_found");
    let pending = alice
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["pending".into()],
        })
        .await;
    assert_eq!(code(pending), "not_found", "pending users cannot be added");
}

#[tokio::test]
async fn member_limit() {
    let server = TestServer::start_with(|c| c.limits.max_members = 2).await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    server.user("carol").await;
    let big = alice
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["bob".into(), "carol".into()],
        })
        .await;
    assert_eq!(code(big), "too_large");
}

#[tokio::test]
async fn who_may_update_leave_delete() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let dave = server.user("dave").await;
    let c = alice
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["bob".into(), "carol".into()],
        })
        .await
        .unwrap();

    // Any member renames; only the owner changes members; outsiders see nothing.
    let renamed = bob.rename_conversation(&c, "Renamed").await.unwrap();
    assert!(
        alice.open_name(&renamed).await.is_err(),
        "bob's view holds bob's key"
    );
    let as_carol = carol
        .conversation_get(BaseConversation { id: c.id })
        .await
        .unwrap();
    assert_eq!(
        carol.open_name(&as_carol).await.unwrap().as_deref(),
        Some("Renamed")
    );
    let by_member = bob
        .conversation_update(Conversation {
            id: c.id,
            name: None,
            remove_name: None,
            members: Some(vec!["alice".into(), "bob".into()]),
        })
        .await;
    assert_eq!(code(by_member), "forbidden");
    let by_outsider = dave
        .conversation_update(Conversation {
            id: c.id,
            name: None,
            remove_name: Some(true),
            members: None,
        })
        .await;
    assert_eq!(code(by_outsider), "not_found");
    let without_owner = alice
        .conversation_update(Conversation {
            id: c.id,
            name: None,
            remove_name: None,
            members: Some(vec!["bob".into(), "carol".into()]),
        })
        .await;
    assert_eq!(code(without_owner), "bad_request");
    let as_alice = alice
        .conversation_get(BaseConversation { id: c.id })
        .await
        .unwrap();
    let updated = alice
        .set_members(&as_alice, &["alice", "bob", "dave"])
        .await
        .unwrap();
    assert!(
        dave.open_name(&updated).await.is_err(),
        "the response carries alice's key, not dave's"
    );
    let as_dave = dave
        .conversation_get(BaseConversation { id: c.id })
        .await
        .unwrap();
    assert_eq!(
        dave.open_name(&as_dave).await.unwrap().as_deref(),
        Some("Renamed")
    );
    let names: Vec<&str> = updated
        .members
        .iter()
        .map(|m| m.username.as_str())
        .collect();
    assert_eq!(names, ["alice", "bob", "dave"]);
    assert_eq!(
        code(carol.conversation_get(BaseConversation { id: c.id }).await),
        "not_found",
        "carol was removed"
    );

    // Only the owner deletes; the owner leaving hands ownership on.
    assert_eq!(
        code(bob.conversation_delete(BaseConversation { id: c.id }).await),
        "forbidden"
    );
    alice
        .conversation_leave(BaseConversation { id: c.id })
        .await
        .unwrap();
    let after = bob
        .conversation_get(BaseConversation { id: c.id })
        .await
        .unwrap();
    assert_eq!(
        after.owner, "bob",
        "the longest-standing member became owner"
    );
    assert_eq!(
        code(
            alice
                .conversation_leave(BaseConversation { id: c.id })
                .await
        ),
        "not_found"
    );
    bob.conversation_delete(BaseConversation { id: c.id })
        .await
        .unwrap();
    assert_eq!(
        code(dave.conversation_get(BaseConversation { id: c.id }).await),
        "not_found"
    );
}

#[tokio::test]
async fn the_last_member_leaving_deletes_the_conversation() {
    let server = TestServer::start().await;
    let (alice, bob, c) = duo(&server).await;
    alice
        .conversation_leave(BaseConversation { id: c.id })
        .await
        .unwrap();
    bob.conversation_leave(BaseConversation { id: c.id })
        .await
        .unwrap();
    assert!(bob.conversation_list().await.unwrap().items.is_empty());
}

#[tokio::test]
async fn deleting_a_user_removes_them_from_conversations() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.user("carol").await;
    let c = alice
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["bob".into(), "carol".into()],
        })
        .await
        .unwrap();
    alice.user_delete().await.unwrap();
    let after = bob
        .conversation_get(BaseConversation { id: c.id })
        .await
        .unwrap();
    assert_eq!(after.owner, "bob");
    assert!(after.members.iter().all(|m| m.username != "alice"));
}

async fn create(
    session: &nanochat::client::Session,
    with: &str,
) -> Result<nanochat::models::MessageConversation, nanochat::client::ClientError> {
    session
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec![with.to_owned()],
        })
        .await
}

#[tokio::test]
async fn a_user_in_the_most_conversations_cannot_be_put_in_another() {
    let server = TestServer::start_with(|c| c.limits.max_conversations = 2).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let first = create(&alice, "bob").await.unwrap();
    create(&alice, "bob").await.unwrap();
    // The creator at the limit, then a member at the limit: nothing is
    // created either time, and the answer names who is full.
    let full = create(&alice, "carol").await.unwrap_err();
    let nanochat::client::ClientError::Api(error) = full else {
        panic!("{full:?}")
    };
    assert_eq!(error.code.to_string(), "too_large");
    assert!(error.message.contains("alice"), "{}", error.message);
    let full = create(&carol, "bob").await.unwrap_err();
    let nanochat::client::ClientError::Api(error) = full else {
        panic!("{full:?}")
    };
    assert!(error.message.contains("bob") && !error.message.contains("carol"));
    let listed = carol.conversation_list().await.unwrap();
    assert!(listed.items.is_empty(), "{listed:?}");
    // Adding a full member to an existing conversation is refused alike.
    let own = create(&carol, "alice").await;
    assert_eq!(code(own), "too_large");
    let dave = server.user("dave").await;
    let theirs = create(&carol, "dave").await.unwrap();
    let as_carol = carol
        .conversation_get(BaseConversation { id: theirs.id })
        .await
        .unwrap();
    let added = carol
        .set_members(&as_carol, &["carol", "dave", "bob"])
        .await;
    assert_eq!(code(added), "too_large");
    // Leaving one makes room again.
    bob.conversation_leave(BaseConversation { id: first.id })
        .await
        .unwrap();
    carol
        .set_members(&as_carol, &["carol", "dave", "bob"])
        .await
        .unwrap();
    drop(dave);
}
