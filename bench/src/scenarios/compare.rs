//! The comparison row, in the shape of the Synapse and Conduit figures:
//! 4 client threads sending for 20 s into a 20-member conversation whose
//! members are all on live WebSockets; messages/s, server CPU per message
//! and the fan-out p99.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use nanochat::crypto::RsaBackend;
use serde_json::json;

use crate::Ctx;
use crate::client;
use crate::scenarios::fanout;
use crate::scenarios::throughput::closed_loop;
use crate::server::{StartOptions, Target};
use crate::stats::{Samples, Table, f, fo, write_json};

/// The scenario.
pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let senders = 4;
    let members = 20;
    let seconds = ctx.cli.compare_seconds.unwrap_or(ctx.pick(2.0, 20.0));
    let key_pem = ctx.keys.server_pem()?;
    let options = StartOptions {
        backend: RsaBackend::default_of_build(),
        max_members: 1000,
        shipped_rate_limits: false,
    };
    let target = Target::start(&ctx.spec, &options, &key_pem).await?;
    let mut group = fanout::group(ctx, &target, members).await?;
    // A short probe sizes the pre-sealed queues of the real run.
    let probe_seconds = ctx.pick(0.5, 2.0);
    let mut probe_rate = 0.0;
    for (round, (estimate, secs)) in [(400.0, probe_seconds), (0.0, seconds)]
        .into_iter()
        .enumerate()
    {
        let rate = if round == 0 { estimate } else { probe_rate };
        let per_client = ((rate * secs * 1.6) / senders as f64).ceil() as usize + 8;
        let mut clients = Vec::new();
        for user in group.users.iter().take(senders) {
            let queue =
                client::seal_messages(user, group.conversation, &group.readers, per_client)?;
            clients.push((user.clone(), queue, None));
        }
        let r = closed_loop(&target, clients, Duration::from_secs_f64(secs)).await;
        // Every member must have every message before the next round.
        let expected = r.completed * members;
        let mut arrivals: HashMap<uuid::Uuid, Vec<Instant>> = HashMap::new();
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while got < expected {
            match tokio::time::timeout_at(deadline, group.arrivals.recv()).await {
                Ok(Some((id, _, at))) => {
                    arrivals.entry(id).or_default().push(at);
                    got += 1;
                }
                _ => break,
            }
        }
        if round == 0 {
            probe_rate = r.rate() * 1.1;
            if r.errors > 0 {
                anyhow::bail!(
                    "the probe had {} errors: {}",
                    r.errors,
                    r.first_error.unwrap_or_default()
                );
            }
            continue;
        }
        let mut from_ack = Samples::default();
        let mut from_send = Samples::default();
        for (id, sent, acked) in &r.acks {
            for at in arrivals.get(id).map(Vec::as_slice).unwrap_or(&[]) {
                from_ack.push(at.saturating_duration_since(*acked));
                from_send.push(at.saturating_duration_since(*sent));
            }
        }
        let mut table = Table::new(
            "compare: 4 senders, 20 members on live sockets (aws-lc)",
            &[
                "server",
                "seconds",
                "msg/s",
                "cpu ms/msg",
                "fan-out p50 ms",
                "fan-out p99 ms",
                "send->event p99 ms",
                "delivered",
            ],
        );
        table.row(vec![
            format!("NanoChat ({})", target.backend_name()),
            f(r.elapsed.as_secs_f64(), 1),
            f(r.rate(), 0),
            fo(r.cpu_ms_per_request(), 2),
            f(from_ack.pct(50.0), 1),
            f(from_ack.pct(99.0), 1),
            f(from_send.pct(99.0), 1),
            format!("{got}/{expected}"),
        ]);
        table.print();
        if r.exhausted {
            println!("(a sender ran out of pre-sealed messages before the end)");
        }
        if r.errors > 0 {
            println!(
                "({} errors: {})",
                r.errors,
                r.first_error.clone().unwrap_or_default()
            );
        }
        write_json(
            &ctx.cli.out,
            "compare",
            &json!({
                "scenario": "compare",
                "quick": ctx.cli.quick,
                "backend": target.backend_name(),
                "senders": senders,
                "members": members,
                "seconds": r.elapsed.as_secs_f64(),
                "messages": r.completed,
                "messages_per_second": r.rate(),
                "server_cpu_ms_per_message": r.cpu_ms_per_request(),
                "ack": r.latency.json(),
                "ack_to_event": from_ack.json(),
                "send_to_event": from_send.json(),
                "delivered": got,
                "expected": expected,
                "exhausted": r.exhausted,
                "errors": r.errors,
            }),
        )?;
        // Issue 27's target for this shape.
        let cpu = r.cpu_ms_per_request();
        ctx.verdict(
            "compare: >= 700 msg/s at <= 2.0 ms server CPU per message, every event delivered",
            format!(
                "{:.0} msg/s at {} ms, {got}/{expected} delivered",
                r.rate(),
                fo(cpu, 2)
            ),
            cpu.map(|c| r.rate() >= 700.0 && c <= 2.0 && got == expected),
        );
    }
    Ok(())
}
