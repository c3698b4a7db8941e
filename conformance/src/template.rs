//! Payload templates: JSON from a case file with `${...}` placeholders and
//! `$`-directives that the runner fills in for each run.
//!
//! Placeholders (a string that is exactly one placeholder becomes the
//! value itself, so numbers and objects keep their type):
//! - `${user:NAME}`: the username this run gave to logical user NAME;
//! - `${token:NAME}`: the complete token of pending user NAME;
//! - `${uuid:NAME}`: a fresh random UUID, the same for every use of NAME;
//! - `${key:NAME}`: the base64 SPKI of fixture key NAME;
//! - `${encrypted_key:NAME}`: fixture key NAME as an `EncryptedPrivateKey`
//!   under the password [`KEY_PASSWORD`], the same object for every use in
//!   a case (so a response can be matched against what was stored);
//! - `${encrypted_key_ring:A,B}`: fixture keys A, B, ... (the last one
//!   current) as a version 2 `EncryptedPrivateKey` (a key ring), the same
//!   object for every use in a case;
//! - `${new_uuid}`: a fresh random UUID at every use (for repeated steps);
//! - `${NAME}`: a value captured by an earlier step.
//!
//! Directives (an object with a single `$` key) are expanded by the runner,
//! because they need keys and fresh cryptography: `$message` and `$name`.

use std::collections::HashMap;

use serde_json::Value;

/// The password `${encrypted_key:NAME}` is encrypted under.
pub const KEY_PASSWORD: &str = "conformance key password";

/// The values placeholders resolve to.
#[derive(Debug, Default)]
pub struct Vars {
    /// Logical user to username.
    pub users: HashMap<String, String>,
    /// Logical pending user to token.
    pub tokens: HashMap<String, String>,
    /// Named fresh UUIDs.
    pub uuids: HashMap<String, String>,
    /// Captured values.
    pub captured: HashMap<String, Value>,
}

