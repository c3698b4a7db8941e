//! What a committed change tells whom, and how it gets there.
//!
//! Handlers describe a change's events as a [`Fanout`] and publish it in
//! the conversation's [`ConversationTurn`]. On SQLite (one process) the fan-out goes
//! straight to this process's sockets. On PostgreSQL it is recorded in the
//! database with the conversation's next seq and announced, and every
//! instance, this one included, delivers it from its listener
//! (`server::listener`) in seq order: sockets on every instance
//! hear a conversation's changes in the order the database applied them.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::bodies::Event;
use crate::models::{Message, MessageConversation};
use crate::server::error::Failure;
use crate::server::hub::{Hub, PerReader};
use crate::server::protocol::Caller;
use crate::server::state::State;
use crate::store::{ConversationTurn, MemberRecord, NewMessage};
use crate::wire::Bytes;

/// The events of one change: each to its recipients.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fanout {
    deliveries: Vec<Delivery>,
}

/// One event and who hears it.
#[derive(Debug, Clone, PartialEq)]
struct Delivery {
    /// As the actor sees it (their own keys in it).
    event: Event,
    to: Vec<String>,
    /// Each recipient's own wrapped key, for an event that carries one.
    keys: Option<ReaderKeys>,
    /// The deliberately broken server (`event_members_only` off): everyone
    /// online hears the event as it stands, members or not.
    everyone_online: bool,
}

/// A [`Delivery`] as recorded for other instances: the event as its type
/// and payload JSON.
#[derive(Serialize, Deserialize)]
struct Recorded {
    #[serde(rename = "type")]
    event_type: String,
    payload: serde_json::Value,
    to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keys: Option<ReaderKeys>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    everyone_online: bool,
}

/// Where a recipient's own key goes, and each recipient's key with the
/// index of the recipient's key it is wrapped for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "slot", content = "by_reader", rename_all = "snake_case")]
enum ReaderKeys {
    /// The message's `key`; a recipient without one hears nothing.
    Message(BTreeMap<String, ReaderKey>),
    /// The conversation name's `key`; a recipient without one (reset by
    /// the operator) hears the conversation with no key.
    Name(BTreeMap<String, ReaderKey>),
}

/// One reader's wrapped key and the index of their key it is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ReaderKey {
    key: Bytes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index: Option<i64>,
}

impl Fanout {
    /// No events.
    pub fn new() -> Fanout {
        Fanout::default()
    }

