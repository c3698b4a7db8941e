//! `cargo fuzz run keyfile`: see `nanochat::fuzzing::keyfile` for what it covers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nanochat::fuzzing::keyfile::run(data));
