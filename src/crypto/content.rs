//! End-to-end message content: what the server stores but cannot read.
//!
//! The sender draws a content key `C` (32 bytes), encrypts the content
//! plaintext (JSON of [`MessageContent`]) with AES-256-GCM under a random IV,
//! and the attachment bytes, if any, separately under the same `C` with their
//! own IV (empty AAD for both). `C` is wrapped with RSA-OAEP under every
//! member's public key, the sender's included. The sender signs, with
//! RSA-PSS, the canonical bytes of [`message_signed_bytes`].
//!
//! The server hands each reader only its own wrapped key, so the signature
//! covers `(username, SHA-256(wrapped key))` pairs rather than the wrapped keys
//! themselves; the reader checks that the digest of the wrapped key it got
//! matches its entry in the signed list ([`open_message`]).
//!
//! Editing a message repeats all of this with a fresh `C` (call
//! [`seal_message_keyed`] again with the same message id).
//!
//! Signature versions ([`SignatureVersion`]): version 1 signs the canonical
//! bytes; version 2 ([`seal_message_keyed`], what clients send) signs the
//! keyed bytes, which also bind the signer's key fingerprint, so that a
//! reader verifying an old message against a user's key history knows
//! which key made it.

use std::fmt;

use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::aead::{self, IV_LEN, KEY_LEN};
use super::sealing::{
    CanonicalRecipients, check_own_entry, own_key, put_field, put_uuid, sorted_members,
    wrap_for_members,
};
pub use super::sealing::{RecipientDigest, RecipientKey, SignatureVersion};
use super::{CryptoError, Draws, OsRng, PrivateKey, PublicKey, Result, key_from_unwrapped, sha256};

/// Domain-separation string, the first field of the signed bytes.
pub const MESSAGE_DOMAIN: &[u8] = b"nanochat/v1 message";
/// Domain-separation string of the keyed bytes (signature version 2).
pub const KEYED_MESSAGE_DOMAIN: &[u8] = b"nanochat/v1 keyed message";

/// The plaintext of a message's `content` ciphertext.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageContent {
    /// Message text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Name of the attached file, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Media type of the attached file, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
}

impl MessageContent {
    /// Compact JSON, fields in the order text, file_name, file_type, absent
    /// fields omitted: the bytes to pass to [`seal_message`].
    pub fn to_json_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|_| CryptoError::Internal("JSON encoding failed"))
    }

    /// Parses decrypted content bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|_| CryptoError::Malformed("invalid content JSON"))
    }
}

/// The separately encrypted attachment.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedAttachment {
    /// AES-GCM IV of the attachment (not covered by the signature; the
    /// ciphertext digest is).
    pub iv: [u8; IV_LEN],
    /// AES-256-GCM ciphertext of the file bytes under `C`, tag appended.
    pub data: Vec<u8>,
}

impl SealedAttachment {
    /// SHA-256 of the ciphertext (tag included, IV excluded): the value that
    /// is signed.
    pub fn digest(&self) -> [u8; 32] {
        sha256(&self.data)
    }
}

impl fmt::Debug for SealedAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedAttachment")
            .field("data_len", &self.data.len())
            .finish_non_exhaustive()
    }
}

/// A message as the sender uploads it: everything the server stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedMessage {
    /// Conversation the message belongs to.
    pub conversation_id: Uuid,
    /// The message's id (kept across edits).
    pub message_id: Uuid,
    /// AES-GCM IV of `content`.
    pub content_iv: [u8; IV_LEN],
    /// AES-256-GCM ciphertext of the content JSON under `C`, tag appended.
    pub content: Vec<u8>,
    /// The attachment, if any.
    pub attachment: Option<SealedAttachment>,
    /// One wrapped key per member, sorted by username bytes.
    pub recipients: Vec<RecipientKey>,
    /// RSA-PSS signature of the sender over [`message_signed_bytes_as`].
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers.
    pub version: SignatureVersion,
}

impl SealedMessage {
    /// SHA-256 of the attachment ciphertext, if there is one.
    pub fn attachment_digest(&self) -> Option<[u8; 32]> {
        self.attachment.as_ref().map(SealedAttachment::digest)
    }

