//! `cargo fuzz run websocket_frame`: see `nanochat::fuzzing::websocket_frame` for what it covers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nanochat::fuzzing::websocket_frame::run(data));
