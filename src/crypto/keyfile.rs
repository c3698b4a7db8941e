//! Key files: the `.json` export/import of an identity (server address,
//! username, key pair), with the private key plain or password-encrypted.
//!
//! JSON shape (version 1; binary fields base64 standard with padding):
//!
//! ```json
//! {"version":1,"server":"https://chat.example","username":"alice",
//!  "public_key":"<SPKI DER>",
//!  "private_key":{"encoding":"plain","pkcs8":"<PKCS#8 DER>"}}
//! ```
//!
//! or, encrypted, `private_key` is `{"encoding":"encrypted", ...}` followed
//! by the fields of [`EncryptedPrivateKey`] (`version`, `kdf`, `m_cost`,
//! `t_cost`, `p_cost`, `salt`, `iv`, `ciphertext`) in the same object: serde's
//! internally tagged enum [`KeyFilePrivateKey`], tag field `encoding`.
//!
//! Version 2 holds a key ring (api.yml, "Key history"): plain, the current
//! key in `pkcs8` and the earlier ones, oldest first, in `earlier`
//! (`{"encoding":"plain","pkcs8":"...","earlier":["...", ...]}`);
//! encrypted, an `EncryptedPrivateKey` of version 2. A ring of one key is
//! written as version 1, which clients that predate rings still import.
//!
//! Import ([`KeyFile::key_ring`], [`KeyFile::private_key`]) checks that the
//! current private key belongs to the public key
//! ([`CryptoError::KeyMismatch`] otherwise).

use std::fmt;

use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::password::{EncryptedPrivateKey, KdfParams};
use super::{CryptoError, KeyRing, OsRng, PrivateKey, PublicKey, Result, b64};

/// The version of a key file holding one key.
pub const KEY_FILE_VERSION: u32 = 1;
/// The version of a key file holding a key ring.
pub const KEY_FILE_RING_VERSION: u32 = 2;

/// An exported identity. `Debug` never shows the private key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    /// Format version: 1 (one key) or 2 (a key ring).
    pub version: u32,
    /// Base URL of the server the identity belongs to.
    pub server: String,
    /// Username on that server.
    pub username: String,
    /// SubjectPublicKeyInfo DER; base64 in JSON.
    #[serde(with = "b64::bytes")]
    pub public_key: Vec<u8>,
    /// The private key, plain or encrypted.
    pub private_key: KeyFilePrivateKey,
}

/// The private key inside a [`KeyFile`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "encoding", rename_all = "lowercase")]
pub enum KeyFilePrivateKey {
    /// `{"encoding":"plain","pkcs8":"<base64 PKCS#8 DER>"}`, and in
    /// version 2 `"earlier":[...]`.
    Plain {
        /// The current key's PKCS#8 DER, wiped on drop.
        #[serde(with = "b64::secret")]
        pkcs8: Zeroizing<Vec<u8>>,
        /// The earlier keys' PKCS#8 DER, oldest first (version 2 only).
        #[serde(default, skip_serializing_if = "Vec::is_empty", with = "b64::secrets")]
        earlier: Vec<Zeroizing<Vec<u8>>>,
    },
    /// `{"encoding":"encrypted", <EncryptedPrivateKey fields>}`.
    Encrypted(EncryptedPrivateKey),
}

impl KeyFile {
    /// A key file holding the private key in clear.
    pub fn new_plain(server: &str, username: &str, key: &PrivateKey) -> Result<Self> {
        Self::new_plain_ring(server, username, &KeyRing::single(key.clone()))
    }

