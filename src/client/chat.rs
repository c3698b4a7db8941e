//! [`Chat`]: one user on one server, as a frontend needs it. It pins the
//! server key and every user's key on first use, keeps the private key
//! only encrypted on disk ([`Home`]), and turns conversations and messages
//! into checked, decrypted values.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

use crate::client::error::ClientError;
use crate::client::generated::Bodies as _;
use crate::client::keystore::{self, Home};
use crate::client::messages::{self, ChatMessage, FileToSend};
use crate::client::pins::PinStore;
use crate::client::session::Session;
use crate::crypto::{
    CryptoError, EncryptedPrivateKey, Fingerprint, KeyFile, MessageContent, PrivateKey, PublicKey,
    SealedAttachment, key_rotation_bytes,
};
use crate::models::{
    self, BaseConversation, BaseMessage, BaseUser, CompleteUser, ListMessages, MessageConversation,
    PublicUser, SyncUser, UpdateUser,
};
use crate::wire::Secret;

/// One user on one server.
pub struct Chat {
    session: Session,
    home: Home,
    server: String,
    pins: Mutex<PinStore>,
}

/// What [`Chat::complete`] should do with the key pair.
#[derive(Debug, Default)]
pub struct CompleteOptions {
    /// Use this key pair instead of generating one (the seed's "Import
    /// public/private keys").
    pub import: Option<PrivateKey>,
    /// Also store the password-encrypted private key on the server, for
    /// `user.sync` from another device, under this sync password.
    pub sync_password: Option<Secret>,
}

impl Chat {
    /// Connects to `server` as `username`, with no key yet (for
    /// [`Chat::complete`] or [`Chat::login`]). The server key is checked
    /// against the one pinned in `home` ([`ClientError::KeyChanged`]), and
    /// pinned on first use.
    pub async fn connect(home: Home, server: &str, username: &str) -> Result<Chat, ClientError> {
        let session = Session::connect(server, username, None).await?;
        let mut pins = home.pins()?;
        pins.check_server(server, session.server_key())?;
        Ok(Chat {
            session,
            home,
            server: server.to_owned(),
            pins: Mutex::new(pins),
        })
    }

    /// The session underneath (for the typed body methods).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The server URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The user this chat speaks as.
    pub fn username(&self) -> &str {
        self.session.username()
    }

    /// The home holding the encrypted key and the pins.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// Completes the account with the operator's token: generates (or
    /// imports) the key pair, keeps it encrypted under `password` in the
    /// home, and optionally stores the encrypted copy on the server.
    pub async fn complete(
        &mut self,
        token: &str,
        display_name: &str,
        password: &[u8],
        options: CompleteOptions,
    ) -> Result<PublicUser, ClientError> {
        let key = match options.import {
            Some(key) => key,
            None => tokio::task::spawn_blocking(PrivateKey::generate)
                .await
                .map_err(|e| ClientError::Local(e.to_string()))??,
        };
        let encrypted = keystore::encrypt(&key, password).await?;
        let (private_key, sync_password) = match options.sync_password {
            Some(sync) => (Some(to_model(&encrypted)?), Some(sync)),
            None => (None, None),
        };
        self.session.set_signer(Some(key.clone()));
        let user = self
            .session
            .user_complete(CompleteUser {
                token: Secret::new(token),
                display_name: display_name.to_owned(),
                public_key: key.public_key().to_spki_der().to_vec().into(),
                private_key,
                sync_password,
            })
            .await;
        let user = match user {
            Ok(user) => user,
            Err(e) => {
                self.session.set_signer(None);
                return Err(e);
            }
        };
        self.home
            .save_key(&self.server, self.username(), &encrypted)?;
        self.pin_user(&user.username, key.public_key())?;
        Ok(user)
    }

