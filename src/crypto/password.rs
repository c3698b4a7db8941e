//! A private key encrypted under a password: the form stored on the server
//! ("store private key on server") and inside encrypted key files.
//!
//! `key = Argon2id(password, salt, m_cost, t_cost, p_cost)` (32 bytes,
//! version 0x13, no secret, no associated data); `ciphertext =
//! AES-256-GCM(key, iv, plaintext = PKCS#8 DER, AAD = "nanochat/v1
//! private-key")`. The parameters travel with the ciphertext; a reader refuses
//! parameters below the OWASP minimum (m=19456 KiB, t=2, p=1) and above
//! generous ceilings (m > 1 GiB, t > 20, p > 16, and memory times passes
//! above 2 GiB, [`KdfParams::MAX_WORK`]) before running Argon2, so a crafted
//! blob can neither weaken nor stall the client.
//!
//! Version 2 holds a [`KeyRing`] instead of one key: the same construction
//! over the ring bytes, with AAD `"nanochat/v1 private-key ring"`. A ring
//! of one key is written as version 1, which clients that predate rings
//! still read.
//!
//! JSON (base64 standard with padding for binary fields):
//! `{"version":1,"kdf":"argon2id","m_cost":19456,"t_cost":2,"p_cost":1,
//! "salt":"<16 bytes>","iv":"<12 bytes>","ciphertext":"<PKCS#8 + tag>"}`.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::aead::{self, IV_LEN, KEY_LEN, TAG_LEN};
use super::{CryptoError, KeyRing, OsRng, PrivateKey, Result, b64, fill_random};

/// AES-GCM AAD of an encrypted private key (version 1).
pub const PRIVATE_KEY_AAD: &[u8] = b"nanochat/v1 private-key";
/// AES-GCM AAD of an encrypted key ring (version 2).
pub const KEY_RING_AAD: &[u8] = b"nanochat/v1 private-key ring";
/// The format version of one encrypted key.
pub const ENCRYPTED_PRIVATE_KEY_VERSION: u32 = 1;
/// The format version of an encrypted key ring.
pub const ENCRYPTED_KEY_RING_VERSION: u32 = 2;
/// Salt length in bytes.
pub const SALT_LEN: usize = 16;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Parallelism (lanes).
    pub p_cost: u32,
}

impl KdfParams {
    /// The default for new blobs, also the minimum accepted: m=19456 KiB
    /// (19 MiB), t=2, p=1 (OWASP).
    pub const DEFAULT: Self = Self {
        m_cost: 19_456,
        t_cost: 2,
        p_cost: 1,
    };
    /// The floor: any parameter below it is refused ([`CryptoError::WeakKdf`]).
    pub const MIN: Self = Self::DEFAULT;
    /// The ceiling: any parameter above it is refused
    /// ([`CryptoError::KdfTooExpensive`]): 1 GiB, 20 passes, 16 lanes.
    pub const MAX: Self = Self {
        m_cost: 1024 * 1024,
        t_cost: 20,
        p_cost: 16,
    };

    /// The ceiling of the work, memory times passes (KiB x passes), whatever
    /// each parameter is: the memory ceiling at the minimum passes, 1 GiB x
    /// 2, about 5 s of one core. Any larger is [`CryptoError::KdfTooExpensive`]:
    /// the separate ceilings alone let a blob ask for 1 GiB x 20 passes, about
    /// a minute of one core per decryption attempt (found writing the
    /// `password_key` fuzz target).
    pub const MAX_WORK: u64 = Self::MAX.m_cost as u64 * Self::MIN.t_cost as u64;

    /// Applies the floor and the ceilings.
    pub fn check(&self) -> Result<()> {
        if self.m_cost < Self::MIN.m_cost
            || self.t_cost < Self::MIN.t_cost
            || self.p_cost < Self::MIN.p_cost
        {
            return Err(CryptoError::WeakKdf);
        }
        if self.m_cost > Self::MAX.m_cost
            || self.t_cost > Self::MAX.t_cost
            || self.p_cost > Self::MAX.p_cost
        {
            return Err(CryptoError::KdfTooExpensive);
        }
        if u64::from(self.m_cost) * u64::from(self.t_cost) > Self::MAX_WORK {
            return Err(CryptoError::KdfTooExpensive);
        }
        Ok(())
    }

