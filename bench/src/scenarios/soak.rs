//! Reliability: the soak. N clients, each with every event on a WebSocket
//! (the library's `Socket`, which checks every frame's seq and freshness),
//! run M mixed operations each: send, edit and delete messages, create and
//! leave conversations, in phases; between phases some clients rotate their
//! key (their sessions end, and they reopen with the new key). Every event
//! received is matched to the operation that caused it, and at the end:
//! - lost: an event a client was certain to get (a member for the whole
//!   of the operation, from its send to its answer, with its socket open
//!   throughout) never came;
//! - duplicated: a client got the same event twice;
//! - out of order: a client got an event before one whose operation was
//!   answered before the later one was even sent;
//! - disordered: two members saw a conversation's events in different
//!   orders;
//! - misdelivered: a client got an event it could not have been meant to
//!   get (never a member while it happened).
//!
//! The server's resident memory is sampled at every phase boundary.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use nanochat::bodies::Event;
use nanochat::client::messages;
use nanochat::client::{Bodies, ClientError, Session, Socket};
use nanochat::crypto::{PrivateKey, PublicKey, Succession};
use nanochat::models::{
    BaseConversation, BaseMessage, BaseUser, CreateConversation, ErrorCode, UpdateUser,
};
use serde_json::json;
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use crate::Ctx;
use crate::client::{self, Connector};
use crate::server::{StartOptions, Target};
use crate::stats::{Table, f, write_json};

/// What identifies one event: the operation that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Tag {
    Created(Uuid),
    /// A message id and the edit's content iv (fresh for every edit).
    Updated(Uuid, Vec<u8>),
    Deleted(Uuid),
    Conversation(Uuid),
    /// A conversation and who left it (`event.conversation.left`, or
    /// `event.conversation.deleted` for the last one out).
    Left(Uuid, usize),
    /// A user and the fingerprint of their new key.
    KeyChanged(usize, String),
}

/// An answered operation.
struct Op {
    tag: Tag,
    /// The conversation it changed (none for a key change).
    conversation: Option<Uuid>,
    actor: usize,
    sent: Instant,
    acked: Instant,
}

/// When a user became and stopped being a member of a conversation.
#[derive(Clone, Copy)]
struct Membership {
    /// The answer to the conversation.create that added them.
    joined: Instant,
    /// The send and answer of their leave, if they left.
    left: Option<(Instant, Instant)>,
}

/// Everything the run saw, shared by every task.
#[derive(Default)]
struct Ledger {
    ops: Vec<Op>,
    memberships: HashMap<(Uuid, usize), Membership>,
    /// Per user, each event as it arrived (over all its sockets, in order).
    received: Vec<Vec<Tag>>,
    /// Per user, the spans its sockets were open: from the session.open
    /// answer until the client decided to rotate (or the end).
    attached: Vec<Vec<(Instant, Option<Instant>)>>,
    /// Requests the server refused, sockets that broke.
    errors: Vec<String>,
    /// Per user: the user names of other users, by index.
    names: Vec<String>,
}

/// One client's own view, carried from phase to phase.
struct Client {
    index: usize,
    session: Session,
    key: PrivateKey,
    /// Conversations it is in, with their readers (members with keys).
    rooms: Vec<Uuid>,
    /// Its own messages not deleted: conversation, id.
    messages: Vec<(Uuid, Uuid)>,
    rng: u64,
}

/// Who is in each conversation, as this process believes.
type Members = std::sync::Mutex<HashMap<Uuid, Vec<usize>>>;
/// Every user's current public key.
type PublicKeys = std::sync::Mutex<HashMap<String, PublicKey>>;

