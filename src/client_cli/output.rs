//! What `nanochat-client` prints: a line or two of text for people, or one
//! JSON document per result with `--json` (one per line, so `watch` is
//! NDJSON), so scripts never parse prose.

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::errors::human_size;
use crate::bodies::Event;
use crate::client::Chat;
use crate::client::chat::KeyChange;
use crate::client::history::{KeyOrigin, KeyView};
use crate::client::messages::{ChatMessage, Verdict};
use crate::client::pins::PinnedUser;
use crate::crypto::{Fingerprint, MessageContent};
use crate::models::{MessageConversation, PublicUser};

/// Prints results as text or JSON.
pub struct Printer<'a> {
    out: &'a mut dyn Write,
    json: bool,
}

impl<'a> Printer<'a> {
    /// A printer to `out`.
    pub fn new(out: &'a mut dyn Write, json: bool) -> Self {
        Printer { out, json }
    }

    fn emit(&mut self, value: Value, text: &str) -> anyhow::Result<()> {
        if self.json {
            writeln!(self.out, "{value}")?;
        } else {
            writeln!(self.out, "{text}")?;
        }
        self.out.flush()?;
        Ok(())
    }

    /// A command that only succeeded.
    pub fn done(&mut self, what: &str) -> anyhow::Result<()> {
        self.emit(json!({ "ok": true, "message": what }), what)
    }

    /// `watch` is listening.
    pub fn ready(&mut self) -> anyhow::Result<()> {
        self.emit(
            json!({ "event": "ready" }),
            "watching; new events follow (Ctrl-C to stop)",
        )
    }

    /// A user.
    pub fn user(&mut self, what: &str, user: &PublicUser) -> anyhow::Result<()> {
        self.emit(
            json!({
                "username": user.username,
                "display_name": user.display_name,
                "fingerprint": user.fingerprint,
            }),
            &format!(
                "{what}: {} ({})\n  fingerprint {}",
                user.username, user.display_name, user.fingerprint
            ),
        )
    }

    /// A fingerprint.
    pub fn fingerprint(
        &mut self,
        what: &str,
        username: &str,
        fingerprint: &Fingerprint,
    ) -> anyhow::Result<()> {
        self.emit(
            json!({ "username": username, "fingerprint": fingerprint.to_string() }),
            &format!("{what}: {username}\n  fingerprint {fingerprint}"),
        )
    }

    /// A contact just marked verified (or not).
    pub fn verified(
        &mut self,
        username: &str,
        fingerprint: &Fingerprint,
        verified: bool,
    ) -> anyhow::Result<()> {
        let text = if verified {
            format!(
                "verified {username}: you compared their current key\n  fingerprint {fingerprint}"
            )
        } else {
            format!("{username} is no longer marked verified")
        };
        self.emit(
            json!({
                "username": username,
                "fingerprint": fingerprint.to_string(),
                "verified": verified,
            }),
            &text,
        )
    }

    /// `trust list`: every pinned contact, one line each.
    pub fn contacts(&mut self, list: &[PinnedUser]) -> anyhow::Result<()> {
        if self.json {
            let items: Vec<Value> = list
                .iter()
                .map(|c| {
                    json!({
                        "username": c.username,
                        "fingerprint": c.fingerprint,
                        "key_index": c.index,
                        "verified": c.verified,
                    })
                })
                .collect();
            return self.emit(json!({ "contacts": items }), "");
        }
        if list.is_empty() {
            return self.emit(Value::Null, "no contacts pinned yet");
        }
        for c in list {
            let index = c.index.map_or("key ?".to_owned(), |i| format!("key {i}"));
            let verified = if c.verified {
                "verified"
            } else {
                "not verified"
            };
            self.emit(
                Value::Null,
                &format!("{}  {verified}  {index}  {}", c.username, c.fingerprint),
            )?;
        }
        Ok(())
    }

