//! The `nanochat` binary: parse the command line, start logging, run.

use std::io::IsTerminal;

use clap::Parser;
use nanochat::cli::{Cli, run};
use nanochat::server::server_key::{EXIT_REFUSED, Refused};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let directives = std::env::var("NANOCHAT_LOG").unwrap_or_default();
    let mut filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .ok()
        .filter(|_| !directives.is_empty())
        .unwrap_or_else(|| "info".into());
    // poem logs its own "listening" line (without the address to open):
    // the server logs one with the address and the URL, so poem's start-up
    // chatter is left out unless NANOCHAT_LOG names it.
    if !directives.contains("poem") {
        filter = filter.add_directive("poem::server=warn".parse().expect("a valid directive"));
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if cli.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    match run(cli.command, &mut std::io::stdout()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // Exit codes (README, "Exit codes"): 1 a failure, 2 a usage
            // error (clap), 3 a refusal that protects the data.
            if e.chain().any(|c| c.is::<Refused>()) {
                std::process::ExitCode::from(EXIT_REFUSED)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}
