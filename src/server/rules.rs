//! The rules the server enforces on what a member asks of a conversation or
//! a message, one function each, named after the rule; each one's `Rule:`
//! line says what it guarantees, and each checks its own switch of
//! [`Rules`](crate::server::Rules) (which only the conformance suite's
//! deliberately broken servers turn off). README's "Rules the server
//! enforces" is this file's table.
//!
//! Handlers call them cheapest first: membership (one query), then who may
//! act (sender-only, owner-only) and the counts, then the exact member list,
//! and only then a signature (an RSA verification), so a request that
//! breaks a cheap rule costs no RSA work. The envelope's own rules (rate,
//! freshness, signature, replay) run before any of these, in
//! [`pipeline`](crate::server::pipeline), in the order its module doc
//! gives.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::crypto::{
    PublicKey, RecipientDigest, SignatureVersion, message_signed_bytes_as, name_signed_bytes_as,
};
use crate::models::{ErrorCode, WrappedKey};
use crate::server::error::Failure;
use crate::server::metrics::RsaOperation;
use crate::server::protocol::Caller;
use crate::server::state::State;
use crate::store::{
    ConversationRecord, Digest as StoreDigest, EarlierMessage, MemberRecord, MessageRecord,
    NewMessage, NewName,
};

use crate::crypto::aead::{IV_LEN, TAG_LEN};

/// Longest name ciphertext: 128 characters of at most 4 UTF-8 bytes each,
/// plus the tag. The server cannot count characters; readers do.
pub const MAX_NAME_CIPHERTEXT: usize = crate::crypto::name::MAX_NAME_CHARS * 4 + TAG_LEN;

fn invisible(id: Uuid) -> Failure {
    Failure::not_found(format!("no conversation {id} is visible to you"))
}

/// Rule (membership): only a member sees a conversation; anyone else gets
/// `not_found`, never a hint that it exists. Returns the conversation with
/// its members and name as the caller sees them.
pub async fn membership(
    state: &State,
    caller: &Caller,
    id: Uuid,
) -> Result<ConversationRecord, Failure> {
    let conversation = state.store.get_conversation(id, &caller.username).await?;
    match conversation {
        Some(c)
            if !state.config.rules().membership
                || c.members.iter().any(|m| m.username == caller.username) =>
        {
            Ok(c)
        }
        _ => Err(invisible(id)),
    }
}

/// Rule (membership), for message writes: the same, in the one query every
/// message operation needs anyway (the members with their keys).
pub async fn membership_members(
    state: &State,
    caller: &Caller,
    id: Uuid,
) -> Result<Vec<MemberRecord>, Failure> {
    let members = state.store.members(id).await?;
    let member = members.iter().any(|m| m.username == caller.username);
    if members.is_empty() || (state.config.rules().membership && !member) {
        return Err(invisible(id));
    }
    Ok(members)
}

/// Rule (membership), for reads: the same, as one point query.
pub async fn membership_point(state: &State, caller: &Caller, id: Uuid) -> Result<(), Failure> {
    if !state.config.rules().membership {
        return membership(state, caller, id).await.map(|_| ());
    }
    if state.store.is_member(id, &caller.username).await? {
        Ok(())
    } else {
        Err(invisible(id))
    }
}

/// Rule (sender-only): only a message's sender may `action` it (edit,
/// delete); `sender` is the stored sender, `None` when there is no such
/// message (`not_found`).
pub fn sender_only(
    state: &State,
    caller: &Caller,
    sender: Option<&str>,
    action: &str,
) -> Result<(), Failure> {
    match sender {
        None => Err(Failure::not_found("no such message")),
        Some(sender) if state.config.rules().sender_only && sender != caller.username => Err(
            Failure::forbidden(format!("only the sender may {action} a message")),
        ),
        Some(_) => Ok(()),
    }
}

