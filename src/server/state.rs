//! The shared state of a running server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::crypto::{PrivateKey, PublicKey};
use crate::models::ErrorCode;
use crate::server::config::Config;
use crate::server::error::{Failure, blocking};
use crate::server::error::{PlainFailure, PlainKind};
use crate::server::hub::Hub;
use crate::server::metrics::Metrics;
use crate::server::ratelimit::{FailureLimiter, PeerLimiter};
use crate::store::Store;

/// Concurrent Argon2id jobs (each takes 19 MiB and ~25 ms of one core).
pub const ARGON2_JOBS: usize = 4;

/// Request bodies (up to `max_body_bytes` each) in flight at once.
pub const BODY_SLOTS: usize = 64;

/// How long a looked-up user key is trusted before the database is asked
/// again (operator commands change keys from another process).
pub const KEY_CHECK_TTL: Duration = Duration::from_secs(1);

/// Extra tokens an unauthenticated failed envelope costs its address: at the
/// default 50 per second, a flooding address gets 2.5 such envelopes a
/// second.
pub const FAILED_ENVELOPE_COST: u32 = 20;

/// Requests held at once before their 429: past this, a refused request is
/// answered at once and its connection closed.
const HELD_REFUSALS: usize = 1024;

/// Parsed public keys kept; past this the cache starts over.
const PARSED_KEYS: usize = 4096;

/// Everything a request handler may touch.
pub struct State {
    /// The configuration the server started with.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// The server's key pair.
    pub server_key: PrivateKey,
    /// Open WebSockets and their event queues.
    pub hub: Hub,
    /// Envelopes per peer address.
    pub peer_limiter: PeerLimiter,
    /// Failed `user.sync` attempts per user and per peer address.
    pub sync_limiter: FailureLimiter,
    /// Tells WebSocket tasks to close on shutdown.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Request bodies being read or handled at once: bounds memory under a
    /// flood of large bodies.
    pub body_slots: tokio::sync::Semaphore,
    /// Bounds concurrent Argon2id jobs (19 MiB each): a burst of sync
    /// attempts queues instead of exhausting memory.
    argon2_jobs: tokio::sync::Semaphore,
    /// Users' current keys as sockets last looked them up.
    current_keys: Mutex<HashMap<String, CurrentKey>>,
    /// Bumped by every key change this process makes: lookups that began
    /// before it are stale.
    key_epoch: AtomicU64,
    /// Stored public keys already parsed, by their DER.
    parsed_keys: Mutex<HashMap<Vec<u8>, PublicKey>>,
    /// Refused requests being held (see [`State::hold_refused`]).
    held_refusals: tokio::sync::Semaphore,
    /// What `/metrics` reports.
    pub metrics: Metrics,
}

/// A user's key as of a lookup: `None` when pending or gone.
struct CurrentKey {
    looked_up: Instant,
    epoch: u64,
    key: Option<Arc<Vec<u8>>>,
}

