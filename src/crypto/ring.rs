//! A user's key ring: the current private key and every earlier one the
//! user still holds, oldest first, so that content and names wrapped for an
//! earlier key still open after a rotation (api.yml, "Key history").
//!
//! Ring bytes (the plaintext of `EncryptedPrivateKey` version 2): the
//! number of keys as a u32 big-endian, then each key's PKCS#8 DER as a u32
//! big-endian length followed by the bytes, oldest first; the last key is
//! the current one.

use std::fmt;

use zeroize::Zeroizing;

use super::{CryptoError, Fingerprint, PrivateKey, Result};

/// Most keys a ring holds.
pub const MAX_RING_KEYS: usize = 256;
/// Largest PKCS#8 DER a ring accepts for one key.
pub const MAX_RING_KEY_BYTES: usize = 16_384;

/// The current private key and the earlier ones, oldest first. Never empty.
/// `Debug` shows fingerprints only.
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<PrivateKey>,
}

impl KeyRing {
    /// A ring holding one key.
    pub fn single(key: PrivateKey) -> Self {
        KeyRing { keys: vec![key] }
    }

    /// A ring of `keys`, oldest first; the last is current. A key that
    /// appears twice is kept once (its first place). Empty or over
    /// [`MAX_RING_KEYS`] is [`CryptoError::Malformed`].
    pub fn from_keys(keys: Vec<PrivateKey>) -> Result<Self> {
        let mut unique: Vec<PrivateKey> = Vec::with_capacity(keys.len());
        for key in keys {
            if !unique.iter().any(|k| k.fingerprint() == key.fingerprint()) {
                unique.push(key);
            }
        }
        if unique.is_empty() {
            return Err(CryptoError::Malformed("an empty key ring"));
        }
        if unique.len() > MAX_RING_KEYS {
            return Err(CryptoError::Malformed("too many keys in a key ring"));
        }
        Ok(KeyRing { keys: unique })
    }

    /// The current key (the last one).
    pub fn current(&self) -> &PrivateKey {
        // Never empty by construction.
        &self.keys[self.keys.len() - 1]
    }

    /// Every key, oldest first.
    pub fn keys(&self) -> &[PrivateKey] {
        &self.keys
    }

    /// How many keys the ring holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a ring holds at least one key.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The key with `fingerprint`, if the ring holds it.
    pub fn find(&self, fingerprint: &Fingerprint) -> Option<&PrivateKey> {
        self.keys.iter().find(|k| k.fingerprint() == *fingerprint)
    }

    /// This ring with `key` as the new current key (after a rotation).
    pub fn rotated(&self, key: PrivateKey) -> Result<Self> {
        let mut keys: Vec<PrivateKey> = self
            .keys
            .iter()
            .filter(|k| k.fingerprint() != key.fingerprint())
            .cloned()
            .collect();
        keys.push(key);
        Self::from_keys(keys)
    }

    /// Every key of `self` and of `other`, `self`'s current key staying
    /// current (a key file or a server copy merged into what a device has).
    pub fn merged(&self, other: &KeyRing) -> Result<Self> {
        let mut keys: Vec<PrivateKey> = other
            .keys
            .iter()
            .filter(|k| self.find(&k.fingerprint()).is_none())
            .cloned()
            .collect();
        keys.extend(self.keys.iter().cloned());
        Self::from_keys(keys)
    }

    /// The ring bytes, wiped on drop.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        let mut out = Zeroizing::new(Vec::new());
        out.extend_from_slice(&(self.keys.len() as u32).to_be_bytes());
        for key in &self.keys {
            let der = key.to_pkcs8_der()?;
            out.extend_from_slice(&(der.len() as u32).to_be_bytes());
            out.extend_from_slice(&der);
        }
        Ok(out)
    }

    /// Parses ring bytes: [`CryptoError::Malformed`] for a wrong count, a
    /// truncated or oversized key, trailing bytes or an empty ring; each key
    /// goes through the PKCS#8 import and its size policy.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut rest = bytes;
        let count = take_u32(&mut rest)? as usize;
        if count == 0 || count > MAX_RING_KEYS {
            return Err(CryptoError::Malformed("key ring count out of range"));
        }
        let mut keys = Vec::with_capacity(count);
        for _ in 0..count {
            let len = take_u32(&mut rest)? as usize;
            if len > MAX_RING_KEY_BYTES || len > rest.len() {
                return Err(CryptoError::Malformed("key ring entry length"));
            }
            let (der, tail) = rest.split_at(len);
            keys.push(PrivateKey::from_pkcs8_der(der)?);
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(CryptoError::Malformed("trailing bytes after the key ring"));
        }
        Self::from_keys(keys)
    }
}

fn take_u32(rest: &mut &[u8]) -> Result<u32> {
    if rest.len() < 4 {
        return Err(CryptoError::Malformed("truncated key ring"));
    }
    let (head, tail) = rest.split_at(4);
    *rest = tail;
    Ok(u32::from_be_bytes([head[0], head[1], head[2], head[3]]))
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| k.fingerprint().to_string()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PrivateKey {
        let pem = match name {
            "alice" => include_str!("../../conformance/fixtures/keys/alice-3072.pem"),
            "bob" => include_str!("../../conformance/fixtures/keys/bob-3072.pem"),
            _ => include_str!("../../conformance/fixtures/keys/carol-3072.pem"),
        };
        PrivateKey::from_pkcs8_pem(pem).unwrap()
    }

    #[test]
    fn a_ring_round_trips_and_finds_keys_by_fingerprint() {
        let (a, b, c) = (fixture("alice"), fixture("bob"), fixture("carol"));
        let ring = KeyRing::single(a.clone()).rotated(b.clone()).unwrap();
        assert_eq!(ring.current().fingerprint(), b.fingerprint());
        let back = KeyRing::from_bytes(&ring.to_bytes().unwrap()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back.keys()[0].fingerprint(), a.fingerprint());
        assert!(back.find(&a.fingerprint()).is_some());
        assert!(back.find(&c.fingerprint()).is_none());
        // Merging keeps the receiver's current key current.
        let merged = KeyRing::single(c.clone()).merged(&back).unwrap();
        assert_eq!(merged.len(), 3);
        assert_eq!(merged.current().fingerprint(), c.fingerprint());
        // A repeated key is kept once.
        assert_eq!(KeyRing::from_keys(vec![a.clone(), a]).unwrap().len(), 1);
    }

    #[test]
    fn malformed_ring_bytes_are_refused() {
        let ring = KeyRing::single(fixture("alice"));
        let bytes = ring.to_bytes().unwrap();
        for bad in [
            &bytes[..3],
            &bytes[..bytes.len() - 1],
            &[0, 0, 0, 0][..],
            &[0, 0, 1, 1, 0, 0, 0, 0][..],
        ] {
            assert!(KeyRing::from_bytes(bad).is_err());
        }
        let mut trailing = bytes.to_vec();
        trailing.push(0);
        assert!(KeyRing::from_bytes(&trailing).is_err());
        assert!(KeyRing::from_keys(Vec::new()).is_err());
    }
}
