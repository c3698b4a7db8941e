//! Reliability: crash safety. Writers send `message.create` into a group and
//! into 1:1 conversations while the server is killed with SIGKILL at a
//! random moment, again and again, on the same files. After every kill:
//! `PRAGMA integrity_check` and `foreign_key_check` are clean; after the
//! restart every acknowledged message is there for every member, opens and
//! verifies with the text that was sent; a request that was sent but never
//! answered is either wholly there (readable by every member) or absent;
//! nothing appears that was never sent, nothing twice; and the replay guard
//! refuses every acknowledged request again (`replayed`). The end state is
//! checked once more after a clean stop.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use nanochat::bodies::Request;
use nanochat::client::messages::{self, Verdict};
use nanochat::client::{Bodies, ClientError, Session};
use nanochat::crypto::PrivateKey;
use nanochat::models::{ErrorCode, ListMessages};
use nanochat::store::Store;
use serde_json::json;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::Ctx;
use crate::client::{self, Connector, Sealed, User};
use crate::server::{StartOptions, Target};
use crate::stats::{Table, write_json};

/// Users writing; each also has a 1:1 with the next one.
const USERS: usize = 6;
/// Concurrent writer tasks per user.
const WRITERS_PER_USER: usize = 2;

/// One `message.create` the writers sent.
struct Sent {
    conversation: Uuid,
    id: Uuid,
    text: String,
    sealed: Sealed,
    /// The index of the user who sent it.
    sender: usize,
}

/// A conversation and who reads it.
#[derive(Clone)]
struct Room {
    id: Uuid,
    /// Indices into the users.
    members: Vec<usize>,
    readers: Vec<nanochat::client::names::Reader>,
}

/// What the writers of one round produced.
#[derive(Default)]
struct Outcome {
    acked: Vec<Sent>,
    /// Sent, but the connection broke before an answer came.
    unanswered: Vec<Sent>,
    /// Refused by the server (nothing should be).
    refused: Vec<String>,
}

