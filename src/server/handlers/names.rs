//! Sealed conversation names: the checks the server can make on a name it
//! cannot read, and the name as one reader sees it.
//!
//! The server checks the revision (exactly the next one), the sizes, that
//! the wrapped keys name exactly the members that will read it, and the
//! sealer's signature over the canonical name bytes; then it stores the
//! name as sent. See "Conversation names" in `api.yml`.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use crate::models::{ConversationName, ErrorCode, SealedName};
use crate::server::error::Failure;
use crate::server::protocol::{Caller, from_unix_ms};
use crate::server::rules;
use crate::server::state::State;
use crate::store::{Digest, MemberRecord, NameRecord, NewKey, NewName, NewNameKey};

/// Every rule of a sealed name, in order: revision, sizes, exact members,
/// current keys, sealer signature. `readers` maps each member who will read
/// the name to their public key (SPKI DER; `None` for a member without one)
/// and its index; the caller is the sealer and must be among them with a
/// key. Returns the record to store.
pub async fn check_sealed_name(
    state: &State,
    caller: &Caller,
    conversation_id: Uuid,
    name: SealedName,
    next_revision: i64,
    readers: &BTreeMap<String, ReaderKey>,
) -> Result<NewName, Failure> {
    if name.revision != next_revision {
        return Err(Failure::new(
            ErrorCode::Conflict,
            format!(
                "a new name must carry revision {next_revision}, not {}; fetch the conversation and seal again",
                name.revision
            ),
        ));
    }
    rules::name_shape(&name.iv, &name.ciphertext)?;
    let with_keys: BTreeSet<&str> = readers
        .iter()
        .filter(|(_, key)| key.public_key.is_some())
        .map(|(username, _)| username.as_str())
        .collect();
    rules::members_match(state, &with_keys, &name.keys)?;
    let current: Vec<MemberRecord> = readers
        .iter()
        .map(|(username, key)| key.as_member(username))
        .collect();
    let indexes = rules::wrapped_for_current_keys(state, &current, &name.keys)?;
    let sealer = readers
        .get(caller.username.as_str())
        .filter(|k| k.public_key.is_some())
        .ok_or_else(|| Failure::not_found("the sealer is not a member with a key"))?;
    let sealer_key = sealer.public_key.as_deref().unwrap_or_default();

    let keys = name
        .keys
        .into_iter()
        .zip(indexes)
        .map(|(k, key_index)| {
            // members_match has already refused these unless it is switched off.
            let spki = readers
                .get(&k.username)
                .and_then(|r| r.public_key.as_deref())
                .ok_or_else(|| {
                    Failure::new(
                        ErrorCode::MembersMismatch,
                        format!("{} is not a member with a key", k.username),
                    )
                })?;
            Ok(NewNameKey {
                recipient_key_digest: Digest::of(spki),
                key: NewKey {
                    key_digest: Digest::of(&k.key),
                    username: k.username,
                    wrapped_key: k.key.into_vec(),
                    key_index,
                },
            })
        })
        .collect::<Result<Vec<NewNameKey>, Failure>>()?;
    let record = NewName {
        revision: name.revision,
        iv: name.iv.into_vec(),
        ciphertext: name.ciphertext.into_vec(),
        signature: name.signature.into_vec(),
        signature_version: i64::from(name.signature_version.unwrap_or(1)),
        sealed_by: caller.username.to_string(),
        sealer_key_digest: Digest::of(sealer_key),
        sealer_key_index: sealer.key_index,
        keys,
    };
    rules::name_signature(state, conversation_id, &record, sealer_key)?;
    Ok(record)
}

/// The stored name as its reader sees it (the record was loaded for that
/// reader), with the server's re-seal hint.
pub fn view(name: NameRecord, members: &[MemberRecord]) -> ConversationName {
    let reseal = needs_reseal(&name, members);
    let key_index = name.reader_key.as_ref().and(name.reader_key_index);
    ConversationName {
        revision: name.revision,
        sealed_by: name.sealed_by,
        sealed_at: from_unix_ms(name.sealed_at),
        iv: name.iv.into(),
        ciphertext: name.ciphertext.into(),
        key: name.reader_key.map(Into::into),
        recipients: name
            .recipients
            .into_iter()
            .map(|r| crate::models::RecipientDigest {
                username: r.username,
                key_digest: r.key_digest.into(),
            })
            .collect(),
        signature: name.signature.into(),
        signature_version: Some(name.signature_version as i32),
        sealer_key_index: name.sealer_key_index,
        key_index,
        reseal,
    }
}

/// A reader of a name: their current key and its place in their history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderKey {
    /// Their public key (SPKI DER); `None` while reset by the operator.
    pub public_key: Option<Vec<u8>>,
    /// The index of that key in their history.
    pub key_index: Option<i64>,
}

impl ReaderKey {
    /// The reader's current key, as a member record for the shared rules.
    fn as_member(&self, username: &str) -> MemberRecord {
        MemberRecord {
            username: username.to_owned(),
            display_name: username.to_owned(),
            public_key: self.public_key.clone(),
            key_index: self.key_index,
            joined_at: 0,
            owner: false,
        }
    }
}

/// Whether the name is not sealed for every current member's current key:
/// some member with a key holds no key wrapped for it (they were added or
/// reset), or it was wrapped for another key of theirs (they rotated), or
/// the sealer has left or changed key. Readers who keep their earlier keys
/// read it anyway; the hint makes a member re-seal it for the current keys,
/// so that clients which keep only the current key (and any device that
/// lost the ring) read it too (api.yml, "Re-sealing").
fn needs_reseal(name: &NameRecord, members: &[MemberRecord]) -> bool {
    let sealer_current = members.iter().any(|m| {
        m.username == name.sealed_by
            && m.public_key.as_deref().map(Digest::of) == Some(name.sealer_key_digest)
    });
    if !sealer_current {
        return true;
    }
    members
        .iter()
        .filter_map(|m| Some((m, m.public_key.as_deref()?)))
        .any(|(m, spki)| {
            !name.recipients.iter().any(|r| {
                r.username == m.username
                    && r.holds_key
                    && r.recipient_key_digest == Digest::of(spki)
            })
        })
}
