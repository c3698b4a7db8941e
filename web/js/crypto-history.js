// Key history (the reader's side of src/crypto/succession.rs and the Rust
// client's history::verify): a user's key history verified from the key
// the reader pinned, link by link, into a trusted chain, and the key of
// that chain that verifies something signed at a given time.

import { CryptoError, b64decode, hexEncode, sha256 } from './crypto-bytes.js';
import { importPublicKey, verify } from './crypto-keys.js';
import { keySuccessionBytes } from './crypto-canonical.js';

/** @import { PublicKey } from './crypto-keys.js' */

/**
 * One entry of a `KeyHistory` as the server sends it (`KeyRecord`).
 * @typedef {object} WireKeyRecord
 * @property {number} index
 * @property {string} public_key base64 SPKI DER
 * @property {string} fingerprint grouped hex (informative: readers hash public_key themselves)
 * @property {string} since RFC 3339
 * @property {string} [until] RFC 3339; absent for the current key
 * @property {string} [succession_signature] base64, by the previous entry's key
 * @property {string} [public_key_signature] base64, by this entry's key
 */

/**
 * The response of `user.keys`.
 * @typedef {{username: string, keys: WireKeyRecord[]}} WireKeyHistory
 */

/**
 * One key of a trusted chain.
 * @typedef {object} ChainKey
 * @property {number} index its index in the user's key history
 * @property {PublicKey} publicKey
 * @property {string} fingerprint grouped hex (formatFingerprint), as publicKey.fingerprint
 * @property {string} since when it became current (RFC 3339, as the server sent it)
 * @property {string | null} until when it stopped, null for the current key
 * @property {boolean} linked reached through a succession proof, rather than being the pinned key
 */

/**
 * A user's keys that a reader trusts: the pinned key and every key linked
 * to it by verified successions (api.yml, "Key history").
 * @typedef {object} TrustedChain
 * @property {string} username whose chain (the history's username)
 * @property {Map<number, ChainKey>} keys the trusted keys by index
 * @property {number | null} current the index of the history's current entry (the last, if it has no `until`), trusted or not; null while the user is pending
 * @property {number | null} currentIndex `current` if that key is trusted, else null (an unexplained change, or no current key)
 * @property {number} newest the highest trusted index
 */

/** A timestamp the way RFC 3339 writes it. */
const RFC3339_RE = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp, or NaN.
 * @param {unknown} text
 */
function parseInstant(text) {
  if (typeof text !== 'string') return NaN;
  const m = RFC3339_RE.exec(text);
  if (!m) return NaN;
  const fraction = m[3] ? `.${m[3].slice(0, 3).padEnd(3, '0')}` : '';
  const zone = m[4] === 'z' ? 'Z' : m[4];
  return Date.parse(`${m[1]}T${m[2]}${fraction}${zone}`);
}

/**
 * A fingerprint reduced to its 64 hex digits, lowercase (spaces dropped,
 * as the Rust core parses one).
 * @param {string} text
 */
function fingerprintDigits(text) {
  return String(text).replace(/ /g, '').toLowerCase();
}

/**
 * Verifies a user's key history from the key the reader pinned (its index
 * and fingerprint), in api.yml's order, as the Rust client's
 * `history::verify`: the shape (consecutive indexes from a non-negative
 * first, `until` on every entry but the last), the pinned entry, then each
 * link forward until a chain start and backward from the pinned entry
 * until a chain start, both signatures of each link over its succession
 * bytes. Any failure refuses the whole history: a CryptoError with code
 * `history` and a sentence naming the user.
 *
 * It does not check that the history is the one asked for: compare
 * `history.username` with the user first.
 * @param {WireKeyHistory} history
 * @param {number} pinIndex the pinned key's index
 * @param {string} pinFingerprint the pinned key's fingerprint (grouped hex; spaces and case ignored)
 * @returns {Promise<TrustedChain>}
 */