/// The scenario.
pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    if ctx.spec.url.is_some() {
        anyhow::bail!("the crash scenario kills the server: it cannot use --server");
    }
    let kills = ctx.cli.kills.unwrap_or(ctx.pick(3, 25));
    let key_pem = ctx.keys.server_pem()?;
    let options = StartOptions {
        backend: nanochat::crypto::RsaBackend::default_of_build(),
        max_members: 100,
        shipped_rate_limits: false,
    };
    let mut target = Target::start(&ctx.spec, &options, &key_pem).await?;
    let database = target.database().context("no database path")?;
    let keys: Vec<PrivateKey> = ctx.keys.users(USERS)?.to_vec();
    let tag = crate::scenarios::throughput::short_tag();
    let names: Vec<String> = (0..USERS).map(|i| format!("k{tag}-{i}")).collect();
    let mut connector = Connector::new(&target.url).await?;
    let users = client::provision(&target, &connector, &names, &keys).await?;
    let rooms = rooms(&users).await?;

    let mut problems: Vec<String> = Vec::new();
    let mut verified: HashSet<Uuid> = HashSet::new();
    let mut all_acked: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut table = Table::new(
        "Crash safety: SIGKILL under write load, restart, check",
        &[
            "kill",
            "after ms",
            "acked",
            "unanswered",
            "of which stored",
            "replays refused",
            "integrity",
        ],
    );
    let mut rounds = Vec::new();
    let mut totals = (0usize, 0usize, 0usize, 0usize);
    for kill in 1..=kills {
        let sessions = sessions_of(&connector, &names, &keys)?;
        let delay = Duration::from_millis(200 + random_below(1300));
        let (outcome, dir) = write_until_killed(&sessions, &users, &rooms, target, delay).await?;
        problems.extend(
            outcome
                .refused
                .iter()
                .map(|e| format!("kill {kill}: refused: {e}")),
        );

        let integrity = integrity(&database).await?;
        if !integrity.is_empty() {
            problems.push(format!("kill {kill}: integrity: {}", integrity.join("; ")));
        }
        target = Target::start_in(&ctx.spec, &options, &key_pem, dir).await?;
        connector = Connector::new(&target.url).await?;
        let sessions = sessions_of(&connector, &names, &keys)?;
        let stored = check_round(&sessions, &keys, &rooms, &outcome, &mut verified)
            .await
            .unwrap_or_else(|e| {
                problems.push(format!("kill {kill}: {e:#}"));
                HashSet::new()
            });
        let replays = check_replays(&sessions, &outcome, &stored).await;
        let refused_again = match replays {
            Ok(n) => n,
            Err(e) => {
                problems.push(format!("kill {kill}: {e:#}"));
                0
            }
        };
        let unanswered_stored = outcome
            .unanswered
            .iter()
            .filter(|s| stored.contains(&s.id))
            .count();
        for sent in &outcome.acked {
            all_acked
                .entry(sent.conversation)
                .or_default()
                .push(sent.id);
        }
        totals.0 += outcome.acked.len();
        totals.1 += outcome.unanswered.len();
        totals.2 += unanswered_stored;
        totals.3 += refused_again;
        table.row(vec![
            kill.to_string(),
            delay.as_millis().to_string(),
            outcome.acked.len().to_string(),
            outcome.unanswered.len().to_string(),
            unanswered_stored.to_string(),
            refused_again.to_string(),
            if integrity.is_empty() {
                "ok".into()
            } else {
                "FAILED".into()
            },
        ]);
        rounds.push(json!({
            "kill": kill,
            "after_ms": delay.as_millis() as u64,
            "acked": outcome.acked.len(),
            "unanswered": outcome.unanswered.len(),
            "unanswered_stored": unanswered_stored,
            "replays_refused": refused_again,
            "integrity": integrity,
        }));
        eprintln!(
            "  kill {kill}/{kills}: {} acked, {} unanswered ({} stored), {} replays refused",
            outcome.acked.len(),
            outcome.unanswered.len(),
            unanswered_stored,
            refused_again
        );
    }

    // The end state after a clean stop: every acknowledged message, for
    // every member, over the whole history.
    let sessions = sessions_of(&connector, &names, &keys)?;
    for room in &rooms {
        let expected = all_acked.get(&room.id).cloned().unwrap_or_default();
        for &member in &room.members {
            let ids = history_ids(&sessions[member], room.id, None).await?;
            let present: HashSet<Uuid> = ids.iter().copied().collect();
            if present.len() != ids.len() {
                problems.push(format!(
                    "{} sees a message twice in {}",
                    names[member], room.id
                ));
            }
            let missing = expected.iter().filter(|id| !present.contains(id)).count();
            if missing > 0 {
                problems.push(format!(
                    "at the end {} misses {missing} acknowledged messages of {}",
                    names[member], room.id
                ));
            }
        }
    }
    let dir = target.crash()?;
    let final_integrity = integrity(&database).await?;
    if !final_integrity.is_empty() {
        problems.push(format!("final integrity: {}", final_integrity.join("; ")));
    }
    drop(dir);

    table.print();
    println!(
        "\n{kills} kills: {} acknowledged messages all present and verified, {} unanswered \
         ({} stored whole, {} absent), {} replays refused; problems: {}",
        totals.0,
        totals.1,
        totals.2,
        totals.1 - totals.2,
        totals.3,
        problems.len()
    );
    for p in &problems {
        println!("  PROBLEM: {p}");
    }
    write_json(
        &ctx.cli.out,
        "crash",
        &json!({
            "kills": kills,
            "users": USERS,
            "writers": USERS * WRITERS_PER_USER,
            "acked": totals.0,
            "unanswered": totals.1,
            "unanswered_stored": totals.2,
            "replays_refused": totals.3,
            "rounds": rounds,
            "problems": problems,
        }),
    )?;
    ctx.verdict(
        "crash safety: >= 20 SIGKILLs, nothing acknowledged lost, nothing half-visible, replays refused, integrity ok",
        format!("{kills} kills, {} problems", problems.len()),
        Some(kills >= 20 && problems.is_empty()),
    );
    if !problems.is_empty() {
        anyhow::bail!("{} problems after {kills} kills", problems.len());
    }
    Ok(())
}

/// A group of everyone (owned by user 0) and a 1:1 of each user with the
/// next.
async fn rooms(users: &[User]) -> anyhow::Result<Vec<Room>> {
    let mut rooms = Vec::new();
    let everyone: Vec<&str> = users[1..].iter().map(|u| u.name.as_str()).collect();
    let (id, readers) = client::conversation(&users[0], &everyone).await?;
    rooms.push(Room {
        id,
        members: (0..users.len()).collect(),
        readers,
    });
    for i in 0..users.len() {
        let next = (i + 1) % users.len();
        let (id, readers) = client::conversation(&users[i], &[users[next].name.as_str()]).await?;
        rooms.push(Room {
            id,
            members: vec![i, next],
            readers,
        });
    }
    Ok(rooms)
}

