//! Scenario 3: K idle, authenticated WebSockets (a few users, many sockets
//! each); server RSS before and after, KiB per socket.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use nanochat::bodies::Request;
use nanochat::crypto::RsaBackend;
use serde_json::json;

use crate::Ctx;
use crate::client::{self, Connector, LightSocket, Sealed};
use crate::server::{StartOptions, Target};
use crate::stats::{Table, f, par_map, write_json};

/// The scenario.
pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let k = ctx.cli.sockets.unwrap_or(ctx.pick(200, 10_000));
    let nofile = rlimit::Resource::NOFILE.get().map_or(0, |(soft, _)| soft);
    if (nofile as usize) < k + 200 {
        eprintln!("  warning: the open-file limit is {nofile}, below {k} sockets");
    }
    let key_pem = ctx.keys.server_pem()?;
    let options = StartOptions {
        backend: RsaBackend::default_of_build(),
        max_members: 1000,
        shipped_rate_limits: false,
    };
    let target = Target::start(&ctx.spec, &options, &key_pem).await?;
    let connector = Connector::new(&target.url).await?;
    let n_users = k.clamp(1, 10);
    let tag = crate::scenarios::throughput::short_tag();
    let names: Vec<String> = (0..n_users).map(|i| format!("c{tag}-{i}")).collect();
    let keys = ctx.keys.users(n_users)?.to_vec();
    let users = client::provision(&target, &connector, &names, &keys).await?;
    // One socket opened and closed first, so lazily allocated server state
    // is in the baseline.
    drop(LightSocket::open(&users[0].session).await?);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss0 = target.rss_kib();
    // Seal every session.open ahead (they stay fresh for the window).
    let started = Instant::now();
    let sealed: Vec<(usize, Sealed)> = par_map((0..k).collect(), |i| {
        let user = &users[i % n_users];
        (
            i % n_users,
            client::seal_sync(&user.session, &Request::SessionOpen),
        )
    })
    .into_iter()
    .map(|(u, s)| s.map(|s| (u, s)))
    .collect::<anyhow::Result<_>>()?;
    eprintln!(
        "  {k} session.open sealed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let users = &users;
    let started = Instant::now();
    let cpu0 = target.cpu_seconds();
    let opened: Vec<anyhow::Result<LightSocket>> = futures_util::stream::iter(sealed)
        .map(|(u, s)| async move { LightSocket::open_sealed(&users[u].session, s).await })
        .buffer_unordered(64)
        .collect()
        .await;
    let open_seconds = started.elapsed().as_secs_f64();
    let cpu1 = target.cpu_seconds();
    let mut failures = 0;
    let mut first_error = None;
    let mut open = 0usize;
    let mut tasks = tokio::task::JoinSet::new();
    for socket in opened {
        match socket {
            Ok(socket) => {
                open += 1;
                tasks.spawn(socket.drain());
            }
            Err(e) => {
                failures += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss1 = target.rss_kib();
    let per_socket = rss0
        .zip(rss1)
        .map(|(a, b)| (b as f64 - a as f64) / open.max(1) as f64);
    let mut table = Table::new(
        "connections: idle authenticated WebSockets",
        &[
            "sockets",
            "failed",
            "open s",
            "opens/s",
            "cpu ms/open",
            "RSS before MiB",
            "RSS after MiB",
            "KiB/socket",
        ],
    );
    let mib = |k: Option<u64>| k.map_or("n/a".into(), |k| f(k as f64 / 1024.0, 1));
    let cpu_per_open = cpu0
        .zip(cpu1)
        .map(|(a, b)| (b - a) * 1000.0 / open.max(1) as f64);
    table.row(vec![
        open.to_string(),
        failures.to_string(),
        f(open_seconds, 1),
        f(open as f64 / open_seconds, 0),
        crate::stats::fo(cpu_per_open, 2),
        mib(rss0),
        mib(rss1),
        crate::stats::fo(per_socket, 1),
    ]);
    table.print();
    if let Some(e) = &first_error {
        println!("first failure: {e}");
    }
    write_json(
        &ctx.cli.out,
        "connections",
        &json!({
            "scenario": "connections",
            "quick": ctx.cli.quick,
            "sockets_requested": k,
            "sockets_open": open,
            "failures": failures,
            "first_error": first_error,
            "users": n_users,
            "open_seconds": open_seconds,
            "server_cpu_ms_per_open": cpu_per_open,
            "rss_before_kib": rss0,
            "rss_after_kib": rss1,
            "kib_per_socket": per_socket,
        }),
    )?;
    let scope = if open >= 10_000 {
        String::new()
    } else {
        format!(" (only {open} sockets)")
    };
    ctx.verdict(
        "<= 20 KiB server memory per idle socket",
        format!("{} KiB per socket{scope}", crate::stats::fo(per_socket, 1)),
        per_socket.map(|p| p <= 20.0),
    );
    // Close the sockets before the server stops.
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    Ok(())
}
