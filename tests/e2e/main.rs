//! End-to-end tests: the real server on a random loopback port, driven over
//! real HTTP and WebSocket with the generated client and the crypto module.

mod broken;
mod conversations;
mod messages;
mod names;
mod pipeline;
mod spec;
mod support;
mod users;
mod web;
mod websocket;
