//! Trust on first use, remembered: the server key of each server URL and the
//! public key of every user met there, pinned in a small JSON file.
//!
//! `/references` and `user.get` are answered by the server, so a server (or
//! whoever sits in front of it) could announce another key at any time. The
//! first key seen is pinned; a different key later is
//! [`ClientError::KeyChanged`] until the caller accepts it explicitly
//! ([`PinStore::accept_server`], [`PinStore::accept_user`]), typically
//! after the person compared fingerprints out of band.
//!
//! It also keeps which contacts the person marked as verified (they compared
//! fingerprints with them): a statement of this device's person, never sent
//! to the server (api.yml, "What clients do about a changed key"). A
//! rotation followed along the chain keeps the mark; accepting an
//! unexplained change clears it.

use std::collections::{BTreeMap, BTreeSet};
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
    /// The users the person marked as verified. Absent from pin files
    /// written before the mark existed: nobody is verified then.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    verified: BTreeSet<String>,
}

/// One pinned user, as [`PinStore::users`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedUser {
    /// The username.
    pub username: String,
    /// The pinned fingerprint, grouped.
    pub fingerprint: String,
    /// The index of the pinned key in their history, when known.
    pub index: Option<i64>,
    /// Whether the person marked them as verified.
    pub verified: bool,
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
        if previous.as_deref() != Some(fingerprint.to_string().as_str()) {
            // The person accepted a key nothing vouches for: what they
            // compared before was another key.
            entry.verified.remove(username);
        }
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

    /// Marks `username` on `url` as verified: the person compared
    /// `fingerprint` with them. It must be the pinned key (the caller
    /// first brings the pin up to date with the user's current key).
    pub fn set_verified(
        &mut self,
        url: &str,
        username: &str,
        fingerprint: &Fingerprint,
    ) -> Result<(), ClientError> {
        let entry = self.pins.entry(normalise(url)).or_default();
        match entry.users.get(username) {
            Some(pinned) if *pinned == fingerprint.to_string() => {}
            Some(pinned) => {
                return Err(ClientError::FingerprintMismatch {
                    username: username.to_owned(),
                    compared: fingerprint.to_string(),
                    current: pinned.clone(),
                });
            }
            None => {
                return Err(ClientError::Local(format!(
                    "no key of {username} is pinned on {url} yet: look them up first"
                )));
            }
        }
        if entry.verified.insert(username.to_owned()) {
            self.save()?;
        }
        Ok(())
    }

    /// Removes the verified mark of `username` on `url`: the person takes
    /// it back, or the user's key changed without a rotation. Whether they
    /// were marked.
    pub fn clear_verified(&mut self, url: &str, username: &str) -> Result<bool, ClientError> {
        let removed = self
            .pins
            .get_mut(&normalise(url))
            .is_some_and(|p| p.verified.remove(username));
        if removed {
            self.save()?;
        }
        Ok(removed)
    }

    /// Whether the person marked `username` on `url` as verified.
    pub fn is_verified(&self, url: &str, username: &str) -> bool {
        self.pins
            .get(&normalise(url))
            .is_some_and(|p| p.verified.contains(username))
    }

    /// Every user pinned on `url`, by username.
    pub fn users(&self, url: &str) -> Vec<PinnedUser> {
        let Some(pins) = self.pins.get(&normalise(url)) else {
            return Vec::new();
        };
        pins.users
            .iter()
            .map(|(username, fingerprint)| PinnedUser {
                username: username.clone(),
                fingerprint: fingerprint.clone(),
                index: pins.indexes.get(username).copied(),
                verified: pins.verified.contains(username),
            })
            .collect()
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
    fn a_rotation_keeps_the_verified_mark_an_accepted_change_clears_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pins.json");
        let url = "http://chat.example";
        let bob = key(include_str!("../../conformance/fixtures/keys/bob-3072.pem"));
        let carol = key(include_str!(
            "../../conformance/fixtures/keys/carol-3072.pem"
        ));
        let dave = key(include_str!(
            "../../conformance/fixtures/keys/dave-2048.pem"
        ));
        let mut pins = PinStore::open(&path).unwrap();
        // Nobody is pinned: nothing to mark.
        assert!(matches!(
            pins.set_verified(url, "bob", &bob.fingerprint()),
            Err(ClientError::Local(_))
        ));
        pins.pin_user_at(url, "bob", &bob.fingerprint(), 0).unwrap();
        // Another fingerprint than the pinned one is refused, naming both.
        match pins.set_verified(url, "bob", &carol.fingerprint()) {
            Err(e @ ClientError::FingerprintMismatch { .. }) => {
                let said = e.to_string();
                assert!(said.contains(&carol.fingerprint().to_string()), "{said}");
                assert!(said.contains(&bob.fingerprint().to_string()), "{said}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!pins.is_verified(url, "bob"));
        pins.set_verified(url, "bob", &bob.fingerprint()).unwrap();
        // Per server, and kept on disk.
        assert!(!pins.is_verified("http://other.example", "bob"));
        let mut pins = PinStore::open(&path).unwrap();
        assert!(pins.is_verified("http://Chat.example/", "bob"));
        // A rotation followed along the chain moves the pin: still verified.
        pins.pin_user_at(url, "bob", &carol.fingerprint(), 1)
            .unwrap();
        assert!(pins.is_verified(url, "bob"));
        assert_eq!(
            pins.users(url),
            [PinnedUser {
                username: "bob".into(),
                fingerprint: carol.fingerprint().to_string(),
                index: Some(1),
                verified: true,
            }]
        );
        // Accepting the same key again changes nothing; another key (an
        // unexplained change) clears the mark.
        pins.accept_user(url, "bob", &carol.fingerprint()).unwrap();
        assert!(pins.is_verified(url, "bob"));
        pins.accept_user(url, "bob", &dave.fingerprint()).unwrap();
        assert!(!pins.is_verified(url, "bob"));
        assert!(!PinStore::open(&path).unwrap().is_verified(url, "bob"));
        // Taking the mark back.
        pins.set_verified(url, "bob", &dave.fingerprint()).unwrap();
        assert!(pins.clear_verified(url, "bob").unwrap());
        assert!(!pins.clear_verified(url, "bob").unwrap());
        assert!(!pins.is_verified(url, "bob"));
    }

    #[test]
    fn a_pin_file_from_before_verified_marks_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pins.json");
        let fingerprint =
            "8a58 c1b9 5b33 1776 4789 74ae 7b4e 2fff 493b 1e42 d837 c34d c2dc fdd6 9761 b8f0";
        std::fs::write(
            &path,
            format!(r#"{{"http://chat.example":{{"users":{{"bob":"{fingerprint}"}},"indexes":{{"bob":0}}}}}}"#),
        )
        .unwrap();
        let pins = PinStore::open(&path).unwrap();
        assert_eq!(pins.user("http://chat.example", "bob"), Some(fingerprint));
        assert!(!pins.is_verified("http://chat.example", "bob"));
        assert_eq!(pins.users("http://chat.example")[0].index, Some(0));
    }

    #[test]
    fn a_corrupt_pin_file_is_an_error_not_an_empty_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pins.json");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(matches!(PinStore::open(&path), Err(ClientError::Local(_))));
    }
}
