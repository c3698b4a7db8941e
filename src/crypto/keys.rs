//! RSA key pairs: [`PublicKey`], [`PrivateKey`], their encodings, the size
//! policy and [`Fingerprint`]s.
//!
//! Policy (enforced on every import and on generation): modulus of
//! 2048..=4096 bits, public exponent 65537. Public keys travel as base64 of
//! SubjectPublicKeyInfo DER, private keys as PKCS#8 DER; PEM is offered for
//! files and humans.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::TryCryptoRng;
use zeroize::Zeroizing;

use super::rsa_backend::{ActivePrivate, ActivePublic, RsaPrivateBackend, RsaPublicBackend};
use super::{CryptoError, OsRng, Result, sha256};

/// Default modulus size for new key pairs.
pub const DEFAULT_KEY_BITS: usize = 3072;
/// Smallest accepted modulus size.
pub const MIN_KEY_BITS: usize = 2048;
/// Largest accepted modulus size.
pub const MAX_KEY_BITS: usize = 4096;

const PEM_PUBLIC_LABEL: &str = "PUBLIC KEY";
const PEM_PRIVATE_LABEL: &str = "PRIVATE KEY";
/// Upper bound on DER input, far above a 4096-bit PKCS#8 (~2.4 KB); refuses
/// absurd inputs before any parsing.
const MAX_DER_LEN: usize = 16 * 1024;

fn check_policy(public: &ActivePublic) -> Result<()> {
    let bits = public.modulus_bits();
    if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
        return Err(CryptoError::KeySize(bits));
    }
    if !public.exponent_is_f4() {
        return Err(CryptoError::PublicExponent);
    }
    Ok(())
}

fn check_der_len(der: &[u8]) -> Result<()> {
    if der.is_empty() || der.len() > MAX_DER_LEN {
        return Err(CryptoError::Malformed("DER input of implausible length"));
    }
    Ok(())
}

