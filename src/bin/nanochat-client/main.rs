//! `nanochat-client`: chat on a NanoChat server from a shell or a script.

use std::io::IsTerminal as _;

use clap::Parser as _;
use nanochat::client_cli::{ClientCli, run};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = ClientCli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NANOCHAT_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(cli, &mut std::io::stdout()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
