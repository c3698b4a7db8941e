//! Conversations and messages as a reader sees them: sealed for the
//! current members, opened with the key each was wrapped for, verified
//! with the key its sender had; names, history, files.

use super::*;

use uuid::Uuid;

use crate::client::error::ClientError;
use crate::client::generated::Bodies as _;
use crate::client::messages::{self, ChatMessage, FileToSend};
use crate::client::names::{self, Reader};
use crate::crypto::{CryptoError, MessageContent, PrivateKey, PublicKey, SealedAttachment};
use crate::models::{self, BaseConversation, BaseMessage, ListMessages, MessageConversation};

impl Chat {
    /// Verifies, for the session, the key histories of the sealers of
    /// these conversations' names, so that [`Chat::name_now`] can open
    /// them without a request.
    pub async fn check_sealers(
        &self,
        conversations: &[MessageConversation],
    ) -> Result<(), ClientError> {
        for conversation in conversations {
            if let Some(sealer) = names::sealer_member(conversation).ok().flatten() {
                match self.trusted_chain(&sealer.username).await {
                    Ok(_) | Err(ClientError::History(_) | ClientError::KeyChanged { .. }) => {}
                    Err(ClientError::Api(e)) if e.code == models::ErrorCode::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// The name of `conversation` as [`Chat::conversation_name`] opens it,
    /// from the key histories this session already verified
    /// ([`Chat::check_sealers`]); a sealer whose history was not verified
    /// yet makes it [`ClientError::Unverified`].
    pub fn name_now(
        &self,
        conversation: &MessageConversation,
    ) -> Result<Option<String>, ClientError> {
        let (Some(name), Some(sealer)) = (&conversation.name, names::sealer_member(conversation)?)
        else {
            return Ok(None);
        };
        let chain = self.lock_chains().get(&sealer.username).cloned();
        let chain = chain.ok_or_else(|| {
            ClientError::Unverified(format!(
                "the key history of {} is not verified",
                sealer.username
            ))
        })?;
        let key = key_in_chain(&chain, name.sealer_key_index, name.sealed_at)
            .map_err(ClientError::Unverified)?;
        let reader_key = self.session.own_key_at(name.key_index)?;
        names::open(conversation, self.username(), reader_key, &key)
    }

    /// The name of `conversation`, opened with this reader's key for it and
    /// verified with the sealer's key from their trusted chain.
    pub async fn conversation_name(
        &self,
        conversation: &MessageConversation,
    ) -> Result<Option<String>, ClientError> {
        if let Some(sealer) = names::sealer_member(conversation)? {
            self.sender_chain(&sealer.username)
                .await?
                .map_err(ClientError::Unverified)?;
        }
        self.name_now(conversation)
    }

    /// A conversation, with every member's key checked against the pins.
    pub async fn conversation(&self, id: Uuid) -> Result<MessageConversation, ClientError> {
        let conversation = self
            .session
            .conversation_get(BaseConversation { id })
            .await?;
        self.readers(&conversation).await?;
        Ok(conversation)
    }

    /// The members of `conversation` that have a key, each checked against
    /// (or pinned as) their pinned key, rotations followed: who content is
    /// sealed for.
    pub async fn readers(
        &self,
        conversation: &MessageConversation,
    ) -> Result<Vec<Reader>, ClientError> {
        let readers = names::member_keys(&conversation.members)?;
        for reader in &readers {
            self.check_current(&reader.username, &reader.key, reader.key_index)
                .await?;
        }
        Ok(readers)
    }

    /// Creates a conversation with `members`, optionally named.
    pub async fn create_conversation(
        &self,
        members: &[&str],
        name: Option<&str>,
    ) -> Result<MessageConversation, ClientError> {
        for member in members {
            if *member != self.username() {
                self.user(member).await?;
            }
        }
        self.session.create_conversation(members, name).await
    }

    /// Sends a message with `text` and/or `file` to a conversation.
    pub async fn send(
        &self,
        conversation_id: Uuid,
        text: Option<&str>,
        file: Option<&FileToSend>,
    ) -> Result<ChatMessage, ClientError> {
        let id = Uuid::new_v4();
        let mut conversation = self.conversation(conversation_id).await?;
        let payload = self.seal(&conversation, id, text, file).await?;
        let sent = match self.session.message_create(payload).await {
            // A member rotated between the fetch and the send: fetch the
            // members again and seal anew, once.
            Err(ClientError::Api(e)) if e.code == models::ErrorCode::MembersMismatch => {
                conversation = self.conversation(conversation_id).await?;
                let payload = self.seal(&conversation, id, text, file).await?;
                self.session.message_create(payload).await?
            }
            other => other?,
        };
        Ok(self.open_all(&conversation, vec![sent]).await?.remove(0))
    }

    /// Replaces the content of one of this user's messages.
    pub async fn edit(
        &self,
        conversation_id: Uuid,
        message_id: Uuid,
        text: Option<&str>,
        file: Option<&FileToSend>,
    ) -> Result<ChatMessage, ClientError> {
        let conversation = self.conversation(conversation_id).await?;
        let payload = self.seal(&conversation, message_id, text, file).await?;
        let edited = self
            .session
            .message_update(messages::as_update(payload))
            .await?;
        Ok(self.open_all(&conversation, vec![edited]).await?.remove(0))
    }

    /// Deletes one of this user's messages.
    pub async fn delete_message(
        &self,
        conversation_id: Uuid,
        message_id: Uuid,
    ) -> Result<(), ClientError> {
        self.session
            .message_delete(BaseMessage {
                conversation_id,
                id: message_id,
            })
            .await?;
        Ok(())
    }

    /// A page of history, newest first, opened and checked; pass the
    /// returned cursor as `before` for the next older page.
    pub async fn history(
        &self,
        conversation_id: Uuid,
        before: Option<String>,
        limit: Option<i64>,
    ) -> Result<(Vec<ChatMessage>, Option<String>), ClientError> {
        let conversation = self.conversation(conversation_id).await?;
        let page = self
            .session
            .message_list(ListMessages {
                conversation_id,
                before,
                limit,
            })
            .await?;
        let opened = self.open_all(&conversation, page.messages).await?;
        Ok((opened, page.next_cursor))
    }

    /// Opens messages of `conversation`, each verified with the key its
    /// sender had (from their trusted chain) and opened with this reader's
    /// key it was wrapped for. The members' current keys are checked first.
    pub async fn open_all(
        &self,
        conversation: &MessageConversation,
        list: Vec<models::Message>,
    ) -> Result<Vec<ChatMessage>, ClientError> {
        self.readers(conversation).await?;
        let mut checked = Vec::with_capacity(list.len());
        for message in list {
            let (sender_key, reader_key) = self.message_keys(&message).await?;
            checked.push((message, sender_key, reader_key));
        }
        let username = self.username().to_owned();
        let mut opened: Vec<ChatMessage> = tokio::task::spawn_blocking(move || {
            checked
                .iter()
                .map(|(m, sender, reader)| {
                    let reader = reader.as_ref().map_err(Clone::clone);
                    let sender = sender.as_ref().map_err(Clone::clone);
                    let mut opened = messages::open(m, &username, reader, sender).0;
                    if m.sender_key_index.is_none() {
                        legacy_reason(&mut opened);
                    }
                    opened
                })
                .collect()
        })
        .await
        .map_err(|e| ClientError::Local(e.to_string()))?;
        self.remember_names(conversation);
        for message in &mut opened {
            message.sender_display_name = self.display_name(conversation, &message.sender);
        }
        Ok(opened)
    }

    /// Keeps the display names of `conversation`'s members in the home,
    /// so that they stay readable after a member leaves. A cache that
    /// cannot be written costs only names, never the command.
    pub fn remember_names(&self, conversation: &MessageConversation) {
        let pairs = conversation
            .members
            .iter()
            .map(|m| (m.username.as_str(), m.display_name.as_str()));
        if let Err(e) = self.lock_names().learn(pairs) {
            tracing::debug!(%e, "cannot keep display names");
        }
    }

    /// The display name of `username`: as a member of `conversation`, or
    /// as this device last saw it (a former member, a deleted account).
    pub fn display_name(
        &self,
        conversation: &MessageConversation,
        username: &str,
    ) -> Option<String> {
        conversation
            .members
            .iter()
            .find(|m| m.username == username)
            .map(|m| m.display_name.clone())
            .or_else(|| self.lock_names().get(username).map(str::to_owned))
    }

    /// The keys `message` is checked and opened with: its sender's key at
    /// `sender_key_index` from their trusted chain, and this reader's key
    /// it was wrapped for; each, when missing, as the reason the reader is
    /// told.
    pub(super) async fn message_keys(
        &self,
        message: &models::Message,
    ) -> Result<(Result<PublicKey, String>, Result<PrivateKey, String>), ClientError> {
        let sender_key = self
            .signing_key(
                &message.sender,
                message.sender_key_index,
                message.edited_at.unwrap_or(message.created_at),
            )
            .await?;
        let reader_key = self
            .session
            .own_key_at(message.key_index)
            .cloned()
            .map_err(|e| e.to_string());
        Ok((sender_key, reader_key))
    }

    /// Downloads and decrypts a message's file, after checking the
    /// message's signature and the attachment against its signed digest.
    pub async fn download(
        &self,
        conversation_id: Uuid,
        message_id: Uuid,
    ) -> Result<(MessageContent, Vec<u8>), ClientError> {
        let found = self.find_message(conversation_id, message_id).await?;
        let digest = found
            .attachment
            .as_ref()
            .ok_or_else(|| ClientError::Local("this message has no file".into()))?
            .digest
            .clone();
        let (sender_key, reader) = self.message_keys(&found).await?;
        let username = self.username().to_owned();
        let (chat, opened) = messages::open(
            &found,
            &username,
            reader.as_ref().map_err(Clone::clone),
            sender_key.as_ref().map_err(Clone::clone),
        );
        let (content, opened) = match (chat.verdict, opened) {
            (messages::Verdict::Verified(content), Some(opened)) => (content, opened),
            (messages::Verdict::Unverified(why), _) => return Err(ClientError::Unverified(why)),
            (messages::Verdict::Verified(_), None) => {
                return Err(ClientError::Unverified("no content key".into()));
            }
        };
        let attachment = self
            .session
            .message_attachment(BaseMessage {
                conversation_id,
                id: message_id,
            })
            .await?;
        let sealed = SealedAttachment {
            iv: attachment
                .iv
                .as_slice()
                .try_into()
                .map_err(|_| CryptoError::Malformed("attachment iv is not 12 bytes"))?,
            data: attachment.data.into_vec(),
        };
        let digest: [u8; 32] = digest
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::Malformed("attachment digest is not 32 bytes"))?;
        let bytes = opened.content_key.open_attachment(&sealed, &digest)?;
        Ok((content, bytes))
    }

    pub(super) async fn seal(
        &self,
        conversation: &MessageConversation,
        id: Uuid,
        text: Option<&str>,
        file: Option<&FileToSend>,
    ) -> Result<models::CreateMessage, ClientError> {
        if let Some(file) = file {
            self.check_file_size(file.bytes.len())?;
        }
        let readers = self.readers(conversation).await?;
        let signer = self.key()?.clone();
        let (text, file) = (text.map(str::to_owned), file.cloned());
        let conversation_id = conversation.id;
        tokio::task::spawn_blocking(move || {
            messages::seal(
                &signer,
                conversation_id,
                id,
                text.as_deref(),
                file.as_ref(),
                &readers,
            )
        })
        .await
        .map_err(|e| ClientError::Local(e.to_string()))?
    }

    /// Refuses a file the server would refuse: its limit is on the
    /// ciphertext, which is the file and a 16-byte AES-GCM tag. The limit
    /// is named in plaintext bytes, as the person knows the file.
    pub(super) fn check_file_size(&self, size: usize) -> Result<(), ClientError> {
        let limit = u64::try_from(self.session.limits().max_file_bytes)
            .unwrap_or(u64::MAX)
            .saturating_sub(messages::TAG_BYTES);
        if size as u64 > limit {
            return Err(ClientError::TooLarge {
                what: "the file".into(),
                size: Some(size as u64),
                limit,
            });
        }
        Ok(())
    }

    pub(super) async fn find_message(
        &self,
        conversation_id: Uuid,
        message_id: Uuid,
    ) -> Result<models::Message, ClientError> {
        let mut before = None;
        loop {
            let page = self
                .session
                .message_list(ListMessages {
                    conversation_id,
                    before: before.take(),
                    limit: None,
                })
                .await?;
            if let Some(found) = page.messages.into_iter().find(|m| m.id == message_id) {
                return Ok(found);
            }
            match page.next_cursor {
                Some(cursor) => before = Some(cursor),
                None => {
                    return Err(ClientError::Local(format!(
                        "no message {message_id} in this conversation"
                    )));
                }
            }
        }
    }
}
