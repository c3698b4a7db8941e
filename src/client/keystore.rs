//! The local key store: per server and username, only the
//! password-encrypted private key, in one file each under the client's home
//! directory (mode 0600). The plain key exists only in memory, as a
//! [`PrivateKey`], and the password never leaves the caller.
//!
//! Layout: `HOME/keys/<server>/<username>.json`, where `<server>` is the
//! server URL made safe for a file name; the file holds the
//! `EncryptedPrivateKey` JSON of `api.yml`.

use std::path::{Path, PathBuf};

use crate::client::error::ClientError;
use crate::client::files::write_private;
use crate::client::pins::{PinStore, normalise};
use crate::crypto::{EncryptedPrivateKey, KeyRing, PrivateKey};

/// The client's home: its key store and its pins.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// A home at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    /// The platform's data directory for NanoChat (for example
    /// `~/.local/share/nanochat` on Linux), or `None` when the platform has
    /// no home directory.
    pub fn platform_default() -> Option<Home> {
        directories::ProjectDirs::from("", "", "nanochat").map(|d| Home::new(d.data_dir()))
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The pins of this home.
    pub fn pins(&self) -> Result<PinStore, ClientError> {
        PinStore::open(self.root.join("pins.json"))
    }

    /// The display names seen on `server` (for senders who are no longer
    /// members, or no longer exist).
    pub fn display_names(&self, server: &str) -> crate::client::display_names::DisplayNames {
        crate::client::display_names::DisplayNames::open(
            self.root
                .join("names")
                .join(format!("{}.json", server_dir(server))),
        )
    }

    /// Where the encrypted key of `username` on `server` is kept.
    pub fn key_path(&self, server: &str, username: &str) -> PathBuf {
        self.root
            .join("keys")
            .join(server_dir(server))
            .join(format!("{username}.json"))
    }

    /// Stores the encrypted private key of `username` on `server`,
    /// replacing any earlier one.
    pub fn save_key(
        &self,
        server: &str,
        username: &str,
        key: &EncryptedPrivateKey,
    ) -> Result<(), ClientError> {
        let json = key.to_json()?;
        write_private(&self.key_path(server, username), json.as_bytes())
    }

    /// The encrypted private key of `username` on `server`, if this home
    /// has one.
    pub fn load_key(
        &self,
        server: &str,
        username: &str,
    ) -> Result<Option<EncryptedPrivateKey>, ClientError> {
        let path = self.key_path(server, username);
        match std::fs::read_to_string(&path) {
            Ok(json) => EncryptedPrivateKey::from_json(&json)
                .map(Some)
                .map_err(|e| {
                    ClientError::Local(format!("{} is not an encrypted key: {e}", path.display()))
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ClientError::Local(format!("{}: {e}", path.display()))),
        }
    }

    /// Encrypts `key` under `password` (Argon2id, on a blocking thread) and
    /// stores it: what `complete`, `import` and `rotate` keep locally.
    pub async fn encrypt_and_save(
        &self,
        server: &str,
        username: &str,
        key: &PrivateKey,
        password: &[u8],
    ) -> Result<EncryptedPrivateKey, ClientError> {
        let encrypted = encrypt(key, password).await?;
        self.save_key(server, username, &encrypted)?;
        Ok(encrypted)
    }

    /// Encrypts a key ring under `password` (Argon2id, on a blocking
    /// thread) and stores it: what `login`, `import` and `rotate` keep.
    pub async fn encrypt_and_save_ring(
        &self,
        server: &str,
        username: &str,
        ring: &KeyRing,
        password: &[u8],
    ) -> Result<EncryptedPrivateKey, ClientError> {
        let encrypted = encrypt_ring(ring, password).await?;
        self.save_key(server, username, &encrypted)?;
        Ok(encrypted)
    }

    /// Removes the stored key of `username` on `server` (after the account
    /// was deleted); nothing to remove is fine.
    pub fn forget_key(&self, server: &str, username: &str) -> Result<(), ClientError> {
        let path = self.key_path(server, username);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ClientError::Local(format!("{}: {e}", path.display()))),
        }
    }
}

