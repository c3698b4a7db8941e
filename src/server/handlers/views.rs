//! Storage records as the wire models readers see.

use crate::crypto::Fingerprint;
use crate::models::{
    AttachmentInfo, KeyHistory, KeyRecord, Member, Message, MessageConversation, PublicUser,
    RecipientDigest,
};
use crate::server::handlers::names;
use crate::server::protocol::from_unix_ms;
use crate::store::{ConversationRecord, KeyEntry, MemberRecord, MessageRecord, UserRecord};

/// The grouped-hex fingerprint of a DER public key.
pub fn fingerprint(der: &[u8]) -> String {
    Fingerprint::of_spki_der(der).to_string()
}

/// A completed user's public view; `None` for a pending user.
pub fn public_user(user: UserRecord) -> Option<PublicUser> {
    let public_key = user.public_key?;
    Some(PublicUser {
        fingerprint: fingerprint(&public_key),
        username: user.username,
        display_name: user.display_name.unwrap_or_default(),
        public_key: public_key.into(),
        key_index: user.key_index.unwrap_or_default(),
    })
}

/// A user's key history as `user.keys` answers it.
pub fn key_history(username: String, entries: Vec<KeyEntry>) -> KeyHistory {
    KeyHistory {
        username,
        keys: entries
            .into_iter()
            .map(|e| KeyRecord {
                index: e.key_index,
                fingerprint: fingerprint(&e.public_key),
                public_key: e.public_key.into(),
                since: from_unix_ms(e.since),
                until: e.until.map(from_unix_ms),
                succession_signature: e.succession_signature.map(Into::into),
                public_key_signature: e.public_key_signature.map(Into::into),
            })
            .collect(),
    }
}

fn member(m: MemberRecord) -> Member {
    Member {
        // A member reset by the operator has no key until they complete
        // again: api.yml spells that as an empty key and fingerprint.
        fingerprint: m.public_key.as_deref().map(fingerprint).unwrap_or_default(),
        username: m.username,
        display_name: m.display_name,
        key_index: m.public_key.as_ref().and(m.key_index),
        public_key: m.public_key.unwrap_or_default().into(),
        owner: m.owner,
        joined_at: from_unix_ms(m.joined_at),
    }
}

/// A stored message as its reader sees it.
pub fn message(m: MessageRecord) -> Message {
    Message {
        conversation_id: m.conversation_id,
        id: m.id,
        sender: m.sender,
        created_at: from_unix_ms(m.created_at),
        edited_at: m.edited_at.map(from_unix_ms),
        content_iv: m.content_iv.into(),
        content: m.content.into(),
        attachment: m.attachment.map(|a| AttachmentInfo {
            iv: a.iv.into(),
            size: a.size,
            digest: a.digest.into(),
        }),
        key: m.key.into(),
        recipients: m
            .recipients
            .into_iter()
            .map(|(username, digest)| RecipientDigest {
                username,
                key_digest: digest.into(),
            })
            .collect(),
        signature: m.signature.into(),
        signature_version: Some(m.signature_version as i32),
        sender_key_index: m.sender_key_index,
        key_index: m.key_index,
        cursor: Some(m.cursor.to_string()),
    }
}

/// A conversation with a page of messages.
pub fn conversation(
    c: ConversationRecord,
    messages: Vec<MessageRecord>,
    next_cursor: Option<i64>,
) -> MessageConversation {
    MessageConversation {
        id: c.id,
        name: c.name.map(|name| names::view(name, &c.members)),
        name_revision: c.name_revision,
        owner: c.owner,
        created_at: from_unix_ms(c.created_at),
        updated_at: from_unix_ms(c.updated_at),
        members: c.members.into_iter().map(member).collect(),
        messages: messages.into_iter().map(message).collect(),
        next_cursor: next_cursor.map(|c| c.to_string()),
    }
}