    /// `keys history`: one line per key of `username`, oldest first.
    pub fn key_history(&mut self, username: &str, keys: &[KeyView]) -> anyhow::Result<()> {
        let time = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        if self.json {
            let items: Vec<Value> = keys
                .iter()
                .map(|k| {
                    let (origin, signed_by) = match k.origin {
                        KeyOrigin::Rotation { signed_by } => ("rotation", Some(signed_by)),
                        KeyOrigin::ChainStart => ("chain_start", None),
                        KeyOrigin::Unchecked => ("unchecked", None),
                    };
                    json!({
                        "index": k.index,
                        "fingerprint": k.fingerprint.to_string(),
                        "since": time(k.since),
                        "until": k.until.map(time),
                        "trusted": k.trusted,
                        "origin": origin,
                        "signed_by": signed_by,
                    })
                })
                .collect();
            return self.emit(json!({ "username": username, "keys": items }), "");
        }
        for k in keys {
            let until = k
                .until
                .map_or("current".to_owned(), |t| format!("until {}", time(t)));
            let origin = match (k.origin, k.trusted) {
                (KeyOrigin::Rotation { signed_by }, _) => {
                    format!("rotation signed by key {signed_by}")
                }
                (KeyOrigin::ChainStart, true) => "chain start (first key or operator reset)".into(),
                (KeyOrigin::ChainStart, false) => {
                    "chain start (first key or operator reset); not in your trusted chain".into()
                }
                (KeyOrigin::Unchecked, _) => "not in your trusted chain".into(),
            };
            self.emit(
                Value::Null,
                &format!(
                    "{}  {}  since {}  {until}  {origin}",
                    k.index,
                    k.fingerprint,
                    time(k.since)
                ),
            )?;
        }
        Ok(())
    }

    /// `watch` met `event.user.key_changed`: a quiet notice for a rotation
    /// along the trusted chain, a loud warning for an unexplained change.
    pub fn key_change(&mut self, username: &str, change: &KeyChange) -> anyhow::Result<()> {
        let kind = crate::bodies::EventType::UserKeyChanged.as_str();
        let (value, text) = match change {
            KeyChange::Rotated {
                fingerprint,
                verified,
            } => (
                json!({
                    "event": kind,
                    "username": username,
                    "fingerprint": fingerprint,
                    "change": "rotation",
                    "verified": verified,
                }),
                format!(
                    "{kind}: {username} rotated their key (signed by their previous key){}\n  fingerprint {fingerprint}",
                    if *verified { "; still verified" } else { "" }
                ),
            ),
            KeyChange::AlreadyTrusted { fingerprint } => (
                json!({
                    "event": kind,
                    "username": username,
                    "fingerprint": fingerprint,
                    "change": "trusted",
                    "verified": false,
                }),
                format!(
                    "{kind}: {username} has the key {fingerprint}, which this device already trusts"
                ),
            ),
            KeyChange::Unexplained {
                pinned,
                announced,
                refused,
            } => {
                let why = refused
                    .as_ref()
                    .map(|why| format!("\n  refused:   {why}"))
                    .unwrap_or_default();
                (
                    json!({
                        "event": kind,
                        "username": username,
                        "fingerprint": announced,
                        "pinned": pinned,
                        "change": "unexplained",
                        "refused": refused,
                        "verified": false,
                    }),
                    format!(
                        "WARNING {kind}: the key of {username} changed, and the new key is not signed by the one you trusted (an operator reset, or someone impersonating them)!\n  pinned:    {pinned}\n  announced: {announced}{why}\n{username} is no longer marked verified, and nothing is sent to conversations with {username} until you accept the new key. Compare it with {username} (in person or on a call); if it is right, run: nanochat-client trust user {username} '{announced}'"
                    ),
                )
            }
        };
        self.emit(value, &text)
    }

