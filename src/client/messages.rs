//! Messages on the client: sealing content (text, file) for the members of
//! a conversation, and opening what the server returns into a
//! [`ChatMessage`] whose signature has been checked.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::client::error::ClientError;
use crate::client::names::Reader;
use crate::crypto::{
    self, CryptoError, MessageContent, PrivateKey, PublicKey, ReceivedMessage, SignatureVersion,
};
use crate::models::{CreateMessage, Message, SealedAttachment, UpdateMessage};

/// A file to attach: its name, media type and bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct FileToSend {
    /// The file name shown to readers.
    pub name: String,
    /// Its media type, if known.
    pub media_type: Option<String>,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for FileToSend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileToSend")
            .field("name", &self.name)
            .field("media_type", &self.media_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Seals `text` and/or `file` as message `id` of `conversation_id` for
/// `readers` (every member with a key, the sender included), signed over
/// the keyed bytes (signature version 2): the payload of `message.create`.
/// A message needs a text or a file.
pub fn seal(
    sender: &PrivateKey,
    conversation_id: Uuid,
    id: Uuid,
    text: Option<&str>,
    file: Option<&FileToSend>,
    readers: &[Reader],
) -> Result<CreateMessage, ClientError> {
    if text.is_none_or(str::is_empty) && file.is_none() {
        return Err(ClientError::Local(
            "a message needs a text or a file".into(),
        ));
    }
    let content = MessageContent {
        text: text.map(str::to_owned),
        file_name: file.map(|f| f.name.clone()),
        file_type: file.and_then(|f| f.media_type.clone()),
    };
    let members: Vec<(&str, &PublicKey)> = readers
        .iter()
        .map(|r| (r.username.as_str(), &r.key))
        .collect();
    let sealed = crypto::seal_message_keyed(
        sender,
        conversation_id,
        id,
        &content.to_json_bytes()?,
        file.map(|f| f.bytes.as_slice()),
        &members,
    )?;
    Ok(CreateMessage {
        conversation_id,
        id,
        content_iv: sealed.content_iv.to_vec().into(),
        content: sealed.content.into(),
        attachment: sealed.attachment.map(|a| SealedAttachment {
            iv: a.iv.to_vec().into(),
            data: a.data.into(),
        }),
        keys: crate::client::names::wrapped_keys(sealed.recipients, readers),
        signature: sealed.signature.into(),
        signature_version: Some(sealed.version.number()),
    })
}

/// The payload of `message.update` for the same sealed content.
pub fn as_update(message: CreateMessage) -> UpdateMessage {
    UpdateMessage {
        conversation_id: message.conversation_id,
        id: message.id,
        content_iv: message.content_iv,
        content: message.content,
        attachment: message.attachment,
        keys: message.keys,
        signature: message.signature,
        signature_version: message.signature_version,
    }
}

/// A message as the reader sees it after the checks.
#[derive(Debug, Clone)]
pub struct ChatMessage {
    /// The conversation.
    pub conversation_id: Uuid,
    /// The message id.
    pub id: Uuid,
    /// Who sent it (as the server says; [`Verdict::Verified`] means their
    /// key signed it).
    pub sender: String,
    /// When the server accepted it.
    pub created_at: OffsetDateTime,
    /// When it was last edited, if ever.
    pub edited_at: Option<OffsetDateTime>,
    /// Its position in the history, for `message list --before`.
    pub cursor: Option<String>,
    /// The size of its attachment ciphertext, if it has one (the file and
    /// the AES-GCM tag: [`ChatMessage::file_size`] is the file's).
    pub attachment_size: Option<i64>,
    /// The sender's display name: from the conversation's members, or, for
    /// a sender who left or was deleted, as this device last saw it;
    /// `None` when neither knows it. Unchecked: show it beside the
    /// username, never instead of it.
    pub sender_display_name: Option<String>,
    /// What the checks found.
    pub verdict: Verdict,
}

/// The AES-GCM tag an attachment's ciphertext carries after the file.
pub const TAG_BYTES: u64 = 16;

/// The outcome of opening a message.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The sender's signature verifies and the content decrypted.
    Verified(MessageContent),
    /// The message failed a check: never show its content as genuine.
    Unverified(String),
}

impl ChatMessage {
    /// The size of the attached file as its sender had it (the ciphertext
    /// without its tag), if there is one: what the person knows the file
    /// by, and what a download writes.
    pub fn file_size(&self) -> Option<u64> {
        self.attachment_size
            .map(|size| u64::try_from(size).unwrap_or(0).saturating_sub(TAG_BYTES))
    }

    /// The content, only if it verified.
    pub fn content(&self) -> Option<&MessageContent> {
        match &self.verdict {
            Verdict::Verified(content) => Some(content),
            Verdict::Unverified(_) => None,
        }
    }
}

/// The parts of a [`Message`] the crypto core checks, for a signature by
/// `sender_key`.
pub fn received(message: &Message, sender_key: &PublicKey) -> Result<ReceivedMessage, CryptoError> {
    Ok(ReceivedMessage {
        version: SignatureVersion::for_signer(message.signature_version.unwrap_or(1), sender_key)?,
        conversation_id: message.conversation_id,
        message_id: message.id,
        content_iv: message
            .content_iv
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Malformed("content iv is not 12 bytes"))?,
        content: message.content.to_vec(),
        attachment_digest: match &message.attachment {
            Some(a) => Some(
                a.digest
                    .as_slice()
                    .try_into()
                    .map_err(|_| CryptoError::Malformed("attachment digest is not 32 bytes"))?,
            ),
            None => None,
        },
        recipients: crate::client::names::recipient_digests(&message.recipients)?,
        wrapped_key: message.key.to_vec(),
        signature: message.signature.to_vec(),
    })
}

/// Opens `message` as `reader` with `reader_key` (the reader's key its
/// content key is wrapped for; `Err` says why there is none), checking the
/// signature with `sender_key` (`Err` says why the sender's key at
/// `sender_key_index` is not known or not trusted: the message is
/// unverified). Returns the message and, when it verified, its content key
/// (to open the attachment).
pub fn open(
    message: &Message,
    reader: &str,
    reader_key: Result<&PrivateKey, String>,
    sender_key: Result<&PublicKey, String>,
) -> (ChatMessage, Option<crypto::OpenedMessage>) {
    let checked = sender_key.and_then(|key| {
        let reader_key = reader_key?;
        let received = received(message, key).map_err(|e| e.to_string())?;
        let opened =
            crypto::open_message(&received, reader, reader_key, key).map_err(|e| e.to_string())?;
        let content =
            MessageContent::from_json_bytes(&opened.content).map_err(|e| e.to_string())?;
        if content.text.as_deref().is_none_or(str::is_empty) && message.attachment.is_none() {
            return Err("the message holds neither text nor file".to_owned());
        }
        Ok((content, opened))
    });
    let (verdict, opened) = match checked {
        Ok((content, opened)) => (Verdict::Verified(content), Some(opened)),
        Err(why) => (Verdict::Unverified(why), None),
    };
    (
        ChatMessage {
            conversation_id: message.conversation_id,
            id: message.id,
            sender: message.sender.clone(),
            created_at: message.created_at,
            edited_at: message.edited_at,
            cursor: message.cursor.clone(),
            attachment_size: message.attachment.as_ref().map(|a| a.size),
            sender_display_name: None,
            verdict,
        },
        opened,
    )
}