fn sessions_of(
    connector: &Connector,
    names: &[String],
    keys: &[PrivateKey],
) -> anyhow::Result<Vec<Arc<Session>>> {
    names
        .iter()
        .zip(keys)
        .map(|(name, key)| Ok(Arc::new(connector.session(name, key)?)))
        .collect()
}

/// Runs the writers until the server is killed `after` the first answer;
/// returns what they saw and the server's directory.
async fn write_until_killed(
    sessions: &[Arc<Session>],
    users: &[User],
    rooms: &[Room],
    target: Target,
    after: Duration,
) -> anyhow::Result<(Outcome, tempfile::TempDir)> {
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let first_ack = Arc::new(tokio::sync::Notify::new());
    let mut tasks = tokio::task::JoinSet::new();
    for (index, user) in users.iter().enumerate() {
        let own: Vec<Room> = rooms
            .iter()
            .filter(|r| r.members.contains(&index))
            .cloned()
            .collect();
        for writer in 0..WRITERS_PER_USER {
            let (session, key) = (sessions[index].clone(), user.key.clone());
            let (own, outcome, stop) = (own.clone(), outcome.clone(), stop.clone());
            let first_ack = first_ack.clone();
            tasks.spawn(async move {
                let mut n = writer;
                while !stop.load(Ordering::Relaxed) {
                    let room = &own[n % own.len()];
                    n += 1;
                    let sent = match seal(&session, &key, room, index, n) {
                        Ok(sent) => sent,
                        Err(e) => {
                            outcome.lock().await.refused.push(format!("sealing: {e:#}"));
                            return;
                        }
                    };
                    match session.send_sealed(&sent.sealed.request).await {
                        Ok(_) => {
                            outcome.lock().await.acked.push(sent);
                            first_ack.notify_one();
                        }
                        Err(ClientError::Api(e)) => {
                            outcome
                                .lock()
                                .await
                                .refused
                                .push(format!("{:?}: {}", e.code, e.message));
                        }
                        Err(_) => {
                            // The server is gone: this one may or may not
                            // have been committed.
                            outcome.lock().await.unanswered.push(sent);
                            return;
                        }
                    }
                }
            });
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(30), first_ack.notified()).await;
    tokio::time::sleep(after).await;
    // SIGKILL while the writers are mid-request.
    let dir = target.crash()?;
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    let outcome = Arc::try_unwrap(outcome)
        .map(Mutex::into_inner)
        .unwrap_or_default();
    Ok((outcome, dir))
}

fn seal(
    session: &Session,
    key: &PrivateKey,
    room: &Room,
    sender: usize,
    n: usize,
) -> anyhow::Result<Sent> {
    let id = Uuid::new_v4();
    let text = format!("crash test {sender}/{n}: {id}");
    let payload = messages::seal(key, room.id, id, Some(&text), None, &room.readers)?;
    let sealed = client::seal_sync(session, &Request::MessageCreate(payload))?;
    Ok(Sent {
        conversation: room.id,
        id,
        text,
        sealed,
        sender,
    })
}

/// PRAGMA integrity_check and foreign_key_check on the files as the kill
/// left them (opening them replays the WAL, as the restarted server would).
async fn integrity(database: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let store = Store::open(database).await?;
    let problems = store.integrity_problems().await?;
    store.close().await;
    Ok(problems)
}

/// Reads, as every member, the messages newer than those checked in earlier
/// rounds; each must verify with the text sent. Returns the ids of this
/// round's messages found stored.
async fn check_round(
    sessions: &[Arc<Session>],
    keys: &[PrivateKey],
    rooms: &[Room],
    outcome: &Outcome,
    verified: &mut HashSet<Uuid>,
) -> anyhow::Result<HashSet<Uuid>> {
    let sent: HashMap<Uuid, &Sent> = outcome
        .acked
        .iter()
        .chain(&outcome.unanswered)
        .map(|s| (s.id, s))
        .collect();
    let mut stored = HashSet::new();
    let mut errors = Vec::new();
    for room in rooms {
        let mut seen_by: Vec<HashSet<Uuid>> = Vec::new();
        for &member in &room.members {
            let reader = &sessions[member];
            let mut found = HashSet::new();
            let mut before = None;
            'pages: loop {
                let page = page(reader, room.id, before.clone()).await?;
                for message in &page.messages {
                    if verified.contains(&message.id) {
                        break 'pages;
                    }
                    let Some(original) = sent.get(&message.id) else {
                        errors.push(format!(
                            "{} holds a message never sent: {}",
                            room.id, message.id
                        ));
                        continue;
                    };
                    if !found.insert(message.id) {
                        errors.push(format!("{} listed twice", message.id));
                    }
                    let sender_key = room
                        .readers
                        .iter()
                        .find(|r| r.username == message.sender)
                        .map(|r| &r.key)
                        .ok_or_else(|| format!("{} is not a member", message.sender));
                    let (opened, _) =
                        messages::open(message, reader.username(), Ok(&keys[member]), sender_key);
                    match opened.verdict {
                        Verdict::Verified(content)
                            if content.text.as_deref() == Some(&original.text) => {}
                        Verdict::Verified(_) => {
                            errors.push(format!("{} has another text", message.id))
                        }
                        Verdict::Unverified(why) => errors.push(format!(
                            "{} does not verify for {}: {why} (sent by {})",
                            message.id,
                            reader.username(),
                            original.sender
                        )),
                    }
                }
                match page.next_cursor {
                    Some(cursor) => before = Some(cursor),
                    None => break,
                }
            }
            seen_by.push(found);
        }
        // Wholly there or absent: every member sees the same messages.
        let union: HashSet<Uuid> = seen_by.iter().flatten().copied().collect();
        for (i, seen) in seen_by.iter().enumerate() {
            for id in union.difference(seen) {
                errors.push(format!(
                    "{id} in {} is missing for member {} but there for another",
                    room.id, room.members[i]
                ));
            }
        }
        for s in outcome.acked.iter().filter(|s| s.conversation == room.id) {
            if !union.contains(&s.id) {
                errors.push(format!("acknowledged {} is lost", s.id));
            }
        }
        stored.extend(union);
    }
    verified.extend(stored.iter().copied());
    if errors.is_empty() {
        Ok(stored)
    } else {
        anyhow::bail!("{} problems: {}", errors.len(), errors.join("; "))
    }
}

