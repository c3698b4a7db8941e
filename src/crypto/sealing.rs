//! What message content ([`super::content`]) and conversation names
//! ([`super::name`]) share, kept in one place so the two formats cannot drift
//! apart: the length-prefixed fields of the canonical signed bytes, the signed
//! recipient list, the per-member key wraps and the reader's check of its own
//! entry.

use std::fmt;

use rand_core::TryCryptoRng;
use uuid::Uuid;

use super::aead::KEY_LEN;
use super::{CryptoError, Draws, Fingerprint, PrivateKey, PublicKey, Result, sha256};

/// Which signed bytes a message or name signature covers (api.yml, "Keyed
/// signatures").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SignatureVersion {
    /// Version 1: the canonical bytes, which name no key.
    #[default]
    V1,
    /// Version 2: the keyed bytes, which bind the signer's key fingerprint.
    Keyed(Fingerprint),
}

impl SignatureVersion {
    /// The wire number: 1 or 2.
    pub fn number(&self) -> i32 {
        match self {
            SignatureVersion::V1 => 1,
            SignatureVersion::Keyed(_) => 2,
        }
    }

    /// The version `number` names for a signature by `signer` (1, 2, or
    /// [`CryptoError::UnsupportedVersion`]).
    pub fn for_signer(number: i32, signer: &PublicKey) -> Result<Self> {
        match number {
            1 => Ok(SignatureVersion::V1),
            2 => Ok(SignatureVersion::Keyed(signer.fingerprint())),
            other => Err(CryptoError::UnsupportedVersion(other.max(0) as u32)),
        }
    }

    /// Appends the leading fields: `v1_domain`, or `keyed_domain` and the
    /// fingerprint.
    pub(crate) fn put_domain(
        &self,
        out: &mut Vec<u8>,
        v1_domain: &[u8],
        keyed_domain: &[u8],
    ) -> Result<()> {
        match self {
            SignatureVersion::V1 => put_field(out, v1_domain),
            SignatureVersion::Keyed(fingerprint) => {
                put_field(out, keyed_domain)?;
                put_field(out, fingerprint.as_bytes())
            }
        }
    }

    /// Verifies `signature` over `signed` with `signer`; a keyed version
    /// must bind `signer`'s own fingerprint ([`CryptoError::BadSignature`]
    /// otherwise, before any RSA work).
    pub(crate) fn verify(&self, signer: &PublicKey, signed: &[u8], signature: &[u8]) -> Result<()> {
        if let SignatureVersion::Keyed(fingerprint) = self
            && *fingerprint != signer.fingerprint()
        {
            return Err(CryptoError::BadSignature);
        }
        signer.verify_pss(signed, signature)
    }
}

/// One member's wrapped key (of a message's content or a conversation's
/// name), as the sender produces it.
#[derive(Clone, PartialEq, Eq)]
pub struct RecipientKey {
    /// The member's username.
    pub username: String,
    /// `C` wrapped with RSA-OAEP under the member's public key.
    pub wrapped_key: Vec<u8>,
}

impl RecipientKey {
    /// The signed form of this entry.
    pub fn digest(&self) -> RecipientDigest {
        RecipientDigest {
            username: self.username.clone(),
            key_digest: sha256(&self.wrapped_key),
        }
    }
}

impl fmt::Debug for RecipientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecipientKey")
            .field("username", &self.username)
            .field("wrapped_key_len", &self.wrapped_key.len())
            .finish()
    }
}

/// One entry of the signed recipient list: a username and the SHA-256 of the
/// key wrapped for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientDigest {
    /// The member's username.
    pub username: String,
    /// SHA-256 of the member's wrapped key.
    pub key_digest: [u8; 32],
}

