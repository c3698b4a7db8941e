//! The `nanochat` command line: the server and its operator commands.
//!
//! Every flag of `serve` also reads a `NANOCHAT_*` environment variable.
//! The user commands open the database directly (SQLite in WAL mode allows
//! it while the server runs). `backup`: `nanochat backup`, a checked copy
//! of the database and the server key, and the check of one.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use clap::{Args, Parser, Subcommand};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;

use crate::server::server_key::Refused;
use crate::server::{self, Config};
use crate::store::{Location, Store, StoreError};
use crate::username::Username;

mod backup;

/// NanoChat: a self-hosted, end-to-end encrypted chat server.
#[derive(Debug, Parser)]
#[command(name = "nanochat", version, about, long_about = None)]
pub struct Cli {
    /// Log format.
    #[arg(long, global = true, env = "NANOCHAT_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Manage users (works while the server runs).
    #[command(subcommand)]
    User(UserCommand),
    /// Back up the SQLite database while the server runs (to DEST, the
    /// server key to DEST.server-key.pem), or check a backup.
    Backup(BackupArgs),
    /// Print the server key's fingerprint, for users to compare with what their client pinned.
    ServerKey {
        /// The server's private key file.
        #[arg(
            long,
            env = "NANOCHAT_SERVER_KEY",
            default_value = "nanochat-server-key.pem"
        )]
        server_key: PathBuf,
    },
}

/// Where the database is.
#[derive(Debug, Args)]
pub struct DatabaseArg {
    /// The database: a SQLite file path (or sqlite://PATH), or a
    /// postgres:// URL for a PostgreSQL database shared by several
    /// instances.
    #[arg(long, env = "NANOCHAT_DATABASE", default_value = "nanochat.db")]
    pub database: Location,
}

/// `nanochat backup`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["dest", "check"])))]
pub struct BackupArgs {
    /// The new backup file (must not exist); written with mode 0600, then
    /// checked. The server key is copied beside it to DEST.server-key.pem.
    pub dest: Option<PathBuf>,
    /// Check an existing backup FILE (and FILE.server-key.pem beside it)
    /// instead of making one.
    #[arg(long, value_name = "FILE")]
    pub check: Option<PathBuf>,
    /// The database location.
    #[command(flatten)]
    pub database: DatabaseArg,
    /// The server's private key file, copied beside the backup.
    #[arg(
        long,
        env = "NANOCHAT_SERVER_KEY",
        default_value = "nanochat-server-key.pem"
    )]
    pub server_key: PathBuf,
}

/// Where people complete their accounts, for the text `user create` and
/// `user reset` print.
// The help text shows the example address as it is, which rustdoc would
// rather see as a link.
#[allow(rustdoc::bare_urls)]
#[derive(Debug, Args)]
pub struct PublicUrlArg {
    /// The address people open in a browser (e.g. https://chat.example.org/),
    /// printed with the token.
    #[arg(long, env = "NANOCHAT_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// `nanochat serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (put a TLS reverse proxy in front for remote users).
    #[arg(long, env = "NANOCHAT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Serve Prometheus metrics at /metrics on this address (e.g.
    /// 127.0.0.1:9464); off by default. Keep it off the internet.
    #[arg(long, env = "NANOCHAT_METRICS_LISTEN")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The database location.
    #[command(flatten)]
    pub database: DatabaseArg,
    /// The server's private key file; created (mode 0600) on first start.
    /// Once the database has users, serve refuses to start if it is missing
    /// or is not the key the database last served with.
    #[arg(
        long,
        env = "NANOCHAT_SERVER_KEY",
        default_value = "nanochat-server-key.pem"
    )]
    pub server_key: PathBuf,
    /// Start with a new server key although the database served with
    /// another (generate one if the key file is missing) and record it:
    /// every client then warns that the server key changed.
    #[arg(long)]
    pub replace_server_key: bool,
    /// Freshness window for request timestamps, in seconds.
    #[arg(long, env = "NANOCHAT_FRESHNESS_WINDOW", default_value_t = 300)]
    pub freshness_window: u64,
    /// Largest request body, in bytes.
    #[arg(long, env = "NANOCHAT_MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: i64,
    /// Largest attachment ciphertext, in bytes.
    #[arg(long, env = "NANOCHAT_MAX_FILE_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_file_bytes: i64,
    /// Largest message content ciphertext, in bytes.
    #[arg(long, env = "NANOCHAT_MAX_CONTENT_BYTES", default_value_t = 64 * 1024)]
    pub max_content_bytes: i64,
    /// Most members in a conversation.
    #[arg(long, env = "NANOCHAT_MAX_MEMBERS", default_value_t = 100)]
    pub max_members: i64,
    /// Most messages per history page.
    #[arg(long, env = "NANOCHAT_MAX_PAGE_SIZE", default_value_t = 100)]
    pub max_page_size: i64,
    /// Most conversations one user may be a member of.
    #[arg(long, env = "NANOCHAT_MAX_CONVERSATIONS", default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..))]
    pub max_conversations: i64,
    /// Envelopes one peer address may send per second, sustained (behind a trusted proxy: one client).
    #[arg(long, env = "NANOCHAT_PEER_RATE", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub peer_rate: u32,
    /// Envelopes one peer address may send in a burst.
    #[arg(long, env = "NANOCHAT_PEER_BURST", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub peer_burst: u32,
    /// Milliseconds a request over its address's limit is held before its 429 (0: answer at once).
    #[arg(long, env = "NANOCHAT_RATE_LIMITED_DELAY_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub rate_limited_delay_ms: u64,
    /// A reverse proxy whose X-Forwarded-For is believed for rate limits (repeat, or comma-separate in the variable).
    #[arg(
        long = "trusted-proxy",
        env = "NANOCHAT_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The RSA implementation: aws-lc (AWS-LC, about 5x faster) or rustcrypto (the pure-Rust `rsa` crate).
    #[arg(
        long,
        env = "NANOCHAT_RSA_BACKEND",
        hide_env_values = true,
        default_value_t = crate::crypto::RsaBackend::default_of_build()
    )]
    pub rsa_backend: crate::crypto::RsaBackend,
}

