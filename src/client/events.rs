//! [`EventStream`]: the events of one user, over a WebSocket that is
//! reopened with backoff whenever it drops. After a reconnect the stream
//! catches up: it compares what the server holds now (`conversation.list`,
//! and `message.list` paged back with cursors as far as needed) with what
//! it already delivered, and hands over what it missed as the events the
//! live socket would have carried, between a [`StreamItem::CatchingUp`]
//! and a [`StreamItem::CaughtUp`] marker. Nothing is delivered twice: a
//! message already delivered (live, or while catching up) is never
//! delivered as new again.
//!
//! What cannot be recovered from history is said plainly: a message that
//! was posted *and* deleted during the gap is never seen; edits and
//! deletions are found among the most recent [`RECHECKED`] messages the
//! stream knows of each conversation (older ones are left to the caller's
//! history view); and a conversation that is gone (deleted, the user
//! removed from it, or left on another device) is reported as
//! `event.conversation.deleted`, because history cannot tell which it was.
//! Live, a removal is `event.conversation.removed` and a deletion
//! `event.conversation.deleted`; only between the catch-up markers does
//! `event.conversation.deleted` mean "gone, for a reason the stream cannot
//! know".

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::bodies::Event;
use crate::client::error::ClientError;
use crate::client::generated::Bodies as _;
use crate::client::session::Session;
use crate::client::socket::Socket;
use crate::models::{
    BaseConversation, BaseMessage, ListMessages, Message, MessageConversation, PublicUser,
};

/// First wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How many of the most recent known messages of each conversation a
/// catch-up checks for edits and deletions.
pub const RECHECKED: usize = 100;
/// How many known messages of each conversation the stream remembers; the
/// older ones are never candidates again (only messages newer than the
/// newest known one are new), so forgetting them costs nothing.
const REMEMBERED: usize = 1000;

/// What [`EventStream::next_item`] yields: an event, or a marker around the
/// events recovered after a reconnect.
#[derive(Debug, Clone)]
// Events are the common case: boxing them to shrink two rare markers
// would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
pub enum StreamItem {
    /// An event: live, or (between the markers) recovered from history.
    Event(Event),
    /// The socket was reopened (the `reconnects`-th time); the events up
    /// to [`StreamItem::CaughtUp`] happened while it was down.
    CatchingUp {
        /// How many times the socket was reopened, this time included.
        reconnects: u64,
    },
    /// Everything missed was delivered; live events follow.
    CaughtUp {
        /// How many events were recovered.
        missed: usize,
    },
}

/// A message the stream knows of: its place and its last delivered edit.
#[derive(Debug, Clone, Copy)]
struct Known {
    id: Uuid,
    created_at: OffsetDateTime,
    edited_at: Option<OffsetDateTime>,
}

/// What the stream knows of one conversation.
#[derive(Debug, Clone)]
struct Tracked {
    /// The conversation as last delivered (without messages).
    conversation: MessageConversation,
    /// Known messages, oldest first, at most [`REMEMBERED`].
    messages: VecDeque<Known>,
    /// Since when the stream knows every message of the conversation (the
    /// oldest it was handed when it learned of it): an unknown message
    /// older than this is history the caller was never handed, not news,
    /// even when an edit of an old message made it known later.
    since: Option<OffsetDateTime>,
}

impl Tracked {
    fn new(conversation: &MessageConversation) -> Tracked {
        let mut tracked = Tracked {
            conversation: without_messages(conversation),
            messages: VecDeque::new(),
            since: conversation.messages.iter().map(|m| m.created_at).min(),
        };
        // Newest first on the wire.
        for message in conversation.messages.iter().rev() {
            tracked.record(message);
        }
        tracked
    }

    /// Records `message` (new, or an edit of a known one).
    fn record(&mut self, message: &Message) {
        if let Some(known) = self.messages.iter_mut().find(|k| k.id == message.id) {
            known.edited_at = message.edited_at;
            return;
        }
        let known = Known {
            id: message.id,
            created_at: message.created_at,
            edited_at: message.edited_at,
        };
        // Keep the order by time: a live message may arrive after a
        // caught-up one with a later time only when clocks disagree.
        let at = self
            .messages
            .iter()
            .rposition(|k| k.created_at <= known.created_at)
            .map_or(0, |i| i + 1);
        self.messages.insert(at, known);
        while self.messages.len() > REMEMBERED {
            if let Some(forgotten) = self.messages.pop_front() {
                self.since = Some(forgotten.created_at);
            }
        }
    }

