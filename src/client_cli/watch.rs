//! `nanochat-client watch`: the live view of a user's events, with
//! catch-up after a reconnect, as text or JSON lines.

use super::*;

pub(super) async fn watch(
    chat: &Chat,
    only: Option<Uuid>,
    count: Option<u64>,
    printer: &mut Printer<'_>,
) -> anyhow::Result<()> {
    let mut stream = EventStream::open(chat.session()).await.map_err(explain)?;
    printer.ready()?;
    // The conversations as last seen: to open messages with, and to name
    // one that is gone.
    let mut conversations: HashMap<Uuid, MessageConversation> = HashMap::new();
    for c in chat
        .session()
        .conversation_list()
        .await
        .map_err(explain)?
        .items
    {
        chat.remember_names(&c);
        conversations.insert(c.id, c);
    }
    let mut printed = 0;
    // Between the catch-up markers: events recovered from history, where a
    // conversation that is gone may have been deleted or left us.
    let mut recovered = false;
    while count.is_none_or(|n| printed < n) {
        let event = match stream.next_item().await.map_err(explain)? {
            StreamItem::Event(event) => event,
            StreamItem::CatchingUp { reconnects } => {
                recovered = true;
                printer.catching_up(reconnects)?;
                continue;
            }
            StreamItem::CaughtUp { missed } => {
                recovered = false;
                printer.caught_up(missed)?;
                continue;
            }
        };
        let conversation_id = event_conversation(&event);
        if only.is_some() && conversation_id != only {
            continue;
        }
        let opened = match &event {
            Event::MessageCreated(m) | Event::MessageUpdated(m) => {
                let conversation = match conversations.entry(m.conversation_id) {
                    std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                    std::collections::hash_map::Entry::Vacant(slot) => slot.insert(
                        chat.conversation(m.conversation_id)
                            .await
                            .map_err(explain)?,
                    ),
                };
                let mut opened = chat
                    .open_all(conversation, vec![m.clone()])
                    .await
                    .map_err(explain)?;
                if opened
                    .first()
                    .is_some_and(|o| o.sender_display_name.is_none())
                {
                    // A sender who is not in the view this watch holds
                    // (joined since): fetch the members again, once.
                    *conversation = chat
                        .conversation(m.conversation_id)
                        .await
                        .map_err(explain)?;
                    opened = chat
                        .open_all(conversation, vec![m.clone()])
                        .await
                        .map_err(explain)?;
                }
                opened.pop()
            }
            Event::ConversationUpdated(c) | Event::ConversationCreated(c) => {
                chat.check_sealers(std::slice::from_ref(c))
                    .await
                    .map_err(explain)?;
                chat.remember_names(c);
                conversations.insert(c.id, c.clone());
                None
            }
            Event::UserKeyChanged(user) => {
                // Checked now along their key history: a rotation is
                // followed quietly (a verified mark stays), an unexplained
                // change warns loudly and clears the mark.
                let change = chat.key_changed(user).await.map_err(explain)?;
                conversations.clear();
                printer.key_change(&user.username, &change)?;
                printed += 1;
                continue;
            }
            _ => None,
        };
        let known = conversation_id.and_then(|id| match &event {
            Event::ConversationDeleted(_) | Event::ConversationRemoved(_) => {
                conversations.remove(&id)
            }
            Event::ConversationLeft(l) if l.username == chat.username() => {
                conversations.remove(&id)
            }
            _ => conversations.get(&id).cloned(),
        });
        printer.event(chat, &event, opened.as_ref(), known.as_ref(), recovered)?;
        if let Event::ConversationLeft(l) = &event
            && let Some(c) = conversations.get_mut(&l.conversation_id)
        {
            c.members.retain(|m| m.username != l.username);
        }
        printed += 1;
    }
    Ok(())
}

/// The conversation an event is about, if any.
pub(super) fn event_conversation(event: &Event) -> Option<Uuid> {
    match event {
        Event::MessageCreated(m) | Event::MessageUpdated(m) => Some(m.conversation_id),
        Event::MessageDeleted(m) => Some(m.conversation_id),
        Event::ConversationCreated(c) | Event::ConversationUpdated(c) => Some(c.id),
        Event::ConversationDeleted(c) | Event::ConversationRemoved(c) => Some(c.id),
        Event::ConversationLeft(l) => Some(l.conversation_id),
        Event::UserKeyChanged(_) => None,
    }
}
