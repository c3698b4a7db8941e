//! [`Username`]: a protocol username, validated once where it enters (a
//! request Body, the operator CLI, a stored row) so that code further in
//! cannot hold an invalid one.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A username: 1 to 32 of `a-z 0-9 . _ -`, starting with a letter or digit.
///
/// Deserialising checks the rule (`#[serde(try_from = "String")]`), so a
/// struct with a `Username` field cannot be read from JSON with a bad one.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

/// A string that breaks [`Username::RULE`]; displays the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid username {0:?}: {rule}", rule = Username::RULE)]
pub struct InvalidUsername(pub String);

impl Username {
    /// What a username may be, for error messages.
    pub const RULE: &'static str = "a username is 1 to 32 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit";

    /// Whether `name` follows [`Username::RULE`].
    pub fn is_valid(name: &str) -> bool {
        (1..=32).contains(&name.len())
            && name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for Username {
    type Error = InvalidUsername;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        if Self::is_valid(&name) {
            Ok(Self(name))
        } else {
            Err(InvalidUsername(name))
        }
    }
}

impl TryFrom<&str> for Username {
    type Error = InvalidUsername;

    fn try_from(name: &str) -> Result<Self, Self::Error> {
        Self::try_from(name.to_owned())
    }
}

impl FromStr for Username {
    type Err = InvalidUsername;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::try_from(name)
    }
}

impl From<Username> for String {
    fn from(name: Username) -> Self {
        name.0
    }
}

impl Deref for Username {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Username {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Username {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Username {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Username {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<Username> for String {
    fn eq(&self, other: &Username) -> bool {
        *self == other.0
    }
}

impl PartialEq<Username> for &str {
    fn eq(&self, other: &Username) -> bool {
        *self == other.0
    }
}

impl PartialEq<Username> for str {
    fn eq(&self, other: &Username) -> bool {
        self == other.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_holds_wherever_a_username_is_made() {
        for good in ["alice", "a.b-c_9", "9lives", &"a".repeat(32)] {
            assert!(Username::try_from(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "Alice",
            ".alice",
            "-a",
            "_a",
            "a b",
            "ä",
            &"a".repeat(33),
        ] {
            let err = Username::try_from(bad).unwrap_err();
            assert_eq!(err.0, bad);
            assert!(err.to_string().contains(Username::RULE));
        }
    }

    #[test]
    fn serde_refuses_an_invalid_name() {
        let name: Username = serde_json::from_str("\"bob\"").unwrap();
        assert_eq!(name, "bob");
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"bob\"");
        let err = serde_json::from_str::<Username>("\"Bob\"").unwrap_err();
        assert!(err.to_string().contains("invalid username"), "{err}");
    }
}
