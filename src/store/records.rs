//! The records the store hands out and takes in: users, keys, members,
//! conversations, names, messages and attachments, as stored (ciphertext,
//! wrapped keys and digests; nothing here can read a message).

use std::fmt;

use uuid::Uuid;

use super::Digest;
#[cfg(doc)]
use super::Store;

/// A stored user. A user is *pending* (created by the operator, not yet
/// completed) while `completed_at` is `None`.
///
/// `Debug` redacts the stored private key, the sync password hash and the
/// token hash.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRecord {
    /// The username (primary key).
    pub username: String,
    /// The display name; set by `user.complete`.
    pub display_name: Option<String>,
    /// The public key, DER SubjectPublicKeyInfo; `None` while pending.
    pub public_key: Option<Vec<u8>>,
    /// The password-encrypted private key (`EncryptedPrivateKey` JSON, stored
    /// as the client sent it), if the user opted in.
    pub private_key: Option<String>,
    /// Argon2id PHC string of the sync password, if the user opted in.
    pub sync_password_hash: Option<String>,
    /// When the operator created the user (unix ms).
    pub created_at: i64,
    /// When the user completed (unix ms); `None` while pending.
    pub completed_at: Option<i64>,
    /// SHA-256 of the pending user's complete token, for a constant-time
    /// comparison by the server; `None` once completed.
    pub token_hash: Option<Vec<u8>>,
    /// When the pending user's complete token expires (unix ms); `None` once
    /// completed.
    pub token_expires_at: Option<i64>,
    /// The index of `public_key` in the user's key history; `None` while
    /// pending.
    pub key_index: Option<i64>,
}

impl UserRecord {
    /// Whether the user has completed (is not pending).
    pub fn is_complete(&self) -> bool {
        self.completed_at.is_some()
    }
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field(
                "public_key",
                &self
                    .public_key
                    .as_ref()
                    .map(|k| format!("<{} bytes>", k.len())),
            )
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "sync_password_hash",
                &self.sync_password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("created_at", &self.created_at)
            .field("completed_at", &self.completed_at)
            .field(
                "token_hash",
                &self.token_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("token_expires_at", &self.token_expires_at)
            .field("key_index", &self.key_index)
            .finish()
    }
}

/// One entry of a user's key history (api.yml, "Key history").
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyEntry {
    /// The entry's index, 0 for the first key.
    pub key_index: i64,
    /// The key, DER SubjectPublicKeyInfo.
    pub public_key: Vec<u8>,
    /// When it became current (unix ms).
    pub since: i64,
    /// When it stopped being current (unix ms); `None` for the current key.
    pub until: Option<i64>,
    /// RSA-PSS by the previous key over the succession bytes; `None` for a
    /// chain start.
    pub succession_signature: Option<Vec<u8>>,
    /// RSA-PSS by this key over the same bytes; `None` for a chain start.
    pub public_key_signature: Option<Vec<u8>>,
}

/// A rotation: the caller's next key, proven by both keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The key index it succeeds (the caller's current one); the store
    /// refuses the rotation if another one came first.
    pub previous_index: i64,
    /// The new key (DER SubjectPublicKeyInfo).
    pub public_key: Vec<u8>,
    /// RSA-PSS by the previous key over the succession bytes.
    pub succession_signature: Vec<u8>,
    /// RSA-PSS by the new key over the succession bytes.
    pub public_key_signature: Vec<u8>,
}

/// Changes to a completed user; `None` fields stay as they are.
///
/// `Debug` redacts the private key and the sync password hash.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// A new display name.
    pub display_name: Option<String>,
    /// A new public key with its succession proofs.
    pub rotation: Option<Rotation>,
    /// `Some(Some(json))` stores a new encrypted private key, `Some(None)`
    /// removes it.
    pub private_key: Option<Option<String>>,
    /// `Some(Some(phc))` stores a new sync password hash, `Some(None)`
    /// removes it.
    pub sync_password_hash: Option<Option<String>>,
}

impl fmt::Debug for UserUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<Option<String>>| match v {
            None => "unchanged",
            Some(None) => "removed",
            Some(Some(_)) => "<redacted>",
        };
        f.debug_struct("UserUpdate")
            .field("display_name", &self.display_name)
            .field(
                "rotation",
                &self.rotation.as_ref().map(|r| r.previous_index + 1),
            )
            .field("private_key", &redact(&self.private_key))
            .field("sync_password_hash", &redact(&self.sync_password_hash))
            .finish()
    }
}