/// Sends every acknowledged request again, byte for byte: each must be
/// refused as `replayed`. A stored but unanswered one must be refused too
/// (any code). Returns how many were refused.
async fn check_replays(
    sessions: &[Arc<Session>],
    outcome: &Outcome,
    stored: &HashSet<Uuid>,
) -> anyhow::Result<usize> {
    let mut refused = 0;
    let mut errors = Vec::new();
    let again = outcome.acked.iter().map(|s| (s, true)).chain(
        outcome
            .unanswered
            .iter()
            .filter(|s| stored.contains(&s.id))
            .map(|s| (s, false)),
    );
    for (sent, acked) in again {
        let session = &sessions[sent.sender];
        match session.send_sealed(&sent.sealed.request).await {
            Err(ClientError::Api(e)) if e.code == ErrorCode::Replayed || !acked => refused += 1,
            Err(ClientError::Api(e)) => errors.push(format!(
                "{} replayed got {:?}, not replayed",
                sent.id, e.code
            )),
            Err(e) => errors.push(format!("{} replayed: {e}", sent.id)),
            Ok(_) => errors.push(format!("{} was accepted twice", sent.id)),
        }
    }
    if errors.is_empty() {
        Ok(refused)
    } else {
        anyhow::bail!("{} replay problems: {}", errors.len(), errors.join("; "))
    }
}

/// Every message id of a conversation as `reader` lists it, newest first.
async fn history_ids(
    reader: &Session,
    conversation: Uuid,
    mut before: Option<String>,
) -> anyhow::Result<Vec<Uuid>> {
    let mut ids = Vec::new();
    loop {
        let page = page(reader, conversation, before.clone()).await?;
        ids.extend(page.messages.iter().map(|m| m.id));
        match page.next_cursor {
            Some(cursor) => before = Some(cursor),
            None => return Ok(ids),
        }
    }
}

/// One page of 100 messages, newest first, before `before`.
async fn page(
    reader: &Session,
    conversation: Uuid,
    before: Option<String>,
) -> anyhow::Result<nanochat::models::MessagePage> {
    reader
        .message_list(ListMessages {
            conversation_id: conversation,
            before,
            limit: Some(100),
        })
        .await
        .context("message.list")
}

/// A uniformly random number below `n` from the OS.
fn random_below(n: u64) -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("OS randomness");
    u64::from_le_bytes(bytes) % n
}