/// The answer to a `message.create` whose id is taken otherwise than by
/// this very create: `conflict`.
pub fn id_taken() -> Failure {
    Failure::new(ErrorCode::Conflict, "a message with this id already exists")
}

/// Rule (exactly-once create): a `message.create` whose id is taken, by
/// the same sender in the same conversation with the same sealed upload
/// (`digest`, the create digest of the message's create), is a repeat of
/// that create: it gets the message as the sender sees it now, and the
/// caller stores nothing and tells nobody. Any other use of a taken id, and
/// any use of a deleted message's id, is `conflict`, so a retry can neither
/// duplicate nor resurrect a message. `Ok(None)`: the id is free.
pub async fn repeated_create(
    state: &State,
    caller: &Caller,
    conversation_id: Uuid,
    id: Uuid,
    digest: StoreDigest,
) -> Result<Option<MessageRecord>, Failure> {
    if !state.config.rules().idempotent_create {
        // The broken server of the conformance suite: a repeat is a new
        // create (a conflict while the message exists, a new message once
        // it was deleted).
        return Ok(None);
    }
    match state.store.earlier_message(id).await? {
        None => Ok(None),
        Some(EarlierMessage::Stored {
            conversation_id: stored_in,
            sender,
            create_digest: Some(stored),
        }) if stored_in == conversation_id
            && sender == caller.username.as_str()
            && stored == digest =>
        {
            // None only if the sender holds no key for it any more (reset
            // since): nothing to answer with but the conflict.
            let current = state
                .store
                .get_message(conversation_id, id, &caller.username)
                .await?;
            current.map(Some).ok_or_else(id_taken)
        }
        Some(EarlierMessage::Deleted { .. }) => Err(Failure::new(
            ErrorCode::Conflict,
            format!("message {id} was deleted, and a message id is never used again"),
        )),
        Some(EarlierMessage::Stored { .. }) => Err(id_taken()),
    }
}

/// Rule (owner-only): only the conversation's owner may `action` it (change
/// the members, delete it); other members get `forbidden`.
pub fn owner_only(
    state: &State,
    caller: &Caller,
    owner: &str,
    action: &str,
) -> Result<(), Failure> {
    if state.config.rules().owner_only && owner != caller.username {
        return Err(Failure::forbidden(format!("only the owner may {action}")));
    }
    Ok(())
}

/// Rule (removal event): a member the owner removes from conversation `id`
/// is told it was a removal (`event.conversation.removed`), never a
/// deletion, so their client can say which it was.
pub fn removal_event(state: &State, id: Uuid) -> crate::bodies::Event {
    let conversation = crate::models::BaseConversation { id };
    if state.config.rules().removal_event {
        crate::bodies::Event::ConversationRemoved(conversation)
    } else {
        crate::bodies::Event::ConversationDeleted(conversation)
    }
}

/// Rule (message size): a message's content ciphertext is at most
/// `limits.max_content_bytes` and its attachment ciphertext at most
/// `limits.max_file_bytes` (`too_large`).
pub fn message_size(
    state: &State,
    content: usize,
    attachment: Option<usize>,
) -> Result<(), Failure> {
    if !state.config.rules().message_size {
        return Ok(());
    }
    let limits = &state.config.limits;
    if content as i64 > limits.max_content_bytes {
        return Err(Failure::too_large(format!(
            "content is {content} bytes; the limit is {}",
            limits.max_content_bytes
        )));
    }
    if let Some(size) = attachment
        && size as i64 > limits.max_file_bytes
    {
        return Err(Failure::too_large(format!(
            "the attachment is {size} bytes; the limit is {}",
            limits.max_file_bytes
        )));
    }
    Ok(())
}

/// Rule: a conversation has its owner and at least one other member
/// (`others` counts the members besides the owner).
pub fn other_members(others: usize) -> Result<(), Failure> {
    if others == 0 {
        return Err(Failure::bad_request(
            "a conversation needs at least one other member",
        ));
    }
    Ok(())
}

