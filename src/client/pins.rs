//! Trust on first use, remembered: the server key of each server URL and the
//! public key of every user met there, pinned in a small JSON file.
//!
//! `/references` and `user.get` are answered by the server, so a server (or
//! whoever sits in front of it) could announce another key at any time. The
//! first key seen is pinned; a different key later is
//! [`ClientError::KeyChanged`] until the caller accepts it explicitly
//! ([`PinStore::accept_server`], [`PinStore::accept_user`]), typically
//! after the person compared fingerprints out of band.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::client::error::ClientError;
pub use crate::client::error::PinSubject;
use crate::client::files::write_private;
use crate::crypto::{Fingerprint, PublicKey};

/// What is pinned for one server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ServerPins {
    /// The server key's fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    /// Each user's key fingerprint, by username.
    #[serde(default)]
    users: BTreeMap<String, String>,
    /// The index in each user's key history of the pinned key, when known
    /// (pins written before key histories have none; the key is then found
    /// in the history by its fingerprint).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    indexes: BTreeMap<String, i64>,
    /// Keys of each user pinned before the person accepted an unexplained
    /// change, as (index, fingerprint): what they signed stays verified.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    earlier: BTreeMap<String, Vec<(i64, String)>>,
}

/// The pinned fingerprints, loaded from and saved to one file (mode 0600).
#[derive(Debug)]
pub struct PinStore {
    path: PathBuf,
    pins: BTreeMap<String, ServerPins>,
}

