//! Scenario 4: a database seeded directly through the store (messages of
//! realistic ciphertext sizes, 3 members per conversation), then the
//! server started on it: `message.list` first and deep pages and
//! `conversation.list`, timed from the client (sealing excluded) and in
//! process through the store.

use std::time::{Duration, Instant};

use nanochat::bodies::Request;
use nanochat::crypto::RsaBackend;
use nanochat::models::{ListMessages, MessagePage};
use nanochat::store::{NewKey, NewMessage, Store};
use serde_json::json;
use uuid::Uuid;

use crate::Ctx;
use crate::client::{self, Connector};
use crate::server::{StartOptions, Target};
use crate::stats::{Samples, Table, f, random_bytes, write_json};

/// Users in the seeded database; each conversation has one of the first
/// ten, one of the next ten and one of the last ten.
const USERS: usize = 30;
/// Messages per transaction while seeding.
const SEED_BATCH: usize = 1000;

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn members(conversation: usize) -> [usize; 3] {
    [
        conversation % 10,
        10 + (conversation / 10) % 10,
        20 + (conversation / 100) % 10,
    ]
}

fn name(user: usize) -> String {
    format!("h{user:02}")
}

/// What seeding produced.
pub struct Seeded {
    /// Messages inserted.
    pub messages: usize,
    /// Seconds it took.
    pub seconds: f64,
    /// The conversation ids, by index.
    pub conversations: Vec<Uuid>,
    /// Database bytes (main file and WAL) after closing.
    pub bytes: u64,
}

