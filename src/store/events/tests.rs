use std::time::Duration;

use uuid::Uuid;

use crate::store::Backend;
use crate::store::tests::store;
use crate::store::turn::STRIPES;

#[tokio::test]
async fn sqlite_records_nothing_and_needs_no_turn() {
    let store = store().await;
    if store.backend() != Backend::Sqlite {
        return;
    }
    let turn = store.conversation_turn(Uuid::new_v4()).await.unwrap();
    assert!(!turn.is_shared());
    assert!(!turn.record("{}", 1).await.unwrap());
    store.record_user_event("{}", 1).await.unwrap();
    assert_eq!(store.purge_events(i64::MAX).await.unwrap(), 0);
}

#[tokio::test]
async fn a_conversations_events_get_consecutive_seqs_that_survive_purging() {
    let store = store().await;
    if store.backend() != Backend::Postgres {
        eprintln!("(PostgreSQL only: set NANOCHAT_TEST_POSTGRES to run it)");
        return;
    }
    let c = Uuid::new_v4();
    for body in ["first", "second"] {
        let turn = store.conversation_turn(c).await.unwrap();
        turn.record(body, 1_000).await.unwrap();
    }
    store
        .record_user_event("about a user", 1_000)
        .await
        .unwrap();
    let other = store.conversation_turn(Uuid::new_v4()).await.unwrap();
    other.record("elsewhere", 1_000).await.unwrap();

    let id = c.to_string();
    let ours = store.events_between(&id, 0, 3).await.unwrap();
    let seqs: Vec<i64> = ours.iter().map(|e| e.seq).collect();
    let bodies: Vec<&str> = ours.iter().map(|e| e.body.as_str()).collect();
    assert_eq!((seqs, bodies), (vec![1, 2], vec!["first", "second"]));
    assert_eq!(store.events_between(&id, 1, 2).await.unwrap(), Vec::new());
    assert_eq!(
        store.event(ours[1].id).await.unwrap().as_ref(),
        Some(&ours[1])
    );

    let all = store.events_since(1_000).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(
        all.iter()
            .any(|e| e.conversation_id.is_none() && e.seq == 0)
    );
    assert!(store.events_since(1_001).await.unwrap().is_empty());

    // Purged rows go; the order goes on where it was.
    assert_eq!(store.purge_events(1_001).await.unwrap(), 4);
    assert_eq!(store.event(ours[0].id).await.unwrap(), None);
    let turn = store.conversation_turn(c).await.unwrap();
    turn.record("third", 2_000).await.unwrap();
    let after = store.events_between(&id, 0, 10).await.unwrap();
    assert_eq!(after.iter().map(|e| e.seq).collect::<Vec<_>>(), [3]);
}

#[tokio::test]
async fn a_conversations_turn_excludes_others_until_it_ends() {
    // In this process on either engine; across instances on PostgreSQL.
    let store = store().await;
    let c = Uuid::new_v4();
    let held = store.conversation_turn(c).await.unwrap();
    // Another conversation's turn is free meanwhile (one on another stripe
    // of the in-process lock: two on one stripe wait for each other).
    let other = std::iter::repeat_with(Uuid::new_v4)
        .find(|o| o.as_u128() % STRIPES as u128 != c.as_u128() % STRIPES as u128)
        .unwrap();
    let free = tokio::time::timeout(Duration::from_secs(10), store.conversation_turn(other))
        .await
        .expect("another conversation's turn waited")
        .unwrap();
    assert_eq!(free.is_shared(), store.backend() == Backend::Postgres);
    drop(free);
    let waiting = tokio::spawn({
        let store = store.clone();
        async move { store.conversation_turn(c).await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "two turns of one conversation at once"
    );
    // Dropping a turn (the change failed) hands it on, recording nothing.
    drop(held);
    let next = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the turn was not handed on")
        .unwrap();
    let shared = next.is_shared();
    assert_eq!(next.record("after", 1).await.unwrap(), shared);
    if shared {
        let recorded = store.events_between(&c.to_string(), 0, 10).await.unwrap();
        assert_eq!(recorded.iter().map(|e| e.seq).collect::<Vec<_>>(), [1]);
    }
}
