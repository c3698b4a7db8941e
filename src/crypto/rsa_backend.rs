//! The RSA boundary: the only code that calls an RSA library.
//!
//! Two traits describe exactly the operations the protocol needs (OAEP with
//! SHA-256/MGF1-SHA-256 and an empty label, PSS with SHA-256/MGF1-SHA-256 and
//! a 32-byte salt, SPKI/PKCS#8 DER, key generation). [`rustcrypto`] is the one
//! implementation today; an aws-lc-rs one could be added behind a cargo
//! feature and selected by the `Active*` aliases below, then benchmarked with
//! `benches/crypto.rs` without touching the rest of the module.
//!
//! The backend does no policy (key sizes, exponent): `keys.rs` does that once
//! for every backend.

use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use super::Result;

/// Public-key operations of a backend.
pub(crate) trait RsaPublicBackend: Sized + Send + Sync {
    /// Parses a SubjectPublicKeyInfo (DER) holding an RSA key.
    fn from_spki_der(der: &[u8]) -> Result<Self>;
    /// Encodes as SubjectPublicKeyInfo DER.
    fn to_spki_der(&self) -> Result<Vec<u8>>;
    /// Exact bit length of the modulus.
    fn modulus_bits(&self) -> usize;
    /// Length in bytes of ciphertexts and signatures.
    fn modulus_len(&self) -> usize;
    /// Whether the public exponent is 65537.
    fn exponent_is_f4(&self) -> bool;
    /// RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) encryption.
    fn oaep_encrypt<R: TryCryptoRng + ?Sized>(&self, rng: &mut R, msg: &[u8]) -> Result<Vec<u8>>;
    /// RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) verification over `msg`.
    fn pss_verify(&self, msg: &[u8], sig: &[u8]) -> Result<()>;
}

/// Private-key operations of a backend.
pub(crate) trait RsaPrivateBackend: Sized + Send + Sync {
    /// The matching public-key type.
    type Public: RsaPublicBackend;
    /// Generates a key pair with public exponent 65537.
    fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R, bits: usize) -> Result<Self>;
    /// Parses PKCS#8 DER (and checks the key's internal consistency).
    fn from_pkcs8_der(der: &[u8]) -> Result<Self>;
    /// Encodes as PKCS#8 DER.
    fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>>;
    /// The public half.
    fn public(&self) -> Self::Public;
    /// RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) decryption, blinded with
    /// the OS RNG (blinding does not change the result).
    fn oaep_decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
    /// RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) signature over `msg`; `rng`
    /// supplies the salt and the blinding factor.
    fn pss_sign<R: TryCryptoRng + ?Sized>(&self, rng: &mut R, msg: &[u8]) -> Result<Vec<u8>>;
}

/// The backend in use for public keys.
pub(crate) type ActivePublic = rustcrypto::Public;
/// The backend in use for private keys.
pub(crate) type ActivePrivate = rustcrypto::Private;

/// The RustCrypto `rsa` 0.10 backend (pure Rust; private-key operations are
/// blinded and constant-time per its changelog).
pub(crate) mod rustcrypto {
    use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
    use rsa::traits::PublicKeyParts;
    use sha2::Sha256;

    use super::*;
    use crate::crypto::{CryptoError, OsRng};

    /// RSA public key of the `rsa` crate.
    #[derive(Clone)]
    pub(crate) struct Public(rsa::PublicKey);

    /// RSA private key of the `rsa` crate (zeroized on drop by the crate).
    pub(crate) struct Private(rsa::PrivateKey);

    impl RsaPublicBackend for Public {
        fn from_spki_der(der: &[u8]) -> Result<Self> {
            rsa::PublicKey::from_public_key_der(der)
                .map(Self)
                .map_err(|_| CryptoError::Malformed("invalid RSA SubjectPublicKeyInfo"))
        }

        fn to_spki_der(&self) -> Result<Vec<u8>> {
            self.0
                .to_public_key_der()
                .map(|d| d.into_vec())
                .map_err(|_| CryptoError::Internal("SPKI encoding failed"))
        }

        fn modulus_bits(&self) -> usize {
            self.0.n().bit_width() as usize
        }

        fn modulus_len(&self) -> usize {
            self.0.size()
        }

        fn exponent_is_f4(&self) -> bool {
            *self.0.e_bytes() == [0x01, 0x00, 0x01]
        }

        fn oaep_encrypt<R: TryCryptoRng + ?Sized>(
            &self,
            rng: &mut R,
            msg: &[u8],
        ) -> Result<Vec<u8>> {
            self.0
                .oaep_encrypt_with_rng::<Sha256, R>(rng, msg)
                .map_err(|e| match e {
                    rsa::Error::Rng => CryptoError::Rng,
                    _ => CryptoError::Internal("RSA-OAEP encryption failed"),
                })
        }

        fn pss_verify(&self, msg: &[u8], sig: &[u8]) -> Result<()> {
            // pss_verify requires a salt of the digest size: 32 for SHA-256.
            self.0
                .pss_verify::<Sha256>(msg, sig)
                .map_err(|_| CryptoError::BadSignature)
        }
    }

    impl RsaPrivateBackend for Private {
        type Public = Public;

        fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R, bits: usize) -> Result<Self> {
            rsa::PrivateKey::new(rng, bits)
                .map(Self)
                .map_err(|e| match e {
                    rsa::Error::Rng => CryptoError::Rng,
                    _ => CryptoError::Internal("RSA key generation failed"),
                })
        }

        fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
            rsa::PrivateKey::from_pkcs8_der(der)
                .map(Self)
                .map_err(|_| CryptoError::Malformed("invalid RSA PKCS#8 private key"))
        }

        fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
            self.0
                .to_pkcs8_der()
                .map(|d| Zeroizing::new(d.as_bytes().to_vec()))
                .map_err(|_| CryptoError::Internal("PKCS#8 encoding failed"))
        }

        fn public(&self) -> Public {
            Public(self.0.to_public_key())
        }

        fn oaep_decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
            self.0
                .oaep_decrypt_with_rng::<Sha256, _>(&mut OsRng, ciphertext)
                .map(Zeroizing::new)
                .map_err(|e| match e {
                    rsa::Error::Rng => CryptoError::Rng,
                    _ => CryptoError::Decrypt,
                })
        }

        fn pss_sign<R: TryCryptoRng + ?Sized>(&self, rng: &mut R, msg: &[u8]) -> Result<Vec<u8>> {
            self.0
                .pss_sign_with_rng::<Sha256, R>(rng, msg)
                .map_err(|e| match e {
                    rsa::Error::Rng => CryptoError::Rng,
                    _ => CryptoError::Internal("RSA-PSS signing failed"),
                })
        }
    }
}