    fn get(&self, id: Uuid) -> Option<&Known> {
        self.messages.iter().find(|k| k.id == id)
    }

    fn forget(&mut self, id: Uuid) -> bool {
        let before = self.messages.len();
        self.messages.retain(|k| k.id != id);
        before != self.messages.len()
    }
}

fn without_messages(conversation: &MessageConversation) -> MessageConversation {
    MessageConversation {
        messages: Vec::new(),
        next_cursor: None,
        ..conversation.clone()
    }
}

/// A reconnecting, resuming stream of events for one session.
pub struct EventStream<'a> {
    session: &'a Session,
    socket: Option<Socket<'a>>,
    pending: VecDeque<StreamItem>,
    conversations: HashMap<Uuid, Tracked>,
    /// Deletions delivered, so the live copy of one caught up is dropped.
    deleted: HashSet<Uuid>,
    first_backoff: Duration,
    max_backoff: Duration,
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
            conversations: HashMap::new(),
            deleted: HashSet::new(),
            first_backoff: FIRST_BACKOFF,
            max_backoff: MAX_BACKOFF,
            backoff: FIRST_BACKOFF,
            reconnects: 0,
        };
        for conversation in session.conversation_list().await?.items {
            stream
                .conversations
                .insert(conversation.id, Tracked::new(&conversation));
        }
        Ok(stream)
    }

    /// Sets the wait before the first reconnection attempt after a drop
    /// (doubling per failed attempt up to `max`); tests and impatient
    /// frontends shorten it, frontends on flaky links may lengthen it.
    pub fn with_reconnect_delay(mut self, first: Duration, max: Duration) -> Self {
        self.first_backoff = first;
        self.max_backoff = max.max(first);
        self.backoff = first;
        self
    }

    /// How many times the socket was reopened.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// The next event, live or caught up after a reconnect (the catch-up
    /// markers are skipped; [`EventStream::next_item`] yields them).
    pub async fn next(&mut self) -> Result<Event, ClientError> {
        loop {
            if let StreamItem::Event(event) = self.next_item().await? {
                return Ok(event);
            }
        }
    }

    /// The next event or catch-up marker. Errors other than a dropped
    /// connection (a frame that fails its checks, a refused session) end
    /// the stream: they mean something is wrong, not flaky.
    pub async fn next_item(&mut self) -> Result<StreamItem, ClientError> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Ok(item);
            }
            let Some(socket) = &mut self.socket else {
                self.reconnect().await?;
                continue;
            };
            match socket.next_event().await {
                Ok(event) => {
                    if self.is_new(&event) {
                        self.backoff = self.first_backoff;
                        return Ok(StreamItem::Event(event));
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

    /// Whether `event` is news, recording it; an event the caller already
    /// has (live, then again while catching up, or the other way round)
    /// is not.
    fn is_new(&mut self, event: &Event) -> bool {
        match event {
            Event::MessageCreated(m) | Event::MessageUpdated(m) => {
                if self.deleted.contains(&m.id) {
                    return false;
                }
                let tracked = self
                    .conversations
                    .entry(m.conversation_id)
                    .or_insert_with(|| Tracked {
                        conversation: placeholder(m.conversation_id),
                        messages: VecDeque::new(),
                        since: Some(m.created_at),
                    });
                let news = tracked.get(m.id).is_none_or(|k| k.edited_at != m.edited_at);
                tracked.record(m);
                news
            }
            Event::MessageDeleted(m) => {
                if let Some(tracked) = self.conversations.get_mut(&m.conversation_id) {
                    tracked.forget(m.id);
                }
                self.deleted.insert(m.id)
            }
            Event::ConversationCreated(c) | Event::ConversationUpdated(c) => {
                let fresh = without_messages(c);
                match self.conversations.get_mut(&c.id) {
                    Some(tracked) if same(&tracked.conversation, &fresh) => false,
                    Some(tracked) => {
                        tracked.conversation = fresh;
                        true
                    }
                    None => {
                        self.conversations.insert(c.id, Tracked::new(&fresh));
                        true
                    }
                }
            }
            Event::ConversationDeleted(c) | Event::ConversationRemoved(c) => {
                self.conversations.remove(&c.id).is_some()
            }
            Event::ConversationLeft(left) => {
                if left.username == self.session.username() {
                    self.conversations.remove(&left.conversation_id);
                } else if let Some(tracked) = self.conversations.get_mut(&left.conversation_id) {
                    tracked
                        .conversation
                        .members
                        .retain(|m| m.username != left.username);
                }
                true
            }
            Event::UserKeyChanged(user) => {
                for tracked in self.conversations.values_mut() {
                    for member in &mut tracked.conversation.members {
                        if member.username == user.username {
                            member.fingerprint = user.fingerprint.clone();
                            member.public_key = user.public_key.clone();
                            member.key_index = Some(user.key_index);
                        }
                    }
                }
                true
            }
        }
    }

    /// Reopens the socket, waiting with exponential backoff between failed
    /// attempts, then queues what was missed between the markers.
    async fn reconnect(&mut self) -> Result<(), ClientError> {
        loop {
            tokio::time::sleep(self.backoff).await;
            self.backoff = (self.backoff * 2).min(self.max_backoff);
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
        let missed = match self.missed().await {
            Ok(missed) => missed,
            Err(ClientError::Transport(why)) => {
                // Dropped again while catching up: nothing was recorded,
                // the next reconnect starts over.
                tracing::debug!(%why, "dropped while catching up");
                self.socket = None;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        self.pending.push_back(StreamItem::CatchingUp {
            reconnects: self.reconnects,
        });
        let mut count = 0;
        for event in missed {
            if self.is_new(&event) {
                self.pending.push_back(StreamItem::Event(event));
                count += 1;
            }
        }
        self.pending
            .push_back(StreamItem::CaughtUp { missed: count });
        Ok(())
    }

    /// What happened while the socket was down, as the events the socket
    /// would have carried: conversations new, changed or gone (and keys
    /// changed in them), then per conversation its new messages oldest
    /// first, edits and deletions. Records nothing.
    async fn missed(&self) -> Result<Vec<Event>, ClientError> {
        let list = self.session.conversation_list().await?.items;
        let mut missed = Vec::new();
        let present: HashSet<Uuid> = list.iter().map(|c| c.id).collect();
        let mut gone: Vec<Uuid> = self
            .conversations
            .keys()
            .filter(|id| !present.contains(id))
            .copied()
            .collect();
        gone.sort();
        // Deleted, removed or left elsewhere: the server answers
        // `not_found` alike, so each is reported as gone (deleted).
        missed.extend(
            gone.into_iter()
                .map(|id| Event::ConversationDeleted(BaseConversation { id })),
        );
        let mut keys_seen = HashSet::new();
        let mut messages = Vec::new();
        // Oldest activity first, so the caller sees the gap in order.
        for conversation in list.iter().rev() {
            let fresh = without_messages(conversation);
            match self.conversations.get(&conversation.id) {
                None => {
                    missed.push(Event::ConversationCreated(fresh));
                    messages.extend(
                        self.messages_since(conversation.id, None, self.joined(conversation))
                            .await?,
                    );
                }
                Some(tracked) => {
                    for member in &conversation.members {
                        let before = tracked
                            .conversation
                            .members
                            .iter()
                            .find(|m| m.username == member.username);
                        if before.is_some_and(|b| b.fingerprint != member.fingerprint)
                            && !member.fingerprint.is_empty()
                            && keys_seen.insert(member.username.clone())
                        {
                            missed.push(Event::UserKeyChanged(PublicUser {
                                username: member.username.clone(),
                                display_name: member.display_name.clone(),
                                public_key: member.public_key.clone(),
                                fingerprint: member.fingerprint.clone(),
                                key_index: member.key_index.unwrap_or(0),
                            }));
                        }
                    }
                    if !same(&tracked.conversation, &fresh) {
                        missed.push(Event::ConversationUpdated(fresh));
                    }
                    messages.extend(
                        self.messages_since(
                            conversation.id,
                            Some(tracked),
                            self.joined(conversation),
                        )
                        .await?,
                    );
                }
            }
        }
        missed.extend(messages);
        Ok(missed)
    }

    /// A conversation's news since the gap began, oldest first: messages
    /// newer than the newest known one (and any unknown one among the
    /// rechecked), then edits and deletions among the last [`RECHECKED`]
    /// known messages. Without known messages (a conversation new to the
    /// stream, or empty when it was last seen), the messages posted since
    /// `joined` (when this user joined: a new member of an old
    /// conversation is not handed its past). Pages back as far as needed.
    async fn messages_since(
        &self,
        id: Uuid,
        tracked: Option<&Tracked>,
        joined: Option<OffsetDateTime>,
    ) -> Result<Vec<Event>, ClientError> {
        let known = |message: Uuid| tracked.and_then(|t| t.get(message));
        let rechecked: Vec<Known> = tracked
            .map(|t| t.messages.iter().rev().take(RECHECKED).copied().collect())
            .unwrap_or_default();
        // The oldest message to recheck: paging stops once past it.
        let horizon = rechecked.last().map(|k| (k.created_at, k.id));
        // Unknown messages older than this were never the caller's news.
        let floor = tracked.and_then(|t| t.since).or(joined);
        let mut created = Vec::new();
        let mut updated = Vec::new();
        let mut listed = HashSet::new();
        let mut before = None;
        let mut oldest_listed = None;
        let reached_start = loop {
            let page = self.page(id, before.take()).await?;
            let mut passed = false;
            for message in page.messages {
                let older = match horizon {
                    Some((at, horizon_id)) => {
                        if message.id == horizon_id {
                            passed = true;
                        }
                        message.created_at < at
                    }
                    None => joined.is_some_and(|joined| message.created_at < joined),
                };
                passed |= older;
                oldest_listed = Some(message.created_at);
                listed.insert(message.id);
                match known(message.id) {
                    Some(k) if k.edited_at != message.edited_at => {
                        updated.push(Event::MessageUpdated(message));
                    }
                    Some(_) => {}
                    None if older || floor.is_some_and(|floor| message.created_at < floor) => {}
                    None => created.push(Event::MessageCreated(message)),
                }
            }
            match page.next_cursor {
                Some(cursor) if !passed => before = Some(cursor),
                Some(_) => break false,
                None => break true,
            }
        };
        created.reverse();
        updated.reverse();
        // A rechecked message within the listed range (all of history when
        // paging reached its start) that is no longer listed was deleted.
        let deleted = rechecked
            .iter()
            .rev()
            .filter(|k| !listed.contains(&k.id))
            .filter(|k| reached_start || oldest_listed.is_some_and(|oldest| k.created_at >= oldest))
            .map(|k| {
                Event::MessageDeleted(BaseMessage {
                    conversation_id: id,
                    id: k.id,
                })
            });
        created.extend(updated);
        created.extend(deleted);
        Ok(created)
    }

    /// When this session's user joined `conversation`.
    fn joined(&self, conversation: &MessageConversation) -> Option<OffsetDateTime> {
        conversation
            .members
            .iter()
            .find(|m| m.username == self.session.username())
            .map(|m| m.joined_at)
    }

    async fn page(
        &self,
        conversation_id: Uuid,
        before: Option<String>,
    ) -> Result<crate::models::MessagePage, ClientError> {
        self.session
            .message_list(ListMessages {
                conversation_id,
                before,
                limit: Some(self.session.limits().max_page_size.max(1)),
            })
            .await
    }
}

/// Whether two views of a conversation say the same (name, owner, members
/// and their keys): a live event repeating what a catch-up delivered is
/// not news.
fn same(a: &MessageConversation, b: &MessageConversation) -> bool {
    let members = |c: &MessageConversation| -> Vec<(String, String, String)> {
        c.members
            .iter()
            .map(|m| {
                (
                    m.username.clone(),
                    m.display_name.clone(),
                    m.fingerprint.clone(),
                )
            })
            .collect()
    };
    a.name_revision == b.name_revision && a.owner == b.owner && members(a) == members(b)
}

/// A conversation the stream heard of through a message before its own
/// event (the server delivers in order, so only after a race with a
/// catch-up): known by id until its view arrives.
fn placeholder(id: Uuid) -> MessageConversation {
    MessageConversation {
        id,
        name: None,
        name_revision: -1,
        owner: String::new(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        updated_at: OffsetDateTime::UNIX_EPOCH,
        members: Vec::new(),
        messages: Vec::new(),
        next_cursor: None,
    }
}