    /// Runs Argon2id (v0x13) to a 32-byte key. Checks the parameters first.
    pub fn derive_key(&self, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        self.check()?;
        let params = Params::new(self.m_cost, self.t_cost, self.p_cost, Some(KEY_LEN))
            .map_err(|_| CryptoError::WeakKdf)?;
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(password, salt, key.as_mut())
            .map_err(|_| CryptoError::Malformed("Argon2 rejected its input"))?;
        Ok(key)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The password KDF named in the blob. Only Argon2id exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kdf {
    /// Argon2id, version 0x13.
    #[serde(rename = "argon2id")]
    Argon2id,
}

/// A password-encrypted PKCS#8 private key, exactly as serialised on the wire
/// (the api.yml model `EncryptedPrivateKey` has the same JSON shape).
///
/// Fields are public for transport; [`Self::decrypt`] validates all of them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedPrivateKey {
    /// Format version: 1 (one key) or 2 (a key ring).
    pub version: u32,
    /// Always [`Kdf::Argon2id`].
    pub kdf: Kdf,
    /// Argon2 memory in KiB.
    pub m_cost: u32,
    /// Argon2 iterations.
    pub t_cost: u32,
    /// Argon2 parallelism.
    pub p_cost: u32,
    /// Argon2 salt (16 bytes); base64 in JSON.
    #[serde(with = "b64::bytes")]
    pub salt: Vec<u8>,
    /// AES-GCM IV (12 bytes); base64 in JSON.
    #[serde(with = "b64::bytes")]
    pub iv: Vec<u8>,
    /// AES-256-GCM ciphertext of the PKCS#8 DER, tag appended; base64 in
    /// JSON.
    #[serde(with = "b64::bytes")]
    pub ciphertext: Vec<u8>,
}

impl EncryptedPrivateKey {
    /// Encrypts `key` under `password` with the default parameters and the
    /// OS RNG (~25 ms of Argon2 in release builds).
    pub fn encrypt(key: &PrivateKey, password: &[u8]) -> Result<Self> {
        Self::encrypt_with_rng(&mut OsRng, key, password, KdfParams::DEFAULT)
    }

    /// [`Self::encrypt`] with explicit parameters (checked against the floor
    /// and ceiling) and RNG. Draw order: salt (16 bytes), then IV (12).
    pub fn encrypt_with_rng<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        key: &PrivateKey,
        password: &[u8],
        params: KdfParams,
    ) -> Result<Self> {
        let der = key.to_pkcs8_der()?;
        Self::seal(rng, ENCRYPTED_PRIVATE_KEY_VERSION, &der, password, params)
    }

    /// Encrypts a key ring under `password` (default parameters, OS RNG):
    /// version 1 when it holds one key, version 2 otherwise.
    pub fn encrypt_ring(ring: &KeyRing, password: &[u8]) -> Result<Self> {
        Self::encrypt_ring_with_rng(&mut OsRng, ring, password, KdfParams::DEFAULT)
    }

    /// [`Self::encrypt_ring`] with explicit parameters and RNG (draws as
    /// [`Self::encrypt_with_rng`]).
    pub fn encrypt_ring_with_rng<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        ring: &KeyRing,
        password: &[u8],
        params: KdfParams,
    ) -> Result<Self> {
        if ring.len() == 1 {
            return Self::encrypt_with_rng(rng, ring.current(), password, params);
        }
        let bytes = ring.to_bytes()?;
        Self::seal(rng, ENCRYPTED_KEY_RING_VERSION, &bytes, password, params)
    }

    fn seal<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        version: u32,
        plaintext: &[u8],
        password: &[u8],
        params: KdfParams,
    ) -> Result<Self> {
        if password.is_empty() {
            return Err(CryptoError::Malformed("empty password"));
        }
        params.check()?;
        let mut salt = vec![0u8; SALT_LEN];
        fill_random(rng, &mut salt)?;
        let mut iv = [0u8; IV_LEN];
        fill_random(rng, &mut iv)?;
        let aes_key = params.derive_key(password, &salt)?;
        let ciphertext = aead::encrypt(&aes_key, &iv, aad_of(version)?, plaintext)?;
        Ok(Self {
            version,
            kdf: Kdf::Argon2id,
            m_cost: params.m_cost,
            t_cost: params.t_cost,
            p_cost: params.p_cost,
            salt,
            iv: iv.to_vec(),
            ciphertext,
        })
    }

    /// The Argon2id parameters of this blob (unchecked).
    pub fn params(&self) -> KdfParams {
        KdfParams {
            m_cost: self.m_cost,
            t_cost: self.t_cost,
            p_cost: self.p_cost,
        }
    }

    /// Checks version, parameters and lengths without running Argon2 (cheap;
    /// the server can call it before storing a blob).
    pub fn validate(&self) -> Result<()> {
        aad_of(self.version)?;
        self.params().check()?;
        if self.salt.len() != SALT_LEN {
            return Err(CryptoError::BadLength {
                what: "salt",
                expected: SALT_LEN,
                got: self.salt.len(),
            });
        }
        aead::iv_from_slice(&self.iv)?;
        if self.ciphertext.len() < TAG_LEN {
            return Err(CryptoError::BadLength {
                what: "ciphertext",
                expected: TAG_LEN,
                got: self.ciphertext.len(),
            });
        }
        Ok(())
    }

    /// Decrypts with `password` and returns the current key (the only one
    /// of a version 1 blob): see [`Self::decrypt_ring`].
    pub fn decrypt(&self, password: &[u8]) -> Result<PrivateKey> {
        Ok(self.decrypt_ring(password)?.current().clone())
    }

    /// Decrypts with `password`: [`Self::validate`], Argon2id, AES-GCM
    /// ([`CryptoError::Decrypt`] for a wrong password or any tampering), then
    /// the PKCS#8 import of every key with its size policy. A version 1
    /// blob is a ring of one key.
    pub fn decrypt_ring(&self, password: &[u8]) -> Result<KeyRing> {
        self.validate()?;
        let iv = aead::iv_from_slice(&self.iv)?;
        let aes_key = self.params().derive_key(password, &self.salt)?;
        let plain = Zeroizing::new(aead::decrypt(
            &aes_key,
            &iv,
            aad_of(self.version)?,
            &self.ciphertext,
        )?);
        match self.version {
            ENCRYPTED_PRIVATE_KEY_VERSION => {
                Ok(KeyRing::single(PrivateKey::from_pkcs8_der(&plain)?))
            }
            _ => KeyRing::from_bytes(&plain),
        }
    }

    /// Compact JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|_| CryptoError::Internal("JSON encoding failed"))
    }

    /// Parses JSON (shape only; [`Self::decrypt`] validates).
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json)
            .map_err(|_| CryptoError::Malformed("invalid EncryptedPrivateKey JSON"))
    }
}

