//! Everything tested without a server: the crypto core (behaviour,
//! known-answer vectors, Wycheproof), the body catalogue against api.yml,
//! the committed generated files, and the CLI help texts. One test binary,
//! one module per topic, to link once.

#![allow(dead_code)]

mod catalogue;
mod cli;
mod crypto_api;
mod crypto_common;
mod crypto_vectors;
mod crypto_wycheproof;
mod generated;
mod generated_web;
mod key_history_cases;
mod module_maps;
