//! Key succession: what a rotation signs so that anyone can follow a user's
//! keys from one to the next (api.yml, "Key history").
//!
//! The previous private key signs the succession bytes (it vouches for its
//! successor) and the new private key signs the same bytes (proof of
//! possession). [`Succession`] builds both signatures; [`verify_link`]
//! checks one link of a history.

use super::{CryptoError, PrivateKey, PublicKey, Result};

/// Domain separation for the succession bytes.
pub const KEY_SUCCESSION_LABEL: &[u8] = b"nanochat/v1 key succession";

/// The bytes both keys of a rotation sign (RSA-PSS): five fields, each a
/// 4-byte big-endian length followed by the bytes: the ASCII label
/// `nanochat/v1 key succession`, the username (UTF-8), the new key's index
/// (8-byte big-endian), the previous public key and the new public key
/// (SubjectPublicKeyInfo DER).
pub fn key_succession_bytes(
    username: &str,
    index: u64,
    previous_public_key_der: &[u8],
    new_public_key_der: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        20 + KEY_SUCCESSION_LABEL.len()
            + username.len()
            + 8
            + previous_public_key_der.len()
            + new_public_key_der.len(),
    );
    for field in [
        KEY_SUCCESSION_LABEL,
        username.as_bytes(),
        &index.to_be_bytes(),
        previous_public_key_der,
        new_public_key_der,
    ] {
        // Keys and usernames are far below 4 GiB; the length always fits.
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

/// The two signatures of a rotation from `previous` to `new` as the key at
/// `index` of `username`'s history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Succession {
    /// RSA-PSS by the previous private key over the succession bytes.
    pub succession_signature: Vec<u8>,
    /// RSA-PSS by the new private key over the same bytes.
    pub public_key_signature: Vec<u8>,
}

impl Succession {
    /// Signs the succession bytes with both keys.
    pub fn sign(
        username: &str,
        index: u64,
        previous: &PrivateKey,
        new: &PrivateKey,
    ) -> Result<Self> {
        let bytes = key_succession_bytes(
            username,
            index,
            previous.public_key().to_spki_der(),
            new.public_key().to_spki_der(),
        );
        Ok(Succession {
            succession_signature: previous.sign_pss(&bytes)?,
            public_key_signature: new.sign_pss(&bytes)?,
        })
    }
}

/// Checks one link of a key history: `new` at `index` succeeds `previous`
/// when `succession_signature` verifies with `previous` and
/// `public_key_signature` with `new`, both over the succession bytes.
/// [`CryptoError::BadSignature`] otherwise.
pub fn verify_link(
    username: &str,
    index: u64,
    previous: &PublicKey,
    new: &PublicKey,
    succession_signature: &[u8],
    public_key_signature: &[u8],
) -> Result<()> {
    if index == 0 {
        return Err(CryptoError::Malformed("the first key has no predecessor"));
    }
    let bytes = key_succession_bytes(username, index, previous.to_spki_der(), new.to_spki_der());
    previous.verify_pss(&bytes, succession_signature)?;
    new.verify_pss(&bytes, public_key_signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_length_prefixed() {
        let bytes = key_succession_bytes("al", 1, &[7], &[9]);
        let mut expected = vec![0, 0, 0, 26];
        expected.extend_from_slice(KEY_SUCCESSION_LABEL);
        expected.extend_from_slice(&[0, 0, 0, 2, b'a', b'l']);
        expected.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
        expected.extend_from_slice(&[0, 0, 0, 1, 7, 0, 0, 0, 1, 9]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn a_link_verifies_only_with_both_keys_the_index_and_the_username() {
        let alice = PrivateKey::from_pkcs8_pem(include_str!(
            "../../conformance/fixtures/keys/alice-3072.pem"
        ))
        .unwrap();
        let bob = PrivateKey::from_pkcs8_pem(include_str!(
            "../../conformance/fixtures/keys/bob-3072.pem"
        ))
        .unwrap();
        let link = Succession::sign("alice", 1, &alice, &bob).unwrap();
        let check =
            |username: &str, index, previous: &PrivateKey, new: &PrivateKey, s: &Succession| {
                verify_link(
                    username,
                    index,
                    previous.public_key(),
                    new.public_key(),
                    &s.succession_signature,
                    &s.public_key_signature,
                )
            };
        assert_eq!(check("alice", 1, &alice, &bob, &link), Ok(()));
        assert!(check("alice", 2, &alice, &bob, &link).is_err(), "index");
        assert!(check("alicf", 1, &alice, &bob, &link).is_err(), "username");
        assert!(check("alice", 1, &bob, &alice, &link).is_err(), "swapped");
        let swapped = Succession {
            succession_signature: link.public_key_signature.clone(),
            public_key_signature: link.succession_signature.clone(),
        };
        assert!(
            check("alice", 1, &alice, &bob, &swapped).is_err(),
            "signatures swapped"
        );
        // Only the new key's proof: the old key did not vouch.
        let forged = Succession {
            succession_signature: bob
                .sign_pss(&key_succession_bytes(
                    "alice",
                    1,
                    alice.public_key().to_spki_der(),
                    bob.public_key().to_spki_der(),
                ))
                .unwrap(),
            public_key_signature: link.public_key_signature.clone(),
        };
        assert!(
            check("alice", 1, &alice, &bob, &forged).is_err(),
            "forged vouching"
        );
        assert!(check("alice", 0, &alice, &bob, &link).is_err(), "index 0");
    }
}