/// Seeds `dir/nanochat.db` through [`Store`]: users, `c` conversations,
/// `n` messages round-robin (stopping early after `budget`).
pub async fn seed(
    ctx: &mut Ctx,
    dir: &std::path::Path,
    c: usize,
    n: usize,
    budget: Duration,
) -> anyhow::Result<Seeded> {
    let path = dir.join("nanochat.db");
    let store = Store::open(&path).await?;
    let keys = ctx.keys.users(USERS)?.to_vec();
    let now = now_ms();
    for (i, key) in keys.iter().enumerate() {
        let token = random_bytes(32);
        store
            .create_user(&name(i), &token, now + 86_400_000, now)
            .await?;
        store
            .complete_user(
                &name(i),
                &token,
                now,
                &name(i).to_uppercase(),
                key.public_key().to_spki_der(),
                None,
                None,
            )
            .await?;
    }
    let mut conversations = Vec::with_capacity(c);
    for i in 0..c {
        let id = Uuid::new_v4();
        let [owner, a, b] = members(i);
        let turn = store.conversation_turn(id).await?;
        store
            .create_conversation(&turn, None, &name(owner), &[name(a), name(b)], now)
            .await?;
        conversations.push(id);
    }
    let started = Instant::now();
    let deadline = started + budget;
    let mut last_report = Instant::now();
    let conversations_ref = &conversations;
    let store_ref = &store;
    let base = now_ms();
    let mut inserted = 0usize;
    let make = |j: usize| {
        let conversation = j % c;
        let who = members(conversation);
        let keys = who
            .iter()
            .map(|u| {
                let wrapped_key = random_bytes(384);
                NewKey {
                    username: name(*u),
                    key_digest: nanochat::store::Digest::of(&wrapped_key),
                    wrapped_key,
                    key_index: Some(0),
                }
            })
            .collect();
        let message = NewMessage {
            id: Uuid::new_v4(),
            conversation_id: conversations_ref[conversation],
            sender: name(who[(j / c) % 3]),
            content_iv: random_bytes(12),
            content: random_bytes(200),
            signature: random_bytes(384),
            signature_version: 1,
            sender_key_index: Some(0),
            attachment: None,
            keys,
        };
        (message, base + j as i64)
    };
    // One transaction per batch (Store::seed_messages): one fsync per
    // SEED_BATCH messages instead of one each.
    let mut next = 0usize;
    while next < n && Instant::now() <= deadline {
        let upto = (next + SEED_BATCH).min(n);
        let batch: Vec<(NewMessage, i64)> = (next..upto).map(make).collect();
        store_ref.seed_messages(&batch).await?;
        inserted += batch.len();
        next = upto;
        if last_report.elapsed() > Duration::from_secs(15) {
            last_report = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "  seeded {inserted}/{n} messages in {secs:.0} s ({:.0}/s)",
                inserted as f64 / secs
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    store.close().await;
    let bytes = ["nanochat.db", "nanochat.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum();
    Ok(Seeded {
        messages: inserted,
        seconds,
        conversations,
        bytes,
    })
}

/// The scenario.
pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    if ctx.spec.url.is_some() {
        println!(
            "\nhistory: skipped (it seeds a database before starting the server; not with --server)"
        );
        return Ok(());
    }
    let n = ctx.cli.messages.unwrap_or(ctx.pick(2_000, 1_000_000));
    let c = ctx.cli.conversations.unwrap_or(ctx.pick(20, 1_000)).max(1);
    let budget = Duration::from_secs_f64(ctx.cli.seed_seconds.unwrap_or(ctx.pick(60.0, 1800.0)));
    let dir = tempfile::Builder::new()
        .prefix("nanochat-bench-history-")
        .tempdir()?;
    eprintln!("  seeding {n} messages across {c} conversations through the store");
    let seeded = seed(ctx, dir.path(), c, n, budget).await?;
    eprintln!(
        "  seeded {} messages in {:.1} s ({:.0}/s), {} bytes",
        seeded.messages,
        seeded.seconds,
        seeded.messages as f64 / seeded.seconds,
        seeded.bytes
    );
    let bytes_per_message = seeded.bytes as f64 / seeded.messages.max(1) as f64;
    let key_pem = ctx.keys.server_pem()?;
    let options = StartOptions {
        backend: RsaBackend::default_of_build(),
        max_members: 1000,
        shipped_rate_limits: false,
    };
    let db_path = dir.path().join("nanochat.db");
    let target = Target::start_in(&ctx.spec, &options, &key_pem, dir).await?;
    let connector = Connector::new(&target.url).await?;
    let reader_key = ctx.keys.users(USERS)?[0].clone();
    let session = connector.session(&name(0), &reader_key)?;
    let mine: Vec<Uuid> = (0..c)
        .filter(|i| members(*i).contains(&0))
        .map(|i| seeded.conversations[i])
        .collect();
    let samples = ctx.pick(20, 300);
    let time_request = |request: Request| {
        let session = &session;
        async move {
            let sealed = tokio::task::block_in_place(|| client::seal_sync(session, &request))?;
            let t = Instant::now();
            let value = client::send_http(session, &sealed).await?;
            anyhow::Ok((t.elapsed(), value))
        }
    };
    // Warm-up.
    time_request(Request::ConversationList).await?;
    let mut first = Samples::default();
    for i in 0..samples {
        let (d, _) = time_request(Request::MessageList(ListMessages {
            conversation_id: mine[i % mine.len()],
            before: None,
            limit: None,
        }))
        .await?;
        first.push(d);
    }
    let mut deep = Samples::default();
    let mut deepest = (0usize, Duration::ZERO);
    let walks = ctx.pick(2, 10).min(mine.len());
    for conversation in mine.iter().take(walks) {
        let mut before = None;
        let mut page = 0;
        loop {
            let (d, value) = time_request(Request::MessageList(ListMessages {
                conversation_id: *conversation,
                before: before.take(),
                limit: None,
            }))
            .await?;
            let listed: MessagePage = serde_json::from_value(value)?;
            if page > 0 {
                deep.push(d);
                if page >= deepest.0 {
                    deepest = (page, d);
                }
            }
            page += 1;
            match listed.next_cursor {
                Some(cursor) => before = Some(cursor),
                None => break,
            }
        }
    }
    let mut list = Samples::default();
    let mut listed_conversations = 0;
    for _ in 0..ctx.pick(10, 100) {
        let (d, value) = time_request(Request::ConversationList).await?;
        listed_conversations = value["items"].as_array().map_or(0, Vec::len);
        list.push(d);
    }
    // The same reads in process through the store, without envelopes.
    let store = Store::open(&db_path).await?;
    let mut store_first = Samples::default();
    let mut store_deep = Samples::default();
    for i in 0..samples {
        let t = Instant::now();
        store
            .list_messages(mine[i % mine.len()], &name(0), None, 50)
            .await?;
        store_first.push(t.elapsed());
    }
    for conversation in mine.iter().take(walks) {
        let mut before = None;
        let mut page = 0;
        loop {
            let t = Instant::now();
            let (_, next) = store
                .list_messages(*conversation, &name(0), before, 50)
                .await?;
            if page > 0 {
                store_deep.push(t.elapsed());
            }
            page += 1;
            match next {
                Some(cursor) => before = Some(cursor),
                None => break,
            }
        }
    }
    let mut store_list = Samples::default();
    for _ in 0..ctx.pick(10, 100) {
        // conversation.list reads both: the conversations and the latest
        // message of each.
        let t = Instant::now();
        store.list_conversations(&name(0)).await?;
        store.latest_messages(&name(0)).await?;
        store_list.push(t.elapsed());
    }
    store.close().await;

    let mut table = Table::new(
        &format!(
            "history: {} messages in {c} conversations (3 members), reader in {} of them",
            seeded.messages,
            mine.len()
        ),
        &[
            "query",
            "samples",
            "p50 ms",
            "p99 ms",
            "store p50 ms",
            "store p99 ms",
        ],
    );
    for (label, s, st) in [
        ("message.list first page (50)", &first, &store_first),
        ("message.list deep pages", &deep, &store_deep),
        ("conversation.list", &list, &store_list),
    ] {
        table.row(vec![
            label.into(),
            s.len().to_string(),
            f(s.pct(50.0), 2),
            f(s.pct(99.0), 2),
            f(st.pct(50.0), 3),
            f(st.pct(99.0), 3),
        ]);
    }
    table.print();
    println!(
        "seeding: {:.0} messages/s through Store::seed_messages ({SEED_BATCH} per transaction); \
         database {:.1} MiB = {bytes_per_message:.0} bytes per message; deepest page {} at {:.2} ms; \
         conversation.list returned {listed_conversations} conversations",
        seeded.messages as f64 / seeded.seconds,
        seeded.bytes as f64 / 1048576.0,
        deepest.0,
        deepest.1.as_secs_f64() * 1000.0
    );
    write_json(
        &ctx.cli.out,
        "history",
        &json!({
            "scenario": "history",
            "quick": ctx.cli.quick,
            "messages_requested": n,
            "messages": seeded.messages,
            "conversations": c,
            "reader_conversations": mine.len(),
            "seed_seconds": seeded.seconds,
            "seed_messages_per_second": seeded.messages as f64 / seeded.seconds,
            "database_bytes": seeded.bytes,
            "bytes_per_message": bytes_per_message,
            "first_page": first.json(),
            "deep_pages": deep.json(),
            "deepest_page": {"index": deepest.0, "ms": deepest.1.as_secs_f64() * 1000.0},
            "conversation_list": list.json(),
            "conversation_list_items": listed_conversations,
            "store_first_page": store_first.json(),
            "store_deep_pages": store_deep.json(),
            "store_conversation_list": store_list.json(),
        }),
    )?;
    let p99 = first.pct(99.0).max(deep.pct(99.0));
    let scope = if seeded.messages >= 1_000_000 {
        String::new()
    } else {
        format!(" (on {} messages, not 1,000,000)", seeded.messages)
    };
    ctx.verdict(
        "message.list page p99 < 5 ms",
        format!(
            "p99 {p99:.2} ms round trip (first {:.2}, deep {:.2}; store alone {:.3}){scope}",
            first.pct(99.0),
            deep.pct(99.0),
            store_first.pct(99.0).max(store_deep.pct(99.0))
        ),
        Some(p99 < 5.0),
    );
    drop(target);
    Ok(())
}
