//! The `nanochat` binary as an operator runs it: `serve` in its own process,
//! `user create` beside it, then SIGTERM. Requests acknowledged before the
//! signal are durable, and the process exits cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use nanochat::client::{Bodies, Session};
use nanochat::crypto::PrivateKey;
use nanochat::models::{BaseUser, CompleteUser, CreateConversation};
use nanochat::wire::Secret;

const BINARY: &str = env!("CARGO_BIN_EXE_nanochat");

fn key(name: &str) -> PrivateKey {
    PrivateKey::from_pkcs8_pem(nanochat_conformance::fixture_key_pem(name).unwrap()).unwrap()
}

/// Starts `nanochat serve` on a random loopback port; returns the child and its URL.
fn serve(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(BINARY)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .current_dir(dir)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start nanochat serve");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if entry["fields"]["message"] == "listening" {
            break entry["fields"]["address"].as_str().unwrap().to_owned();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, format!("http://{address}"))
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

    let (mut child, url) = serve(dir.path());
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
    let created = sessions[0]
        .conversation_create(CreateConversation {
            name: Some("kept".into()),
            members: vec!["bob".into()],
        })
        .await
        .unwrap();
    assert!(terminate(&mut child).success(), "serve exits 0 on SIGTERM");

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
    let (mut child, url) = serve(dir.path());
    let bob = Session::connect(&url, "bob", Some(key("bob")))
        .await
        .unwrap();
    let list = bob.conversation_list().await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].id, created.id);
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
