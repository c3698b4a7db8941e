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
//! Import ([`KeyFile::private_key`]) checks that the private key belongs to
//! the public key ([`CryptoError::KeyMismatch`] otherwise).

use std::fmt;

use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::password::{EncryptedPrivateKey, KdfParams};
use super::{CryptoError, OsRng, PrivateKey, PublicKey, Result, b64};

/// The only key file version.
pub const KEY_FILE_VERSION: u32 = 1;

/// An exported identity. `Debug` never shows the private key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    /// Format version, 1.
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
    /// `{"encoding":"plain","pkcs8":"<base64 PKCS#8 DER>"}`.
    Plain {
        /// PKCS#8 DER, wiped on drop.
        #[serde(with = "b64::secret")]
        pkcs8: Zeroizing<Vec<u8>>,
    },
    /// `{"encoding":"encrypted", <EncryptedPrivateKey fields>}`.
    Encrypted(EncryptedPrivateKey),
}

impl KeyFile {
    /// A key file holding the private key in clear.
    pub fn new_plain(server: &str, username: &str, key: &PrivateKey) -> Result<Self> {
        Ok(Self {
            version: KEY_FILE_VERSION,
            server: server.to_owned(),
            username: username.to_owned(),
            public_key: key.public_key().to_spki_der().to_vec(),
            private_key: KeyFilePrivateKey::Plain {
                pkcs8: key.to_pkcs8_der()?,
            },
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
        if file.version != KEY_FILE_VERSION {
            return Err(CryptoError::UnsupportedVersion(file.version));
        }
        Ok(file)
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
        let public = self.public_key()?;
        let private = match &self.private_key {
            KeyFilePrivateKey::Plain { pkcs8 } => PrivateKey::from_pkcs8_der(pkcs8)?,
            KeyFilePrivateKey::Encrypted(blob) => {
                blob.decrypt(password.ok_or(CryptoError::PasswordRequired)?)?
            }
        };
        private.check_matches(&public)?;
        Ok(private)
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