/// Rule: the IVs of an upload (content and attachment) are AES-GCM's 12
/// bytes.
pub fn upload_ivs(content_iv: &[u8], attachment_iv: Option<&[u8]>) -> Result<(), Failure> {
    if content_iv.len() != IV_LEN || attachment_iv.is_some_and(|iv| iv.len() != IV_LEN) {
        return Err(Failure::bad_request("IVs are 12 bytes"));
    }
    Ok(())
}

/// Rule: the shape of a sealed name the server can check without reading
/// it: a 12-byte IV, a ciphertext longer than the tag (a name has a
/// character) and at most [`MAX_NAME_CIPHERTEXT`] (`too_large`).
pub fn name_shape(iv: &[u8], ciphertext: &[u8]) -> Result<(), Failure> {
    if iv.len() != IV_LEN {
        return Err(Failure::bad_request("the name iv is 12 bytes"));
    }
    if ciphertext.len() <= TAG_LEN {
        return Err(Failure::bad_request(
            "the name ciphertext is shorter than a tag and a character",
        ));
    }
    if ciphertext.len() > MAX_NAME_CIPHERTEXT {
        return Err(Failure::too_large(format!(
            "the name ciphertext is {} bytes; a name of 128 characters needs at most {MAX_NAME_CIPHERTEXT}",
            ciphertext.len()
        )));
    }
    Ok(())
}

/// Rule (member count): a conversation has at most `limits.max_members`
/// members, the owner included (`too_large`).
pub fn member_count(state: &State, count: usize) -> Result<(), Failure> {
    let max = state.config.limits.max_members;
    if count as i64 > max {
        return Err(Failure::too_large(format!(
            "{count} members is more than the limit of {max}"
        )));
    }
    Ok(())
}