/// Encrypts `key` under `password` on a blocking thread (Argon2id takes
/// tens of milliseconds and 19 MiB).
pub async fn encrypt(
    key: &PrivateKey,
    password: &[u8],
) -> Result<EncryptedPrivateKey, ClientError> {
    let key = key.clone();
    let password = zeroize::Zeroizing::new(password.to_vec());
    tokio::task::spawn_blocking(move || EncryptedPrivateKey::encrypt(&key, &password))
        .await
        .map_err(|e| ClientError::Local(e.to_string()))?
        .map_err(ClientError::from)
}

/// Encrypts a key ring under `password` on a blocking thread (version 1
/// for one key, version 2 for more).
pub async fn encrypt_ring(
    ring: &KeyRing,
    password: &[u8],
) -> Result<EncryptedPrivateKey, ClientError> {
    let ring = ring.clone();
    let password = zeroize::Zeroizing::new(password.to_vec());
    tokio::task::spawn_blocking(move || EncryptedPrivateKey::encrypt_ring(&ring, &password))
        .await
        .map_err(|e| ClientError::Local(e.to_string()))?
        .map_err(ClientError::from)
}

/// Decrypts a key ring (a version 1 blob is a ring of one) with `password`
/// on a blocking thread; a wrong password is [`ClientError::WrongPassword`].
pub async fn decrypt_ring(
    key: &EncryptedPrivateKey,
    password: &[u8],
) -> Result<KeyRing, ClientError> {
    let key = key.clone();
    let password = zeroize::Zeroizing::new(password.to_vec());
    tokio::task::spawn_blocking(move || key.decrypt_ring(&password))
        .await
        .map_err(|e| ClientError::Local(e.to_string()))?
        .map_err(|e| match e {
            crate::crypto::CryptoError::Decrypt => ClientError::WrongPassword,
            other => other.into(),
        })
}

/// Decrypts `key` with `password` on a blocking thread; a wrong password is
/// [`ClientError::WrongPassword`].
pub async fn decrypt(
    key: &EncryptedPrivateKey,
    password: &[u8],
) -> Result<PrivateKey, ClientError> {
    let key = key.clone();
    let password = zeroize::Zeroizing::new(password.to_vec());
    tokio::task::spawn_blocking(move || key.decrypt(&password))
        .await
        .map_err(|e| ClientError::Local(e.to_string()))?
        .map_err(|e| match e {
            crate::crypto::CryptoError::Decrypt => ClientError::WrongPassword,
            other => other.into(),
        })
}

/// A server URL as a directory name: its lowercase form with every byte
/// that is not a letter, digit, `.` or `-` replaced by `_`.
fn server_dir(server: &str) -> String {
    normalise(server)
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' => b as char,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_are_stored_encrypted_per_server_and_user() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        let key = PrivateKey::from_pkcs8_pem(include_str!(
            "../../conformance/fixtures/keys/alice-3072.pem"
        ))
        .unwrap();
        home.encrypt_and_save("http://127.0.0.1:8080/", "alice", &key, b"pw")
            .await
            .unwrap();
        let path = home.key_path("http://127.0.0.1:8080", "alice");
        assert!(path.ends_with("keys/http___127.0.0.1_8080/alice.json"));
        let text = std::fs::read_to_string(&path).unwrap();
        let pkcs8 = key.to_pkcs8_base64().unwrap();
        assert!(
            !text.contains(pkcs8.as_str()),
            "the key is on disk in clear"
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );

        let stored = home
            .load_key("http://127.0.0.1:8080", "alice")
            .unwrap()
            .unwrap();
        assert!(matches!(
            decrypt(&stored, b"wrong").await,
            Err(ClientError::WrongPassword)
        ));
        assert_eq!(
            decrypt(&stored, b"pw").await.unwrap().fingerprint(),
            key.fingerprint()
        );
        assert!(home.load_key("http://other", "alice").unwrap().is_none());
        home.forget_key("http://127.0.0.1:8080", "alice").unwrap();
        assert!(
            home.load_key("http://127.0.0.1:8080", "alice")
                .unwrap()
                .is_none()
        );
    }
}
