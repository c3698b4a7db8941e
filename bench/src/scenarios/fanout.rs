//! Scenario 2: a group of G members, each on an open, authenticated
//! WebSocket; one sender sends M messages one at a time; the time from
//! `message.create` acknowledged to the event decrypted on every socket.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use nanochat::crypto::RsaBackend;
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::client::{self, Connector, LightSocket, User};
use crate::server::{StartOptions, Target};
use crate::stats::{Samples, Table, f, fo, write_json};
use crate::{Ctx, plot};

/// A group on sockets: its users, conversation and the arrivals channel.
pub struct Group {
    /// The members; `users[0]` owns the conversation.
    pub users: Vec<Arc<User>>,
    /// The conversation.
    pub conversation: Uuid,
    /// Every member with its key.
    pub readers: Vec<nanochat::client::names::Reader>,
    /// (message id, member index, when decrypted) for every message event.
    pub arrivals: mpsc::UnboundedReceiver<(Uuid, usize, Instant)>,
    /// Reader tasks that failed.
    pub failures: mpsc::UnboundedReceiver<String>,
    /// The reader tasks (aborted, closing the sockets, on drop).
    _tasks: tokio::task::JoinSet<()>,
}

/// Provisions `g` members, creates their conversation and opens one
/// socket per member, each read by its own task.
pub async fn group(ctx: &mut Ctx, target: &Target, g: usize) -> anyhow::Result<Group> {
    let connector = Connector::new(&target.url).await?;
    let tag = crate::scenarios::throughput::short_tag();
    let names: Vec<String> = (0..g).map(|i| format!("g{tag}-{i}")).collect();
    let keys = ctx.keys.users(g)?.to_vec();
    let started = Instant::now();
    let users: Vec<Arc<User>> = client::provision(target, &connector, &names, &keys)
        .await?
        .into_iter()
        .map(Arc::new)
        .collect();
    eprintln!(
        "  {g} users created and completed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let others: Vec<&str> = users[1..].iter().map(|u| u.name.as_str()).collect();
    let (conversation, readers) = client::conversation(&users[0], &others).await?;
    let (tx, arrivals) = mpsc::unbounded_channel();
    let (fail_tx, failures) = mpsc::unbounded_channel();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let sockets: Vec<anyhow::Result<LightSocket>> = futures_util::stream::iter(users.iter())
        .map(|u| async move { LightSocket::open(&u.session).await })
        .buffered(32)
        .collect()
        .await;
    for (index, socket) in sockets.into_iter().enumerate() {
        let mut socket = socket.with_context(|| format!("opening socket {index}"))?;
        let (tx, fail_tx) = (tx.clone(), fail_tx.clone());
        tasks.spawn(async move {
            loop {
                match socket.next_event().await {
                    Ok(event) => {
                        if event.kind == nanochat::bodies::EventType::MessageCreated.as_str()
                            && let Some(id) = event.id
                        {
                            let _ = tx.send((id, index, Instant::now()));
                        }
                    }
                    Err(e) => {
                        let _ = fail_tx.send(format!("socket {index}: {e:#}"));
                        return;
                    }
                }
            }
        });
    }
    eprintln!(
        "  {g} sockets open in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Group {
        users,
        conversation,
        readers,
        arrivals,
        failures,
        _tasks: tasks,
    })
}

/// What a fan-out run measured.
pub struct FanoutResult {
    /// Group size.
    pub members: usize,
    /// Messages sent.
    pub messages: usize,
    /// Ack to decrypted, per (message, recipient).
    pub from_ack: Samples,
    /// Send to decrypted, per (message, recipient).
    pub from_send: Samples,
    /// message.create round trips.
    pub ack: Samples,
    /// Server CPU seconds during the sends.
    pub cpu: Option<f64>,
}

impl FanoutResult {
    /// Server CPU milliseconds per (message, recipient).
    pub fn cpu_ms_per_recipient(&self) -> Option<f64> {
        self.cpu
            .map(|c| c * 1000.0 / (self.messages * self.members).max(1) as f64)
    }
}

/// Waits until every member has the message `id`; returns their arrival times.
pub async fn wait_all(
    group: &mut Group,
    id: Uuid,
    pending: &mut HashMap<Uuid, Vec<Instant>>,
    within: Duration,
) -> anyhow::Result<Vec<Instant>> {
    let deadline = tokio::time::Instant::now() + within;
    let g = group.users.len();
    loop {
        if pending.get(&id).is_some_and(|v| v.len() >= g) {
            return Ok(pending.remove(&id).unwrap_or_default());
        }
        if let Ok(why) = group.failures.try_recv() {
            bail!("a recipient socket failed: {why}");
        }
        match tokio::time::timeout_at(deadline, group.arrivals.recv()).await {
            Ok(Some((mid, _, at))) => pending.entry(mid).or_default().push(at),
            Ok(None) => bail!("every socket reader stopped"),
            Err(_) => bail!(
                "only {} of {g} members received message {id} within {within:?}",
                pending.get(&id).map_or(0, Vec::len)
            ),
        }
    }
}

