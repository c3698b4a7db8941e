//! `nanochat-client` as people and scripts use it: three users converse end
//! to end through the binary against the real `nanochat` binary on
//! loopback, each with their own home directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::*;
use serde_json::{Value, json};

const CLIENT: &str = env!("CARGO_BIN_EXE_nanochat-client");

/// One person on one device: a home directory and a password file.
struct Device {
    url: String,
    user: String,
    home: tempfile::TempDir,
    password_file: PathBuf,
}

impl Device {
    fn new(url: &str, user: &str, password: &str) -> Device {
        let home = tempfile::tempdir().unwrap();
        let password_file = home.path().join("password");
        std::fs::write(&password_file, format!("{password}\n")).unwrap();
        Device {
            url: url.to_owned(),
            user: user.to_owned(),
            home,
            password_file,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(CLIENT);
        command
            .args(["--server", &self.url, "--user", &self.user, "--home"])
            .arg(self.home.path())
            .arg("--password-file")
            .arg(&self.password_file)
            .args(args)
            .stdin(Stdio::null());
        command
    }

    fn output(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "{} {args:?} failed: {}",
            self.user,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command with `--json` that must succeed; returns its document.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Runs a command that must fail; returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(!out.status.success(), "{} {args:?} succeeded", self.user);
        String::from_utf8(out.stderr).unwrap()
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.home.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn three_people_chat_through_the_command_line() {
    let dir = server_dir();
    let (mut server, url, _log) = serve(dir.path());
    let token = |name: &str| token_in(&run(dir.path(), &["user", "create", name]));

    // alice keeps her key on this machine only; bob also on the server.
    let alice = Device::new(&url, "alice", "alice's key password");
    let alice_token = token("alice");
    let done = alice.json(&[
        "complete",
        "--token",
        &alice_token,
        "--display-name",
        "Alice",
    ]);
    assert_eq!(done["username"], "alice");
    let bob = Device::new(&url, "bob", "bob's key password");
    let sync = bob.file("sync", b"bob's sync password\n");
    bob.ok(&[
        "complete",
        "--token",
        &token("bob"),
        "--display-name",
        "Bob",
        "--store-on-server",
        "--sync-password-file",
        path(&sync),
    ]);
    let carol = Device::new(&url, "carol", "carol's key password");
    carol.ok(&[
        "complete",
        "--token",
        &token("carol"),
        "--display-name",
        "Carol",
    ]);
    // A used token is refused with a sentence, not a stack trace.
    let again = alice.fails(&["complete", "--token", &alice_token, "--display-name", "A"]);
    assert!(again.contains("invalid_token"), "{again}");

    // bob's second device has no key until it logs in through sync.
    let bob_phone = Device::new(&url, "bob", "bob's key password");
    let no_key = bob_phone.fails(&["conversation", "list"]);
    assert!(no_key.contains("no key for bob"), "{no_key}");
    let phone_sync = bob_phone.file("sync", b"bob's sync password\n");
    bob_phone.ok(&["login", "--sync-password-file", path(&phone_sync)]);
    let wrong = Device::new(&url, "bob", "not bob's password");
    let wrong_sync = wrong.file("sync", b"bob's sync password\n");
    let refused = wrong.fails(&["login", "--sync-password-file", path(&wrong_sync)]);
    assert!(refused.contains("wrong password"), "{refused}");

    // A named group conversation.
    let created = alice.json(&["conversation", "create", "bob", "carol", "--name", "Launch"]);
    let conversation = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "Launch");
    let listed = carol.json(&["conversation", "list"]);
    assert_eq!(listed["conversations"][0]["name"], "Launch");

    // bob's phone watches; events arrive in order, as NDJSON.
    let mut watcher = bob_phone
        .command(&["--json", "watch", &conversation, "--count", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut events = BufReader::new(watcher.stdout.take().unwrap()).lines();
    let ready: Value = serde_json::from_str(&events.next().unwrap().unwrap()).unwrap();
    assert_eq!(ready["event"], "ready");

    // A text with a file; the file downloads byte-identical.
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let report = alice.file("report.pdf", &bytes);
    let sent = alice.json(&[
        "message",
        "send",
        &conversation,
        "--text",
        "the report",
        "--file",
        path(&report),
    ]);
    // `message send --json` prints the message itself.
    let message = sent["id"].as_str().unwrap().to_owned();
    assert_eq!(sent["verified"], true);
    assert_eq!(
        sent["file_size"], 200_000,
        "the file's size, not the ciphertext's"
    );
    let page = carol.json(&["message", "list", &conversation]);
    let seen = &page["messages"][0];
    assert_eq!(
        (&seen["text"], &seen["file_name"], &seen["verified"]),
        (
            &Value::from("the report"),
            &Value::from("report.pdf"),
            &Value::from(true)
        )
    );
    let output = bob_phone.home.path().join("downloaded.pdf");
    bob_phone.ok(&[
        "message",
        "download",
        &conversation,
        &message,
        "--output",
        path(&output),
    ]);
    assert!(std::fs::read(&output).unwrap() == bytes, "the file changed");

    // Edit, then delete; carol replies; then carol leaves.
    alice.ok(&[
        "message",
        "edit",
        &conversation,
        &message,
        "--text",
        "the final report",
    ]);
    let page = carol.json(&["message", "list", &conversation]);
    assert_eq!(page["messages"][0]["text"], "the final report");
    assert!(page["messages"][0]["edited_at"].is_string());
    let reply = carol.json(&["message", "send", &conversation, "--text", "thanks"]);
    let not_hers = carol.fails(&["message", "delete", &conversation, &message]);
    assert!(not_hers.contains("forbidden"), "{not_hers}");
    alice.ok(&["message", "delete", &conversation, &message]);
    carol.ok(&["conversation", "leave", &conversation]);

    let kinds: Vec<Value> = (0..5)
        .map(|_| serde_json::from_str(&events.next().unwrap().unwrap()).unwrap())
        .collect();
    let names: Vec<&str> = kinds.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "event.message.created",
            "event.message.updated",
            "event.message.created",
            "event.message.deleted",
            "event.conversation.left"
        ]
    );
    assert_eq!(kinds[0]["text"], "the report");
    assert_eq!(kinds[1]["text"], "the final report");
    assert_eq!(kinds[2]["id"], reply["id"]);
    assert!(watcher.wait().unwrap().success());

    // Export the key encrypted; a fresh device imports it and is alice.
    let exported = alice.home.path().join("alice-key.json");
    let file_password = alice.file("file-password", b"key file password\n");
    alice.ok(&[
        "keys",
        "export",
        path(&exported),
        "--encrypt",
        "--file-password-file",
        path(&file_password),
    ]);
    let laptop = Device::new(&url, "alice", "laptop password");
    let laptop_file_password = laptop.file("file-password", b"key file password\n");
    laptop.ok(&[
        "keys",
        "import",
        path(&exported),
        "--file-password-file",
        path(&laptop_file_password),
    ]);
    assert_eq!(
        laptop.json(&["keys", "fingerprint"])["fingerprint"],
        alice.json(&["keys", "fingerprint"])["fingerprint"]
    );
    let history = laptop.json(&["message", "list", &conversation]);
    assert_eq!(history["messages"][0]["text"], "thanks");

    // carol loses her key: the operator resets her and she completes again
    // with a new one. alice's pinned key no longer matches: refused until
    // she accepts the new fingerprint.
    let pinned = alice.json(&["user", "show", "carol"])["fingerprint"].clone();
    let reset = token_in(&run(dir.path(), &["user", "reset", "carol"]));
    let carol_again = Device::new(&url, "carol", "carol's new password");
    let new_key = carol_again.json(&["complete", "--token", &reset, "--display-name", "Carol"]);
    let changed = alice.fails(&["user", "show", "carol"]);
    assert!(
        changed.contains("the key of carol")
            && changed.contains(pinned.as_str().unwrap())
            && changed.contains(new_key["fingerprint"].as_str().unwrap()),
        "{changed}"
    );
    alice.ok(&[
        "trust",
        "user",
        "carol",
        new_key["fingerprint"].as_str().unwrap(),
    ]);
    assert_eq!(
        alice.json(&["user", "show", "carol"])["fingerprint"],
        new_key["fingerprint"]
    );

    // Scripts get clear errors and a non-zero exit.
    let unknown = alice.fails(&["conversation", "create", "zed"]);
    assert!(
        unknown.contains("No user zed (or zed has not activated their account yet)"),
        "{unknown}"
    );
    let no_user = Command::new(CLIENT)
        .args(["--server", &url, "conversation", "list"])
        .env_remove("NANOCHAT_USER")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&no_user.stderr).contains("--user"));
    assert!(terminate(&mut server).success());
}

