//! `nanochat-client`: chat on a NanoChat server from a shell or a script.

use std::io::IsTerminal as _;

use clap::Parser as _;
use nanochat::client_cli::{ClientCli, report, run};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Asked before parsing, so that even a usage mistake is JSON for a
    // script that passed --json.
    let json = std::env::args_os().any(|a| a == "--json");
    let cli = match ClientCli::try_parse() {
        Ok(cli) => cli,
        Err(e) if json && e.use_stderr() => {
            println!(
                "{}",
                report(&anyhow::Error::msg(e.render().to_string()), true)
            );
            return std::process::ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NANOCHAT_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let json = cli.json;
    match run(cli, &mut std::io::stdout()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if json => {
            println!("{}", report(&e, true));
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{}", report(&e, false));
            std::process::ExitCode::FAILURE
        }
    }
}
