//! The client side: the generated typed layer ([`generated`]: progenitor's
//! HTTP client and the [`Bodies`] methods) and the hand-written
//! [`Session`] that seals, sends, opens and validates each exchange, through
//! the steps of [`exchange`] and, for WebSockets, [`raw_socket`].
//!
//! # Map
//! - [`exchange`]: one request's steps (build the Body, seal, send, open
//!   the answer), with hooks to change the Body or the envelope between
//!   them, which the conformance runner uses; [`raw_socket`]: the one
//!   WebSocket client under [`Socket`], the bench and the runner.
//! - [`session`]: [`Session`], one user's exchanges with one server;
//!   [`socket`]: the WebSocket, its session and its events; `error`:
//!   [`ClientError`].
//! - [`chat`]: the chat a frontend builds on (complete, log in, rotate,
//!   conversations, messages), over [`keystore`] (the user's keys, kept
//!   encrypted), [`pins`] (the public keys a user has accepted) and
//!   [`history`] (key histories verified from a pin).
//! - [`messages`] and [`names`]: sealing and opening message content and
//!   conversation names for the current members; `files`: attachments.
//! - [`events`]: a socket's events as a reader sees them, with catch-up
//!   after a reconnect; [`display_names`]: names as a frontend shows them.

pub mod chat;
pub mod display_names;
mod error;
pub mod events;
pub mod exchange;
mod files;
pub mod history;
pub mod keystore;
pub mod messages;
pub mod names;
pub mod pins;
pub mod raw_socket;
pub mod session;
pub mod socket;

/// The generated client: progenitor's `http` module and the typed body methods.
#[allow(clippy::all)]
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/client.rs"));
}

pub use chat::Chat;
pub use error::ClientError;
pub use events::{EventStream, StreamItem};
pub use files::write_private;
pub use generated::{Bodies, Exchange, http};
pub use keystore::Home;
pub use raw_socket::RawSocket;
pub use session::Session;
pub use socket::Socket;
