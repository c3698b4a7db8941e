//! `cargo fuzz run content`: see `nanochat::fuzzing::content` for what it covers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nanochat::fuzzing::content::run(data));
