// The NanoChat v1 protocol on WebCrypto: the browser's twin of src/crypto/.
// Every byte layout here must match the Rust core exactly; the node --test
// suite in web/test/ checks it against conformance/vectors/.
//
// This module is the protocol's public face: the page, the tests and the
// tools import it (`import * as c from './crypto.js'`). The code lives in
// one module per part, as the Rust core's src/crypto/*.rs:
//
//   crypto-bytes.js      CryptoError, random bytes, UTF-8, base64, hex, SHA-256, fingerprints
//   crypto-aead.js       AES-256-GCM
//   crypto-keys.js       RSA keys: the key policy, import, generation, wrapping, signatures
//   crypto-envelope.js   request envelopes, responses, events
//   crypto-canonical.js  the canonical bytes that get signed
//   crypto-sealing.js    what sealing messages and names to the members shares
//   crypto-content.js    message content: seal, open, attachments
//   crypto-name.js       conversation names
//   crypto-password.js   password-encrypted keys and key rings (Argon2id)
//   crypto-keyfile.js    key files
//   crypto-history.js    key history: verified chains of a user's keys
//
// What those modules export only for each other (subtle, checkIv,
// lengthPrefixed, the sealing helpers, ...) is not re-exported here.
//
// Randomness: functions that draw randomness take an optional `rand`
// argument (a function returning n random bytes) so tests can replay the
// vectors' keys and IVs. RSA-OAEP seeds and RSA-PSS salts are drawn inside
// WebCrypto and cannot be injected; tests check those by unwrapping and
// verifying instead.

export {
  CryptoError,
  b64decode,
  b64encode,
  bytesEqual,
  concat,
  fingerprint,
  formatFingerprint,
  fromUtf8,
  hexDecode,
  hexEncode,
  own,
  randomBytes,
  sha256,
  utf8,
} from './crypto-bytes.js';
export { IV_LEN, KEY_LEN, TAG_LEN, aesDecrypt, aesEncrypt } from './crypto-aead.js';
export {
  DEFAULT_KEY_BITS,
  MAX_KEY_BITS,
  MIN_KEY_BITS,
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  importPublicKeyBase64,
  sign,
  unwrapKey,
  verify,
  wipe,
  wrapKey,
} from './crypto-keys.js';
export {
  EVENTS_INFO,
  EVENT_AAD_PREFIX,
  EventReceiver,
  RESPONSE_INFO,
  deriveKey,
  eventAad,
  openResponse,
  sealRequest,
  sealResponse,
} from './crypto-envelope.js';
export {
  KEYED_MESSAGE_DOMAIN,
  KEYED_NAME_DOMAIN,
  KEY_SUCCESSION_LABEL,
  MESSAGE_DOMAIN,
  NAME_DOMAIN,
  keySuccessionBytes,
  messageSignedBytes,
  nameSignedBytes,
} from './crypto-canonical.js';
export { contentJson, openAttachment, openMessage, parseContent, sealMessage } from './crypto-content.js';
export { MAX_NAME_CHARS, checkName, openName, sealName } from './crypto-name.js';
export {
  KDF_DEFAULT,
  KDF_MAX,
  KDF_MAX_WORK,
  KEY_RING_AAD,
  MAX_RING_KEYS,
  MAX_RING_KEY_BYTES,
  PRIVATE_KEY_AAD,
  SALT_LEN,
  decryptPrivateKey,
  decryptPrivateKeyRing,
  deriveKeyFromPassword,
  encryptPrivateKey,
  encryptPrivateKeyRing,
  encryptedPrivateKeyJson,
  keyRingBytes,
  parseRingBytes,
  validateEncryptedPrivateKey,
} from './crypto-password.js';
export { keyFileIsEncrypted, keyFileJson, makeKeyFile, makeKeyFileRing, openKeyFile, openKeyFileRing, parseKeyFile } from './crypto-keyfile.js';
export { currentHistoryEntry, keyInChain, verifyKeyHistory } from './crypto-history.js';

// The types, under the names importers use (`c.Identity`,
// `import('./crypto.js').EncryptedPrivateKey`, ...).

/** @typedef {import('./crypto-bytes.js').Bytes} Bytes */
/** @typedef {import('./crypto-bytes.js').RandomSource} RandomSource */
/** @typedef {import('./crypto-keys.js').PublicKey} PublicKey */
/** @typedef {import('./crypto-keys.js').Identity} Identity */
/** @typedef {import('./crypto-envelope.js').RequestSecret} RequestSecret */
/** @typedef {import('./crypto-envelope.js').WireRequest} WireRequest */
/** @typedef {import('./crypto-canonical.js').RecipientDigest} RecipientDigest */
/** @typedef {import('./crypto-sealing.js').Member} Member */
/** @typedef {import('./crypto-sealing.js').WireWrappedKey} WireWrappedKey */
/** @typedef {import('./crypto-sealing.js').WireRecipientDigest} WireRecipientDigest */
/** @typedef {import('./crypto-content.js').MessageContent} MessageContent */
/** @typedef {import('./crypto-content.js').WireSealedMessage} WireSealedMessage */
/** @typedef {import('./crypto-content.js').WireMessage} WireMessage */
/** @typedef {import('./crypto-name.js').WireSealedName} WireSealedName */
/** @typedef {import('./crypto-name.js').WireConversationName} WireConversationName */
/** @typedef {import('./crypto-password.js').KdfParams} KdfParams */
/** @typedef {import('./crypto-password.js').EncryptedPrivateKey} EncryptedPrivateKey */
/** @typedef {import('./crypto-keyfile.js').KeyFile} KeyFile */
/** @typedef {import('./crypto-history.js').WireKeyRecord} WireKeyRecord */
/** @typedef {import('./crypto-history.js').WireKeyHistory} WireKeyHistory */
/** @typedef {import('./crypto-history.js').ChainKey} ChainKey */
/** @typedef {import('./crypto-history.js').TrustedChain} TrustedChain */
