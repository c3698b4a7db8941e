//! The bench's side of the protocol: users completed with fixture keys,
//! requests sealed ahead of time (so client CPU stays out of the timed
//! phase), and WebSockets that send pre-sealed frames and time events.

use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use nanochat::bodies::Request;
use nanochat::client::names::Reader;
use nanochat::client::{Bodies, RawSocket, Session, exchange, http, messages};
use nanochat::crypto::PrivateKey;
use nanochat::models::{CompleteUser, CreateConversation, References};
use nanochat::wire::Secret;
use uuid::Uuid;

use crate::server::Target;
use crate::stats::par_map;

/// A completed user with its session.
pub struct User {
    /// The username.
    pub name: String,
    /// Its private key.
    pub key: PrivateKey,
    /// Its session (sharing the bench's HTTP connection pool).
    pub session: Session,
}

/// One HTTP client for every session, and the server's references.
#[derive(Clone)]
pub struct Connector {
    url: String,
    client: reqwest::Client,
    references: References,
}

impl Connector {
    /// Fetches `/references` once.
    pub async fn new(url: &str) -> anyhow::Result<Connector> {
        Connector::build(url, None).await
    }

    /// Like [`Connector::new`], every connection from `local` (a loopback
    /// address of its own, so the server counts it apart).
    pub async fn with_local_address(
        url: &str,
        local: std::net::IpAddr,
    ) -> anyhow::Result<Connector> {
        Connector::build(url, Some(local)).await
    }

    async fn build(url: &str, local: Option<std::net::IpAddr>) -> anyhow::Result<Connector> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .pool_max_idle_per_host(1024)
            .local_address(local)
            .build()?;
        let references = http::Client::new_with_client(url, client.clone())
            .get_references()
            .await
            .map_err(|e| anyhow::anyhow!("GET /references: {e}"))?
            .into_inner();
        Ok(Connector {
            url: url.to_owned(),
            client,
            references,
        })
    }

    /// The server's `/references`.
    pub fn references(&self) -> &References {
        &self.references
    }

    /// A session for `username` signing with `key`.
    pub fn session(&self, username: &str, key: &PrivateKey) -> anyhow::Result<Session> {
        let http = http::Client::new_with_client(&self.url, self.client.clone());
        Ok(Session::with_references(
            http,
            self.references.clone(),
            username,
            Some(key.clone()),
        )?)
    }
}

/// Creates `names` through the operator CLI and completes each with its
/// key (`keys[i]` for `names[i]`), sixteen `user.complete` at a time.
pub async fn provision(
    target: &Target,
    connector: &Connector,
    names: &[String],
    keys: &[PrivateKey],
) -> anyhow::Result<Vec<User>> {
    let tokens = target.create_users(names).await?;
    let jobs = names
        .iter()
        .zip(keys)
        .zip(tokens)
        .map(|((name, key), token)| {
            let connector = connector.clone();
            let (name, key) = (name.clone(), key.clone());
            async move {
                let session = connector.session(&name, &key)?;
                session
                    .user_complete(CompleteUser {
                        token: Secret::new(token),
                        display_name: name.to_uppercase(),
                        public_key: key.public_key().to_spki_der().to_vec().into(),
                        private_key: None,
                        sync_password: None,
                    })
                    .await
                    .with_context(|| format!("user.complete {name}"))?;
                anyhow::Ok(User { name, key, session })
            }
        });
    let users: Vec<anyhow::Result<User>> = futures_util::stream::iter(jobs)
        .buffered(16)
        .collect()
        .await;
    users.into_iter().collect()
}

/// `owner` creates a conversation with `others`; returns its id and the
/// readers (every member with its key) to seal messages for.
pub async fn conversation(owner: &User, others: &[&str]) -> anyhow::Result<(Uuid, Vec<Reader>)> {
    let created = owner
        .session
        .conversation_create(CreateConversation {
            id: Uuid::new_v4(),
            name: None,
            members: others.iter().map(|s| (*s).to_owned()).collect(),
        })
        .await
        .context("conversation.create")?;
    let readers = nanochat::client::names::member_keys(&created.members)?;
    Ok((created.id, readers))
}

/// A request sealed ahead of time.
pub struct Sealed {
    /// The sealed request (its body, envelope and secret).
    pub request: exchange::Sealed,
    /// Its JSON text (a WebSocket frame), written once before the timed
    /// phase.
    pub text: String,
    /// The message id, for message.create.
    pub message_id: Option<Uuid>,
}