impl PinStore {
    /// Loads the pins in `path`; a missing file is an empty store.
    pub fn open(path: impl Into<PathBuf>) -> Result<PinStore, ClientError> {
        let path = path.into();
        let pins = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                ClientError::Local(format!("{} is not a pin file: {e}", path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(ClientError::Local(format!("{}: {e}", path.display()))),
        };
        Ok(PinStore { path, pins })
    }

    /// Where the pins are kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks `key` against the server key pinned for `url`, pinning it if
    /// none is.
    pub fn check_server(&mut self, url: &str, key: &PublicKey) -> Result<(), ClientError> {
        let seen = key.fingerprint();
        let entry = self.pins.entry(normalise(url)).or_default();
        match &entry.server {
            Some(pinned) if *pinned == seen.to_string() => Ok(()),
            Some(pinned) => Err(ClientError::KeyChanged {
                subject: PinSubject::Server(url.to_owned()),
                pinned: pinned.clone(),
                announced: seen.to_string(),
            }),
            None => {
                entry.server = Some(seen.to_string());
                self.save()
            }
        }
    }

    /// Checks `key` against the key pinned for `username` on `url`, pinning
    /// it if none is.
    pub fn check_user(
        &mut self,
        url: &str,
        username: &str,
        key: &PublicKey,
    ) -> Result<(), ClientError> {
        let seen = key.fingerprint().to_string();
        let entry = self.pins.entry(normalise(url)).or_default();
        match entry.users.get(username) {
            Some(pinned) if *pinned == seen => Ok(()),
            Some(pinned) => Err(ClientError::KeyChanged {
                subject: PinSubject::User(url.to_owned(), username.to_owned()),
                pinned: pinned.clone(),
                announced: seen,
            }),
            None => {
                entry.users.insert(username.to_owned(), seen);
                self.save()
            }
        }
    }

    /// Pins `fingerprint` as the server key of `url`, replacing any other:
    /// the explicit acknowledgement of a change.
    pub fn accept_server(
        &mut self,
        url: &str,
        fingerprint: &Fingerprint,
    ) -> Result<(), ClientError> {
        self.pins.entry(normalise(url)).or_default().server = Some(fingerprint.to_string());
        self.save()
    }

    /// Pins `fingerprint` for `username` on `url`, replacing any other.
    pub fn accept_user(
        &mut self,
        url: &str,
        username: &str,
        fingerprint: &Fingerprint,
    ) -> Result<(), ClientError> {
        let entry = self.pins.entry(normalise(url)).or_default();
        let previous = entry
            .users
            .insert(username.to_owned(), fingerprint.to_string());
        if let (Some(previous), Some(index)) = (previous, entry.indexes.remove(username))
            && previous != fingerprint.to_string()
        {
            let earlier = entry.earlier.entry(username.to_owned()).or_default();
            if !earlier.contains(&(index, previous.clone())) {
                earlier.push((index, previous));
            }
        }
        self.save()
    }

    /// The keys of `username` on `url` pinned before an accepted change,
    /// as (index, fingerprint).
    pub fn earlier_user_pins(&self, url: &str, username: &str) -> Vec<(i64, String)> {
        self.pins
            .get(&normalise(url))
            .and_then(|p| p.earlier.get(username))
            .cloned()
            .unwrap_or_default()
    }

    /// Pins `fingerprint` at `index` of `username`'s key history on `url`,
    /// replacing any other: after a verified rotation, or on first use.
    pub fn pin_user_at(
        &mut self,
        url: &str,
        username: &str,
        fingerprint: &Fingerprint,
        index: i64,
    ) -> Result<(), ClientError> {
        let entry = self.pins.entry(normalise(url)).or_default();
        let fingerprint = fingerprint.to_string();
        if entry.users.get(username) == Some(&fingerprint)
            && entry.indexes.get(username) == Some(&index)
        {
            return Ok(());
        }
        entry.users.insert(username.to_owned(), fingerprint);
        entry.indexes.insert(username.to_owned(), index);
        self.save()
    }

    /// The index pinned with `username`'s key on `url`, if known.
    pub fn user_index(&self, url: &str, username: &str) -> Option<i64> {
        self.pins
            .get(&normalise(url))?
            .indexes
            .get(username)
            .copied()
    }

    /// The fingerprint pinned for the server at `url`, if any.
    pub fn server(&self, url: &str) -> Option<&str> {
        self.pins.get(&normalise(url))?.server.as_deref()
    }

    /// The fingerprint pinned for `username` on `url`, if any.
    pub fn user(&self, url: &str, username: &str) -> Option<&str> {
        self.pins
            .get(&normalise(url))?
            .users
            .get(username)
            .map(String::as_str)
    }

    fn save(&self) -> Result<(), ClientError> {
        let json = serde_json::to_vec_pretty(&self.pins)?;
        write_private(&self.path, &json)
    }
}

/// One spelling per server: `http://Host:80/` and `http://host:80` pin
/// together.
pub fn normalise(url: &str) -> String {
    url.trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(pem: &str) -> PublicKey {
        crate::crypto::PrivateKey::from_pkcs8_pem(pem)
            .unwrap()
            .public_key()
            .clone()
    }

    #[test]
    fn first_use_pins_and_a_change_needs_acceptance() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pins.json");
        let alice = key(include_str!(
            "../../conformance/fixtures/keys/alice-3072.pem"
        ));
        let bob = key(include_str!("../../conformance/fixtures/keys/bob-3072.pem"));
        let mut pins = PinStore::open(&path).unwrap();
        pins.check_server("http://Chat.example/", &alice).unwrap();
        pins.check_user("http://chat.example", "carol", &bob)
            .unwrap();

        // Reloaded from disk: the same keys pass, others are refused.
        let mut pins = PinStore::open(&path).unwrap();
        pins.check_server("http://chat.example", &alice).unwrap();
        match pins.check_server("http://chat.example", &bob) {
            Err(ClientError::KeyChanged {
                subject,
                pinned,
                announced,
            }) => {
                assert_eq!(subject, PinSubject::Server("http://chat.example".into()));
                assert_eq!(pinned, alice.fingerprint().to_string());
                assert_eq!(announced, bob.fingerprint().to_string());
            }
            other => panic!("{other:?}"),
        }
        assert!(
            pins.check_user("http://chat.example", "carol", &alice)
                .is_err()
        );
        // Another server pins independently.
        pins.check_user("http://other.example", "carol", &alice)
            .unwrap();
        pins.accept_user("http://chat.example", "carol", &alice.fingerprint())
            .unwrap();
        pins.check_user("http://chat.example", "carol", &alice)
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_corrupt_pin_file_is_an_error_not_an_empty_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pins.json");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(matches!(PinStore::open(&path), Err(ClientError::Local(_))));
    }
}