    /// `event`, the same for each of `to`.
    pub fn to<'a>(mut self, to: impl IntoIterator<Item = &'a str>, event: &Event) -> Fanout {
        self.push(
            event,
            to.into_iter().map(str::to_owned).collect(),
            None,
            false,
        );
        self
    }

    /// A message event for every member holding a wrapped key (the sender's
    /// other devices included), each with only their own key.
    /// `sender_view` is the message as the sender sees it.
    pub fn message(
        mut self,
        members: &[MemberRecord],
        message: &NewMessage,
        sender_view: &Message,
        event: fn(Message) -> Event,
        members_only: bool,
    ) -> Fanout {
        let keys: BTreeMap<String, ReaderKey> = message
            .keys
            .iter()
            .map(|k| {
                let key = ReaderKey {
                    key: Bytes(k.wrapped_key.clone()),
                    index: k.key_index,
                };
                (k.username.clone(), key)
            })
            .collect();
        let to = members.iter().map(|m| m.username.clone()).collect();
        self.push(
            &event(sender_view.clone()),
            to,
            Some(ReaderKeys::Message(keys)),
            !members_only,
        );
        self
    }

    /// A conversation event for each of its members, with the name key
    /// wrapped for them (`name_keys`, by username, with the index of the key
    /// it is wrapped for).
    pub fn conversation(
        mut self,
        view: &MessageConversation,
        name_keys: HashMap<String, (Vec<u8>, Option<i64>)>,
        event: fn(MessageConversation) -> Event,
    ) -> Fanout {
        let to = view.members.iter().map(|m| m.username.clone()).collect();
        let keys = name_keys
            .into_iter()
            .map(|(u, (key, index))| {
                let key = ReaderKey {
                    key: Bytes(key),
                    index,
                };
                (u, key)
            })
            .collect();
        let keys = view.name.is_some().then_some(ReaderKeys::Name(keys));
        self.push(&event(view.clone()), to, keys, false);
        self
    }

    fn push(
        &mut self,
        event: &Event,
        to: Vec<String>,
        keys: Option<ReaderKeys>,
        everyone_online: bool,
    ) {
        self.deliveries.push(Delivery {
            event: event.clone(),
            to,
            keys,
            everyone_online,
        });
    }

    /// As recorded for other instances.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let recorded = self
            .deliveries
            .iter()
            .map(|d| {
                Ok(Recorded {
                    event_type: d.event.event_type().as_str().to_owned(),
                    payload: d.event.payload_json()?,
                    to: d.to.clone(),
                    keys: d.keys.clone(),
                    everyone_online: d.everyone_online,
                })
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        serde_json::to_string(&recorded)
    }

    /// Reads a recorded fan-out.
    pub fn from_json(json: &str) -> Result<Fanout, String> {
        let recorded: Vec<Recorded> = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let deliveries = recorded
            .into_iter()
            .map(|r| {
                Ok(Delivery {
                    event: Event::from_parts(&r.event_type, Some(r.payload))
                        .map_err(|e| e.to_string())?,
                    to: r.to,
                    keys: r.keys,
                    everyone_online: r.everyone_online,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Fanout { deliveries })
    }

    /// Queues every event for this process's sockets of its recipients.
    pub fn deliver(&self, hub: &Hub) {
        for delivery in &self.deliveries {
            delivery.deliver(hub);
        }
    }
}

impl Delivery {
    fn deliver(&self, hub: &Hub) {
        let event = &self.event;
        match &self.keys {
            None => hub.send_all(self.to.iter().map(String::as_str), event),
            Some(ReaderKeys::Message(keys)) => {
                // Serialised once; only each reader's key differs. Should the
                // payload ever lose its one key slot, each reader's event is
                // serialised whole.
                let template = with_message_key(event, None).and_then(|e| PerReader::new(&e));
                for username in &self.to {
                    let Some(key) = keys.get(username) else {
                        continue;
                    };
                    match &template {
                        Some(template) => {
                            hub.queue(username, template.for_key(key.key.as_slice(), key.index))
                        }
                        None => {
                            if let Some(own) = with_message_key(event, Some(key)) {
                                hub.send(username, &own);
                            }
                        }
                    }
                }
            }
            Some(ReaderKeys::Name(keys)) => {
                for username in &self.to {
                    hub.send(username, &with_name_key(event, keys.get(username)));
                }
            }
        }
        if self.everyone_online {
            for username in hub.online_users() {
                if !self.to.contains(&username) {
                    hub.send(&username, event);
                }
            }
        }
    }
}

/// The message event with `key` (empty for `None`) as the message's key;
/// `None` if it is not a message event.
fn with_message_key(event: &Event, key: Option<&ReaderKey>) -> Option<Event> {
    let own = |message: &Message| Message {
        key: key.map(|k| k.key.clone()).unwrap_or_default(),
        key_index: key.and_then(|k| k.index),
        ..message.clone()
    };
    match event {
        Event::MessageCreated(m) => Some(Event::MessageCreated(own(m))),
        Event::MessageUpdated(m) => Some(Event::MessageUpdated(own(m))),
        _ => None,
    }
}

/// The conversation event with `key` as its name's key.
fn with_name_key(event: &Event, key: Option<&ReaderKey>) -> Event {
    let own = |view: &MessageConversation| {
        let mut own = view.clone();
        if let Some(name) = &mut own.name {
            name.key = key.map(|k| k.key.clone());
            name.key_index = key.and_then(|k| k.index);
        }
        own
    };
    match event {
        Event::ConversationCreated(v) => Event::ConversationCreated(own(v)),
        Event::ConversationUpdated(v) => Event::ConversationUpdated(own(v)),
        other => other.clone(),
    }
}

impl State {
    /// Waits for conversation `id`'s turn ([`ConversationTurn`]) for
    /// `caller`'s change. Take it before reading what the change depends
    /// on; the store's writes to the conversation require it, and
    /// [`State::publish`] ends it. Where the pipeline left the caller's
    /// request id to be recorded with the change (`Caller::pending`), the
    /// turn carries it into the change's transaction.
    pub async fn conversation_turn(
        &self,
        caller: &Caller,
        id: uuid::Uuid,
    ) -> Result<ConversationTurn, Failure> {
        let turn = self.store.conversation_turn(id).await?;
        Ok(turn.for_request(caller.pending.clone()))
    }

    /// Publishes the events of a change committed in `turn` and ends the
    /// turn. The change stands whatever happens here: should PostgreSQL
    /// fail to record the events, this process's sockets still hear them
    /// and the failure is logged.
    pub async fn publish(&self, turn: ConversationTurn, fanout: Fanout, now: i64) {
        if !turn.is_shared() {
            // Delivered before the turn ends: the next change's events
            // queue behind these.
            fanout.deliver(&self.hub);
            drop(turn);
            return;
        }
        let recorded = match fanout.to_json() {
            Ok(json) => turn.record(&json, now).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = recorded {
            tracing::warn!(%e, "cannot record events for other instances; only this one's sockets hear them");
            fanout.deliver(&self.hub);
        }
    }

    /// Publishes events that belong to no conversation's order (a user's
    /// key change).
    pub async fn publish_user_event(&self, fanout: Fanout, now: i64) {
        if self.store.backend() == crate::store::Backend::Sqlite {
            fanout.deliver(&self.hub);
            return;
        }
        let recorded = match fanout.to_json() {
            Ok(json) => self
                .store
                .record_user_event(&json, now)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = recorded {
            tracing::warn!(%e, "cannot record events for other instances; only this one's sockets hear them");
            fanout.deliver(&self.hub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::BaseConversation;

    #[test]
    fn a_fanout_survives_its_record() {
        let fanout = Fanout::new().to(
            ["alice", "bob"],
            &Event::ConversationDeleted(BaseConversation {
                id: uuid::Uuid::nil(),
            }),
        );
        let back = Fanout::from_json(&fanout.to_json().unwrap()).unwrap();
        assert_eq!(back, fanout);
        assert_eq!(back.deliveries[0].to, ["alice", "bob"]);
    }
}
