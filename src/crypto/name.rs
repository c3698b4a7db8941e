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
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::crypto::sha256;

    // Fixture keys, parsed once per test binary: generating RSA keys per test
    // would take seconds.
    fn fixture(cell: &'static OnceLock<PrivateKey>, pem: &str) -> PrivateKey {
        cell.get_or_init(|| PrivateKey::from_pkcs8_pem(pem).expect("fixture key"))
            .clone()
    }
    fn alice() -> PrivateKey {
        static K: OnceLock<PrivateKey> = OnceLock::new();
        fixture(
            &K,
            include_str!("../../conformance/fixtures/keys/alice-3072.pem"),
        )
    }
    fn bob() -> PrivateKey {
        static K: OnceLock<PrivateKey> = OnceLock::new();
        fixture(
            &K,
            include_str!("../../conformance/fixtures/keys/bob-3072.pem"),
        )
    }
    fn carol() -> PrivateKey {
        static K: OnceLock<PrivateKey> = OnceLock::new();
        fixture(
            &K,
            include_str!("../../conformance/fixtures/keys/carol-3072.pem"),
        )
    }
    fn dave() -> PrivateKey {
        static K: OnceLock<PrivateKey> = OnceLock::new();
        fixture(
            &K,
            include_str!("../../conformance/fixtures/keys/dave-2048.pem"),
        )
    }

    const CONV: Uuid = Uuid::from_u128(0x6f1c_2d3e_4a5b_4c6d_8e7f_0a1b_2c3d_4e5f);

    fn members() -> Vec<(&'static str, PrivateKey)> {
        vec![("alice", alice()), ("bob", bob()), ("carol", carol())]
    }

    fn sealed(name: &str) -> (SealedName, Vec<(&'static str, PrivateKey)>) {
        let m = members();
        let pubs: Vec<(&str, &PublicKey)> = m.iter().map(|(u, k)| (*u, k.public_key())).collect();
        (seal_name(&alice(), CONV, 1, name, &pubs).unwrap(), m)
    }

    fn open_as_bob(r: &ReceivedName) -> Result<String> {
        open_name(r, "bob", &bob(), alice().public_key())
    }

    #[test]
    fn round_trip_for_every_member() {
        let (s, m) = sealed("Team ✓ planning");
        let names: Vec<&str> = s.recipients.iter().map(|r| r.username.as_str()).collect();
        assert_eq!(names, ["alice", "bob", "carol"]);
        s.verify_signature(alice().public_key()).unwrap();
        for (user, key) in &m {
            let r = s.for_reader(user).unwrap();
            assert_eq!(
                open_name(&r, user, key, alice().public_key()).unwrap(),
                "Team ✓ planning"
            );
        }
    }

    #[test]
    fn a_removed_member_cannot_read() {
        let (s, _) = sealed("after dave left");
        assert_eq!(s.for_reader("dave"), Err(CryptoError::NotARecipient));
        // Even with bob's view in hand, dave is not in the signed list.
        let r = s.for_reader("bob").unwrap();
        assert_eq!(
            open_name(&r, "dave", &dave(), alice().public_key()),
            Err(CryptoError::NotARecipient)
        );
    }

    #[test]
    fn tampering_is_detected() {
        let (s, _) = sealed("secret plans");
        let base = s.for_reader("bob").unwrap();
        assert_eq!(open_as_bob(&base).unwrap(), "secret plans");

        let mut r = base.clone();
        r.ciphertext[0] ^= 1;
        assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
        let mut r = base.clone();
        r.iv[11] ^= 1;
        assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
        let mut r = base.clone();
        r.conversation_id = Uuid::from_u128(7);
        assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
        let mut r = base.clone();
        r.revision = 2;
        assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
        // Hiding from bob that carol can read the name.
        let mut r = base.clone();
        r.recipients.retain(|d| d.username != "carol");
        assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
        // The server hands bob carol's wrapped key.
        let mut r = base.clone();
        r.wrapped_key = s.for_reader("carol").unwrap().wrapped_key;
        assert_eq!(open_as_bob(&r), Err(CryptoError::KeyDigestMismatch));
        // Signed by carol (a member), checked against alice, the claimed sealer.
        let m = members();
        let pubs: Vec<(&str, &PublicKey)> = m.iter().map(|(u, k)| (*u, k.public_key())).collect();
        let by_carol = seal_name(&carol(), CONV, 1, "secret plans", &pubs).unwrap();
        assert_eq!(
            open_as_bob(&by_carol.for_reader("bob").unwrap()),
            Err(CryptoError::BadSignature)
        );
        // A signature taken from carol's sealing and pasted onto alice's.
        let mut r = base.clone();
        r.signature = by_carol.signature.clone();
        assert_eq!(open_as_bob(&r), Err(CryptoError::BadSignature));
    }

    #[test]
    fn name_rules() {
        for bad in [
            "",
            &"x".repeat(MAX_NAME_CHARS + 1),
            "tab\there",
            "bell\u{7}",
            "del\u{7f}",
            "\u{85}next line",
            " leading",
            "trailing\u{a0}",
            "\u{3000}ideographic space",
        ] {
            assert!(
                matches!(check_name(bad), Err(CryptoError::Malformed(_))),
                "{bad:?}"
            );
        }
        for good in [
            "x".repeat(MAX_NAME_CHARS),
            "é".repeat(MAX_NAME_CHARS), // 256 bytes, 128 chars
            "Ωμάδα ☕ 日本語".to_owned(),
            "inner  spaces".to_owned(),
        ] {
            check_name(&good).unwrap();
        }
    }

    #[test]
    fn bad_names_are_refused_both_ways() {
        let m = members();
        let pubs: Vec<(&str, &PublicKey)> = m.iter().map(|(u, k)| (*u, k.public_key())).collect();
        for bad in ["", " x", "a\nb"] {
            assert!(matches!(
                seal_name(&alice(), CONV, 1, bad, &pubs),
                Err(CryptoError::Malformed(_))
            ));
        }
        assert!(matches!(
            seal_name(&alice(), CONV, 0, "ok", &pubs),
            Err(CryptoError::Malformed(_))
        ));
        // A member who bypasses seal_name's checks: validly signed, still
        // refused on open. The same for bytes that are not UTF-8.
        for plaintext in [&b" padded"[..], b"\xff\xfe"] {
            let n = [7u8; KEY_LEN];
            let iv = [9u8; IV_LEN];
            let ciphertext = aead::encrypt(&n, &iv, &[], plaintext).unwrap();
            let wrapped_key = bob().public_key().encrypt_oaep(&n).unwrap();
            let recipients = vec![
                RecipientDigest {
                    username: "alice".into(),
                    key_digest: [0; 32],
                },
                RecipientDigest {
                    username: "bob".into(),
                    key_digest: sha256(&wrapped_key),
                },
            ];
            let signed = name_signed_bytes(&CONV, 1, &iv, &ciphertext, &recipients).unwrap();
            let r = ReceivedName {
                conversation_id: CONV,
                revision: 1,
                iv,
                ciphertext,
                recipients,
                wrapped_key,
                signature: alice().sign_pss(&signed).unwrap(),
                version: SignatureVersion::V1,
            };
            assert!(
                matches!(open_as_bob(&r), Err(CryptoError::Malformed(_))),
                "{plaintext:?}"
            );
        }
    }

    #[test]
    fn sealing_rules() {
        let (a, b) = (alice(), bob());
        assert_eq!(
            seal_name(
                &a,
                CONV,
                1,
                "x",
                &[("alice", a.public_key()), ("alice", b.public_key())]
            ),
            Err(CryptoError::DuplicateRecipient)
        );
        assert_eq!(
            seal_name(&a, CONV, 1, "x", &[("bob", b.public_key())]),
            Err(CryptoError::NotARecipient)
        );
    }

    #[test]
    fn canonical_bytes_sort_recipients() {
        let d = |u: &str, b: u8| RecipientDigest {
            username: u.into(),
            key_digest: [b; 32],
        };
        let iv = [0xaa; IV_LEN];
        let forward = [d("Zed", 1), d("bob", 2), d("carol", 3)];
        let backward = [d("carol", 3), d("bob", 2), d("Zed", 1)];
        let got = name_signed_bytes(&CONV, 258, &iv, b"CT", &forward).unwrap();
        assert_eq!(
            got,
            name_signed_bytes(&CONV, 258, &iv, b"CT", &backward).unwrap()
        );
        let mut want = Vec::new();
        let mut field = |v: &[u8]| {
            want.extend_from_slice(&u32::try_from(v.len()).unwrap().to_be_bytes());
            want.extend_from_slice(v);
        };
        field(b"nanochat/v1 conversation name");
        field(b"6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f");
        field(&[0, 0, 0, 0, 0, 0, 1, 2]);
        field(&iv);
        field(b"CT");
        want.extend_from_slice(&3u32.to_be_bytes());
        for (u, b) in [("Zed", 1u8), ("bob", 2), ("carol", 3)] {
            want.extend_from_slice(&u32::try_from(u.len()).unwrap().to_be_bytes());
            want.extend_from_slice(u.as_bytes());
            want.extend_from_slice(&32u32.to_be_bytes());
            want.extend_from_slice(&[b; 32]);
        }
        assert_eq!(got, want);

        assert_eq!(
            name_signed_bytes(&CONV, 1, &iv, b"", &[d("x", 0), d("x", 1)]),
            Err(CryptoError::DuplicateRecipient)
        );
        for bad in [&[][..], &[d("", 0)][..]] {
            assert!(matches!(
                name_signed_bytes(&CONV, 1, &iv, b"", bad),
                Err(CryptoError::Malformed(_))
            ));
        }
        assert!(matches!(
            name_signed_bytes(&CONV, 0, &iv, b"", &forward),
            Err(CryptoError::Malformed(_))
        ));
    }

    #[test]
    fn debug_hides_the_ciphertext() {
        let (s, _) = sealed("quiet");
        let r = s.for_reader("bob").unwrap();
        let shown = format!("{s:?} {r:?}");
        assert!(shown.contains("ciphertext_len"), "{shown}");
        assert!(!shown.contains(&format!("{:?}", s.ciphertext)), "{shown}");
        assert!(!shown.contains(&format!("{:?}", r.wrapped_key)), "{shown}");
    }
}
