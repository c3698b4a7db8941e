//! Keeps each conversation's events in seq order on a listening instance.
//!
//! Notifications arrive in commit order, which for one conversation is seq
//! order ([`crate::store::ConversationTurn`]); a gap means notifications
//! were lost (the listener reconnected), and the missed rows are already
//! committed, so the listener reads them before going on. Re-reads after a
//! reconnect overlap what was delivered: duplicates are dropped here.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::store::EventRecord;

/// Conversations not heard of for this long are forgotten (bounding
/// memory): their next event is taken as it comes.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// Ids of user events remembered for dropping re-read duplicates.
const RECENT_USER_EVENTS: usize = 4096;

/// What to do with an event just heard of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Deliver it.
    Deliver,
    /// Already delivered: drop it.
    Duplicate,
    /// Events after seq `after` and before this one were missed: read and
    /// deliver them first.
    Gap {
        /// The last seq delivered for its conversation.
        after: i64,
    },
}

/// The delivered position of every conversation heard of recently.
#[derive(Debug, Default)]
pub struct Sequencer {
    conversations: HashMap<String, (i64, Instant)>,
    user_events: HashSet<i64>,
    user_order: VecDeque<i64>,
}

impl Sequencer {
    /// Nothing delivered yet.
    pub fn new() -> Sequencer {
        Sequencer::default()
    }

    /// Where `event` stands.
    pub fn next(&self, event: &EventRecord) -> Next {
        match &event.conversation_id {
            None if self.user_events.contains(&event.id) => Next::Duplicate,
            None => Next::Deliver,
            Some(conversation) => match self.conversations.get(conversation) {
                None => Next::Deliver,
                Some(&(last, _)) if event.seq <= last => Next::Duplicate,
                Some(&(last, _)) if event.seq == last + 1 => Next::Deliver,
                Some(&(last, _)) => Next::Gap { after: last },
            },
        }
    }

    /// Whether `event` was not delivered yet (gaps allowed: for filling them).
    pub fn is_new(&self, event: &EventRecord) -> bool {
        self.next(event) != Next::Duplicate
    }

    /// Notes `event` as delivered at `now`.
    pub fn delivered(&mut self, event: &EventRecord, now: Instant) {
        match &event.conversation_id {
            None => {
                if self.user_events.insert(event.id) {
                    self.user_order.push_back(event.id);
                }
                while self.user_order.len() > RECENT_USER_EVENTS {
                    if let Some(old) = self.user_order.pop_front() {
                        self.user_events.remove(&old);
                    }
                }
            }
            Some(conversation) => {
                let entry = self
                    .conversations
                    .entry(conversation.clone())
                    .or_insert((event.seq, now));
                *entry = (entry.0.max(event.seq), now);
            }
        }
    }

    /// Forgets conversations quiet since before `now - FORGET_AFTER`.
    pub fn forget_quiet(&mut self, now: Instant) {
        self.conversations
            .retain(|_, (_, at)| now.duration_since(*at) < FORGET_AFTER);
    }

    /// How many conversations it follows.
    pub fn followed(&self) -> usize {
        self.conversations.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, conversation: Option<&str>, seq: i64) -> EventRecord {
        EventRecord {
            id,
            conversation_id: conversation.map(str::to_owned),
            seq,
            body: String::new(),
        }
    }

    #[test]
    fn a_conversations_events_go_in_seq_order_and_once() {
        let mut s = Sequencer::new();
        let now = Instant::now();
        // The first heard of is taken as it comes.
        let e5 = event(10, Some("c"), 5);
        assert_eq!(s.next(&e5), Next::Deliver);
        s.delivered(&e5, now);
        assert_eq!(s.next(&event(11, Some("c"), 6)), Next::Deliver);
        assert_eq!(s.next(&e5), Next::Duplicate);
        assert_eq!(s.next(&event(9, Some("c"), 4)), Next::Duplicate);
        // 6 and 7 were missed.
        assert_eq!(s.next(&event(14, Some("c"), 8)), Next::Gap { after: 5 });
        assert!(s.is_new(&event(12, Some("c"), 6)));
        for (id, seq) in [(12, 6), (13, 7), (14, 8)] {
            s.delivered(&event(id, Some("c"), seq), now);
        }
        assert_eq!(s.next(&event(13, Some("c"), 7)), Next::Duplicate);
        // Other conversations have their own order.
        assert_eq!(s.next(&event(15, Some("d"), 40)), Next::Deliver);
    }

    #[test]
    fn user_events_are_delivered_once() {
        let mut s = Sequencer::new();
        let e = event(3, None, 0);
        assert_eq!(s.next(&e), Next::Deliver);
        s.delivered(&e, Instant::now());
        assert_eq!(s.next(&e), Next::Duplicate);
        assert_eq!(s.next(&event(4, None, 0)), Next::Deliver);
        for id in 100..100 + RECENT_USER_EVENTS as i64 {
            s.delivered(&event(id, None, 0), Instant::now());
        }
        // Remembered ids are bounded; the oldest is forgotten.
        assert_eq!(s.next(&e), Next::Deliver);
    }

    #[test]
    fn quiet_conversations_are_forgotten() {
        let mut s = Sequencer::new();
        let start = Instant::now();
        s.delivered(&event(1, Some("c"), 1), start);
        s.delivered(&event(2, Some("d"), 1), start + FORGET_AFTER);
        s.forget_quiet(start + FORGET_AFTER + Duration::from_secs(1));
        assert_eq!(s.followed(), 1);
        assert_eq!(s.next(&event(9, Some("c"), 7)), Next::Deliver);
        assert_eq!(s.next(&event(9, Some("d"), 7)), Next::Gap { after: 1 });
    }
}