/// The scenario.
pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let clients_n = ctx.cli.soak_clients.unwrap_or(ctx.pick(20, 200));
    let ops_n = ctx.cli.soak_ops.unwrap_or(ctx.pick(50, 500));
    let phases = ctx.pick(2, 5);
    let key_pem = ctx.keys.server_pem()?;
    let options = StartOptions {
        backend: nanochat::crypto::RsaBackend::default_of_build(),
        max_members: 100,
        shipped_rate_limits: false,
    };
    let target = Target::start(&ctx.spec, &options, &key_pem).await?;
    // One key each, plus one for each rotation (every client rotates at
    // most once, so every key_changed event is told apart by fingerprint).
    let all_keys: Vec<PrivateKey> = ctx.keys.users(clients_n * 2)?.to_vec();
    let tag = crate::scenarios::throughput::short_tag();
    let names: Vec<String> = (0..clients_n).map(|i| format!("s{tag}-{i}")).collect();
    let connector = Connector::new(&target.url).await?;
    let users = client::provision(&target, &connector, &names, &all_keys[..clients_n]).await?;
    let public: Arc<std::sync::Mutex<HashMap<String, PublicKey>>> =
        Arc::new(std::sync::Mutex::new(
            names
                .iter()
                .zip(&all_keys)
                .map(|(n, k)| (n.clone(), k.public_key().clone()))
                .collect(),
        ));
    let ledger = Arc::new(Mutex::new(Ledger {
        received: vec![Vec::new(); clients_n],
        attached: vec![Vec::new(); clients_n],
        names: names.clone(),
        ..Ledger::default()
    }));

    // Every client's socket, in its own task; a new key reopens it.
    let mut reopeners = Vec::new();
    let mut socket_tasks = Vec::new();
    for (index, user) in users.iter().enumerate() {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        socket_tasks.push(tokio::spawn(socket_task(
            index,
            connector.clone(),
            user.name.clone(),
            user.key.clone(),
            ledger.clone(),
            rx,
            ready_tx,
        )));
        ready_rx
            .await
            .context("a socket task ended before opening")??;
        reopeners.push(tx);
    }
    let mut clients: Vec<Client> = users
        .into_iter()
        .enumerate()
        .map(|(index, user)| Client {
            index,
            session: user.session,
            key: user.key,
            rooms: Vec::new(),
            messages: Vec::new(),
            rng: 0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d),
        })
        .collect();
    let members: Arc<std::sync::Mutex<HashMap<Uuid, Vec<usize>>>> = Arc::default();

    let started = Instant::now();
    let mut rss = vec![(0.0, target.rss_kib())];
    let per_phase = ops_n.div_ceil(phases);
    let mut done_ops = 0usize;
    let mut rotations = 0usize;
    for phase in 0..phases {
        let count = per_phase.min(ops_n - done_ops);
        done_ops += count;
        let mut tasks = tokio::task::JoinSet::new();
        for mut c in clients.drain(..) {
            let (ledger, members, public) = (ledger.clone(), members.clone(), public.clone());
            let n = clients_n;
            tasks.spawn(async move {
                for _ in 0..count {
                    one_op(&mut c, n, &ledger, &members, &public).await;
                }
                c
            });
        }
        while let Some(c) = tasks.join_next().await {
            clients.push(c?);
        }
        clients.sort_by_key(|c| c.index);
        settle(&ledger, Duration::from_secs(20)).await;
        rss.push((started.elapsed().as_secs_f64(), target.rss_kib()));
        eprintln!(
            "  phase {}/{phases}: {done_ops} ops per client, server RSS {} KiB",
            phase + 1,
            target.rss_kib().unwrap_or(0)
        );
        if phase + 1 == phases {
            break;
        }
        // Rotations, one at a time with nothing else going on: a fifth of
        // the clients each time, every client at most once.
        for c in clients.iter_mut().filter(|c| c.index % 5 == phase % 5) {
            let new_key = all_keys[clients_n + c.index].clone();
            rotate(c, new_key, &ledger, &public, &reopeners[c.index]).await?;
            rotations += 1;
        }
        settle(&ledger, Duration::from_secs(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Closing the channels ends the socket tasks.
    drop(reopeners);
    for task in socket_tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    let ledger = Arc::try_unwrap(ledger)
        .map_err(|_| anyhow::anyhow!("socket tasks still hold the ledger"))?
        .into_inner();
    let report = check(&ledger);

    let mut table = Table::new(
        "Soak: mixed operations, every member on a WebSocket",
        &[
            "clients",
            "ops each",
            "ops",
            "rotations",
            "events",
            "certain",
            "lost",
            "dup",
            "order",
            "disorder",
            "misdelivered",
            "errors",
            "s",
        ],
    );
    table.row(vec![
        clients_n.to_string(),
        ops_n.to_string(),
        ledger.ops.len().to_string(),
        rotations.to_string(),
        report.received.to_string(),
        report.certain.to_string(),
        report.lost.len().to_string(),
        report.duplicated.len().to_string(),
        report.out_of_order.len().to_string(),
        report.disordered.len().to_string(),
        report.misdelivered.len().to_string(),
        ledger.errors.len().to_string(),
        f(elapsed, 1),
    ]);
    table.print();
    let rss_line: Vec<String> = rss
        .iter()
        .map(|(t, kib)| {
            format!(
                "{:.0}s:{}",
                t,
                kib.map_or("?".into(), |k| format!("{:.1}MiB", k as f64 / 1024.0))
            )
        })
        .collect();
    println!(
        "\nserver RSS at each phase boundary: {}",
        rss_line.join(" ")
    );
    let problems: Vec<String> = report
        .lost
        .iter()
        .chain(&report.duplicated)
        .chain(&report.out_of_order)
        .chain(&report.disordered)
        .chain(&report.misdelivered)
        .chain(&ledger.errors)
        .cloned()
        .collect();
    for p in problems.iter().take(20) {
        println!("  PROBLEM: {p}");
    }
    let first = rss.get(1).and_then(|r| r.1).unwrap_or(0) as f64;
    let last = rss.last().and_then(|r| r.1).unwrap_or(0) as f64;
    let growth = if first > 0.0 { last / first } else { 0.0 };
    write_json(
        &ctx.cli.out,
        "soak",
        &json!({
            "clients": clients_n,
            "ops_per_client": ops_n,
            "ops": ledger.ops.len(),
            "rotations": rotations,
            "events_received": report.received,
            "events_certain": report.certain,
            "lost": report.lost.len(),
            "duplicated": report.duplicated.len(),
            "out_of_order": report.out_of_order.len(),
            "disordered": report.disordered.len(),
            "misdelivered": report.misdelivered.len(),
            "errors": ledger.errors,
            "seconds": elapsed,
            "rss_kib": rss.iter().map(|(t, k)| json!({"t": t, "kib": k})).collect::<Vec<_>>(),
            "rss_growth_after_first_phase": growth,
        }),
    )?;
    ctx.verdict(
        "soak: 200 clients x 500 ops, zero lost, duplicated or out-of-order events",
        format!(
            "{clients_n} x {ops_n}: {} events ({} certain), {} problems",
            report.received,
            report.certain,
            problems.len()
        ),
        Some(clients_n >= 200 && ops_n >= 500 && problems.is_empty()),
    );
    ctx.verdict(
        "soak: flat memory (RSS at the end within 1.5x of the first phase's)",
        format!(
            "{:.1} -> {:.1} MiB ({growth:.2}x)",
            first / 1024.0,
            last / 1024.0
        ),
        Some(growth > 0.0 && growth < 1.5),
    );
    if !problems.is_empty() {
        anyhow::bail!("{} problems in the soak", problems.len());
    }
    Ok(())
}

/// A small xorshift: the soak's choices, reproducible per client.
fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}

/// One random operation of `c`.
async fn one_op(
    c: &mut Client,
    n: usize,
    ledger: &Mutex<Ledger>,
    members: &Members,
    public: &PublicKeys,
) {
    // Rooms others added this client to since its last operation.
    {
        let joined = members.lock().expect("members");
        c.rooms = joined
            .iter()
            .filter(|(_, m)| m.contains(&c.index))
            .map(|(id, _)| *id)
            .collect();
        c.rooms.sort();
    }
    let roll = next(&mut c.rng) % 100;
    let result = if c.rooms.is_empty() || (45..60).contains(&roll) {
        create(c, n, ledger, members, public).await
    } else if roll < 45 || c.messages.is_empty() && roll < 85 {
        let room = c.rooms[(next(&mut c.rng) % c.rooms.len() as u64) as usize];
        send(c, room, ledger, members, public).await
    } else if roll < 75 {
        let i = (next(&mut c.rng) % c.messages.len() as u64) as usize;
        let (room, _) = c.messages[i];
        edit(c, i, room, ledger, members, public).await
    } else if roll < 85 {
        let i = (next(&mut c.rng) % c.messages.len() as u64) as usize;
        delete(c, i, ledger).await
    } else {
        let room = c.rooms[(next(&mut c.rng) % c.rooms.len() as u64) as usize];
        leave(c, room, ledger, members).await
    };
    if let Err(e) = result {
        ledger
            .lock()
            .await
            .errors
            .push(format!("client {}: {e:#}", c.index));
    }
}

fn readers_of(
    room: Uuid,
    members: &Members,
    public: &PublicKeys,
    names: &[String],
) -> Vec<nanochat::client::names::Reader> {
    let list = members
        .lock()
        .expect("members")
        .get(&room)
        .cloned()
        .unwrap_or_default();
    let keys = public.lock().expect("public keys");
    list.iter()
        .map(|&m| nanochat::client::names::Reader {
            username: names[m].clone(),
            key: keys[&names[m]].clone(),
            key_index: None,
        })
        .collect()
}

async fn names_of(ledger: &Mutex<Ledger>) -> Vec<String> {
    ledger.lock().await.names.clone()
}

async fn create(
    c: &mut Client,
    n: usize,
    ledger: &Mutex<Ledger>,
    members: &Members,
    _public: &PublicKeys,
) -> anyhow::Result<()> {
    let names = names_of(ledger).await;
    let others_n = 1 + next(&mut c.rng) % 3;
    let mut others: Vec<usize> = Vec::new();
    while others.len() < others_n as usize && n > 1 {
        let o = (next(&mut c.rng) % n as u64) as usize;
        if o != c.index && !others.contains(&o) {
            others.push(o);
        }
    }
    let id = Uuid::new_v4();
    let sent = Instant::now();
    c.session
        .conversation_create(CreateConversation {
            id,
            name: None,
            members: others.iter().map(|&o| names[o].clone()).collect(),
        })
        .await
        .context("conversation.create")?;
    let acked = Instant::now();
    let mut all = others.clone();
    all.push(c.index);
    let mut l = ledger.lock().await;
    for &m in &all {
        l.memberships.insert(
            (id, m),
            Membership {
                joined: acked,
                left: None,
            },
        );
    }
    l.ops.push(Op {
        tag: Tag::Conversation(id),
        conversation: Some(id),
        actor: c.index,
        sent,
        acked,
    });
    drop(l);
    members.lock().expect("members").insert(id, all);
    c.rooms.push(id);
    Ok(())
}

/// Seals `text` as message `id` for the readers this process believes are
/// in `room` and sends it (a create, or an edit when `edit`). A concurrent
/// leave can make that list stale (`members_mismatch`); like any client,
/// this one then fetches the members and seals again. Returns when the
/// accepted attempt was sent and its content iv.
async fn seal_and_send(
    c: &mut Client,
    room: Uuid,
    id: Uuid,
    text: &str,
    edit: bool,
    (ledger, members, public): (&Mutex<Ledger>, &Members, &PublicKeys),
) -> anyhow::Result<(Instant, Vec<u8>)> {
    let names = names_of(ledger).await;
    let mut readers = readers_of(room, members, public, &names);
    for _ in 0..5 {
        let payload = messages::seal(&c.key, room, id, Some(text), None, &readers)?;
        let iv = payload.content_iv.to_vec();
        let sent = Instant::now();
        let result = if edit {
            c.session
                .message_update(messages::as_update(payload))
                .await
                .map(drop)
        } else {
            c.session.message_create(payload).await.map(drop)
        };
        match result {
            Ok(()) => return Ok((sent, iv)),
            Err(ClientError::Api(e)) if e.code == ErrorCode::MembersMismatch => {
                let current = c
                    .session
                    .conversation_get(BaseConversation { id: room })
                    .await
                    .context("conversation.get")?;
                readers = nanochat::client::names::member_keys(&current.members)?;
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(if edit {
                    "message.update"
                } else {
                    "message.create"
                }));
            }
        }
    }
    anyhow::bail!("the members of {room} kept changing")
}