/// `nanochat user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and print its one-time complete token.
    Create {
        /// Username: lowercase letters, digits, '.', '_' and '-', 1 to 32 characters.
        name: Username,
        /// How long the token stays valid (e.g. 30m, 24h, 7d).
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        ttl: Duration,
        /// The database location.
        #[command(flatten)]
        database: DatabaseArg,
        /// Where people complete their accounts.
        #[command(flatten)]
        public_url: PublicUrlArg,
    },
    /// List users and whether they completed their setup.
    List {
        /// The database location.
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Delete a user, immediately and irreversibly.
    Delete {
        /// The user.
        name: String,
        /// The database location.
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Give a user who lost their keys a new complete token (their key is cleared).
    Reset {
        /// The user.
        name: String,
        /// How long the token stays valid (e.g. 30m, 24h, 7d).
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        ttl: Duration,
        /// The database location.
        #[command(flatten)]
        database: DatabaseArg,
        /// Where people complete their accounts.
        #[command(flatten)]
        public_url: PublicUrlArg,
    },
}

impl ServeArgs {
    /// The server configuration these flags describe.
    pub fn config(&self) -> Config {
        let mut config = Config::default_in(".");
        config.listen = self.listen;
        config.metrics_listen = self.metrics_listen;
        config.database = self.database.database.clone();
        config.server_key = self.server_key.clone();
        config.replace_server_key = self.replace_server_key;
        config.freshness_window = Duration::from_secs(self.freshness_window);
        config.limits.max_body_bytes = self.max_body_bytes;
        config.limits.max_file_bytes = self.max_file_bytes;
        config.limits.max_content_bytes = self.max_content_bytes;
        config.limits.max_members = self.max_members;
        config.limits.max_page_size = self.max_page_size;
        config.limits.max_conversations = self.max_conversations;
        config.peer_rate_per_second = self.peer_rate;
        config.peer_burst = self.peer_burst;
        config.rate_limited_delay = Duration::from_millis(self.rate_limited_delay_ms);
        config.trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|ip| ip.to_canonical())
            .collect();
        config
    }
}

/// Runs a parsed command; output for the operator goes to `out`.
pub async fn run(command: Command, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            // Before the server key is loaded: keys use the backend active
            // when they are parsed.
            crate::crypto::backend::select(args.rsa_backend);
            let config = args.config();
            // Before anything is bound or opened: limits a client cannot
            // use are an operator mistake, not something to announce.
            server::protocol::check_limits(&config.limits)
                .map_err(|e| anyhow::anyhow!("invalid limits: {e}"))?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            server::serve(config, listener, shutdown_signal()).await
        }
        Command::ServerKey { server_key } => {
            let pem = zeroize::Zeroizing::new(std::fs::read_to_string(&server_key).with_context(
                || {
                    format!(
                        "cannot read {} (it is created by the first `nanochat serve`)",
                        server_key.display()
                    )
                },
            )?);
            let key = crate::crypto::PrivateKey::from_pkcs8_pem(&pem)
                .context("the server key file is not a usable key")?;
            writeln!(out, "{}", key.fingerprint())?;
            Ok(())
        }
        Command::User(command) => user(command, out).await,
        Command::Backup(args) => backup::backup(args, out).await,
    }
}

