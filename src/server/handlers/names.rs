//! Sealed conversation names: the checks the server can make on a name it
//! cannot read, and the name as one reader sees it.
//!
//! The server checks the revision (exactly the next one), the sizes, that
//! the wrapped keys name exactly the members that will read it, and the
//! sealer's signature over the canonical name bytes; then it stores the
//! name as sent. See "Conversation names" in `api.yml`.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::models::{ConversationName, Error, ErrorCode, SealedName};
use crate::server::protocol::{Caller, from_unix_ms};
use crate::server::rules;
use crate::server::state::State;
use crate::store::{MemberRecord, NameRecord, NewKey, NewName, NewNameKey};

/// AES-GCM IV length.
const IV_LEN: usize = 12;
/// AES-GCM tag length.
const TAG_LEN: usize = 16;
/// Longest name ciphertext: 128 characters of at most 4 UTF-8 bytes each,
/// plus the tag. The server cannot count characters; readers do.
const MAX_NAME_CIPHERTEXT: usize = crate::crypto::name::MAX_NAME_CHARS * 4 + TAG_LEN;

/// Every rule of a sealed name, in order: revision, sizes, exact members,
/// sealer signature. `readers` maps each member who will read the name to
/// their public key (SPKI DER; empty for a member without one); the caller
/// is the sealer and must be among them with a key. Returns the record to
/// store.
pub async fn check_sealed_name(
    state: &State,
    caller: &Caller,
    conversation_id: Uuid,
    name: SealedName,
    next_revision: i64,
    readers: &BTreeMap<String, Vec<u8>>,
) -> Result<NewName, Error> {
    if name.revision != next_revision {
        return Err(Error::new(
            ErrorCode::Conflict,
            format!(
                "a new name must carry revision {next_revision}, not {}; fetch the conversation and seal again",
                name.revision
            ),
        ));
    }
    if name.iv.len() != IV_LEN {
        return Err(Error::bad_request("the name iv is 12 bytes"));
    }
    if name.ciphertext.len() <= TAG_LEN {
        return Err(Error::bad_request(
            "the name ciphertext is shorter than a tag and a character",
        ));
    }
    if name.ciphertext.len() > MAX_NAME_CIPHERTEXT {
        return Err(Error::too_large(format!(
            "the name ciphertext is {} bytes; a name of 128 characters needs at most {MAX_NAME_CIPHERTEXT}",
            name.ciphertext.len()
        )));
    }
    let with_keys: BTreeSet<&str> = readers
        .iter()
        .filter(|(_, key)| !key.is_empty())
        .map(|(username, _)| username.as_str())
        .collect();
    rules::members_match(state, &with_keys, &name.keys)?;
    let sealer_key = readers
        .get(&caller.username)
        .filter(|key| !key.is_empty())
        .ok_or_else(|| Error::not_found("the sealer is not a member with a key"))?;

    let keys: Vec<NewNameKey> = name
        .keys
        .into_iter()
        .map(|k| NewNameKey {
            recipient_key_digest: readers
                .get(&k.username)
                .map(|spki| Sha256::digest(spki).to_vec())
                .unwrap_or_default(),
            key: NewKey {
                key_digest: Sha256::digest(&k.key).to_vec(),
                username: k.username,
                wrapped_key: k.key.into_vec(),
            },
        })
        .collect();
    let record = NewName {
        revision: name.revision,
        iv: name.iv.into_vec(),
        ciphertext: name.ciphertext.into_vec(),
        signature: name.signature.into_vec(),
        sealed_by: caller.username.clone(),
        sealer_key_digest: Sha256::digest(sealer_key).to_vec(),
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
    let digest = |spki: &[u8]| Sha256::digest(spki).to_vec();
    let sealer_current = members.iter().any(|m| {
        m.username == name.sealed_by
            && !m.public_key.is_empty()
            && digest(&m.public_key) == name.sealer_key_digest
    });
    if !sealer_current {
        return true;
    }
    members
        .iter()
        .filter(|m| !m.public_key.is_empty())
        .any(|m| {
            !name.recipients.iter().any(|r| {
                r.username == m.username
                    && r.holds_key
                    && r.recipient_key_digest == digest(&m.public_key)
            })
        })
}