    /// The signed recipient list.
    pub fn recipient_digests(&self) -> Vec<RecipientDigest> {
        self.recipients.iter().map(RecipientKey::digest).collect()
    }

    /// The canonical signed bytes of this message.
    pub fn signed_bytes(&self) -> Result<Vec<u8>> {
        message_signed_bytes_as(
            self.version,
            &self.conversation_id,
            &self.message_id,
            &self.content_iv,
            &self.content,
            self.attachment_digest().as_ref(),
            &self.recipient_digests(),
        )
    }

    /// Checks the sender's signature (the server may do this on upload).
    pub fn verify_signature(&self, sender: &PublicKey) -> Result<()> {
        self.version
            .verify(sender, &self.signed_bytes()?, &self.signature)
    }

    /// What the server returns to reader `username`: its own wrapped key and
    /// the digest list. [`CryptoError::NotARecipient`] if absent.
    pub fn for_reader(&self, username: &str) -> Result<ReceivedMessage> {
        let own = own_key(&self.recipients, username)?;
        Ok(ReceivedMessage {
            conversation_id: self.conversation_id,
            message_id: self.message_id,
            content_iv: self.content_iv,
            content: self.content.clone(),
            attachment_digest: self.attachment_digest(),
            recipients: self.recipient_digests(),
            wrapped_key: own.wrapped_key.clone(),
            signature: self.signature.clone(),
            version: self.version,
        })
    }
}

/// A message as one reader receives it.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Conversation the message belongs to.
    pub conversation_id: Uuid,
    /// The message's id.
    pub message_id: Uuid,
    /// AES-GCM IV of `content`.
    pub content_iv: [u8; IV_LEN],
    /// Content ciphertext, tag appended.
    pub content: Vec<u8>,
    /// SHA-256 of the attachment ciphertext, if the message has one.
    pub attachment_digest: Option<[u8; 32]>,
    /// The full signed recipient list.
    pub recipients: Vec<RecipientDigest>,
    /// `C` wrapped for this reader.
    pub wrapped_key: Vec<u8>,
    /// The sender's RSA-PSS signature.
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers (for [`SignatureVersion::Keyed`],
    /// the fingerprint of the key the reader verifies with).
    pub version: SignatureVersion,
}

impl ReceivedMessage {
    /// The canonical signed bytes as the reader reconstructs them.
    pub fn signed_bytes(&self) -> Result<Vec<u8>> {
        message_signed_bytes_as(
            self.version,
            &self.conversation_id,
            &self.message_id,
            &self.content_iv,
            &self.content,
            self.attachment_digest.as_ref(),
            &self.recipients,
        )
    }
}

impl fmt::Debug for ReceivedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedMessage")
            .field("conversation_id", &self.conversation_id)
            .field("message_id", &self.message_id)
            .field("content_len", &self.content.len())
            .field("has_attachment", &self.attachment_digest.is_some())
            .field("recipients", &self.recipients.len())
            .finish_non_exhaustive()
    }
}

/// The content key `C` of one message. Wiped on drop; `Debug` hides it.
#[derive(Clone)]
pub struct ContentKey(Zeroizing<[u8; KEY_LEN]>);

impl ContentKey {
    /// Decrypts the attachment after checking its ciphertext against the
    /// signed digest ([`CryptoError::AttachmentMismatch`] otherwise).
    pub fn open_attachment(
        &self,
        attachment: &SealedAttachment,
        signed_digest: &[u8; 32],
    ) -> Result<Vec<u8>> {
        use subtle::ConstantTimeEq as _;
        if !bool::from(attachment.digest().ct_eq(signed_digest)) {
            return Err(CryptoError::AttachmentMismatch);
        }
        aead::decrypt(&self.0, &attachment.iv, &[], &attachment.data)
    }

    /// The raw key. Only for known-answer vectors and interop debugging.
    pub fn expose_key(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentKey(..)")
    }
}

/// A message after [`open_message`]: authenticated and decrypted.
#[derive(Debug)]
pub struct OpenedMessage {
    /// The content plaintext (JSON of [`MessageContent`]).
    pub content: Vec<u8>,
    /// `C`, kept to decrypt the attachment when it is fetched.
    pub content_key: ContentKey,
}