impl State {
    /// Builds the state around an open store and key.
    pub fn new(
        config: Config,
        store: Store,
        server_key: PrivateKey,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Arc<State> {
        Arc::new(State {
            hub: Hub::new(config.socket_queue),
            peer_limiter: PeerLimiter::new(config.peer_rate_per_second, config.peer_burst),
            sync_limiter: FailureLimiter::new(config.sync_failure_window),
            config,
            store,
            server_key,
            shutdown,
            argon2_jobs: tokio::sync::Semaphore::new(ARGON2_JOBS),
            body_slots: tokio::sync::Semaphore::new(BODY_SLOTS),
            current_keys: Mutex::new(HashMap::new()),
            key_epoch: AtomicU64::new(0),
            parsed_keys: Mutex::new(HashMap::new()),
            held_refusals: tokio::sync::Semaphore::new(HELD_REFUSALS),
            metrics: Metrics::default(),
        })
    }

    /// Rule: each peer address gets a token bucket of envelopes; an empty
    /// bucket is refused before any RSA work or body read.
    pub fn admit(&self, peer: Option<std::net::SocketAddr>) -> Result<(), PlainFailure> {
        match peer {
            Some(peer) if !self.peer_limiter.allow(peer.ip()) => Err(PlainFailure::new(
                PlainKind::RateLimited,
                "too many requests from this address; slow down",
            )),
            _ => Ok(()),
        }
    }

    /// Rule: a request over its address's limit is held for
    /// `rate_limited_delay` before it is refused, so that a client waiting
    /// for answers cannot make the server refuse requests as fast as it can
    /// write them. At most `HELD_REFUSALS` wait at once; returns false
    /// when the request was not held (the caller then closes the connection).
    pub async fn hold_refused(&self) -> bool {
        match self.held_refusals.try_acquire() {
            Ok(_held) => {
                self.metrics.rate_limited(true);
                tokio::time::sleep(self.config.rate_limited_delay).await;
                true
            }
            Err(_) => {
                self.metrics.rate_limited(false);
                false
            }
        }
    }

    /// Rule: an envelope that cost RSA work and did not authenticate
    /// (undecryptable, unsigned, badly signed, stale, unknown user) costs
    /// its address [`FAILED_ENVELOPE_COST`] more tokens, so garbage is
    /// expensive for its sender and not for everyone.
    pub fn penalize(&self, peer: Option<std::net::SocketAddr>) {
        if let Some(peer) = peer {
            self.peer_limiter.penalize(peer.ip(), FAILED_ENVELOPE_COST);
        }
    }

    /// Runs Argon2id work on the blocking pool, at most [`ARGON2_JOBS`] at once.
    pub async fn argon2<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Failure> {
        let _permit = self
            .argon2_jobs
            .acquire()
            .await
            .map_err(|e| Failure::internal("waiting for an Argon2id slot", e))?;
        blocking(work).await
    }

    /// Parses a stored public key (once: every signed request needs its
    /// sender's); a stored key that no longer parses is a server fault, not
    /// the caller's.
    pub fn public_key(&self, der: &[u8]) -> Result<PublicKey, Failure> {
        if let Some(key) = lock(&self.parsed_keys).get(der) {
            return Ok(key.clone());
        }
        let key = PublicKey::from_spki_der(der)
            .map_err(|e| Failure::internal("reading a stored public key", e))?;
        let mut parsed = lock(&self.parsed_keys);
        if parsed.len() >= PARSED_KEYS {
            parsed.clear();
        }
        parsed.insert(der.to_vec(), key.clone());
        Ok(key)
    }

    /// The public key `username` has now (`None` when pending or gone), as
    /// signature checks and WebSockets (before every event) need it: from
    /// the database at most once per [`KEY_CHECK_TTL`] per user, and at once
    /// after [`Self::key_changed`].
    pub async fn current_key(
        &self,
        username: &str,
    ) -> Result<Option<Arc<Vec<u8>>>, crate::store::StoreError> {
        let epoch = self.key_epoch.load(Ordering::Acquire);
        if let Some(known) = lock(&self.current_keys).get(username)
            && known.epoch == epoch
            && known.looked_up.elapsed() < KEY_CHECK_TTL
        {
            return Ok(known.key.clone());
        }
        let key = self
            .store
            .get_user(username)
            .await?
            .filter(|u| u.is_complete())
            .and_then(|u| u.public_key)
            .map(Arc::new);
        let mut known = lock(&self.current_keys);
        if known.len() >= PARSED_KEYS {
            known.retain(|_, k| k.looked_up.elapsed() < KEY_CHECK_TTL);
        }
        known.insert(
            username.to_owned(),
            CurrentKey {
                looked_up: Instant::now(),
                epoch,
                key: key.clone(),
            },
        );
        Ok(key)
    }

    /// Call after this process changed or removed a user's key: sockets
    /// look it up again before their next event.
    pub fn key_changed(&self) {
        self.key_epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Rule: a public key sent by a client meets the size policy (2048 to
    /// 4096 bits, exponent 65537) and is canonically encoded.
    pub fn client_key(&self, der: &[u8]) -> Result<PublicKey, Failure> {
        #[cfg(feature = "mutants")]
        let parsed = if self.config.rules().key_size {
            PublicKey::from_spki_der(der)
        } else {
            PublicKey::from_spki_der_without_policy(der)
        };
        #[cfg(not(feature = "mutants"))]
        let parsed = PublicKey::from_spki_der(der);
        parsed.map_err(|e| {
            Failure::new(
                ErrorCode::InvalidKey,
                format!("the public key is not acceptable: {e}"),
            )
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
