//! Scenario 8: one and two instances on one PostgreSQL database. Pairs of
//! users in 2-member conversations; with two instances each sender talks
//! to one instance and its reader listens on the other, so every event
//! crosses instances through PostgreSQL. Measured: the time from sending
//! `message.create` (and from its acknowledgement) to the event decrypted
//! on the reader's socket, paced (one message in flight per sender) and
//! under load (every sender back to back), and the write and event rates.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nanochat::crypto::RsaBackend;
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::Ctx;
use crate::client::{self, Connector, LightSocket, Sealed, User};
use crate::server::{StartOptions, Target};
use crate::stats::{Samples, Table, f, fo, write_json};

/// How long a reader may wait for an event before it counts as lost.
const LOST_AFTER: Duration = Duration::from_secs(10);

/// One sender and the socket reading its conversation on another instance.
struct Pair {
    sender: User,
    conversation: Uuid,
    readers: Vec<nanochat::client::names::Reader>,
    /// Message ids with the instant their event was decrypted.
    arrivals: mpsc::UnboundedReceiver<(Uuid, Instant)>,
}

/// What one phase measured.
struct Phase {
    messages: usize,
    elapsed: Duration,
    from_send: Samples,
    from_ack: Samples,
    cpu: Option<f64>,
}

/// Runs the scenario; needs `--postgres ADMIN_URL`.
pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let Some(admin) = ctx.cli.postgres.clone() else {
        bail!(
            "the instances scenario needs --postgres ADMIN_URL (a PostgreSQL server that lets \
             it create databases; scripts/postgres.sh start DIR prints one)"
        );
    };
    let pairs = ctx.pick(2, 8);
    let paced = ctx.pick(10, 100);
    let loaded = ctx.pick(20, 300);
    let mut table = Table::new(
        &format!(
            "cross-instance events, {pairs} pairs, PostgreSQL on the same cores \
             (paced: one message in flight per sender; loaded: all back to back)"
        ),
        &[
            "instances",
            "phase",
            "messages",
            "req/s",
            "events/s",
            "send→event p50",
            "p99",
            "ack→event p50",
            "p99",
            "server ms/req",
        ],
    );
    let mut json_rows = Vec::new();
    for instances in [1, 2] {
        let database = nanochat::store::scratch::scratch_postgres(&admin)
            .await
            .context("creating a scratch database")?
            .to_arg();
        let key_pem = ctx.keys.server_pem()?;
        let options = StartOptions {
            backend: RsaBackend::default_of_build(),
            max_members: 100,
            shipped_rate_limits: false,
        };
        let mut targets = Vec::new();
        for _ in 0..instances {
            targets
                .push(Target::start_on_postgres(&ctx.spec, &options, &key_pem, &database).await?);
        }
        let mut pairs = setup(ctx, &targets, pairs).await?;
        for (phase, per_sender, in_flight) in [("paced", paced, false), ("loaded", loaded, true)] {
            let result = measure(&targets, &mut pairs, per_sender, in_flight).await?;
            let seconds = result.elapsed.as_secs_f64();
            let rate = result.messages as f64 / seconds;
            let server_ms = result.cpu.map(|c| c * 1000.0 / result.messages as f64);
            table.row(vec![
                instances.to_string(),
                phase.to_owned(),
                result.messages.to_string(),
                f(rate, 0),
                f(result.from_send.len() as f64 / seconds, 0),
                f(result.from_send.pct(50.0), 2),
                f(result.from_send.pct(99.0), 2),
                f(result.from_ack.pct(50.0), 2),
                f(result.from_ack.pct(99.0), 2),
                fo(server_ms, 2),
            ]);
            json_rows.push(json!({
                "instances": instances,
                "phase": phase,
                "messages": result.messages,
                "seconds": seconds,
                "requests_per_second": rate,
                "from_send_ms": result.from_send.json(),
                "from_ack_ms": result.from_ack.json(),
                "server_cpu_ms_per_request": server_ms,
            }));
        }
    }
    table.print();
    write_json(&ctx.cli.out, "instances", &json!({ "rows": json_rows }))?;
    Ok(())
}

