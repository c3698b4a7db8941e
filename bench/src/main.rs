//! `nanochat-bench`: a load generator for the NanoChat server. It starts
//! the real `nanochat` binary on a loopback port in a fresh directory,
//! provisions users through the operator CLI, completes them with cached
//! fixture keys, and measures throughput, fan-out, idle sockets, history
//! pages, durable writes and client-side costs. Each scenario prints a
//! table and writes `target/bench/<scenario>.json`; the last lines say
//! which targets were met. A missed target is not an error.

mod client;
mod keys;
mod plot;
mod scenarios;
mod server;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use nanochat::crypto::RsaBackend;

use crate::keys::KeyCache;
use crate::server::ServerSpec;

/// Which measurement to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// message.create over POST /encrypted and WebSocket vs the RSA bound.
    Throughput,
    /// One sender, a group with every member on a socket.
    Fanout,
    /// The comparison row: 4 senders, 20 members on live sockets.
    Compare,
    /// Idle authenticated WebSockets and server memory.
    Connections,
    /// message.list and conversation.list on a seeded database.
    History,
    /// The fsync-bound write rate.
    Durable,
    /// Client-side costs, cold start and binary size.
    Client,
    /// Everything above, in that order (not the reliability runs below).
    All,
    /// Reliability: SIGKILL under write load, restart, check nothing
    /// acknowledged is lost (see RELIABILITY.md).
    Crash,
    /// Reliability: many clients, mixed operations, every event checked
    /// (see RELIABILITY.md).
    Soak,
    /// Reliability: flooding addresses against a legitimate client's
    /// latency (see RELIABILITY.md).
    Flood,
    /// One and two instances on one PostgreSQL database: events crossing
    /// instances, their latency and the rates (needs --postgres).
    Instances,
}

/// Command-line options.
#[derive(Debug, Parser)]
#[command(name = "nanochat-bench", version, about)]
pub struct Cli {
    /// The scenario to run.
    #[arg(value_enum, default_value = "all")]
    pub scenario: Scenario,
    /// A tiny version of every scenario (for CI): few seconds each.
    #[arg(long)]
    pub quick: bool,
    /// The server binary to start.
    #[arg(long, default_value = "target/release/nanochat")]
    pub server_bin: PathBuf,
    /// Measure a running server instead of starting one (no CPU, memory or
    /// history figures then; needs --provision-cmd).
    #[arg(long)]
    pub server: Option<String>,
    /// With --server: the command creating a user; `{username}` is
    /// replaced, it must print `complete token: TOKEN`.
    #[arg(long)]
    pub provision_cmd: Option<String>,
    /// RSA backends to start the server with (default: every one compiled in).
    #[arg(long, value_delimiter = ',')]
    pub backends: Vec<RsaBackend>,
    /// Concurrent clients of the throughput sweep.
    #[arg(long, value_delimiter = ',')]
    pub clients: Vec<usize>,
    /// Seconds per throughput point.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Group sizes of the fan-out scenario.
    #[arg(long, value_delimiter = ',')]
    pub groups: Vec<usize>,
    /// Messages the fan-out sender sends per group.
    #[arg(long)]
    pub fanout_messages: Option<usize>,
    /// Idle sockets to open.
    #[arg(long)]
    pub sockets: Option<usize>,
    /// Messages to seed for the history scenario.
    #[arg(long)]
    pub messages: Option<usize>,
    /// Conversations to seed them across.
    #[arg(long)]
    pub conversations: Option<usize>,
    /// Stop seeding after this many seconds (the history is measured on
    /// what was seeded; the count is reported).
    #[arg(long)]
    pub seed_seconds: Option<f64>,
    /// Seconds of the comparison run.
    #[arg(long)]
    pub compare_seconds: Option<f64>,
    /// Flooding addresses per flood round (0 = the no-flood baseline).
    #[arg(long, value_delimiter = ',')]
    pub flooders: Vec<usize>,
    /// Clients of the soak.
    #[arg(long)]
    pub soak_clients: Option<usize>,
    /// Operations per soak client.
    #[arg(long)]
    pub soak_ops: Option<usize>,
    /// SIGKILLs of the crash scenario.
    #[arg(long)]
    pub kills: Option<usize>,
    /// A PostgreSQL server the instances scenario may create databases on
    /// (`scripts/postgres.sh start DIR` prints one).
    #[arg(long, env = "NANOCHAT_TEST_POSTGRES")]
    pub postgres: Option<String>,
    /// Where result files and plots go.
    #[arg(long, default_value = "target/bench")]
    pub out: PathBuf,
    /// Where fixture keys are cached.
    #[arg(long, default_value = "target/bench-keys")]
    pub key_cache: PathBuf,
}

