//! Replays cases against a server: provisions fresh users, seals every
//! exchange afresh against the target's key (fresh `request_id`,
//! `created_at` now, unless a tamper says otherwise), applies the tamper,
//! and checks what comes back.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::FutureExt as _;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use nanochat::bodies::{Event, Request};
use nanochat::client::exchange::{self, Draft, RateLimitBackoff, Reply, Signer};
use nanochat::client::names;
use nanochat::client::raw_socket::Stream;
use nanochat::client::{ClientError, RawSocket, Session, Socket};
use nanochat::crypto::{self, PrivateKey};
use nanochat::models::{CompleteUser, EncryptedBody, Error};
use nanochat::wire::Secret;

use crate::case::{Case, EventExpectation, Expectation, Step, Tamper};
use crate::late_events::{Allowance, Writes};
use crate::provision::Provisioner;
use crate::template::{Vars, at};

/// How long an expected event may take.
const EVENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long "no event" is watched for.
const QUIET_PERIOD: Duration = Duration::from_millis(800);

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every expectation held.
    Pass,
    /// An expectation failed: what and where.
    Fail(String),
    /// Not run (SHOULD case without `--strict`).
    Skip(String),
    /// Users could not be provisioned or completed: the server was not
    /// judged.
    SetupError(String),
}

impl Verdict {
    /// PASS, FAIL, SKIP or SETUP-ERROR.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail(_) => "FAIL",
            Verdict::Skip(_) => "SKIP",
            Verdict::SetupError(_) => "SETUP-ERROR",
        }
    }
}

/// One exchange as the report shows it: no keys, no plaintext secrets, byte
/// fields reduced to their length.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Exchange {
    /// Step number, from 1.
    pub step: usize,
    /// The logical actor.
    pub actor: String,
    /// What was done (`message.create`, `open_socket`, `event`).
    pub action: String,
    /// The tampers applied.
    pub tamper: Vec<String>,
    /// The payload sent, redacted.
    pub sent: Value,
    /// What came back, redacted.
    pub received: Value,
}

/// One case's result.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// Its verdict.
    pub verdict: Verdict,
    /// The exchanges made, redacted.
    pub transcript: Vec<Exchange>,
    /// How long it took.
    pub duration: Duration,
}

/// What one exchange returned.
enum Outcome {
    /// A decrypted success payload.
    Ok(Value),
    /// An encrypted error.
    Error(Error),
    /// A plain error with its HTTP status.
    Plain(u16, Error),
}

/// A user taking part in a case.
struct Actor {
    /// The user's name in the case (`alice`), not the provisioned username.
    name: String,
    key: PrivateKey,
    session: Session,
    /// The server this user talks to (one of several instances).
    url: String,
}

/// Runs `case` against `servers` (several instances of one deployment:
/// the case's users are dealt out to them in turn, so that what one user
/// does reaches the others through another instance), provisioning users
/// named `{prefix}{name}`.
pub async fn run_case(
    servers: &[String],
    provisioner: &dyn Provisioner,
    case: &Case,
    prefix: &str,
) -> CaseResult {
    let started = Instant::now();
    let mut transcript = Vec::new();
    let missing_hook = case
        .steps
        .iter()
        .filter_map(|s| s.operator)
        .find(|action| !provisioner.can(*action));
    if let Some(action) = missing_hook {
        return CaseResult {
            case: case.clone(),
            verdict: Verdict::Skip(format!(
                "the case needs the operator to {action:?} a user (pass --reset-cmd and --delete-cmd)"
            )),
            transcript,
            duration: started.elapsed(),
        };
    }
    let verdict = match setup(servers, provisioner, case, prefix).await {
        Err(why) => Verdict::SetupError(why),
        Ok(None) => Verdict::Skip(
            "the provisioner cannot make expired tokens (pass --provision-expired-cmd, \
             or `expired` lines in --users)"
                .into(),
        ),
        Ok(Some((actors, vars))) => {
            match play(case, provisioner, &actors, vars, &mut transcript).await {
                Ok(()) => Verdict::Pass,
                Err(why) => Verdict::Fail(why),
            }
        }
    };
    CaseResult {
        case: case.clone(),
        verdict,
        transcript,
        duration: started.elapsed(),
    }
}

/// Creates and completes the case's users, and creates its pending ones;
/// `None` when the case needs expired tokens the provisioner cannot make.
async fn setup(
    servers: &[String],
    provisioner: &dyn Provisioner,
    case: &Case,
    prefix: &str,
) -> Result<Option<(HashMap<String, Actor>, Vars)>, String> {
    if servers.is_empty() {
        return Err("no server to run against".into());
    }
    let mut vars = Vars::default();
    let mut actors = HashMap::new();
    let mut dealt = servers.iter().cycle().cloned();
    for name in &case.users {
        let url = dealt.next().unwrap_or_default();
        let (username, token) = provisioner.create(&format!("{prefix}{name}")).await?;
        let key = fixture(name)?;
        let session = Session::connect(&url, &username, Some(key.clone()))
            .await
            .map_err(|e| format!("connecting as {username}: {e}"))?;
        nanochat::client::Bodies::user_complete(
            &session,
            CompleteUser {
                token: Secret::new(token),
                display_name: name.clone(),
                public_key: key.public_key().to_spki_der().to_vec().into(),
                private_key: None,
                sync_password: None,
            },
        )
        .await
        .map_err(|e| format!("completing {username}: {e}"))?;
        vars.users.insert(name.clone(), username);
        actors.insert(
            name.clone(),
            Actor {
                name: name.clone(),
                key,
                session,
                url,
            },
        );
    }
    let mut pending = Vec::new();
    for name in &case.pending {
        pending.push((name, provisioner.create(&format!("{prefix}{name}")).await?));
    }
    for name in &case.expired {
        match provisioner
            .create_expired(&format!("{prefix}{name}"))
            .await?
        {
            Some(user) => pending.push((name, user)),
            None => return Ok(None),
        }
    }
    for (name, (username, token)) in pending {
        let key = fixture(name)?;
        let url = dealt.next().unwrap_or_default();
        let session = Session::connect(&url, &username, Some(key.clone()))
            .await
            .map_err(|e| format!("connecting as {username}: {e}"))?;
        vars.users.insert(name.clone(), username);
        vars.tokens.insert(name.clone(), token);
        actors.insert(
            name.clone(),
            Actor {
                name: name.clone(),
                key,
                session,
                url,
            },
        );
    }
    // Users who rotated act under their new key: one more session each.
    for step in case.steps.iter() {
        let Some(key_name) = &step.key else { continue };
        let rekeyed = rekeyed_name(&step.actor, key_name);
        if actors.contains_key(&rekeyed) {
            continue;
        }
        let (url, username) = match (actors.get(&step.actor), vars.users.get(&step.actor)) {
            (Some(actor), Some(username)) => (actor.url.clone(), username.clone()),
            _ => {
                return Err(format!(
                    "key: {key_name} for an unknown user {:?}",
                    step.actor
                ));
            }
        };
        let key = fixture(key_name)?;
        let session = Session::connect(&url, &username, Some(key.clone()))
            .await
            .map_err(|e| format!("connecting as {username} with key {key_name}: {e}"))?;
        actors.insert(
            rekeyed,
            Actor {
                name: step.actor.clone(),
                key,
                session,
                url,
            },
        );
    }
    // The limits the server announces, as `${limits.NAME}` (with `+N` or
    // `-N` for the values beside them), so limit cases fit any server.
    if let Some(actor) = actors.values().next()
        && let Ok(Value::Object(limits)) = serde_json::to_value(actor.session.limits())
    {
        for (name, value) in limits {
            vars.captured.insert(format!("limits.{name}"), value);
        }
    }
    Ok(Some((actors, vars)))
}

