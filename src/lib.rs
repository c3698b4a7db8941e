//! NanoChat: a self-hosted, end-to-end encrypted chat.
//!
//! `api.yml` is the single source of truth for the wire format; `build.rs`
//! (through the `nanochat-codegen` crate) turns it into [`models`],
//! [`bodies`], [`api`] (the server skeleton) and [`client`].
//!
//! # Features
//! - `server` (default): [`api`], [`server`], [`store`] and [`cli`]: sqlx,
//!   SQLite and poem.
//! - `client`: [`client`], for frontend authors: depend on this crate with
//!   `default-features = false, features = ["client"]` to get the protocol
//!   and the client without the server's dependencies.
//! - `client-cli` (default): the `nanochat-client` command line.
//!
//! [`models`], [`bodies`], [`crypto`], [`wire`] and [`username`] are always there.
//!
//! # Layout
//! - [`models`] (generated): every component schema of api.yml.
//! - [`bodies`] (generated): the body catalogue as typed requests, responses and events.
//! - [`api`] (generated): poem-openapi transport endpoints, the `Transport` trait, one handler trait per area (`UserHandler`, ...), `dispatch`.
//! - [`client`]: the generated typed client (progenitor's HTTP layer, one method per body type) and the hand-written [`client::Session`] that seals and checks each exchange.
//! - [`server`]: the envelope pipeline, the handler traits' implementation, WebSocket hub and limits.
//! - [`store`]: SQLite storage (sqlx), migrations and queries; no HTTP types.
//! - [`cli`]: the `nanochat` command line.
//! - [`client_cli`]: the `nanochat-client` command line.
//! - [`wire`]: base64 bytes and secret strings used by the models.
//! - [`username`]: the validated [`username::Username`].
//! - [`crypto`]: the protocol's cryptography (envelopes, message content, key storage).

/// Every component schema of api.yml as a Rust type (generated).
#[allow(clippy::all)]
pub mod models {
    include!(concat!(env!("OUT_DIR"), "/models.rs"));
}

/// The body catalogue of api.yml (`x-nanochat-bodies`, `x-nanochat-events`) as types (generated).
#[allow(clippy::all)]
pub mod bodies {
    include!(concat!(env!("OUT_DIR"), "/bodies.rs"));
}

/// The poem-openapi server skeleton (generated).
#[cfg(feature = "server")]
#[allow(clippy::all)]
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/server.rs"));
}

#[cfg(feature = "server")]
pub mod cli;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "client-cli")]
pub mod client_cli;
pub mod crypto;
/// The bodies of the cargo-fuzz targets (`fuzz/`): not an API.
#[cfg(any(feature = "fuzzing", all(test, feature = "server", feature = "client")))]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod store;
pub mod username;
pub mod wire;