async fn send(
    c: &mut Client,
    room: Uuid,
    ledger: &Mutex<Ledger>,
    members: &Members,
    public: &PublicKeys,
) -> anyhow::Result<()> {
    let id = Uuid::new_v4();
    let text = format!("soak {} {id}", c.index);
    let (sent, _) = seal_and_send(c, room, id, &text, false, (ledger, members, public)).await?;
    let acked = Instant::now();
    ledger.lock().await.ops.push(Op {
        tag: Tag::Created(id),
        conversation: Some(room),
        actor: c.index,
        sent,
        acked,
    });
    c.messages.push((room, id));
    Ok(())
}

async fn edit(
    c: &mut Client,
    i: usize,
    room: Uuid,
    ledger: &Mutex<Ledger>,
    members: &Members,
    public: &PublicKeys,
) -> anyhow::Result<()> {
    let (_, id) = c.messages[i];
    let text = format!("soak {} {id} edited {}", c.index, next(&mut c.rng));
    let (sent, iv) = seal_and_send(c, room, id, &text, true, (ledger, members, public)).await?;
    let acked = Instant::now();
    ledger.lock().await.ops.push(Op {
        tag: Tag::Updated(id, iv),
        conversation: Some(room),
        actor: c.index,
        sent,
        acked,
    });
    Ok(())
}