    /// A key file holding a key ring in clear (version 1 for one key).
    pub fn new_plain_ring(server: &str, username: &str, ring: &KeyRing) -> Result<Self> {
        let current = ring.current();
        let earlier = ring.keys()[..ring.len() - 1]
            .iter()
            .map(PrivateKey::to_pkcs8_der)
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            version: version_for(ring),
            server: server.to_owned(),
            username: username.to_owned(),
            public_key: current.public_key().to_spki_der().to_vec(),
            private_key: KeyFilePrivateKey::Plain {
                pkcs8: current.to_pkcs8_der()?,
                earlier,
            },
        })
    }

    /// A key file holding a key ring encrypted under `password` (default
    /// Argon2id parameters, OS RNG; version 1 for one key).
    pub fn new_encrypted_ring(
        server: &str,
        username: &str,
        ring: &KeyRing,
        password: &[u8],
    ) -> Result<Self> {
        Self::new_encrypted_ring_with_rng(
            &mut OsRng,
            server,
            username,
            ring,
            password,
            KdfParams::DEFAULT,
        )
    }

    /// [`Self::new_encrypted_ring`] with explicit RNG and parameters.
    pub fn new_encrypted_ring_with_rng<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        server: &str,
        username: &str,
        ring: &KeyRing,
        password: &[u8],
        params: KdfParams,
    ) -> Result<Self> {
        Ok(Self {
            version: version_for(ring),
            server: server.to_owned(),
            username: username.to_owned(),
            public_key: ring.current().public_key().to_spki_der().to_vec(),
            private_key: KeyFilePrivateKey::Encrypted(EncryptedPrivateKey::encrypt_ring_with_rng(
                rng, ring, password, params,
            )?),
        })
    }

    /// A key file holding the private key encrypted under `password`
    /// (default Argon2id parameters, OS RNG).
    pub fn new_encrypted(
        server: &str,
        username: &str,
        key: &PrivateKey,
        password: &[u8],
    ) -> Result<Self> {
        Self::new_encrypted_with_rng(
            &mut OsRng,
            server,
            username,
            key,
            password,
            KdfParams::DEFAULT,
        )
    }

    /// [`Self::new_encrypted`] with explicit RNG and parameters.
    pub fn new_encrypted_with_rng<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        server: &str,
        username: &str,
        key: &PrivateKey,
        password: &[u8],
        params: KdfParams,
    ) -> Result<Self> {
        Ok(Self {
            version: KEY_FILE_VERSION,
            server: server.to_owned(),
            username: username.to_owned(),
            public_key: key.public_key().to_spki_der().to_vec(),
            private_key: KeyFilePrivateKey::Encrypted(EncryptedPrivateKey::encrypt_with_rng(
                rng, key, password, params,
            )?),
        })
    }

    /// Pretty-printed JSON (two-space indent), wiped on drop since a plain
    /// key file holds the private key.
    pub fn to_json(&self) -> Result<Zeroizing<String>> {
        serde_json::to_string_pretty(self)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Internal("JSON encoding failed"))
    }

    /// Parses a key file and checks its version (keys are checked by
    /// [`Self::public_key`] and [`Self::private_key`]).
    pub fn from_json(json: &str) -> Result<Self> {
        let file: Self = serde_json::from_str(json)
            .map_err(|_| CryptoError::Malformed("invalid key file JSON"))?;
        let holds_ring = match &file.private_key {
            KeyFilePrivateKey::Plain { earlier, .. } => !earlier.is_empty(),
            KeyFilePrivateKey::Encrypted(blob) => {
                blob.version != super::password::ENCRYPTED_PRIVATE_KEY_VERSION
            }
        };
        match (file.version, holds_ring) {
            (KEY_FILE_VERSION, false) | (KEY_FILE_RING_VERSION, _) => Ok(file),
            (KEY_FILE_VERSION, true) => {
                Err(CryptoError::Malformed("a version 1 key file holds one key"))
            }
            (other, _) => Err(CryptoError::UnsupportedVersion(other)),
        }
    }

    /// Whether the private key is password-encrypted.
    pub fn is_encrypted(&self) -> bool {
        matches!(self.private_key, KeyFilePrivateKey::Encrypted(_))
    }

    /// The public key (size policy applied).
    pub fn public_key(&self) -> Result<PublicKey> {
        PublicKey::from_spki_der(&self.public_key)
    }

    /// The private key, decrypted with `password` if encrypted
    /// ([`CryptoError::PasswordRequired`] if `None`; ignored if plain), and
    /// checked against the file's public key.
    pub fn private_key(&self, password: Option<&[u8]>) -> Result<PrivateKey> {
        Ok(self.key_ring(password)?.current().clone())
    }

    /// Every private key of the file (one for version 1), decrypted with
    /// `password` if encrypted, the current one checked against the file's
    /// public key.
    pub fn key_ring(&self, password: Option<&[u8]>) -> Result<KeyRing> {
        let public = self.public_key()?;
        let ring = match &self.private_key {
            KeyFilePrivateKey::Plain { pkcs8, earlier } => {
                let mut keys = earlier
                    .iter()
                    .map(|der| PrivateKey::from_pkcs8_der(der))
                    .collect::<Result<Vec<_>>>()?;
                keys.push(PrivateKey::from_pkcs8_der(pkcs8)?);
                KeyRing::from_keys(keys)?
            }
            KeyFilePrivateKey::Encrypted(blob) => {
                blob.decrypt_ring(password.ok_or(CryptoError::PasswordRequired)?)?
            }
        };
        ring.current().check_matches(&public)?;
        Ok(ring)
    }
}

fn version_for(ring: &KeyRing) -> u32 {
    if ring.len() == 1 {
        KEY_FILE_VERSION
    } else {
        KEY_FILE_RING_VERSION
    }
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFile")
            .field("version", &self.version)
            .field("server", &self.server)
            .field("username", &self.username)
            .field("private_key", &self.private_key)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for KeyFilePrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain { .. } => f.write_str("Plain(..)"),
            Self::Encrypted(blob) => f.debug_tuple("Encrypted").field(blob).finish(),
        }
    }
}
