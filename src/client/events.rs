//! [`EventStream`]: the events of one user, over a WebSocket that is
//! reopened with backoff whenever it drops. After a reconnect the stream
//! fetches what happened while it was away (new conversations, new and
//! edited messages) and hands it over as the events it missed, so the
//! caller sees no gap and no duplicate.
//!
//! What cannot be recovered from history is said plainly: a message that
//! was posted *and* deleted during the gap is never seen, and a deletion
//! during the gap shows only as the message missing from the next fetch.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::bodies::Event;
use crate::client::error::ClientError;
use crate::client::generated::Bodies as _;
use crate::client::session::Session;
use crate::client::socket::Socket;
use crate::models::{ListMessages, Message};

/// First wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Pages of history fetched per conversation when catching up; older gaps
/// are left to the caller's history view.
const CATCH_UP_PAGES: usize = 20;

/// A reconnecting, resuming stream of events for one session.
pub struct EventStream<'a> {
    session: &'a Session,
    socket: Option<Socket<'a>>,
    pending: VecDeque<Event>,
    /// Messages delivered, with the edit time delivered last.
    seen: HashMap<Uuid, Option<OffsetDateTime>>,
    conversations: HashSet<Uuid>,
    backoff: Duration,
    reconnects: u64,
}

impl<'a> EventStream<'a> {
    /// Opens the first socket and records where history stands, so a later
    /// reconnect knows what is new.
    pub async fn open(session: &'a Session) -> Result<EventStream<'a>, ClientError> {
        let socket = Socket::open(session).await?;
        let mut stream = EventStream {
            session,
            socket: Some(socket),
            pending: VecDeque::new(),
            seen: HashMap::new(),
            conversations: HashSet::new(),
            backoff: FIRST_BACKOFF,
            reconnects: 0,
        };
        for conversation in session.conversation_list().await?.items {
            stream.conversations.insert(conversation.id);
            for message in conversation.messages {
                stream.seen.insert(message.id, message.edited_at);
            }
        }
        Ok(stream)
    }

    /// How many times the socket was reopened.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// The next event, live or caught up after a reconnect. Errors other
    /// than a dropped connection (a frame that fails its checks, a refused
    /// session) end the stream: they mean something is wrong, not flaky.
    pub async fn next(&mut self) -> Result<Event, ClientError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(event);
            }
            let Some(socket) = &mut self.socket else {
                self.reconnect().await?;
                continue;
            };
            match socket.next_event().await {
                Ok(event) => {
                    if self.is_new(&event) {
                        self.backoff = FIRST_BACKOFF;
                        return Ok(event);
                    }
                }
                Err(ClientError::Transport(why)) => {
                    tracing::debug!(%why, "event socket dropped; reconnecting");
                    self.socket = None;
                }
                // The key was replaced: by this session's own rotation (a
                // new socket opens with the new key), or on another device
                // (this session's key is no longer the account's).
                Err(ClientError::SessionEnded { code: 4001, .. }) => {
                    self.socket = None;
                    match self.reconnect().await {
                        Ok(()) => {}
                        Err(ClientError::Api(e))
                            if e.code == crate::models::ErrorCode::BadSignature =>
                        {
                            return Err(ClientError::RotatedElsewhere {
                                username: self.session.username().to_owned(),
                                what_to_do: "log in again with the sync password to fetch the new key ring (if the server keeps a copy), or import a key file exported after the rotation".to_owned(),
                            });
                        }
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether `event` is news, recording it; a message event the caller
    /// already saw (live, then again while catching up) is not.
    fn is_new(&mut self, event: &Event) -> bool {
        match event {
            Event::MessageCreated(m) | Event::MessageUpdated(m) => {
                match self.seen.insert(m.id, m.edited_at) {
                    Some(previous) => previous != m.edited_at,
                    None => true,
                }
            }
            Event::ConversationCreated(c) => self.conversations.insert(c.id),
            Event::ConversationDeleted(c) => {
                self.conversations.remove(&c.id);
                true
            }
            _ => true,
        }
    }

    /// Reopens the socket, waiting with exponential backoff between failed
    /// attempts, then queues what was missed.
    async fn reconnect(&mut self) -> Result<(), ClientError> {
        loop {
            tokio::time::sleep(self.backoff).await;
            self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
            match Socket::open(self.session).await {
                Ok(socket) => {
                    self.socket = Some(socket);
                    self.reconnects += 1;
                    break;
                }
                Err(ClientError::Transport(why)) => {
                    tracing::debug!(%why, backoff = ?self.backoff, "reconnect failed");
                }
                Err(e) => return Err(e),
            }
        }
        // Anything that happens from here on arrives on the new socket as
        // well; `is_new` drops the duplicates.
        let mut missed = Vec::new();
        let list = match self.session.conversation_list().await {
            Ok(list) => list,
            Err(ClientError::Transport(_)) => {
                self.socket = None;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        for conversation in list.items {
            if !self.conversations.contains(&conversation.id) {
                missed.push(Event::ConversationCreated(conversation.clone()));
            }
            for message in self.catch_up(conversation.id).await? {
                let event = if self.seen.contains_key(&message.id) {
                    Event::MessageUpdated(message)
                } else {
                    Event::MessageCreated(message)
                };
                missed.push(event);
            }
        }
        for event in missed {
            if self.is_new(&event) {
                self.pending.push_back(event);
            }
        }
        Ok(())
    }

    /// The messages of one conversation newer than the newest one already
    /// seen (or edited since it was seen), oldest first.
    async fn catch_up(&mut self, conversation_id: Uuid) -> Result<Vec<Message>, ClientError> {
        let mut newer = Vec::new();
        let mut before = None;
        for _ in 0..CATCH_UP_PAGES {
            let page = self
                .session
                .message_list(ListMessages {
                    conversation_id,
                    before: before.take(),
                    limit: None,
                })
                .await?;
            let mut reached_known = false;
            for message in page.messages {
                match self.seen.get(&message.id) {
                    Some(edited) => {
                        reached_known = true;
                        if *edited != message.edited_at {
                            newer.push(message);
                        }
                    }
                    None => newer.push(message),
                }
            }
            match page.next_cursor {
                Some(cursor) if !reached_known => before = Some(cursor),
                _ => break,
            }
        }
        newer.reverse();
        Ok(newer)
    }
}
