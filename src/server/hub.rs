//! The WebSocket hub: which sockets are open for which user, and the
//! bounded queues events travel through.
//!
//! Sending never waits: an event goes into each socket's bounded queue with
//! `try_send`, and a socket whose queue is full is dropped from the hub (its
//! task then sees its queue close and shuts the socket). A slow or dead
//! reader therefore costs everyone else nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::bodies::{Event, EventType};

/// An event as sockets receive it: its type and its payload JSON, serialised
/// once and shared by every socket that gets the same bytes. Each socket
/// only wraps it in its own Body and seals it under its own event key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    event_type: EventType,
    payload: Payload,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Payload {
    /// Not an event: the socket re-checks its user's key now (another
    /// process changed it) and closes if it no longer holds.
    Recheck,
    /// The same JSON for everyone.
    Whole(Arc<str>),
    /// A message's JSON around this reader's wrapped key.
    WithKey {
        head: Arc<str>,
        key: String,
        tail: Arc<str>,
    },
}

impl Outgoing {
    /// Serialises `event`'s payload.
    pub fn of(event: &Event) -> Result<Outgoing, serde_json::Error> {
        Ok(Outgoing {
            event_type: event.event_type(),
            payload: Payload::Whole(serde_json::to_string(&event.payload_json()?)?.into()),
        })
    }

    /// The event type.
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// Whether this asks the socket to re-check its key rather than
    /// carrying an event ([`Hub::recheck`]).
    pub fn is_recheck(&self) -> bool {
        self.payload == Payload::Recheck
    }

    /// Appends the payload JSON to `out`.
    pub fn write_payload(&self, out: &mut String) {
        match &self.payload {
            Payload::Recheck => out.push_str("null"),
            Payload::Whole(json) => out.push_str(json),
            Payload::WithKey { head, key, tail } => {
                out.push_str(head);
                out.push_str(key);
                out.push_str(tail);
            }
        }
    }

    /// The payload as a JSON value (for tests and diagnostics).
    pub fn payload_value(&self) -> serde_json::Value {
        let mut json = String::new();
        self.write_payload(&mut json);
        serde_json::from_str(&json).unwrap_or_default()
    }
}

/// A message event whose payload differs from reader to reader only in the
/// top-level `key` (their own wrapped content key): serialised once, with
/// each reader's key spliced in. The recipient list a reader verifies grows
/// with the group, so serialising the whole message per reader would make
/// fan-out quadratic.
#[derive(Debug, Clone)]
pub struct PerReader {
    event_type: EventType,
    head: Arc<str>,
    tail: Arc<str>,
}

/// Where the reader's key goes: the message's only `key` field, serialised
/// empty. A string value cannot contain this byte sequence (its quotes
/// would be escaped), so the one match is the field itself.
const KEY_SLOT: &str = "\"key\":\"\"";

impl PerReader {
    /// Prepares `event` (a message event whose message has an empty `key`
    /// and no `key_index`). `None` when its JSON does not have exactly one
    /// empty `key` field, or has a `key_index`.
    pub fn new(event: &Event) -> Option<PerReader> {
        let json = serde_json::to_string(&event.payload_json().ok()?).ok()?;
        let at = json.find(KEY_SLOT)?;
        if json[at + KEY_SLOT.len()..].contains(KEY_SLOT) || json.contains("\"key_index\":") {
            return None;
        }
        // The head ends with the key's opening quote; the tail starts after
        // its closing one, so the reader's key index can follow the key.
        let value_at = at + KEY_SLOT.len() - 1;
        Some(PerReader {
            event_type: event.event_type(),
            head: json[..value_at].into(),
            tail: json[value_at + 1..].into(),
        })
    }

    /// The event for the reader whose wrapped key is `key`, wrapped for
    /// their key at `key_index`.
    pub fn for_key(&self, key: &[u8], key_index: Option<i64>) -> Outgoing {
        use base64::Engine;
        let mut value = base64::engine::general_purpose::STANDARD.encode(key);
        value.push('"');
        if let Some(index) = key_index {
            value.push_str(&format!(",\"key_index\":{index}"));
        }
        Outgoing {
            event_type: self.event_type,
            payload: Payload::WithKey {
                head: self.head.clone(),
                key: value,
                tail: self.tail.clone(),
            },
        }
    }
}

/// The open sockets of each user: socket id and its event queue.
type Sockets = HashMap<String, Vec<(u64, mpsc::Sender<Outgoing>)>>;

/// The open sockets, by username.
#[derive(Debug)]
pub struct Hub {
    queue: usize,
    next_id: AtomicU64,
    sockets: Mutex<Sockets>,
}

/// One socket's end of the hub.
#[derive(Debug)]
pub struct Subscription {
    /// Identifies the socket in the hub.
    pub id: u64,
    /// Events for this socket, in order.
    pub events: mpsc::Receiver<Outgoing>,
}

impl Hub {
    /// A hub whose sockets each queue at most `queue` events.
    pub fn new(queue: usize) -> Self {
        Hub {
            queue: queue.max(1),
            next_id: AtomicU64::new(1),
            sockets: Mutex::new(HashMap::new()),
        }
    }

