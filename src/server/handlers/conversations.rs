//! `conversation.*`. Rules: any member may rename; only the owner may change
//! the member list or delete; an owner who leaves hands ownership to the
//! longest-standing member; the last member to leave deletes the
//! conversation. Non-members get `not_found`, never a hint that it exists.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::bodies::Event;
use crate::models::*;
use crate::server::handlers::views;
use crate::server::pipeline::{Caller, unix_ms};
use crate::server::state::State;
use crate::store::{ConversationRecord, LeaveOutcome};

/// Longest conversation name, in characters.
const MAX_NAME: usize = 128;
/// Messages in the page `conversation.get` returns.
pub const FIRST_PAGE: i64 = 50;

pub async fn create(
    state: &State,
    caller: &Caller,
    payload: CreateConversation,
) -> Result<MessageConversation, Error> {
    let name = check_name(payload.name)?;
    let others: BTreeSet<String> = payload
        .members
        .into_iter()
        .filter(|m| *m != caller.username)
        .collect();
    if others.is_empty() {
        return Err(Error::bad_request(
            "a conversation needs at least one other member",
        ));
    }
    check_member_count(state, others.len() + 1)?;
    let others: Vec<String> = others.into_iter().collect();
    let record = state
        .store
        .create_conversation(
            Uuid::new_v4(),
            name,
            &caller.username,
            &others,
            unix_ms(caller.now),
        )
        .await?;
    let view = views::conversation(record, Vec::new(), None);
    // Every member's sockets, the caller's included: their other devices
    // learn of it too.
    state.hub.send_all(
        view.members.iter().map(|m| m.username.as_str()),
        &Event::ConversationCreated(view.clone()),
    );
    Ok(view)
}

pub async fn update(
    state: &State,
    caller: &Caller,
    payload: Conversation,
) -> Result<MessageConversation, Error> {
    let _order = state.conversation_lock(payload.id).await;
    let current = visible(state, caller, payload.id).await?;
    let now = unix_ms(caller.now);
    // Validate everything before the first write, so a refused update
    // changes nothing.
    let name = payload.name.map(|n| check_name(Some(n))).transpose()?;
    let members = match payload.members {
        Some(members) => {
            if current.owner != caller.username {
                return Err(Error::forbidden("only the owner may change the members"));
            }
            let members: BTreeSet<String> = members.into_iter().collect();
            if !members.contains(&current.owner) {
                return Err(Error::bad_request(
                    "the owner must stay a member; leave or delete the conversation instead",
                ));
            }
            if members.len() < 2 {
                return Err(Error::bad_request(
                    "a conversation needs at least one other member",
                ));
            }
            check_member_count(state, members.len())?;
            Some(members.into_iter().collect::<Vec<String>>())
        }
        None => None,
    };
    let (current, _, removed) = state
        .store
        .update_conversation(payload.id, name, members.as_deref(), now)
        .await?;
    let view = page(state, caller, current).await?;
    // Others get the conversation without messages: the page holds the
    // caller's own wrapped keys, and each reader fetches their own.
    let event = MessageConversation {
        messages: Vec::new(),
        next_cursor: None,
        ..view.clone()
    };
    state.hub.send_all(
        view.members.iter().map(|m| m.username.as_str()),
        &Event::ConversationUpdated(event),
    );
    state.hub.send_all(
        removed.iter().map(String::as_str),
        &Event::ConversationDeleted(BaseConversation { id: payload.id }),
    );
    Ok(view)
}

pub async fn leave(
    state: &State,
    caller: &Caller,
    payload: BaseConversation,
) -> Result<Empty, Error> {
    let _order = state.conversation_lock(payload.id).await;
    visible(state, caller, payload.id).await?;
    match state
        .store
        .leave_conversation(payload.id, &caller.username, unix_ms(caller.now))
        .await?
    {
        LeaveOutcome::Left { remaining, .. } => {
            let event = Event::ConversationLeft(MemberLeft {
                conversation_id: payload.id,
                username: caller.username.clone(),
            });
            let told = remaining.iter().map(String::as_str);
            state
                .hub
                .send_all(told.chain([caller.username.as_str()]), &event);
        }
        LeaveOutcome::Deleted => {
            let event = Event::ConversationDeleted(BaseConversation { id: payload.id });
            state.hub.send(&caller.username, event);
        }
    }
    Ok(Empty {})
}

pub async fn delete(
    state: &State,
    caller: &Caller,
    payload: BaseConversation,
) -> Result<Empty, Error> {
    let _order = state.conversation_lock(payload.id).await;
    let current = visible(state, caller, payload.id).await?;
    if current.owner != caller.username {
        return Err(Error::forbidden(
            "only the owner may delete the conversation",
        ));
    }
    let members = state.store.delete_conversation(payload.id).await?;
    state.hub.send_all(
        members.iter().map(String::as_str),
        &Event::ConversationDeleted(BaseConversation { id: payload.id }),
    );
    Ok(Empty {})
}

pub async fn get(
    state: &State,
    caller: &Caller,
    payload: BaseConversation,
) -> Result<MessageConversation, Error> {
    let conversation = visible(state, caller, payload.id).await?;
    page(state, caller, conversation).await
}

pub async fn list(state: &State, caller: &Caller) -> Result<List, Error> {
    let conversations = state.store.list_conversations(&caller.username).await?;
    let mut latest = state.store.latest_messages(&caller.username).await?;
    let items = conversations
        .into_iter()
        .map(|c| {
            let message = latest.remove(&c.id);
            views::conversation(c, message.into_iter().collect(), None)
        })
        .collect();
    Ok(List { items })
}

/// The conversation if the caller is a member; `not_found` otherwise.
pub async fn visible(
    state: &State,
    caller: &Caller,
    id: Uuid,
) -> Result<ConversationRecord, Error> {
    let conversation = state.store.get_conversation(id).await?;
    match conversation {
        Some(c)
            if !state.config.rules.membership
                || c.members.iter().any(|m| m.username == caller.username) =>
        {
            Ok(c)
        }
        _ => Err(Error::not_found(format!(
            "no conversation {id} is visible to you"
        ))),
    }
}

/// The conversation with its latest page of messages, as the caller sees it.
async fn page(
    state: &State,
    caller: &Caller,
    conversation: ConversationRecord,
) -> Result<MessageConversation, Error> {
    let (messages, next) = state
        .store
        .list_messages(conversation.id, &caller.username, None, FIRST_PAGE)
        .await?;
    Ok(views::conversation(conversation, messages, next))
}

fn check_name(name: Option<String>) -> Result<Option<String>, Error> {
    let Some(name) = name.map(|n| n.trim().to_owned()) else {
        return Ok(None);
    };
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::bad_request(format!(
            "name must be at most {MAX_NAME} printable characters"
        )));
    }
    Ok(Some(name))
}

fn check_member_count(state: &State, count: usize) -> Result<(), Error> {
    let max = state.config.limits.max_members;
    if count as i64 > max {
        return Err(Error::too_large(format!(
            "{count} members is more than the limit of {max}"
        )));
    }
    Ok(())
}
