//! Scenario 6: client-side costs in process (sealing a message for 100
//! members, opening and verifying a 50-message page) per backend, the
//! server's cold start (spawn to `/health` OK) and the binary size.

use std::time::{Duration, Instant};

use nanochat::client::messages;
use nanochat::client::names::Reader;
use nanochat::crypto::{PrivateKey, RsaBackend, backend};
use nanochat::models::{Message, RecipientDigest};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Ctx;
use crate::server::{self, StartOptions};
use crate::stats::{Samples, Table, f, write_json};

fn keys_under(ctx: &mut Ctx, b: RsaBackend, n: usize) -> anyhow::Result<Vec<PrivateKey>> {
    let previous = backend::active();
    backend::select(b);
    let keys = (0..n).map(|i| ctx.keys.reparse(i)).collect();
    backend::select(previous);
    keys
}

fn as_received(sealed: &nanochat::models::CreateMessage, sender: &str, reader: &str) -> Message {
    let mut recipients: Vec<RecipientDigest> = sealed
        .keys
        .iter()
        .map(|k| RecipientDigest {
            username: k.username.clone(),
            key_digest: Sha256::digest(k.key.as_slice()).to_vec().into(),
        })
        .collect();
    recipients.sort_by(|a, b| a.username.as_bytes().cmp(b.username.as_bytes()));
    Message {
        conversation_id: sealed.conversation_id,
        id: sealed.id,
        sender: sender.to_owned(),
        created_at: time::OffsetDateTime::now_utc(),
        edited_at: None,
        content_iv: sealed.content_iv.clone(),
        content: sealed.content.clone(),
        attachment: None,
        key: sealed
            .keys
            .iter()
            .find(|k| k.username == reader)
            .map(|k| k.key.clone())
            .unwrap_or_default(),
        recipients,
        signature: sealed.signature.clone(),
        signature_version: sealed.signature_version,
        sender_key_index: None,
        key_index: None,
        cursor: None,
    }
}

/// The scenario.
pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let repeats = ctx.pick(3, 20);
    let members = ctx.pick(20, 100);
    let mut table = Table::new(
        "client: in-process costs (3072-bit), one thread",
        &[
            "backend",
            &format!("seal for {members} members ms"),
            "open+verify 50-message page ms",
        ],
    );
    let mut rows = Vec::new();
    for &b in &ctx.backends.clone() {
        let keys = keys_under(ctx, b, members + 1)?;
        let readers: Vec<Reader> = keys
            .iter()
            .take(members)
            .enumerate()
            .map(|(i, k)| Reader {
                username: format!("m{i:03}"),
                key: k.public_key().clone(),
                key_index: None,
            })
            .collect();
        let conversation = Uuid::new_v4();
        let mut seal = Samples::default();
        for i in 0..repeats {
            let text = crate::client::message_text(i);
            let t = Instant::now();
            messages::seal(
                &keys[0],
                conversation,
                Uuid::new_v4(),
                Some(&text),
                None,
                &readers,
            )?;
            seal.push(t.elapsed());
        }
        // A page of 50 from m000 to m001 in a 2-member conversation.
        let pair = &readers[..2];
        let page: Vec<Message> = (0..50)
            .map(|i| {
                let sealed = messages::seal(
                    &keys[0],
                    conversation,
                    Uuid::new_v4(),
                    Some(&crate::client::message_text(i)),
                    None,
                    pair,
                )?;
                anyhow::Ok(as_received(&sealed, "m000", "m001"))
            })
            .collect::<anyhow::Result<_>>()?;
        let mut open = Samples::default();
        for _ in 0..repeats.min(10) {
            let t = Instant::now();
            for m in &page {
                let (chat, _) = messages::open(m, "m001", Ok(&keys[1]), Ok(keys[0].public_key()));
                if chat.content().is_none() {
                    anyhow::bail!("a bench message did not verify: {:?}", chat.verdict);
                }
            }
            open.push(t.elapsed());
        }
        table.row(vec![
            b.name().into(),
            f(seal.pct(50.0), 2),
            f(open.pct(50.0), 2),
        ]);
        rows.push(json!({
            "backend": b.name(),
            "members": members,
            "seal_for_members": seal.json(),
            "open_verify_page_50": open.json(),
        }));
    }
    table.print();

    let mut cold = Samples::default();
    let mut size = None;
    if ctx.spec.url.is_none() {
        let key_pem = ctx.keys.server_pem()?;
        for _ in 0..ctx.pick(2, 5) {
            let dir = tempfile::Builder::new()
                .prefix("nanochat-bench-cold-")
                .tempdir()?;
            let options = StartOptions {
                backend: RsaBackend::default_of_build(),
                max_members: 100,
                shipped_rate_limits: false,
            };
            let (mut child, url, started) =
                server::spawn(&ctx.spec.bin, dir.path(), &options, &key_pem)?;
            server::wait_healthy(&url, Duration::from_secs(30)).await?;
            cold.push(started.elapsed());
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
        size = std::fs::metadata(&ctx.spec.bin).ok().map(|m| m.len());
        let mut t2 = Table::new(
            "server: cold start and size",
            &["cold start p50 ms", "max ms", "binary", "MiB"],
        );
        t2.row(vec![
            f(cold.pct(50.0), 1),
            f(cold.pct(100.0), 1),
            ctx.spec.bin.display().to_string(),
            size.map_or("n/a".into(), |s| f(s as f64 / 1048576.0, 2)),
        ]);
        t2.print();
        println!(
            "(cold start: spawn of a fresh data directory with the key file written, to GET /health 200; migrations included)"
        );
    }
    write_json(
        &ctx.cli.out,
        "client",
        &json!({
            "scenario": "client",
            "quick": ctx.cli.quick,
            "rows": rows,
            "cold_start": cold.json(),
            "binary": ctx.spec.bin.display().to_string(),
            "binary_bytes": size,
        }),
    )?;
    Ok(())
}