/// The canonical bytes the sender signs for a message (v1).
///
/// Length-prefixed, no JSON. Every field is its length as a u32 big-endian
/// followed by the bytes, in this order:
///
/// 1. ASCII `nanochat/v1 message`;
/// 2. conversation id: the UUID's canonical lowercase hyphenated string,
///    ASCII (36 bytes);
/// 3. message id: same;
/// 4. content IV (12 bytes);
/// 5. content ciphertext (including the 16-byte tag);
/// 6. attachment digest: either the 32 bytes SHA-256 of the attachment
///    ciphertext (IV excluded; ciphertext including tag), or an empty field
///    (length 0) when there is no attachment;
///
/// then the recipient count as a u32 big-endian (no length prefix), then, for
/// each recipient sorted by username bytes ascending:
///
/// 7. username (length-prefixed UTF-8);
/// 8. key digest (length-prefixed, 32 bytes): SHA-256 of the key wrapped for
///    that username.
///
/// Duplicate usernames are rejected ([`CryptoError::DuplicateRecipient`]), as
/// are an empty recipient list and empty usernames
/// ([`CryptoError::Malformed`]). The input order of `recipients` does not
/// matter: this function sorts.
pub fn message_signed_bytes(
    conversation_id: &Uuid,
    message_id: &Uuid,
    content_iv: &[u8; IV_LEN],
    content: &[u8],
    attachment_digest: Option<&[u8; 32]>,
    recipients: &[RecipientDigest],
) -> Result<Vec<u8>> {
    message_signed_bytes_as(
        SignatureVersion::V1,
        conversation_id,
        message_id,
        content_iv,
        content,
        attachment_digest,
        recipients,
    )
}

/// The signed bytes of `version`: [`message_signed_bytes`] for version 1;
/// for version 2 (keyed), the same fields with the first replaced by two,
/// ASCII `nanochat/v1 keyed message` and the signer's key fingerprint (32
/// bytes).
pub fn message_signed_bytes_as(
    version: SignatureVersion,
    conversation_id: &Uuid,
    message_id: &Uuid,
    content_iv: &[u8; IV_LEN],
    content: &[u8],
    attachment_digest: Option<&[u8; 32]>,
    recipients: &[RecipientDigest],
) -> Result<Vec<u8>> {
    let recipients = CanonicalRecipients::new(recipients)?;
    let mut out = Vec::with_capacity(240 + content.len() + recipients.encoded_len());
    version.put_domain(&mut out, MESSAGE_DOMAIN, KEYED_MESSAGE_DOMAIN)?;
    put_uuid(&mut out, conversation_id)?;
    put_uuid(&mut out, message_id)?;
    put_field(&mut out, content_iv)?;
    put_field(&mut out, content)?;
    put_field(&mut out, attachment_digest.map_or(&[][..], |d| &d[..]))?;
    recipients.put(&mut out)?;
    Ok(out)
}

/// Seals a message for `members` (username and public key of every current
/// member, the sender included), signing with `sender`, using the OS RNG.
pub fn seal_message(
    sender: &PrivateKey,
    conversation_id: Uuid,
    message_id: Uuid,
    content: &[u8],
    attachment: Option<&[u8]>,
    members: &[(&str, &PublicKey)],
) -> Result<SealedMessage> {
    seal_message_from(
        &mut Draws::os(&mut OsRng),
        false,
        sender,
        conversation_id,
        message_id,
        content,
        attachment,
        members,
    )
}

/// [`seal_message`] signing the keyed bytes (signature version 2), which
/// bind the sender's key: what clients send.
pub fn seal_message_keyed(
    sender: &PrivateKey,
    conversation_id: Uuid,
    message_id: Uuid,
    content: &[u8],
    attachment: Option<&[u8]>,
    members: &[(&str, &PublicKey)],
) -> Result<SealedMessage> {
    seal_message_from(
        &mut Draws::os(&mut OsRng),
        true,
        sender,
        conversation_id,
        message_id,
        content,
        attachment,
        members,
    )
}

