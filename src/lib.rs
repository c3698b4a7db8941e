//! NanoChat: a self-hosted, end-to-end encrypted chat.
//!
//! `api.yml` is the single source of truth for the wire format; `build.rs`
//! (through the `nanochat-codegen` crate) turns it into [`models`],
//! [`bodies`], [`api`] (the server skeleton) and [`client`].
//!
//! # Layout
//! - [`models`] (generated): every component schema of api.yml.
//! - [`bodies`] (generated): the body catalogue as typed requests, responses and events.
//! - [`api`] (generated): poem-openapi transport endpoints, the `Transport` and `Handler` traits, `dispatch`.
//! - [`client`]: the generated typed client (progenitor's HTTP layer, one method per body type) and the hand-written [`client::Session`] that seals and checks each exchange.
//! - [`server`]: the envelope pipeline, the `Handler` implementation, WebSocket hub and limits.
//! - [`store`]: SQLite storage (sqlx), migrations and queries; no HTTP types.
//! - [`cli`]: the `nanochat` command line.
//! - [`wire`]: base64 bytes and secret strings used by the models.
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
#[allow(clippy::all)]
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/server.rs"));
}

pub mod cli;
pub mod client;
pub mod crypto;
pub mod server;
pub mod store;
pub mod wire;
