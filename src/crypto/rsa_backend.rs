//! The RSA boundary: the only code that calls an RSA library.
//!
//! Two traits describe exactly the operations the protocol needs (OAEP with
//! SHA-256/MGF1-SHA-256 and an empty label, PSS with SHA-256/MGF1-SHA-256 and
//! a 32-byte salt, SPKI/PKCS#8 DER, key generation). Two implementations:
//!
//! - [`rustcrypto`]: the pure-Rust `rsa` crate, for everything.
//! - `awslc` (cargo feature `aws-lc`): AWS-LC through `aws-lc-rs` for the
//!   operations that take no caller randomness (OAEP decryption, PSS
//!   verification) and for OS-random OAEP encryption and PSS signing,
//!   about 5x faster for private-key operations at 3072 bits; the `rsa` crate still does
//!   key generation and every `*_with_rng` operation, because AWS-LC draws
//!   its own randomness and the known-answer vectors need a seeded RNG.
//!
//! Which one a key uses is decided when the key is parsed or generated, by
//! [`super::backend::active`]. The backend does no policy (key sizes,
//! exponent): `keys.rs` does that once for every backend.

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
    /// [`Self::oaep_encrypt`] with the operating system's randomness, which
    /// a backend may draw itself.
    fn oaep_encrypt_os(&self, msg: &[u8]) -> Result<Vec<u8>> {
        self.oaep_encrypt(&mut crate::crypto::OsRng, msg)
    }
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
    /// [`Self::pss_sign`] with the operating system's randomness, which a
    /// backend may draw itself.
    fn pss_sign_os(&self, msg: &[u8]) -> Result<Vec<u8>> {
        self.pss_sign(&mut crate::crypto::OsRng, msg)
    }
}

/// The key types every key is built on: with the `aws-lc` feature, keys that
/// use AWS-LC where [`super::backend::active`] says so.
#[cfg(feature = "aws-lc")]
pub(crate) type ActivePublic = awslc::Public;
/// See [`ActivePublic`].
#[cfg(feature = "aws-lc")]
pub(crate) type ActivePrivate = awslc::Private;
/// The key types every key is built on: the `rsa` crate only.
#[cfg(not(feature = "aws-lc"))]
pub(crate) type ActivePublic = rustcrypto::Public;
/// See [`ActivePublic`].
#[cfg(not(feature = "aws-lc"))]
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

/// AWS-LC (`aws-lc-rs`) beside the `rsa` crate: a key parsed while AWS-LC
/// is the active backend carries AWS-LC's form of itself too, and uses it
/// for every operation that does not need the caller's RNG.
#[cfg(feature = "aws-lc")]
pub(crate) mod awslc {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{
        OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
        PrivateDecryptingKey, PublicEncryptingKey,
    };
    use aws_lc_rs::signature::{
        ParsedPublicKey, RSA_PSS_2048_8192_SHA256, RSA_PSS_SHA256, RsaKeyPair,
    };

    use super::*;
    use crate::crypto::CryptoError;
    use crate::crypto::backend::{RsaBackend, active};

    /// A public key: the `rsa` crate's, and AWS-LC's when it is active.
    #[derive(Clone)]
    pub(crate) struct Public {
        rust: rustcrypto::Public,
        fast: Option<FastPublic>,
    }

    #[derive(Clone)]
    struct FastPublic {
        verify: ParsedPublicKey,
        encrypt: PublicEncryptingKey,
    }

    /// A private key: the `rsa` crate's, and AWS-LC's when it is active.
    pub(crate) struct Private {
        rust: rustcrypto::Private,
        fast: Option<FastPrivate>,
    }

    struct FastPrivate {
        decrypt: PrivateDecryptingKey,
        sign: RsaKeyPair,
    }

