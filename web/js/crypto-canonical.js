// The canonical bytes that get signed (the encoding of src/crypto/sealing.rs
// and succession.rs): length-prefixed fields, the sorted recipient list,
// the message and conversation name bytes (version 1 and keyed), and the
// succession bytes of a key rotation.
//
// `lengthPrefixed`, `byUsernameBytes` and `checkRevision` are exported for
// the sibling modules only; crypto.js does not re-export them.

import { CryptoError, concat, utf8 } from './crypto-bytes.js';

/** Domain of the canonical message bytes. */
export const MESSAGE_DOMAIN = 'nanochat/v1 message';
/** Domain of the canonical conversation name bytes. */
export const NAME_DOMAIN = 'nanochat/v1 conversation name';
/** Label of the keyed message bytes (signature version 2). */
export const KEYED_MESSAGE_DOMAIN = 'nanochat/v1 keyed message';
/** Label of the keyed name bytes (signature version 2). */
export const KEYED_NAME_DOMAIN = 'nanochat/v1 keyed conversation name';
/** Label of the succession bytes a key rotation signs with both keys. */
export const KEY_SUCCESSION_LABEL = 'nanochat/v1 key succession';

/**
 * The leading fields of signed message or name bytes: the version 1 label,
 * or, for signature version 2, the keyed label and the signer's key
 * fingerprint (SHA-256 of its SPKI DER, 32 bytes).
 * @param {string} v1Label
 * @param {string} keyedLabel
 * @param {Uint8Array | undefined} signerFingerprint
 */
function signedDomain(v1Label, keyedLabel, signerFingerprint) {
  if (signerFingerprint === undefined) return lengthPrefixed(utf8(v1Label));
  if (signerFingerprint.length !== 32) throw new CryptoError('a key fingerprint is 32 bytes', 'bad_length');
  return concat(lengthPrefixed(utf8(keyedLabel)), lengthPrefixed(signerFingerprint));
}

/**
 * @param {Uint8Array} field
 */
export function lengthPrefixed(field) {
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, field.length);
  return concat(len, field);
}

/**
 * @param {string} id
 */
function canonicalUuid(id) {
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(id)) {
    throw new CryptoError(`not a UUID: ${JSON.stringify(id)}`, 'malformed');
  }
  return utf8(id.toLowerCase());
}

/** @typedef {{username: string, keyDigest: Uint8Array}} RecipientDigest */

/**
 * Compares usernames by their UTF-8 bytes, as the Rust core sorts them.
 * @param {string} a
 * @param {string} b
 */
export function byUsernameBytes(a, b) {
  const x = utf8(a);
  const y = utf8(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * The recipient list: count (u32, no prefix), then username and digest per
 * recipient in username byte order.
 * @param {RecipientDigest[]} recipients
 */
function canonicalRecipients(recipients) {
  const sorted = [...recipients].sort((a, b) => byUsernameBytes(a.username, b.username));
  if (sorted.length === 0) throw new CryptoError('empty recipient list', 'malformed');
  if (sorted.some((r) => r.username === '')) throw new CryptoError('empty username', 'malformed');
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i - 1].username === sorted[i].username) throw new CryptoError('duplicate recipient', 'duplicate_recipient');
  }
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, sorted.length);
  return concat(count, ...sorted.flatMap((r) => [lengthPrefixed(utf8(r.username)), lengthPrefixed(r.keyDigest)]));
}

/**
 * The canonical message bytes the sender signs.
 * @param {string} conversationId
 * @param {string} messageId
 * @param {Uint8Array} contentIv
 * @param {Uint8Array} content
 * @param {Uint8Array | null} attachmentDigest
 * @param {RecipientDigest[]} recipients
 * @param {Uint8Array} [signerFingerprint] signature version 2: the signer's key fingerprint
 */
export function messageSignedBytes(conversationId, messageId, contentIv, content, attachmentDigest, recipients, signerFingerprint) {
  return concat(
    signedDomain(MESSAGE_DOMAIN, KEYED_MESSAGE_DOMAIN, signerFingerprint),
    lengthPrefixed(canonicalUuid(conversationId)),
    lengthPrefixed(canonicalUuid(messageId)),
    lengthPrefixed(contentIv),
    lengthPrefixed(content),
    lengthPrefixed(attachmentDigest ?? new Uint8Array(0)),
    canonicalRecipients(recipients),
  );
}

/**
 * The canonical conversation name bytes the sealer signs.
 * @param {string} conversationId
 * @param {number} revision >= 1
 * @param {Uint8Array} iv
 * @param {Uint8Array} ciphertext
 * @param {RecipientDigest[]} recipients
 * @param {Uint8Array} [signerFingerprint] signature version 2: the signer's key fingerprint
 */
export function nameSignedBytes(conversationId, revision, iv, ciphertext, recipients, signerFingerprint) {
  checkRevision(revision);
  const rev = new Uint8Array(8);
  new DataView(rev.buffer).setBigUint64(0, BigInt(revision));
  return concat(
    signedDomain(NAME_DOMAIN, KEYED_NAME_DOMAIN, signerFingerprint),
    lengthPrefixed(canonicalUuid(conversationId)),
    lengthPrefixed(rev),
    lengthPrefixed(iv),
    lengthPrefixed(ciphertext),
    canonicalRecipients(recipients),
  );
}

/**
 * The succession bytes of a key rotation (api.yml, "Key history"), which
 * both the previous key (`succession_signature`) and the new key
 * (`public_key_signature`) sign.
 * @param {string} username
 * @param {number} index the new key's index in the user's key history
 * @param {Uint8Array} previousPublicKeyDer
 * @param {Uint8Array} newPublicKeyDer
 */
export function keySuccessionBytes(username, index, previousPublicKeyDer, newPublicKeyDer) {
  if (!Number.isSafeInteger(index) || index < 1) throw new CryptoError('a successor key has an index of at least 1', 'malformed');
  const big = new Uint8Array(8);
  new DataView(big.buffer).setBigUint64(0, BigInt(index));
  return concat(
    lengthPrefixed(utf8(KEY_SUCCESSION_LABEL)),
    lengthPrefixed(utf8(username)),
    lengthPrefixed(big),
    lengthPrefixed(previousPublicKeyDer),
    lengthPrefixed(newPublicKeyDer),
  );
}

/**
 * @param {number} revision
 */
export function checkRevision(revision) {
  if (!Number.isSafeInteger(revision) || revision < 1) throw new CryptoError('name revision must be at least 1', 'malformed');
}
