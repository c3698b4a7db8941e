//! End-to-end conversation names: the server stores a name it cannot read,
//! sealed the same way as message content ([`super::content`]).
//!
//! The member who names (or renames) the conversation draws a name key `N`
//! (32 bytes) and encrypts the UTF-8 name with AES-256-GCM under a random IV
//! (empty AAD). `N` is wrapped with RSA-OAEP under every member's public key,
//! the sealer's included, and the sealer signs, with RSA-PSS, the canonical
//! bytes of [`name_signed_bytes`].
//!
//! The signature binds the conversation id and a revision number, so the
//! server can neither move a name to another conversation nor pass an old
//! name off as a newer one. As for messages, a reader gets only its own
//! wrapped key and checks it against the signed `(username, SHA-256(wrapped
//! key))` list ([`open_name`]).
//!
//! A rename, or a change of the member list, seals the name again with a
//! fresh `N` and the next revision.

use std::fmt;

use rand_core::TryCryptoRng;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::aead::{self, IV_LEN, KEY_LEN};
use super::sealing::{
    CanonicalRecipients, check_own_entry, own_key, put_field, put_uuid, sorted_members,
    wrap_for_members,
};
use super::sealing::{RecipientDigest, RecipientKey, SignatureVersion};
use super::{CryptoError, Draws, OsRng, PrivateKey, PublicKey, Result, key_from_unwrapped};

/// Domain-separation string, the first field of the signed bytes: a
/// signature over a name can never be replayed as a message signature.
pub const NAME_DOMAIN: &[u8] = b"nanochat/v1 conversation name";
/// Domain-separation string of the keyed bytes (signature version 2).
pub const KEYED_NAME_DOMAIN: &[u8] = b"nanochat/v1 keyed conversation name";

/// The longest accepted name, in Unicode scalar values (not bytes, so that a
/// non-Latin name gets the same room as a Latin one).
pub const MAX_NAME_CHARS: usize = 128;

/// Checks the rules every conversation name obeys: 1 to [`MAX_NAME_CHARS`]
/// Unicode scalar values, no control characters, no leading or trailing
/// whitespace. Fails with [`CryptoError::Malformed`].
///
/// The server cannot see the name, so every client enforces these rules on
/// both sides: when sealing (so honest clients never produce a bad name) and
/// when opening (so a malicious member cannot smuggle terminal escapes or
/// look-alike blank names to the others).
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(CryptoError::Malformed("empty conversation name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(CryptoError::Malformed("conversation name too long"));
    }
    if name.chars().any(char::is_control) {
        return Err(CryptoError::Malformed(
            "control character in conversation name",
        ));
    }
    if name.trim() != name {
        return Err(CryptoError::Malformed(
            "conversation name has leading or trailing whitespace",
        ));
    }
    Ok(())
}

/// A conversation name as the sealer uploads it: everything the server
/// stores.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedName {
    /// Conversation the name belongs to (signed, so the name cannot be moved).
    pub conversation_id: Uuid,
    /// Revision of the name, from 1 (signed, so an old name cannot be
    /// replayed as the current one).
    pub revision: u64,
    /// AES-GCM IV of `ciphertext`.
    pub iv: [u8; IV_LEN],
    /// AES-256-GCM ciphertext of the UTF-8 name under `N`, tag appended.
    pub ciphertext: Vec<u8>,
    /// One wrapped key per member, sorted by username bytes.
    pub recipients: Vec<RecipientKey>,
    /// RSA-PSS signature of the sealer over [`name_signed_bytes_as`].
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers.
    pub version: SignatureVersion,
}

impl SealedName {
    /// The signed recipient list.
    pub fn recipient_digests(&self) -> Vec<RecipientDigest> {
        self.recipients.iter().map(RecipientKey::digest).collect()
    }

    /// The canonical signed bytes of this name.
    pub fn signed_bytes(&self) -> Result<Vec<u8>> {
        name_signed_bytes_as(
            self.version,
            &self.conversation_id,
            self.revision,
            &self.iv,
            &self.ciphertext,
            &self.recipient_digests(),
        )
    }

    /// Checks the sealer's signature (the server may do this on upload).
    pub fn verify_signature(&self, sealer: &PublicKey) -> Result<()> {
        self.version
            .verify(sealer, &self.signed_bytes()?, &self.signature)
    }

    /// What the server returns to reader `username`: its own wrapped key and
    /// the digest list. [`CryptoError::NotARecipient`] if absent.
    pub fn for_reader(&self, username: &str) -> Result<ReceivedName> {
        let own = own_key(&self.recipients, username)?;
        Ok(ReceivedName {
            conversation_id: self.conversation_id,
            revision: self.revision,
            iv: self.iv,
            ciphertext: self.ciphertext.clone(),
            recipients: self.recipient_digests(),
            wrapped_key: own.wrapped_key.clone(),
            signature: self.signature.clone(),
            version: self.version,
        })
    }
}

