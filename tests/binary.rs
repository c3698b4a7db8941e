//! The `nanochat` binary as an operator runs it: `serve` in its own process,
//! `user create` beside it, then SIGTERM. Requests acknowledged before the
//! signal are durable, and the process exits cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use nanochat::client::{Bodies, Session};
use nanochat::crypto::PrivateKey;
use nanochat::models::{BaseConversation, BaseUser, CompleteUser};
use nanochat::wire::Secret;

const BINARY: &str = env!("CARGO_BIN_EXE_nanochat");

fn key(name: &str) -> PrivateKey {
    PrivateKey::from_pkcs8_pem(nanochat_conformance::fixture_key_pem(name).unwrap()).unwrap()
}

/// Everything a server process wrote to stderr.
type Log = Arc<Mutex<Vec<String>>>;

/// Starts `nanochat serve` on a random loopback port, logging at debug
/// level; returns the child, its URL and its log as it grows.
fn serve(dir: &std::path::Path) -> (Child, String, Log) {
    let mut child = Command::new(BINARY)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("NANOCHAT_LOG", "debug")
        .current_dir(dir)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start nanochat serve");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let log = Log::default();
    let address = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        log.lock().unwrap().push(line.clone());
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if entry["fields"]["message"] == "listening" {
            break entry["fields"]["address"].as_str().unwrap().to_owned();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    let sink = log.clone();
    std::thread::spawn(move || lines.for_each(|l| sink.lock().unwrap().extend(l.ok())));
    (child, format!("http://{address}"), log)
}

/// The files of `dir` (database, WAL, shared memory, key) that contain
/// `needle`.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.is_file()
                && std::fs::read(path)
                    .unwrap()
                    .windows(needle.len())
                    .any(|w| w == needle.as_bytes())
        })
        .map(|path| path.display().to_string())
        .collect()
}

fn run(dir: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap()
}

#[tokio::test]
async fn serve_create_users_and_stop_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("nanochat-server-key.pem");
    std::fs::write(
        &key_path,
        nanochat_conformance::fixture_key_pem("server").unwrap(),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();

    let (mut child, url, log) = serve(dir.path());
    let mut sessions = Vec::new();
    for name in ["alice", "bob"] {
        let out = run(dir.path(), &["user", "create", name, "--ttl", "1h"]);
        let token = out
            .lines()
            .find_map(|l| l.strip_prefix("complete token: "))
            .unwrap()
            .to_owned();
        let session = Session::connect(&url, name, Some(key(name))).await.unwrap();
        session
            .user_complete(CompleteUser {
                token: Secret::new(token),
                display_name: name.into(),
                public_key: key(name).public_key().to_spki_der().to_vec().into(),
                private_key: None,
                sync_password: None,
            })
            .await
            .unwrap();
        sessions.push(session);
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
    assert_eq!(bob.open_name(kept).unwrap().as_deref(), Some(NAMES[2]));
    bob.user_get(BaseUser {
        username: "alice".into(),
    })
    .await
    .unwrap();
    assert!(terminate(&mut child).success());
}

#[test]
fn operator_errors_are_clear_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .args(["user", "delete", "ghost"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no user is called \"ghost\""), "{stderr}");
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
