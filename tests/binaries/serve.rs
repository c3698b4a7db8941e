//! The `nanochat` binary as an operator runs it: `serve` in its own process,
//! `user create` beside it, then SIGTERM. Requests acknowledged before the
//! signal are durable, and the process exits cleanly.

use std::process::Command;

use nanochat::client::{Bodies, Session};
use nanochat::models::{BaseConversation, BaseUser};

use crate::support::*;

#[tokio::test]
async fn serve_create_users_and_stop_on_sigterm() {
    let dir = server_dir();
    let (mut child, url, log) = serve(dir.path());
    let mut sessions = Vec::new();
    for name in ["alice", "bob"] {
        let token = token_in(&run(dir.path(), &["user", "create", name, "--ttl", "1h"]));
        sessions.push(complete_with_fixture(&url, name, token).await);
    }
    // Named and renamed conversations: the names are sealed end to end,
    // so neither the database (with its WAL) nor the log ever holds them.
    const NAMES: [&str; 3] = ["Layoffs 2027", "Alice & Bob", "Kept after restart"];
    let created = sessions[0]
        .create_conversation(&["bob"], Some(NAMES[0]))
        .await
        .unwrap();
    let renamed = sessions[1]
        .rename_conversation(&created, NAMES[1])
        .await
        .unwrap();
    sessions[0]
        .rename_conversation(&renamed, NAMES[2])
        .await
        .unwrap();
    let other = sessions[1]
        .create_conversation(&["alice"], Some(NAMES[0]))
        .await
        .unwrap();
    sessions[0]
        .conversation_delete(BaseConversation { id: other.id })
        .await
        .expect_err("only the owner deletes");
    for name in NAMES {
        assert_eq!(files_containing(dir.path(), name), Vec::<String>::new());
    }
    assert!(terminate(&mut child).success(), "serve exits 0 on SIGTERM");
    let log_text = log.lock().unwrap().join("\n");
    // sqlx logs each statement at debug level: the log saw the names stored.
    assert!(
        log_text.contains("INSERT INTO conversation_names"),
        "the log is too quiet to prove anything: {log_text}"
    );
    for name in NAMES {
        assert!(!log_text.contains(name), "the log holds {name:?}");
        assert_eq!(files_containing(dir.path(), name), Vec::<String>::new());
    }

    // Everything acknowledged before the signal is there after a restart.
    let listing = run(dir.path(), &["user", "list"]);
    assert!(
        listing.contains("alice") && listing.contains("bob") && listing.contains("active"),
        "{listing}"
    );
    assert_eq!(
        run(dir.path(), &["server-key"]).trim(),
        key("server").fingerprint().to_string()
    );
    let (mut child, url, _) = serve(dir.path());
    let bob = Session::connect(&url, "bob", Some(key("bob")))
        .await
        .unwrap();
    let list = bob.conversation_list().await.unwrap();
    assert_eq!(list.items.len(), 2);
    let kept = list.items.iter().find(|c| c.id == created.id).unwrap();
    assert_eq!(
        bob.open_name(kept).await.unwrap().as_deref(),
        Some(NAMES[2])
    );
    bob.user_get(BaseUser {
        username: "alice".into(),
    })
    .await
    .unwrap();
    let stderr = fails(dir.path(), &["user", "delete", "ghost"], 1);
    assert!(stderr.contains("no user is called \"ghost\""), "{stderr}");
    assert!(terminate(&mut child).success());

    // Another key file than the one the database served with: refused.
    let key_file = dir.path().join("nanochat-server-key.pem");
    std::fs::write(&key_file, nanochat_conformance::FixtureKey::Carol.pem()).unwrap();
    let stderr = fails(dir.path(), &["serve", "--listen", "127.0.0.1:0"], 3);
    let recorded = key("server").fingerprint().to_string();
    assert!(
        stderr.contains(&format!("last served with key {recorded}"))
            && stderr.contains("--replace-server-key"),
        "{stderr}"
    );
    // A missing key file is not silently replaced either.
    std::fs::remove_file(&key_file).unwrap();
    let stderr = fails(dir.path(), &["serve", "--listen", "127.0.0.1:0"], 3);
    assert!(
        stderr.contains("nanochat-server-key.pem is missing"),
        "{stderr}"
    );
    assert!(!key_file.exists(), "no new key was generated");
}

#[test]
fn operator_errors_are_clear_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    // No database here: refused (exit 3) instead of creating an empty one
    // the running server never sees.
    for args in [["user", "create", "zack"], ["user", "delete", "ghost"]] {
        let output = Command::new(BINARY)
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let expected = format!(
            "there is no NanoChat database at {}",
            dir.path().join("nanochat.db").display()
        );
        assert!(
            stderr.contains(&expected) && stderr.contains("--database"),
            "{stderr}"
        );
        assert!(!dir.path().join("nanochat.db").exists());
    }
    let output = Command::new(BINARY)
        .args(["server-key"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("created by the first `nanochat serve`")
    );
}