/// The AAD of a format version; any other version is
/// [`CryptoError::UnsupportedVersion`].
fn aad_of(version: u32) -> Result<&'static [u8]> {
    match version {
        ENCRYPTED_PRIVATE_KEY_VERSION => Ok(PRIVATE_KEY_AAD),
        ENCRYPTED_KEY_RING_VERSION => Ok(KEY_RING_AAD),
        other => Err(CryptoError::UnsupportedVersion(other)),
    }
}

impl fmt::Debug for EncryptedPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedPrivateKey")
            .field("version", &self.version)
            .field("kdf", &self.kdf)
            .field("m_cost", &self.m_cost)
            .field("t_cost", &self.t_cost)
            .field("p_cost", &self.p_cost)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// Found writing the `password_key` fuzz target: the separate ceilings
    /// accepted 1 GiB x 20 passes x 16 lanes, so one crafted blob (from a
    /// key file, or from a server answering `user.sync`) cost about a minute
    /// of one core and 1 GiB per decryption attempt. The work is now bounded, and
    /// refused before Argon2 runs.
    #[test]
    fn the_work_of_a_crafted_blob_is_bounded_before_argon2_runs() {
        let worst = KdfParams {
            m_cost: 1024 * 1024,
            t_cost: 20,
            p_cost: 16,
        };
        assert_eq!(worst.check(), Err(CryptoError::KdfTooExpensive));
        let json = r#"{"version":1,"kdf":"argon2id","m_cost":1048576,"t_cost":20,"p_cost":16,"salt":"BQUFBQUFBQUFBQUFBQUFBQ==","iv":"BgYGBgYGBgYGBgYG","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA=="}"#;
        let blob = EncryptedPrivateKey::from_json(json).unwrap();
        let start = Instant::now();
        assert_eq!(blob.validate(), Err(CryptoError::KdfTooExpensive));
        assert_eq!(
            blob.decrypt(b"correct horse").unwrap_err(),
            CryptoError::KdfTooExpensive
        );
        assert!(start.elapsed() < Duration::from_secs(1), "no Argon2 ran");

        // The boundary: the memory ceiling at the minimum passes, and the
        // pass ceiling at the memory that fits, are accepted.
        let with = |m_cost, t_cost| {
            KdfParams {
                m_cost,
                t_cost,
                p_cost: 1,
            }
            .check()
        };
        assert_eq!(with(1024 * 1024, 2), Ok(()));
        assert_eq!(with(1024 * 1024, 3), Err(CryptoError::KdfTooExpensive));
        assert_eq!(with(104_857, 20), Ok(()));
        assert_eq!(with(104_858, 20), Err(CryptoError::KdfTooExpensive));
        assert_eq!(KdfParams::DEFAULT.check(), Ok(()));
    }
}
