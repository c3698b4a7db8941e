//! The account's own keys: completing (the first key pair), logging in
//! (fetching the key ring with the sync password), rotating, and key files
//! in and out.

use super::*;

use crate::client::error::ClientError;
use crate::client::generated::Bodies as _;
use crate::client::keystore;
use crate::crypto::{CryptoError, KeyFile, KeyRing, PrivateKey, PublicKey, Succession};
use crate::models::{self, BaseUser, CompleteUser, KeyHistory, PublicUser, SyncUser, UpdateUser};
use crate::wire::Secret;

impl Chat {
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
    pub(super) async fn learn_own_history(&self) -> Result<(), ClientError> {
        let history = self.own_history().await?;
        self.session.learn_own_history(&history);
        Ok(())
    }

    pub(super) async fn own_history(&self) -> Result<KeyHistory, ClientError> {
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
}
