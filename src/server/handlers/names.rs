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

use crate::crypto::{RecipientDigest, name_signed_bytes};
use crate::models::{ConversationName, Error, ErrorCode, SealedName, WrappedKey};
use crate::server::protocol::{Caller, from_unix_ms};
use crate::server::state::State;
use crate::store::{MemberRecord, NameRecord, NewKey, NewName, NewNameKey};

/// AES-GCM IV length.
const IV_LEN: usize = 12;
/// AES-GCM tag length.
const TAG_LEN: usize = 16;
/// Longest name ciphertext: 128 characters of at most 4 UTF-8 bytes each,
/// plus the tag. The server cannot count characters; readers do.
const MAX_NAME_CIPHERTEXT: usize = crate::crypto::name::MAX_NAME_CHARS * 4 + TAG_LEN;

/// Rule: wrapped keys (of message content or a sealed name) name exactly
/// `members`, the members that have a public key, once each. A member reset
/// by the operator has no key until they complete again; nobody can wrap
/// for them, so they are not required.
pub fn check_members_match(
    state: &State,
    members: &BTreeSet<&str>,
    keys: &[WrappedKey],
) -> Result<(), Error> {
    if !state.config.rules().members_match {
        return Ok(());
    }
    let named: BTreeSet<&str> = keys.iter().map(|k| k.username.as_str()).collect();
    if named.len() != keys.len() || named != *members {
        let missing: Vec<&str> = members.difference(&named).copied().collect();
        let extra: Vec<&str> = named.difference(members).copied().collect();
        return Err(Error::new(
            ErrorCode::MembersMismatch,
            format!(
                "keys must name exactly the current members once each (missing: [{}], not members: [{}])",
                missing.join(", "),
                extra.join(", ")
            ),
        ));
    }
    Ok(())
}

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
    check_members_match(state, &with_keys, &name.keys)?;
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
    if state.config.rules().name_signature {
        verify_sealer_signature(state, conversation_id, &record, sealer_key).await?;
    }
    Ok(record)
}

/// Rule: the sealer's RSA-PSS signature covers the canonical name bytes.
async fn verify_sealer_signature(
    state: &State,
    conversation_id: Uuid,
    name: &NewName,
    sealer_key: &[u8],
) -> Result<(), Error> {
    let key = state.public_key(sealer_key)?;
    let recipients: Vec<RecipientDigest> = name
        .keys
        .iter()
        .map(|k| RecipientDigest {
            username: k.key.username.clone(),
            key_digest: Sha256::digest(&k.key.wrapped_key).into(),
        })
        .collect();
    let iv: [u8; IV_LEN] = name
        .iv
        .as_slice()
        .try_into()
        .map_err(|_| Error::bad_request("the name iv is 12 bytes"))?;
    let revision = u64::try_from(name.revision)
        .map_err(|_| Error::bad_request("the name revision is positive"))?;
    let signed = name_signed_bytes(
        &conversation_id,
        revision,
        &iv,
        &name.ciphertext,
        &recipients,
    )
    .map_err(|e| Error::bad_request(format!("the name cannot be encoded for signing: {e}")))?;
    // Inline, like every public-key operation (see the pipeline).
    key.verify_pss(&signed, &name.signature).map_err(|_| {
        Error::new(
            ErrorCode::BadSignature,
            "the name signature does not verify with your key",
        )
    })
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
