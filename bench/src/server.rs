//! The server under test: a `nanochat serve` child on a loopback port in a
//! fresh directory (or a running server given by URL), its provisioning
//! through the operator CLI, and its CPU time and memory from `/proc`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use nanochat::crypto::RsaBackend;

/// How the bench reaches the server it measures.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// The `nanochat` binary to start.
    pub bin: PathBuf,
    /// A running server instead (no CPU or memory figures then).
    pub url: Option<String>,
    /// With `url`: the command creating a user (`{username}` is replaced);
    /// it must print `complete token: TOKEN`.
    pub provision_cmd: Option<String>,
}

/// A server being measured.
pub struct Target {
    /// Its base URL.
    pub url: String,
    /// The backend it was started with (`None` for an external server).
    pub backend: Option<RsaBackend>,
    child: Option<Child>,
    provision: Provision,
    /// Its data directory, removed on drop (after the server stopped).
    dir: Option<tempfile::TempDir>,
}

#[derive(Clone)]
enum Provision {
    /// The operator CLI on `database` (a file path or a PostgreSQL URL).
    Binary {
        bin: PathBuf,
        database: std::ffi::OsString,
    },
    Command(String),
}

/// Options for [`Target::start`].
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// The RSA backend (`--rsa-backend`).
    pub backend: RsaBackend,
    /// `--max-members`.
    pub max_members: usize,
    /// Keep the shipped per-address rate limit (the flood scenario); every
    /// other scenario lifts it, since all its clients share one address.
    pub shipped_rate_limits: bool,
}

impl Target {
    /// Starts the server in a fresh temporary directory (with `key_pem` as
    /// its key), or connects to the external one of `spec`.
    pub async fn start(
        spec: &ServerSpec,
        options: &StartOptions,
        key_pem: &str,
    ) -> anyhow::Result<Target> {
        if let Some(url) = &spec.url {
            let Some(cmd) = &spec.provision_cmd else {
                bail!("--server needs --provision-cmd to create users");
            };
            wait_healthy(url, Duration::from_secs(10)).await?;
            return Ok(Target {
                url: url.trim_end_matches('/').to_owned(),
                backend: None,
                child: None,
                provision: Provision::Command(cmd.clone()),
                dir: None,
            });
        }
        let dir = tempfile::Builder::new()
            .prefix("nanochat-bench-")
            .tempdir()?;
        Target::start_in(spec, options, key_pem, dir).await
    }

    /// Starts the server binary on an existing directory (holding, or
    /// getting, `nanochat.db` and `key.pem`).
    pub async fn start_in(
        spec: &ServerSpec,
        options: &StartOptions,
        key_pem: &str,
        dir: tempfile::TempDir,
    ) -> anyhow::Result<Target> {
        let database = dir.path().join("nanochat.db").into_os_string();
        Target::start_on(spec, options, key_pem, dir, database).await
    }

    /// Starts one instance of the server binary on a shared PostgreSQL
    /// database (`url`), in a fresh directory of its own.
    pub async fn start_on_postgres(
        spec: &ServerSpec,
        options: &StartOptions,
        key_pem: &str,
        url: &str,
    ) -> anyhow::Result<Target> {
        let dir = tempfile::Builder::new()
            .prefix("nanochat-bench-")
            .tempdir()?;
        Target::start_on(spec, options, key_pem, dir, url.into()).await
    }

    async fn start_on(
        spec: &ServerSpec,
        options: &StartOptions,
        key_pem: &str,
        dir: tempfile::TempDir,
        database: std::ffi::OsString,
    ) -> anyhow::Result<Target> {
        let (child, url, _) = spawn_on(&spec.bin, dir.path(), options, key_pem, &database)?;
        let mut target = Target {
            url,
            backend: Some(options.backend),
            child: Some(child),
            provision: Provision::Binary {
                bin: spec.bin.clone(),
                database,
            },
            dir: Some(dir),
        };
        if let Err(e) = wait_healthy(&target.url, Duration::from_secs(30)).await {
            target.stop();
            return Err(e);
        }
        Ok(target)
    }

    /// The server's process id, if the bench started it.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The label of the backend ("external" when unknown).
    pub fn backend_name(&self) -> String {
        self.backend
            .map_or_else(|| "external".to_owned(), |b| b.name().to_owned())
    }

