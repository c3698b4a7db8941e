//! NanoChat: a self-hosted, end-to-end encrypted chat.
//!
//! `api.yml` is the single source of truth for the wire format; `build.rs`
//! (through the `nanochat-codegen` crate) turns it into [`models`],
//! [`bodies`], `api` (the server skeleton) and the typed HTTP layer of
//! `client`. The protocol's normative text is `api.yml`'s
//! `info.description`; module docs cite its sections by name ("Request
//! envelope", "Key history", ...).
//!
//! # Features
//! - `server` (default): the modules `api`, `server`, `store` and `cli`:
//!   sqlx (SQLite and PostgreSQL) and poem.
//! - `client`: the module `client`, for frontend authors: depend on this
//!   crate with `default-features = false, features = ["client"]` to get
//!   the protocol and the client without the server's dependencies.
//! - `client-cli` (default): `client_cli`, the `nanochat-client` command
//!   line.
//!
//! [`models`], [`bodies`], [`crypto`], [`wire`] and [`username`] are always
//! there. (Modules behind a feature are named without links here, so these
//! docs build the same with any feature set.)
//!
//! # Layout
//! - [`models`] (generated): every component schema of api.yml.
//! - [`bodies`] (generated): the body catalogue as typed requests,
//!   responses and events.
//! - `api` (generated): poem-openapi transport endpoints, the `Transport`
//!   trait, one handler trait per area (`UserHandler`, ...), `dispatch`.
//! - `client`: the generated typed client (progenitor's HTTP layer) and
//!   the hand-written session that seals and checks each exchange, the
//!   socket, key history and pins, and the chat built on them.
//! - `server`: the envelope pipeline, the handlers, the rules, the
//!   WebSocket and its event fan-out, limits, metrics and the web frontend.
//! - `store`: storage through sqlx on SQLite or PostgreSQL (one SQL
//!   dialect, the differences in `store::dialect`), migrations, queries,
//!   backups; no HTTP types.
//! - `cli`: the `nanochat` command line (serve, users, backups).
//! - `client_cli`: the `nanochat-client` command line.
//! - [`wire`]: base64 bytes, secret strings and the protocol version used
//!   by the models.
//! - [`username`]: the validated [`username::Username`].
//! - [`crypto`]: the protocol's cryptography (envelopes, message content,
//!   names, key storage, key history).
//! - `fuzzing` (hidden, feature `fuzzing`): the bodies of the cargo-fuzz
//!   targets.

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
