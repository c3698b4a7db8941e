//! Two `nanochat serve` processes on one PostgreSQL database, one of them
//! killed with SIGKILL while a client writes through it: the client goes
//! on through the other, and every message either instance acknowledged is
//! there, once. Needs `NANOCHAT_TEST_POSTGRES`; skipped loudly without it
//! (`.ci/run` sets it).

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::{Arc, Mutex};

use nanochat::client::{Bodies, Session};
use nanochat::models::ListMessages;
use nanochat::store::scratch;
use uuid::Uuid;

use crate::support::*;

/// The PostgreSQL server to test against; says loudly that `test` is
/// skipped when there is none.
fn postgres_or_skip(test: &str) -> Option<String> {
    let admin = scratch::test_postgres();
    if admin.is_none() {
        eprintln!(
            "SKIPPED {test}: it needs PostgreSQL; set {} (scripts/postgres.sh start DIR prints a URL)",
            scratch::TEST_POSTGRES_VAR
        );
    }
    admin
}

/// `nanochat` with `args` against `database`; its stdout.
fn run_on(database: &str, args: &[&str]) -> String {
    let output = Command::new(BINARY)
        .args(args)
        .env("NANOCHAT_DATABASE", database)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Sends one sealed text through `session`; its id once acknowledged.
async fn send(
    session: &Session,
    conversation: &nanochat::models::MessageConversation,
    text: &str,
) -> Option<Uuid> {
    let readers = nanochat::client::names::member_keys(&conversation.members).unwrap();
    let id = Uuid::new_v4();
    let payload = nanochat::client::messages::seal(
        &key(session.username()),
        conversation.id,
        id,
        Some(text),
        None,
        &readers,
    )
    .unwrap();
    session.message_create(payload).await.ok().map(|_| id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_mid_conversation_loses_nothing() {
    let Some(admin) = postgres_or_skip("an_instance_killed_mid_conversation_loses_nothing") else {
        return;
    };
    let database = scratch::scratch_postgres(&admin).await.unwrap().to_arg();
    // Two data directories with the same server key file, as an operator
    // deploys two instances.
    let (dir_a, dir_b) = (server_dir(), server_dir());
    let (mut a, url_a, _) = serve_on(dir_a.path(), "info", &database);
    let (mut b, url_b, _) = serve_on(dir_b.path(), "info", &database);

    for name in ["alice", "bob"] {
        let token = token_in(&run_on(&database, &["user", "create", name]));
        complete_with_fixture(&url_a, name, token).await;
    }
    let alice_a = Arc::new(
        Session::connect(&url_a, "alice", Some(key("alice")))
            .await
            .unwrap(),
    );
    let conversation = alice_a.create_conversation(&["bob"], None).await.unwrap();

    // Four writers through instance a; a is killed while they write.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (session, conversation, acknowledged) =
            (alice_a.clone(), conversation.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..1000 {
                match send(&session, &conversation, &format!("w{w} #{i}")).await {
                    Some(id) => acknowledged.lock().unwrap().push(id),
                    None => break,
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    a.kill().unwrap();
    a.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }

    // alice carries on through instance b.
    let alice_b = Session::connect(&url_b, "alice", Some(key("alice")))
        .await
        .unwrap();
    for i in 0..5 {
        let id = send(&alice_b, &conversation, &format!("after the kill #{i}")).await;
        acknowledged
            .lock()
            .unwrap()
            .push(id.expect("instance b accepts the message"));
    }

    // bob, on b, finds every acknowledged message, each once.
    let bob_b = Session::connect(&url_b, "bob", Some(key("bob")))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = bob_b
            .message_list(ListMessages {
                conversation_id: conversation.id,
                before,
                limit: Some(100),
            })
            .await
            .unwrap();
        seen.extend(page.messages.iter().map(|m| m.id));
        match page.next_cursor {
            Some(cursor) => before = Some(cursor),
            None => break,
        }
    }
    let unique: BTreeSet<Uuid> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a message is listed twice");
    let acknowledged = acknowledged.lock().unwrap().clone();
    let missing: Vec<&Uuid> = acknowledged
        .iter()
        .filter(|id| !unique.contains(id))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    // At most one unanswered request per writer was stored whole without
    // its answer arriving; nothing else appears.
    assert!(
        seen.len() <= acknowledged.len() + 4,
        "{} listed, {} acknowledged",
        seen.len(),
        acknowledged.len()
    );
    eprintln!(
        "{} acknowledged ({} after the kill through the other instance), {} listed",
        acknowledged.len(),
        5,
        seen.len()
    );
    assert!(terminate(&mut b).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_passes_across_two_instances() {
    let Some(admin) = postgres_or_skip("the_conformance_suite_passes_across_two_instances") else {
        return;
    };
    use nanochat_conformance::suite::{self, Summary};

    let database = scratch::scratch_postgres(&admin).await.unwrap().to_arg();
    let (dir_a, dir_b) = (server_dir(), server_dir());
    let settings = [
        &[("NANOCHAT_DATABASE", database.as_str())],
        crate::conformance::SMALL_LIMITS,
    ]
    .concat();
    let (mut a, url_a, _) = serve_with(dir_a.path(), "info", &settings);
    let (mut b, url_b, _) = serve_with(dir_b.path(), "info", &settings);
    // The operator's command runs against the shared database.
    let command = format!("NANOCHAT_DATABASE='{database}' '{BINARY}' user create {{username}}");
    let provisioner = crate::conformance::provisioner(&command);
    let cases = suite::catalogue().unwrap();
    let options = crate::conformance::options("two-");
    // Each case's users are dealt out to a and b in turn: what one does
    // must reach the other through the other instance.
    let results = suite::run(&[url_a, url_b], provisioner, &cases, &options).await;
    let report = suite::text_report(&results, &BTreeSet::new());
    let summary = Summary::of(&results, &BTreeSet::new());
    assert!(summary.success(), "{report}");
    assert_eq!(
        summary.passed,
        crate::conformance::quick_cases(&cases),
        "{report}"
    );
    assert!(terminate(&mut a).success());
    assert!(terminate(&mut b).success());
}
