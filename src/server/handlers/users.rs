//! `user.*`: completing an operator-created user, syncing the stored
//! private key, lookups, updates (including key rotation) and deletion.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::api::UserHandler;
use crate::bodies::Event;
use crate::crypto::verify_link;
use crate::models::*;
use crate::server::error::Failure;
use crate::server::fanout::Fanout;
use crate::server::handlers::views;
use crate::server::protocol::{Caller, unix_ms};
use crate::server::state::State;
use crate::store::{Rotation, StoreError, TokenRules, UserUpdate};
use crate::wire::Secret;

/// Longest display name, in characters.
const MAX_DISPLAY_NAME: usize = 64;
/// Shortest sync password accepted, in characters.
const MIN_SYNC_PASSWORD: usize = 8;

impl UserHandler for State {
    async fn user_complete(
        &self,
        caller: &Caller,
        payload: CompleteUser,
    ) -> Result<PublicUser, Failure> {
        let display_name = check_display_name(&payload.display_name)?;
        // The pipeline verified the request's signature with this key; parsing
        // it again applies the size policy with a precise error.
        self.client_key(&payload.public_key)?;
        let (private_key, sync_password) = match (payload.private_key, payload.sync_password) {
            (Some(key), Some(password)) => (Some(check_private_key(&key)?), Some(password)),
            (Some(_), None) => {
                return Err(Failure::bad_request(
                    "a stored private key needs a sync_password",
                ));
            }
            (None, Some(_)) => {
                return Err(Failure::bad_request(
                    "a sync_password is only meaningful with a private_key",
                ));
            }
            (None, None) => (None, None),
        };
        let token_hash: [u8; 32] = Sha256::digest(payload.token.expose().as_bytes()).into();
        // Compare the hash in constant time before asking the database to
        // consume it, so the lookup itself never reveals how close a guess was;
        // and before any Argon2id work, which only a token holder may cause.
        let user = self.store.get_user(&caller.username).await?;
        let matches = user
            .as_ref()
            .and_then(|u| u.token_hash.as_deref())
            .is_some_and(|stored| bool::from(stored.ct_eq(token_hash.as_slice())));
        if !matches {
            return Err(Failure::new(
                ErrorCode::InvalidToken,
                "the complete token is unknown, expired or already used",
            ));
        }
        let sync_hash = match sync_password {
            Some(password) => Some(hash_sync_password(self, password).await?),
            None => None,
        };
        let rules = self.config.rules();
        let user = self
            .store
            .complete_user_under(
                TokenRules {
                    expiry: rules.token_expiry,
                    single_use: rules.token_single_use,
                },
                &caller.username,
                &token_hash,
                unix_ms(caller.now),
                &display_name,
                payload.public_key.as_slice(),
                private_key,
                sync_hash,
            )
            .await?;
        self.key_changed();
        tracing::info!(username = %caller.username, "user completed");
        let public = views::public_user(user).ok_or_else(|| {
            Failure::internal("completing the user", "no public key after completion")
        })?;
        // A user reset by the operator comes back with a new key: the members
        // of their conversations must hear of it (and warn) like any rotation.
        let contacts = self.store.shared_contacts(&caller.username).await?;
        let events = Fanout::new().to(
            contacts.iter().map(String::as_str),
            &Event::UserKeyChanged(public.clone()),
        );
        self.publish_user_event(events, unix_ms(caller.now)).await;
        Ok(public)
    }