async fn delete(c: &mut Client, i: usize, ledger: &Mutex<Ledger>) -> anyhow::Result<()> {
    let (room, id) = c.messages.swap_remove(i);
    let sent = Instant::now();
    c.session
        .message_delete(BaseMessage {
            conversation_id: room,
            id,
        })
        .await
        .context("message.delete")?;
    let acked = Instant::now();
    ledger.lock().await.ops.push(Op {
        tag: Tag::Deleted(id),
        conversation: Some(room),
        actor: c.index,
        sent,
        acked,
    });
    Ok(())
}

async fn leave(
    c: &mut Client,
    room: Uuid,
    ledger: &Mutex<Ledger>,
    members: &Members,
) -> anyhow::Result<()> {
    // Others stop sealing for this client before it leaves, so no message
    // names a member who is gone by the time it arrives.
    if let Some(list) = members.lock().expect("members").get_mut(&room) {
        list.retain(|&m| m != c.index);
    }
    let sent = Instant::now();
    let result = c
        .session
        .conversation_leave(BaseConversation { id: room })
        .await
        .context("conversation.leave");
    let acked = Instant::now();
    c.rooms.retain(|r| *r != room);
    c.messages.retain(|(r, _)| *r != room);
    result?;
    let mut l = ledger.lock().await;
    if let Some(m) = l.memberships.get_mut(&(room, c.index)) {
        m.left = Some((sent, acked));
    }
    l.ops.push(Op {
        tag: Tag::Left(room, c.index),
        conversation: Some(room),
        actor: c.index,
        sent,
        acked,
    });
    Ok(())
}

