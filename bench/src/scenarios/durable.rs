//! Scenario 5: the durable write rate. Raw fsyncs per second in the data
//! directory's file system, `Store::insert_message` (one transaction each,
//! `synchronous = FULL` as shipped) one at a time and N at once, and
//! end-to-end `message.create` with one client and with N, compared with
//! the RSA bound of scenario 1.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nanochat::crypto::RsaBackend;
use nanochat::store::{NewKey, NewMessage, Store};
use serde_json::json;
use uuid::Uuid;

use crate::Ctx;
use crate::scenarios::throughput::{self, Transport};
use crate::server::{StartOptions, Target};
use crate::stats::{Table, f, fo, random_bytes, write_json};

/// Concurrent writers of the "N at once" rows.
const N: usize = 8;

fn fsync_rate(dir: &std::path::Path, seconds: f64) -> anyhow::Result<f64> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let block = vec![0u8; 4096];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        file.write_all(&block)?;
        file.sync_data()?;
        n += 1;
    }
    std::fs::remove_file(&path)?;
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

async fn store_rate(
    dir: &std::path::Path,
    key_spki: &[u8],
    writers: usize,
    seconds: f64,
) -> anyhow::Result<f64> {
    let path = dir.join(format!("durable-{writers}.db"));
    let store = Store::open(&path).await?;
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let token = random_bytes(32);
    for user in ["writer", "reader"] {
        store
            .create_user(user, &token, now + 86_400_000, now)
            .await?;
        store
            .complete_user(user, &token, now, user, key_spki, None, None)
            .await?;
    }
    let conversation = Uuid::new_v4();
    let turn = store.conversation_turn(conversation).await?;
    store
        .create_conversation(&turn, None, "writer", &["reader".to_owned()], now)
        .await?;
    drop(turn);
    let store = Arc::new(store);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let keys = ["writer", "reader"]
                        .iter()
                        .map(|u| {
                            let wrapped_key = random_bytes(384);
                            NewKey {
                                username: (*u).to_owned(),
                                key_digest: nanochat::store::Digest::of(&wrapped_key),
                                wrapped_key,
                                key_index: Some(0),
                            }
                        })
                        .collect();
                    let message = NewMessage {
                        id: Uuid::new_v4(),
                        conversation_id: conversation,
                        sender: "writer".into(),
                        content_iv: random_bytes(12),
                        content: random_bytes(200),
                        signature: random_bytes(384),
                        signature_version: 1,
                        sender_key_index: Some(0),
                        attachment: None,
                        keys,
                    };
                    let turn = store.conversation_turn(conversation).await?;
                    store.insert_message(&turn, &message, now).await?;
                    n += 1;
                }
                anyhow::Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    store.close().await;
    Ok(rate)
}

/// The scenario.
pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let seconds = ctx.pick(1.0, 5.0);
    let dir = tempfile::Builder::new()
        .prefix("nanochat-bench-durable-")
        .tempdir()?;
    let fsyncs = fsync_rate(dir.path(), seconds)?;
    let spki = ctx.keys.users(1)?[0].public_key().to_spki_der().to_vec();
    let store_one = store_rate(dir.path(), &spki, 1, seconds).await?;
    let store_n = store_rate(dir.path(), &spki, N, seconds).await?;
    let backend = RsaBackend::default_of_build();
    let bound = match ctx.notes.get(&format!("bound_{}", backend.name())) {
        Some(b) => b.as_f64().unwrap_or(0.0),
        None => throughput::rsa_bound(ctx, backend, ctx.pick(1.0, 3.0))?,
    };
    let key_pem = ctx.keys.server_pem()?;
    let options = StartOptions {
        backend,
        max_members: 1000,
        shipped_rate_limits: false,
    };
    let target = Target::start(&ctx.spec, &options, &key_pem).await?;
    let senders = throughput::senders(ctx, &target, N).await?;
    let duration = ctx.duration();
    // Pre-sealed queues sized from the bound (smaller with --quick).
    let cap = ctx.pick(400.0, f64::INFINITY);
    let one = throughput::point(
        &target,
        &senders,
        1,
        Transport::Http,
        duration,
        (bound * 0.6).min(cap),
    )
    .await?;
    let many = throughput::point(
        &target,
        &senders,
        N,
        Transport::Http,
        duration,
        bound.min(cap),
    )
    .await?;
    let mut table = Table::new(
        "durable: writes with synchronous = FULL",
        &["what", "per second", "of RSA bound", "note"],
    );
    let of = |x: f64| f(x / bound, 2);
    table.row(vec![
        "fsync (4 KiB write + fdatasync)".into(),
        f(fsyncs, 0),
        of(fsyncs),
        "data directory's file system".into(),
    ]);
    table.row(vec![
        "Store::insert_message, 1 writer".into(),
        f(store_one, 0),
        of(store_one),
        "one transaction per message".into(),
    ]);
    table.row(vec![
        format!("Store::insert_message, {N} writers"),
        f(store_n, 0),
        of(store_n),
        "SQLite serialises writers".into(),
    ]);
    table.row(vec![
        "message.create, 1 client (HTTP)".into(),
        f(one.rate(), 0),
        of(one.rate()),
        format!(
            "p50 {} ms, cpu {} ms/req",
            f(one.latency.pct(50.0), 2),
            fo(one.cpu_ms_per_request(), 3)
        ),
    ]);
    table.row(vec![
        format!("message.create, {N} clients (HTTP)"),
        f(many.rate(), 0),
        of(many.rate()),
        format!(
            "p50 {} ms, cpu {} ms/req",
            f(many.latency.pct(50.0), 2),
            fo(many.cpu_ms_per_request(), 3)
        ),
    ]);
    table.row(vec![
        format!("RSA bound ({})", backend.name()),
        f(bound, 0),
        "1.00".into(),
        "OAEP-decrypt + PSS-verify pairs, all cores".into(),
    ]);
    table.print();
    write_json(
        &ctx.cli.out,
        "durable",
        &json!({
            "scenario": "durable",
            "quick": ctx.cli.quick,
            "fsyncs_per_second": fsyncs,
            "store_insert_per_second_1": store_one,
            "store_insert_per_second_n": store_n,
            "writers": N,
            "message_create_per_second_1": one.rate(),
            "message_create_per_second_n": many.rate(),
            "message_create_latency_1": one.latency.json(),
            "message_create_latency_n": many.latency.json(),
            "server_cpu_ms_per_request_1": one.cpu_ms_per_request(),
            "server_cpu_ms_per_request_n": many.cpu_ms_per_request(),
            "rsa_bound": bound,
            "backend": backend.name(),
        }),
    )?;
    Ok(())
}
