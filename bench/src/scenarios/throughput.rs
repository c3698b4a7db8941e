//! Scenario 1: N concurrent signed clients send pre-sealed `message.create`
//! in 2-member conversations, over `POST /encrypted` and over WebSocket
//! frames, against the in-process RSA bound (OAEP-decrypt + PSS-verify
//! pairs per second on all cores with the server's backend).

use std::sync::Arc;
use std::time::{Duration, Instant};

use nanochat::crypto::{RsaBackend, backend};
use serde_json::json;

use crate::client::{self, Connector, LightSocket, Sealed, User};
use crate::server::{StartOptions, Target};
use crate::stats::{Samples, Table, f, fo, random_bytes, write_json};
use crate::{Ctx, plot};

/// How requests reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `POST /encrypted`.
    Http,
    /// Frames on an authenticated WebSocket.
    Ws,
}

impl Transport {
    /// Its label.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Ws => "ws",
        }
    }
}

/// A sender with its conversation and the readers to seal for.
pub type Sender = (Arc<User>, uuid::Uuid, Vec<nanochat::client::names::Reader>);

/// What one closed-loop run measured.
#[derive(Debug, Default)]
pub struct LoopResult {
    /// Requests answered successfully.
    pub completed: usize,
    /// Wall time of the timed phase.
    pub elapsed: Duration,
    /// Per-request round trips (sealing excluded).
    pub latency: Samples,
    /// Server CPU seconds during the phase.
    pub cpu: Option<f64>,
    /// The bench's own CPU seconds during the phase (it shares the cores).
    pub client_cpu: Option<f64>,
    /// Whether a client ran out of pre-sealed requests before the end.
    pub exhausted: bool,
    /// Refused or failed requests, with the first error.
    pub errors: usize,
    /// The first error.
    pub first_error: Option<String>,
    /// When each message was acknowledged, by message id.
    pub acks: Vec<(uuid::Uuid, Instant, Instant)>,
}

impl LoopResult {
    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The bench's CPU milliseconds per request.
    pub fn client_cpu_ms_per_request(&self) -> Option<f64> {
        self.client_cpu
            .map(|c| c * 1000.0 / (self.completed.max(1)) as f64)
    }

    /// Server CPU milliseconds per request.
    pub fn cpu_ms_per_request(&self) -> Option<f64> {
        self.cpu
            .map(|c| c * 1000.0 / (self.completed.max(1)) as f64)
    }
}