    async fn user_sync(
        &self,
        caller: &Caller,
        payload: SyncUser,
    ) -> Result<PrivateKeyUser, Failure> {
        // The per-user count lives in the database, so that every instance
        // sharing it counts the same guesses; the per-address one is this
        // process's (README: "More than one machine").
        let peer_key = caller
            .peer
            .map(|p| format!("peer:{}", crate::server::ratelimit::bucket_of(p.ip())));
        let peer_keys: Vec<(&str, u32)> = peer_key
            .as_deref()
            .map(|k| (k, self.config.sync_failures_per_peer))
            .into_iter()
            .collect();
        if self.config.rules().sync_limit {
            let window_ms =
                i64::try_from(self.config.sync_failure_window.as_millis()).unwrap_or(i64::MAX);
            let peer_allowed = self.sync_limiter.reserve(&peer_keys);
            let user_allowed = peer_allowed
                && self
                    .store
                    .reserve_sync_attempt(
                        &caller.username,
                        self.config.sync_failures_allowed,
                        window_ms,
                        unix_ms(caller.now),
                    )
                    .await?;
            if !user_allowed {
                if peer_allowed {
                    self.sync_limiter.release(&peer_keys);
                }
                // Never the username beside the address: the envelope hides
                // who is asking from the network, and the log must not undo
                // that.
                tracing::warn!(username = %caller.username, "user.sync rate limited");
                return Err(Failure::new(
                    ErrorCode::RateLimited,
                    "too many failed sync attempts; try again later",
                ));
            }
        }
        let user = self
            .store
            .get_user(&caller.username)
            .await?
            .filter(|u| u.is_complete());
        let stored = user
            .as_ref()
            .and_then(|u| Some((u.private_key.clone()?, u.sync_password_hash.clone()?)));
        let verified = match stored {
            Some((_, hash)) => {
                let password = payload.sync_password;
                self.argon2(move || {
                    Argon2::default()
                        .verify_password(password.expose().as_bytes(), hash.as_str())
                        .is_ok()
                })
                .await?
            }
            None => false,
        };
        let (Some(user), true) = (user, verified) else {
            // The reserved attempt stays counted as a failure.
            tracing::warn!(username = %caller.username, "user.sync failed");
            return Err(Failure::new(
                ErrorCode::WrongPassword,
                "wrong sync password, or no private key is stored for this user",
            ));
        };
        self.sync_limiter.release(&peer_keys);
        self.store.release_sync_attempt(&caller.username).await?;
        let private_key: EncryptedPrivateKey =
            serde_json::from_str(user.private_key.as_deref().unwrap_or_default())
                .map_err(|e| Failure::internal("reading the stored private key", e))?;
        Ok(PrivateKeyUser {
            username: user.username,
            display_name: user.display_name.unwrap_or_default(),
            public_key: user.public_key.unwrap_or_default().into(),
            private_key,
        })
    }

    async fn user_get(&self, _caller: &Caller, payload: BaseUser) -> Result<PublicUser, Failure> {
        let user = self
            .store
            .get_user(&payload.username)
            .await?
            .filter(|u| u.is_complete());
        user.and_then(views::public_user)
            .ok_or_else(|| Failure::not_found(format!("no user is called {:?}", payload.username)))
    }

    async fn user_keys(&self, _caller: &Caller, payload: BaseUser) -> Result<KeyHistory, Failure> {
        let entries = self.store.key_history(&payload.username).await?;
        if entries.is_empty() {
            // Unknown, or created and never completed: nothing to show.
            return Err(Failure::not_found(format!(
                "no user is called {:?}",
                payload.username
            )));
        }
        let mut history = views::key_history(payload.username, entries);
        if !self.config.rules().key_history {
            // The broken server of the conformance suite: newest first.
            history.keys.reverse();
        }
        Ok(history)
    }

    async fn user_update(
        &self,
        caller: &Caller,
        payload: UpdateUser,
    ) -> Result<PublicUser, Failure> {
        let mut change = UserUpdate::default();
        if let Some(name) = &payload.display_name {
            change.display_name = Some(check_display_name(name)?);
        }
        let current = self
            .store
            .get_user(&caller.username)
            .await?
            .ok_or_else(|| Failure::not_found("no such user"))?;
        if let Some(new_key) = &payload.public_key {
            change.rotation = Some(check_rotation(self, caller, &current, new_key, &payload)?);
        }
        if payload.remove_private_key == Some(true) {
            if payload.private_key.is_some() {
                return Err(Failure::bad_request(
                    "remove_private_key and private_key contradict each other",
                ));
            }
            change.private_key = Some(None);
            change.sync_password_hash = Some(None);
        } else {
            if let Some(key) = &payload.private_key {
                if payload.sync_password.is_none() && current.sync_password_hash.is_none() {
                    return Err(Failure::bad_request(
                        "a stored private key needs a sync_password",
                    ));
                }
                change.private_key = Some(Some(check_private_key(key)?));
            } else if change.rotation.is_some() && current.private_key.is_some() {
                // A stored private key for the old public key is useless after a
                // rotation and would hand the old key to whoever knows the sync
                // password: drop it.
                change.private_key = Some(None);
                change.sync_password_hash = Some(None);
            }
            if let Some(password) = payload.sync_password {
                if change.private_key == Some(None)
                    || (current.private_key.is_none() && payload.private_key.is_none())
                {
                    return Err(Failure::bad_request(
                        "a sync_password is only meaningful with a stored private_key",
                    ));
                }
                change.sync_password_hash = Some(Some(hash_sync_password(self, password).await?));
            }
        }
        let key_changed = change.rotation.is_some();
        let user = self
            .store
            .update_user(&caller.username, unix_ms(caller.now), change)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(why) => Failure::new(ErrorCode::BadSignature, why),
                other => other.into(),
            })?;
        let public = views::public_user(user)
            .ok_or_else(|| Failure::internal("updating the user", "no public key"))?;
        if key_changed {
            self.key_changed();
            tracing::info!(username = %caller.username, fingerprint = %public.fingerprint, "public key rotated");
            let contacts = self.store.shared_contacts(&caller.username).await?;
            let told = contacts.iter().map(String::as_str);
            let events = Fanout::new().to(
                told.chain([caller.username.as_str()]),
                &Event::UserKeyChanged(public.clone()),
            );
            self.publish_user_event(events, unix_ms(caller.now)).await;
        }
        Ok(public)
    }

    async fn user_delete(&self, caller: &Caller) -> Result<Empty, Failure> {
        let deleted = self
            .store
            .delete_user(&caller.username, unix_ms(caller.now))
            .await?;
        let mut events = Fanout::new();
        for (conversation_id, remaining) in deleted.left {
            let event = Event::ConversationLeft(MemberLeft {
                conversation_id,
                username: caller.username.to_string(),
            });
            events = events.to(remaining.iter().map(String::as_str), &event);
        }
        // Several conversations at once, so outside any one's order.
        self.publish_user_event(events, unix_ms(caller.now)).await;
        self.key_changed();
        self.hub.disconnect(&caller.username);
        tracing::info!(username = %caller.username, "user deleted");
        Ok(Empty {})
    }
}

