// Message content (src/crypto/content.rs): its canonical JSON, and a
// message (with an optional file) sealed for every member and signed, then
// opened and verified by a reader; attachments checked against the signed
// digest.

import { CryptoError, b64decode, b64encode, bytesEqual, fromUtf8, randomBytes, sha256, utf8 } from './crypto-bytes.js';
import { IV_LEN, KEY_LEN, aesDecrypt, aesEncrypt } from './crypto-aead.js';
import { sign, unwrapKey, verify } from './crypto-keys.js';
import { messageSignedBytes } from './crypto-canonical.js';
import { checkOwnEntry, parseRecipients, signerOf, sortedMembers, wireWrappedKeys, wrapForMembers } from './crypto-sealing.js';

/** @import { Bytes, RandomSource } from './crypto-bytes.js' */
/** @import { Identity, PublicKey } from './crypto-keys.js' */
/** @import { Member, WireRecipientDigest, WireWrappedKey } from './crypto-sealing.js' */

/**
 * The decrypted content of a message.
 * @typedef {{text?: string, file_name?: string, file_type?: string}} MessageContent
 */

/**
 * The canonical JSON of message content: fields in the Rust struct's order,
 * absent ones omitted (what serde_json writes).
 * @param {MessageContent} content
 */
export function contentJson(content) {
  /** @type {MessageContent} */
  const ordered = {};
  if (content.text !== undefined) ordered.text = content.text;
  if (content.file_name !== undefined) ordered.file_name = content.file_name;
  if (content.file_type !== undefined) ordered.file_type = content.file_type;
  return utf8(JSON.stringify(ordered));
}

/**
 * Parses decrypted content JSON, refusing anything but the three optional strings.
 * @param {Uint8Array} bytes
 * @returns {MessageContent}
 */
export function parseContent(bytes) {
  let value;
  try {
    value = JSON.parse(fromUtf8(bytes, 'content'));
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    throw new CryptoError('invalid content JSON', 'malformed');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CryptoError('invalid content JSON', 'malformed');
  /** @type {MessageContent} */
  const out = {};
  for (const field of /** @type {const} */ (['text', 'file_name', 'file_type'])) {
    const v = value[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new CryptoError(`content field ${field} is not a string`, 'malformed');
    out[field] = v;
  }
  return out;
}

/**
 * The payload of `message.create` / `message.update`.
 * @typedef {object} WireSealedMessage
 * @property {string} conversation_id
 * @property {string} id
 * @property {string} content_iv
 * @property {string} content
 * @property {{iv: string, data: string}} [attachment]
 * @property {WireWrappedKey[]} keys
 * @property {string} signature
 * @property {2} signature_version the keyed bytes (api.yml, "Key history")
 */

/**
 * Seals message content (and an optional file) for every member, signed
 * over the keyed bytes (`signature_version` 2: the sender's key
 * fingerprint is signed too); wrapped keys carry `key_index` for members
 * with a `keyIndex`.
 * @param {Identity} sender
 * @param {string} conversationId
 * @param {string} messageId
 * @param {Uint8Array} content content JSON bytes (see contentJson)
 * @param {Uint8Array | null} attachment file bytes
 * @param {Member[]} members every current member with a key, the sender included
 * @param {RandomSource} [rand] draws C (32), content IV (12), attachment IV (12)
 * @returns {Promise<{payload: WireSealedMessage, contentKey: Bytes}>}
 */
export async function sealMessage(sender, conversationId, messageId, content, attachment, members, rand = randomBytes) {
  const sorted = sortedMembers(sender, members);
  const c = rand(KEY_LEN);
  const contentIv = rand(IV_LEN);
  const sealedContent = await aesEncrypt(c, contentIv, new Uint8Array(0), content);
  let sealedAttachment = null;
  if (attachment) {
    const iv = rand(IV_LEN);
    sealedAttachment = { iv, data: await aesEncrypt(c, iv, new Uint8Array(0), attachment) };
  }
  const wrapped = await wrapForMembers(c, sorted);
  const digests = [];
  for (const w of wrapped) digests.push({ username: w.username, keyDigest: await sha256(w.wrapped) });
  const signed = messageSignedBytes(
    conversationId,
    messageId,
    contentIv,
    sealedContent,
    sealedAttachment ? await sha256(sealedAttachment.data) : null,
    digests,
    await sha256(sender.publicKey.der),
  );
  const signature = await sign(sender, signed);
  /** @type {WireSealedMessage} */
  const payload = {
    conversation_id: conversationId,
    id: messageId,
    content_iv: b64encode(contentIv),
    content: b64encode(sealedContent),
    keys: wireWrappedKeys(wrapped),
    signature: b64encode(signature),
    signature_version: 2,
  };
  if (sealedAttachment) payload.attachment = { iv: b64encode(sealedAttachment.iv), data: b64encode(sealedAttachment.data) };
  return { payload, contentKey: c };
}

/**
 * A message as a reader receives it (the `Message` schema).
 * @typedef {object} WireMessage
 * @property {string} conversation_id
 * @property {string} id
 * @property {string} sender
 * @property {string} created_at
 * @property {string} [edited_at]
 * @property {string} content_iv
 * @property {string} content
 * @property {{iv: string, size: number, digest: string}} [attachment]
 * @property {string} key
 * @property {WireRecipientDigest[]} recipients
 * @property {string} signature
 * @property {number} [signature_version] 2: signed over the keyed bytes
 * @property {string} [cursor]
 */

/**
 * Opens a received message: checks the reader's signed entry, the sender's
 * signature, then unwraps and decrypts. Throws a CryptoError (code
 * `bad_signature`, `key_digest_mismatch`, ...) if anything does not verify.
 * @param {WireMessage} message
 * @param {string} reader the reader's username
 * @param {Identity} me
 * @param {PublicKey} senderKey
 * @returns {Promise<{content: Bytes, contentKey: Bytes}>}
 */
export async function openMessage(message, reader, me, senderKey) {
  const recipients = parseRecipients(message.recipients);
  const wrapped = b64decode(message.key, 'key');
  await checkOwnEntry(recipients, reader, wrapped);
  const contentIv = b64decode(message.content_iv, 'content_iv');
  const content = b64decode(message.content, 'content');
  const attachmentDigest = message.attachment ? b64decode(message.attachment.digest, 'attachment digest') : null;
  const signed = messageSignedBytes(message.conversation_id, message.id, contentIv, content, attachmentDigest, recipients, await signerOf(message, senderKey));
  if (!(await verify(senderKey, signed, b64decode(message.signature, 'signature')))) {
    throw new CryptoError(`the signature does not verify with ${message.sender}'s key`, 'bad_signature');
  }
  const contentKey = await unwrapKey(me, wrapped);
  return { content: await aesDecrypt(contentKey, contentIv, new Uint8Array(0), content), contentKey };
}

/**
 * Decrypts a downloaded attachment after checking its digest against the
 * signed one.
 * @param {Uint8Array} contentKey from openMessage
 * @param {Uint8Array} iv
 * @param {Uint8Array} data ciphertext with tag
 * @param {Uint8Array} signedDigest the message's signed attachment digest
 */
export async function openAttachment(contentKey, iv, data, signedDigest) {
  if (!bytesEqual(await sha256(data), signedDigest)) {
    throw new CryptoError('the file does not match the signed digest', 'attachment_mismatch');
  }
  return aesDecrypt(contentKey, iv, new Uint8Array(0), data);
}