    /// Logs in: decrypts the key kept in the home with `password`, or,
    /// when this home has none, fetches the server copy with `user.sync`
    /// (which needs `sync_password`) and keeps it locally.
    pub async fn login(
        &mut self,
        password: &[u8],
        sync_password: Option<&str>,
    ) -> Result<(), ClientError> {
        let stored = match self.home.load_key(&self.server, self.username())? {
            Some(stored) => stored,
            None => {
                let Some(sync_password) = sync_password else {
                    return Err(ClientError::Local(format!(
                        "this device has no key for {} on {}: log in with the sync password to fetch the server copy",
                        self.username(),
                        self.server
                    )));
                };
                let synced = self
                    .session
                    .user_sync(SyncUser {
                        sync_password: Secret::new(sync_password),
                    })
                    .await?;
                let encrypted = from_model(&synced.private_key)?;
                let key = keystore::decrypt(&encrypted, password).await?;
                let public = PublicKey::from_spki_der(&synced.public_key)?;
                key.check_matches(&public)?;
                self.home
                    .save_key(&self.server, self.username(), &encrypted)?;
                encrypted
            }
        };
        let key = keystore::decrypt(&stored, password).await?;
        self.session.set_signer(Some(key.clone()));
        // The server must still know this key as ours: after a rotation on
        // another device, say so rather than fail every request.
        let me = self.user(self.username()).await;
        match me {
            Ok(me) if me.public_key.as_slice() == key.public_key().to_spki_der() => Ok(()),
            Ok(_) | Err(ClientError::KeyChanged { .. }) => {
                self.session.set_signer(None);
                Err(ClientError::Local(
                    "the server knows another key for this account: import the current key, or ask the operator for a reset".into(),
                ))
            }
            Err(e) => {
                self.session.set_signer(None);
                Err(e)
            }
        }
    }

    /// Uses `key` directly (a key file, a test fixture), without the home.
    pub fn use_key(&mut self, key: PrivateKey) {
        self.session.set_signer(Some(key));
    }

    /// The private key in use, if logged in.
    pub fn key(&self) -> Result<&PrivateKey, ClientError> {
        self.session.require_signer()
    }

    /// A user's public view, with their key checked against the pin.
    pub async fn user(&self, username: &str) -> Result<PublicUser, ClientError> {
        let user = self
            .session
            .user_get(BaseUser {
                username: username.to_owned(),
            })
            .await?;
        let key = PublicKey::from_spki_der(&user.public_key)?;
        self.pin_user(&user.username, &key)?;
        Ok(user)
    }

    /// Accepts `fingerprint` as the new key of `username` (after a
    /// [`ClientError::KeyChanged`] the person has checked).
    pub fn accept_user_key(
        &self,
        username: &str,
        fingerprint: &Fingerprint,
    ) -> Result<(), ClientError> {
        self.lock_pins()
            .accept_user(&self.server, username, fingerprint)
    }

    /// Accepts `fingerprint` as the new key of the server.
    pub fn accept_server_key(&self, fingerprint: &Fingerprint) -> Result<(), ClientError> {
        self.lock_pins().accept_server(&self.server, fingerprint)
    }

    /// A conversation, with every member's key checked against the pins.
    pub async fn conversation(&self, id: Uuid) -> Result<MessageConversation, ClientError> {
        let conversation = self
            .session
            .conversation_get(BaseConversation { id })
            .await?;
        self.readers(&conversation)?;
        Ok(conversation)
    }