    impl FastPublic {
        fn from_spki_der(der: &[u8]) -> Result<Self> {
            let malformed = |_| CryptoError::Malformed("invalid RSA SubjectPublicKeyInfo");
            Ok(FastPublic {
                verify: ParsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, der).map_err(malformed)?,
                encrypt: PublicEncryptingKey::from_der(der).map_err(malformed)?,
            })
        }
    }

    impl FastPrivate {
        fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
            let malformed = |_| CryptoError::Malformed("invalid RSA PKCS#8 private key");
            Ok(FastPrivate {
                decrypt: PrivateDecryptingKey::from_pkcs8(der).map_err(malformed)?,
                sign: RsaKeyPair::from_pkcs8(der).map_err(malformed)?,
            })
        }
    }

    impl Private {
        /// Adds AWS-LC's form of `rust` when AWS-LC is the active backend.
        fn with_fast(rust: rustcrypto::Private) -> Result<Self> {
            let fast = if wanted(rust.public().modulus_bits()) {
                Some(FastPrivate::from_pkcs8_der(&rust.to_pkcs8_der()?)?)
            } else {
                None
            };
            Ok(Private { rust, fast })
        }
    }

    /// Whether a key of `bits` gets AWS-LC's form: when AWS-LC is active and
    /// the size is one it accepts. Smaller keys stay with the `rsa` crate so
    /// that `keys.rs` refuses them with its own precise error.
    fn wanted(bits: usize) -> bool {
        active() == RsaBackend::AwsLc && (2048..=8192).contains(&bits)
    }

    impl RsaPublicBackend for Public {
        fn from_spki_der(der: &[u8]) -> Result<Self> {
            let rust = rustcrypto::Public::from_spki_der(der)?;
            let fast = if wanted(rust.modulus_bits()) {
                Some(FastPublic::from_spki_der(der)?)
            } else {
                None
            };
            Ok(Public { rust, fast })
        }

        fn to_spki_der(&self) -> Result<Vec<u8>> {
            self.rust.to_spki_der()
        }

        fn modulus_bits(&self) -> usize {
            self.rust.modulus_bits()
        }

        fn modulus_len(&self) -> usize {
            self.rust.modulus_len()
        }

        fn exponent_is_f4(&self) -> bool {
            self.rust.exponent_is_f4()
        }

        fn oaep_encrypt<R: TryCryptoRng + ?Sized>(
            &self,
            rng: &mut R,
            msg: &[u8],
        ) -> Result<Vec<u8>> {
            self.rust.oaep_encrypt(rng, msg)
        }

        fn oaep_encrypt_os(&self, msg: &[u8]) -> Result<Vec<u8>> {
            let Some(fast) = &self.fast else {
                return self.rust.oaep_encrypt_os(msg);
            };
            let key = OaepPublicEncryptingKey::new(fast.encrypt.clone())
                .map_err(|_| CryptoError::Internal("RSA-OAEP key setup failed"))?;
            let mut out = vec![0u8; key.ciphertext_size()];
            let written = key
                .encrypt(&OAEP_SHA256_MGF1SHA256, msg, &mut out, None)
                .map_err(|_| CryptoError::Internal("RSA-OAEP encryption failed"))?
                .len();
            out.truncate(written);
            Ok(out)
        }

        fn pss_verify(&self, msg: &[u8], sig: &[u8]) -> Result<()> {
            match &self.fast {
                // RSA_PSS_2048_8192_SHA256 requires a salt of the digest
                // length (32), like the `rsa` crate's pss_verify.
                Some(fast) => fast
                    .verify
                    .verify_sig(msg, sig)
                    .map_err(|_| CryptoError::BadSignature),
                None => self.rust.pss_verify(msg, sig),
            }
        }
    }

    impl RsaPrivateBackend for Private {
        type Public = Public;

        fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R, bits: usize) -> Result<Self> {
            Self::with_fast(rustcrypto::Private::generate(rng, bits)?)
        }

        fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
            Self::with_fast(rustcrypto::Private::from_pkcs8_der(der)?)
        }

        fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
            self.rust.to_pkcs8_der()
        }

        fn public(&self) -> Public {
            let rust = self.rust.public();
            // The SPKI of a key AWS-LC already parsed: it parses again.
            let fast = self.fast.as_ref().and_then(|_| {
                let spki = rust.to_spki_der().ok()?;
                FastPublic::from_spki_der(&spki).ok()
            });
            Public { rust, fast }
        }

        fn oaep_decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
            let Some(fast) = &self.fast else {
                return self.rust.oaep_decrypt(ciphertext);
            };
            let key = OaepPrivateDecryptingKey::new(fast.decrypt.clone())
                .map_err(|_| CryptoError::Internal("RSA-OAEP key setup failed"))?;
            // AWS-LC needs room for a whole modulus, whatever the plaintext.
            let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
            let written = key
                .decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut out, None)
                .map_err(|_| CryptoError::Decrypt)?
                .len();
            out.truncate(written);
            Ok(out)
        }

        fn pss_sign<R: TryCryptoRng + ?Sized>(&self, rng: &mut R, msg: &[u8]) -> Result<Vec<u8>> {
            self.rust.pss_sign(rng, msg)
        }

        fn pss_sign_os(&self, msg: &[u8]) -> Result<Vec<u8>> {
            let Some(fast) = &self.fast else {
                return self.rust.pss_sign_os(msg);
            };
            // `sign` panics unless the buffer is exactly the modulus length.
            let mut signature = vec![0u8; fast.sign.public_modulus_len()];
            fast.sign
                .sign(&RSA_PSS_SHA256, &SystemRandom::new(), msg, &mut signature)
                .map_err(|_| CryptoError::Internal("RSA-PSS signing failed"))?;
            Ok(signature)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::crypto::keys::pem_decode_private;

        /// Both forms of one fixture key, whatever backend is active.
        fn both() -> (Private, Public, Private, Public) {
            let der = pem_decode_private(include_str!(
                "../../conformance/fixtures/keys/alice-3072.pem"
            ))
            .unwrap();
            let rust = || rustcrypto::Private::from_pkcs8_der(&der).unwrap();
            let spki = rust().public().to_spki_der().unwrap();
            let slow = Private {
                rust: rust(),
                fast: None,
            };
            let fast = Private {
                rust: rust(),
                fast: Some(FastPrivate::from_pkcs8_der(&der).unwrap()),
            };
            let slow_public = Public {
                rust: rust().public(),
                fast: None,
            };
            let fast_public = Public {
                rust: rust().public(),
                fast: Some(FastPublic::from_spki_der(&spki).unwrap()),
            };
            (slow, slow_public, fast, fast_public)
        }

        #[test]
        fn each_backend_reads_what_the_other_wrote() {
            let (slow, slow_public, fast, fast_public) = both();
            let key = [7u8; 32];
            for (sealer, opener) in [(&slow_public, &fast), (&fast_public, &slow)] {
                let wrapped = sealer.oaep_encrypt_os(&key).unwrap();
                assert_eq!(&opener.oaep_decrypt(&wrapped).unwrap()[..], &key);
            }
            for (signer, verifier) in [(&slow, &fast_public), (&fast, &slow_public)] {
                let signature = signer.pss_sign_os(b"nanochat").unwrap();
                verifier.pss_verify(b"nanochat", &signature).unwrap();
                assert_eq!(
                    verifier.pss_verify(b"nanochat!", &signature),
                    Err(CryptoError::BadSignature)
                );
            }
            let mut tampered = fast_public.oaep_encrypt_os(&key).unwrap();
            tampered[10] ^= 1;
            assert_eq!(fast.oaep_decrypt(&tampered), Err(CryptoError::Decrypt));
            assert_eq!(
                fast.oaep_decrypt(&tampered[1..]).map(|_| ()),
                Err(CryptoError::Decrypt)
            );
        }
    }
}
