//! The `nanochat` binary: the server and its operator commands.

fn main() {}
