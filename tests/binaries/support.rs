//! Running the real binaries in tests: `nanochat serve` on a random
//! loopback port with its log captured, operator commands beside it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use nanochat::crypto::PrivateKey;
use nanochat_conformance::FixtureKey;

/// The server binary.
pub const BINARY: &str = env!("CARGO_BIN_EXE_nanochat");

/// The fixture key of the user called `name`.
pub fn key(name: &str) -> PrivateKey {
    FixtureKey::from_name(name)
        .unwrap_or_else(|| panic!("no fixture key {name}"))
        .private_key()
}

/// Everything a server process wrote to stderr.
pub type Log = Arc<Mutex<Vec<String>>>;

/// Starts `nanochat serve` on a random loopback port, logging at debug
/// level; returns the child, its URL and its log as it grows.
pub fn serve(dir: &std::path::Path) -> (Child, String, Log) {
    serve_logging(dir, "debug")
}

/// [`serve`] with `filter` as the `NANOCHAT_LOG` directive.
pub fn serve_logging(dir: &std::path::Path, filter: &str) -> (Child, String, Log) {
    serve_with(dir, filter, &[])
}

/// [`serve_logging`] on `database` (a `--database` value) instead of the
/// SQLite file in `dir`.
pub fn serve_on(dir: &std::path::Path, filter: &str, database: &str) -> (Child, String, Log) {
    serve_with(dir, filter, &[("NANOCHAT_DATABASE", database)])
}

/// [`serve_logging`] with more settings in its environment.
pub fn serve_with(
    dir: &std::path::Path,
    filter: &str,
    env: &[(&str, &str)],
) -> (Child, String, Log) {
    let mut command = Command::new(BINARY);
    command.envs(env.iter().copied());
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("NANOCHAT_LOG", filter)
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

/// Runs `nanochat ARGS` in `dir`, asserts it exits with `code`, and
/// returns its stderr.
pub fn fails(dir: &std::path::Path, args: &[&str], code: i32) -> String {
    let output = Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run nanochat");
    assert_eq!(output.status.code(), Some(code), "nanochat {args:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The files of `dir` (database, WAL, shared memory, key) that contain
/// `needle`.
pub fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
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

pub fn run(dir: &std::path::Path, args: &[&str]) -> String {
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

pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap()
}

/// A fresh data directory holding the fixture server key (mode 0600).
pub fn server_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("nanochat-server-key.pem");
    std::fs::write(&key_path, FixtureKey::Server.pem()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    dir
}

/// The complete token in the output of `nanochat user create` or `reset`.
pub fn token_in(output: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix("complete token: "))
        .expect("a token is printed")
        .to_owned()
}

/// Completes `name` on the server at `url` with its fixture key and the
/// complete token `token`; the session, signed by that key.
pub async fn complete_with_fixture(
    url: &str,
    name: &str,
    token: String,
) -> nanochat::client::Session {
    use nanochat::client::Bodies as _;
    let session = nanochat::client::Session::connect(url, name, Some(key(name)))
        .await
        .unwrap();
    session
        .user_complete(nanochat::models::CompleteUser {
            token: nanochat::wire::Secret::new(token),
            display_name: name.into(),
            public_key: key(name).public_key().to_spki_der().to_vec().into(),
            private_key: None,
            sync_password: None,
        })
        .await
        .unwrap();
    session
}