impl fmt::Debug for SealedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedName")
            .field("conversation_id", &self.conversation_id)
            .field("revision", &self.revision)
            .field("ciphertext_len", &self.ciphertext.len())
            .field("recipients", &self.recipients)
            .finish_non_exhaustive()
    }
}

/// A conversation name as one reader receives it.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceivedName {
    /// Conversation the name belongs to.
    pub conversation_id: Uuid,
    /// Revision of the name.
    pub revision: u64,
    /// AES-GCM IV of `ciphertext`.
    pub iv: [u8; IV_LEN],
    /// Name ciphertext, tag appended.
    pub ciphertext: Vec<u8>,
    /// The full signed recipient list.
    pub recipients: Vec<RecipientDigest>,
    /// `N` wrapped for this reader.
    pub wrapped_key: Vec<u8>,
    /// The sealer's RSA-PSS signature.
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers (for [`SignatureVersion::Keyed`],
    /// the fingerprint of the key the reader verifies with).
    pub version: SignatureVersion,
}

impl ReceivedName {
    /// The canonical signed bytes as the reader reconstructs them.
    pub fn signed_bytes(&self) -> Result<Vec<u8>> {
        name_signed_bytes_as(
            self.version,
            &self.conversation_id,
            self.revision,
            &self.iv,
            &self.ciphertext,
            &self.recipients,
        )
    }
}

impl fmt::Debug for ReceivedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedName")
            .field("conversation_id", &self.conversation_id)
            .field("revision", &self.revision)
            .field("ciphertext_len", &self.ciphertext.len())
            .field("recipients", &self.recipients.len())
            .finish_non_exhaustive()
    }
}

/// The canonical bytes the sealer signs for a conversation name (v1).
///
/// Length-prefixed, no JSON. Every field is its length as a u32 big-endian
/// followed by the bytes, in this order:
///
/// 1. ASCII `nanochat/v1 conversation name`;
/// 2. conversation id: the UUID's canonical lowercase hyphenated string,
///    ASCII (36 bytes);
/// 3. revision: a u64 big-endian (a field of length 8);
/// 4. IV (12 bytes);
/// 5. ciphertext (including the 16-byte tag);
///
/// then the recipient count as a u32 big-endian (no length prefix), then, for
/// each recipient sorted by username bytes ascending:
///
/// 6. username (length-prefixed UTF-8);
/// 7. key digest (length-prefixed, 32 bytes): SHA-256 of the key wrapped for
///    that username.
///
/// The recipient list follows the rules of
/// [`super::content::message_signed_bytes`]: duplicate usernames are
/// [`CryptoError::DuplicateRecipient`], an empty list or an empty username
/// [`CryptoError::Malformed`], and the input order does not matter. Revision
/// 0 is [`CryptoError::Malformed`]: revisions start at 1, so 0 can never
/// pass for a real name.
pub fn name_signed_bytes(
    conversation_id: &Uuid,
    revision: u64,
    iv: &[u8; IV_LEN],
    ciphertext: &[u8],
    recipients: &[RecipientDigest],
) -> Result<Vec<u8>> {
    name_signed_bytes_as(
        SignatureVersion::V1,
        conversation_id,
        revision,
        iv,
        ciphertext,
        recipients,
    )
}

/// The signed bytes of `version`: [`name_signed_bytes`] for version 1; for
/// version 2 (keyed), the same fields with the first replaced by two, ASCII
/// `nanochat/v1 keyed conversation name` and the sealer's key fingerprint
/// (32 bytes).
pub fn name_signed_bytes_as(
    version: SignatureVersion,
    conversation_id: &Uuid,
    revision: u64,
    iv: &[u8; IV_LEN],
    ciphertext: &[u8],
    recipients: &[RecipientDigest],
) -> Result<Vec<u8>> {
    check_revision(revision)?;
    let recipients = CanonicalRecipients::new(recipients)?;
    let mut out = Vec::with_capacity(
        4 * 6
            + 32
            + KEYED_NAME_DOMAIN.len()
            + uuid::fmt::Hyphenated::LENGTH
            + 8
            + IV_LEN
            + ciphertext.len()
            + recipients.encoded_len(),
    );
    version.put_domain(&mut out, NAME_DOMAIN, KEYED_NAME_DOMAIN)?;
    put_uuid(&mut out, conversation_id)?;
    put_field(&mut out, &revision.to_be_bytes())?;
    put_field(&mut out, iv)?;
    put_field(&mut out, ciphertext)?;
    recipients.put(&mut out)?;
    Ok(out)
}

fn check_revision(revision: u64) -> Result<()> {
    if revision == 0 {
        return Err(CryptoError::Malformed("name revision 0"));
    }
    Ok(())
}

/// Seals conversation name `name` at `revision` for `members` (username and
/// public key of every current member, the sealer included), signing with
/// `sealer`, using the OS RNG.
pub fn seal_name(
    sealer: &PrivateKey,
    conversation_id: Uuid,
    revision: u64,
    name: &str,
    members: &[(&str, &PublicKey)],
) -> Result<SealedName> {
    seal_name_from(
        &mut Draws::os(&mut OsRng),
        false,
        sealer,
        conversation_id,
        revision,
        name,
        members,
    )
}

