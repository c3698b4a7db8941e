//! End-to-end tests: the real server on a random loopback port, driven over
//! real HTTP and WebSocket with the generated client and the crypto module.

#[cfg(feature = "mutants")]
mod broken;
mod catchup;
mod conversations;
mod events;
mod instances;
mod keys;
mod messages;
mod names;
mod pipeline;
mod spec;
mod spec_rules;
mod support;
mod upgrade;
mod users;
mod web;
mod websocket;
