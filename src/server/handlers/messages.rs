//! `message.*`. The server sees ciphertext only; what it can check, it
//! does: sizes, that the wrapped keys name exactly the current members, and
//! the sender's signature over the canonical message bytes. Only the sender
//! may edit or delete a message. A repeat of a `message.create` (a client
//! retrying a send whose answer it lost) gets the message it stored, once.

use std::collections::BTreeSet;

use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::api::MessageHandler;
use crate::bodies::Event;
use crate::models::*;
use crate::server::error::Failure;
use crate::server::fanout::Fanout;
use crate::server::handlers::views;
use crate::server::protocol::{Caller, unix_ms};
use crate::server::rules;
use crate::server::state::State;
use crate::store::{Digest, MemberRecord, NewAttachment, NewKey, NewMessage, StoreError};
use crate::wire::Bytes;

/// Default history page size.
const DEFAULT_PAGE: i64 = 50;

/// The parts of `message.create` and `message.update`, which share every rule.
struct Upload {
    conversation_id: Uuid,
    id: Uuid,
    content_iv: Bytes,
    content: Bytes,
    attachment: Option<SealedAttachment>,
    /// SHA-256 of `attachment.data`, computed once for the signature check,
    /// the stored record and the create digest.
    attachment_digest: Option<Digest>,
    keys: Vec<WrappedKey>,
    signature: Bytes,
    signature_version: Option<i32>,
}

/// The two payloads carry the same fields; the attachment is hashed here,
/// once.
macro_rules! upload_from {
    ($payload:ty) => {
        impl From<$payload> for Upload {
            fn from(p: $payload) -> Upload {
                let attachment_digest = p.attachment.as_ref().map(|a| Digest::of(&a.data));
                Upload {
                    conversation_id: p.conversation_id,
                    id: p.id,
                    content_iv: p.content_iv,
                    content: p.content,
                    attachment: p.attachment,
                    attachment_digest,
                    keys: p.keys,
                    signature: p.signature,
                    signature_version: p.signature_version,
                }
            }
        }
    };
}
upload_from!(CreateMessage);
upload_from!(UpdateMessage);

impl Upload {
    /// The digest that tells a repeat of this create from a new message:
    /// SHA-256 over everything the sender sealed and signed (content iv and
    /// ciphertext, the attachment's iv and digest, every wrapped key with
    /// the key index it names, in username order, the signature and its
    /// version; absent and 1 are the same version), each field
    /// length-prefixed so no two uploads share their bytes. The ids and
    /// the sender are compared as they are stored.
    fn create_digest(&self) -> Digest {
        fn field(hash: &mut Sha256, bytes: &[u8]) {
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        }
        let mut hash = Sha256::new();
        field(&mut hash, b"nanochat message.create digest 1");
        field(&mut hash, &self.content_iv);
        field(&mut hash, &self.content);
        match (&self.attachment, &self.attachment_digest) {
            (Some(a), Some(digest)) => {
                field(&mut hash, b"attachment");
                field(&mut hash, &a.iv);
                field(&mut hash, digest.as_bytes());
            }
            _ => field(&mut hash, b"no attachment"),
        }
        let mut keys: Vec<&WrappedKey> = self.keys.iter().collect();
        keys.sort_by(|a, b| {
            (a.username.as_bytes(), a.key.as_slice())
                .cmp(&(b.username.as_bytes(), b.key.as_slice()))
        });
        hash.update((keys.len() as u64).to_be_bytes());
        for k in keys {
            field(&mut hash, k.username.as_bytes());
            field(&mut hash, &k.key);
            match k.key_index {
                Some(index) => field(&mut hash, &index.to_be_bytes()),
                None => field(&mut hash, b""),
            }
        }
        field(&mut hash, &self.signature);
        let version = i64::from(self.signature_version.unwrap_or(1));
        field(&mut hash, &version.to_be_bytes());
        Digest(hash.finalize().into())
    }
}

