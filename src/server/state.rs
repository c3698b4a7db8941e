//! The shared state of a running server.

use std::sync::Arc;

use crate::crypto::{PrivateKey, PublicKey};
use crate::models::{Error, ErrorCode};
use crate::server::config::Config;
use crate::server::hub::Hub;
use crate::server::ratelimit::{FailureLimiter, PeerLimiter};
use crate::store::Store;

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
            sync_limiter: FailureLimiter::new(
                config.sync_failures_allowed,
                config.sync_failure_window,
            ),
            config,
            store,
            server_key,
            shutdown,
        })
    }

    /// Parses a stored public key; a stored key that no longer parses is a
    /// server fault, not the caller's.
    pub fn public_key(&self, der: &[u8]) -> Result<PublicKey, Error> {
        PublicKey::from_spki_der(der).map_err(|e| Error::internal("reading a stored public key", e))
    }

    /// Parses a public key sent by a client.
    pub fn client_key(der: &[u8]) -> Result<PublicKey, Error> {
        PublicKey::from_spki_der(der).map_err(|e| {
            Error::new(
                ErrorCode::InvalidKey,
                format!("the public key is not acceptable: {e}"),
            )
        })
    }
}