/// Runs each client's pre-sealed queue one request at a time (closed loop)
/// until `duration` has passed or the queue is empty; samples server CPU
/// around it.
pub async fn closed_loop(
    target: &Target,
    clients: Vec<(Arc<User>, Vec<Sealed>, Option<LightSocket>)>,
    duration: Duration,
) -> LoopResult {
    let cpu0 = target.cpu_seconds();
    let own0 = crate::server::process_cpu_seconds("self");
    let start = Instant::now();
    let deadline = start + duration;
    let runs = clients
        .into_iter()
        .map(|(user, queue, mut socket)| async move {
            let mut out = LoopResult::default();
            let mut exhausted = true;
            for sealed in &queue {
                if Instant::now() >= deadline {
                    exhausted = false;
                    break;
                }
                let t = Instant::now();
                let answer = match socket.as_mut() {
                    Some(socket) => socket.request(&user.session, sealed).await,
                    None => client::send_http(&user.session, sealed).await,
                };
                match answer {
                    Ok(_) => {
                        let now = Instant::now();
                        out.latency.push(now - t);
                        out.completed += 1;
                        if let Some(id) = sealed.message_id {
                            out.acks.push((id, t, now));
                        }
                    }
                    Err(e) => {
                        out.errors += 1;
                        out.first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            out.exhausted = exhausted;
            out
        });
    let parts = futures_util::future::join_all(runs).await;
    let elapsed = start.elapsed();
    let cpu1 = target.cpu_seconds();
    let own1 = crate::server::process_cpu_seconds("self");
    let mut total = LoopResult {
        elapsed,
        cpu: cpu0.zip(cpu1).map(|(a, b)| b - a),
        client_cpu: own0.zip(own1).map(|(a, b)| b - a),
        ..LoopResult::default()
    };
    for part in parts {
        total.completed += part.completed;
        total.latency.0.extend(part.latency.0);
        total.exhausted |= part.exhausted;
        total.errors += part.errors;
        total.acks.extend(part.acks);
        if total.first_error.is_none() {
            total.first_error = part.first_error;
        }
    }
    total
}

/// OAEP-decrypt + PSS-verify pairs per second on all cores with `backend`,
/// 3072-bit (the RSA work every signed request costs the server).
pub fn rsa_bound(ctx: &mut Ctx, backend: RsaBackend, seconds: f64) -> anyhow::Result<f64> {
    let previous = backend::active();
    backend::select(backend);
    let key = ctx.keys.reparse(0);
    backend::select(previous);
    let key = key?;
    let public = key.public_key().clone();
    let ciphertext = public.encrypt_oaep(&random_bytes(32))?;
    let message = random_bytes(1024);
    let signature = key.sign_pss(&message)?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let counts = crate::stats::par_map((0..threads).collect(), |_| {
        let mut n = 0u64;
        while Instant::now() < deadline {
            key.decrypt_oaep(&ciphertext).expect("decrypts");
            public.verify_pss(&message, &signature).expect("verifies");
            n += 1;
        }
        n
    });
    Ok(counts.iter().sum::<u64>() as f64 / start.elapsed().as_secs_f64())
}

/// Users `sender-0..n` and `peer`, each sender in a conversation with the
/// peer; returns the senders with their readers.
pub async fn senders(ctx: &mut Ctx, target: &Target, n: usize) -> anyhow::Result<Vec<Sender>> {
    let connector = Connector::new(&target.url).await?;
    let tag = short_tag();
    let mut names: Vec<String> = (0..n).map(|i| format!("s{tag}-{i}")).collect();
    names.push(format!("p{tag}"));
    let keys = ctx.keys.users(n + 1)?.to_vec();
    let mut users = client::provision(target, &connector, &names, &keys).await?;
    let peer = users.pop().expect("the peer");
    let mut out = Vec::new();
    for user in users {
        let (conversation, readers) = client::conversation(&user, &[peer.name.as_str()]).await?;
        out.push((Arc::new(user), conversation, readers));
    }
    Ok(out)
}

/// A short random tag, so users are unique on an external server too.
pub fn short_tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..6].to_owned()
}

/// One point of the sweep: pre-seals about `estimate` requests per second
/// for the duration, opens sockets for WS, runs the closed loop.
pub async fn point(
    target: &Target,
    senders: &[Sender],
    n: usize,
    transport: Transport,
    duration: Duration,
    estimate: f64,
) -> anyhow::Result<LoopResult> {
    let per_client = ((estimate * duration.as_secs_f64() * 1.25) / n as f64).ceil() as usize + 8;
    let mut clients = Vec::new();
    for (user, conversation, readers) in senders.iter().take(n) {
        let queue = client::seal_messages(user, *conversation, readers, per_client)?;
        let socket = match transport {
            Transport::Http => None,
            Transport::Ws => Some(LightSocket::open(&user.session).await?),
        };
        clients.push((user.clone(), queue, socket));
    }
    // Warm the HTTP connection pool outside the timed phase.
    if transport == Transport::Http {
        let warm: Vec<_> = clients
            .iter_mut()
            .map(|(user, queue, _)| {
                let sealed = queue.pop().expect("a request");
                let session = &user.session;
                async move { client::send_http(session, &sealed).await }
            })
            .collect();
        for r in futures_util::future::join_all(warm).await {
            r?;
        }
    }
    Ok(closed_loop(target, clients, duration).await)
}

/// The scenario.
pub async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let sweep = if ctx.cli.clients.is_empty() {
        ctx.pick(vec![2], vec![1, 2, 4, 8, 16])
    } else {
        ctx.cli.clients.clone()
    };
    let duration = ctx.duration();
    let max_n = sweep.iter().copied().max().unwrap_or(1);
    let mut table = Table::new(
        "throughput: message.create, 2-member conversations, 3072-bit keys",
        &[
            "backend",
            "transport",
            "clients",
            "req/s",
            "p50 ms",
            "p99 ms",
            "bound/s",
            "of bound",
            "cpu ms/req",
            "bench cpu ms/req",
            "note",
        ],
    );
    let mut rows = Vec::new();
    let backends = if ctx.spec.url.is_some() {
        vec![backend::active()]
    } else {
        ctx.backends.clone()
    };
    for backend in backends {
        let bound = rsa_bound(ctx, backend, ctx.pick(1.0, 3.0))?;
        ctx.notes
            .insert(format!("bound_{}", backend.name()), json!(bound));
        let key_pem = ctx.keys.server_pem()?;
        let options = StartOptions {
            backend,
            max_members: 1000,
            shipped_rate_limits: false,
        };
        let target = Target::start(&ctx.spec, &options, &key_pem).await?;
        let label = target.backend_name();
        eprintln!("{label}: bound {bound:.0} pairs/s; provisioning {max_n} senders");
        let senders = senders(ctx, &target, max_n).await?;
        // --quick (CI, debug builds) seals fewer requests ahead.
        let cap = ctx.pick(400.0, f64::INFINITY);
        for transport in [Transport::Http, Transport::Ws] {
            let mut single: Option<f64> = None;
            let mut best: f64 = 0.0;
            for &n in &sweep {
                // Pre-seal about what this point can send: one client's
                // rate times n, never above the bound, and not far above
                // the best rate so far once the server saturates.
                let estimate = match single {
                    Some(one) => (one * n as f64 * 1.2)
                        .min(bound * 1.1)
                        .min(best * 2.0)
                        .max(best),
                    None => bound * 0.5,
                }
                .min(cap);
                eprintln!("  {label} {} {n} clients", transport.name());
                let r = point(&target, &senders, n, transport, duration, estimate).await?;
                if single.is_none() {
                    single = Some(r.rate() / n as f64);
                }
                best = best.max(r.rate());
                let mut note = Vec::new();
                if r.exhausted {
                    note.push("ran out of pre-sealed requests".to_owned());
                }
                if r.errors > 0 {
                    note.push(format!(
                        "{} errors: {}",
                        r.errors,
                        r.first_error.clone().unwrap_or_default()
                    ));
                }
                table.row(vec![
                    label.clone(),
                    transport.name().into(),
                    n.to_string(),
                    f(r.rate(), 0),
                    f(r.latency.pct(50.0), 2),
                    f(r.latency.pct(99.0), 2),
                    f(bound, 0),
                    f(r.rate() / bound, 2),
                    fo(r.cpu_ms_per_request(), 3),
                    fo(r.client_cpu_ms_per_request(), 3),
                    note.join("; "),
                ]);
                rows.push(json!({
                    "backend": label,
                    "transport": transport.name(),
                    "clients": n,
                    "requests": r.completed,
                    "seconds": r.elapsed.as_secs_f64(),
                    "requests_per_second": r.rate(),
                    "latency": r.latency.json(),
                    "bound_pairs_per_second": bound,
                    "fraction_of_bound": r.rate() / bound,
                    "server_cpu_seconds": r.cpu,
                    "server_cpu_ms_per_request": r.cpu_ms_per_request(),
                    "bench_cpu_ms_per_request": r.client_cpu_ms_per_request(),
                    "exhausted": r.exhausted,
                    "errors": r.errors,
                    "first_error": r.first_error,
                }));
            }
        }
    }
    table.print();
    let result = json!({
        "scenario": "throughput",
        "duration_seconds": duration.as_secs_f64(),
        "quick": ctx.cli.quick,
        "rows": rows,
    });
    write_json(&ctx.cli.out, "throughput", &result)?;
    plot::throughput(&ctx.cli.out, &rows)?;
    // Targets: the best point of each backend and transport.
    let best = |backend: &str, transport: &str| {
        rows.iter()
            .filter(|r| r["backend"] == backend && r["transport"] == transport)
            .max_by(|a, b| {
                a["requests_per_second"]
                    .as_f64()
                    .unwrap_or(0.0)
                    .total_cmp(&b["requests_per_second"].as_f64().unwrap_or(0.0))
            })
            .cloned()
    };
    let labels: Vec<String> = {
        let mut l: Vec<String> = rows
            .iter()
            .filter_map(|r| r["backend"].as_str().map(str::to_owned))
            .collect();
        l.dedup();
        l
    };
    // Issue 27's targets, for the aws-lc backend (rustcrypto's rate is its
    // RSA: reported, not judged).
    for label in labels.iter().filter(|l| *l == "aws-lc") {
        for transport in ["http", "ws"] {
            if let Some(row) = best(label, transport) {
                let fraction = row["fraction_of_bound"].as_f64().unwrap_or(0.0);
                ctx.verdict(
                    &format!("throughput >= 0.45 of the RSA bound ({label}, {transport})"),
                    format!(
                        "{:.0} req/s with {} clients = {fraction:.2} of {:.0} pairs/s",
                        row["requests_per_second"].as_f64().unwrap_or(0.0),
                        row["clients"],
                        row["bound_pairs_per_second"].as_f64().unwrap_or(0.0)
                    ),
                    Some(fraction >= 0.45),
                );
                let cpu = row["server_cpu_ms_per_request"].as_f64();
                ctx.verdict(
                    &format!("<= 1.4 ms server CPU per request ({label}, {transport})"),
                    format!("{} ms at {} clients", fo(cpu, 3), row["clients"]),
                    cpu.map(|c| c <= 1.4),
                );
            }
            let sixteen = rows.iter().find(|r| {
                r["backend"] == label.as_str() && r["transport"] == transport && r["clients"] == 16
            });
            if let Some(row) = sixteen {
                let p99 = row["latency"]["p99_ms"].as_f64();
                ctx.verdict(
                    &format!("p99 <= 25 ms at 16 clients ({label}, {transport})"),
                    format!("{} ms", fo(p99, 2)),
                    p99.map(|p| p <= 25.0),
                );
            }
        }
    }
    Ok(())
}
