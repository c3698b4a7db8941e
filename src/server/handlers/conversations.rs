//! `conversation.*`. Rules: any member may set, re-seal or remove the
//! sealed name; only the owner may change the member list or delete; a
//! named conversation's member change carries the name re-sealed for the
//! new members; an owner who leaves hands ownership to the longest-standing
//! member; the last member to leave deletes the conversation. Non-members
//! get `not_found`, never a hint that it exists.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::ConversationHandler;
use crate::bodies::Event;
use crate::models::*;
use crate::server::error::Failure;
use crate::server::fanout::Fanout;
use crate::server::handlers::{names, views};
use crate::server::protocol::{Caller, unix_ms};
use crate::server::rules;
use crate::server::state::State;
use crate::store::{ConversationRecord, LeaveOutcome, NameChange};

/// Messages in the page `conversation.get` returns.
pub const FIRST_PAGE: i64 = 50;

impl ConversationHandler for State {
    async fn conversation_create(
        &self,
        caller: &Caller,
        payload: CreateConversation,
    ) -> Result<MessageConversation, Failure> {
        let others: BTreeSet<String> = payload
            .members
            .into_iter()
            .filter(|m| *m != caller.username)
            .collect();
        rules::other_members(others.len())?;
        rules::member_count(self, others.len() + 1)?;
        let others: Vec<String> = others.into_iter().collect();
        let turn = self.conversation_turn(caller, payload.id).await?;
        let name = match payload.name {
            Some(name) => {
                let everyone: Vec<String> = others
                    .iter()
                    .cloned()
                    .chain([caller.username.to_string()])
                    .collect();
                let readers = reader_keys(self, &everyone, &everyone).await?;
                Some(names::check_sealed_name(self, caller, payload.id, name, 1, &readers).await?)
            }
            None => None,
        };
        let record = self
            .store
            .create_conversation(
                &turn,
                name.as_ref(),
                &caller.username,
                &others,
                unix_ms(caller.now),
            )
            .await?;
        let view = views::conversation(record, Vec::new(), None);
        // Every member's sockets, the caller's included: their other devices
        // learn of it too.
        let events = fan_out(self, Fanout::new(), &view, Event::ConversationCreated).await?;
        self.publish(turn, events, unix_ms(caller.now)).await;
        Ok(view)
    }

    async fn conversation_update(
        &self,
        caller: &Caller,
        payload: Conversation,
    ) -> Result<MessageConversation, Failure> {
        let turn = self.conversation_turn(caller, payload.id).await?;
        let current = rules::membership(self, caller, payload.id).await?;
        let now = unix_ms(caller.now);
        // Validate everything before the first write, so a refused update
        // changes nothing.
        let remove_name = payload.remove_name.unwrap_or(false);
        if remove_name && payload.name.is_some() {
            return Err(Failure::bad_request(
                "name and remove_name exclude each other",
            ));
        }
        let current_members: BTreeSet<String> =
            current.members.iter().map(|m| m.username.clone()).collect();
        let members = match payload.members {
            Some(members) => {
                rules::owner_only(self, caller, &current.owner, "change the members")?;
                let members: BTreeSet<String> = members.into_iter().collect();
                if !members.contains(&current.owner) {
                    return Err(Failure::bad_request(
                        "the owner must stay a member; leave or delete the conversation instead",
                    ));
                }
                rules::other_members(members.len() - 1)?;
                rules::member_count(self, members.len())?;
                // The same list is no change, and needs no re-sealed name.
                (members != current_members).then_some(members)
            }
            None => None,
        };
        rules::name_follows_members(
            self,
            members.is_some() && current.name.is_some(),
            payload.name.is_some() || remove_name,
        )?;
        let name = match payload.name {
            Some(name) => {
                let readers = match &members {
                    Some(new) => {
                        let new: Vec<String> = new.iter().cloned().collect();
                        let added: Vec<String> = new
                            .iter()
                            .filter(|m| !current_members.contains(*m))
                            .cloned()
                            .collect();
                        reader_keys(self, &new, &added).await?
                    }
                    None => current
                        .members
                        .iter()
                        .map(|m| {
                            let key = names::ReaderKey {
                                public_key: m.public_key.clone(),
                                key_index: m.key_index,
                            };
                            (m.username.clone(), key)
                        })
                        .collect(),
                };
                let next = current.name_revision + 1;
                let sealed =
                    names::check_sealed_name(self, caller, payload.id, name, next, &readers)
                        .await?;
                NameChange::Set(sealed)
            }
            None if remove_name => NameChange::Remove,
            None => NameChange::Keep,
        };
        let members: Option<Vec<String>> = members.map(|m| m.into_iter().collect());
        let (current, _, removed) = self
            .store
            .update_conversation(&turn, &name, members.as_deref(), &caller.username, now)
            .await?;
        let view = page(self, caller, current).await?;
        // Others get the conversation without messages: the page holds the
        // caller's own wrapped keys, and each reader fetches their own.
        let event = MessageConversation {
            messages: Vec::new(),
            next_cursor: None,
            ..view.clone()
        };
        let events = fan_out(self, Fanout::new(), &event, Event::ConversationUpdated)
            .await?
            .to(
                removed.iter().map(String::as_str),
                &rules::removal_event(self, payload.id),
            );
        self.publish(turn, events, now).await;
        Ok(view)
    }