/// Rule (members match): wrapped keys (of message content or a sealed name)
/// name exactly `members`, the members that have a public key, once each
/// (`members_mismatch`). A member reset by the operator has no key until
/// they complete again; nobody can wrap for them, so they are not required.
pub fn members_match(
    state: &State,
    members: &BTreeSet<&str>,
    keys: &[WrappedKey],
) -> Result<(), Failure> {
    if !state.config.rules().members_match {
        return Ok(());
    }
    let named: BTreeSet<&str> = keys.iter().map(|k| k.username.as_str()).collect();
    if named.len() != keys.len() || named != *members {
        let missing: Vec<&str> = members.difference(&named).copied().collect();
        let extra: Vec<&str> = named.difference(members).copied().collect();
        return Err(Failure::new(
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

/// Rule (members match, names): a member change of a named conversation
/// carries the name re-sealed for the new member list, or removes it, in
/// the same update (`members_mismatch`), so added members can read it.
pub fn name_follows_members(
    state: &State,
    named_members_change: bool,
    name_resealed_or_removed: bool,
) -> Result<(), Failure> {
    if named_members_change && !name_resealed_or_removed && state.config.rules().members_match {
        return Err(Failure::new(
            ErrorCode::MembersMismatch,
            "this conversation has a name: re-seal it for the new member list (or remove it) in the same update",
        ));
    }
    Ok(())
}

/// Rule (message signature): the sender's RSA-PSS signature covers the
/// canonical message bytes (`bad_signature`). Verified inline: a public-key
/// operation costs 0.03 to 0.2 ms, less than handing it to another thread
/// and back.
pub fn message_signature(
    state: &State,
    members: &[MemberRecord],
    m: &NewMessage,
) -> Result<(), Failure> {
    if !state.config.rules().message_signature {
        return Ok(());
    }
    let sender = members.iter().find(|member| member.username == m.sender);
    let sender = sender.ok_or_else(|| Failure::not_found("the sender is not a member"))?;
    let sender_key = sender
        .public_key
        .as_deref()
        .ok_or_else(|| Failure::forbidden("the sender has no key: complete the account again"))?;
    let key = state.public_key(sender_key)?;
    let recipients: Vec<RecipientDigest> = m
        .keys
        .iter()
        .map(|k| RecipientDigest {
            username: k.username.clone(),
            key_digest: k.key_digest.0,
        })
        .collect();
    let attachment_digest = m.attachment.as_ref().map(|a| a.digest.0);
    let content_iv: [u8; IV_LEN] = m
        .content_iv
        .as_slice()
        .try_into()
        .map_err(|_| Failure::bad_request("IVs are 12 bytes"))?;
    let version = signature_version(m.signature_version, &key)?;
    let signed = message_signed_bytes_as(
        version,
        &m.conversation_id,
        &m.id,
        &content_iv,
        &m.content,
        attachment_digest.as_ref(),
        &recipients,
    )
    .map_err(|e| Failure::bad_request(format!("the message cannot be encoded for signing: {e}")))?;
    state.metrics.rsa(RsaOperation::Verify, 1);
    key.verify_pss(&signed, &m.signature).map_err(|_| {
        Failure::new(
            ErrorCode::BadSignature,
            "the message signature does not verify with the sender's key",
        )
    })
}

/// The signature version a request names (1 when it names none), for a
/// signature by `signer`; any other number is `bad_request`.
fn signature_version(number: i64, signer: &PublicKey) -> Result<SignatureVersion, Failure> {
    i32::try_from(number)
        .ok()
        .and_then(|n| SignatureVersion::for_signer(n, signer).ok())
        .ok_or_else(|| Failure::bad_request(format!("signature_version {number} is not 1 or 2")))
}

/// Rule (current keys): a wrapped key that names the recipient's key index
/// (`WrappedKey.key_index`) names their current one (`members_mismatch`:
/// the recipient rotated since the sender fetched the members). Returns,
/// for each wrapped key, the index it is recorded as wrapped for: the one
/// named, or the recipient's current one.
pub fn wrapped_for_current_keys(
    state: &State,
    members: &[MemberRecord],
    keys: &[WrappedKey],
) -> Result<Vec<Option<i64>>, Failure> {
    keys.iter()
        .map(|k| {
            let current = members
                .iter()
                .find(|m| m.username == k.username)
                .and_then(|m| m.key_index);
            match k.key_index {
                Some(named) if state.config.rules().members_match && Some(named) != current => {
                    Err(Failure::new(
                        ErrorCode::MembersMismatch,
                        format!(
                            "the key for {} is wrapped for their key {named}, but their current key is {}: fetch the members again and seal anew",
                            k.username,
                            current.map_or_else(|| "none".to_owned(), |c| c.to_string())
                        ),
                    ))
                }
                Some(named) => Ok(Some(named)),
                None => Ok(current),
            }
        })
        .collect()
}

/// Rule (name signature): the sealer's RSA-PSS signature covers the
/// canonical name bytes (`bad_signature`); verified inline, like every
/// public-key operation.
pub fn name_signature(
    state: &State,
    conversation_id: Uuid,
    name: &NewName,
    sealer_key: &[u8],
) -> Result<(), Failure> {
    if !state.config.rules().name_signature {
        return Ok(());
    }
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
        .map_err(|_| Failure::bad_request("the name iv is 12 bytes"))?;
    let revision = u64::try_from(name.revision)
        .map_err(|_| Failure::bad_request("the name revision is positive"))?;
    let version = signature_version(name.signature_version, &key)?;
    let signed = name_signed_bytes_as(
        version,
        &conversation_id,
        revision,
        &iv,
        &name.ciphertext,
        &recipients,
    )
    .map_err(|e| Failure::bad_request(format!("the name cannot be encoded for signing: {e}")))?;
    state.metrics.rsa(RsaOperation::Verify, 1);
    key.verify_pss(&signed, &name.signature).map_err(|_| {
        Failure::new(
            ErrorCode::BadSignature,
            "the name signature does not verify with your key",
        )
    })
}