/// [`seal_name`] signing the keyed bytes (signature version 2), which bind
/// the sealer's key: what clients send.
pub fn seal_name_keyed(
    sealer: &PrivateKey,
    conversation_id: Uuid,
    revision: u64,
    name: &str,
    members: &[(&str, &PublicKey)],
) -> Result<SealedName> {
    seal_name_from(
        &mut Draws::os(&mut OsRng),
        true,
        sealer,
        conversation_id,
        revision,
        name,
        members,
    )
}

/// [`seal_name_keyed`] with an explicit RNG (draws as [`seal_name_with_rng`]).
pub fn seal_name_keyed_with_rng<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    sealer: &PrivateKey,
    conversation_id: Uuid,
    revision: u64,
    name: &str,
    members: &[(&str, &PublicKey)],
) -> Result<SealedName> {
    seal_name_from(
        &mut Draws::caller(rng),
        true,
        sealer,
        conversation_id,
        revision,
        name,
        members,
    )
}

/// [`seal_name`] with an explicit RNG. Draw order (for reproducible vectors):
/// `N` (32 bytes), IV (12), then one RSA-OAEP wrap per member in username
/// order, then the PSS signature.
///
/// Fails, before drawing anything, with [`CryptoError::Malformed`] if `name`
/// breaks [`check_name`] or `revision` is 0, [`CryptoError::DuplicateRecipient`]
/// on a repeated username, and [`CryptoError::NotARecipient`] if the sealer's
/// own public key is not among `members`.
pub fn seal_name_with_rng<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    sealer: &PrivateKey,
    conversation_id: Uuid,
    revision: u64,
    name: &str,
    members: &[(&str, &PublicKey)],
) -> Result<SealedName> {
    seal_name_from(
        &mut Draws::caller(rng),
        false,
        sealer,
        conversation_id,
        revision,
        name,
        members,
    )
}

fn seal_name_from<R: TryCryptoRng + ?Sized>(
    draws: &mut Draws<'_, R>,
    keyed: bool,
    sealer: &PrivateKey,
    conversation_id: Uuid,
    revision: u64,
    name: &str,
    members: &[(&str, &PublicKey)],
) -> Result<SealedName> {
    check_name(name)?;
    check_revision(revision)?;
    let sorted = sorted_members(sealer, members)?;

    let mut n = Zeroizing::new([0u8; KEY_LEN]);
    draws.fill(n.as_mut())?;
    let mut iv = [0u8; IV_LEN];
    draws.fill(&mut iv)?;
    let ciphertext = aead::encrypt(&n, &iv, &[], name.as_bytes())?;
    let recipients = wrap_for_members(draws, &n, &sorted)?;
    let mut sealed = SealedName {
        conversation_id,
        revision,
        iv,
        ciphertext,
        recipients,
        signature: Vec::new(),
        version: if keyed {
            SignatureVersion::Keyed(sealer.fingerprint())
        } else {
            SignatureVersion::V1
        },
    };
    let signed = sealed.signed_bytes()?;
    sealed.signature = draws.sign_pss(sealer, &signed)?;
    Ok(sealed)
}

/// Opens a conversation name as reader `reader_username`:
///
/// 1. finds the reader's entry in the signed list and checks that the
///    SHA-256 of the wrapped key it received matches
///    ([`CryptoError::NotARecipient`], [`CryptoError::KeyDigestMismatch`]);
/// 2. verifies the sealer's signature ([`CryptoError::BadSignature`]) —
///    before any private-key operation, so unauthenticated input never
///    reaches RSA decryption;
/// 3. unwraps `N` and decrypts the name ([`CryptoError::Decrypt`]), then
///    checks it is UTF-8 and obeys [`check_name`] ([`CryptoError::Malformed`]):
///    a validly signed name can still come from a member who skipped the
///    rules.
///
/// The caller still decides whether `sealer_key` belongs to a member and
/// whether `revision` is newer than the one it already shows.
pub fn open_name(
    name: &ReceivedName,
    reader_username: &str,
    reader_key: &PrivateKey,
    sealer_key: &PublicKey,
) -> Result<String> {
    check_own_entry(&name.recipients, reader_username, &name.wrapped_key)?;
    name.version
        .verify(sealer_key, &name.signed_bytes()?, &name.signature)?;
    let unwrapped = reader_key.decrypt_oaep(&name.wrapped_key)?;
    let n = key_from_unwrapped(&unwrapped)?;
    let plaintext = aead::decrypt(&n, &name.iv, &[], &name.ciphertext)?;
    let text = String::from_utf8(plaintext)
        .map_err(|_| CryptoError::Malformed("conversation name is not UTF-8"))?;
    check_name(&text)?;
    Ok(text)
}

#[cfg(test)]
mod tests;
