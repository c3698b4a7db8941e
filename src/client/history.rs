//! A user's key history as a reader verifies it (api.yml, "Key history"):
//! from a key the reader pinned, forward along each rotation and backward
//! to the keys before it, every link checked with both of its signatures.
//! The keys so reached are the user's [`TrustedChain`]; anything beyond a
//! chain start (an operator reset, a re-complete) is an unexplained change.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use crate::crypto::{Fingerprint, PublicKey, verify_link};
use crate::models::{KeyHistory, KeyRecord};

/// Why a history is refused. Each is the server's fault (or an attacker's
/// in front of it): a reader shows none of the user's content as verified
/// through it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// The history is empty, for another user, or its entries skip, repeat
    /// or reorder an index, or a retired entry has no `until`.
    #[error("the key history of {0} is malformed: {1}")]
    Malformed(String, String),
    /// The entry at the pinned index is not the pinned key: the server
    /// rewrote the history.
    #[error(
        "the key history of {user} does not hold the pinned key {fingerprint} at index {index}"
    )]
    PinMissing {
        /// Whose history.
        user: String,
        /// The pinned index.
        index: i64,
        /// The pinned fingerprint.
        fingerprint: String,
    },
    /// A link's signatures do not verify (a forged or dropped proof, an
    /// invented predecessor, a swapped key).
    #[error("the key history of {0} has a link that does not verify, at index {1}")]
    BadLink(String, i64),
    /// A key in the history does not parse.
    #[error("the key history of {0} holds an unreadable key at index {1}")]
    BadKey(String, i64),
}

/// One key of a trusted chain.
#[derive(Debug, Clone)]
pub struct ChainKey {
    /// The key.
    pub key: PublicKey,
    /// When it became current.
    pub since: OffsetDateTime,
    /// When it stopped being current, if it has.
    pub until: Option<OffsetDateTime>,
}

/// The keys of one user that a reader trusts: the pinned key and every key
/// linked to it by verified successions, by index.
#[derive(Debug, Clone)]
pub struct TrustedChain {
    username: String,
    keys: BTreeMap<i64, ChainKey>,
    /// The indexes whose link to the key before was verified: rotations.
    links: BTreeSet<i64>,
    /// The index of the user's current key, whether trusted or not.
    current: Option<i64>,
}

impl TrustedChain {
    /// Whose chain.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The trusted key at `index`, if the chain reaches it.
    pub fn key(&self, index: i64) -> Option<&ChainKey> {
        self.keys.get(&index)
    }

    /// The newest trusted key and its index.
    pub fn newest(&self) -> Option<(i64, &ChainKey)> {
        self.keys.iter().next_back().map(|(i, k)| (*i, k))
    }

    /// The oldest trusted index.
    pub fn oldest(&self) -> Option<i64> {
        self.keys.keys().next().copied()
    }

    /// Whether the user's current key is trusted: false after an
    /// unexplained change (a chain start after the pinned key), or while
    /// the user is pending.
    pub fn current_is_trusted(&self) -> bool {
        self.current.is_some_and(|c| self.keys.contains_key(&c))
    }

    /// The index of the user's current key, if they have one.
    pub fn current_index(&self) -> Option<i64> {
        self.current
    }

    /// The trusted indexes.
    pub fn indexes(&self) -> impl Iterator<Item = i64> + '_ {
        self.keys.keys().copied()
    }

    /// Whether the key at `index` is a rotation this reader verified: the
    /// key at `index - 1` vouched for it, and both are in the chain. A
    /// trusted key that is not is a chain start (the first key, or one set
    /// after an operator reset and accepted by the person).
    pub fn is_rotation(&self, index: i64) -> bool {
        self.links.contains(&index)
    }

    /// Adds the keys of `other`, a chain of the same user verified from
    /// another key the reader pinned before (an earlier chain whose keys
    /// stay trusted after the person accepted an unexplained change).
    pub fn absorb(&mut self, other: TrustedChain) {
        if other.username == self.username {
            for (index, key) in other.keys {
                self.keys.entry(index).or_insert(key);
            }
            self.links.extend(other.links);
        }
    }
}

