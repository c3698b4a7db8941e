//! The client side: the generated typed layer ([`generated`]: progenitor's
//! HTTP client and the [`Bodies`] methods) and the hand-written
//! [`Session`] that seals, sends, opens and validates each exchange, through
//! the steps of [`exchange`] and, for WebSockets, [`raw_socket`].

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
