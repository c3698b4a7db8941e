//! Server configuration: where data lives, what the limits are, and which
//! protocol rules are enforced.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::models::Limits;
use crate::store::Location;

/// Everything `nanochat serve` can be told (flags and `NANOCHAT_*`
/// variables map onto this).
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where `/metrics` is served (Prometheus), if anywhere: never on
    /// `listen`, which faces the chat's users.
    pub metrics_listen: Option<SocketAddr>,
    /// The database: a SQLite file (the default) or a PostgreSQL URL.
    pub database: Location,
    /// The server's private key (PKCS#8 PEM, created with mode 0600 on first start).
    pub server_key: PathBuf,
    /// Start even though the server key file is missing or is not the key
    /// the database last served with, and record the new key's fingerprint
    /// (`--replace-server-key`; every client then warns that it changed).
    pub replace_server_key: bool,
    /// How far a request's `created_at` may be from the server clock.
    pub freshness_window: Duration,
    /// Limits announced by `/references` and enforced on every request.
    pub limits: Limits,
    /// Envelopes a single peer address may send per second, sustained.
    pub peer_rate_per_second: u32,
    /// Envelopes a single peer address may send in a burst.
    pub peer_burst: u32,
    /// How long a request over its address's limit waits for its 429 (or
    /// a socket frame for its plain `rate_limited`): a flooding client that
    /// waits for answers sends one request per connection per this long,
    /// instead of as many as the server can refuse.
    pub rate_limited_delay: Duration,
    /// Failed `user.sync` attempts allowed per user in `sync_failure_window`.
    pub sync_failures_allowed: u32,
    /// Failed `user.sync` attempts allowed per peer address in
    /// `sync_failure_window`, across all usernames: higher than the
    /// per-user allowance, because everyone behind one NAT or proxy shares
    /// an address, yet it stops one address from guessing across names.
    pub sync_failures_per_peer: u32,
    /// The window over which failed `user.sync` attempts are counted.
    pub sync_failure_window: Duration,
    /// How often WebSocket peers are pinged.
    pub ping_interval: Duration,
    /// Events queued for one socket before it is considered too slow and closed.
    pub socket_queue: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed: requests from
    /// them are rate limited by the client address they report.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long in-flight requests get to finish on shutdown.
    pub shutdown_grace: Duration,
    /// The protocol rules, settable only in builds with the `mutants`
    /// feature (the conformance suite's deliberately broken servers); every
    /// other build enforces them all.
    #[cfg(feature = "mutants")]
    pub rules: Rules,
}

impl Config {
    /// The embedded default: `nanochat.db` and `nanochat-server-key.pem` in
    /// the working directory, listening on 127.0.0.1:8080.
    pub fn default_in(dir: impl Into<PathBuf>) -> Config {
        let dir = dir.into();
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: None,
            database: Location::Sqlite(dir.join("nanochat.db")),
            server_key: dir.join("nanochat-server-key.pem"),
            replace_server_key: false,
            freshness_window: Duration::from_secs(300),
            limits: Limits {
                max_body_bytes: 16 * 1024 * 1024,
                max_file_bytes: 8 * 1024 * 1024,
                max_content_bytes: 64 * 1024,
                max_members: 100,
                max_page_size: 100,
                max_conversations: 1000,
            },
            peer_rate_per_second: 50,
            peer_burst: 200,
            rate_limited_delay: Duration::from_secs(1),
            sync_failures_allowed: 5,
            sync_failures_per_peer: 20,
            sync_failure_window: Duration::from_secs(15 * 60),
            ping_interval: Duration::from_secs(30),
            socket_queue: 256,
            trusted_proxies: Vec::new(),
            shutdown_grace: Duration::from_secs(10),
            #[cfg(feature = "mutants")]
            rules: Rules::default(),
        }
    }

    /// The rules in force: all of them, unless a `mutants` build switched
    /// some off.
    pub fn rules(&self) -> Rules {
        #[cfg(feature = "mutants")]
        return self.rules;
        #[cfg(not(feature = "mutants"))]
        Rules::default()
    }
}

/// The protocol rules the server enforces, each checked in exactly one
/// place. They are all on in every real server; the conformance suite turns
/// one off at a time to build a deliberately broken server and prove it
/// notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Reject requests whose `created_at` is outside the freshness window.
    pub freshness: bool,
    /// Reject a `request_id` already accepted from the same user.
    pub replay: bool,
    /// Verify envelope signatures.
    pub signature: bool,
    /// Verify message content signatures before storing them.
    pub message_signature: bool,
    /// Verify sealed conversation name signatures before storing them.
    pub name_signature: bool,
    /// Require wrapped keys (message content, sealed names) for exactly the
    /// current members, and a re-sealed name when a named conversation's
    /// members change.
    pub members_match: bool,
    /// Hide conversations from non-members.
    pub membership: bool,
    /// Only a message's sender may edit or delete it.
    pub sender_only: bool,
    /// Only a conversation's owner may change its members or delete it.
    pub owner_only: bool,
    /// Events go to the members of the conversation only.
    pub event_members_only: bool,
    /// Responses are sealed under `HKDF(K, iv, "nanochat/v1 response")`.
    pub response_key: bool,
    /// Event frames carry their true, strictly increasing `seq`.
    pub event_seq: bool,
    /// A complete token is refused after it expires.
    pub token_expiry: bool,
    /// A complete token completes its user once.
    pub token_single_use: bool,
    /// Client public keys must meet the size policy (2048 to 4096 bits,
    /// exponent 65537).
    pub key_size: bool,
    /// Failed `user.sync` attempts are limited per user and per address.
    pub sync_limit: bool,
    /// A rotation's succession proofs (by the current and the new key)
    /// must verify.
    pub key_succession: bool,
    /// `user.keys` serves the history as stored, in index order.
    pub key_history: bool,
    /// A session ends (with its close code) when its user's key changes or
    /// the user is reset or deleted.
    pub session_end: bool,
    /// A repeat of a `message.create` (same sender, conversation, id and
    /// sealed upload) gets the stored message instead of `conflict`, and a
    /// deleted message's id is never stored again.
    pub idempotent_create: bool,
    /// A member the owner removes hears `event.conversation.removed`, not
    /// `event.conversation.deleted`.
    pub removal_event: bool,
    /// Message content and attachments are held to `max_content_bytes`
    /// and `max_file_bytes` (`too_large`).
    pub message_size: bool,
    /// A message records the index of the sender's key that signed it
    /// (`sender_key_index`), so readers verify it with that key after a
    /// rotation.
    pub signer_index: bool,
    /// A response's Body echoes its request's `request_id`, errors
    /// included.
    pub response_echo: bool,
    /// No user is a member of more than `limits.max_conversations`
    /// conversations (`too_large`).
    pub conversation_limit: bool,
    /// A WebSocket frame over twice `max_body_bytes` is cut off at its
    /// header instead of being waited for.
    pub frame_cut: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            freshness: true,
            replay: true,
            signature: true,
            message_signature: true,
            name_signature: true,
            members_match: true,
            membership: true,
            sender_only: true,
            owner_only: true,
            event_members_only: true,
            response_key: true,
            event_seq: true,
            token_expiry: true,
            token_single_use: true,
            key_size: true,
            sync_limit: true,
            key_succession: true,
            key_history: true,
            session_end: true,
            idempotent_create: true,
            removal_event: true,
            message_size: true,
            signer_index: true,
            response_echo: true,
            conversation_limit: true,
            frame_cut: true,
        }
    }
}