    /// Registers a socket for `username`.
    pub fn subscribe(&self, username: &str) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.queue);
        self.lock()
            .entry(username.to_owned())
            .or_default()
            .push((id, tx));
        Subscription { id, events: rx }
    }

    /// Removes a socket (when it closes).
    pub fn unsubscribe(&self, username: &str, id: u64) {
        let mut sockets = self.lock();
        if let Some(list) = sockets.get_mut(username) {
            list.retain(|(socket, _)| *socket != id);
            if list.is_empty() {
                sockets.remove(username);
            }
        }
    }

    /// Asks every socket of `username` to re-check the user's key before
    /// anything else (its key changed in another process).
    pub fn recheck(&self, username: &str) {
        self.queue(
            username,
            Outgoing {
                event_type: EventType::UserKeyChanged,
                payload: Payload::Recheck,
            },
        );
    }

    /// Closes every socket of `username` (the user was deleted).
    pub fn disconnect(&self, username: &str) {
        self.lock().remove(username);
    }

    /// Queues `event` for every socket of `username`, dropping sockets that
    /// cannot keep up.
    pub fn send(&self, username: &str, event: &Event) {
        self.send_all([username], event);
    }

    /// Queues `event` for every socket of every user in `usernames`; its
    /// payload is serialised once for all of them.
    pub fn send_all<'a>(&self, usernames: impl IntoIterator<Item = &'a str>, event: &Event) {
        match Outgoing::of(event) {
            Ok(outgoing) => {
                for username in usernames {
                    self.queue(username, outgoing.clone());
                }
            }
            Err(e) => tracing::error!(%e, "cannot serialise an event"),
        }
    }

    /// Queues an already serialised event for every socket of `username`.
    pub fn queue(&self, username: &str, outgoing: Outgoing) {
        let mut sockets = self.lock();
        let Some(list) = sockets.get_mut(username) else {
            return;
        };
        list.retain(|(id, tx)| match tx.try_send(outgoing.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(socket = id, "closing a WebSocket whose event queue is full");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        if list.is_empty() {
            sockets.remove(username);
        }
    }

    /// The users with at least one open socket.
    pub fn online_users(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// How many sockets are open.
    pub fn socket_count(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sockets> {
        self.sockets.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::BaseConversation;

    fn event() -> Event {
        Event::ConversationDeleted(BaseConversation {
            id: uuid::Uuid::nil(),
        })
    }

    fn queued() -> Outgoing {
        Outgoing::of(&event()).unwrap()
    }

    #[tokio::test]
    async fn events_reach_every_socket_of_the_user() {
        let hub = Hub::new(4);
        let mut a = hub.subscribe("alice");
        let mut b = hub.subscribe("alice");
        let mut c = hub.subscribe("bob");
        hub.send("alice", &event());
        assert_eq!(a.events.recv().await, Some(queued()));
        assert_eq!(b.events.recv().await, Some(queued()));
        assert!(c.events.try_recv().is_err());
    }

    #[test]
    fn a_message_is_serialised_once_with_each_readers_key_spliced_in() {
        let mut message: crate::models::Message =
            serde_json::from_str(crate::models::Message::EXAMPLE_JSON).unwrap();
        let event = |m: crate::models::Message| Event::MessageCreated(m);
        message.key = crate::wire::Bytes(Vec::new());
        let template = PerReader::new(&event(message.clone())).unwrap();
        for (key, index) in [(vec![1u8, 2, 3], None), (vec![0xff; 384], Some(7))] {
            let mut own = message.clone();
            own.key = crate::wire::Bytes(key.clone());
            own.key_index = index;
            let spliced = template.for_key(&key, index);
            assert_eq!(spliced.event_type(), EventType::MessageCreated);
            assert_eq!(
                spliced.payload_value(),
                Outgoing::of(&event(own)).unwrap().payload_value()
            );
        }
        // A message whose key is not empty has no slot to splice into.
        let mut keyed = message;
        keyed.key = crate::wire::Bytes(vec![9]);
        assert!(PerReader::new(&event(keyed)).is_none());
    }

    #[tokio::test]
    async fn a_full_queue_drops_only_that_socket() {
        let hub = Hub::new(1);
        let mut slow = hub.subscribe("alice");
        let mut fast = hub.subscribe("alice");
        hub.send("alice", &event());
        assert!(fast.events.recv().await.is_some());
        hub.send("alice", &event());
        // The slow socket's queue was full: its sender is gone, so after the
        // queued event its receiver reports the end.
        assert!(slow.events.recv().await.is_some());
        assert_eq!(slow.events.recv().await, None);
        assert!(fast.events.recv().await.is_some());
        assert_eq!(hub.socket_count(), 1);
    }

    #[tokio::test]
    async fn disconnect_closes_the_users_sockets() {
        let hub = Hub::new(4);
        let mut a = hub.subscribe("alice");
        hub.disconnect("alice");
        assert_eq!(a.events.recv().await, None);
    }
}
