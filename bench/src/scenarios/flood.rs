//! Reliability: abuse. Flooding addresses (127.0.0.2, 127.0.0.3, ... on
//! loopback) send envelopes whose key unwraps under the server key but
//! whose data is garbage, as fast as the server answers them (each costs the
//! server an RSA decryption before it can tell), while one legitimate client
//! on its own address does `user.get` at a steady 20 per second. Reported:
//! the legitimate client's latency (p50, p99, max) and errors with no
//! flood, then with each flood size, the flooders' answers by status, and
//! the server's CPU. The server runs with its shipped limits.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use nanochat::client::Bodies;
use nanochat::models::BaseUser;
use serde_json::json;

use crate::Ctx;
use crate::client::{self, Connector};
use crate::server::{StartOptions, Target};
use crate::stats::{Samples, Table, f, fo, write_json};

/// Connections each flooding address keeps busy.
const CONNECTIONS_PER_FLOODER: usize = 4;
/// The legitimate client's pace.
const LEGIT_INTERVAL: Duration = Duration::from_millis(50);
/// The legitimate client's address.
const LEGIT_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 250);

/// The scenario.
pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    if ctx.spec.url.is_some() {
        anyhow::bail!("the flood scenario binds loopback addresses; it cannot use --server");
    }
    let sizes: Vec<usize> = if ctx.cli.flooders.is_empty() {
        ctx.pick(vec![0, 4], vec![0, 8, 32])
    } else {
        ctx.cli.flooders.clone()
    };
    let seconds = ctx.cli.duration.unwrap_or(ctx.pick(3.0, 15.0));
    let key_pem = ctx.keys.server_pem()?;
    let options = StartOptions {
        backend: nanochat::crypto::RsaBackend::default_of_build(),
        max_members: 100,
        shipped_rate_limits: true,
    };
    let target = Target::start(&ctx.spec, &options, &key_pem).await?;
    let keys = ctx.keys.users(1)?.to_vec();
    let tag = crate::scenarios::throughput::short_tag();
    let names = vec![format!("legit{tag}")];
    let legit = Connector::with_local_address(&target.url, IpAddr::V4(LEGIT_ADDRESS)).await?;
    let user = client::provision(&target, &legit, &names, &keys)
        .await?
        .pop()
        .context("no user")?;
    let garbage = garbage_envelope(&legit)?;

    let mut table = Table::new(
        "Flood: envelopes that unwrap but do not decrypt, from N addresses; a legitimate client at 20 req/s",
        &[
            "flooders",
            "legit ok",
            "legit errors",
            "p50 ms",
            "p99 ms",
            "max ms",
            "flood 401/s",
            "flood 429/s",
            "flood other/s",
            "server CPU",
        ],
    );
    let mut rows = Vec::new();
    let mut worst_p99 = None;
    for &flooders in &sizes {
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
        let mut flood = tokio::task::JoinSet::new();
        for a in 0..flooders {
            let address = IpAddr::V4(Ipv4Addr::new(
                127,
                0,
                1 + (a / 250) as u8,
                2 + (a % 250) as u8,
            ));
            let client = reqwest::Client::builder()
                .local_address(address)
                .pool_max_idle_per_host(CONNECTIONS_PER_FLOODER)
                .build()?;
            for _ in 0..CONNECTIONS_PER_FLOODER {
                let (client, stop, counts) = (client.clone(), stop.clone(), counts.clone());
                let (url, body) = (format!("{}/encrypted", target.url), garbage.clone());
                flood.spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let status = client
                            .post(&url)
                            .header("content-type", "application/json")
                            .body(body.clone())
                            .send()
                            .await
                            .map(|r| r.status().as_u16());
                        let slot = match status {
                            Ok(401) => 0,
                            Ok(429) => 1,
                            _ => 2,
                        };
                        counts[slot].fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        }
        // Let the flood reach its steady state (buckets drained) first.
        if flooders > 0 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let before = counts.each();
        let cpu_before = target.cpu_seconds();
        let started = Instant::now();
        let mut latencies = Samples::default();
        let mut errors = 0usize;
        let mut first_error = None;
        let mut tick = tokio::time::interval(LEGIT_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while started.elapsed().as_secs_f64() < seconds {
            tick.tick().await;
            let t = Instant::now();
            match user
                .session
                .user_get(BaseUser {
                    username: user.name.clone(),
                })
                .await
            {
                Ok(_) => latencies.push(t.elapsed()),
                Err(e) => {
                    errors += 1;
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = target
            .cpu_seconds()
            .zip(cpu_before)
            .map(|(a, b)| (a - b) / elapsed);
        let after = counts.each();
        stop.store(true, Ordering::Relaxed);
        flood.abort_all();
        while flood.join_next().await.is_some() {}
        let rate = |i: usize| (after[i] - before[i]) as f64 / elapsed;
        let p99 = latencies.pct(99.0);
        if flooders == *sizes.iter().max().unwrap_or(&0) {
            worst_p99 = Some((flooders, p99));
        }
        table.row(vec![
            flooders.to_string(),
            latencies.len().to_string(),
            errors.to_string(),
            f(latencies.pct(50.0), 1),
            f(p99, 1),
            f(latencies.pct(100.0), 1),
            f(rate(0), 0),
            f(rate(1), 0),
            f(rate(2), 0),
            fo(cpu.map(|c| c * 100.0), 0) + "%",
        ]);
        rows.push(json!({
            "flooders": flooders,
            "connections_per_flooder": CONNECTIONS_PER_FLOODER,
            "legit_ok": latencies.len(),
            "legit_errors": errors,
            "legit_first_error": first_error,
            "legit_ms": latencies.json(),
            "flood_per_second": {"401": rate(0), "429": rate(1), "other": rate(2)},
            "server_cpu_cores": cpu,
        }));
        if let Some(e) = first_error {
            eprintln!("  {flooders} flooders: the legitimate client's first error: {e}");
        }
        // Let every bucket refill before the next size.
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    table.print();
    write_json(
        &ctx.cli.out,
        "flood",
        &json!({"seconds": seconds, "rows": rows}),
    )?;
    if let Some((flooders, p99)) = worst_p99 {
        ctx.verdict(
            "flood: with 32 flooding addresses a legitimate client's p99 < 50 ms",
            format!("{flooders} flooders: p99 {p99:.1} ms"),
            Some(flooders >= 32 && p99 < 50.0),
        );
    }
    Ok(())
}

trait Each {
    fn each(&self) -> [u64; 3];
}

impl Each for [AtomicU64; 3] {
    fn each(&self) -> [u64; 3] {
        [0, 1, 2].map(|i| self[i].load(Ordering::Relaxed))
    }
}

/// A `user.get` envelope sealed for the server with its data corrupted:
/// the key unwraps (an RSA decryption), then AES-GCM refuses the data.
fn garbage_envelope(connector: &Connector) -> anyhow::Result<String> {
    let references = connector.references();
    let server_key = nanochat::crypto::PublicKey::from_spki_der(&references.server_public_key)?;
    let (envelope, _) =
        nanochat::crypto::seal_request(&server_key, b"{\"type\":\"user.get\"}", None)?;
    let mut wire = nanochat::client::exchange::wire_request(envelope);
    for byte in wire.data.0.iter_mut() {
        *byte ^= 0x5a;
    }
    let request =
        nanochat::models::EncryptedRequest::try_from(&wire).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(serde_json::to_string(&request)?)
}