export async function verifyKeyHistory(history, pinIndex, pinFingerprint) {
  if (typeof history !== 'object' || history === null || typeof history.username !== 'string' || !Array.isArray(history.keys)) {
    throw new CryptoError('the key history is malformed: it is not a KeyHistory object', 'history');
  }
  const user = history.username;
  const malformed = (/** @type {string} */ why) => new CryptoError(`the key history of ${user} is malformed: ${why}`, 'history');
  const badLink = (/** @type {number} */ index) => new CryptoError(`the key history of ${user} has a link that does not verify, at index ${index}`, 'history');

  // The entries as the Rust client deserialises them: any field of the
  // wrong form refuses the whole history.
  const entries = history.keys.map((e, n) => {
    if (typeof e !== 'object' || e === null) throw malformed(`entry ${n} is not an object`);
    if (!Number.isSafeInteger(e.index)) throw malformed(`entry ${n} has no integer index`);
    if (typeof e.fingerprint !== 'string') throw malformed(`entry ${e.index} has no fingerprint`);
    if (Number.isNaN(parseInstant(e.since))) throw malformed(`entry ${e.index} has no valid since`);
    const until = e.until ?? null;
    if (until !== null && Number.isNaN(parseInstant(until))) throw malformed(`entry ${e.index} has an invalid until`);
    /** @param {unknown} sig @param {string} what */
    const optional = (sig, what) => {
      if (sig === undefined || sig === null) return null;
      if (typeof sig !== 'string') throw malformed(`entry ${e.index} has an invalid ${what}`);
      try {
        return b64decode(sig, what);
      } catch {
        throw malformed(`entry ${e.index} has an invalid ${what}`);
      }
    };
    let der;
    try {
      der = b64decode(e.public_key, 'public_key');
    } catch {
      throw malformed(`entry ${e.index} has an invalid public_key`);
    }
    return {
      index: e.index,
      der,
      since: e.since,
      until,
      succession: optional(e.succession_signature, 'succession_signature'),
      possession: optional(e.public_key_signature, 'public_key_signature'),
    };
  });

  // 1. Shape.
  if (entries.length === 0) throw malformed('it has no entry');
  if (entries[0].index < 0) throw malformed('a negative index');
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].index !== entries[i - 1].index + 1) {
      throw malformed(`index ${entries[i].index} follows index ${entries[i - 1].index}`);
    }
    if (entries[i - 1].until === null) throw malformed(`the retired key ${entries[i - 1].index} has no end`);
  }

  // 2. The pinned entry holds the pinned key.
  const wanted = fingerprintDigits(pinFingerprint);
  const position = entries.findIndex((e) => e.index === pinIndex);
  if (position < 0 || hexEncode(await sha256(entries[position].der)) !== wanted) {
    throw new CryptoError(`the key history of ${user} does not hold the pinned key ${pinFingerprint} at index ${pinIndex}`, 'history');
  }

  /** @type {PublicKey[]} */
  const keys = [];
  for (const e of entries) {
    try {
      keys.push(await importPublicKey(e.der));
    } catch {
      throw new CryptoError(`the key history of ${user} holds an unreadable key at index ${e.index}`, 'history');
    }
  }

  /** @type {Map<number, ChainKey>} */
  const trusted = new Map();
  const chainKey = (/** @type {number} */ i, /** @type {boolean} */ linked) => ({
    index: entries[i].index,
    publicKey: keys[i],
    fingerprint: keys[i].fingerprint,
    since: entries[i].since,
    until: entries[i].until,
    linked,
  });
  const isSuccessor = (/** @type {number} */ i) => entries[i].succession !== null || entries[i].possession !== null;
  const checkLink = async (/** @type {number} */ i) => {
    const { succession, possession, index } = entries[i];
    if (succession === null || possession === null) throw badLink(index);
    const bytes = keySuccessionBytes(user, index, keys[i - 1].der, keys[i].der);
    if (!(await verify(keys[i - 1], bytes, succession)) || !(await verify(keys[i], bytes, possession))) throw badLink(index);
  };
  trusted.set(entries[position].index, chainKey(position, false));
  // 3. Forward: each later successor follows its predecessor; a chain
  // start ends the walk.
  for (let i = position + 1; i < entries.length && isSuccessor(i); i++) {
    await checkLink(i);
    trusted.set(entries[i].index, chainKey(i, true));
  }
  // 4. Backward: the pinned entry and each earlier one vouch for their
  // predecessor while they are successors.
  for (let i = position; i > 0 && isSuccessor(i); i--) {
    await checkLink(i);
    trusted.set(entries[i - 1].index, chainKey(i - 1, true));
  }

  const last = entries[entries.length - 1];
  const current = last.until === null ? last.index : null;
  return {
    username: user,
    keys: trusted,
    current,
    currentIndex: current !== null && trusted.has(current) ? current : null,
    newest: Math.max(...trusted.keys()),
  };
}

/**
 * The current entry of a key history (its last, if it has no `until`):
 * what a reader pins on first use; null while the user is pending.
 * @param {WireKeyHistory} history
 * @returns {WireKeyRecord | null}
 */
export function currentHistoryEntry(history) {
  const last = history.keys[history.keys.length - 1];
  return last && (last.until === undefined || last.until === null) ? last : null;
}

/**
 * The key that verifies what `chain`'s user signed with their key `index`
 * at `at` (a message's `created_at`, a name's `sealed_at`), as the Rust
 * client's `key_in_chain`. A missing index (signed before the server kept
 * key history) means index 0, and its time is not checked. Throws a
 * CryptoError with the sentence the reader sees: code `untrusted_key` when
 * the chain does not reach that key, `key_period` when `at` lies outside
 * the key's since..until (1 s of slack either side).
 * @param {TrustedChain} chain
 * @param {number | null | undefined} index
 * @param {string} at RFC 3339
 * @returns {PublicKey}
 */
export function keyInChain(chain, index, at) {
  const user = chain.username;
  const legacy = index === null || index === undefined;
  const wanted = legacy ? 0 : index;
  const key = chain.keys.get(wanted);
  if (!key) {
    throw new CryptoError(
      legacy
        ? `signed before the server kept key history, by a key of ${user} it no longer has`
        : `signed with key ${wanted} of ${user}, which their verified key history does not reach (an unexplained key change lies between)`,
      'untrusted_key',
    );
  }
  if (!legacy) {
    const slack = 1000;
    const when = parseInstant(at);
    const since = parseInstant(key.since);
    const until = key.until === null ? null : parseInstant(key.until);
    if (Number.isNaN(when) || when < since - slack || (until !== null && when > until + slack)) {
      throw new CryptoError(`claims key ${wanted} of ${user}, which was not their key when the server accepted it`, 'key_period');
    }
  }
  return key.publicKey;
}