/// The actors' map key of `actor` signing with fixture key `key`.
fn rekeyed_name(actor: &str, key: &str) -> String {
    format!("{actor} with key {key}")
}

fn fixture(name: &str) -> Result<PrivateKey, String> {
    let pem =
        crate::fixture_key_pem(name).ok_or_else(|| format!("no fixture key for user {name:?}"))?;
    PrivateKey::from_pkcs8_pem(pem).map_err(|e| format!("fixture key {name}: {e}"))
}

async fn play(
    case: &Case,
    provisioner: &dyn Provisioner,
    actors: &HashMap<String, Actor>,
    mut vars: Vars,
    transcript: &mut Vec<Exchange>,
) -> Result<(), String> {
    let mut sockets: HashMap<String, (Socket<'_>, Allowance)> = HashMap::new();
    let mut writes = Writes::default();
    let mut last_ids: HashMap<String, Uuid> = HashMap::new();
    for (index, step) in case.steps.iter().enumerate() {
        let n = index + 1;
        let acting = match &step.key {
            Some(key) => rekeyed_name(&step.actor, key),
            None => step.actor.clone(),
        };
        let actor = actors
            .get(&acting)
            .ok_or_else(|| format!("step {n}: no user {:?} in this case", step.actor))?;
        let fail = |why: String| format!("step {n} ({}): {why}", describe(step));
        if step.open_socket {
            let socket = Socket::open(&actor.session)
                .await
                .map_err(|e| fail(format!("session.open was refused: {e}")))?;
            sockets.insert(
                step.actor.clone(),
                (socket, Allowance::opened_after(&writes)),
            );
            transcript.push(Exchange {
                step: n,
                actor: step.actor.clone(),
                action: "open_socket".into(),
                tamper: Vec::new(),
                sent: Value::Null,
                received: json!("opened"),
            });
            continue;
        }
        let first_frame = match (&step.first_frame, &step.first_frame_text) {
            (Some(body_type), _) => Some(FirstFrame::Signed(body_type)),
            (None, Some(text)) => Some(FirstFrame::Text(text)),
            (None, None) => None,
        };
        if let Some(frame) = first_frame {
            let body_type = match frame {
                FirstFrame::Signed(t) => t,
                FirstFrame::Text(_) => "text",
            };
            let (outcome, received) = wrong_first_frame(actor, frame, step).await.map_err(fail)?;
            transcript.push(Exchange {
                step: n,
                actor: step.actor.clone(),
                action: format!("first frame {body_type}"),
                tamper: step.tamper.iter().map(tamper_name).collect(),
                sent: Value::Null,
                received,
            });
            // api.yml, WebSocket: a refused `session.open` gets its
            // encrypted error; any other first frame a plain one.
            match (&outcome, body_type == "session.open") {
                (Outcome::Plain(..), true) => {
                    return Err(fail(
                        "a refused session.open must get its encrypted error, not a plain one"
                            .into(),
                    ));
                }
                (Outcome::Error(_) | Outcome::Ok(_), false) => {
                    return Err(fail(
                        "a first frame that is not session.open must get a plain Error frame"
                            .into(),
                    ));
                }
                _ => {}
            }
            let expected = step.expect.clone().unwrap_or_default();
            check(&outcome, &expected, &mut vars).map_err(fail)?;
            continue;
        }
        let socket_test = if step.cut_frame {
            Some(("cut frame", cut_frame(actor).boxed()))
        } else if let Some(seconds) = step.ping_within {
            Some(("ping", ping_within(actor, seconds).boxed()))
        } else if let Some(seconds) = step.closed_if_silent {
            Some(("silent socket", closed_if_silent(actor, seconds).boxed()))
        } else if let Some(seconds) = step.closed_if_stalled {
            Some(("stalled frame", closed_if_stalled(actor, seconds).boxed()))
        } else {
            step.flood
                .map(|count| ("flood", flood(actor, count).boxed()))
        };
        if let Some((action, test)) = socket_test {
            let received = test.await.map_err(fail)?;
            transcript.push(Exchange {
                step: n,
                actor: step.actor.clone(),
                action: action.into(),
                tamper: Vec::new(),
                sent: Value::Null,
                received,
            });
            continue;
        }
        if step.oversized_frame {
            let received = oversized_frame(actor).await.map_err(fail)?;
            transcript.push(Exchange {
                step: n,
                actor: step.actor.clone(),
                action: "oversized frame".into(),
                tamper: Vec::new(),
                sent: Value::Null,
                received,
            });
            continue;
        }
        if step.references {
            let references = actor
                .session
                .http()
                .get_references()
                .await
                .map_err(|e| fail(format!("GET /references failed: {e}")))?
                .into_inner();
            let value = serde_json::to_value(&references).map_err(|e| fail(e.to_string()))?;
            transcript.push(Exchange {
                step: n,
                actor: step.actor.clone(),
                action: "GET /references".into(),
                tamper: Vec::new(),
                sent: Value::Null,
                received: redact(&value),
            });
            announced_limits_fit(&references.limits).map_err(fail)?;
            let expected = step.expect.clone().unwrap_or_default();
            check(&Outcome::Ok(value), &expected, &mut vars).map_err(fail)?;
            continue;
        }
        if let Some(action) = step.operator {
            let username = vars
                .users
                .get(&step.actor)
                .ok_or_else(|| fail(format!("no user {:?}", step.actor)))?;
            provisioner
                .operate(action, username)
                .await
                .map_err(|e| fail(format!("the operator command failed: {e}")))?;
            writes.record_operator(username);
            transcript.push(Exchange {
                step: n,
                actor: step.actor.clone(),
                action: format!("operator {action:?}"),
                tamper: Vec::new(),
                sent: Value::Null,
                received: Value::Null,
            });
            continue;
        }
        if let Some(code) = step.closed {
            let (socket, _) = sockets
                .get_mut(&step.actor)
                .ok_or_else(|| fail("the actor has no open socket".into()))?;
            let received = expect_close(socket, code).await.map_err(fail)?;
            sockets.remove(&step.actor);
            transcript.push(Exchange {
                step: n,
                actor: step.actor.clone(),
                action: "closed".into(),
                tamper: Vec::new(),
                sent: Value::Null,
                received,
            });
            continue;
        }
        if let Some(expected) = &step.event {
            let (socket, allowance) = sockets
                .get_mut(&step.actor)
                .ok_or_else(|| fail("the actor has no open socket".into()))?;
            let received = expect_event(socket, allowance, expected, &mut vars)
                .await
                .map_err(fail)?;
            transcript.push(Exchange {
                step: n,
                actor: step.actor.clone(),
                action: "event".into(),
                tamper: Vec::new(),
                sent: Value::Null,
                received,
            });
            continue;
        }
        let body_type = step
            .send
            .as_deref()
            .ok_or_else(|| fail("a step needs send, open_socket or event".into()))?;
        let times = match &step.repeat {
            Some(template) => vars
                .fill(template)
                .map_err(fail)?
                .as_u64()
                .ok_or_else(|| fail("repeat is a number of times".into()))?,
            None => 1,
        };
        for _ in 0..times {
            let payload = match &step.payload {
                Some(template) => {
                    let filled = vars.fill(template).map_err(fail)?;
                    Some(expand(actor, actors, &vars, filled).await.map_err(fail)?)
                }
                None => None,
            };
            if let Some(name) = &step.sent_as {
                vars.captured
                    .insert(name.clone(), payload.clone().unwrap_or(Value::Null));
            }
            let outcome = if step.websocket {
                let (socket, _) = sockets
                    .get_mut(&step.actor)
                    .ok_or_else(|| fail("the actor has no open socket".into()))?;
                let request = Request::from_parts(body_type, payload.clone())
                    .map_err(|e| fail(format!("the payload does not fit {body_type}: {e}")))?;
                match socket.request(request).await {
                    Ok(value) => Outcome::Ok(value),
                    Err(ClientError::Api(e)) => Outcome::Error(e),
                    Err(e) => return Err(fail(format!("the socket failed: {e}"))),
                }
            } else {
                let previous = last_ids.get(&step.actor).copied();
                let (outcome, request_id) =
                    exchange(actor, body_type, payload.clone(), step, previous)
                        .await
                        .map_err(fail)?;
                if let Some(id) = request_id {
                    last_ids.insert(step.actor.clone(), id);
                }
                outcome
            };
            let received = redact_outcome(&outcome);
            transcript.push(Exchange {
                step: n,
                actor: step.actor.clone(),
                action: body_type.to_owned(),
                tamper: step.tamper.iter().map(tamper_name).collect(),
                sent: payload.as_ref().map(redact).unwrap_or(Value::Null),
                received,
            });
            if matches!(outcome, Outcome::Ok(_)) {
                let username = vars.users.get(&step.actor).map_or("", String::as_str);
                writes.record(body_type, username, payload.as_ref());
            }
            let expected = step.expect.clone().unwrap_or_default();
            check(&outcome, &expected, &mut vars).map_err(fail)?;
        }
    }
    Ok(())
}

/// api.yml, Limits: a server announces only limits under which a message
/// with a file of `max_file_bytes` fits in `max_body_bytes`.
fn announced_limits_fit(limits: &nanochat::models::Limits) -> Result<(), String> {
    let needed = 16.0 / 9.0
        * (limits.max_file_bytes as f64
            + limits.max_content_bytes as f64
            + 1024.0 * limits.max_members as f64)
        + 16384.0;
    if (limits.max_body_bytes as f64) < needed {
        return Err(format!(
            "the announced max_body_bytes {} is under 16/9 * (max_file_bytes + max_content_bytes + 1024 * max_members) + 16384 = {needed:.0}",
            limits.max_body_bytes
        ));
    }
    Ok(())
}

/// How long a socket may stay open after the change that must close it:
/// api.yml allows a second for a change made outside the serving process.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

/// Waits for `socket` to be closed with `code`, skipping events.
async fn expect_close(socket: &mut Socket<'_>, code: u16) -> Result<Value, String> {
    let ended = tokio::time::timeout(CLOSE_WITHIN, async {
        loop {
            match socket.next_event().await {
                Ok(_) => continue,
                Err(e) => return e,
            }
        }
    })
    .await
    .map_err(|_| {
        format!(
            "the socket was still open after {} s",
            CLOSE_WITHIN.as_secs()
        )
    })?;
    match ended {
        ClientError::SessionEnded { code: got, reason } if got == code => {
            Ok(json!({"closed": got, "reason": reason}))
        }
        ClientError::SessionEnded { code: got, reason } => Err(format!(
            "the socket closed with {got} ({reason}), expected {code}"
        )),
        other => Err(format!(
            "the socket ended without close code {code}: {other}"
        )),
    }
}

fn describe(step: &Step) -> String {
    if step.open_socket {
        format!("{} opens a socket", step.actor)
    } else if let Some(action) = step.operator {
        format!("the operator does {action:?} to {}", step.actor)
    } else if let Some(code) = step.closed {
        format!("{}'s socket closes with {code}", step.actor)
    } else if let Some(event) = &step.event {
        format!("{} waits for {}", step.actor, event.event_type)
    } else if let Some(body_type) = &step.first_frame {
        format!("{} opens a socket with {body_type} first", step.actor)
    } else if step.oversized_frame {
        format!("{} sends a frame over max_body_bytes", step.actor)
    } else if step.cut_frame {
        format!(
            "{} sends a frame header over twice max_body_bytes",
            step.actor
        )
    } else if let Some(seconds) = step.ping_within {
        format!("{} waits {seconds} s for a ping", step.actor)
    } else if let Some(seconds) = step.closed_if_silent {
        format!(
            "{} opens a socket and stays silent for {seconds} s",
            step.actor
        )
    } else if let Some(seconds) = step.closed_if_stalled {
        format!(
            "{} stalls in an oversized frame for {seconds} s",
            step.actor
        )
    } else if let Some(count) = step.flood {
        format!("{} sends up to {count} envelopes at once", step.actor)
    } else if step.references {
        format!("{} fetches /references", step.actor)
    } else if step.first_frame_text.is_some() {
        format!("{} opens a socket with a text first frame", step.actor)
    } else {
        format!(
            "{} sends {}",
            step.actor,
            step.send.as_deref().unwrap_or("?")
        )
    }
}

fn tamper_name(t: &Tamper) -> String {
    serde_json::to_value(t)
        .map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .unwrap_or_default()
}

/// Expands `$message` and `$name` directives into sealed payloads.
async fn expand(
    actor: &Actor,
    actors: &HashMap<String, Actor>,
    vars: &Vars,
    value: Value,
) -> Result<Value, String> {
    match value {
        Value::Object(map)
            if map.len() == 1 && map.keys().next().is_some_and(|k| k.starts_with('$')) =>
        {
            let (directive, args) = map.into_iter().next().expect("one entry");
            match directive.as_str() {
                "$message" => seal_message(actor, actors, vars, &args).await,
                "$name" => seal_name(actor, actors, vars, &args).await,
                "$rotation" => rotation(actor, vars, &args),
                other => Err(format!("unknown directive {other}")),
            }
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(k, Box::pin(expand(actor, actors, vars, v)).await?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other),
    }
}

/// The readers a directive seals for: the conversation's members with a
/// key (fetched by the actor), adjusted by `drop`, `add` and `duplicate`.
async fn readers(
    actor: &Actor,
    actors: &HashMap<String, Actor>,
    vars: &Vars,
    args: &Value,
) -> Result<(Uuid, Vec<names::Reader>), String> {
    let conversation: Uuid = args["conversation"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or("the directive needs conversation: <uuid>")?;
    let mut readers = match args.get("readers") {
        Some(Value::Array(names)) => names
            .iter()
            .map(|n| {
                let name = n.as_str().ok_or("readers are user names")?;
                let user = actors.get(name).ok_or(format!("no user {name}"))?;
                Ok(names::Reader {
                    username: vars.users[name].clone(),
                    key: user.key.public_key().clone(),
                    key_index: None,
                })
            })
            .collect::<Result<Vec<_>, String>>()?,
        _ => {
            let current = nanochat::client::Bodies::conversation_get(
                &actor.session,
                nanochat::models::BaseConversation { id: conversation },
            )
            .await
            .map_err(|e| format!("reading the members: {e}"))?;
            names::member_keys(&current.members).map_err(|e| e.to_string())?
        }
    };
    if let Some(Value::Array(dropped)) = args.get("drop") {
        for name in dropped.iter().filter_map(Value::as_str) {
            let username = vars.users.get(name).ok_or(format!("no user {name}"))?;
            readers.retain(|r| &r.username != username);
        }
    }
    if let Some(Value::Array(added)) = args.get("add") {
        for name in added.iter().filter_map(Value::as_str) {
            let user = actors.get(name).ok_or(format!("no user {name}"))?;
            readers.push(names::Reader {
                username: vars.users[name].clone(),
                key: user.key.public_key().clone(),
                key_index: None,
            });
        }
    }
    // `index_of: {NAME: N}` labels NAME's wrapped key as for key N of their
    // history (a stale or made-up index), the key itself unchanged.
    if let Some(Value::Object(indexes)) = args.get("index_of") {
        for (name, index) in indexes {
            let username = vars.users.get(name).ok_or(format!("no user {name}"))?;
            let index = index.as_i64().ok_or("index_of takes integers")?;
            let reader = readers
                .iter_mut()
                .find(|r| &r.username == username)
                .ok_or(format!("{name} is not a reader"))?;
            reader.key_index = Some(index);
        }
    }
    Ok((conversation, readers))
}

/// The key a directive signs with: `signer: NAME` (a fixture key), else
/// the actor's.
fn signer(actor: &Actor, args: &Value) -> Result<PrivateKey, String> {
    match args.get("signer").and_then(Value::as_str) {
        Some(name) => fixture(name),
        None => Ok(actor.key.clone()),
    }
}

async fn seal_message(
    actor: &Actor,
    actors: &HashMap<String, Actor>,
    vars: &Vars,
    args: &Value,
) -> Result<Value, String> {
    let (conversation, readers) = readers(actor, actors, vars, args).await?;
    let id: Uuid = match args.get("id") {
        Some(v) => v
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or("id is a uuid")?,
        None => Uuid::new_v4(),
    };
    let signer = signer(actor, args)?;
    let file = args.get("file_bytes").and_then(Value::as_u64).map(|n| {
        nanochat::client::messages::FileToSend {
            name: "file.bin".into(),
            media_type: None,
            bytes: (0..n).map(|i| (i % 251) as u8).collect(),
        }
    });
    let mut text = args.get("text").and_then(Value::as_str).map(str::to_owned);
    // `content_bytes: N`: pad the text so the content ciphertext is exactly
    // N bytes (the JSON `{"text":"..."}` and the 16-byte tag are the rest).
    let content_bytes = args.get("content_bytes").and_then(Value::as_u64);
    if let Some(n) = content_bytes {
        let overhead = r#"{"text":""}"#.len() as u64 + 16;
        let padding = usize::try_from(n.saturating_sub(overhead)).map_err(|e| e.to_string())?;
        text = Some("x".repeat(padding));
    }
    let duplicate = args
        .get("duplicate")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let resigner = signer.clone();
    let mut sealed = tokio::task::spawn_blocking(move || {
        nanochat::client::messages::seal(
            &signer,
            conversation,
            id,
            text.as_deref(),
            file.as_ref(),
            &readers,
        )
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("sealing the message: {e}"))?;
    if let Some(n) = content_bytes
        && sealed.content.len() as u64 != n
    {
        return Err(format!(
            "cannot seal content of exactly {n} bytes (got {})",
            sealed.content.len()
        ));
    }
    if let Some(name) = duplicate {
        let username = vars.users.get(&name).ok_or(format!("no user {name}"))?;
        let copy = sealed
            .keys
            .iter()
            .find(|k| &k.username == username)
            .cloned()
            .ok_or(format!("{name} has no key to duplicate"))?;
        sealed.keys.push(copy);
    }
    // `signature_version: 1|2`: sign under that version (1: the canonical
    // bytes, 2: the keyed bytes) and label it so; `label_version: N` then
    // changes the label only.
    if let Some(version) = args.get("signature_version").and_then(Value::as_i64) {
        if sealed.attachment.is_some() {
            return Err("signature_version is for messages without a file".into());
        }
        let under = match version {
            1 => crypto::SignatureVersion::V1,
            2 => crypto::SignatureVersion::Keyed(resigner.public_key().fingerprint()),
            other => return Err(format!("signature_version is 1 or 2, not {other}")),
        };
        let recipients: Vec<crypto::RecipientDigest> = sealed
            .keys
            .iter()
            .map(|k| crypto::RecipientDigest {
                username: k.username.clone(),
                key_digest: <sha2::Sha256 as sha2::Digest>::digest(&k.key).into(),
            })
            .collect();
        let iv: [u8; 12] = sealed
            .content_iv
            .as_ref()
            .try_into()
            .map_err(|_| "the content IV is not 12 bytes".to_owned())?;
        let bytes = crypto::message_signed_bytes_as(
            under,
            &conversation,
            &id,
            &iv,
            &sealed.content,
            None,
            &recipients,
        )
        .map_err(|e| e.to_string())?;
        sealed.signature = resigner.sign_pss(&bytes).map_err(|e| e.to_string())?.into();
        sealed.signature_version = Some(version as i32);
    }
    if let Some(label) = args.get("label_version").and_then(Value::as_i64) {
        sealed.signature_version = Some(label as i32);
    }
    serde_json::to_value(sealed).map_err(|e| e.to_string())
}

async fn seal_name(
    actor: &Actor,
    actors: &HashMap<String, Actor>,
    vars: &Vars,
    args: &Value,
) -> Result<Value, String> {
    let (conversation, readers) = readers(actor, actors, vars, args).await?;
    let sealed_for = match args.get("for").and_then(Value::as_str) {
        Some(id) => id.parse().map_err(|_| "for is a uuid".to_owned())?,
        None => conversation,
    };
    let revision = args["revision"]
        .as_i64()
        .ok_or("the name needs a revision")?;
    let text = args["text"]
        .as_str()
        .ok_or("the name needs a text")?
        .to_owned();
    let signer = signer(actor, args)?;
    let sealed = tokio::task::spawn_blocking(move || {
        names::seal(&signer, sealed_for, revision, &text, &readers)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("sealing the name: {e}"))?;
    serde_json::to_value(sealed).map_err(|e| e.to_string())
}

/// The `user.update` payload of a rotation of the actor's key to fixture
/// key `to` as key `index` (default 1) of their history: `public_key` and
/// both succession proofs (api.yml, "Key history"). `vouch_with: NAME`
/// signs the succession proof with another fixture key than the actor's
/// (a forged vouching); `omit: succession` or `omit: possession` leaves
/// one proof out.
fn rotation(actor: &Actor, vars: &Vars, args: &Value) -> Result<Value, String> {
    let to_name = args["to"]
        .as_str()
        .ok_or("a rotation needs to: <fixture key>")?;
    // A key outside the policy (weak, exp3) exists only as a public key:
    // its possession proof is signed by the actor's key instead, which a
    // server never looks at, as it refuses the key itself first.
    let (to_spki, to_key) = match crate::fixture_refused_spki(to_name) {
        Some(spki) => (
            STANDARD
                .decode(spki)
                .map_err(|e| format!("fixture {to_name}: {e}"))?,
            actor.key.clone(),
        ),
        None => {
            let key = fixture(to_name)?;
            (key.public_key().to_spki_der().to_vec(), key)
        }
    };
    let index = args.get("index").and_then(Value::as_u64).unwrap_or(1);
    let username = vars
        .users
        .get(&actor.name)
        .ok_or(format!("no user {}", actor.name))?;
    let bytes = nanochat::crypto::key_succession_bytes(
        username,
        index,
        actor.key.public_key().to_spki_der(),
        &to_spki,
    );
    let voucher = match args.get("vouch_with").and_then(Value::as_str) {
        Some(name) => fixture(name)?,
        None => actor.key.clone(),
    };
    // The proof of earlier versions of api.yml, which a server no longer
    // accepts: the new key signed the label `nanochat/v1 key rotation`,
    // the username and the new key (each 4-byte length-prefixed), naming
    // neither the index nor the previous key.
    let legacy_bytes = [
        b"nanochat/v1 key rotation",
        username.as_bytes(),
        &to_spki[..],
    ]
    .iter()
    .flat_map(|field| {
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        len.to_be_bytes().into_iter().chain(field.iter().copied())
    })
    .collect::<Vec<u8>>();
    let (succession_bytes, possession_bytes) = match args.get("legacy").and_then(Value::as_str) {
        Some("succession") => (&legacy_bytes, &bytes),
        Some("possession") => (&bytes, &legacy_bytes),
        Some(other) => return Err(format!("legacy is succession or possession, not {other}")),
        None => (&bytes, &bytes),
    };
    let succession = voucher
        .sign_pss(succession_bytes)
        .map_err(|e| e.to_string())?;
    let possession = to_key
        .sign_pss(possession_bytes)
        .map_err(|e| e.to_string())?;
    let b64 = |bytes: &[u8]| STANDARD.encode(bytes);
    let mut payload = json!({
        "public_key": b64(&to_spki),
        "succession_signature": b64(&succession),
        "public_key_signature": b64(&possession),
    });
    match args.get("omit").and_then(Value::as_str) {
        Some("succession") => {
            payload
                .as_object_mut()
                .map(|o| o.remove("succession_signature"));
        }
        Some("possession") => {
            payload
                .as_object_mut()
                .map(|o| o.remove("public_key_signature"));
        }
        Some(other) => return Err(format!("omit is succession or possession, not {other}")),
        None => {}
    }
    Ok(payload)
}

/// A request sealed and tampered with as its step says, ready to send:
/// the envelope's text, and what opening the answer needs.
struct Sealed {
    text: String,
    request: exchange::Sealed,
}

/// Seals, tampers, sends and opens one `POST /encrypted` exchange.
async fn exchange(
    actor: &Actor,
    body_type: &str,
    payload: Option<Value>,
    step: &Step,
    previous_request: Option<Uuid>,
) -> Result<(Outcome, Option<Uuid>), String> {
    let sealed = seal_step(actor, body_type, payload, step, previous_request)?;
    let request_id = sealed.request.body().request_id;
    // The suite is a fast client: when the server's per-address limit
    // refuses an envelope (before reading it), `post` waits and sends it
    // again, as a well-behaved client would.
    let reply = exchange::post(actor.session.http(), sealed.text)
        .await
        .map_err(|e| format!("the server did not answer: {e}"))?;
    let outcome = match reply {
        Reply::Plain(status, error) => Outcome::Plain(status, error),
        Reply::Unreadable(status, bytes) => {
            return Err(format!(
                "HTTP {status} without an Error body: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ));
        }
        Reply::Encrypted(answer) => open(&actor.session, &sealed.request, &answer)?,
    };
    Ok((outcome, request_id))
}

/// Builds the Body of `body_type` with `payload`, seals it to the server
/// (signed by the actor) and applies the step's tampers.
fn seal_step(
    actor: &Actor,
    body_type: &str,
    payload: Option<Value>,
    step: &Step,
    previous_request: Option<Uuid>,
) -> Result<Sealed, String> {
    let session = &actor.session;
    let payload = match payload {
        Some(Value::Object(map)) => Some(map),
        Some(other) => return Err(format!("a payload is an object, not {other}")),
        None => None,
    };
    let mut draft = Draft::of_type(session.username(), body_type, payload);
    let mut server_key = session.server_key().clone();
    let mut signer = Some(actor.key.clone());
    // A key the policy refuses (`weak`, `exp3`) cannot be a `PrivateKey`;
    // it signs through the `rsa` crate, so a case can offer such a key and
    // prove possession of it, breaking the key policy and nothing else.
    let mut refused_signer = None;
    let body = draft.body_mut();
    for tamper in &step.tamper {
        match tamper {
            Tamper::ReuseRequestId => {
                body.request_id = Some(previous_request.ok_or("no earlier request id to reuse")?);
            }
            Tamper::ShiftCreatedAt(seconds) => {
                body.created_at += time::Duration::seconds(*seconds);
            }
            Tamper::BodyType(t) => body.r#type = t.clone(),
            Tamper::SealTo(name) => server_key = fixture(name)?.public_key().clone(),
            Tamper::SignWith(name) => match crate::fixtures::FixtureKey::from_name(name) {
                Some(key) if !key.is_accepted() => {
                    refused_signer = Some(key);
                    signer = None;
                }
                _ => signer = Some(fixture(name)?),
            },
            Tamper::DropSignature => signer = None,
            _ => {}
        }
    }
    let created_at = body.created_at;
    let sign_refused = |message: &[u8]| match refused_signer {
        Some(key) => sign_with_refused_key(key, message),
        None => Err("no refused key to sign with".to_owned()),
    };
    // A refused key, once named, signs whatever else the tampers say.
    let sign = match (&refused_signer, &signer) {
        (Some(_), _) => Signer::External(&sign_refused),
        (None, Some(key)) => Signer::Key(key),
        (None, None) => Signer::Nobody,
    };
    let edit_body = |plain: &mut Value| -> Result<(), String> {
        for tamper in &step.tamper {
            if let Tamper::CreatedAtOffset(minutes) = tamper {
                let offset = time::UtcOffset::from_whole_seconds(minutes * 60)
                    .map_err(|e| format!("created_at_offset {minutes}: {e}"))?;
                let written = created_at
                    .to_offset(offset)
                    .format(&time::format_description::well_known::Rfc3339)
                    .map_err(|e| e.to_string())?;
                plain["created_at"] = json!(written);
            }
            if let Tamper::RemoveBodyField(field) = tamper {
                plain
                    .as_object_mut()
                    .and_then(|o| o.remove(field))
                    .ok_or(format!("the Body has no {field} to remove"))?;
            }
        }
        Ok(())
    };
    let mut request = draft
        .seal_edited(&server_key, sign, edit_body)
        .map_err(|e| e.to_string())?;
    let wire = request.wire_mut();
    let mut raw = None;
    for tamper in &step.tamper {
        match tamper {
            Tamper::FlipKey => flip(wire, "key", 0)?,
            Tamper::FlipIv => flip(wire, "iv", 0)?,
            Tamper::FlipData => flip(wire, "data", 0)?,
            Tamper::FlipTag => flip_last(wire, "data")?,
            Tamper::FlipSignature => flip(wire, "signature", 0)?,
            Tamper::Version(v) => wire["version"] = json!(v),
            Tamper::ExtraEnvelopeField => wire["extra"] = json!("unexpected"),
            Tamper::RawBody(text) => raw = Some(text.clone()),
            _ => {}
        }
    }
    if step.tamper.contains(&Tamper::PadOverBodyLimit) {
        let limit = usize::try_from(body_limit(session)?).map_err(|e| e.to_string())?;
        // `,"padding":""` is 13 bytes; the string fills the rest.
        let bare = wire.to_string().len() + 13;
        wire["padding"] = json!("x".repeat((limit + 1).saturating_sub(bare)));
    }
    let text = raw.unwrap_or_else(|| request.text());
    Ok(Sealed { text, request })
}

fn open(
    session: &Session,
    request: &exchange::Sealed,
    answer: &EncryptedBody,
) -> Result<Outcome, String> {
    match session.open_answer(request, answer) {
        Ok(value) => Ok(Outcome::Ok(value)),
        Err(ClientError::Api(e)) => Ok(Outcome::Error(e)),
        Err(e) => Err(format!("the response fails the client's checks: {e}")),
    }
}

/// RSA-PSS (SHA-256, salt 32) with a fixture key the key policy refuses.
fn sign_with_refused_key(
    key: crate::fixtures::FixtureKey,
    message: &[u8],
) -> Result<Vec<u8>, String> {
    use rsa::pkcs8::DecodePrivateKey as _;
    let body: String = key
        .pem()
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(body).map_err(|e| e.to_string())?;
    let private = rsa::PrivateKey::from_pkcs8_der(&der)
        .map_err(|e| format!("fixture key {}: {e}", key.name()))?;
    private
        .pss_sign_with_rng::<sha2::Sha256, _>(&mut crypto::OsRng, message)
        .map_err(|e| format!("signing with fixture key {}: {e}", key.name()))
}

fn flip(wire: &mut Value, field: &str, at_byte: usize) -> Result<(), String> {
    let mut bytes = decode(wire, field)?;
    let byte = bytes.get_mut(at_byte).ok_or(format!("{field} is empty"))?;
    *byte ^= 0x01;
    wire[field] = json!(STANDARD.encode(bytes));
    Ok(())
}

fn flip_last(wire: &mut Value, field: &str) -> Result<(), String> {
    let mut bytes = decode(wire, field)?;
    let last = bytes.last_mut().ok_or(format!("{field} is empty"))?;
    *last ^= 0x01;
    wire[field] = json!(STANDARD.encode(bytes));
    Ok(())
}

fn decode(wire: &Value, field: &str) -> Result<Vec<u8>, String> {
    let text = wire[field]
        .as_str()
        .ok_or(format!("the envelope has no {field} to tamper with"))?;
    STANDARD.decode(text).map_err(|e| e.to_string())
}

fn check(outcome: &Outcome, expected: &Expectation, vars: &mut Vars) -> Result<(), String> {
    match (outcome, &expected.error) {
        (Outcome::Ok(payload), None) => {
            if let Some(status) = expected.status {
                return Err(format!("expected HTTP {status}, got an encrypted success"));
            }
            check_payload(payload, expected, vars)
        }
        (Outcome::Ok(_), Some(code)) => Err(format!("expected error {code}, got success")),
        (Outcome::Error(e), Some(code)) if e.code.as_str() == code => {
            if let Some(status) = expected.status {
                return Err(format!(
                    "expected a plain HTTP {status} error, got an encrypted {code}"
                ));
            }
            Ok(())
        }
        (Outcome::Plain(status, e), Some(code)) if e.code.as_str() == code => {
            match expected.status {
                Some(want) if want != *status => {
                    Err(format!("expected HTTP {want}, got {status} ({code})"))
                }
                _ => Ok(()),
            }
        }
        (Outcome::Error(e), _) => Err(format!(
            "expected {}, got error {}: {}",
            expected.error.as_deref().unwrap_or("success"),
            e.code,
            e.message
        )),
        (Outcome::Plain(status, e), _) => Err(format!(
            "expected {}, got HTTP {status} {}: {}",
            expected.error.as_deref().unwrap_or("success"),
            e.code,
            e.message
        )),
    }
}

fn check_payload(payload: &Value, expected: &Expectation, vars: &mut Vars) -> Result<(), String> {
    for (path, template) in &expected.matches {
        let want = vars.fill(template)?;
        let got = at(payload, path).ok_or(format!("the answer has no {path}"))?;
        if *got != want {
            return Err(format!("{path} is {got}, expected {want}"));
        }
    }
    for (path, length) in &expected.lengths {
        let got = at(payload, path).ok_or(format!("the answer has no {path}"))?;
        let n = got
            .as_array()
            .map(Vec::len)
            .ok_or(format!("{path} is not a list"))?;
        if n != *length {
            return Err(format!("{path} has {n} entries, expected {length}"));
        }
    }
    for path in &expected.absent {
        if at(payload, path).is_some_and(|v| !v.is_null()) {
            return Err(format!("{path} is present, expected absent"));
        }
    }
    for (name, path) in &expected.capture {
        let value = at(payload, path).ok_or(format!("nothing at {path} to capture"))?;
        vars.captured.insert(name.clone(), value.clone());
    }
    Ok(())
}

async fn expect_event(
    socket: &mut Socket<'_>,
    allowance: &mut Allowance,
    expected: &EventExpectation,
    vars: &mut Vars,
) -> Result<Value, String> {
    // Late news of writes made before the socket opened is passed over
    // (api.yml: they may arrive, before any event of a later write).
    let mut passed_over = Vec::new();
    let quiet = expected.event_type == "none";
    let deadline = Instant::now() + if quiet { QUIET_PERIOD } else { EVENT_TIMEOUT };
    loop {
        let next = tokio::time::timeout_at(deadline.into(), socket.next_event()).await;
        let event: Event = match next {
            Err(_) if quiet => return Ok(json!({ "event": "none", "passed_over": passed_over })),
            Err(_) => {
                return Err(format!(
                    "no {} within {EVENT_TIMEOUT:?}",
                    expected.event_type
                ));
            }
            Ok(Err(e)) => return Err(format!("the socket failed: {e}")),
            Ok(Ok(event)) => event,
        };
        let kind = event.event_type().as_str();
        let payload = event.payload_json().map_err(|e| e.to_string())?;
        let verdict = if quiet {
            Err(format!("expected no event, got {kind}"))
        } else if kind != expected.event_type {
            Err(format!("expected {}, got {kind}", expected.event_type))
        } else {
            let expectation = Expectation {
                matches: expected.matches.clone(),
                ..Default::default()
            };
            check_payload(&payload, &expectation, vars)
        };
        match verdict {
            Ok(()) => {
                allowance.settle();
                return Ok(
                    json!({ "event": kind, "payload": redact(&payload), "passed_over": passed_over }),
                );
            }
            Err(_) if allowance.excuse(kind, &payload) => {
                passed_over.push(json!({ "event": kind, "payload": redact(&payload) }));
            }
            Err(why) => return Err(why),
        }
    }
}

fn redact_outcome(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Ok(payload) => json!({ "ok": redact(payload) }),
        Outcome::Error(e) => json!({ "error": e.code.as_str(), "message": e.message }),
        Outcome::Plain(status, e) => {
            json!({ "status": status, "error": e.code.as_str(), "message": e.message })
        }
    }
}

/// The transcript form of a payload: tokens and passwords hidden, long
/// base64 fields (keys, ciphertexts, signatures) reduced to their length.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let hidden = matches!(k.as_str(), "token" | "sync_password" | "password");
                    let v = if hidden {
                        json!("<redacted>")
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::String(s) if s.len() > 48 && STANDARD.decode(s).is_ok() => {
            json!(format!(
                "<{} bytes>",
                STANDARD.decode(s).map(|b| b.len()).unwrap_or(0)
            ))
        }
        other => other.clone(),
    }
}

/// Opens a WebSocket and sends a signed `body_type` request as its first
/// frame; returns the plain error frame the server answers with (after
/// waiting out the server's per-address limit, like other exchanges).
/// A fresh WebSocket to the actor's server, upgraded and nothing sent: the
/// steps that send what a client never would use it.
async fn raw_socket(session: &Session) -> Result<Stream, String> {
    RawSocket::upgrade(session.http())
        .await
        .map(RawSocket::into_stream)
        .map_err(|e| format!("the WebSocket upgrade failed: {e}"))
}

/// The `limits.max_body_bytes` the server announced.
fn body_limit(session: &Session) -> Result<u64, String> {
    u64::try_from(session.limits().max_body_bytes)
        .map_err(|_| "the announced max_body_bytes is negative".to_owned())
}

/// Waits for the close frame of a socket sent a frame over the limit: it
/// must be 1009.
async fn closed_too_big(stream: &mut Stream) -> Result<Value, String> {
    match await_close(stream, CLOSE_WITHIN).await? {
        Some(1009) => Ok(json!({ "closed": 1009 })),
        other => Err(format!("expected close code 1009, got {other:?}")),
    }
}

/// Sends a first frame one byte over `limits.max_body_bytes` on a fresh
/// socket and waits for the close frame: 1009, not a reset (api.yml: the
/// server reads a frame up to twice the limit to its end first).
async fn oversized_frame(actor: &Actor) -> Result<Value, String> {
    use futures_util::SinkExt as _;
    use tokio_tungstenite::tungstenite::Message;

    let session = &actor.session;
    let limit = usize::try_from(body_limit(session)?).map_err(|e| e.to_string())?;
    let mut stream = raw_socket(session).await?;
    stream
        .send(Message::text("x".repeat(limit + 1)))
        .await
        .map_err(|e| format!("sending the frame: {e}"))?;
    closed_too_big(&mut stream).await
}

/// Waits (at most `within`) for the server's close frame on `stream`,
/// reading past anything else but an answer; returns its close code.
async fn await_close(stream: &mut Stream, within: Duration) -> Result<Option<u16>, String> {
    use futures_util::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;

    tokio::time::timeout(within, async {
        loop {
            match stream.next().await {
                Some(Ok(Message::Close(frame))) => return Ok(frame.map(|f| u16::from(f.code))),
                Some(Ok(Message::Text(text))) => {
                    return Err(format!(
                        "the server answered instead of closing: {}",
                        &text[..text.len().min(200)]
                    ));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    return Err(format!("the connection ended without a close frame: {e}"));
                }
                None => return Err("the connection ended without a close frame".into()),
            }
        }
    })
    .await
    .map_err(|_| format!("the socket was still open after {} s", within.as_secs()))?
}

/// The header of a masked text frame of `len` bytes, with an all-zero
/// mask so the payload bytes go on the wire as they are.
fn frame_header(len: u64) -> Vec<u8> {
    let mut header = vec![0x81, 0x80 | 127];
    header.extend_from_slice(&len.to_be_bytes());
    header.extend_from_slice(&[0, 0, 0, 0]);
    header
}

/// Sends only the header of a frame over twice `limits.max_body_bytes` on
/// a fresh socket: api.yml has the server send the close frame 1009 at
/// once, without waiting for a payload that is never coming.
async fn cut_frame(actor: &Actor) -> Result<Value, String> {
    use tokio::io::AsyncWriteExt as _;

    let limit = body_limit(&actor.session)?;
    let mut stream = raw_socket(&actor.session).await?;
    let raw = stream.get_mut();
    raw.write_all(&frame_header(2 * limit + 1))
        .await
        .map_err(|e| format!("sending the frame header: {e}"))?;
    raw.flush().await.map_err(|e| e.to_string())?;
    closed_too_big(&mut stream).await
}

/// A fresh socket with its session open (the `session.open` answer read).
async fn opened_raw_socket(actor: &Actor) -> Result<Stream, String> {
    let session = &actor.session;
    let draft = session
        .draft(&Request::SessionOpen)
        .map_err(|e| e.to_string())?;
    let session_open = session.seal_draft(draft).await.map_err(|e| e.to_string())?;
    match tokio::time::timeout(EVENT_TIMEOUT, RawSocket::open(session, &session_open)).await {
        Err(_) => Err("no answer to session.open".to_owned()),
        Ok(Ok(socket)) => Ok(socket.into_stream()),
        Ok(Err(ClientError::Api(e))) => Err(format!(
            "session.open was refused: {} {}",
            e.code, e.message
        )),
        Ok(Err(e)) => Err(format!("session.open failed: {e}")),
    }
}

/// Opens a session and sends nothing more: api.yml has the server ping
/// every 30 s, so a ping must come within `seconds`.
async fn ping_within(actor: &Actor, seconds: u64) -> Result<Value, String> {
    use futures_util::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;

    let mut stream = opened_raw_socket(actor).await?;
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(seconds), async {
        loop {
            match stream.next().await {
                Some(Ok(Message::Ping(_))) => return Ok(()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("the connection ended before a ping: {e}")),
                None => return Err("the connection ended before a ping".to_owned()),
            }
        }
    })
    .await
    .map_err(|_| format!("no ping within {seconds} s"))??;
    Ok(json!({ "ping_after_s": started.elapsed().as_secs() }))
}

/// Reads `stream`'s raw bytes, without answering anything (no pong), until
/// the server ends the connection; fails if that takes over `seconds`.
async fn until_ended(mut stream: Stream, seconds: u64) -> Result<Value, String> {
    use tokio::io::AsyncReadExt as _;

    let started = Instant::now();
    let raw = stream.get_mut();
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(seconds), async {
        loop {
            match raw.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .map_err(|_| format!("the connection was still open after {seconds} s"))?;
    Ok(json!({ "ended_after_s": started.elapsed().as_secs() }))
}

/// A socket that never sends its first frame: api.yml has the server close
/// it once the ping interval has passed.
async fn closed_if_silent(actor: &Actor, seconds: u64) -> Result<Value, String> {
    until_ended(raw_socket(&actor.session).await?, seconds).await
}

/// A session whose client starts a frame over the limit and stalls: the
/// frame must arrive within the silence limit, so the server ends the
/// connection after it.
async fn closed_if_stalled(actor: &Actor, seconds: u64) -> Result<Value, String> {
    use tokio::io::AsyncWriteExt as _;

    let limit = body_limit(&actor.session)?;
    let mut stream = opened_raw_socket(actor).await?;
    let raw = stream.get_mut();
    let mut start = frame_header(limit + 1);
    start.extend(std::iter::repeat_n(b'x', 1024));
    raw.write_all(&start)
        .await
        .map_err(|e| format!("sending the start of the frame: {e}"))?;
    raw.flush().await.map_err(|e| e.to_string())?;
    until_ended(stream, seconds).await
}

/// Sends envelopes that cannot be opened, 16 at a time, until one gets the
/// plain 429 `rate_limited` (at most `count`).
async fn flood(actor: &Actor, count: u64) -> Result<Value, String> {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    let client = reqwest::Client::new();
    let url = format!("{}/encrypted", actor.url.trim_end_matches('/'));
    let sent = std::sync::Arc::new(AtomicU64::new(0));
    let limited = std::sync::Arc::new(AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (client, url, sent, limited) =
            (client.clone(), url.clone(), sent.clone(), limited.clone());
        workers.spawn(async move {
            while !limited.load(Ordering::Relaxed) && sent.fetch_add(1, Ordering::Relaxed) < count {
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body("{}")
                    .send()
                    .await
                    .map_err(|e| format!("the server did not answer: {e}"))?;
                let status = response.status().as_u16();
                let bytes = response.bytes().await.map_err(|e| e.to_string())?;
                if status == 429 {
                    let error: Error = serde_json::from_slice(&bytes)
                        .map_err(|_| "a 429 without an Error body".to_owned())?;
                    if error.code.as_str() != "rate_limited" {
                        return Err(format!("a 429 with code {}", error.code));
                    }
                    limited.store(true, Ordering::Relaxed);
                }
            }
            Ok::<(), String>(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    let sent = sent.load(Ordering::Relaxed).min(count);
    if !limited.load(Ordering::Relaxed) {
        return Err(format!(
            "{sent} envelopes from one address, none refused with rate_limited"
        ));
    }
    Ok(json!({ "rate_limited_within": sent }))
}

/// What a `first_frame` step sends.
#[derive(Clone, Copy)]
enum FirstFrame<'a> {
    /// A signed request of this body type (no payload) in an EncryptedBody.
    Signed(&'a str),
    /// This text, as it is.
    Text(&'a str),
}

/// Sends a wrong first frame on a fresh socket (after waiting out the
/// server's per-address limit, like other exchanges) and returns what came
/// back, once the socket has closed as api.yml requires.
async fn wrong_first_frame(
    actor: &Actor,
    frame: FirstFrame<'_>,
    step: &Step,
) -> Result<(Outcome, Value), String> {
    let mut backoff = RateLimitBackoff::new();
    loop {
        let answer = wrong_first_frame_once(actor, frame, step).await?;
        if let (Outcome::Plain(_, e), _) = &answer
            && e.code.as_str() == "rate_limited"
            && backoff.wait().await
        {
            continue;
        }
        return Ok(answer);
    }
}

async fn wrong_first_frame_once(
    actor: &Actor,
    frame: FirstFrame<'_>,
    step: &Step,
) -> Result<(Outcome, Value), String> {
    use futures_util::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;

    let session = &actor.session;
    let mut socket = RawSocket::upgrade(session.http())
        .await
        .map_err(|e| format!("the WebSocket upgrade failed: {e}"))?;
    let (text, sealed) = match frame {
        FirstFrame::Signed(body_type) => {
            let sealed = seal_step(actor, body_type, None, step, None)?;
            (sealed.text.clone(), Some(sealed))
        }
        FirstFrame::Text(text) => (text.to_owned(), None),
    };
    socket
        .send_text(text)
        .await
        .map_err(|e| format!("sending the first frame: {e}"))?;
    let answer = tokio::time::timeout(EVENT_TIMEOUT, socket.next_text())
        .await
        .map_err(|_| "no answer to the first frame".to_owned())?
        .map_err(|e| format!("no answer to the first frame: {e}"))?;
    let value: Value =
        serde_json::from_str(&answer).map_err(|_| format!("the answer is not JSON: {answer}"))?;
    let outcome = match (&sealed, value.get("data")) {
        (Some(sealed), Some(_)) => {
            let encrypted: EncryptedBody = serde_json::from_value(value)
                .map_err(|e| format!("the answer is not an EncryptedBody: {e}"))?;
            open(session, &sealed.request, &encrypted)?
        }
        _ => Outcome::Plain(
            0,
            serde_json::from_str(&answer)
                .map_err(|_| format!("the answer is not a plain Error: {answer}"))?,
        ),
    };
    // api.yml: after the answer to a wrong first frame, the socket closes.
    let stream = socket.stream_mut();
    let closed = tokio::time::timeout(CLOSE_WITHIN, async {
        loop {
            match stream.next().await {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    if closed.is_err() {
        return Err(format!(
            "the socket stayed open {} s after the answer to its first frame",
            CLOSE_WITHIN.as_secs()
        ));
    }
    let mut received = redact_outcome(&outcome);
    received["closed"] = json!(true);
    Ok((outcome, received))
}
