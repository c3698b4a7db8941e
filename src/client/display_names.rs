//! [`DisplayNames`]: the display names this device has seen, per server,
//! so that the history of a conversation stays readable after a sender
//! left it or deleted their account (the server then no longer names
//! them anywhere this reader can ask).
//!
//! Layout: `HOME/names/<server>.json`, a JSON object from username to the
//! display name last seen. Small by design: at most [`MAX_NAMES`] entries,
//! the oldest learned dropped first. A name is a convenience, never a
//! proof: nothing checks it, and it is shown beside the username.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::client::error::ClientError;
use crate::client::files::write_private;

/// Most names kept per server.
pub const MAX_NAMES: usize = 5000;

/// The display names seen on one server.
#[derive(Debug)]
pub struct DisplayNames {
    path: PathBuf,
    file: NamesFile,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct NamesFile {
    /// Username to display name.
    names: BTreeMap<String, String>,
    /// Usernames in the order they were learned or last changed, oldest
    /// first: the first to go when the file is full.
    #[serde(default)]
    order: Vec<String>,
}

impl DisplayNames {
    /// Loads the names in `path`; a missing or unreadable file is an empty
    /// cache (it only ever costs a username shown without its name).
    pub fn open(path: impl Into<PathBuf>) -> DisplayNames {
        let path = path.into();
        let file = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        DisplayNames { path, file }
    }

    /// The display name last seen for `username`.
    pub fn get(&self, username: &str) -> Option<&str> {
        self.file.names.get(username).map(String::as_str)
    }

    /// Learns these (username, display name) pairs; writes the file when
    /// something changed.
    pub fn learn<'n>(
        &mut self,
        pairs: impl IntoIterator<Item = (&'n str, &'n str)>,
    ) -> Result<(), ClientError> {
        let mut changed = false;
        for (username, display_name) in pairs {
            if self.get(username) == Some(display_name) {
                continue;
            }
            self.file
                .names
                .insert(username.to_owned(), display_name.to_owned());
            self.file.order.retain(|u| u != username);
            self.file.order.push(username.to_owned());
            changed = true;
        }
        if !changed {
            return Ok(());
        }
        while self.file.order.len() > MAX_NAMES {
            let oldest = self.file.order.remove(0);
            self.file.names.remove(&oldest);
        }
        write_private(&self.path, &serde_json::to_vec_pretty(&self.file)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_survive_a_reopen_and_follow_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("names").join("server.json");
        let mut names = DisplayNames::open(&path);
        assert_eq!(names.get("alice"), None);
        names.learn([("alice", "Alice"), ("bob", "Bob")]).unwrap();
        names.learn([("alice", "Alice Liddell")]).unwrap();
        let again = DisplayNames::open(&path);
        assert_eq!(again.get("alice"), Some("Alice Liddell"));
        assert_eq!(again.get("bob"), Some("Bob"));
    }
}