/// Verifies `history` from the key pinned at `pinned_index` with
/// `pinned`, in api.yml's order: the shape, the pinned entry, then each
/// link forward until a chain start, and backward from the pinned entry
/// until a chain start.
pub fn verify(
    history: &KeyHistory,
    pinned_index: i64,
    pinned: &Fingerprint,
) -> Result<TrustedChain, HistoryError> {
    let user = history.username.clone();
    let entries = check_shape(history)?;
    let position = entries
        .iter()
        .position(|e| e.index == pinned_index)
        .filter(|&p| Fingerprint::of_spki_der(&entries[p].public_key) == *pinned)
        .ok_or_else(|| HistoryError::PinMissing {
            user: user.clone(),
            index: pinned_index,
            fingerprint: pinned.to_string(),
        })?;
    let keys: Vec<PublicKey> = entries
        .iter()
        .map(|e| {
            PublicKey::from_spki_der(&e.public_key)
                .map_err(|_| HistoryError::BadKey(user.clone(), e.index))
        })
        .collect::<Result<_, _>>()?;
    let mut trusted = BTreeMap::new();
    let mut links = BTreeSet::new();
    let chain_key = |i: usize| ChainKey {
        key: keys[i].clone(),
        since: entries[i].since,
        until: entries[i].until,
    };
    trusted.insert(entries[position].index, chain_key(position));
    // Forward: each later entry with a succession proof follows its
    // predecessor; a chain start ends the walk.
    for i in position + 1..entries.len() {
        if !is_successor(entries[i]) {
            break;
        }
        check_link(&user, entries[i], &keys[i - 1], &keys[i])?;
        trusted.insert(entries[i].index, chain_key(i));
        links.insert(entries[i].index);
    }
    // Backward: the pinned entry and each earlier one vouch for their
    // predecessor while they are successors.
    let mut i = position;
    while i > 0 && is_successor(entries[i]) {
        check_link(&user, entries[i], &keys[i - 1], &keys[i])?;
        trusted.insert(entries[i - 1].index, chain_key(i - 1));
        links.insert(entries[i].index);
        i -= 1;
    }
    let current = entries
        .last()
        .filter(|e| e.until.is_none())
        .map(|e| e.index);
    Ok(TrustedChain {
        username: user,
        keys: trusted,
        links,
        current,
    })
}

/// How a key of a history came to be, as a reader can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// A rotation: the key at `signed_by` (the one before) vouched for it,
    /// and this reader verified both signatures of the link.
    Rotation {
        /// The index of the previous key, which signed the succession.
        signed_by: i64,
    },
    /// A chain start: the user's first key, or one set by completing
    /// again after an operator reset. Nothing the user signed before
    /// vouches for it.
    ChainStart,
    /// It carries a succession proof this reader did not check: it lies
    /// beyond a chain start after the pinned key, outside the trusted
    /// chain.
    Unchecked,
}

/// One entry of a user's key history as a reader shows it to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyView {
    /// The entry's index.
    pub index: i64,
    /// The key's fingerprint (computed from the key, not the server's
    /// spelling).
    pub fingerprint: Fingerprint,
    /// When it became current.
    pub since: OffsetDateTime,
    /// When it stopped being current; `None` for the current key.
    pub until: Option<OffsetDateTime>,
    /// Whether the key is in the reader's trusted chain of the user.
    pub trusted: bool,
    /// A verified rotation, a chain start, or unchecked.
    pub origin: KeyOrigin,
}

/// `history`'s entries, oldest first, each marked with whether `chain`
/// (verified from that same history) trusts it and how it came to be: what
/// a client shows when a person asks about a contact's keys.
pub fn view(history: &KeyHistory, chain: &TrustedChain) -> Vec<KeyView> {
    history
        .keys
        .iter()
        .map(|entry| {
            let fingerprint = Fingerprint::of_spki_der(&entry.public_key);
            let trusted = chain
                .key(entry.index)
                .is_some_and(|k| k.key.fingerprint() == fingerprint);
            let origin = if !is_successor(entry) {
                KeyOrigin::ChainStart
            } else if trusted && chain.is_rotation(entry.index) {
                KeyOrigin::Rotation {
                    signed_by: entry.index - 1,
                }
            } else {
                KeyOrigin::Unchecked
            };
            KeyView {
                index: entry.index,
                fingerprint,
                since: entry.since,
                until: entry.until,
                trusted,
                origin,
            }
        })
        .collect()
}

/// The current entry of `history` (its last, if it has no `until`): what
/// a reader pins on first use.
pub fn current_entry(history: &KeyHistory) -> Option<&KeyRecord> {
    history.keys.last().filter(|e| e.until.is_none())
}

fn is_successor(entry: &KeyRecord) -> bool {
    entry.succession_signature.is_some() || entry.public_key_signature.is_some()
}

fn check_link(
    user: &str,
    entry: &KeyRecord,
    previous: &PublicKey,
    key: &PublicKey,
) -> Result<(), HistoryError> {
    let bad = || HistoryError::BadLink(user.to_owned(), entry.index);
    let (Some(succession), Some(possession)) =
        (&entry.succession_signature, &entry.public_key_signature)
    else {
        return Err(bad());
    };
    let index = u64::try_from(entry.index).map_err(|_| bad())?;
    verify_link(user, index, previous, key, succession, possession).map_err(|_| bad())
}

/// The entries, checked: at least one, consecutive indexes from the first,
/// non-negative, `until` on every entry but the last.
fn check_shape(history: &KeyHistory) -> Result<Vec<&KeyRecord>, HistoryError> {
    let malformed = |why: &str| HistoryError::Malformed(history.username.clone(), why.to_owned());
    let entries: Vec<&KeyRecord> = history.keys.iter().collect();
    let Some(first) = entries.first() else {
        return Err(malformed("it has no entry"));
    };
    if first.index < 0 {
        return Err(malformed("a negative index"));
    }
    for pair in entries.windows(2) {
        if pair[1].index != pair[0].index + 1 {
            return Err(malformed(&format!(
                "index {} follows index {}",
                pair[1].index, pair[0].index
            )));
        }
        if pair[0].until.is_none() {
            return Err(malformed(&format!(
                "the retired key {} has no end",
                pair[0].index
            )));
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests;