    /// CPU time (user + system) the server has used so far, in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        process_cpu_seconds(&self.pid()?.to_string())
    }

    /// The server's resident memory in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Creates many users, four operator commands at a time.
    pub async fn create_users(&self, names: &[String]) -> anyhow::Result<Vec<String>> {
        let results: Vec<anyhow::Result<String>> =
            futures_util::stream::iter(names.iter())
                .map(|name| {
                    let (provision, name) = (self.provision.clone(), name.clone());
                    async move {
                        tokio::task::spawn_blocking(move || create_user(&provision, &name)).await?
                    }
                })
                .buffered(4)
                .collect()
                .await;
        results.into_iter().collect()
    }

    /// Kills the server with SIGKILL, giving it no chance to flush or close
    /// anything, and hands back its directory so that it can be started
    /// again on the same files.
    pub fn crash(mut self) -> anyhow::Result<tempfile::TempDir> {
        let mut child = self
            .child
            .take()
            .context("the bench did not start this server")?;
        // std's Child::kill is SIGKILL on Unix.
        child.kill()?;
        child.wait()?;
        self.dir
            .take()
            .context("the server has no directory of its own")
    }

    /// The database file, for a server the bench started.
    pub fn database(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("nanochat.db"))
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Creates a pending user through the operator CLI; returns its token.
fn create_user(provision: &Provision, username: &str) -> anyhow::Result<String> {
    let output = match provision {
        Provision::Binary { bin, database } => Command::new(bin)
            .args(["user", "create", username, "--database"])
            .arg(database)
            .output()?,
        Provision::Command(cmd) => Command::new("sh")
            .args(["-c", &cmd.replace("{username}", username)])
            .output()?,
    };
    if !output.status.success() {
        bail!(
            "user create {username} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("complete token: "))
        .map(str::to_owned)
        .with_context(|| format!("user create {username} printed no token"))
}

/// Spawns `nanochat serve` in `dir` on a random loopback port; returns the
/// child, its URL and when it was spawned. Its log goes to `dir/server.log`.
pub fn spawn(
    bin: &Path,
    dir: &Path,
    options: &StartOptions,
    key_pem: &str,
) -> anyhow::Result<(Child, String, Instant)> {
    spawn_on(
        bin,
        dir,
        options,
        key_pem,
        dir.join("nanochat.db").as_os_str(),
    )
}

/// Like [`spawn`], on `database` (a file path or a PostgreSQL URL).
pub fn spawn_on(
    bin: &Path,
    dir: &Path,
    options: &StartOptions,
    key_pem: &str,
    database: &std::ffi::OsStr,
) -> anyhow::Result<(Child, String, Instant)> {
    let key_path = dir.join("key.pem");
    if !key_path.exists() {
        std::fs::write(&key_path, key_pem)?;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))?;
    }
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .arg("--database")
        .arg(database)
        .arg("--server-key")
        .arg(&key_path)
        .args(if options.shipped_rate_limits {
            &[][..]
        } else {
            &["--peer-rate", "1000000", "--peer-burst", "1000000"][..]
        })
        .args(["--max-members", &options.max_members.to_string()])
        // 1,000 members need a larger body limit for the shipped file limit.
        .args(["--max-body-bytes", &(32u64 << 20).to_string()])
        .args(["--rsa-backend", options.backend.name()])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stderr = child.stderr.take().context("no stderr")?;
    let mut log = std::fs::File::create(dir.join("server.log"))?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = writeln!(log, "{line}");
            if let Some(sender) = &tx {
                let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                if entry["fields"]["message"] == "listening" {
                    if let Some(address) = entry["fields"]["address"].as_str() {
                        let _ = sender.send(address.to_owned());
                    }
                    tx = None;
                }
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(address) => Ok((child, format!("http://{address}"), started)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            bail!("the server did not start listening; its log:\n{log}")
        }
    }
}

/// CPU time (user + system) of process `pid` (or `self`), in seconds, from
/// fields 14 and 15 of `/proc/PID/stat`.
pub fn process_cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (the state).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// Polls `GET /health` until it answers 200.
pub async fn wait_healthy(url: &str, within: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let health = format!("{}/health", url.trim_end_matches('/'));
    let deadline = Instant::now() + within;
    loop {
        if client
            .get(&health)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{health} did not answer within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Clock ticks per second for `/proc/PID/stat` (`getconf CLK_TCK`, else 100).
pub fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Raises this process's soft open-file limit to the hard limit (children
/// inherit it); returns the new soft limit.
pub fn raise_nofile() -> u64 {
    let hard = rlimit::Resource::NOFILE
        .get()
        .map_or(1024, |(_, hard)| hard);
    rlimit::increase_nofile_limit(hard).unwrap_or(1024)
}