/// What [`Store::delete_user`] changed, so the server can send events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeletedUser {
    /// Conversations the user left that still exist, each with its remaining
    /// members (sorted), ordered by conversation id.
    pub left: Vec<(Uuid, Vec<String>)>,
    /// Conversations deleted because the user was their last member, sorted.
    pub deleted_conversations: Vec<Uuid>,
}

/// A member of a conversation with what a sender needs to wrap keys for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    /// The member's username.
    pub username: String,
    /// The member's display name (the username if none is set).
    pub display_name: String,
    /// The member's public key, DER SubjectPublicKeyInfo; `None` while the
    /// member has been reset ([`Store::reset_user`]) and is pending again.
    pub public_key: Option<Vec<u8>>,
    /// The index of `public_key` in the member's key history.
    pub key_index: Option<i64>,
    /// When the member joined (unix ms).
    pub joined_at: i64,
    /// Whether the member owns the conversation.
    pub owner: bool,
}

/// A conversation with its members, as one reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRecord {
    /// The conversation id.
    pub id: Uuid,
    /// How many times the name was set, re-sealed or removed.
    pub name_revision: i64,
    /// The sealed name, if the conversation has one, with the key wrapped
    /// for the reader it was loaded for.
    pub name: Option<NameRecord>,
    /// The owner's username (always a member).
    pub owner: String,
    /// When it was created (unix ms).
    pub created_at: i64,
    /// When it, its members or its messages last changed (unix ms).
    pub updated_at: i64,
    /// The members, ordered by username (bytes ascending).
    pub members: Vec<MemberRecord>,
}

/// A sealed conversation name as the sealer uploaded it; the server has
/// checked its recipients and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewName {
    /// `name_revision + 1` of the conversation (signed).
    pub revision: i64,
    /// The 12-byte AES-GCM IV.
    pub iv: Vec<u8>,
    /// The name ciphertext (tag included).
    pub ciphertext: Vec<u8>,
    /// The sealer's RSA-PSS signature over the canonical name bytes.
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers: 1 or 2.
    pub signature_version: i64,
    /// The sealer's username.
    pub sealed_by: String,
    /// SHA-256 of the sealer's public key (SPKI DER) when sealing.
    pub sealer_key_digest: Digest,
    /// The index of the sealer's key that signed it.
    pub sealer_key_index: Option<i64>,
    /// The name key wrapped for every recipient (unique usernames).
    pub keys: Vec<NewNameKey>,
}

/// The name key wrapped for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNameKey {
    /// The recipient, with the wrapped key and its signed digest.
    pub key: NewKey,
    /// SHA-256 of the recipient's public key (SPKI DER) when sealing, to
    /// tell later whether their key has changed since.
    pub recipient_key_digest: Digest,
}

/// What a conversation update does to the name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NameChange {
    /// The name stays as it is.
    #[default]
    Keep,
    /// A new sealed name (a rename or a re-seal) replaces the current one.
    Set(NewName),
    /// The name is removed.
    Remove,
}

/// One recipient of a stored name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRecipient {
    /// The recipient.
    pub username: String,
    /// SHA-256 of the name key wrapped for them (signed).
    pub key_digest: Digest,
    /// SHA-256 of their public key when the name was sealed.
    pub recipient_key_digest: Digest,
    /// The index of their key it was wrapped for; `None` for a name sealed
    /// before the server kept key history.
    pub key_index: Option<i64>,
    /// Whether the server still holds their wrapped key (it forgets it when
    /// they leave, are reset or are deleted).
    pub holds_key: bool,
}

/// A stored sealed name, with the key wrapped for one reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRecord {
    /// The signed revision.
    pub revision: i64,
    /// The 12-byte AES-GCM IV.
    pub iv: Vec<u8>,
    /// The name ciphertext (tag included).
    pub ciphertext: Vec<u8>,
    /// The sealer's signature.
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers: 1 or 2.
    pub signature_version: i64,
    /// The sealer's username.
    pub sealed_by: String,
    /// When the server accepted it (unix ms).
    pub sealed_at: i64,
    /// SHA-256 of the sealer's public key when sealing.
    pub sealer_key_digest: Digest,
    /// The index of the sealer's key that signed it; `None` before the
    /// server kept key history.
    pub sealer_key_index: Option<i64>,
    /// Every recipient, sorted by username (bytes ascending), as signed.
    pub recipients: Vec<NameRecipient>,
    /// The name key wrapped for the reader, if the server holds one.
    pub reader_key: Option<Vec<u8>>,
    /// The index of the reader's key that `reader_key` is wrapped for.
    pub reader_key_index: Option<i64>,
}