/// Rule (key succession): a rotation carries both proofs over the
/// succession bytes (api.yml, "Key history"), `succession_signature` by the
/// caller's current key and `public_key_signature` by the new one, for the
/// next index (`bad_request` when one is missing, `bad_signature` when one
/// does not verify). Returns the rotation to store.
fn check_rotation(
    state: &State,
    caller: &Caller,
    current: &crate::store::UserRecord,
    new_key: &[u8],
    payload: &UpdateUser,
) -> Result<Rotation, Failure> {
    let key = state.client_key(new_key)?;
    let (Some(succession), Some(possession)) = (
        payload.succession_signature.as_ref(),
        payload.public_key_signature.as_ref(),
    ) else {
        return Err(Failure::bad_request(
            "a new public_key needs succession_signature (by the current key) and public_key_signature (by the new key)",
        ));
    };
    let (Some(previous_der), Some(previous_index)) =
        (current.public_key.as_deref(), current.key_index)
    else {
        return Err(Failure::not_found("no such user"));
    };
    let previous = state.public_key(previous_der)?;
    let index = u64::try_from(previous_index + 1)
        .map_err(|_| Failure::internal("rotating a key", "negative key index"))?;
    if state.config.rules().key_succession {
        // Inline, like every public-key operation (see the pipeline).
        state
            .metrics
            .rsa(crate::server::metrics::RsaOperation::Verify, 2);
        verify_link(
            &caller.username,
            index,
            &previous,
            &key,
            succession,
            possession,
        )
        .map_err(|_| {
            Failure::new(
                ErrorCode::BadSignature,
                format!(
                    "the succession proofs do not verify: both keys sign the succession bytes for index {index}, the current key in succession_signature and the new key in public_key_signature"
                ),
            )
        })?;
    }
    Ok(Rotation {
        previous_index,
        public_key: new_key.to_vec(),
        succession_signature: succession.to_vec(),
        public_key_signature: possession.to_vec(),
    })
}

fn check_display_name(name: &str) -> Result<String, Failure> {
    let name = name.trim();
    let length = name.chars().count();
    if length == 0 || length > MAX_DISPLAY_NAME || name.chars().any(char::is_control) {
        return Err(Failure::bad_request(format!(
            "display_name must be 1 to {MAX_DISPLAY_NAME} printable characters"
        )));
    }
    Ok(name.to_owned())
}

/// Checks an uploaded password-encrypted private key is well formed (the
/// server cannot decrypt it) and returns it as stored JSON.
fn check_private_key(key: &EncryptedPrivateKey) -> Result<String, Failure> {
    let json =
        serde_json::to_string(key).map_err(|e| Failure::internal("encoding the private key", e))?;
    let parsed = crate::crypto::EncryptedPrivateKey::from_json(&json)
        .map_err(|e| Failure::bad_request(format!("private_key is not acceptable: {e}")))?;
    parsed
        .validate()
        .map_err(|e| Failure::bad_request(format!("private_key is not acceptable: {e}")))?;
    Ok(json)
}

async fn hash_sync_password(state: &State, password: Secret) -> Result<String, Failure> {
    if password.expose().chars().count() < MIN_SYNC_PASSWORD {
        return Err(Failure::bad_request(format!(
            "sync_password must have at least {MIN_SYNC_PASSWORD} characters"
        )));
    }
    state
        .argon2(move || {
            Argon2::default()
                .hash_password(password.expose().as_bytes())
                .map(|h| h.to_string())
        })
        .await?
        .map_err(|e| Failure::internal("hashing the sync password", e))
}
