//! `nanochat-conformance`: replays the conformance cases against a server
//! and says whether it speaks NanoChat.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Parser;
use nanochat_conformance::case::Level;
use nanochat_conformance::provision::{
    CommandProvisioner, DEFAULT_TOKEN_PATTERN, Provisioner, TokenFile,
};
use nanochat_conformance::suite::{self, Options, Summary};

/// Replays NanoChat's conformance cases against a server: every exchange is
/// sealed afresh against its key, tampered where a case says so, and
/// checked against the exact documented answer.
#[derive(Debug, Parser)]
#[command(name = "nanochat-conformance", version)]
struct Args {
    /// The server's base URL. Repeat it (or separate URLs with commas) for
    /// several instances sharing one database: each case's users are dealt
    /// out to them in turn, so events and rules must cross instances.
    #[arg(long, env = "NANOCHAT_SERVER", value_delimiter = ',')]
    server: Vec<String>,
    /// A command that creates a pending user, `{username}` replaced, and
    /// prints its complete token (e.g. 'nanochat user create {username}').
    #[arg(long)]
    provision_cmd: Option<String>,
    /// A command like --provision-cmd whose token has expired by the time
    /// it exits (e.g. 'nanochat user create {username} --ttl 1s && sleep
    /// 2'); without it, cases that need an expired token are skipped.
    #[arg(long, requires = "provision_cmd")]
    provision_expired_cmd: Option<String>,
    /// A command that resets an existing user, `{username}` replaced, as
    /// the operator would after they lost their keys (e.g. 'nanochat user
    /// reset {username}'); without it, the cases that check how a reset
    /// ends sessions are skipped.
    #[arg(long, requires = "provision_cmd")]
    reset_cmd: Option<String>,
    /// A command that deletes an existing user (e.g. 'nanochat user delete
    /// {username}'); without it, the cases that check how a deletion ends
    /// sessions are skipped.
    #[arg(long, requires = "provision_cmd")]
    delete_cmd: Option<String>,
    /// The pattern that finds the token in the command's output; its first
    /// group is the token.
    #[arg(long, default_value = DEFAULT_TOKEN_PATTERN)]
    token_pattern: String,
    /// Instead of a command: a file of `USERNAME TOKEN` lines made
    /// beforehand (`USERNAME TOKEN expired` for already expired tokens).
    #[arg(long, conflicts_with = "provision_cmd")]
    users: Option<PathBuf>,
    /// Cases to run: ids or id prefixes (all when none).
    cases: Vec<String>,
    /// Print the catalogue and exit.
    #[arg(long)]
    list: bool,
    /// Print the MUST coverage table (`conformance/COVERAGE.md`: each
    /// normative statement of api.yml and the cases that check it) and exit.
    #[arg(long)]
    coverage: bool,
    /// Also run SHOULD cases.
    #[arg(long)]
    strict: bool,
    /// Also run the slow cases, which wait out the server's ping interval
    /// and silence limit (about 100 s, beside the other cases).
    #[arg(long)]
    slow: bool,
    /// Cases run at once.
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Cases expected to fail, one per line: the id, then the reason
    /// (`MSG-LIST-003 cursors are not implemented yet`); `#` starts a
    /// comment. They do not fail the run, and one that passes is reported.
    #[arg(long)]
    expected_failures: Option<PathBuf>,
    /// Also write one JSON line per case, with redacted transcripts.
    #[arg(long)]
    ndjson: Option<PathBuf>,
    /// Also write JUnit XML.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Username prefix for this run (default: random), so runs repeat
    /// against a long-lived server.
    #[arg(long)]
    prefix: Option<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run() -> anyhow::Result<bool> {
    let args = Args::parse();
    let cases = suite::catalogue().map_err(anyhow::Error::msg)?;
    if args.list {
        for case in &cases {
            let level = match case.level {
                Level::Must => "MUST",
                Level::Should => "SHOULD",
            };
            println!(
                "{:<24} {level:<6} {:<28} {}",
                case.id, case.checks, case.title
            );
        }
        println!("{} cases", cases.len());
        return Ok(true);
    }
    if args.coverage {
        let statements =
            nanochat_conformance::coverage::statements().map_err(anyhow::Error::msg)?;
        print!(
            "{}",
            nanochat_conformance::coverage::render(&statements, &cases)
        );
        return Ok(true);
    }
    if args.server.is_empty() {
        bail!("which server? pass --server URL");
    }
    let provisioner: Arc<dyn Provisioner> = match (&args.provision_cmd, &args.users) {
        (Some(command), _) => {
            let mut provisioner = CommandProvisioner::new(command, &args.token_pattern)
                .map_err(anyhow::Error::msg)?;
            if let Some(expired) = &args.provision_expired_cmd {
                provisioner = provisioner
                    .with_expired(expired)
                    .map_err(anyhow::Error::msg)?;
            }
            provisioner = provisioner
                .with_operator(args.reset_cmd.as_deref(), args.delete_cmd.as_deref())
                .map_err(anyhow::Error::msg)?;
            Arc::new(provisioner)
        }
        (None, Some(file)) => Arc::new(
            TokenFile::parse(
                &std::fs::read_to_string(file)
                    .with_context(|| format!("cannot read {}", file.display()))?,
            )
            .map_err(anyhow::Error::msg)?,
        ),
        (None, None) => bail!("how are users created? pass --provision-cmd or --users"),
    };
    let expected: BTreeSet<String> = match &args.expected_failures {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|line| match line.split_once(char::is_whitespace) {
                Some((id, reason)) if !reason.trim().is_empty() => Ok(id.to_owned()),
                _ => Err(anyhow::anyhow!(
                    "{}: `{line}` needs a reason after the case id",
                    path.display()
                )),
            })
            .collect::<anyhow::Result<_>>()?,
        None => BTreeSet::new(),
    };
    let prefix = match args.prefix {
        Some(prefix) => prefix,
        None => format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..6]),
    };
    if !prefix
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        || prefix.len() > 12
    {
        bail!("the prefix is 1 to 12 lowercase letters and digits");
    }
    let options = Options {
        select: args.cases,
        strict: args.strict,
        slow: args.slow,
        jobs: args.jobs,
        prefix,
    };
    let results = suite::run(&args.server, provisioner, &cases, &options).await;
    if let Some(path) = &args.ndjson {
        std::fs::write(path, suite::ndjson_report(&results))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, suite::junit_report(&results))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    print!("{}", suite::text_report(&results, &expected));
    Ok(Summary::of(&results, &expected).success())
}