/// Rotates `c` to `new_key`: its socket's span ends first, the server ends
/// the session, and the socket task reopens with the new key before this
/// returns.
async fn rotate(
    c: &mut Client,
    new_key: PrivateKey,
    ledger: &Mutex<Ledger>,
    public: &PublicKeys,
    reopen: &mpsc::UnboundedSender<(PrivateKey, oneshot::Sender<anyhow::Result<()>>)>,
) -> anyhow::Result<()> {
    let name = c.session.username().to_owned();
    let spki = new_key.public_key().to_spki_der().to_vec();
    // Both keys sign the succession to the next index of the history.
    let me = c
        .session
        .user_get(BaseUser {
            username: name.clone(),
        })
        .await
        .context("user.get (before a rotation)")?;
    let link = Succession::sign(&name, (me.key_index + 1) as u64, &c.key, &new_key)?;
    let sent = Instant::now();
    {
        let mut l = ledger.lock().await;
        if let Some(span) = l.attached[c.index].last_mut() {
            span.1 = Some(sent);
        }
    }
    c.session
        .user_update(UpdateUser {
            public_key: Some(spki.into()),
            succession_signature: Some(link.succession_signature.into()),
            public_key_signature: Some(link.public_key_signature.into()),
            ..Default::default()
        })
        .await
        .context("user.update (rotation)")?;
    let acked = Instant::now();
    c.session.set_signer(Some(new_key.clone()));
    c.key = new_key.clone();
    public
        .lock()
        .expect("public keys")
        .insert(name, new_key.public_key().clone());
    ledger.lock().await.ops.push(Op {
        tag: Tag::KeyChanged(c.index, new_key.fingerprint().to_string()),
        conversation: None,
        actor: c.index,
        sent,
        acked,
    });
    let (done_tx, done_rx) = oneshot::channel();
    reopen
        .send((new_key, done_tx))
        .map_err(|_| anyhow::anyhow!("the socket task of client {} is gone", c.index))?;
    done_rx.await.context("socket task")??;
    Ok(())
}

