//! The real binaries as operators and users run them: `nanochat serve` in
//! its own process with operator commands beside it and SIGTERM, the
//! `nanochat-client` command line, the conformance suite against a real
//! server (and its deliberately broken variants), and the secrets scan of
//! everything a run leaves on disk and in its log. One test binary, one
//! module per topic, to link once.

#![allow(dead_code)]

mod backup;
mod client_cli;
mod conformance;
mod instances;
mod metrics;
mod secrets;
mod serve;
mod support;
