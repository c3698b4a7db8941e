//! The fixture keys, typed: pre-generated PKCS#8 PEM key pairs in
//! `fixtures/keys/`, so no test or benchmark spends seconds generating RSA
//! keys. Every test, bench and case of the workspace names its keys
//! through [`FixtureKey`].

use std::sync::OnceLock;

use nanochat::crypto::PrivateKey;

/// One fixture key pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FixtureKey {
    /// 3072-bit: the server key of the test servers.
    Server,
    /// 3072-bit user key.
    Alice,
    /// 3072-bit user key.
    Bob,
    /// 3072-bit user key.
    Carol,
    /// 2048-bit user key (the smallest size the policy accepts).
    Dave,
    /// 4096-bit user key (the largest).
    Erin,
    /// 1024-bit: refused by the size policy.
    Weak,
    /// 2048-bit with e = 3: refused by the exponent policy.
    Exp3,
}

impl FixtureKey {
    /// Every fixture key.
    pub const ALL: [FixtureKey; 8] = [
        FixtureKey::Server,
        FixtureKey::Alice,
        FixtureKey::Bob,
        FixtureKey::Carol,
        FixtureKey::Dave,
        FixtureKey::Erin,
        FixtureKey::Weak,
        FixtureKey::Exp3,
    ];

    /// Its name in cases and test helpers (`alice`, `weak`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FixtureKey::Server => "server",
            FixtureKey::Alice => "alice",
            FixtureKey::Bob => "bob",
            FixtureKey::Carol => "carol",
            FixtureKey::Dave => "dave",
            FixtureKey::Erin => "erin",
            FixtureKey::Weak => "weak",
            FixtureKey::Exp3 => "exp3",
        }
    }

    /// The key called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<FixtureKey> {
        FixtureKey::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The modulus size in bits.
    pub fn bits(self) -> usize {
        match self {
            FixtureKey::Weak => 1024,
            FixtureKey::Dave | FixtureKey::Exp3 => 2048,
            FixtureKey::Erin => 4096,
            _ => 3072,
        }
    }

    /// Whether the key policy accepts it (all but `Weak` and `Exp3`).
    pub fn is_accepted(self) -> bool {
        !matches!(self, FixtureKey::Weak | FixtureKey::Exp3)
    }

    /// The private key as PKCS#8 PEM.
    pub fn pem(self) -> &'static str {
        match self {
            FixtureKey::Server => include_str!("../fixtures/keys/server-3072.pem"),
            FixtureKey::Alice => include_str!("../fixtures/keys/alice-3072.pem"),
            FixtureKey::Bob => include_str!("../fixtures/keys/bob-3072.pem"),
            FixtureKey::Carol => include_str!("../fixtures/keys/carol-3072.pem"),
            FixtureKey::Dave => include_str!("../fixtures/keys/dave-2048.pem"),
            FixtureKey::Erin => include_str!("../fixtures/keys/erin-4096.pem"),
            FixtureKey::Weak => include_str!("../fixtures/keys/weak-1024.pem"),
            FixtureKey::Exp3 => include_str!("../fixtures/keys/exp3-2048.pem"),
        }
    }

    /// The base64 SPKI of a key [`PrivateKey`] refuses to load (`Weak`,
    /// `Exp3`), so cases can offer it to a server; `None` for the others.
    pub fn refused_spki(self) -> Option<&'static str> {
        let spki = match self {
            FixtureKey::Weak => include_str!("../fixtures/keys/weak.spki.b64"),
            FixtureKey::Exp3 => include_str!("../fixtures/keys/exp3.spki.b64"),
            _ => return None,
        };
        Some(spki.trim())
    }

    /// The parsed private key, parsed once per process.
    ///
    /// # Panics
    /// For `Weak` and `Exp3`, which the key policy refuses (use
    /// [`FixtureKey::pem`] or [`FixtureKey::refused_spki`] for those).
    pub fn private_key(self) -> PrivateKey {
        static PARSED: [OnceLock<PrivateKey>; 8] = [const { OnceLock::new() }; 8];
        let index = FixtureKey::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or_default();
        PARSED[index]
            .get_or_init(|| {
                PrivateKey::from_pkcs8_pem(self.pem())
                    .unwrap_or_else(|e| panic!("fixture key {} does not load: {e}", self.name()))
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_is_a_pkcs8_pem_of_its_size() {
        for key in FixtureKey::ALL {
            assert!(
                key.pem().starts_with("-----BEGIN PRIVATE KEY-----"),
                "{key:?}"
            );
            assert_eq!(FixtureKey::from_name(key.name()), Some(key));
            assert_eq!(key.refused_spki().is_some(), !key.is_accepted(), "{key:?}");
            if key.is_accepted() {
                assert_eq!(key.private_key().public_key().bits(), key.bits(), "{key:?}");
            } else {
                assert!(PrivateKey::from_pkcs8_pem(key.pem()).is_err(), "{key:?}");
            }
        }
        assert_eq!(FixtureKey::from_name("mallory"), None);
    }
}