    /// One conversation; with `members`, every member and fingerprint.
    pub fn conversation(
        &mut self,
        chat: &Chat,
        c: &MessageConversation,
        members: bool,
    ) -> anyhow::Result<()> {
        let name = super::name_of(chat, c);
        let mut text = format!(
            "{}  {}  owner {}  members {}",
            c.id,
            name.as_deref().unwrap_or("(unnamed)"),
            c.owner,
            c.members
                .iter()
                .map(|m| m.username.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if members {
            for m in &c.members {
                let fingerprint = if m.fingerprint.is_empty() {
                    "(no key: reset, waiting to complete again)"
                } else {
                    &m.fingerprint
                };
                text.push_str(&format!(
                    "\n  {} ({})  {fingerprint}",
                    m.username, m.display_name
                ));
            }
        }
        self.emit(conversation_json(chat, c), &text)
    }

    /// A list of conversations.
    pub fn conversations(
        &mut self,
        chat: &Chat,
        list: &[MessageConversation],
    ) -> anyhow::Result<()> {
        if self.json {
            let items: Vec<Value> = list.iter().map(|c| conversation_json(chat, c)).collect();
            return self.emit(json!({ "conversations": items }), "");
        }
        if list.is_empty() {
            return self.emit(Value::Null, "no conversations yet");
        }
        for c in list {
            self.conversation(chat, c, false)?;
        }
        Ok(())
    }

    /// One message (`message send`, `message edit`): the message object
    /// itself with `--json`.
    pub fn message(&mut self, m: &ChatMessage) -> anyhow::Result<()> {
        self.emit(message_json(m), &message_text(m))
    }

    /// `watch` reconnected: what follows happened while it was away.
    pub fn catching_up(&mut self, reconnects: u64) -> anyhow::Result<()> {
        self.emit(
            json!({ "event": "catching_up", "reconnects": reconnects }),
            "reconnected; catching up on what happened meanwhile",
        )
    }

    /// `watch` delivered everything it missed; live events follow.
    pub fn caught_up(&mut self, missed: usize) -> anyhow::Result<()> {
        let text = match missed {
            0 => "caught up: nothing was missed".to_owned(),
            1 => "caught up: 1 missed event above".to_owned(),
            n => format!("caught up: {n} missed events above"),
        };
        self.emit(json!({ "event": "caught_up", "missed": missed }), &text)
    }

    /// Messages, and the cursor of the next older page.
    pub fn messages(&mut self, list: &[ChatMessage], next: Option<&str>) -> anyhow::Result<()> {
        if self.json {
            let items: Vec<Value> = list.iter().map(message_json).collect();
            return self.emit(json!({ "messages": items, "next_cursor": next }), "");
        }
        for m in list {
            let text = message_text(m);
            self.emit(Value::Null, &text)?;
        }
        if let Some(next) = next {
            self.emit(Value::Null, &format!("(older messages: --before {next})"))?;
        }
        Ok(())
    }

    /// A downloaded file.
    pub fn download(
        &mut self,
        content: &MessageContent,
        size: usize,
        path: &Path,
    ) -> anyhow::Result<()> {
        self.emit(
            json!({
                "file_name": content.file_name,
                "file_type": content.file_type,
                "size": size,
                "output": path.display().to_string(),
            }),
            &format!(
                "saved {} ({}, verified) to {}",
                content.file_name.as_deref().unwrap_or("the file"),
                human_size(size as u64),
                path.display()
            ),
        )
    }

    /// One event of `watch`; `known` is the conversation it is about as
    /// `watch` last saw it (for the name of one that is gone); `recovered`
    /// when it was caught up from history after a reconnect rather than
    /// heard live.
    pub fn event(
        &mut self,
        chat: &Chat,
        event: &Event,
        opened: Option<&ChatMessage>,
        known: Option<&MessageConversation>,
        recovered: bool,
    ) -> anyhow::Result<()> {
        let name = |id: uuid::Uuid| {
            let name = known.and_then(|c| super::name_of(chat, c));
            match name {
                Some(name) => format!("{name} ({id})"),
                None => id.to_string(),
            }
        };
        let kind = event.event_type().as_str();
        let (value, text) = match (event, opened) {
            (Event::MessageCreated(_) | Event::MessageUpdated(_), Some(m)) => {
                let mut value = message_json(m);
                value["event"] = json!(kind);
                (value, format!("{kind}: {}", message_text(m)))
            }
            (Event::MessageDeleted(m), _) => (
                json!({ "event": kind, "conversation_id": m.conversation_id, "id": m.id }),
                format!("{kind}: {} in {}", m.id, m.conversation_id),
            ),
            (Event::ConversationCreated(c) | Event::ConversationUpdated(c), _) => {
                let mut value = conversation_json(chat, c);
                value["event"] = json!(kind);
                let name = super::name_of(chat, c);
                (
                    value,
                    format!(
                        "{kind}: {} {}",
                        c.id,
                        name.as_deref().unwrap_or("(unnamed)")
                    ),
                )
            }
            (Event::ConversationDeleted(c) | Event::ConversationRemoved(c), _) => {
                let owner = known.map(|k| k.owner.as_str());
                let (reason, text) = match event {
                    Event::ConversationRemoved(_) => (
                        "removed",
                        format!("{kind}: you were removed from {} by its owner", name(c.id)),
                    ),
                    // Caught up from history, a conversation that is gone
                    // reads the same whether it was deleted or we were
                    // removed; only the owner cannot have been removed.
                    _ if recovered && owner != Some(chat.username()) => (
                        "removed_or_deleted",
                        format!(
                            "{kind}: you are no longer a member of {}: it was deleted, or you were removed, while watch was away",
                            name(c.id)
                        ),
                    ),
                    _ if owner == Some(chat.username()) => {
                        ("deleted", format!("{kind}: {} was deleted", name(c.id)))
                    }
                    _ => (
                        "deleted",
                        format!("{kind}: {} was deleted by its owner", name(c.id)),
                    ),
                };
                (
                    json!({
                        "event": kind,
                        "conversation_id": c.id,
                        "name": known.and_then(|k| super::name_of(chat, k)),
                        "reason": reason,
                    }),
                    text,
                )
            }
            (Event::ConversationLeft(l), _) => {
                let display_name = known.and_then(|k| chat.display_name(k, &l.username));
                let who = if l.username == chat.username() {
                    "you".to_owned()
                } else {
                    person(&l.username, display_name.as_deref())
                };
                (
                    json!({
                        "event": kind,
                        "conversation_id": l.conversation_id,
                        "username": l.username,
                        "display_name": display_name,
                    }),
                    format!("{kind}: {who} left {}", name(l.conversation_id)),
                )
            }
            (Event::UserKeyChanged(u), _) => (
                json!({ "event": kind, "username": u.username, "fingerprint": u.fingerprint }),
                format!(
                    "WARNING {kind}: {} has a new key {}; check it with them before trusting it",
                    u.username, u.fingerprint
                ),
            ),
            (Event::MessageCreated(m) | Event::MessageUpdated(m), None) => (
                json!({ "event": kind, "conversation_id": m.conversation_id, "id": m.id }),
                format!("{kind}: {}", m.id),
            ),
        };
        self.emit(value, &text)
    }
}

fn conversation_json(chat: &Chat, c: &MessageConversation) -> Value {
    json!({
        "id": c.id,
        "name": super::name_of(chat, c),
        "name_revision": c.name_revision,
        "owner": c.owner,
        "updated_at": c.updated_at.format(&Rfc3339).unwrap_or_default(),
        "members": c.members.iter().map(|m| json!({
            "username": m.username,
            "display_name": m.display_name,
            "fingerprint": m.fingerprint,
            "owner": m.owner,
        })).collect::<Vec<_>>(),
    })
}

/// A person as people read them: "Alice (alice)", or the username alone
/// when no display name is known.
fn person(username: &str, display_name: Option<&str>) -> String {
    match display_name {
        Some(name) if name != username => format!("{name} ({username})"),
        _ => username.to_owned(),
    }
}

fn message_json(m: &ChatMessage) -> Value {
    let mut value = json!({
        "conversation_id": m.conversation_id,
        "id": m.id,
        "sender": m.sender,
        "sender_display_name": m.sender_display_name,
        "created_at": m.created_at.format(&Rfc3339).unwrap_or_default(),
        "edited_at": m.edited_at.and_then(|t| t.format(&Rfc3339).ok()),
        "cursor": m.cursor,
        "file_size": m.file_size(),
    });
    match &m.verdict {
        Verdict::Verified(content) => {
            value["verified"] = json!(true);
            value["text"] = json!(content.text);
            value["file_name"] = json!(content.file_name);
            value["file_type"] = json!(content.file_type);
        }
        Verdict::Unverified(why) => {
            value["verified"] = json!(false);
            value["error"] = json!(why);
        }
    }
    value
}

fn message_text(m: &ChatMessage) -> String {
    let when = m.created_at.format(&Rfc3339).unwrap_or_default();
    let edited = if m.edited_at.is_some() {
        " (edited)"
    } else {
        ""
    };
    let sender = person(&m.sender, m.sender_display_name.as_deref());
    let head = format!("[{when}] {sender}{edited}: ");
    match &m.verdict {
        Verdict::Verified(content) => {
            // Later lines of the text start under its first character.
            let indent = " ".repeat(head.chars().count());
            let text = content
                .text
                .as_deref()
                .unwrap_or("")
                .split('\n')
                .collect::<Vec<_>>()
                .join(&format!("\n{indent}"));
            let mut line = format!("{head}{text}");
            if let Some(file) = &content.file_name {
                line.push_str(&format!(
                    "  [file {file}, {}]",
                    human_size(m.file_size().unwrap_or(0))
                ));
            }
            format!("{line}\n  id {}", m.id)
        }
        Verdict::Unverified(why) => {
            format!("{head}UNVERIFIED MESSAGE, NOT SHOWN ({why})\n  id {}", m.id)
        }
    }
}