/// The encrypted attachment of a new or edited message.
#[derive(Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// The 12-byte AES-GCM IV.
    pub iv: Vec<u8>,
    /// The attachment ciphertext (tag included).
    pub data: Vec<u8>,
    /// SHA-256 of `data`, as signed by the sender.
    pub digest: Digest,
}

impl fmt::Debug for NewAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAttachment")
            .field("iv", &self.iv)
            .field("data", &format_args!("<{} bytes>", self.data.len()))
            .field("digest", &self.digest)
            .finish()
    }
}

/// The content key of a message wrapped for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// The recipient.
    pub username: String,
    /// The content key wrapped with RSA-OAEP under the recipient's public key.
    pub wrapped_key: Vec<u8>,
    /// SHA-256 of `wrapped_key`, as signed by the sender.
    pub key_digest: Digest,
    /// The index of the recipient's key it is wrapped for.
    pub key_index: Option<i64>,
}

/// A message to insert, or the new version of an edited message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The message id chosen by the sender.
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The sender's username.
    pub sender: String,
    /// The 12-byte IV of `content`.
    pub content_iv: Vec<u8>,
    /// The content ciphertext.
    pub content: Vec<u8>,
    /// The sender's RSA-PSS signature over the canonical message bytes.
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers: 1 or 2.
    pub signature_version: i64,
    /// The index of the sender's key that signed it.
    pub sender_key_index: Option<i64>,
    /// The attachment, if any (`None` on update removes it).
    pub attachment: Option<NewAttachment>,
    /// The content key wrapped for every recipient (unique usernames).
    pub keys: Vec<NewKey>,
}

/// What a message says of its attachment; the bytes are fetched separately
/// with [`Store::get_attachment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    /// The 12-byte IV of the attachment.
    pub iv: Vec<u8>,
    /// SHA-256 of the attachment ciphertext.
    pub digest: Digest,
    /// Length of the attachment ciphertext in bytes.
    pub size: i64,
}

/// What an earlier `message.create` left under a message id: how a repeat
/// of it is told from a new message (api.yml, "Message content", retries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EarlierMessage {
    /// The message is stored.
    Stored {
        /// Its conversation.
        conversation_id: Uuid,
        /// Its sender.
        sender: String,
        /// The digest of the create that stored it; `None` for messages
        /// stored before the server kept it, or by a bulk import.
        create_digest: Option<Digest>,
    },
    /// The message was deleted; its id is never used again.
    Deleted {
        /// The conversation it was in.
        conversation_id: Uuid,
    },
}

/// A message as one reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// The pagination cursor: strictly increasing, never reused.
    pub cursor: i64,
    /// The message id.
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The sender's username.
    pub sender: String,
    /// When the server accepted it (unix ms).
    pub created_at: i64,
    /// When it was last edited (unix ms), if ever.
    pub edited_at: Option<i64>,
    /// The 12-byte IV of `content`.
    pub content_iv: Vec<u8>,
    /// The content ciphertext.
    pub content: Vec<u8>,
    /// The sender's signature over the canonical message bytes.
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers: 1 or 2.
    pub signature_version: i64,
    /// The index of the sender's key that signed it; `None` before the
    /// server kept key history.
    pub sender_key_index: Option<i64>,
    /// The attachment's IV, digest and size, without its bytes.
    pub attachment: Option<AttachmentMeta>,
    /// The content key wrapped for the reader.
    pub key: Vec<u8>,
    /// The index of the reader's key that `key` is wrapped for.
    pub key_index: Option<i64>,
    /// Every recipient with the digest of its wrapped key, sorted by username
    /// (bytes ascending), as signed.
    pub recipients: Vec<(String, Digest)>,
}

/// The encrypted bytes of one message's attachment.
#[derive(Clone, PartialEq, Eq)]
pub struct AttachmentRecord {
    /// The conversation.
    pub conversation_id: Uuid,
    /// The message.
    pub message_id: Uuid,
    /// The 12-byte IV.
    pub iv: Vec<u8>,
    /// The attachment ciphertext.
    pub data: Vec<u8>,
}

impl fmt::Debug for AttachmentRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentRecord")
            .field("conversation_id", &self.conversation_id)
            .field("message_id", &self.message_id)
            .field("iv", &self.iv)
            .field("data", &format_args!("<{} bytes>", self.data.len()))
            .finish()
    }
}

/// What happened when a member left a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveOutcome {
    /// The conversation goes on without the member.
    Left {
        /// The remaining members, sorted.
        remaining: Vec<String>,
        /// The new owner, if the leaving member owned the conversation
        /// (the longest-standing remaining member: earliest `joined_at`,
        /// then username).
        new_owner: Option<String>,
    },
    /// The member was the last one; the conversation and its messages are
    /// deleted.
    Deleted,
}