    async fn conversation_leave(
        &self,
        caller: &Caller,
        payload: BaseConversation,
    ) -> Result<Empty, Failure> {
        let turn = self.conversation_turn(caller, payload.id).await?;
        rules::membership(self, caller, payload.id).await?;
        let events = match self
            .store
            .leave_conversation(&turn, &caller.username, unix_ms(caller.now))
            .await?
        {
            LeaveOutcome::Left { remaining, .. } => {
                let event = Event::ConversationLeft(MemberLeft {
                    conversation_id: payload.id,
                    username: caller.username.to_string(),
                });
                let told = remaining.iter().map(String::as_str);
                Fanout::new().to(told.chain([caller.username.as_str()]), &event)
            }
            LeaveOutcome::Deleted => {
                let event = Event::ConversationDeleted(BaseConversation { id: payload.id });
                Fanout::new().to([caller.username.as_str()], &event)
            }
        };
        self.publish(turn, events, unix_ms(caller.now)).await;
        Ok(Empty {})
    }

    async fn conversation_delete(
        &self,
        caller: &Caller,
        payload: BaseConversation,
    ) -> Result<Empty, Failure> {
        let turn = self.conversation_turn(caller, payload.id).await?;
        let current = rules::membership(self, caller, payload.id).await?;
        rules::owner_only(self, caller, &current.owner, "delete the conversation")?;
        let members = self.store.delete_conversation(&turn).await?;
        let events = Fanout::new().to(
            members.iter().map(String::as_str),
            &Event::ConversationDeleted(BaseConversation { id: payload.id }),
        );
        self.publish(turn, events, unix_ms(caller.now)).await;
        Ok(Empty {})
    }

    async fn conversation_get(
        &self,
        caller: &Caller,
        payload: BaseConversation,
    ) -> Result<MessageConversation, Failure> {
        let conversation = rules::membership(self, caller, payload.id).await?;
        page(self, caller, conversation).await
    }

    async fn conversation_list(&self, caller: &Caller) -> Result<List, Failure> {
        let conversations = self.store.list_conversations(&caller.username).await?;
        let mut latest = self.store.latest_messages(&caller.username).await?;
        let items = conversations
            .into_iter()
            .map(|c| {
                let message = latest.remove(&c.id);
                views::conversation(c, message.into_iter().collect(), None)
            })
            .collect();
        Ok(List { items })
    }
}

/// The public key of each of `members` (empty for a member reset by the
/// operator), for sealing checks. `must_exist` (new members) must all be
/// completed users: `not_found` otherwise, as the store would answer.
async fn reader_keys(
    state: &State,
    members: &[String],
    must_exist: &[String],
) -> Result<BTreeMap<String, names::ReaderKey>, Failure> {
    let mut keys = state.store.public_keys(members).await?;
    let unknown: Vec<&str> = must_exist
        .iter()
        .filter(|m| !keys.contains_key(*m))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(Failure::not_found(format!(
            "no such users: {}",
            unknown.join(", ")
        )));
    }
    Ok(members
        .iter()
        .map(|m| {
            let (public_key, key_index) = match keys.remove(m) {
                Some((key, index)) => (Some(key), index),
                None => (None, None),
            };
            let key = names::ReaderKey {
                public_key,
                key_index,
            };
            (m.clone(), key)
        })
        .collect())
}

/// Adds to `events` that every member of `view` (the actor's other devices
/// included) hears of the conversation, with the name key wrapped for them.
async fn fan_out(
    state: &State,
    events: Fanout,
    view: &MessageConversation,
    event: fn(MessageConversation) -> Event,
) -> Result<Fanout, Failure> {
    let keys = match view.name {
        Some(_) => state.store.name_keys(view.id).await?,
        None => Default::default(),
    };
    Ok(events.conversation(view, keys, event))
}

/// The conversation with its latest page of messages, as the caller sees it.
async fn page(
    state: &State,
    caller: &Caller,
    conversation: ConversationRecord,
) -> Result<MessageConversation, Failure> {
    let (messages, next) = state
        .store
        .list_messages(conversation.id, &caller.username, None, FIRST_PAGE)
        .await?;
    Ok(views::conversation(conversation, messages, next))
}