#[test]
fn a_changed_server_key_is_refused_until_trusted() {
    let dir = server_dir();
    let (mut server, url, _log) = serve(dir.path());
    let alice = Device::new(&url, "alice", "pw");
    let token = token_in(&run(dir.path(), &["user", "create", "alice"]));
    alice.ok(&["complete", "--token", &token, "--display-name", "Alice"]);
    assert!(terminate(&mut server).success());

    // The same address now answers with another server key.
    std::fs::write(
        dir.path().join("nanochat-server-key.pem"),
        nanochat_conformance::FixtureKey::Carol.pem(),
    )
    .unwrap();
    let address = url.trim_start_matches("http://");
    let mut other = Command::new(BINARY)
        .args(["serve", "--listen", address, "--replace-server-key"])
        .current_dir(dir.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut refused = String::new();
    for _ in 0..100 {
        refused = alice.fails(&["conversation", "list"]);
        if refused.contains("changed") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let new = key("carol").fingerprint().to_string();
    assert!(
        refused.contains("the server key") && refused.contains(&new),
        "{refused}"
    );
    alice.ok(&["trust", "server", &new]);
    alice.ok(&["conversation", "list"]);
    assert!(terminate(&mut other).success());
}

/// A plain key file holding fixture key `name`, for `complete --import`
/// and `keys rotate --to` (no key is generated in tests).
/// alice and bob, completed on `url` with their fixture keys (tokens from
/// `token`), and the conversation alice starts with bob.
fn alice_and_bob(url: &str, token: impl Fn(&str) -> String) -> (Device, Device, String) {
    let alice = Device::new(url, "alice", "alice's key password");
    let bob = Device::new(url, "bob", "bob's key password");
    for device in [&alice, &bob] {
        let import = fixture_key_file(device, &device.user);
        device.ok(&[
            "complete",
            "--token",
            &token(&device.user),
            "--display-name",
            &device.user,
            "--import",
            path(&import),
        ]);
    }
    let created = alice.json(&["conversation", "create", "bob"]);
    let conversation = created["id"].as_str().unwrap().to_owned();
    (alice, bob, conversation)
}

fn fixture_key_file(device: &Device, name: &str) -> PathBuf {
    let key = nanochat_conformance::FixtureKey::from_name(name)
        .unwrap()
        .private_key();
    let file = nanochat::crypto::KeyFile::new_plain(&device.url, &device.user, &key).unwrap();
    device.file(
        &format!("{name}.key.json"),
        file.to_json().unwrap().as_bytes(),
    )
}

/// Texts of `message list --json`, oldest first, each checked as verified.
fn verified_texts(device: &Device, conversation: &str) -> Vec<String> {
    let page = device.json(&["message", "list", conversation]);
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|m| {
            assert_eq!(m["verified"], true, "{} sees {m}", device.user);
            m["text"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

#[test]
fn a_key_rotation_costs_nobody_any_history_on_the_command_line() {
    let dir = server_dir();
    let (mut server, url, _log) = serve(dir.path());
    let token = |name: &str| token_in(&run(dir.path(), &["user", "create", name]));
    let alice = Device::new(&url, "alice", "alice's key password");
    let bob = Device::new(&url, "bob", "bob's key password");
    let carol = Device::new(&url, "carol", "carol's key password");
    let sync = bob.file("sync", b"bob's sync password\n");
    for device in [&alice, &bob, &carol] {
        let import = fixture_key_file(device, &device.user);
        let mut args = vec![
            "complete".to_owned(),
            "--token".to_owned(),
            token(&device.user),
            "--display-name".to_owned(),
            device.user.clone(),
            "--import".to_owned(),
            path(&import).to_owned(),
        ];
        if device.user == "bob" {
            args.extend([
                "--store-on-server".to_owned(),
                "--sync-password-file".to_owned(),
                path(&sync).to_owned(),
            ]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        device.ok(&args);
    }
    // bob's phone logs in through sync before the rotations.
    let phone = Device::new(&url, "bob", "bob's key password");
    let phone_sync = phone.file("sync", b"bob's sync password\n");
    phone.ok(&["login", "--sync-password-file", path(&phone_sync)]);

    let created = alice.json(&["conversation", "create", "bob", "carol", "--name", "Plans"]);
    let conversation = created["id"].as_str().unwrap().to_owned();
    alice.ok(&["message", "send", &conversation, "--text", "from alice"]);
    bob.ok(&["message", "send", &conversation, "--text", "from bob"]);
    carol.ok(&["message", "send", &conversation, "--text", "from carol"]);
    for device in [&alice, &bob, &carol] {
        assert_eq!(
            verified_texts(device, &conversation),
            ["from alice", "from bob", "from carol"]
        );
    }

    // bob's phone watches; bob's laptop rotates: the phone's session ends
    // with a sentence saying what to run, and a non-zero exit.
    let mut watcher = phone
        .command(&["--json", "watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut watched = BufReader::new(watcher.stdout.take().unwrap()).lines();
    assert!(watched.next().unwrap().unwrap().contains("ready"));

    // bob rotates twice, keeping the server copy up to date.
    for (to, text) in [("dave", "after one rotation"), ("erin", "after two")] {
        let key_file = fixture_key_file(&bob, to);
        let rotated = bob.json(&[
            "keys",
            "rotate",
            "--update-server-copy",
            "--to",
            path(&key_file),
        ]);
        assert_eq!(
            rotated["fingerprint"],
            nanochat_conformance::FixtureKey::from_name(to)
                .unwrap()
                .private_key()
                .fingerprint()
                .to_string()
        );
        bob.ok(&["message", "send", &conversation, "--text", text]);
    }
    let all = [
        "from alice",
        "from bob",
        "from carol",
        "after one rotation",
        "after two",
    ];
    // No warning anywhere, every message verified, the name still reads.
    for device in [&alice, &bob, &carol] {
        assert_eq!(verified_texts(device, &conversation), all);
        let listed = device.json(&["conversation", "list"]);
        assert_eq!(listed["conversations"][0]["name"], "Plans");
        device.ok(&["user", "show", "bob"]);
    }

    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = watcher.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the phone's watch outlived the rotation"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success());
    // With --json the error is the stream's last object.
    let last: Value = serde_json::from_str(&watched.last().unwrap().unwrap()).unwrap();
    let said = last["error"]["sentence"].as_str().unwrap();
    assert_eq!(last["error"]["code"], "rotated_elsewhere");
    assert!(
        said.contains("was replaced") && said.contains("login --sync"),
        "{said}"
    );

    // bob's phone holds his first key only: it is told what to run, and
    // after a sync login it reads everything.
    let stale = phone.fails(&["message", "list", &conversation]);
    assert!(
        stale.contains("login --sync") && stale.contains("keys import"),
        "{stale}"
    );
    phone.ok(&["login", "--sync", "--sync-password-file", path(&phone_sync)]);
    assert_eq!(verified_texts(&phone, &conversation), all);

    // A key file exported after the rotations holds every key.
    let exported = bob.home.path().join("bob-all-keys.json");
    bob.ok(&["keys", "export", path(&exported)]);
    let laptop = Device::new(&url, "bob", "bob's laptop password");
    laptop.ok(&["keys", "import", path(&exported)]);
    assert_eq!(verified_texts(&laptop, &conversation), all);
    assert!(terminate(&mut server).success());
}

/// Reads `watch`'s text output until a line contains `wanted`; returns
/// that line and the `extra` lines after it.
fn read_until(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    wanted: &str,
    extra: usize,
) -> String {
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains(wanted) {
            let mut said = line;
            for _ in 0..extra {
                said.push('\n');
                said.push_str(&lines.next().unwrap().unwrap());
            }
            return said;
        }
    }
    panic!("watch ended before printing {wanted:?}");
}

/// api.yml, "What clients do about a changed key", on the command line:
/// alice verifies bob; his signed rotation keeps the mark (a quiet notice
/// in `watch`); an operator reset is a loud warning, clears the mark and
/// stops her sending until she accepts the new key, which does not verify
/// him again.
#[test]
fn a_verified_contact_survives_a_rotation_not_a_reset_on_the_command_line() {
    let dir = server_dir();
    let (mut server, url, _log) = serve(dir.path());
    let token = |name: &str| token_in(&run(dir.path(), &["user", "create", name]));
    let fingerprint = |name: &str| {
        nanochat_conformance::FixtureKey::from_name(name)
            .unwrap()
            .private_key()
            .fingerprint()
            .to_string()
    };
    let (alice, bob, conversation) = alice_and_bob(&url, token);

    // Comparing the wrong fingerprint marks nothing, and says so.
    let wrong = alice.fails(&["trust", "verify", "bob", &fingerprint("carol")]);
    assert!(
        wrong.contains("is not the current key of bob")
            && wrong.contains(&fingerprint("carol"))
            && wrong.contains(&fingerprint("bob")),
        "{wrong}"
    );
    let verified = alice.json(&["trust", "verify", "bob", &fingerprint("bob")]);
    assert_eq!(verified["verified"], true);
    let listed = alice.json(&["trust", "list"]);
    assert_eq!(
        listed["contacts"],
        serde_json::json!([{
            "username": "bob",
            "fingerprint": fingerprint("bob"),
            "key_index": 0,
            "verified": true,
        }])
    );

    // alice watches (a rotation, her own message, the reset); bob rotates,
    // signed by his previous key: a quiet notice, still verified.
    let mut watcher = alice
        .command(&["watch", "--count", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut watched = BufReader::new(watcher.stdout.take().unwrap()).lines();
    assert!(watched.next().unwrap().unwrap().contains("watching"));
    let carol_key = fixture_key_file(&bob, "carol");
    bob.ok(&["keys", "rotate", "--to", path(&carol_key)]);
    let notice = read_until(&mut watched, "event.user.key_changed", 1);
    assert!(
        notice.contains("bob rotated their key (signed by their previous key); still verified")
            && notice.contains(&fingerprint("carol"))
            && !notice.contains("WARNING"),
        "{notice}"
    );
    alice.ok(&["message", "send", &conversation, "--text", "still you"]);
    let listed = alice.json(&["trust", "list"]);
    assert_eq!(listed["contacts"][0]["verified"], true);
    assert_eq!(listed["contacts"][0]["key_index"], 1);
    assert_eq!(listed["contacts"][0]["fingerprint"], fingerprint("carol"));

    // The operator resets bob; he completes again with another key: a loud
    // warning with both fingerprints and what to run.
    let reset = token_in(&run(dir.path(), &["user", "reset", "bob"]));
    let bob_again = Device::new(&url, "bob", "bob's new password");
    let dave_key = fixture_key_file(&bob_again, "dave");
    bob_again.ok(&[
        "complete",
        "--token",
        &reset,
        "--display-name",
        "bob",
        "--import",
        path(&dave_key),
    ]);
    let warning = read_until(&mut watched, "WARNING event.user.key_changed", 3);
    assert!(
        warning.contains(&fingerprint("carol"))
            && warning.contains(&fingerprint("dave"))
            && warning.contains("no longer marked verified")
            && warning.contains(&format!("trust user bob '{}'", fingerprint("dave"))),
        "{warning}"
    );
    assert!(watcher.wait().unwrap().success());

    // Sending is refused with a sentence saying what to run.
    let refused = alice.fails(&["message", "send", &conversation, "--text", "bob?"]);
    assert!(
        refused.contains("the key of bob")
            && refused.contains(&fingerprint("dave"))
            && refused.contains(&format!("trust user bob '{}'", fingerprint("dave")))
            && refused.contains("nothing is sent"),
        "{refused}"
    );
    let listed = alice.ok(&["trust", "list"]);
    assert!(listed.contains("bob  not verified  key 1"), "{listed}");
    let history = alice.ok(&["keys", "history", "bob"]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 3, "{history}");
    assert!(
        lines[0].starts_with(&format!("0  {}", fingerprint("bob")))
            && lines[0].ends_with("  chain start (first key or operator reset)"),
        "{history}"
    );
    assert!(
        lines[1].starts_with("1  ") && lines[1].ends_with("rotation signed by key 0"),
        "{history}"
    );
    assert!(
        lines[2].starts_with(&format!("2  {}", fingerprint("dave")))
            && lines[2].contains("  current  ")
            && lines[2]
                .ends_with("chain start (first key or operator reset); not in your trusted chain"),
        "{history}"
    );

    // alice accepts the new key after comparing it: she can send again,
    // but bob is not verified until she says so.
    alice.ok(&["trust", "user", "bob", &fingerprint("dave")]);
    alice.ok(&["message", "send", &conversation, "--text", "welcome back"]);
    let listed = alice.json(&["trust", "list"]);
    assert_eq!(listed["contacts"][0]["verified"], false);
    assert_eq!(listed["contacts"][0]["fingerprint"], fingerprint("dave"));
    let history = alice.json(&["keys", "history", "bob"]);
    let keys = history["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| k["trusted"] == true), "{history}");
    assert_eq!(keys[1]["origin"], "rotation");
    assert_eq!(keys[1]["signed_by"], 0);
    assert_eq!(keys[2]["origin"], "chain_start");
    assert!(keys[2]["until"].is_null());
    alice.ok(&["trust", "verify", "bob", &fingerprint("dave")]);
    assert_eq!(
        alice.json(&["trust", "list"])["contacts"][0]["verified"],
        true
    );
    let taken_back = alice.ok(&["trust", "unverify", "bob"]);
    assert!(
        taken_back.contains("no longer marked verified"),
        "{taken_back}"
    );
    assert_eq!(
        alice.json(&["trust", "list"])["contacts"][0]["verified"],
        false
    );
    assert!(terminate(&mut server).success());
}

/// The shape of a JSON document: each value replaced by its type (an
/// array by the shape of its first item), so a snapshot pins the keys and
/// types scripts rely on, not the ids and times of one run.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(fields) => {
            Value::Object(fields.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("null"),
    }
}

/// Runs a `--json` command that must fail: its one line of stdout, the
/// error object.
fn json_error(device: &Device, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = device.output(&all);
    assert!(!out.status.success(), "{args:?} succeeded");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line on stdout: {stdout}");
    serde_json::from_str(lines[0]).unwrap()
}

/// What scripts and people read: the `--json` shapes of messages, `watch`
/// events and errors (snapshots), errors in words with the limit or the
/// user named, file sizes as people know them, a multi-line text
/// indented, a removal named as one, and a former member's display name.
#[test]
fn json_shapes_sizes_and_sentences_on_the_command_line() {
    let dir = server_dir();
    let (mut server, url, _log) = serve(dir.path());
    let token = |name: &str| token_in(&run(dir.path(), &["user", "create", name]));
    let alice = Device::new(&url, "alice", "alice's key password");
    let bob = Device::new(&url, "bob", "bob's key password");
    let carol = Device::new(&url, "carol", "carol's key password");
    let erin = Device::new(&url, "erin", "erin's key password");
    for (device, display) in [
        (&alice, "Alice"),
        (&bob, "Bob"),
        (&carol, "Carol"),
        (&erin, "Erin"),
    ] {
        let import = fixture_key_file(device, &device.user);
        device.ok(&[
            "complete",
            "--token",
            &token(&device.user),
            "--display-name",
            display,
            "--import",
            path(&import),
        ]);
    }
    // dave exists but never completed.
    token("dave");
    let pending = json_error(&alice, &["conversation", "create", "dave"]);
    assert_eq!(
        pending["error"]["sentence"],
        "No user dave (or dave has not activated their account yet): check the spelling with them."
    );
    insta::assert_snapshot!(
        "error_shape",
        serde_json::to_string_pretty(&shape(&pending)).unwrap()
    );
    // A usage mistake is JSON too.
    let usage = json_error(&alice, &["message", "send"]);
    assert_eq!(usage["error"]["code"], "usage");

    let group = alice.json(&[
        "conversation",
        "create",
        "bob",
        "carol",
        "erin",
        "--name",
        "Team",
    ]);
    let group = group["id"].as_str().unwrap().to_owned();
    let mut watcher = bob
        .command(&["--json", "watch", "--count", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut events = BufReader::new(watcher.stdout.take().unwrap()).lines();
    let ready: Value = serde_json::from_str(&events.next().unwrap().unwrap()).unwrap();
    // The same in text, for bob (removed) and erin (who stays until the
    // deletion).
    let text_watch = |device: &Device, count: &str| {
        let mut child = device
            .command(&["watch", "--count", count])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert!(lines.next().unwrap().unwrap().contains("watching"));
        (child, lines)
    };
    let (mut bob_text, mut bob_lines) = text_watch(&bob, "3");
    let (mut erin_text, mut erin_lines) = text_watch(&erin, "4");

    // Sizes as people know them: the file's, not the ciphertext's.
    let bytes = vec![7u8; 2_000_000];
    let file = carol.file("big.bin", &bytes);
    let sent = carol.json(&[
        "message",
        "send",
        &group,
        "--text",
        "first line\nsecond line",
        "--file",
        path(&file),
    ]);
    assert_eq!(sent["file_size"], 2_000_000);
    assert_eq!(sent["sender_display_name"], "Carol");
    insta::assert_snapshot!(
        "message_shape",
        serde_json::to_string_pretty(&shape(&sent)).unwrap()
    );
    let page = alice.json(&["message", "list", &group]);
    assert_eq!(page["messages"][0]["file_size"], 2_000_000);
    insta::assert_snapshot!(
        "page_shape",
        serde_json::to_string_pretty(&shape(&page)).unwrap()
    );
    let text = alice.ok(&["message", "list", &group]);
    let lines: Vec<&str> = text.lines().collect();
    let first = lines[0];
    let column = first.find("first line").unwrap();
    assert!(first.contains("Carol (carol): first line"), "{text}");
    assert_eq!(
        lines[1],
        format!("{}second line  [file big.bin, 2 MB]", " ".repeat(column)),
        "{text}"
    );
    let saved = alice.home.path().join("saved.bin");
    let download = alice.ok(&[
        "message",
        "download",
        &group,
        sent["id"].as_str().unwrap(),
        "--output",
        path(&saved),
    ]);
    assert!(download.contains("(2 MB, verified)"), "{download}");

    // A file over the server's limit (8 MiB by default) is too_large, with
    // the limit in MB, over HTTP as everywhere.
    let huge = alice.file("huge.bin", &vec![1u8; 9 * 1024 * 1024]);
    let refused = json_error(&alice, &["message", "send", &group, "--file", path(&huge)]);
    assert_eq!(refused["error"]["code"], "too_large", "{refused}");
    assert_eq!(
        refused["error"]["sentence"],
        "The file is 9.4 MB, and this server accepts files up to 8.4 MB: send a smaller file."
    );
    let said = alice.fails(&["message", "send", &group, "--file", path(&huge)]);
    assert!(
        said.starts_with("error: The file is 9.4 MB") && said.contains("too_large"),
        "{said}"
    );

    // carol leaves: her name stays readable in the history.
    carol.ok(&["conversation", "leave", &group]);
    let page = alice.json(&["message", "list", &group]);
    assert_eq!(page["messages"][0]["sender_display_name"], "Carol");
    // bob is removed: his watch says so.
    alice.ok(&["conversation", "members", &group, "alice", "erin"]);
    let watched: Vec<Value> = (0..3)
        .map(|_| serde_json::from_str(&events.next().unwrap().unwrap()).unwrap())
        .collect();
    assert!(watcher.wait().unwrap().success());
    let kinds: Vec<&str> = watched
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "event.message.created",
            "event.conversation.left",
            "event.conversation.removed"
        ]
    );
    assert_eq!(watched[1]["display_name"], "Carol");
    assert_eq!(watched[2]["reason"], "removed");
    assert_eq!(watched[2]["name"], "Team");
    let removed = read_until(&mut bob_lines, "event.conversation.removed", 0);
    assert_eq!(
        removed,
        format!("event.conversation.removed: you were removed from Team ({group}) by its owner")
    );
    assert!(bob_text.wait().unwrap().success());
    // erin stays, hears the member change, then the deletion as a deletion.
    read_until(&mut erin_lines, "event.conversation.updated", 0);
    alice.ok(&["conversation", "delete", &group]);
    let deleted = read_until(&mut erin_lines, "event.conversation.deleted", 0);
    assert_eq!(
        deleted,
        format!("event.conversation.deleted: Team ({group}) was deleted by its owner")
    );
    assert!(erin_text.wait().unwrap().success());
    let mut shapes = vec![shape(&ready)];
    shapes.extend(watched.iter().map(shape));
    insta::assert_snapshot!(
        "watch_shapes",
        serde_json::to_string_pretty(&shapes).unwrap()
    );
    assert!(terminate(&mut server).success());
}

/// `watch` across a server restart: it says it is catching up, prints
/// what was posted meanwhile once, and never prints a message it printed
/// before the gap again.
#[test]
fn watch_catches_up_after_a_restart_without_repeating_itself() {
    let dir = server_dir();
    let (mut server, url, _log) = serve(dir.path());
    let token = |name: &str| token_in(&run(dir.path(), &["user", "create", name]));
    let (alice, bob, conversation) = alice_and_bob(&url, token);
    let mut watcher = bob
        .command(&["--json", "watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watcher.stdout.take().unwrap()).lines();
    let mut next = || -> Value { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };
    assert_eq!(next()["event"], "ready");
    let before = alice.json(&["message", "send", &conversation, "--text", "before"]);
    assert_eq!(next()["id"], before["id"]);

    // The same address comes back on the same data.
    assert!(terminate(&mut server).success());
    let address = url.trim_start_matches("http://");
    let mut again = Command::new(BINARY)
        .args(["serve", "--listen", address])
        .current_dir(dir.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..100 {
        if alice.output(&["conversation", "list"]).status.success() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(up, "the server did not come back");
    let during = alice.json(&["message", "send", &conversation, "--text", "meanwhile"]);

    // Until both the marker of the end of the catch-up and the new message
    // were printed (the socket may be back before the message was sent).
    let mut seen = Vec::new();
    while !(seen.iter().any(|e: &Value| e["event"] == "caught_up")
        && seen.iter().any(|e: &Value| e["id"] == during["id"]))
    {
        let event = next();
        assert_ne!(event["id"], before["id"], "printed again: {event}");
        seen.push(event);
    }
    assert_eq!(seen[0]["event"], "catching_up", "{seen:?}");
    assert_eq!(seen[0]["reconnects"], 1);
    let printed = seen.iter().filter(|e| e["id"] == during["id"]).count();
    assert_eq!(printed, 1, "{seen:?}");
    watcher.kill().unwrap();
    watcher.wait().unwrap();
    assert!(terminate(&mut again).success());
}
