//! [`Chat`]: one user on one server, as a frontend needs it. It pins the
//! server key and every user's key on first use, follows each user's key
//! history from the pinned key (a rotation is followed silently, only an
//! unexplained change warns), keeps the user's key ring only encrypted on
//! disk ([`Home`]), and turns conversations and messages into checked,
//! decrypted values, each verified with the key its sender had.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::client::display_names::DisplayNames;
use crate::client::error::{ClientError, PinSubject};
use crate::client::generated::Bodies as _;
use crate::client::history::{self, KeyView, TrustedChain};
use crate::client::keystore::{self, Home};
use crate::client::messages::{self, ChatMessage, FileToSend};
use crate::client::names::{self, Reader};
use crate::client::pins::{PinStore, PinnedUser};
use crate::client::session::Session;
use crate::crypto::{
    CryptoError, EncryptedPrivateKey, Fingerprint, KeyFile, KeyRing, MessageContent, PrivateKey,
    PublicKey, SealedAttachment, Succession,
};
use crate::models::{
    self, BaseConversation, BaseMessage, BaseUser, CompleteUser, KeyHistory, ListMessages,
    MessageConversation, PublicUser, SyncUser, UpdateUser,
};
use crate::wire::Secret;

/// What to run when this device holds an earlier key than the account's.
const ROTATED_ELSEWHERE: &str = "this device holds only keys the account no longer uses (it rotated on another device, or was reset and completed again): log in again with the sync password to fetch the new key ring (if the server keeps a copy), or import a key file exported after the change";