impl MessageHandler for State {
    async fn message_create(&self, caller: &Caller, p: CreateMessage) -> Result<Message, Failure> {
        let upload = Upload::from(p);
        let (conversation_id, id) = (upload.conversation_id, upload.id);
        let digest = upload.create_digest();
        // Members are read and the message written in the conversation's
        // turn: a concurrent membership change cannot slip in between, and
        // neither can a concurrent repeat of this create.
        let turn = self.conversation_turn(caller, conversation_id).await?;
        let members = rules::membership_members(self, caller, conversation_id).await?;
        // A repeat is answered with the message it stored, and a taken or
        // deleted id with `conflict`, whatever the checks of a new upload
        // would say: they were made when the message was stored, and a
        // retry must get its message even after a member change or the
        // sender's rotation made the same upload unacceptable as a new one.
        // The id is looked up only when the upload fails its checks or the
        // insert finds the id taken (or deleted), not on every create.
        let message = match check_upload(self, caller, &members, upload).await {
            Ok(message) => message,
            Err(refused) => {
                return match rules::repeated_create(self, caller, conversation_id, id, digest)
                    .await?
                {
                    // Nothing is stored and nobody is told again.
                    Some(earlier) => Ok(views::message(earlier)),
                    None => Err(refused),
                };
            }
        };
        let inserted = self
            .store
            .insert_sent_message(&turn, &message, Some(digest), unix_ms(caller.now))
            .await;
        let stored = match inserted {
            Ok(stored) => stored,
            // The id is taken or was deleted: a repeat (from this instance
            // or another) gets its message, anything else `conflict`.
            Err(StoreError::Conflict(_)) => {
                return match rules::repeated_create(self, caller, conversation_id, id, digest)
                    .await?
                {
                    Some(earlier) => Ok(views::message(earlier)),
                    None => Err(rules::id_taken()),
                };
            }
            Err(other) => return Err(other.into()),
        };
        let view = views::message(stored);
        let events = fan_out(self, &members, &message, &view, Event::MessageCreated);
        self.publish(turn, events, unix_ms(caller.now)).await;
        Ok(view)
    }

    async fn message_update(&self, caller: &Caller, p: UpdateMessage) -> Result<Message, Failure> {
        let upload = Upload::from(p);
        let sender = self
            .store
            .get_message_sender(upload.conversation_id, upload.id)
            .await?;
        // Members are read and the message written in the conversation's
        // turn: a concurrent membership change cannot slip in between.
        let turn = self
            .conversation_turn(caller, upload.conversation_id)
            .await?;
        let members = rules::membership_members(self, caller, upload.conversation_id).await?;
        // Cheapest first: a non-sender is refused before any RSA work.
        rules::sender_only(self, caller, sender.as_deref(), "edit")?;
        let message = check_upload(self, caller, &members, upload).await?;
        let stored = self
            .store
            .update_message(&turn, &message, unix_ms(caller.now))
            .await?;
        let view = views::message(stored);
        let events = fan_out(self, &members, &message, &view, Event::MessageUpdated);
        self.publish(turn, events, unix_ms(caller.now)).await;
        Ok(view)
    }

    async fn message_delete(&self, caller: &Caller, p: BaseMessage) -> Result<Empty, Failure> {
        let turn = self.conversation_turn(caller, p.conversation_id).await?;
        let members = rules::membership_members(self, caller, p.conversation_id).await?;
        let sender = self
            .store
            .get_message_sender(p.conversation_id, p.id)
            .await?;
        rules::sender_only(self, caller, sender.as_deref(), "delete")?;
        self.store
            .delete_message(&turn, p.id, unix_ms(caller.now))
            .await?;
        let told = members.iter().map(|m| m.username.as_str());
        let events = Fanout::new().to(told, &Event::MessageDeleted(p));
        self.publish(turn, events, unix_ms(caller.now)).await;
        Ok(Empty {})
    }