/// One client's socket: records every event; when the server ends the
/// session (a key change), waits for the new key and reopens.
async fn socket_task(
    index: usize,
    connector: Connector,
    name: String,
    key: PrivateKey,
    ledger: Arc<Mutex<Ledger>>,
    mut reopen: mpsc::UnboundedReceiver<(PrivateKey, oneshot::Sender<anyhow::Result<()>>)>,
    ready: oneshot::Sender<anyhow::Result<()>>,
) {
    let mut key = key;
    let mut ready = Some(ready);
    loop {
        let session = match connector.session(&name, &key) {
            Ok(s) => s,
            Err(e) => {
                if let Some(r) = ready.take() {
                    let _ = r.send(Err(e));
                }
                return;
            }
        };
        let socket = Socket::open(&session).await;
        let mut socket = match socket {
            Ok(s) => s,
            Err(e) => {
                if let Some(r) = ready.take() {
                    let _ = r.send(Err(anyhow::anyhow!("opening socket {index}: {e}")));
                }
                return;
            }
        };
        ledger.lock().await.attached[index].push((Instant::now(), None));
        if let Some(r) = ready.take() {
            let _ = r.send(Ok(()));
        }
        let ended = loop {
            tokio::select! {
                event = socket.next_event() => match event {
                    Ok(event) => {
                        let mut l = ledger.lock().await;
                        match tag_of(&event, index, &l.names) {
                            Some(tag) => l.received[index].push(tag),
                            None => l.errors.push(format!("client {index}: unexpected event {:?}", event_type(&event))),
                        }
                    }
                    Err(e) => break format!("{e}"),
                },
                command = reopen.recv() => match command {
                    Some((new_key, done)) => {
                        // The rotation's answer came before the close.
                        key = new_key;
                        ready = Some(done);
                        break String::new();
                    }
                    None => return,
                },
            }
        };
        drop(socket);
        if ready.is_none() {
            // Closed without a rotation: wait for one (the close may have
            // been the rotation racing this select), else report.
            let rotating = {
                let l = ledger.lock().await;
                l.attached[index].last().and_then(|s| s.1).is_some()
            };
            if !rotating {
                ledger.lock().await.errors.push(format!(
                    "client {index}: socket ended unexpectedly: {ended}"
                ));
            }
            match reopen.recv().await {
                Some((new_key, done)) => {
                    key = new_key;
                    ready = Some(done);
                }
                None => return,
            }
        }
    }
}

fn event_type(event: &Event) -> &'static str {
    event.event_type().as_str()
}

/// The operation an event stands for, as seen by user `me`.
fn tag_of(event: &Event, me: usize, names: &[String]) -> Option<Tag> {
    let index = |name: &str| names.iter().position(|n| n == name);
    Some(match event {
        Event::MessageCreated(m) => Tag::Created(m.id),
        Event::MessageUpdated(m) => Tag::Updated(m.id, m.content_iv.to_vec()),
        Event::MessageDeleted(m) => Tag::Deleted(m.id),
        Event::ConversationCreated(c) => Tag::Conversation(c.id),
        Event::ConversationLeft(l) => Tag::Left(l.conversation_id, index(&l.username)?),
        // The last member out gets the deletion instead.
        Event::ConversationDeleted(c) => Tag::Left(c.id, me),
        Event::UserKeyChanged(u) => Tag::KeyChanged(index(&u.username)?, u.fingerprint.clone()),
        // The soak never changes member lists.
        Event::ConversationUpdated(_) | Event::ConversationRemoved(_) => return None,
    })
}

