// Sealing to the members (src/crypto/sealing.rs): what message content and
// conversation names share. Members sorted and checked, a key wrapped for
// each, the wrapped keys' wire form, the reader's own signed entry, the
// signed recipient list, and which key fingerprint a signature version
// signs (`signerOf`).
//
// The functions are exported for crypto-content.js and crypto-name.js
// only; crypto.js re-exports the types, not them.

import { CryptoError, b64decode, b64encode, bytesEqual, sha256 } from './crypto-bytes.js';
import { wrapKey } from './crypto-keys.js';
import { byUsernameBytes } from './crypto-canonical.js';

/** @import { Identity, PublicKey } from './crypto-keys.js' */
/** @import { RecipientDigest } from './crypto-canonical.js' */

/**
 * A member to seal for: `keyIndex`, when known, is the index of
 * `publicKey` in their key history, sent as the wrapped key's `key_index`.
 * @typedef {{username: string, publicKey: PublicKey, keyIndex?: number}} Member
 */
/** @typedef {{username: string, key: string, key_index?: number}} WireWrappedKey */
/** @typedef {{username: string, key_digest: string}} WireRecipientDigest */

/**
 * Sorts members by username bytes and checks the sealer is one of them.
 * @param {Identity} sealer
 * @param {Member[]} members
 */
export function sortedMembers(sealer, members) {
  const sorted = [...members].sort((a, b) => byUsernameBytes(a.username, b.username));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i - 1].username === sorted[i].username) throw new CryptoError('duplicate recipient', 'duplicate_recipient');
  }
  if (!sorted.some((m) => bytesEqual(m.publicKey.der, sealer.publicKey.der))) {
    throw new CryptoError('the sealer is not among the recipients', 'not_a_recipient');
  }
  return sorted;
}

/**
 * Wraps `key` for each member, in order.
 * @param {Uint8Array} key
 * @param {Member[]} sorted
 */
export async function wrapForMembers(key, sorted) {
  const out = [];
  for (const m of sorted) out.push({ username: m.username, wrapped: await wrapKey(m.publicKey, key), keyIndex: m.keyIndex });
  return out;
}

/**
 * The wire form of wrapped keys, with `key_index` where the member's index is known.
 * @param {{username: string, wrapped: Uint8Array, keyIndex?: number}[]} wrapped
 * @returns {WireWrappedKey[]}
 */
export function wireWrappedKeys(wrapped) {
  return wrapped.map((w) => {
    /** @type {WireWrappedKey} */
    const out = { username: w.username, key: b64encode(w.wrapped) };
    if (typeof w.keyIndex === 'number') {
      if (!Number.isSafeInteger(w.keyIndex) || w.keyIndex < 0) throw new CryptoError(`key index ${w.keyIndex} of ${w.username} is not a valid index`, 'malformed');
      out.key_index = w.keyIndex;
    }
    return out;
  });
}

/**
 * Checks the reader's entry in the signed list against the key it got.
 * @param {RecipientDigest[]} recipients
 * @param {string} reader
 * @param {Uint8Array} wrapped
 */
export async function checkOwnEntry(recipients, reader, wrapped) {
  const entry = recipients.find((r) => r.username === reader);
  if (!entry) throw new CryptoError('you are not among the signed recipients', 'not_a_recipient');
  if (!bytesEqual(await sha256(wrapped), entry.keyDigest)) {
    throw new CryptoError('the key you were given does not match the signed digest', 'key_digest_mismatch');
  }
}

/**
 * @param {WireRecipientDigest[]} recipients
 * @returns {RecipientDigest[]}
 */
export function parseRecipients(recipients) {
  if (!Array.isArray(recipients)) throw new CryptoError('recipients must be a list', 'malformed');
  return recipients.map((r) => ({ username: String(r.username), keyDigest: b64decode(r.key_digest, 'key_digest') }));
}

/**
 * For a message or name signed over the keyed bytes (`signature_version`
 * 2, api.yml "Key history"), the fingerprint of the key that verifies it;
 * `undefined` for version 1.
 * @param {{signature_version?: number}} signed
 * @param {PublicKey} signer
 * @returns {Promise<Uint8Array | undefined>}
 */
export async function signerOf(signed, signer) {
  const version = signed.signature_version ?? 1;
  if (version === 1) return undefined;
  if (version !== 2) throw new CryptoError(`signature_version ${version} is not 1 or 2`, 'malformed');
  return sha256(signer.der);
}