/// Sends `m` pre-sealed messages from `group.users[0]`, one at a time, each
/// after the previous reached everyone.
pub async fn measure(target: &Target, group: &mut Group, m: usize) -> anyhow::Result<FanoutResult> {
    let sender = group.users[0].clone();
    let mut queue = client::seal_messages(&sender, group.conversation, &group.readers, m + 1)?;
    let mut pending = HashMap::new();
    // One warm-up message, not counted.
    let warm = queue.pop().expect("one");
    client::send_http(&sender.session, &warm).await?;
    wait_all(
        group,
        warm.message_id.expect("an id"),
        &mut pending,
        Duration::from_secs(60),
    )
    .await?;
    let mut result = FanoutResult {
        members: group.users.len(),
        messages: m,
        from_ack: Samples::default(),
        from_send: Samples::default(),
        ack: Samples::default(),
        cpu: None,
    };
    let cpu0 = target.cpu_seconds();
    for sealed in &queue {
        let sent = Instant::now();
        client::send_http(&sender.session, sealed).await?;
        let acked = Instant::now();
        result.ack.push(acked - sent);
        let id = sealed.message_id.expect("an id");
        for at in wait_all(group, id, &mut pending, Duration::from_secs(60)).await? {
            result.from_ack.push(at.saturating_duration_since(acked));
            result.from_send.push(at - sent);
        }
    }
    let cpu1 = target.cpu_seconds();
    result.cpu = cpu0.zip(cpu1).map(|(a, b)| b - a);
    Ok(result)
}

/// The scenario.
pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let groups = if ctx.cli.groups.is_empty() {
        ctx.pick(vec![10], vec![100, 1000])
    } else {
        ctx.cli.groups.clone()
    };
    let m = ctx.cli.fanout_messages.unwrap_or(ctx.pick(5, 50));
    let mut table = Table::new(
        "fanout: one sender, every member on a WebSocket (aws-lc)",
        &[
            "members",
            "messages",
            "ack p50 ms",
            "ack->event p50 ms",
            "ack->event p99 ms",
            "send->event p99 ms",
            "cpu ms/recipient",
        ],
    );
    let mut rows = Vec::new();
    let key_pem = ctx.keys.server_pem()?;
    for &g in &groups {
        let options = StartOptions {
            backend: RsaBackend::default_of_build(),
            max_members: g.max(1000),
            shipped_rate_limits: false,
        };
        let target = Target::start(&ctx.spec, &options, &key_pem).await?;
        eprintln!("  group of {g}");
        let mut group = group(ctx, &target, g).await?;
        let r = measure(&target, &mut group, m).await?;
        table.row(vec![
            g.to_string(),
            m.to_string(),
            f(r.ack.pct(50.0), 2),
            f(r.from_ack.pct(50.0), 2),
            f(r.from_ack.pct(99.0), 2),
            f(r.from_send.pct(99.0), 2),
            fo(r.cpu_ms_per_recipient(), 4),
        ]);
        rows.push(json!({
            "backend": target.backend_name(),
            "members": g,
            "messages": m,
            "ack": r.ack.json(),
            "ack_to_event": r.from_ack.json(),
            "send_to_event": r.from_send.json(),
            "server_cpu_seconds": r.cpu,
            "server_cpu_ms_per_recipient": r.cpu_ms_per_recipient(),
        }));
    }
    table.print();
    write_json(
        &ctx.cli.out,
        "fanout",
        &json!({"scenario": "fanout", "quick": ctx.cli.quick, "rows": rows}),
    )?;
    plot::fanout(&ctx.cli.out, &rows)?;
    if let Some(row) = rows
        .iter()
        .max_by_key(|r| r["members"].as_u64().unwrap_or(0))
    {
        let g = row["members"].as_u64().unwrap_or(0);
        let p99 = row["ack_to_event"]["p99_ms"].as_f64().unwrap_or(f64::MAX);
        let scope = if g >= 1000 {
            ""
        } else {
            " (smaller group than the target's 1,000)"
        };
        ctx.verdict(
            "fan-out to 1,000 members p99 < 100 ms",
            format!("p99 {p99:.1} ms at {g} members{scope}"),
            (g >= 1000).then_some(p99 < 100.0),
        );
        let cpu = row["server_cpu_ms_per_recipient"].as_f64();
        ctx.verdict(
            "<= 0.05 ms server CPU per recipient at 1,000 members",
            format!("{} ms at {g} members{scope}", fo(cpu, 4)),
            if g >= 1000 {
                cpu.map(|c| c <= 0.05)
            } else {
                None
            },
        );
    }
    Ok(())
}