async fn user(command: UserCommand, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    match command {
        UserCommand::Create {
            name,
            ttl,
            database,
            public_url,
        } => {
            let store = &open_existing(&database.database).await?;
            let name = name.as_str();
            let url = public_url.public_url.as_deref();
            issue_token(
                "created",
                name,
                now,
                ttl,
                url,
                out,
                |hash, expires| async move {
                    store
                        .create_user(name, &hash, expires, ms(now))
                        .await
                        .map_err(|e| match e {
                            StoreError::Conflict(_) => {
                                anyhow::anyhow!("a user called {name:?} already exists")
                            }
                            other => other.into(),
                        })
                },
            )
            .await?;
        }
        UserCommand::Reset {
            name,
            ttl,
            database,
            public_url,
        } => {
            let store = &open_existing(&database.database).await?;
            let name = name.as_str();
            let url = public_url.public_url.as_deref();
            issue_token(
                "reset",
                name,
                now,
                ttl,
                url,
                out,
                |hash, expires| async move {
                    store
                        .reset_user(name, &hash, expires, ms(now))
                        .await
                        .map_err(|e| match e {
                            StoreError::NotFound => anyhow::anyhow!("no user is called {name:?}"),
                            other => other.into(),
                        })
                },
            )
            .await?;
        }
        UserCommand::List { database } => {
            let store = open_existing(&database.database).await?;
            let users = store.list_users().await?;
            writeln!(
                out,
                "{:<32} {:<10} {:<24} fingerprint",
                "username", "state", "display name"
            )?;
            for user in users {
                let state = if user.is_complete() {
                    "active"
                } else {
                    "pending"
                };
                let fingerprint = user
                    .public_key
                    .as_deref()
                    .map(|k| crate::crypto::Fingerprint::of_spki_der(k).to_string())
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{:<32} {:<10} {:<24} {fingerprint}",
                    user.username,
                    state,
                    user.display_name.unwrap_or_default()
                )?;
            }
        }
        UserCommand::Delete { name, database } => {
            let store = open_existing(&database.database).await?;
            store
                .delete_user(&name, ms(now))
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => {
                        anyhow::anyhow!("no user is called {name:?}")
                    }
                    other => other.into(),
                })?;
            writeln!(out, "deleted user {name}")?;
        }
    }
    Ok(())
}

/// Opens a database `nanochat serve` already set up; refuses
/// ([`Refused`]) a missing SQLite file or an unmigrated PostgreSQL
/// database instead of creating an empty one the server never sees.
async fn open_existing(location: &Location) -> anyhow::Result<Store> {
    if !crate::store::is_set_up(location).await? {
        let what = match location {
            Location::Sqlite(path) => {
                let shown = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                format!("there is no NanoChat database at {}", shown.display())
            }
            Location::Postgres(_) => {
                format!("the PostgreSQL database {location} has no NanoChat schema")
            }
        };
        return Err(Refused(format!(
            "{what}: give the server's database with --database (or NANOCHAT_DATABASE), or run \
             `nanochat serve` once to create it"
        ))
        .into());
    }
    Ok(Store::open(location).await?)
}

/// Draws a token, lets `record` store its hash and expiry (unix ms), then
/// prints it for the operator with where it is used.
async fn issue_token<F, Fut>(
    verb: &str,
    name: &str,
    now: OffsetDateTime,
    ttl: Duration,
    public_url: Option<&str>,
    out: &mut impl std::io::Write,
    record: F,
) -> anyhow::Result<()>
where
    F: FnOnce([u8; 32], i64) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let (token, hash, expires) = new_token(now, ttl)?;
    record(hash, ms(expires)).await?;
    writeln!(
        out,
        "{verb} user {name}\ncomplete token: {}\nexpires at: {} (valid for {}, usable once)",
        token.as_str(),
        expires.format(&Rfc3339)?,
        describe(ttl),
    )?;
    let server = public_url.map(|u| u.trim_end_matches('/'));
    match server {
        Some(url) => writeln!(
            out,
            "in a browser: open {url}/ and use \"Complete your account\" with username {name} and this token"
        )?,
        None => writeln!(
            out,
            "in a browser: open the server's web page (set --public-url or NANOCHAT_PUBLIC_URL \
             to print it here) and use \"Complete your account\" with username {name} and this token"
        )?,
    }
    writeln!(
        out,
        "on the command line: nanochat-client --server {} --user {name} complete --token {} --display-name NAME",
        server.unwrap_or("URL"),
        token.as_str()
    )?;
    Ok(())
}

/// `90s`, `30m`, `24h`, `7d` back from a duration, in the largest whole unit.
fn describe(ttl: Duration) -> String {
    let s = ttl.as_secs();
    match s {
        _ if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

fn ms(t: OffsetDateTime) -> i64 {
    server::protocol::unix_ms(t)
}

/// A complete token: 32 random bytes as base64url, its SHA-256 (the only
/// form stored) and its expiry.
fn new_token(
    now: OffsetDateTime,
    ttl: Duration,
) -> anyhow::Result<(zeroize::Zeroizing<String>, [u8; 32], OffsetDateTime)> {
    let mut raw = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(raw.as_mut())
        .map_err(|e| anyhow::anyhow!("the OS random generator failed: {e}"))?;
    let token = zeroize::Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.as_ref()),
    );
    let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    Ok((token, hash, now + ttl))
}

/// `90s`, `30m`, `24h`, `7d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30m, 24h or 7d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" | "" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    let total = number
        .checked_mul(seconds)
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("{text:?} is out of range"))?;
    Ok(Duration::from_secs(total))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests;
