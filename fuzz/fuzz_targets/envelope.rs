//! `cargo fuzz run envelope`: see `nanochat::fuzzing::envelope` for what it covers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nanochat::fuzzing::envelope::run(data));