/// Waits until no event arrived for a while (up to `within`).
async fn settle(ledger: &Mutex<Ledger>, within: Duration) {
    let deadline = Instant::now() + within;
    let mut last = usize::MAX;
    while Instant::now() < deadline {
        let now: usize = ledger.lock().await.received.iter().map(Vec::len).sum();
        if now == last {
            return;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[derive(Default)]
struct Report {
    received: usize,
    certain: usize,
    lost: Vec<String>,
    duplicated: Vec<String>,
    out_of_order: Vec<String>,
    disordered: Vec<String>,
    misdelivered: Vec<String>,
}

/// Whether `user` was certainly (`Some(true)`), possibly (`Some(false)`) or
/// never (`None`) meant to get the event of `op`.
fn meant_for(l: &Ledger, op: &Op, user: usize) -> Option<bool> {
    let attached = l.attached[user]
        .iter()
        .any(|(from, to)| *from <= op.sent && to.is_none_or(|t| t >= op.acked));
    let member_through = |conversation: Uuid, user: usize| -> Option<bool> {
        let m = l.memberships.get(&(conversation, user))?;
        if m.joined > op.acked {
            return None;
        }
        match m.left {
            Some((_, left_acked)) if left_acked < op.sent => None,
            Some((left_sent, _)) if left_sent < op.acked => Some(false),
            _ => Some(m.joined <= op.sent),
        }
    };
    let meant = match &op.tag {
        Tag::Conversation(id) => l.memberships.get(&(*id, user)).map(|_| true),
        Tag::Left(id, who) if *who == user => Some(true),
        Tag::Created(_) | Tag::Updated(..) | Tag::Deleted(_) | Tag::Left(..) => {
            member_through(op.conversation?, user)
        }
        Tag::KeyChanged(who, _) => {
            if *who == user {
                // Its own sessions end with the change.
                return Some(false);
            }
            let mut best = None;
            for (conversation, u) in l.memberships.keys() {
                if u == who {
                    match (
                        member_through(*conversation, *who),
                        member_through(*conversation, user),
                    ) {
                        (Some(true), Some(true)) => return Some(attached),
                        (Some(_), Some(_)) => best = Some(false),
                        _ => {}
                    }
                }
            }
            return best;
        }
    };
    meant.map(|certain| certain && attached)
}

fn check(l: &Ledger) -> Report {
    let mut report = Report::default();
    let by_tag: HashMap<&Tag, &Op> = l.ops.iter().map(|op| (&op.tag, op)).collect();
    let users = l.received.len();
    for user in 0..users {
        let got = &l.received[user];
        report.received += got.len();
        let mut seen = HashSet::new();
        let mut latest_sent: Option<(Instant, &Tag)> = None;
        for tag in got {
            if !seen.insert(tag) {
                report
                    .duplicated
                    .push(format!("client {user} got {tag:?} twice"));
            }
            let Some(op) = by_tag.get(tag) else {
                report.misdelivered.push(format!(
                    "client {user} got {tag:?}, which no answered operation caused"
                ));
                continue;
            };
            if meant_for(l, op, user).is_none() {
                report
                    .misdelivered
                    .push(format!("client {user} got {tag:?} without being a member"));
            }
            if let Some((sent, earlier)) = latest_sent
                && op.acked < sent
            {
                report.out_of_order.push(format!(
                    "client {user} got {tag:?} after {earlier:?}, though it was answered before that was sent"
                ));
            }
            if latest_sent.is_none_or(|(s, _)| op.sent > s) {
                latest_sent = Some((op.sent, tag));
            }
        }
        for op in &l.ops {
            if meant_for(l, op, user) == Some(true) {
                report.certain += 1;
                if !seen.contains(&op.tag) {
                    report.lost.push(format!(
                        "client {user} never got {:?} (by client {})",
                        op.tag, op.actor
                    ));
                }
            }
        }
    }
    // A conversation's events in one order for everyone.
    let mut per_conversation: HashMap<Uuid, Vec<(usize, Vec<&Tag>)>> = HashMap::new();
    for user in 0..users {
        let mut mine: HashMap<Uuid, Vec<&Tag>> = HashMap::new();
        for tag in &l.received[user] {
            if let Some(conversation) = by_tag.get(tag).and_then(|op| op.conversation) {
                mine.entry(conversation).or_default().push(tag);
            }
        }
        for (conversation, tags) in mine {
            per_conversation
                .entry(conversation)
                .or_default()
                .push((user, tags));
        }
    }
    for (conversation, lists) in per_conversation {
        for (i, (a, first)) in lists.iter().enumerate() {
            for (b, second) in &lists[i + 1..] {
                let common_a: HashSet<&&Tag> = first.iter().collect();
                let common: HashSet<&&Tag> =
                    second.iter().filter(|t| common_a.contains(t)).collect();
                let x: Vec<&&Tag> = first.iter().filter(|t| common.contains(t)).collect();
                let y: Vec<&&Tag> = second.iter().filter(|t| common.contains(t)).collect();
                if x != y {
                    report.disordered.push(format!(
                        "clients {a} and {b} saw the events of {conversation} in different orders"
                    ));
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two members of one conversation with sockets open from the start and
    /// two messages, the second sent after the first was answered.
    fn ledger() -> (Ledger, Tag, Tag) {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let room = Uuid::new_v4();
        let (first, second) = (Tag::Created(Uuid::new_v4()), Tag::Created(Uuid::new_v4()));
        let mut l = Ledger {
            received: vec![Vec::new(); 2],
            attached: vec![vec![(at(0), None)]; 2],
            names: vec!["a".into(), "b".into()],
            ..Ledger::default()
        };
        for user in 0..2 {
            l.memberships.insert(
                (room, user),
                Membership {
                    joined: at(1),
                    left: None,
                },
            );
        }
        for (tag, sent, acked) in [(&first, 10, 20), (&second, 30, 40)] {
            l.ops.push(Op {
                tag: tag.clone(),
                conversation: Some(room),
                actor: 0,
                sent: at(sent),
                acked: at(acked),
            });
        }
        (l, first, second)
    }

    #[test]
    fn a_clean_run_has_no_problems() {
        let (mut l, first, second) = ledger();
        l.received = vec![vec![first.clone(), second.clone()], vec![first, second]];
        let r = check(&l);
        assert_eq!((r.certain, r.received), (4, 4));
        assert!(r.lost.is_empty() && r.duplicated.is_empty() && r.out_of_order.is_empty());
        assert!(r.disordered.is_empty() && r.misdelivered.is_empty());
    }

    #[test]
    fn lost_duplicated_and_reordered_events_are_found() {
        let (mut l, first, second) = ledger();
        l.received = vec![
            vec![first.clone(), first.clone(), second.clone()],
            vec![second],
        ];
        let r = check(&l);
        assert_eq!(r.duplicated.len(), 1, "{:?}", r.duplicated);
        assert_eq!(r.lost.len(), 1, "{:?}", r.lost);
        let (mut l, first, second) = ledger();
        l.received = vec![vec![second.clone(), first.clone()], vec![first, second]];
        let r = check(&l);
        assert_eq!(r.out_of_order.len(), 1, "{:?}", r.out_of_order);
        assert_eq!(r.disordered.len(), 1, "{:?}", r.disordered);
    }

    #[test]
    fn events_for_non_members_and_after_leaving_are_misdelivered() {
        let (mut l, first, second) = ledger();
        let room = l.ops[0].conversation.unwrap();
        // b left before the second message was sent.
        let left_at = l.ops[0].acked + Duration::from_millis(2);
        l.memberships.get_mut(&(room, 1)).unwrap().left = Some((left_at, left_at));
        l.received = vec![vec![first.clone(), second.clone()], vec![first, second]];
        let r = check(&l);
        assert_eq!(r.misdelivered.len(), 1, "{:?}", r.misdelivered);
        assert!(r.lost.is_empty(), "{:?}", r.lost);
    }
}
