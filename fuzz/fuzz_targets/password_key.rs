//! `cargo fuzz run password_key`: see `nanochat::fuzzing::password_key` for what it covers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nanochat::fuzzing::password_key::run(data));