/// Seals `request` as `session` would, synchronously (for worker threads).
pub fn seal_sync(session: &Session, request: &Request) -> anyhow::Result<Sealed> {
    if request.body_type().is_signed() {
        session.require_signer()?;
    }
    let sealed = session.seal_draft_now(session.draft(request)?)?;
    let message_id = match request {
        Request::MessageCreate(m) => Some(m.id),
        _ => None,
    };
    Ok(Sealed {
        text: sealed.text(),
        request: sealed,
        message_id,
    })
}

/// The text of the `i`-th benchmark message (about 200 bytes of ciphertext).
pub fn message_text(i: usize) -> String {
    format!(
        "benchmark message {i:08}: the quick brown fox jumps over the lazy dog while the \
         server seals, stores and fans out this text to every member of the conversation."
    )
}

/// Seals `count` `message.create` requests from `sender` into
/// `conversation` for `readers`, on all cores.
pub fn seal_messages(
    sender: &User,
    conversation: Uuid,
    readers: &[Reader],
    count: usize,
) -> anyhow::Result<Vec<Sealed>> {
    par_map((0..count).collect(), |i| -> anyhow::Result<Sealed> {
        let id = Uuid::new_v4();
        let text = message_text(i);
        let payload = messages::seal(&sender.key, conversation, id, Some(&text), None, readers)?;
        seal_sync(&sender.session, &Request::MessageCreate(payload))
    })
    .into_iter()
    .collect()
}

/// Sends a pre-sealed request over `POST /encrypted`; errors on any refusal.
pub async fn send_http(session: &Session, sealed: &Sealed) -> anyhow::Result<serde_json::Value> {
    Ok(session.send_sealed(&sealed.request).await?)
}

/// An authenticated WebSocket on the library's [`RawSocket`]: pre-sealed
/// frames out, events timed in and decoded only as far as the bench looks
/// (light), so client CPU stays out of the figures.
pub struct LightSocket {
    raw: RawSocket,
    /// Events skipped while waiting for a response.
    pub skipped_events: u64,
}

/// The parts of an event the bench looks at; the rest is skipped unparsed.
#[derive(serde::Deserialize)]
struct LightBody {
    r#type: String,
    seq: Option<i64>,
    payload: Option<LightPayload>,
}

#[derive(serde::Deserialize)]
struct LightPayload {
    id: Option<Uuid>,
}

/// An event, decrypted.
pub struct LightEvent {
    /// Its type (`message.created`...).
    pub kind: String,
    /// The payload's `id` (the message id of message events).
    pub id: Option<Uuid>,
}

impl LightSocket {
    /// Upgrades `GET /websocket` and opens the session (signed).
    pub async fn open(session: &Session) -> anyhow::Result<LightSocket> {
        let sealed = tokio::task::block_in_place(|| seal_sync(session, &Request::SessionOpen))?;
        LightSocket::open_sealed(session, sealed).await
    }

    /// Like [`LightSocket::open`] with a `session.open` sealed beforehand.
    pub async fn open_sealed(session: &Session, sealed: Sealed) -> anyhow::Result<LightSocket> {
        Ok(LightSocket {
            raw: RawSocket::open(session, &sealed.request).await?,
            skipped_events: 0,
        })
    }

    /// Sends a pre-sealed request and waits for its response (events
    /// meanwhile are counted and dropped).
    pub async fn request(
        &mut self,
        session: &Session,
        sealed: &Sealed,
    ) -> anyhow::Result<serde_json::Value> {
        self.raw.send_text(sealed.text.clone()).await?;
        loop {
            let frame = self.raw.next_frame().await?;
            if frame.seq.is_some() {
                self.skipped_events += 1;
                continue;
            }
            return Ok(session.open_answer(&sealed.request, &frame)?);
        }
    }

    /// The next event, decrypted and checked for order.
    pub async fn next_event(&mut self) -> anyhow::Result<LightEvent> {
        let frame = self.raw.next_frame().await?;
        if frame.seq.is_none() {
            bail!("expected an event, got a response frame");
        }
        let (seq, plain) = self.raw.open_event(&frame)?;
        let body: LightBody = serde_json::from_slice(&plain)?;
        if body.seq != Some(seq as i64) {
            bail!("the event body's seq does not match its frame");
        }
        Ok(LightEvent {
            kind: body.r#type,
            id: body.payload.and_then(|p| p.id),
        })
    }

    /// Reads (and drops) frames until the server closes the socket, so
    /// pings get their pongs.
    pub async fn drain(mut self) {
        while let Some(Ok(_)) = self.raw.stream_mut().next().await {}
    }
}
