// Conversation names (src/crypto/name.rs): the name rules, and a name
// sealed for every member like message content, bound to the conversation
// id and a revision, then opened and verified by a reader.

import { CryptoError, b64decode, b64encode, fromUtf8, randomBytes, sha256, utf8 } from './crypto-bytes.js';
import { IV_LEN, KEY_LEN, aesDecrypt, aesEncrypt } from './crypto-aead.js';
import { sign, unwrapKey, verify } from './crypto-keys.js';
import { checkRevision, nameSignedBytes } from './crypto-canonical.js';
import { checkOwnEntry, parseRecipients, signerOf, sortedMembers, wireWrappedKeys, wrapForMembers } from './crypto-sealing.js';

/** @import { RandomSource } from './crypto-bytes.js' */
/** @import { Identity, PublicKey } from './crypto-keys.js' */
/** @import { Member, WireRecipientDigest, WireWrappedKey } from './crypto-sealing.js' */

/** Longest conversation name, in Unicode scalar values. */
export const MAX_NAME_CHARS = 128;

/**
 * Checks the name rules: 1 to 128 Unicode scalar values, no control
 * characters, no leading or trailing whitespace.
 * @param {string} name
 */
export function checkName(name) {
  if (name.length === 0) throw new CryptoError('a conversation name cannot be empty', 'malformed');
  if ([...name].length > MAX_NAME_CHARS) throw new CryptoError(`a conversation name has at most ${MAX_NAME_CHARS} characters`, 'malformed');
  if (/\p{Cc}/u.test(name)) throw new CryptoError('control character in conversation name', 'malformed');
  if (/^\s|\s$/u.test(name)) throw new CryptoError('conversation name has leading or trailing whitespace', 'malformed');
  // A lone surrogate is not a Unicode scalar value and has no UTF-8 form.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name)) {
    throw new CryptoError('conversation name is not valid Unicode', 'malformed');
  }
}

/**
 * The `SealedName` schema.
 * @typedef {{revision: number, iv: string, ciphertext: string, keys: WireWrappedKey[], signature: string, signature_version?: number}} WireSealedName
 */

/**
 * Seals a conversation name for every member, signed over the keyed bytes
 * (`signature_version` 2); wrapped keys carry `key_index` for members with
 * a `keyIndex`.
 * @param {Identity} sealer
 * @param {string} conversationId
 * @param {number} revision name_revision + 1
 * @param {string} name
 * @param {Member[]} members every current member with a key, the sealer included
 * @param {RandomSource} [rand] draws N (32) then the IV (12)
 * @returns {Promise<WireSealedName>}
 */
export async function sealName(sealer, conversationId, revision, name, members, rand = randomBytes) {
  checkName(name);
  checkRevision(revision);
  const sorted = sortedMembers(sealer, members);
  const n = rand(KEY_LEN);
  const iv = rand(IV_LEN);
  const ciphertext = await aesEncrypt(n, iv, new Uint8Array(0), utf8(name));
  const wrapped = await wrapForMembers(n, sorted);
  const digests = [];
  for (const w of wrapped) digests.push({ username: w.username, keyDigest: await sha256(w.wrapped) });
  const signature = await sign(sealer, nameSignedBytes(conversationId, revision, iv, ciphertext, digests, await sha256(sealer.publicKey.der)));
  return {
    revision,
    iv: b64encode(iv),
    ciphertext: b64encode(ciphertext),
    keys: wireWrappedKeys(wrapped),
    signature: b64encode(signature),
    signature_version: 2,
  };
}

/**
 * The `ConversationName` a reader gets.
 * @typedef {{revision: number, sealed_by: string, sealed_at: string, iv: string, ciphertext: string, key?: string, recipients: WireRecipientDigest[], signature: string, signature_version?: number, reseal: boolean}} WireConversationName
 */

/**
 * Opens a sealed name: own entry, sealer's signature, unwrap, decrypt, rules.
 * @param {string} conversationId
 * @param {WireConversationName} name
 * @param {string} reader
 * @param {Identity} me
 * @param {PublicKey} sealerKey
 * @returns {Promise<string>}
 */
export async function openName(conversationId, name, reader, me, sealerKey) {
  if (!name.key) throw new CryptoError('no name key was wrapped for you', 'not_a_recipient');
  const recipients = parseRecipients(name.recipients);
  const wrapped = b64decode(name.key, 'key');
  await checkOwnEntry(recipients, reader, wrapped);
  const iv = b64decode(name.iv, 'iv');
  const ciphertext = b64decode(name.ciphertext, 'ciphertext');
  const signed = nameSignedBytes(conversationId, name.revision, iv, ciphertext, recipients, await signerOf(name, sealerKey));
  if (!(await verify(sealerKey, signed, b64decode(name.signature, 'signature')))) {
    throw new CryptoError(`the name's signature does not verify with ${name.sealed_by}'s key`, 'bad_signature');
  }
  const n = await unwrapKey(me, wrapped);
  const text = fromUtf8(await aesDecrypt(n, iv, new Uint8Array(0), ciphertext), 'conversation name');
  checkName(text);
  return text;
}
