//! `nanochat backup` while the server runs and writes, then a restore into a
//! fresh directory: every message acknowledged before the backup started is
//! in the restored database and verifies.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use nanochat::client::{Chat, Home};
use uuid::Uuid;

use crate::support::*;

/// Completes `name` on the server in `dir` at `url` with its fixture key.
async fn complete(dir: &std::path::Path, url: &str, name: &str) {
    let token = token_in(&run(dir, &["user", "create", name]));
    complete_with_fixture(url, name, token).await;
}

async fn chat(home: &std::path::Path, url: &str, name: &str) -> Chat {
    let mut chat = Chat::connect(Home::new(home), url, name).await.unwrap();
    chat.use_key(key(name));
    chat
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_every_acknowledged_message() {
    let dir = server_dir();
    let homes = tempfile::tempdir().unwrap();
    let (mut child, url, _log) = serve(dir.path());
    complete(dir.path(), &url, "alice").await;
    complete(dir.path(), &url, "bob").await;
    let alice = chat(&homes.path().join("alice"), &url, "alice").await;
    let conversation = alice.create_conversation(&["bob"], None).await.unwrap().id;

    let acked: Mutex<Vec<(Uuid, String)>> = Mutex::default();
    let done = std::sync::atomic::AtomicBool::new(false);
    let backup = dir.path().join("backup").join("chat.db");
    std::fs::create_dir(backup.parent().unwrap()).unwrap();
    let writer = async {
        let mut n = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let text = format!("message {n}");
            let sent = alice.send(conversation, Some(&text), None).await.unwrap();
            acked.lock().unwrap().push((sent.id, text));
            n += 1;
        }
    };
    let backing_up = async {
        while acked.lock().unwrap().len() < 20 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let before = acked.lock().unwrap().clone();
        let (dir_path, dest) = (dir.path().to_owned(), backup.clone());
        let output = tokio::task::spawn_blocking(move || {
            Command::new(BINARY)
                .args(["backup", dest.to_str().unwrap()])
                .current_dir(dir_path)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        // Keep writing a little after the copy, then stop.
        let after = acked.lock().unwrap().len();
        while acked.lock().unwrap().len() < after + 5 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (before, output)
    };
    let ((before, output), ()) = tokio::join!(backing_up, writer);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("integrity ok, schema version"), "{stdout}");
    let key_copy = dir.path().join("backup").join("chat.db.server-key.pem");
    assert_eq!(mode(&backup), 0o600);
    assert_eq!(mode(&key_copy), 0o600);
    assert!(terminate(&mut child).success());

    // Restore into a fresh directory, step by step as README says.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&backup, restored.path().join("nanochat.db")).unwrap();
    std::fs::copy(&key_copy, restored.path().join("nanochat-server-key.pem")).unwrap();
    for file in ["nanochat.db", "nanochat-server-key.pem"] {
        let path = restored.path().join(file);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let checked = run(restored.path(), &["backup", "--check", "nanochat.db"]);
    assert!(checked.contains("server key nanochat.db.server-key.pem") || checked.contains("ok"));
    let (mut child, url, _log) = serve(restored.path());
    let bob = chat(&homes.path().join("bob"), &url, "bob").await;
    let mut found = std::collections::HashMap::new();
    let mut cursor = None;
    loop {
        let (page, next) = bob.history(conversation, cursor, Some(100)).await.unwrap();
        for message in page {
            let text = message
                .content()
                .unwrap_or_else(|| panic!("{} does not verify", message.id))
                .text
                .clone();
            found.insert(message.id, text);
        }
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert!(before.len() >= 20);
    for (id, text) in &before {
        assert_eq!(found.get(id), Some(&Some(text.clone())), "{id} is missing");
    }
    assert!(terminate(&mut child).success());
}

#[test]
fn backup_refuses_postgres_with_the_pg_dump_command() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = fails(
        dir.path(),
        &[
            "backup",
            "--database",
            "postgres://chat:s3cret@db.invalid/chat",
            "chat.dump",
        ],
        3,
    );
    assert!(
        stderr
            .contains("pg_dump --format=custom --file=chat.dump 'postgres://chat@db.invalid/chat'"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
