//! The command line parses and names every scenario. Having an integration
//! test also makes `cargo test --workspace` build the `nanochat-bench`
//! binary, which `.ci/run` then runs with `--quick`.

use std::process::Command;

#[test]
fn help_lists_every_scenario() {
    let output = Command::new(env!("CARGO_BIN_EXE_nanochat-bench"))
        .arg("--help")
        .output()
        .expect("runs nanochat-bench --help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for scenario in [
        "throughput",
        "fanout",
        "compare",
        "connections",
        "history",
        "durable",
        "client",
        "all",
    ] {
        assert!(help.contains(scenario), "--help does not list {scenario}");
    }
}