/// One target and whether the run met it.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The target.
    pub target: String,
    /// What was measured.
    pub measured: String,
    /// Met, missed, or not measured.
    pub met: Option<bool>,
}

/// What every scenario shares.
pub struct Ctx {
    /// The options.
    pub cli: Cli,
    /// How to reach the server.
    pub spec: ServerSpec,
    /// The fixture keys.
    pub keys: KeyCache,
    /// The backends to measure.
    pub backends: Vec<RsaBackend>,
    /// Targets met or missed so far.
    pub verdicts: Vec<Verdict>,
    /// Figures later scenarios reuse (the RSA bound per backend...).
    pub notes: serde_json::Map<String, serde_json::Value>,
}

impl Ctx {
    /// Records a target's outcome.
    pub fn verdict(&mut self, target: &str, measured: String, met: Option<bool>) {
        self.verdicts.push(Verdict {
            target: target.to_owned(),
            measured,
            met,
        });
    }

    /// `quick` or `full` depending on --quick.
    pub fn pick<T>(&self, quick: T, full: T) -> T {
        if self.cli.quick { quick } else { full }
    }

    /// Seconds per throughput point.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.cli.duration.unwrap_or(self.pick(2.0, 10.0)))
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the scenarios; `Ok(false)` when one failed with an error.
async fn run(cli: Cli) -> anyhow::Result<bool> {
    // The bench seals with the fastest backend; each server gets its own.
    nanochat::crypto::backend::select(RsaBackend::default_of_build());
    let nofile = server::raise_nofile();
    if cli.server.is_none() && !cli.server_bin.exists() {
        anyhow::bail!(
            "{} does not exist: build it (cargo build --release -p nanochat) or pass --server-bin",
            cli.server_bin.display()
        );
    }
    let backends = if cli.backends.is_empty() {
        RsaBackend::AVAILABLE.to_vec()
    } else {
        cli.backends.clone()
    };
    let spec = ServerSpec {
        // The server runs in its own directory: the path must not be relative.
        bin: std::fs::canonicalize(&cli.server_bin).unwrap_or_else(|_| cli.server_bin.clone()),
        url: cli.server.clone(),
        provision_cmd: cli.provision_cmd.clone(),
    };
    let mut ctx = Ctx {
        keys: KeyCache::new(&cli.key_cache),
        spec,
        backends,
        verdicts: Vec::new(),
        notes: serde_json::Map::new(),
        cli,
    };
    print_machine(nofile);
    let order = [
        Scenario::Throughput,
        Scenario::Fanout,
        Scenario::Compare,
        Scenario::Connections,
        Scenario::History,
        Scenario::Durable,
        Scenario::Client,
    ];
    let chosen: Vec<Scenario> = if ctx.cli.scenario == Scenario::All {
        order.to_vec()
    } else {
        vec![ctx.cli.scenario]
    };
    let mut ok = true;
    for scenario in chosen {
        let started = std::time::Instant::now();
        eprintln!("\n==> {scenario:?}");
        let result = match scenario {
            Scenario::Throughput => scenarios::throughput::run(&mut ctx).await,
            Scenario::Fanout => scenarios::fanout::run(&mut ctx).await,
            Scenario::Compare => scenarios::compare::run(&mut ctx).await,
            Scenario::Connections => scenarios::connections::run(&mut ctx).await,
            Scenario::History => scenarios::history::run(&mut ctx).await,
            Scenario::Durable => scenarios::durable::run(&mut ctx).await,
            Scenario::Client => scenarios::client::run(&mut ctx).await,
            Scenario::Crash => scenarios::crash::run(&mut ctx).await,
            Scenario::Soak => scenarios::soak::run(&mut ctx).await,
            Scenario::Flood => scenarios::flood::run(&mut ctx).await,
            Scenario::Instances => scenarios::instances::run(&mut ctx).await,
            Scenario::All => unreachable!("expanded above"),
        };
        if let Err(e) = result {
            eprintln!("error in {scenario:?}: {e:#}");
            println!("\n{scenario:?}: FAILED: {e:#}");
            ok = false;
        }
        eprintln!(
            "({scenario:?} took {:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
    println!("\n## Targets\n");
    for v in &ctx.verdicts {
        let state = match v.met {
            Some(true) => "MET   ",
            Some(false) => "MISSED",
            None => "n/a   ",
        };
        println!("{state}  {}: {}", v.target, v.measured);
    }
    Ok(ok)
}

fn print_machine(nofile: u64) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "# nanochat-bench\n\nmachine: {cores} cores, {model}; load average {}; open-file limit {nofile}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