/// One user on one server.
pub struct Chat {
    session: Session,
    home: Home,
    server: String,
    pins: Mutex<PinStore>,
    /// Each user's trusted chain, as verified in this session.
    chains: Mutex<HashMap<String, Arc<TrustedChain>>>,
    /// The display names seen on this server, kept in the home.
    names: Mutex<DisplayNames>,
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

/// What a contact's key change is to this reader ([`Chat::key_changed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// A rotation signed by their previous key, followed along the trusted
    /// chain: a quiet notice.
    Rotated {
        /// The new key's fingerprint.
        fingerprint: String,
        /// Whether the contact is (still) marked verified.
        verified: bool,
    },
    /// An unexplained change (a chain start after the pinned key, or a
    /// history that does not verify): a loud warning. The verified mark is
    /// cleared, and nothing is sealed for them until the person accepts
    /// the new key.
    Unexplained {
        /// The pinned fingerprint.
        pinned: String,
        /// The fingerprint announced now.
        announced: String,
        /// Why their key history was refused, when it was (else the new
        /// key is a chain start).
        refused: Option<String>,
    },
    /// A key this device already trusts: pinned on first sight (nothing to
    /// compare with), or accepted by the person before the event came.
    AlreadyTrusted {
        /// The key's fingerprint.
        fingerprint: String,
    },
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
        let names = home.display_names(server);
        Ok(Chat {
            session,
            home,
            server: server.to_owned(),
            pins: Mutex::new(pins),
            chains: Mutex::new(HashMap::new()),
            names: Mutex::new(names),
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
        self.lock_pins().pin_user_at(
            &self.server,
            &user.username,
            &key.fingerprint(),
            user.key_index,
        )?;
        self.forget_chain(&user.username);
        self.learn_own_history().await?;
        Ok(user)
    }

    /// Logs in: decrypts the key ring kept in the home with `password`,
    /// or, when this home has none (or holds only keys older than the
    /// account's current one, after a rotation on another device), fetches
    /// the server copy with `user.sync` (which needs `sync_password`),
    /// merges it with what the home holds and keeps it locally.
    pub async fn login(
        &mut self,
        password: &[u8],
        sync_password: Option<&str>,
    ) -> Result<(), ClientError> {
        let local = match self.home.load_key(&self.server, self.username())? {
            Some(stored) => match keystore::decrypt_ring(&stored, password).await {
                Ok(ring) => Some(ring),
                // Fetching the server copy replaces a home copy under
                // another password.
                Err(ClientError::WrongPassword) if sync_password.is_some() => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let ring = match (local, sync_password) {
            (local, Some(sync_password)) => {
                // The one unsigned request: it works whatever keys this
                // device holds, and its answer names the current key.
                let synced = self
                    .session
                    .user_sync(SyncUser {
                        sync_password: Secret::new(sync_password),
                    })
                    .await?;
                let encrypted = from_model(&synced.private_key)?;
                let server_ring = keystore::decrypt_ring(&encrypted, password).await?;
                let public = PublicKey::from_spki_der(&synced.public_key)?;
                server_ring.current().check_matches(&public).map_err(|_| {
                    ClientError::Local(
                        "the server copy does not hold the current key of this account: import a key file that does, or ask the operator for a reset".into(),
                    )
                })?;
                let ring = match &local {
                    Some(local) => server_ring.merged(local)?,
                    None => server_ring,
                };
                self.home
                    .encrypt_and_save_ring(&self.server, self.username(), &ring, password)
                    .await?;
                ring
            }
            (Some(ring), None) => ring,
            (None, None) => {
                return Err(ClientError::Local(format!(
                    "this device has no key for {} on {}: log in with the sync password to fetch the server copy",
                    self.username(),
                    self.server
                )));
            }
        };
        self.session.set_keys(Some(ring));
        // Our own key is pinned as any other user's: a change we did not
        // make is as suspicious as anyone's. A key the server no longer
        // accepts (bad_signature) was replaced: by a rotation on another
        // device, or a reset and a new completion.
        match self.user(self.username()).await {
            Ok(_) => {}
            Err(ClientError::Api(e)) if e.code == models::ErrorCode::BadSignature => {
                self.session.set_keys(None);
                return Err(ClientError::RotatedElsewhere {
                    username: self.username().to_owned(),
                    what_to_do: ROTATED_ELSEWHERE.to_owned(),
                });
            }
            Err(e) => {
                self.session.set_keys(None);
                return Err(e);
            }
        }
        self.learn_own_history().await?;
        Ok(())
    }

    /// Fetches this user's own key history and tells the session which key
    /// each index names.
    async fn learn_own_history(&self) -> Result<(), ClientError> {
        let history = self.own_history().await?;
        self.session.learn_own_history(&history);
        Ok(())
    }

    async fn own_history(&self) -> Result<KeyHistory, ClientError> {
        self.session
            .user_keys(BaseUser {
                username: self.username().to_owned(),
            })
            .await
    }

    /// Uses `key` directly (a key file, a test fixture), without the home.
    pub fn use_key(&mut self, key: PrivateKey) {
        self.session.set_signer(Some(key));
    }

    /// Uses a key ring directly (a key file), without the home; fetches
    /// the user's own history so that earlier keys open what was wrapped
    /// for them.
    pub async fn use_keys(&mut self, keys: KeyRing) -> Result<(), ClientError> {
        self.session.set_keys(Some(keys));
        self.learn_own_history().await
    }

    /// The private key in use, if logged in.
    pub fn key(&self) -> Result<&PrivateKey, ClientError> {
        self.session.require_signer()
    }

    /// A user's public view, with their key checked against the pin (a
    /// rotation since is followed through their key history).
    pub async fn user(&self, username: &str) -> Result<PublicUser, ClientError> {
        let user = self
            .session
            .user_get(BaseUser {
                username: username.to_owned(),
            })
            .await?;
        let key = PublicKey::from_spki_der(&user.public_key)?;
        self.check_current(&user.username, &key, Some(user.key_index))
            .await?;
        Ok(user)
    }

    /// Accepts `fingerprint` as the new key of `username` (after a
    /// [`ClientError::KeyChanged`] the person has checked). A key other
    /// than the pinned one clears the verified mark: accepting is not
    /// verifying ([`Chat::verify_contact`]).
    pub fn accept_user_key(
        &self,
        username: &str,
        fingerprint: &Fingerprint,
    ) -> Result<(), ClientError> {
        self.forget_chain(username);
        self.lock_pins()
            .accept_user(&self.server, username, fingerprint)
    }

    /// The keys of `username` this reader trusts: their key history,
    /// verified from the pinned key (pinning their current key on first
    /// use). When their current key continues the chain, the pin moves to
    /// it. Cached for the session; after a key change,
    /// [`Chat::forget_chain`] makes the next use verify again.
    pub async fn trusted_chain(&self, username: &str) -> Result<Arc<TrustedChain>, ClientError> {
        if let Some(chain) = self.lock_chains().get(username) {
            return Ok(chain.clone());
        }
        let history = self.key_history(username).await?;
        self.chain_from(username, &history)
    }

    /// `username`'s key history, as the server serves it (unverified).
    async fn key_history(&self, username: &str) -> Result<KeyHistory, ClientError> {
        let history = self
            .session
            .user_keys(BaseUser {
                username: username.to_owned(),
            })
            .await?;
        if history.username != username {
            return Err(ClientError::InvalidResponse(format!(
                "asked for the key history of {username}, got that of {}",
                history.username
            )));
        }
        Ok(history)
    }

    /// [`Chat::trusted_chain`] from `history`: verified from the pin (or
    /// pinning on first use), the pin moved along a rotation, the result
    /// cached. An unexplained change (a history that does not verify, or
    /// a current key beyond a chain start) clears the verified mark.
    fn chain_from(
        &self,
        username: &str,
        history: &KeyHistory,
    ) -> Result<Arc<TrustedChain>, ClientError> {
        let (pinned, index) = {
            let pins = self.lock_pins();
            (
                pins.user(&self.server, username).map(str::to_owned),
                pins.user_index(&self.server, username),
            )
        };
        let (fingerprint, index) = match (pinned, index) {
            (Some(pinned), Some(index)) => (parse_fingerprint(&pinned)?, index),
            (Some(pinned), None) => {
                // A pin from before key histories: find the pinned key.
                let fingerprint = parse_fingerprint(&pinned)?;
                let found = history
                    .keys
                    .iter()
                    .find(|e| Fingerprint::of_spki_der(&e.public_key) == fingerprint);
                match found {
                    Some(entry) => (fingerprint, entry.index),
                    None => {
                        self.unverify_on_change(username)?;
                        return Err(self.changed(username, &pinned, history));
                    }
                }
            }
            (None, _) => {
                let current = history::current_entry(history).ok_or_else(|| {
                    ClientError::Local(format!("{username} has no key now (reset by the operator)"))
                })?;
                let fingerprint = Fingerprint::of_spki_der(&current.public_key);
                self.lock_pins().pin_user_at(
                    &self.server,
                    username,
                    &fingerprint,
                    current.index,
                )?;
                (fingerprint, current.index)
            }
        };
        let mut chain = match history::verify(history, index, &fingerprint) {
            Ok(chain) => chain,
            Err(e) => {
                self.unverify_on_change(username)?;
                return Err(e.into());
            }
        };
        // Keys pinned before an accepted change stay trusted, and so does
        // what they signed.
        let earlier = self.lock_pins().earlier_user_pins(&self.server, username);
        for (index, pinned) in earlier {
            if let Ok(fingerprint) = parse_fingerprint(&pinned)
                && let Ok(before) = history::verify(history, index, &fingerprint)
            {
                chain.absorb(before);
            }
        }
        if chain.current_is_trusted()
            && let Some((newest, key)) = chain.newest()
            && newest != index
        {
            // A rotation (or several) since the pin: follow it. The
            // verified mark stays: the person's comparison carries along
            // the chain.
            self.lock_pins()
                .pin_user_at(&self.server, username, &key.key.fingerprint(), newest)?;
        }
        if chain.current_index().is_some() && !chain.current_is_trusted() {
            // A chain start after the pin: an unexplained change.
            self.unverify_on_change(username)?;
        }
        let chain = Arc::new(chain);
        self.lock_chains()
            .insert(username.to_owned(), chain.clone());
        Ok(chain)
    }

    /// Clears the verified mark of `username` after an unexplained change
    /// of their key (api.yml, "What clients do about a changed key"): the
    /// person compared another key.
    fn unverify_on_change(&self, username: &str) -> Result<(), ClientError> {
        self.lock_pins()
            .clear_verified(&self.server, username)
            .map(|_| ())
    }

    /// Marks `username` as verified: the person compared `fingerprint`
    /// with them (out of band), and it is their current key as this device
    /// trusts it (their key history verified from the pin, a rotation
    /// followed). Else [`ClientError::FingerprintMismatch`], or
    /// [`ClientError::KeyChanged`] while an unexplained change awaits
    /// acceptance. The mark stays on this device: it is never sent.
    pub async fn verify_contact(
        &self,
        username: &str,
        fingerprint: &Fingerprint,
    ) -> Result<(), ClientError> {
        let user = self.user(username).await?;
        let current = Fingerprint::of_spki_der(&user.public_key);
        if current != *fingerprint {
            return Err(ClientError::FingerprintMismatch {
                username: username.to_owned(),
                compared: fingerprint.to_string(),
                current: current.to_string(),
            });
        }
        self.lock_pins()
            .set_verified(&self.server, username, &current)
    }

    /// Whether the person marked `username` as verified (and no
    /// unexplained change of their key was met since).
    pub fn is_verified(&self, username: &str) -> bool {
        self.lock_pins().is_verified(&self.server, username)
    }

    /// Takes back the verified mark of `username`; whether they had it.
    pub fn unverify_contact(&self, username: &str) -> Result<bool, ClientError> {
        self.lock_pins().clear_verified(&self.server, username)
    }

    /// Every user pinned on this server (this user included), by username.
    pub fn pinned_users(&self) -> Vec<PinnedUser> {
        self.lock_pins().users(&self.server)
    }

    /// `username`'s key history for display, oldest first: each key with
    /// whether this reader trusts it and whether it is a verified rotation
    /// or a chain start. Verifies the history afresh (as
    /// [`Chat::trusted_chain`] does, pin moves and all).
    pub async fn key_history_view(&self, username: &str) -> Result<Vec<KeyView>, ClientError> {
        let history = self.key_history(username).await?;
        self.forget_chain(username);
        let chain = self.chain_from(username, &history)?;
        Ok(history::view(&history, &chain))
    }

    /// What `user`'s new key (from `event.user.key_changed`) is to this
    /// reader: a rotation followed along the trusted chain (the pin moves,
    /// a verified mark stays), an unexplained change (the verified mark is
    /// cleared; sealing for them is refused until the person accepts it),
    /// or a key already trusted (pinned on first sight, or accepted
    /// before).
    pub async fn key_changed(&self, user: &PublicUser) -> Result<KeyChange, ClientError> {
        self.forget_chain(&user.username);
        let key = PublicKey::from_spki_der(&user.public_key)?;
        match self
            .check_current(&user.username, &key, Some(user.key_index))
            .await
        {
            Ok(()) => {}
            Err(ClientError::KeyChanged {
                pinned, announced, ..
            }) => {
                return Ok(KeyChange::Unexplained {
                    pinned,
                    announced,
                    refused: None,
                });
            }
            Err(ClientError::History(e)) => {
                return Ok(KeyChange::Unexplained {
                    pinned: self
                        .lock_pins()
                        .user(&self.server, &user.username)
                        .unwrap_or_default()
                        .to_owned(),
                    announced: key.fingerprint().to_string(),
                    refused: Some(e.to_string()),
                });
            }
            Err(e) => return Err(e),
        }
        let chain = self.trusted_chain(&user.username).await?;
        let fingerprint = key.fingerprint().to_string();
        Ok(if chain.is_rotation(user.key_index) {
            KeyChange::Rotated {
                fingerprint,
                verified: self.is_verified(&user.username),
            }
        } else {
            KeyChange::AlreadyTrusted { fingerprint }
        })
    }

    /// Forgets the verified chain of `username` (after their key changed):
    /// the next use verifies their history again.
    pub fn forget_chain(&self, username: &str) {
        self.lock_chains().remove(username);
    }

    /// Checks that `key` (at `index`) is `username`'s key as this reader
    /// trusts it: the pinned key, or a successor the history links to it.
    /// An unexplained change is [`ClientError::KeyChanged`].
    async fn check_current(
        &self,
        username: &str,
        key: &PublicKey,
        index: Option<i64>,
    ) -> Result<(), ClientError> {
        let announced = key.fingerprint();
        let pinned = self
            .lock_pins()
            .user(&self.server, username)
            .map(str::to_owned);
        if pinned.as_deref() == Some(announced.to_string().as_str()) {
            return Ok(());
        }
        let trusted = |chain: &TrustedChain| {
            chain
                .current_index()
                .filter(|i| index.is_none_or(|wanted| wanted == *i))
                .and_then(|i| chain.key(i))
                .is_some_and(|k| k.key.fingerprint() == announced)
        };
        let mut chain = self.trusted_chain(username).await?;
        if !trusted(&chain) {
            // A cached chain may predate a rotation: verify once more.
            self.forget_chain(username);
            chain = self.trusted_chain(username).await?;
        }
        if trusted(&chain) {
            return Ok(());
        }
        self.unverify_on_change(username)?;
        Err(ClientError::KeyChanged {
            subject: PinSubject::User(self.server.clone(), username.to_owned()),
            pinned: pinned.unwrap_or_default(),
            announced: announced.to_string(),
        })
    }

    fn changed(&self, username: &str, pinned: &str, history: &KeyHistory) -> ClientError {
        ClientError::KeyChanged {
            subject: PinSubject::User(self.server.clone(), username.to_owned()),
            pinned: pinned.to_owned(),
            announced: history::current_entry(history)
                .map(|e| e.fingerprint.clone())
                .unwrap_or_default(),
        }
    }

    /// The key `sender` signed with at `index` (`None`: before the server
    /// kept key history, which api.yml reads as index 0), if this reader
    /// trusts it and `at` (when the server accepted what it signed) lies
    /// within the key's period; else why not, as the reader is told.
    async fn signing_key(
        &self,
        sender: &str,
        index: Option<i64>,
        at: OffsetDateTime,
    ) -> Result<Result<PublicKey, String>, ClientError> {
        Ok(self
            .sender_chain(sender)
            .await?
            .and_then(|chain| key_in_chain(&chain, index, at)))
    }

    /// [`Chat::trusted_chain`] of a sender, with a sender the server does
    /// not know, or whose history does not verify, as the reason the
    /// reader is told.
    async fn sender_chain(
        &self,
        sender: &str,
    ) -> Result<Result<Arc<TrustedChain>, String>, ClientError> {
        match self.trusted_chain(sender).await {
            Ok(chain) => Ok(Ok(chain)),
            Err(ClientError::Api(e)) if e.code == models::ErrorCode::NotFound => {
                Ok(Err(format!("the key of {sender} is unknown")))
            }
            Err(ClientError::History(e)) => Ok(Err(e.to_string())),
            Err(e) => Err(e),
        }
    }

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
    async fn message_keys(
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

    /// Rotates the key pair: a new key, vouched for by the current one and
    /// proven to the server (api.yml, "Key history"). The whole key ring
    /// (earlier keys included, so history stays readable) is kept
    /// encrypted under `password` in the home, and on the server when
    /// `update_server_copy` says so (the server otherwise removes a stored
    /// copy: it would not hold the new key).
    pub async fn rotate(
        &mut self,
        password: &[u8],
        update_server_copy: bool,
    ) -> Result<PublicUser, ClientError> {
        let new_key = tokio::task::spawn_blocking(PrivateKey::generate)
            .await
            .map_err(|e| ClientError::Local(e.to_string()))??;
        self.rotate_to(new_key, password, update_server_copy).await
    }

    /// [`Chat::rotate`] to a key made elsewhere (an imported key pair, or a
    /// test's fixture key).
    pub async fn rotate_to(
        &mut self,
        new_key: PrivateKey,
        password: &[u8],
        update_server_copy: bool,
    ) -> Result<PublicUser, ClientError> {
        let me = self.user(self.username()).await?;
        let ring = self.session.require_keys()?.clone();
        if ring.current().public_key().to_spki_der() != me.public_key.as_slice() {
            return Err(ClientError::RotatedElsewhere {
                username: self.username().to_owned(),
                what_to_do: ROTATED_ELSEWHERE.to_owned(),
            });
        }
        let index = u64::try_from(me.key_index + 1)
            .map_err(|_| ClientError::InvalidResponse("negative key index".into()))?;
        let username = self.username().to_owned();
        let current = ring.current().clone();
        let signer = new_key.clone();
        let link = tokio::task::spawn_blocking(move || {
            Succession::sign(&username, index, &current, &signer)
        })
        .await
        .map_err(|e| ClientError::Local(e.to_string()))??;
        let rotated = ring.rotated(new_key.clone())?;
        let encrypted = keystore::encrypt_ring(&rotated, password).await?;
        let user = self
            .session
            .user_update(UpdateUser {
                public_key: Some(new_key.public_key().to_spki_der().to_vec().into()),
                public_key_signature: Some(link.public_key_signature.into()),
                succession_signature: Some(link.succession_signature.into()),
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
        self.lock_pins().pin_user_at(
            &self.server,
            self.username(),
            &new_key.fingerprint(),
            user.key_index,
        )?;
        self.forget_chain(&user.username);
        self.session.set_keys(Some(rotated));
        self.learn_own_history().await?;
        Ok(user)
    }

    /// The key ring as a key file, its keys encrypted under `password` when
    /// given (version 2 when it holds earlier keys).
    pub async fn export_key(&self, password: Option<&[u8]>) -> Result<KeyFile, ClientError> {
        let ring = self.session.require_keys()?.clone();
        let (server, username) = (self.server.clone(), self.username().to_owned());
        let password = password.map(|p| zeroize::Zeroizing::new(p.to_vec()));
        tokio::task::spawn_blocking(move || match password {
            Some(password) => KeyFile::new_encrypted_ring(&server, &username, &ring, &password),
            None => KeyFile::new_plain_ring(&server, &username, &ring),
        })
        .await
        .map_err(|e| ClientError::Local(e.to_string()))?
        .map_err(ClientError::from)
    }

    /// Imports a key file for this user on this server: keeps its key ring,
    /// with any keys this session already held, encrypted under `password`
    /// in the home. The file's current key must be the account's current
    /// key.
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
        let ring = file.key_ring(file_password).map_err(|e| match e {
            CryptoError::Decrypt => ClientError::WrongPassword,
            other => other.into(),
        })?;
        let ring = match self.session.require_keys() {
            Ok(held) => ring.merged(held)?,
            Err(_) => ring,
        };
        // The file must hold the key the server knows for this account, or
        // every later request would fail with a bad signature.
        let previous = self.session.require_keys().ok().cloned();
        self.session.set_keys(Some(ring.clone()));
        let me = self.user(self.username()).await;
        let current = matches!(&me, Ok(me) if me.public_key.as_slice() == ring.current().public_key().to_spki_der());
        if !current {
            self.session.set_keys(previous);
            return match me {
                Ok(_) | Err(ClientError::Api(_)) => Err(ClientError::Local(format!(
                    "the key file does not hold the current key of {} on {}",
                    self.username(),
                    self.server
                ))),
                Err(e) => Err(e),
            };
        }
        self.home
            .encrypt_and_save_ring(&self.server, self.username(), &ring, password)
            .await?;
        self.learn_own_history().await?;
        Ok(())
    }

    async fn seal(
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
    fn check_file_size(&self, size: usize) -> Result<(), ClientError> {
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

    fn lock_pins(&self) -> std::sync::MutexGuard<'_, PinStore> {
        self.pins.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_names(&self) -> std::sync::MutexGuard<'_, DisplayNames> {
        self.names.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_chains(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<TrustedChain>>> {
        self.chains.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The key of `chain`'s user at `index` (`None`: before the server kept
/// key history, which api.yml reads as index 0), if the chain reaches it
/// and `at` (when the server accepted what it signed) lies within the key's
/// period; else why not, as the reader is told.
fn key_in_chain(
    chain: &TrustedChain,
    index: Option<i64>,
    at: OffsetDateTime,
) -> Result<PublicKey, String> {
    let user = chain.username();
    let wanted = index.unwrap_or(0);
    let Some(key) = chain.key(wanted) else {
        return Err(match index {
            None => format!(
                "signed before the server kept key history, by a key of {user} it no longer has"
            ),
            Some(i) => format!(
                "signed with key {i} of {user}, which their verified key history does not reach (an unexplained key change lies between)"
            ),
        });
    };
    // A legacy message's time says nothing of the history (which began at
    // the upgrade): only recorded indexes are checked against the period.
    let slack = time::Duration::SECOND;
    if index.is_some()
        && (at < key.since - slack || key.until.is_some_and(|until| at > until + slack))
    {
        return Err(format!(
            "claims key {wanted} of {user}, which was not their key when the server accepted it"
        ));
    }
    Ok(key.key.clone())
}

/// A message accepted before the server kept key history whose signature
/// does not verify with the sender's first key of the history was signed
/// by a key they had rotated away from before the upgrade (api.yml, "Key
/// history"): say so rather than "bad signature".
fn legacy_reason(message: &mut ChatMessage) {
    if let messages::Verdict::Unverified(why) = &mut message.verdict
        && *why == CryptoError::BadSignature.to_string()
    {
        *why = format!(
            "signed before the server kept key history, by a key of {} it no longer has",
            message.sender
        );
    }
}

fn parse_fingerprint(text: &str) -> Result<Fingerprint, ClientError> {
    text.parse().map_err(|_| {
        ClientError::Local(format!(
            "the pin file holds a malformed fingerprint {text:?}"
        ))
    })
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
