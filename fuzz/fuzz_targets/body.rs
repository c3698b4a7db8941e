//! `cargo fuzz run body`: see `nanochat::fuzzing::body` for what it covers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nanochat::fuzzing::body::run(data));