/// Appends `field` as its length (u32 big-endian) followed by the bytes.
pub(crate) fn put_field(out: &mut Vec<u8>, field: &[u8]) -> Result<()> {
    let len = u32::try_from(field.len()).map_err(|_| CryptoError::Malformed("field too long"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
    Ok(())
}

/// Appends `id` as a field holding its lowercase hyphenated form: the text
/// every client already prints, so no byte-order convention is needed.
pub(crate) fn put_uuid(out: &mut Vec<u8>, id: &Uuid) -> Result<()> {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    put_field(out, id.hyphenated().encode_lower(&mut buf).as_bytes())
}

/// A recipient list that passed the rules of the signed encoding, in
/// canonical (username byte) order.
///
/// Validation happens in [`Self::new`], before the caller writes anything,
/// so an invalid list fails the same way whatever precedes it.
pub(crate) struct CanonicalRecipients<'a> {
    sorted: Vec<&'a RecipientDigest>,
    count: u32,
}

impl<'a> CanonicalRecipients<'a> {
    /// Sorts `recipients` by username bytes and refuses an empty list or an
    /// empty username ([`CryptoError::Malformed`]) and a repeated username
    /// ([`CryptoError::DuplicateRecipient`]): the signed list must name each
    /// reader exactly once, whatever order the server returned it in.
    pub(crate) fn new(recipients: &'a [RecipientDigest]) -> Result<Self> {
        let mut sorted: Vec<&RecipientDigest> = recipients.iter().collect();
        sorted.sort_by(|a, b| a.username.as_bytes().cmp(b.username.as_bytes()));
        if sorted.is_empty() {
            return Err(CryptoError::Malformed("empty recipient list"));
        }
        if sorted.iter().any(|r| r.username.is_empty()) {
            return Err(CryptoError::Malformed("empty username"));
        }
        if sorted.windows(2).any(|w| w[0].username == w[1].username) {
            return Err(CryptoError::DuplicateRecipient);
        }
        let count = u32::try_from(sorted.len())
            .map_err(|_| CryptoError::Malformed("too many recipients"))?;
        Ok(Self { sorted, count })
    }

    /// The bytes [`Self::put`] appends, to size the output buffer once.
    pub(crate) fn encoded_len(&self) -> usize {
        4 + self
            .sorted
            .iter()
            .map(|r| 8 + r.username.len() + r.key_digest.len())
            .sum::<usize>()
    }

    /// Appends the recipient count (u32 big-endian, no length prefix), then
    /// each recipient's username and key digest as fields.
    pub(crate) fn put(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(&self.count.to_be_bytes());
        for r in &self.sorted {
            put_field(out, r.username.as_bytes())?;
            put_field(out, &r.key_digest)?;
        }
        Ok(())
    }
}

/// Sorts `members` by username bytes and checks them before the sealer draws
/// any randomness: a repeated username is [`CryptoError::DuplicateRecipient`],
/// and a sealer whose own public key is absent is
/// [`CryptoError::NotARecipient`] (it could not read back what it wrote).
pub(crate) fn sorted_members<'a>(
    sealer: &PrivateKey,
    members: &[(&'a str, &'a PublicKey)],
) -> Result<Vec<(&'a str, &'a PublicKey)>> {
    let mut sorted: Vec<(&str, &PublicKey)> = members.to_vec();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if sorted.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(CryptoError::DuplicateRecipient);
    }
    if !sorted.iter().any(|(_, pk)| *pk == sealer.public_key()) {
        return Err(CryptoError::NotARecipient);
    }
    Ok(sorted)
}

/// Wraps `key` with RSA-OAEP for each of `sorted` (from [`sorted_members`]),
/// one RNG draw per member in that order, which the known-answer vectors
/// depend on.
pub(crate) fn wrap_for_members<R: TryCryptoRng + ?Sized>(
    draws: &mut Draws<'_, R>,
    key: &[u8; KEY_LEN],
    sorted: &[(&str, &PublicKey)],
) -> Result<Vec<RecipientKey>> {
    sorted
        .iter()
        .map(|(username, pk)| {
            Ok(RecipientKey {
                username: (*username).to_owned(),
                wrapped_key: draws.encrypt_oaep(pk, key)?,
            })
        })
        .collect()
}

/// The wrapped key the server hands to `username`
/// ([`CryptoError::NotARecipient`] if there is none).
pub(crate) fn own_key<'a>(
    recipients: &'a [RecipientKey],
    username: &str,
) -> Result<&'a RecipientKey> {
    recipients
        .iter()
        .find(|r| r.username == username)
        .ok_or(CryptoError::NotARecipient)
}

/// Checks that the wrapped key a reader received is the one the sealer signed
/// for it: the reader must be in the signed list
/// ([`CryptoError::NotARecipient`]) and the SHA-256 of the key must match its
/// entry ([`CryptoError::KeyDigestMismatch`]), compared in constant time.
pub(crate) fn check_own_entry(
    recipients: &[RecipientDigest],
    reader_username: &str,
    wrapped_key: &[u8],
) -> Result<()> {
    use subtle::ConstantTimeEq as _;
    let entry = recipients
        .iter()
        .find(|r| r.username == reader_username)
        .ok_or(CryptoError::NotARecipient)?;
    if !bool::from(sha256(wrapped_key).ct_eq(&entry.key_digest)) {
        return Err(CryptoError::KeyDigestMismatch);
    }
    Ok(())
}
