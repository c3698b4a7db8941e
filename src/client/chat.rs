//! [`Chat`]: one user on one server, as a frontend needs it. It pins the
//! server key and every user's key on first use, follows each user's key
//! history from the pinned key (a rotation is followed silently, only an
//! unexplained change warns), keeps the user's key ring only encrypted on
//! disk ([`Home`]), and turns conversations and messages into checked,
//! decrypted values, each verified with the key its sender had.
//!
//! The methods of [`Chat`] live by concern: `account` (the user's own
//! keys: complete, log in, rotate, key files), `contacts` (other users'
//! keys, pins, verified marks, key histories) and `conversations`
//! (conversations, messages, names and files).

mod account;
mod contacts;
mod conversations;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::client::display_names::DisplayNames;
use crate::client::error::ClientError;
use crate::client::history::TrustedChain;
use crate::client::keystore::Home;
use crate::client::messages::{self, ChatMessage};
use crate::client::pins::PinStore;
use crate::client::session::Session;
use crate::crypto::{CryptoError, EncryptedPrivateKey, Fingerprint, PrivateKey, PublicKey};
use crate::models::{self};
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