/// SHA-256 of a public key's SubjectPublicKeyInfo DER: what users compare out
/// of band and what clients pin.
///
/// `Display` prints 16 groups of 4 lowercase hex digits separated by spaces
/// (`ab12 cd34 ...`); [`Fingerprint::to_hex`] gives the 64 digits unbroken.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// Fingerprint of an SPKI DER encoding (no parsing, no policy).
    pub fn of_spki_der(spki_der: &[u8]) -> Self {
        Self(sha256(spki_der))
    }

    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lowercase hex digits, no separators.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, pair) in self.0.chunks(2).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            for b in pair {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Parses the grouped form or the 64 digits unbroken (any case; spaces
/// anywhere are ignored, so a fingerprint pasted from either form works).
impl std::str::FromStr for Fingerprint {
    type Err = CryptoError;

    fn from_str(text: &str) -> Result<Self> {
        let digits: Vec<u8> = text.bytes().filter(|b| *b != b' ').collect();
        if digits.len() != 64 {
            return Err(CryptoError::Malformed("a fingerprint is 64 hex digits"));
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks(2)) {
            let pair = std::str::from_utf8(pair)
                .map_err(|_| CryptoError::Malformed("a fingerprint is 64 hex digits"))?;
            *byte = u8::from_str_radix(pair, 16)
                .map_err(|_| CryptoError::Malformed("a fingerprint is 64 hex digits"))?;
        }
        Ok(Fingerprint(bytes))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

struct PublicInner {
    backend: ActivePublic,
    spki_der: Vec<u8>,
    fingerprint: Fingerprint,
    bits: usize,
}

/// An RSA public key that passed the size policy. Cheap to clone (shared).
///
/// Equality compares the SPKI DER encodings.
#[derive(Clone)]
pub struct PublicKey(Arc<PublicInner>);

impl PublicKey {
    fn from_backend(backend: ActivePublic) -> Result<Self> {
        check_policy(&backend)?;
        Self::from_backend_without_policy(backend)
    }

    fn from_backend_without_policy(backend: ActivePublic) -> Result<Self> {
        let spki_der = backend.to_spki_der()?;
        Ok(Self(Arc::new(PublicInner {
            fingerprint: Fingerprint::of_spki_der(&spki_der),
            bits: backend.modulus_bits(),
            spki_der,
            backend,
        })))
    }

    /// Parses SubjectPublicKeyInfo DER and applies the size policy.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        check_der_len(der)?;
        let key = Self::from_backend(ActivePublic::from_spki_der(der)?)?;
        // Only canonical encodings: the fingerprint must be of what was sent.
        if key.0.spki_der != der {
            return Err(CryptoError::Malformed("non-canonical SubjectPublicKeyInfo"));
        }
        Ok(key)
    }

    /// Parses SubjectPublicKeyInfo DER without the size policy: only for
    /// the conformance suite's deliberately broken servers.
    #[cfg(feature = "mutants")]
    #[doc(hidden)]
    pub fn from_spki_der_without_policy(der: &[u8]) -> Result<Self> {
        check_der_len(der)?;
        Self::from_backend_without_policy(ActivePublic::from_spki_der(der)?)
    }

    /// Parses base64 (standard, padded) of SPKI DER: the wire form.
    pub fn from_base64(b64: &str) -> Result<Self> {
        let der = STANDARD
            .decode(b64.trim())
            .map_err(|_| CryptoError::Malformed("invalid base64"))?;
        Self::from_spki_der(&der)
    }

    /// Parses a `-----BEGIN PUBLIC KEY-----` PEM document.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let der = pem_decode(pem, PEM_PUBLIC_LABEL)?;
        Self::from_spki_der(&der)
    }

    /// SubjectPublicKeyInfo DER.
    pub fn to_spki_der(&self) -> &[u8] {
        &self.0.spki_der
    }

    /// Base64 (standard, padded) of the SPKI DER: the wire form.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.0.spki_der)
    }

    /// `-----BEGIN PUBLIC KEY-----` PEM (LF line endings).
    pub fn to_pem(&self) -> String {
        pem_encode(&self.0.spki_der, PEM_PUBLIC_LABEL)
    }

    /// SHA-256 of the SPKI DER.
    pub fn fingerprint(&self) -> Fingerprint {
        self.0.fingerprint
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.bits
    }

    /// Length in bytes of a wrapped key or a signature made with this key.
    pub fn modulus_len(&self) -> usize {
        self.0.backend.modulus_len()
    }

    /// RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) encryption of `msg`
    /// (a 32-byte key in the protocol), using the OS RNG.
    pub fn encrypt_oaep(&self, msg: &[u8]) -> Result<Vec<u8>> {
        self.0.backend.oaep_encrypt_os(msg)
    }

    /// [`Self::encrypt_oaep`] with an explicit RNG (for known-answer tests).
    pub fn encrypt_oaep_with_rng<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        msg: &[u8],
    ) -> Result<Vec<u8>> {
        self.0.backend.oaep_encrypt(rng, msg)
    }

    /// Verifies an RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) signature over
    /// the raw message `msg`. Any failure is [`CryptoError::BadSignature`].
    pub fn verify_pss(&self, msg: &[u8], signature: &[u8]) -> Result<()> {
        if signature.len() != self.modulus_len() {
            return Err(CryptoError::BadSignature);
        }
        self.0.backend.pss_verify(msg, signature)
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.spki_der == other.0.spki_der
    }
}

impl Eq for PublicKey {}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.spki_der.hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.0.bits)
            .field("fingerprint", &format_args!("{}", self.0.fingerprint))
            .finish()
    }
}

struct PrivateInner {
    backend: ActivePrivate,
    public: PublicKey,
}

/// An RSA private key that passed the size policy, with its public half.
/// Cheap to clone (shared); the key material is zeroized when the last clone
/// is dropped. `Debug` shows only the public fingerprint.
#[derive(Clone)]
pub struct PrivateKey(Arc<PrivateInner>);

impl PrivateKey {
    fn from_backend(backend: ActivePrivate) -> Result<Self> {
        let public = PublicKey::from_backend(backend.public())?;
        Ok(Self(Arc::new(PrivateInner { backend, public })))
    }

    /// Generates a 3072-bit key pair with the OS RNG (0.2-0.5 s in release).
    pub fn generate() -> Result<Self> {
        Self::generate_with_rng(&mut OsRng, DEFAULT_KEY_BITS)
    }

