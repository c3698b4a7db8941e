//! Other users' keys: pins on first use, key histories verified from the
//! pin (a rotation followed silently, an unexplained change refused until
//! accepted), "verified" marks, and which key signed what.

use super::*;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::client::error::{ClientError, PinSubject};
use crate::client::generated::Bodies as _;
use crate::client::history::{self, KeyView, TrustedChain};
use crate::client::pins::PinnedUser;
use crate::crypto::{Fingerprint, PublicKey};
use crate::models::{self, BaseUser, KeyHistory, PublicUser};

impl Chat {
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
    pub(super) async fn key_history(&self, username: &str) -> Result<KeyHistory, ClientError> {
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
    pub(super) fn chain_from(
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
    pub(super) fn unverify_on_change(&self, username: &str) -> Result<(), ClientError> {
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
    pub(super) async fn check_current(
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

    pub(super) fn changed(
        &self,
        username: &str,
        pinned: &str,
        history: &KeyHistory,
    ) -> ClientError {
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
    pub(super) async fn signing_key(
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
    pub(super) async fn sender_chain(
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

    /// Accepts `fingerprint` as the new key of the server.
    pub fn accept_server_key(&self, fingerprint: &Fingerprint) -> Result<(), ClientError> {
        self.lock_pins().accept_server(&self.server, fingerprint)
    }
}