impl Vars {
    /// The value of one placeholder body (`user:alice`, `conv`).
    pub fn lookup(&mut self, name: &str) -> Result<Value, String> {
        if let Some(user) = name.strip_prefix("user:") {
            return self
                .users
                .get(user)
                .map(|u| Value::String(u.clone()))
                .ok_or_else(|| format!("no user {user:?} in this case"));
        }
        if let Some(user) = name.strip_prefix("token:") {
            return self
                .tokens
                .get(user)
                .map(|t| Value::String(t.clone()))
                .ok_or_else(|| format!("no pending user {user:?} in this case"));
        }
        if let Some(id) = name.strip_prefix("uuid:") {
            let uuid = self
                .uuids
                .entry(id.to_owned())
                .or_insert_with(|| uuid::Uuid::new_v4().to_string());
            return Ok(Value::String(uuid.clone()));
        }
        if let Some(key) = name.strip_prefix("key:") {
            if let Some(spki) = crate::fixture_refused_spki(key) {
                return Ok(Value::String(spki.to_owned()));
            }
            let pem =
                crate::fixture_key_pem(key).ok_or_else(|| format!("no fixture key {key:?}"))?;
            let key = nanochat::crypto::PrivateKey::from_pkcs8_pem(pem)
                .map_err(|e| format!("fixture key {key}: {e}"))?;
            return Ok(Value::String(key.public_key().to_base64()));
        }
        if name == "new_uuid" {
            return Ok(Value::String(uuid::Uuid::new_v4().to_string()));
        }
        if let Some(list) = name.strip_prefix("encrypted_key_ring:") {
            if let Some(value) = self.captured.get(name) {
                return Ok(value.clone());
            }
            let keys = list
                .split(',')
                .map(|key| {
                    let pem = crate::fixture_key_pem(key)
                        .ok_or_else(|| format!("no fixture key {key:?}"))?;
                    nanochat::crypto::PrivateKey::from_pkcs8_pem(pem)
                        .map_err(|e| format!("fixture key {key}: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if keys.len() < 2 {
                return Err(format!("a key ring names two keys or more, not {list:?}"));
            }
            let ring = nanochat::crypto::KeyRing::from_keys(keys).map_err(|e| e.to_string())?;
            let encrypted =
                nanochat::crypto::EncryptedPrivateKey::encrypt_ring(&ring, KEY_PASSWORD.as_bytes())
                    .map_err(|e| format!("encrypting the key ring {list}: {e}"))?;
            let value = serde_json::to_value(&encrypted).map_err(|e| e.to_string())?;
            self.captured.insert(name.to_owned(), value.clone());
            return Ok(value);
        }
        if let Some(key) = name.strip_prefix("encrypted_key:") {
            if let Some(value) = self.captured.get(name) {
                return Ok(value.clone());
            }
            let pem =
                crate::fixture_key_pem(key).ok_or_else(|| format!("no fixture key {key:?}"))?;
            let private = nanochat::crypto::PrivateKey::from_pkcs8_pem(pem)
                .map_err(|e| format!("fixture key {key}: {e}"))?;
            let encrypted =
                nanochat::crypto::EncryptedPrivateKey::encrypt(&private, KEY_PASSWORD.as_bytes())
                    .map_err(|e| format!("encrypting fixture key {key}: {e}"))?;
            let value = serde_json::to_value(&encrypted).map_err(|e| e.to_string())?;
            self.captured.insert(name.to_owned(), value.clone());
            return Ok(value);
        }
        if let Some(value) = self.captured.get(name) {
            return Ok(value.clone());
        }
        // `NAME+N` / `NAME-N`: a captured integer moved by N.
        if let Some(at) = name.rfind(['+', '-'])
            && let Ok(delta) = name[at..].parse::<i64>()
            && let Some(base) = self.captured.get(&name[..at]).and_then(Value::as_i64)
        {
            return Ok(Value::from(base + delta));
        }
        Err(format!("nothing was captured as {name:?}"))
    }

    /// Fills every placeholder of `template` (directives are left for the
    /// runner, with their own placeholders filled).
    pub fn fill(&mut self, template: &Value) -> Result<Value, String> {
        Ok(match template {
            Value::String(text) => self.fill_text(text)?,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.fill(v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.fill(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }

    fn fill_text(&mut self, text: &str) -> Result<Value, String> {
        if let Some(inner) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}'))
            && !inner.contains("${")
            && !inner.contains('}')
        {
            return self.lookup(inner);
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed placeholder in {text:?}"))?;
            match self.lookup(&after[..end])? {
                Value::String(s) => out.push_str(&s),
                other => out.push_str(&other.to_string()),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Value::String(out))
    }
}

/// The value at a dotted path (`members.0.username`) of `value`.
pub fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() || path == "." {
        return Some(value);
    }
    path.split('.')
        .try_fold(value, |current, part| match current {
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
            Value::Object(map) => map.get(part),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_keep_types_and_compose() {
        let mut vars = Vars::default();
        vars.users.insert("alice".into(), "run1-alice".into());
        vars.captured.insert("n".into(), json!(3));
        let filled = vars
            .fill(&json!({
                "who": "${user:alice}",
                "count": "${n}",
                "text": "hi ${user:alice}, ${n} times",
                "same": ["${uuid:a}", "${uuid:a}"],
            }))
            .unwrap();
        assert_eq!(filled["who"], "run1-alice");
        assert_eq!(filled["count"], 3);
        assert_eq!(filled["text"], "hi run1-alice, 3 times");
        assert_eq!(filled["same"][0], filled["same"][1]);
        assert!(vars.fill(&json!("${user:bob}")).is_err());
        let key = vars.fill(&json!("${encrypted_key:alice}")).unwrap();
        assert_eq!(vars.fill(&json!("${encrypted_key:alice}")).unwrap(), key);
        let encrypted: nanochat::crypto::EncryptedPrivateKey = serde_json::from_value(key).unwrap();
        assert!(encrypted.decrypt(KEY_PASSWORD.as_bytes()).is_ok());
        assert!(vars.fill(&json!("${unclosed")).is_err());
        assert!(vars.fill(&json!("x ${unclosed")).is_err());
    }

    #[test]
    fn dotted_paths() {
        let v = json!({"members": [{"username": "a"}]});
        assert_eq!(at(&v, "members.0.username"), Some(&json!("a")));
        assert_eq!(at(&v, "members.1"), None);
    }
}
