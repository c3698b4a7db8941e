//! The WebSocket hub: which sockets are open for which user, and the
//! bounded queues events travel through.
//!
//! Sending never waits: an event goes into each socket's bounded queue with
//! `try_send`, and a socket whose queue is full is dropped from the hub (its
//! task then sees its queue close and shuts the socket). A slow or dead
//! reader therefore costs everyone else nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use crate::bodies::Event;

/// The open sockets of each user: socket id and its event queue.
type Sockets = HashMap<String, Vec<(u64, mpsc::Sender<Event>)>>;

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
    pub events: mpsc::Receiver<Event>,
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

    /// Closes every socket of `username` (the user was deleted).
    pub fn disconnect(&self, username: &str) {
        self.lock().remove(username);
    }

    /// Queues `event` for every socket of `username`, dropping sockets that
    /// cannot keep up.
    pub fn send(&self, username: &str, event: Event) {
        let mut sockets = self.lock();
        let Some(list) = sockets.get_mut(username) else {
            return;
        };
        list.retain(|(id, tx)| match tx.try_send(event.clone()) {
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

    /// Queues `event` for every socket of every user in `usernames`.
    pub fn send_all<'a>(&self, usernames: impl IntoIterator<Item = &'a str>, event: &Event) {
        for username in usernames {
            self.send(username, event.clone());
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

    #[tokio::test]
    async fn events_reach_every_socket_of_the_user() {
        let hub = Hub::new(4);
        let mut a = hub.subscribe("alice");
        let mut b = hub.subscribe("alice");
        let mut c = hub.subscribe("bob");
        hub.send("alice", event());
        assert_eq!(a.events.recv().await, Some(event()));
        assert_eq!(b.events.recv().await, Some(event()));
        assert!(c.events.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_full_queue_drops_only_that_socket() {
        let hub = Hub::new(1);
        let mut slow = hub.subscribe("alice");
        let mut fast = hub.subscribe("alice");
        hub.send("alice", event());
        assert!(fast.events.recv().await.is_some());
        hub.send("alice", event());
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