    async fn message_list(&self, caller: &Caller, p: ListMessages) -> Result<MessagePage, Failure> {
        rules::membership_point(self, caller, p.conversation_id).await?;
        let max = self.config.limits.max_page_size;
        let limit = p.limit.unwrap_or(DEFAULT_PAGE.min(max));
        if !(1..=max).contains(&limit) {
            return Err(Failure::bad_request(format!(
                "limit must be between 1 and {max}"
            )));
        }
        let before =
            match p.before {
                Some(cursor) => Some(cursor.parse::<i64>().map_err(|_| {
                    Failure::bad_request("before is not a cursor this server issued")
                })?),
                None => None,
            };
        let (messages, next) = self
            .store
            .list_messages(p.conversation_id, &caller.username, before, limit)
            .await?;
        Ok(MessagePage {
            messages: messages.into_iter().map(views::message).collect(),
            next_cursor: next.map(|c| c.to_string()),
        })
    }

    async fn message_attachment(
        &self,
        caller: &Caller,
        p: BaseMessage,
    ) -> Result<Attachment, Failure> {
        rules::membership_point(self, caller, p.conversation_id).await?;
        let found = self
            .store
            .get_attachment(p.conversation_id, p.id, &caller.username)
            .await?;
        let found = found.ok_or_else(|| {
            Failure::not_found("no attachment for this message is visible to you")
        })?;
        Ok(Attachment {
            conversation_id: found.conversation_id,
            message_id: found.message_id,
            iv: found.iv.into(),
            data: found.data.into(),
        })
    }
}

/// Every rule of an upload by a member, in order: sizes, exact members,
/// sender signature. Returns the record to store.
async fn check_upload(
    state: &State,
    caller: &Caller,
    members: &[MemberRecord],
    u: Upload,
) -> Result<NewMessage, Failure> {
    rules::upload_ivs(
        &u.content_iv,
        u.attachment.as_ref().map(|a| a.iv.as_slice()),
    )?;
    rules::message_size(
        state,
        u.content.len(),
        u.attachment.as_ref().map(|a| a.data.len()),
    )?;
    let with_keys: BTreeSet<&str> = members
        .iter()
        .filter(|m| m.public_key.is_some())
        .map(|m| m.username.as_str())
        .collect();
    rules::members_match(state, &with_keys, &u.keys)?;
    let indexes = rules::wrapped_for_current_keys(state, members, &u.keys)?;

    let keys: Vec<NewKey> = u
        .keys
        .into_iter()
        .zip(indexes)
        .map(|(k, key_index)| NewKey {
            key_digest: Digest::of(&k.key),
            username: k.username,
            wrapped_key: k.key.into_vec(),
            key_index,
        })
        .collect();
    let attachment = u
        .attachment
        .zip(u.attachment_digest)
        .map(|(a, digest)| NewAttachment {
            digest,
            iv: a.iv.into_vec(),
            data: a.data.into_vec(),
        });
    let message = NewMessage {
        id: u.id,
        conversation_id: u.conversation_id,
        sender: caller.username.to_string(),
        content_iv: u.content_iv.into_vec(),
        content: u.content.into_vec(),
        signature: u.signature.into_vec(),
        signature_version: i64::from(u.signature_version.unwrap_or(1)),
        sender_key_index: members
            .iter()
            .find(|m| m.username == caller.username.as_str())
            .and_then(|m| m.key_index)
            .filter(|_| state.config.rules().signer_index),
        attachment,
        keys,
    };
    rules::message_signature(state, members, &message)?;
    Ok(message)
}

/// Every member (the sender's other devices included) hears the message as
/// they see it: with their own wrapped key only.
fn fan_out(
    state: &State,
    members: &[MemberRecord],
    message: &NewMessage,
    sender_view: &Message,
    event: fn(Message) -> Event,
) -> Fanout {
    let members_only = state.config.rules().event_members_only;
    Fanout::new().message(members, message, sender_view, event, members_only)
}
