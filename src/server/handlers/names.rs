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

/// AES-GCM IV length.
const IV_LEN: usize = 12;
/// AES-GCM tag length.
const TAG_LEN: usize = 16;
/// Longest name ciphertext: 128 characters of at most 4 UTF-8 bytes each,
/// plus the tag. The server cannot count characters; readers do.
const MAX_NAME_CIPHERTEXT: usize = crate::crypto::name::MAX_NAME_CHARS * 4 + TAG_LEN;

/// Every rule of a sealed name, in order: revision, sizes, exact members,
/// sealer signature. `readers` maps each member who will read the name to
/// their public key (SPKI DER; `None` for a member without one); the caller
/// is the sealer and must be among them with a key. Returns the record to
/// store.
pub async fn check_sealed_name(
    state: &State,
    caller: &Caller,
    conversation_id: Uuid,
    name: SealedName,
    next_revision: i64,
    readers: &BTreeMap<String, Option<Vec<u8>>>,
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
    if name.iv.len() != IV_LEN {
        return Err(Failure::bad_request("the name iv is 12 bytes"));
    }
    if name.ciphertext.len() <= TAG_LEN {
        return Err(Failure::bad_request(
            "the name ciphertext is shorter than a tag and a character",
        ));
    }
    if name.ciphertext.len() > MAX_NAME_CIPHERTEXT {
        return Err(Failure::too_large(format!(
            "the name ciphertext is {} bytes; a name of 128 characters needs at most {MAX_NAME_CIPHERTEXT}",
            name.ciphertext.len()
        )));
    }
    let with_keys: BTreeSet<&str> = readers
        .iter()
        .filter(|(_, key)| key.is_some())
        .map(|(username, _)| username.as_str())
        .collect();
    rules::members_match(state, &with_keys, &name.keys)?;
    let sealer_key = readers
        .get(caller.username.as_str())
        .and_then(Option::as_deref)
        .ok_or_else(|| Failure::not_found("the sealer is not a member with a key"))?;

    let keys = name
        .keys
        .into_iter()
        .map(|k| {
            // members_match has already refused these unless it is switched off.
            let spki = readers
                .get(&k.username)
                .and_then(Option::as_deref)
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
                },
            })
        })
        .collect::<Result<Vec<NewNameKey>, Failure>>()?;
    let record = NewName {
        revision: name.revision,
        iv: name.iv.into_vec(),
        ciphertext: name.ciphertext.into_vec(),
        signature: name.signature.into_vec(),
        sealed_by: caller.username.to_string(),
        sealer_key_digest: Digest::of(sealer_key),
        keys,
    };
    rules::name_signature(state, conversation_id, &record, sealer_key)?;
    Ok(record)
}

/// The stored name as its reader sees it (the record was loaded for that
/// reader), with the server's re-seal hint.
pub fn view(name: NameRecord, members: &[MemberRecord]) -> ConversationName {
    let reseal = needs_reseal(&name, members);
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
        reseal,
    }
}

/// Whether some current member with a key cannot open the name (no key is
/// held for them, or it was wrapped for a key they no longer have), or the
/// sealer has left or changed key (the signature no longer verifies with a
/// member's key).
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