/// [`seal_message_keyed`] with an explicit RNG (draws as
/// [`seal_message_with_rng`]).
pub fn seal_message_keyed_with_rng<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    sender: &PrivateKey,
    conversation_id: Uuid,
    message_id: Uuid,
    content: &[u8],
    attachment: Option<&[u8]>,
    members: &[(&str, &PublicKey)],
) -> Result<SealedMessage> {
    seal_message_from(
        &mut Draws::caller(rng),
        true,
        sender,
        conversation_id,
        message_id,
        content,
        attachment,
        members,
    )
}

/// [`seal_message`] with an explicit RNG. Draw order (for reproducible
/// vectors): `C` (32 bytes), content IV (12), attachment IV (12, only with an
/// attachment), then one RSA-OAEP wrap per member in username order, then the
/// PSS signature.
///
/// Fails with [`CryptoError::NotARecipient`] if the sender's own public key is
/// not among `members`, [`CryptoError::DuplicateRecipient`] on a repeated
/// username.
pub fn seal_message_with_rng<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    sender: &PrivateKey,
    conversation_id: Uuid,
    message_id: Uuid,
    content: &[u8],
    attachment: Option<&[u8]>,
    members: &[(&str, &PublicKey)],
) -> Result<SealedMessage> {
    seal_message_from(
        &mut Draws::caller(rng),
        false,
        sender,
        conversation_id,
        message_id,
        content,
        attachment,
        members,
    )
}

#[allow(clippy::too_many_arguments)]
fn seal_message_from<R: TryCryptoRng + ?Sized>(
    draws: &mut Draws<'_, R>,
    keyed: bool,
    sender: &PrivateKey,
    conversation_id: Uuid,
    message_id: Uuid,
    content: &[u8],
    attachment: Option<&[u8]>,
    members: &[(&str, &PublicKey)],
) -> Result<SealedMessage> {
    let sorted = sorted_members(sender, members)?;

    let mut c = Zeroizing::new([0u8; KEY_LEN]);
    draws.fill(c.as_mut())?;
    let mut content_iv = [0u8; IV_LEN];
    draws.fill(&mut content_iv)?;
    let sealed_content = aead::encrypt(&c, &content_iv, &[], content)?;
    let sealed_attachment = match attachment {
        Some(bytes) => {
            let mut iv = [0u8; IV_LEN];
            draws.fill(&mut iv)?;
            Some(SealedAttachment {
                iv,
                data: aead::encrypt(&c, &iv, &[], bytes)?,
            })
        }
        None => None,
    };
    let recipients = wrap_for_members(draws, &c, &sorted)?;
    let mut message = SealedMessage {
        conversation_id,
        message_id,
        content_iv,
        content: sealed_content,
        attachment: sealed_attachment,
        recipients,
        signature: Vec::new(),
        version: if keyed {
            SignatureVersion::Keyed(sender.fingerprint())
        } else {
            SignatureVersion::V1
        },
    };
    let signed = message.signed_bytes()?;
    message.signature = draws.sign_pss(sender, &signed)?;
    Ok(message)
}

/// Opens a message as reader `reader_username`:
///
/// 1. finds the reader's entry in the signed list and checks that the
///    SHA-256 of the wrapped key it received matches
///    ([`CryptoError::NotARecipient`], [`CryptoError::KeyDigestMismatch`]);
/// 2. verifies the sender's signature ([`CryptoError::BadSignature`]) —
///    before any private-key operation, so unauthenticated input never
///    reaches RSA decryption;
/// 3. unwraps `C` and decrypts the content ([`CryptoError::Decrypt`]).
pub fn open_message(
    message: &ReceivedMessage,
    reader_username: &str,
    reader_key: &PrivateKey,
    sender_key: &PublicKey,
) -> Result<OpenedMessage> {
    check_own_entry(&message.recipients, reader_username, &message.wrapped_key)?;
    message
        .version
        .verify(sender_key, &message.signed_bytes()?, &message.signature)?;
    let unwrapped = reader_key.decrypt_oaep(&message.wrapped_key)?;
    let content_key = ContentKey(key_from_unwrapped(&unwrapped)?);
    let content = aead::decrypt(&content_key.0, &message.content_iv, &[], &message.content)?;
    Ok(OpenedMessage {
        content,
        content_key,
    })
}