/// Provisions the pairs: pair `i`'s sender talks to instance `i % n` and
/// its reader listens on instance `(i + 1) % n`.
async fn setup(ctx: &mut Ctx, targets: &[Target], count: usize) -> anyhow::Result<Vec<Pair>> {
    let mut connectors = Vec::new();
    for target in targets {
        connectors.push(Connector::new(&target.url).await?);
    }
    let tag = crate::scenarios::throughput::short_tag();
    let names: Vec<String> = (0..2 * count).map(|i| format!("i{tag}-{i}")).collect();
    let keys = ctx.keys.users(2 * count)?.to_vec();
    let users = client::provision(&targets[0], &connectors[0], &names, &keys).await?;
    let n = targets.len();
    let mut users = users.into_iter();
    let mut pairs = Vec::new();
    for i in 0..count {
        let (sender, reader) = (
            users.next().context("a sender")?,
            users.next().context("a reader")?,
        );
        let sender = User {
            session: connectors[i % n].session(&sender.name, &sender.key)?,
            ..sender
        };
        let reader_session = connectors[(i + 1) % n].session(&reader.name, &reader.key)?;
        let (conversation, readers) = client::conversation(&sender, &[&reader.name]).await?;
        let mut socket = LightSocket::open(&reader_session).await?;
        let (tx, arrivals) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            // Holds the session the socket belongs to for as long as it reads.
            let _session = reader_session;
            while let Ok(event) = socket.next_event().await {
                if event.kind == nanochat::bodies::EventType::MessageCreated.as_str()
                    && let Some(id) = event.id
                    && tx.send((id, Instant::now())).is_err()
                {
                    return;
                }
            }
        });
        pairs.push(Pair {
            sender,
            conversation,
            readers,
            arrivals,
        });
    }
    Ok(pairs)
}

/// Each pair's sender sends `per_sender` pre-sealed messages over HTTP:
/// one at a time, each waiting for its event (`back_to_back` false), or
/// all back to back; every event must arrive.
async fn measure(
    targets: &[Target],
    pairs: &mut [Pair],
    per_sender: usize,
    back_to_back: bool,
) -> anyhow::Result<Phase> {
    let mut sealed = Vec::new();
    for pair in pairs.iter() {
        sealed.push(tokio::task::block_in_place(|| {
            client::seal_messages(&pair.sender, pair.conversation, &pair.readers, per_sender)
        })?);
    }
    let cpu = || -> Option<f64> { targets.iter().map(Target::cpu_seconds).sum() };
    let cpu_before = cpu();
    let started = Instant::now();
    let runs = pairs
        .iter_mut()
        .zip(&sealed)
        .map(|(pair, sealed)| one_sender(pair, sealed, back_to_back));
    let results = futures_util::future::join_all(runs).await;
    let elapsed = started.elapsed();
    let mut phase = Phase {
        messages: per_sender * pairs.len(),
        elapsed,
        from_send: Samples::default(),
        from_ack: Samples::default(),
        cpu: cpu().zip(cpu_before).map(|(after, before)| after - before),
    };
    for result in results {
        let (from_send, from_ack) = result?;
        phase.from_send.0.extend(from_send.0);
        phase.from_ack.0.extend(from_ack.0);
    }
    Ok(phase)
}

/// One sender's run: (send→event, ack→event) per message.
async fn one_sender(
    pair: &mut Pair,
    sealed: &[Sealed],
    back_to_back: bool,
) -> anyhow::Result<(Samples, Samples)> {
    let mut sent: HashMap<Uuid, (Instant, Instant)> = HashMap::new();
    let (mut from_send, mut from_ack) = (Samples::default(), Samples::default());
    let mut record = |times: (Instant, Instant), arrived: Instant| {
        from_send.push(arrived - times.0);
        from_ack.push(arrived.saturating_duration_since(times.1));
    };
    for message in sealed {
        let id = message.message_id.context("a message id")?;
        let at = Instant::now();
        client::send_http(&pair.sender.session, message).await?;
        sent.insert(id, (at, Instant::now()));
        if !back_to_back {
            let arrived = arrival(pair, id).await?;
            record(sent[&id], arrived);
        }
    }
    if back_to_back {
        let mut waiting = sent.len();
        let deadline = tokio::time::Instant::now() + LOST_AFTER;
        while waiting > 0 {
            match tokio::time::timeout_at(deadline, pair.arrivals.recv()).await {
                Ok(Some((id, arrived))) => {
                    if let Some(times) = sent.get(&id) {
                        record(*times, arrived);
                        waiting -= 1;
                    }
                }
                Ok(None) => bail!("{}'s reader socket closed", pair.sender.name),
                Err(_) => bail!(
                    "{waiting} events never reached {}'s reader",
                    pair.sender.name
                ),
            }
        }
    }
    Ok((from_send, from_ack))
}

/// Waits for message `id`'s event on the pair's reader.
async fn arrival(pair: &mut Pair, id: Uuid) -> anyhow::Result<Instant> {
    let deadline = tokio::time::Instant::now() + LOST_AFTER;
    loop {
        match tokio::time::timeout_at(deadline, pair.arrivals.recv()).await {
            Ok(Some((heard, arrived))) if heard == id => return Ok(arrived),
            Ok(Some(_)) => continue,
            Ok(None) => bail!("{}'s reader socket closed", pair.sender.name),
            Err(_) => bail!("message {id} never reached {}'s reader", pair.sender.name),
        }
    }
}