    /// Generates a key pair of `bits` (2048..=4096) with `rng`.
    pub fn generate_with_rng<R: TryCryptoRng + ?Sized>(rng: &mut R, bits: usize) -> Result<Self> {
        if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
            return Err(CryptoError::KeySize(bits));
        }
        Self::from_backend(ActivePrivate::generate(rng, bits)?)
    }

    /// Parses PKCS#8 DER, checks the key's consistency and the size policy.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        check_der_len(der)?;
        Self::from_backend(ActivePrivate::from_pkcs8_der(der)?)
    }

    /// Parses base64 (standard, padded) of PKCS#8 DER.
    pub fn from_pkcs8_base64(b64: &str) -> Result<Self> {
        let der = Zeroizing::new(
            STANDARD
                .decode(b64.trim())
                .map_err(|_| CryptoError::Malformed("invalid base64"))?,
        );
        Self::from_pkcs8_der(&der)
    }

    /// Parses a `-----BEGIN PRIVATE KEY-----` (PKCS#8) PEM document.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        let der = pem_decode(pem, PEM_PRIVATE_LABEL)?;
        Self::from_pkcs8_der(&der)
    }

    /// PKCS#8 DER, wiped on drop.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        self.0.backend.to_pkcs8_der()
    }

    /// Base64 of PKCS#8 DER, wiped on drop.
    pub fn to_pkcs8_base64(&self) -> Result<Zeroizing<String>> {
        Ok(Zeroizing::new(STANDARD.encode(&*self.to_pkcs8_der()?)))
    }

    /// `-----BEGIN PRIVATE KEY-----` PEM (LF line endings), wiped on drop.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        Ok(pem_encode(&self.to_pkcs8_der()?, PEM_PRIVATE_LABEL).into())
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.0.public
    }

    /// Fingerprint of the public half.
    pub fn fingerprint(&self) -> Fingerprint {
        self.0.public.fingerprint()
    }

    /// RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) decryption. Any failure
    /// (wrong key, bad padding, wrong length) is [`CryptoError::Decrypt`].
    pub fn decrypt_oaep(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if ciphertext.len() != self.0.public.modulus_len() {
            return Err(CryptoError::Decrypt);
        }
        self.0.backend.oaep_decrypt(ciphertext)
    }

    /// RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) signature over the raw
    /// message `msg`, with the OS RNG.
    pub fn sign_pss(&self, msg: &[u8]) -> Result<Vec<u8>> {
        self.0.backend.pss_sign_os(msg)
    }

    /// [`Self::sign_pss`] with an explicit RNG (salt and blinding).
    pub fn sign_pss_with_rng<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        msg: &[u8],
    ) -> Result<Vec<u8>> {
        self.0.backend.pss_sign(rng, msg)
    }

    /// Fails with [`CryptoError::KeyMismatch`] unless `public` is this key's
    /// public half.
    pub fn check_matches(&self, public: &PublicKey) -> Result<()> {
        if self.public_key() == public {
            Ok(())
        } else {
            Err(CryptoError::KeyMismatch)
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("bits", &self.0.public.bits())
            .field(
                "fingerprint",
                &format_args!("{}", self.0.public.fingerprint()),
            )
            .finish_non_exhaustive()
    }
}

/// The DER of a `-----BEGIN PRIVATE KEY-----` PEM document, for backend tests.
#[cfg(test)]
pub(crate) fn pem_decode_private(pem: &str) -> Result<Zeroizing<Vec<u8>>> {
    pem_decode(pem, PEM_PRIVATE_LABEL)
}

/// Minimal RFC 7468 PEM: one block with the expected label, base64 body.
/// Lenient about CRLF and surrounding whitespace, strict about the label.
fn pem_decode(pem: &str, label: &str) -> Result<Zeroizing<Vec<u8>>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let text = pem.trim();
    let body = text
        .strip_prefix(begin.as_str())
        .and_then(|rest| rest.strip_suffix(end.as_str()))
        .ok_or(CryptoError::Malformed(
            "not a PEM document of the expected type",
        ))?;
    let b64: Zeroizing<String> =
        Zeroizing::new(body.chars().filter(|c| !c.is_ascii_whitespace()).collect());
    STANDARD
        .decode(b64.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Malformed("invalid base64 in PEM"))
}

fn pem_encode(der: &[u8], label: &str) -> String {
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    // base64 output is ASCII, so byte chunks are valid UTF-8.
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}
