//! Events of writes made before a socket opened.
//!
//! api.yml lets them arrive late (an instance that learns of writes through
//! a shared database hears of them after the fact), but only before any
//! event of a later write. The runner therefore excuses such an event when
//! it is not the one a step waits for, once per earlier write, and only
//! until the socket has delivered its first event of a later write.

use serde_json::Value;

/// Any subject: writes whose events cannot be named in advance (a user
/// deleted or reset leaves, and changes, every conversation they were in).
const ANY: &str = "*";

/// What one earlier write may still announce: an event type and its subject
/// (a message or conversation id, a username).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Announcement {
    event_type: &'static str,
    subject: String,
}

/// The writes, in order, that a socket opened now may still hear of late.
#[derive(Clone, Debug, Default)]
pub struct Writes {
    announcements: Vec<Announcement>,
}

impl Writes {
    /// Records a successful request of `body_type` by `username` with
    /// `payload` (as sent); requests that announce nothing are ignored.
    pub fn record(&mut self, body_type: &str, username: &str, payload: Option<&Value>) {
        let id = payload
            .and_then(|p| p.get("id"))
            .and_then(Value::as_str)
            .unwrap_or(ANY)
            .to_owned();
        let types: &[&'static str] = match body_type {
            "conversation.create" => &["event.conversation.created"],
            "conversation.update" => &["event.conversation.updated", "event.conversation.removed"],
            "conversation.delete" => &["event.conversation.deleted"],
            "conversation.leave" => &[
                "event.conversation.left",
                "event.conversation.updated",
                "event.conversation.deleted",
            ],
            "message.create" => &["event.message.created"],
            "message.update" => &["event.message.updated"],
            "message.delete" => &["event.message.deleted"],
            "user.update" => {
                self.push("event.user.key_changed", username);
                return;
            }
            _ => return,
        };
        for event_type in types {
            self.push(event_type, &id);
        }
    }

    /// Records an operator's reset or deletion of `username`.
    pub fn record_operator(&mut self, username: &str) {
        self.push("event.user.key_changed", username);
        for event_type in [
            "event.conversation.left",
            "event.conversation.updated",
            "event.conversation.deleted",
        ] {
            self.push(event_type, ANY);
        }
    }

    fn push(&mut self, event_type: &'static str, subject: &str) {
        self.announcements.push(Announcement {
            event_type,
            subject: subject.to_owned(),
        });
    }
}

/// A socket's allowance for late events: what was written before it opened.
#[derive(Debug)]
pub struct Allowance {
    earlier: Vec<Announcement>,
    settled: bool,
}

impl Allowance {
    /// The allowance of a socket opened after `writes`.
    pub fn opened_after(writes: &Writes) -> Self {
        Allowance {
            earlier: writes.announcements.clone(),
            settled: false,
        }
    }

    /// Whether an event the step did not expect may be passed over as the
    /// late news of an earlier write; each earlier write excuses one event.
    pub fn excuse(&mut self, event_type: &str, payload: &Value) -> bool {
        if self.settled {
            return false;
        }
        let subject = subject_of(event_type, payload);
        let found = self.earlier.iter().position(|a| {
            a.event_type == event_type && (a.subject == ANY || Some(a.subject.as_str()) == subject)
        });
        match found {
            Some(i) => {
                self.earlier.remove(i);
                true
            }
            None => false,
        }
    }

    /// The socket delivered an event of a later write: nothing earlier can
    /// follow it.
    pub fn settle(&mut self) {
        self.settled = true;
    }
}

/// The id an event is about, as the write that caused it named it.
fn subject_of<'a>(event_type: &str, payload: &'a Value) -> Option<&'a str> {
    let field = match event_type {
        "event.conversation.left" => "conversation_id",
        "event.user.key_changed" => "username",
        _ => "id",
    };
    payload.get(field).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_earlier_create_excuses_its_own_event_once() {
        let mut writes = Writes::default();
        writes.record("conversation.create", "alice", Some(&json!({"id": "c1"})));
        let mut allowance = Allowance::opened_after(&writes);
        let created = json!({"id": "c1"});
        assert!(allowance.excuse("event.conversation.created", &created));
        assert!(!allowance.excuse("event.conversation.created", &created));
    }

    #[test]
    fn nothing_is_excused_for_other_subjects_or_after_a_later_event() {
        let mut writes = Writes::default();
        writes.record("message.create", "alice", Some(&json!({"id": "m1"})));
        writes.record("message.update", "alice", Some(&json!({"id": "m1"})));
        let mut allowance = Allowance::opened_after(&writes);
        assert!(!allowance.excuse("event.message.created", &json!({"id": "m2"})));
        assert!(!allowance.excuse("event.message.deleted", &json!({"id": "m1"})));
        allowance.settle();
        assert!(!allowance.excuse("event.message.updated", &json!({"id": "m1"})));
    }

    #[test]
    fn later_writes_are_not_excused() {
        let mut writes = Writes::default();
        let mut allowance = Allowance::opened_after(&writes);
        writes.record("conversation.create", "alice", Some(&json!({"id": "c1"})));
        assert!(!allowance.excuse("event.conversation.created", &json!({"id": "c1"})));
    }

    #[test]
    fn a_leave_may_announce_a_left_an_update_or_a_deletion() {
        let mut writes = Writes::default();
        writes.record("conversation.leave", "bob", Some(&json!({"id": "c1"})));
        writes.record("user.update", "bob", Some(&json!({})));
        let mut allowance = Allowance::opened_after(&writes);
        assert!(allowance.excuse(
            "event.conversation.left",
            &json!({"conversation_id": "c1", "username": "bob"})
        ));
        assert!(allowance.excuse("event.conversation.updated", &json!({"id": "c1"})));
        assert!(allowance.excuse("event.user.key_changed", &json!({"username": "bob"})));
        assert!(!allowance.excuse("event.user.key_changed", &json!({"username": "carol"})));
    }
}