    /// The members of `conversation` that have a key, each checked against
    /// (or pinned as) their pinned key: who content is sealed for.
    pub fn readers(
        &self,
        conversation: &MessageConversation,
    ) -> Result<Vec<(String, PublicKey)>, ClientError> {
        let readers = crate::client::names::member_keys(&conversation.members)?;
        for (username, key) in &readers {
            self.pin_user(username, key)?;
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
        let conversation = self.conversation(conversation_id).await?;
        let payload = self.seal(&conversation, Uuid::new_v4(), text, file).await?;
        let sent = self.session.message_create(payload).await?;
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

    /// Opens messages of `conversation`; senders who are no longer members
    /// are looked up (and pinned) with `user.get`.
    pub async fn open_all(
        &self,
        conversation: &MessageConversation,
        list: Vec<models::Message>,
    ) -> Result<Vec<ChatMessage>, ClientError> {
        let mut keys: HashMap<String, Option<PublicKey>> = self
            .readers(conversation)?
            .into_iter()
            .map(|(u, k)| (u, Some(k)))
            .collect();
        for message in &list {
            if !keys.contains_key(&message.sender) {
                let key = match self.user(&message.sender).await {
                    Ok(user) => Some(PublicKey::from_spki_der(&user.public_key)?),
                    Err(ClientError::Api(e)) if e.code == models::ErrorCode::NotFound => None,
                    Err(e) => return Err(e),
                };
                keys.insert(message.sender.clone(), key);
            }
        }
        let reader = self.key()?.clone();
        let username = self.username().to_owned();
        tokio::task::spawn_blocking(move || {
            list.iter()
                .map(|m| {
                    let sender = keys.get(&m.sender).and_then(Option::as_ref);
                    messages::open(m, &username, &reader, sender).0
                })
                .collect()
        })
        .await
        .map_err(|e| ClientError::Local(e.to_string()))
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
        let sender = self.user(&found.sender).await?;
        let sender_key = PublicKey::from_spki_der(&sender.public_key)?;
        let reader = self.key()?.clone();
        let username = self.username().to_owned();
        let (chat, opened) = messages::open(&found, &username, &reader, Some(&sender_key));
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

    /// Rotates the key pair: a new key, proven to the server, kept encrypted
    /// under `password` in the home (and on the server when a copy is
    /// stored there, which `update_server_copy` says).
    pub async fn rotate(
        &mut self,
        password: &[u8],
        update_server_copy: bool,
    ) -> Result<PublicUser, ClientError> {
        let new_key = tokio::task::spawn_blocking(PrivateKey::generate)
            .await
            .map_err(|e| ClientError::Local(e.to_string()))??;
        let spki = new_key.public_key().to_spki_der().to_vec();
        let proof = new_key.sign_pss(&key_rotation_bytes(self.username(), &spki))?;
        let encrypted = keystore::encrypt(&new_key, password).await?;
        let user = self
            .session
            .user_update(UpdateUser {
                public_key: Some(spki.into()),
                public_key_signature: Some(proof.into()),
                private_key: if update_server_copy {
                    Some(to_model(&encrypted)?)
                } else {
                    None
                },
                ..Default::default()
            })
            .await?;
        self.home
            .save_key(&self.server, self.username(), &encrypted)?;
        self.lock_pins()
            .accept_user(&self.server, self.username(), &new_key.fingerprint())?;
        self.session.set_signer(Some(new_key));
        Ok(user)
    }

    /// The key pair as a key file, its private key encrypted under
    /// `password` when given.
    pub async fn export_key(&self, password: Option<&[u8]>) -> Result<KeyFile, ClientError> {
        let key = self.key()?.clone();
        let (server, username) = (self.server.clone(), self.username().to_owned());
        let password = password.map(|p| zeroize::Zeroizing::new(p.to_vec()));
        tokio::task::spawn_blocking(move || match password {
            Some(password) => KeyFile::new_encrypted(&server, &username, &key, &password),
            None => KeyFile::new_plain(&server, &username, &key),
        })
        .await
        .map_err(|e| ClientError::Local(e.to_string()))?
        .map_err(ClientError::from)
    }

    /// Imports a key file for this user on this server: keeps its key
    /// encrypted under `password` in the home.
    pub async fn import_key(
        &mut self,
        file: &KeyFile,
        file_password: Option<&[u8]>,
        password: &[u8],
    ) -> Result<(), ClientError> {
        if file.username != self.username() {
            return Err(ClientError::Local(format!(
                "the key file is for {}, not {}",
                file.username,
                self.username()
            )));
        }
        let key = file.private_key(file_password).map_err(|e| match e {
            CryptoError::Decrypt => ClientError::WrongPassword,
            other => other.into(),
        })?;
        // The file must hold the key the server knows for this account, or
        // every later request would fail with a bad signature.
        self.session.set_signer(Some(key.clone()));
        let server_view = self.user(self.username()).await;
        match server_view {
            Ok(me) if me.public_key.as_slice() == key.public_key().to_spki_der() => {}
            Ok(_) | Err(ClientError::Api(_)) | Err(ClientError::KeyChanged { .. }) => {
                self.session.set_signer(None);
                return Err(ClientError::Local(format!(
                    "the key file does not hold the current key of {} on {}",
                    self.username(),
                    self.server
                )));
            }
            Err(e) => {
                self.session.set_signer(None);
                return Err(e);
            }
        }
        self.home
            .encrypt_and_save(&self.server, self.username(), &key, password)
            .await?;
        Ok(())
    }

    async fn seal(
        &self,
        conversation: &MessageConversation,
        id: Uuid,
        text: Option<&str>,
        file: Option<&FileToSend>,
    ) -> Result<models::CreateMessage, ClientError> {
        let readers = self.readers(conversation)?;
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

    async fn find_message(
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

    fn pin_user(&self, username: &str, key: &PublicKey) -> Result<(), ClientError> {
        self.lock_pins().check_user(&self.server, username, key)
    }

    fn lock_pins(&self) -> std::sync::MutexGuard<'_, PinStore> {
        self.pins.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The crypto core's encrypted key as the wire model.
pub fn to_model(key: &EncryptedPrivateKey) -> Result<models::EncryptedPrivateKey, ClientError> {
    Ok(serde_json::from_str(&key.to_json()?)?)
}

/// The wire model as the crypto core's encrypted key (validated).
pub fn from_model(key: &models::EncryptedPrivateKey) -> Result<EncryptedPrivateKey, ClientError> {
    Ok(EncryptedPrivateKey::from_json(&serde_json::to_string(
        key,
    )?)?)
}
