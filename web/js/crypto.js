// The NanoChat v1 protocol on WebCrypto: the browser's twin of src/crypto/.
// Every byte layout here must match the Rust core exactly; the node --test
// suite in web/test/ checks it against conformance/vectors/.
//
// Randomness: functions that draw randomness take an optional `rand`
// argument (a function returning n random bytes) so tests can replay the
// vectors' keys and IVs. RSA-OAEP seeds and RSA-PSS salts are drawn inside
// WebCrypto and cannot be injected; tests check those by unwrapping and
// verifying instead.

import { argon2id } from '../vendor/argon2.js';

/** @typedef {Uint8Array<ArrayBuffer>} Bytes */
/** @typedef {(n: number) => Bytes} RandomSource */

/** AES-GCM IV length in bytes. */
export const IV_LEN = 12;
/** AES-256 key length in bytes. */
export const KEY_LEN = 32;
/** AES-GCM tag length in bytes. */
export const TAG_LEN = 16;
/** Smallest accepted RSA modulus, in bits. */
export const MIN_KEY_BITS = 2048;
/** Largest accepted RSA modulus, in bits. */
export const MAX_KEY_BITS = 4096;
/** The size of keys this client generates. */
export const DEFAULT_KEY_BITS = 3072;
/** HKDF info of the response key. */
export const RESPONSE_INFO = 'nanochat/v1 response';
/** HKDF info of the event key. */
export const EVENTS_INFO = 'nanochat/v1 events';
/** AAD prefix of an event (followed by seq, u64 big-endian). */
export const EVENT_AAD_PREFIX = 'nanochat/v1 event';
/** Domain of the canonical message bytes. */
export const MESSAGE_DOMAIN = 'nanochat/v1 message';
/** Domain of the canonical conversation name bytes. */
export const NAME_DOMAIN = 'nanochat/v1 conversation name';
/** Label of the keyed message bytes (signature version 2). */
export const KEYED_MESSAGE_DOMAIN = 'nanochat/v1 keyed message';
/** Label of the keyed name bytes (signature version 2). */
export const KEYED_NAME_DOMAIN = 'nanochat/v1 keyed conversation name';

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
/** AAD of a password-encrypted private key. */
export const PRIVATE_KEY_AAD = 'nanochat/v1 private-key';
/** AAD of a password-encrypted key ring (EncryptedPrivateKey version 2). */
export const KEY_RING_AAD = 'nanochat/v1 private-key ring';
/** Most keys a key ring holds. */
export const MAX_RING_KEYS = 256;
/** Largest PKCS#8 DER a key ring accepts for one key. */
export const MAX_RING_KEY_BYTES = 16384;
/** Label of the succession bytes a key rotation signs with both keys. */
export const KEY_SUCCESSION_LABEL = 'nanochat/v1 key succession';
/** Longest conversation name, in Unicode scalar values. */
export const MAX_NAME_CHARS = 128;

/** A protocol or input error with a message fit to show a person. */
export class CryptoError extends Error {
  /**
   * @param {string} message
   * @param {string} [code] a stable machine-readable reason
   */
  constructor(message, code = 'crypto') {
    super(message);
    this.name = 'CryptoError';
    this.code = code;
  }
}

/** @returns {SubtleCrypto} */
function subtle() {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new CryptoError(
      'This page is not a secure context, so the browser hides its crypto API (crypto.subtle). ' +
        'Open it over HTTPS (TLS via the reverse proxy in the README) or from 127.0.0.1/localhost.',
      'insecure_context',
    );
  }
  return s;
}

/** @type {RandomSource} */
export function randomBytes(n) {
  const out = new Uint8Array(n);
  globalThis.crypto.getRandomValues(out);
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 of a string.
 * @param {string} s
 * @returns {Bytes}
 */
export function utf8(s) {
  return /** @type {Bytes} */ (encoder.encode(s));
}

/**
 * Decodes UTF-8, refusing invalid bytes.
 * @param {Uint8Array} bytes
 * @param {string} [what] named in the error
 * @returns {string}
 */
export function fromUtf8(bytes, what = 'text') {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new CryptoError(`${what} is not valid UTF-8`, 'malformed');
  }
}

/**
 * Concatenates byte arrays.
 * @param {...Uint8Array} parts
 * @returns {Bytes}
 */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Copies into a fresh ArrayBuffer-backed array (WebCrypto wants one).
 * @param {Uint8Array} bytes
 * @returns {Bytes}
 */
export function own(bytes) {
  return new Uint8Array(bytes);
}

/**
 * Constant-time equality of two byte arrays.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Base64, standard alphabet with padding (the wire form of every binary field).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function b64encode(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

/**
 * Strict base64 decoding (standard alphabet, padding required).
 * @param {string} text
 * @param {string} [what] named in the error
 * @returns {Bytes}
 */
export function b64decode(text, what = 'value') {
  if (typeof text !== 'string' || !B64_RE.test(text)) {
    throw new CryptoError(`${what} is not valid base64`, 'malformed');
  }
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let at = 0;
  for (let i = 0; i < text.length; i += 4) {
    const n =
      (B64.indexOf(text[i]) << 18) |
      (B64.indexOf(text[i + 1]) << 12) |
      ((text[i + 2] === '=' ? 0 : B64.indexOf(text[i + 2])) << 6) |
      (text[i + 3] === '=' ? 0 : B64.indexOf(text[i + 3]));
    if (at < out.length) out[at++] = (n >> 16) & 255;
    if (at < out.length) out[at++] = (n >> 8) & 255;
    if (at < out.length) out[at++] = n & 255;
  }
  return out;
}

/**
 * Lowercase hex.
 * @param {Uint8Array} bytes
 */
export function hexEncode(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Parses hex (either case).
 * @param {string} text
 * @returns {Bytes}
 */
export function hexDecode(text) {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new CryptoError('not valid hex', 'malformed');
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * SHA-256.
 * @param {Uint8Array} data
 * @returns {Promise<Bytes>}
 */
export async function sha256(data) {
  return new Uint8Array(await subtle().digest('SHA-256', own(data)));
}

/**
 * A fingerprint as people compare it: 16 groups of 4 lowercase hex digits.
 * @param {Uint8Array} digest 32 bytes
 */
export function formatFingerprint(digest) {
  return (hexEncode(digest).match(/.{4}/g) ?? []).join(' ');
}

/**
 * SHA-256 of an SPKI DER, formatted.
 * @param {Uint8Array} spkiDer
 */
export async function fingerprint(spkiDer) {
  return formatFingerprint(await sha256(spkiDer));
}

// ---------------------------------------------------------------- AES-GCM

/**
 * @param {Uint8Array} raw 32 bytes
 * @returns {Promise<CryptoKey>}
 */
async function aesKey(raw) {
  if (raw.length !== KEY_LEN) throw new CryptoError(`an AES key must be ${KEY_LEN} bytes`, 'bad_length');
  return subtle().importKey('raw', own(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/**
 * @param {Uint8Array} iv
 */
function checkIv(iv) {
  if (!(iv instanceof Uint8Array) || iv.length !== IV_LEN) {
    throw new CryptoError(`an IV must be ${IV_LEN} bytes`, 'bad_length');
  }
}

/**
 * AES-256-GCM encryption, tag appended.
 * @param {Uint8Array} key 32 bytes
 * @param {Uint8Array} iv 12 bytes
 * @param {Uint8Array} aad
 * @param {Uint8Array} plaintext
 * @returns {Promise<Bytes>}
 */
export async function aesEncrypt(key, iv, aad, plaintext) {
  checkIv(iv);
  const ct = await subtle().encrypt(
    { name: 'AES-GCM', iv: own(iv), additionalData: own(aad), tagLength: 128 },
    await aesKey(key),
    own(plaintext),
  );
  return new Uint8Array(ct);
}

/**
 * AES-256-GCM decryption; any failure is one "cannot decrypt" error.
 * @param {Uint8Array} key 32 bytes
 * @param {Uint8Array} iv 12 bytes
 * @param {Uint8Array} aad
 * @param {Uint8Array} ciphertext with its tag
 * @returns {Promise<Bytes>}
 */
export async function aesDecrypt(key, iv, aad, ciphertext) {
  checkIv(iv);
  if (ciphertext.length < TAG_LEN) throw new CryptoError('ciphertext shorter than its tag', 'bad_length');
  const k = await aesKey(key);
  try {
    const pt = await subtle().decrypt(
      { name: 'AES-GCM', iv: own(iv), additionalData: own(aad), tagLength: 128 },
      k,
      own(ciphertext),
    );
    return new Uint8Array(pt);
  } catch {
    throw new CryptoError('decryption failed (wrong key or altered data)', 'decrypt');
  }
}

// ---------------------------------------------------------------- RSA keys

/**
 * A public key that passed the size and exponent policy.
 * @typedef {object} PublicKey
 * @property {Bytes} der SubjectPublicKeyInfo DER
 * @property {string} fingerprint grouped hex
 * @property {number} bits modulus size
 * @property {CryptoKey} oaep for wrapping keys to its owner
 * @property {CryptoKey} pss for verifying its owner's signatures
 */

/**
 * A private key held only as non-extractable CryptoKeys, with its public half.
 * @typedef {object} Identity
 * @property {PublicKey} publicKey
 * @property {CryptoKey} decrypt RSA-OAEP, non-extractable
 * @property {CryptoKey} sign RSA-PSS, non-extractable
 */

const OAEP = { name: 'RSA-OAEP', hash: 'SHA-256' };
const PSS = { name: 'RSA-PSS', hash: 'SHA-256' };
const PSS_SALT = 32;

/**
 * @param {CryptoKey} key
 */
function checkPolicy(key) {
  const alg = /** @type {RsaHashedKeyAlgorithm} */ (key.algorithm);
  const bits = alg.modulusLength;
  if (bits < MIN_KEY_BITS || bits > MAX_KEY_BITS) {
    throw new CryptoError(`RSA keys must be ${MIN_KEY_BITS} to ${MAX_KEY_BITS} bits, this one has ${bits}`, 'key_size');
  }
  const e = alg.publicExponent;
  if (!(e.length === 3 && e[0] === 1 && e[1] === 0 && e[2] === 1)) {
    throw new CryptoError('unsupported RSA public exponent (only 65537 is accepted)', 'exponent');
  }
  return bits;
}

/**
 * Imports a SubjectPublicKeyInfo DER, applying the protocol's key policy.
 * @param {Uint8Array} der
 * @returns {Promise<PublicKey>}
 */
export async function importPublicKey(der) {
  const bytes = own(der);
  let oaep;
  let pss;
  try {
    oaep = await subtle().importKey('spki', bytes, OAEP, true, ['encrypt']);
    pss = await subtle().importKey('spki', bytes, PSS, false, ['verify']);
  } catch {
    throw new CryptoError('not an RSA public key (SubjectPublicKeyInfo DER)', 'malformed');
  }
  const bits = checkPolicy(oaep);
  // Only canonical encodings: the fingerprint must be of what was sent.
  const canonical = new Uint8Array(await subtle().exportKey('spki', oaep));
  if (!bytesEqual(canonical, bytes)) throw new CryptoError('non-canonical SubjectPublicKeyInfo', 'malformed');
  return { der: bytes, fingerprint: await fingerprint(bytes), bits, oaep, pss };
}

/**
 * Imports a public key from its base64 wire form.
 * @param {string} b64
 */
export async function importPublicKeyBase64(b64) {
  return importPublicKey(b64decode(b64, 'public key'));
}

/**
 * Imports a PKCS#8 DER as non-extractable keys. The caller should overwrite
 * the DER afterwards (see `wipe`); nothing here keeps it.
 * @param {Uint8Array} pkcs8
 * @param {PublicKey} [expected] if given, the key must be its private half
 * @returns {Promise<Identity>}
 */
export async function importPrivateKey(pkcs8, expected) {
  const bytes = own(pkcs8);
  try {
    let decrypt;
    let sign;
    let publicDer;
    try {
      decrypt = await subtle().importKey('pkcs8', bytes, OAEP, false, ['decrypt']);
      sign = await subtle().importKey('pkcs8', bytes, PSS, false, ['sign']);
      // The public half comes from a short-lived extractable copy: WebCrypto
      // has no other way to read it, and the copy is dropped at once.
      const tmp = await subtle().importKey('pkcs8', bytes, PSS, true, ['sign']);
      const jwk = await subtle().exportKey('jwk', tmp);
      const pub = await subtle().importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'PS256', ext: true }, PSS, true, ['verify']);
      publicDer = new Uint8Array(await subtle().exportKey('spki', pub));
    } catch {
      throw new CryptoError('not an RSA private key (PKCS#8 DER)', 'malformed');
    }
    checkPolicy(decrypt);
    const publicKey = await importPublicKey(publicDer);
    if (expected && !bytesEqual(expected.der, publicKey.der)) {
      throw new CryptoError('the private key does not belong to the public key', 'key_mismatch');
    }
    return { publicKey, decrypt, sign };
  } finally {
    wipe(bytes);
  }
}

/**
 * Overwrites secret bytes that are no longer needed.
 * @param {Uint8Array} bytes
 */
export function wipe(bytes) {
  bytes.fill(0);
}

/**
 * Generates a key pair. Returns the non-extractable identity and the PKCS#8
 * DER, which the caller encrypts (or exports) once and then wipes.
 * @param {number} [bits]
 * @returns {Promise<{identity: Identity, pkcs8: Bytes}>}
 */
export async function generateKeyPair(bits = DEFAULT_KEY_BITS) {
  if (!(bits >= MIN_KEY_BITS && bits <= MAX_KEY_BITS)) throw new CryptoError(`unsupported key size ${bits}`, 'key_size');
  const pair = /** @type {CryptoKeyPair} */ (
    await subtle().generateKey(
      { ...PSS, modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]) },
      true,
      ['sign', 'verify'],
    )
  );
  const pkcs8 = new Uint8Array(await subtle().exportKey('pkcs8', pair.privateKey));
  const identity = await importPrivateKey(own(pkcs8));
  return { identity, pkcs8 };
}

/**
 * RSA-OAEP-SHA-256 wrap of a 32-byte key.
 * @param {PublicKey} to
 * @param {Uint8Array} key
 * @returns {Promise<Bytes>}
 */
export async function wrapKey(to, key) {
  return new Uint8Array(await subtle().encrypt(OAEP, to.oaep, own(key)));
}

/**
 * Unwraps a 32-byte key; any failure is one "cannot decrypt" error.
 * @param {Identity} me
 * @param {Uint8Array} wrapped
 * @returns {Promise<Bytes>}
 */
export async function unwrapKey(me, wrapped) {
  let out;
  try {
    out = new Uint8Array(await subtle().decrypt(OAEP, me.decrypt, own(wrapped)));
  } catch {
    throw new CryptoError('cannot unwrap the key (not addressed to this key pair, or altered)', 'decrypt');
  }
  if (out.length !== KEY_LEN) throw new CryptoError('unwrapped key has the wrong length', 'decrypt');
  return out;
}

/**
 * RSA-PSS-SHA-256 (salt 32) signature.
 * @param {Identity} me
 * @param {Uint8Array} message
 * @returns {Promise<Bytes>}
 */
export async function sign(me, message) {
  return new Uint8Array(await subtle().sign({ name: 'RSA-PSS', saltLength: PSS_SALT }, me.sign, own(message)));
}

/**
 * Verifies an RSA-PSS-SHA-256 (salt 32) signature.
 * @param {PublicKey} signer
 * @param {Uint8Array} message
 * @param {Uint8Array} signature
 * @returns {Promise<boolean>}
 */
export async function verify(signer, message, signature) {
  if (signature.length !== Math.ceil(signer.bits / 8)) return false;
  try {
    return await subtle().verify({ name: 'RSA-PSS', saltLength: PSS_SALT }, signer.pss, own(signature), own(message));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- envelopes

/**
 * The per-request secret: K and the request IV.
 * @typedef {{k: Bytes, iv: Bytes}} RequestSecret
 */

/**
 * A request envelope as it travels (`EncryptedBody` with `key`).
 * @typedef {{version: 1, key: string, iv: string, data: string, signature?: string}} WireRequest
 */

/**
 * Seals a request body for the server, signing it if `signer` is given.
 * @param {PublicKey} server
 * @param {Uint8Array} body UTF-8 JSON of the Body
 * @param {Identity | null} signer
 * @param {RandomSource} [rand] draws K (32 bytes) then the IV (12)
 * @returns {Promise<{envelope: WireRequest, secret: RequestSecret, raw: {key: Bytes, iv: Bytes, data: Bytes, signature?: Bytes}}>}
 */
export async function sealRequest(server, body, signer, rand = randomBytes) {
  const k = rand(KEY_LEN);
  const iv = rand(IV_LEN);
  const data = await aesEncrypt(k, iv, new Uint8Array(0), body);
  const key = await wrapKey(server, k);
  /** @type {WireRequest} */
  const envelope = { version: 1, key: b64encode(key), iv: b64encode(iv), data: b64encode(data) };
  /** @type {{key: Bytes, iv: Bytes, data: Bytes, signature?: Bytes}} */
  const raw = { key, iv, data };
  if (signer) {
    raw.signature = await sign(signer, concat(key, iv, data));
    envelope.signature = b64encode(raw.signature);
  }
  return { envelope, secret: { k, iv }, raw };
}

/**
 * HKDF-SHA-256(ikm = K, salt = iv, info), 32 bytes.
 * @param {RequestSecret} secret
 * @param {string} info
 * @returns {Promise<Bytes>}
 */
export async function deriveKey(secret, info) {
  const ikm = await subtle().importKey('raw', own(secret.k), 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: own(secret.iv), info: utf8(info) },
    ikm,
    KEY_LEN * 8,
  );
  return new Uint8Array(bits);
}

/**
 * Opens a response (`EncryptedBody` without key) to the request of `secret`.
 * @param {RequestSecret} secret
 * @param {{iv: string, data: string}} envelope
 * @returns {Promise<Bytes>} the body JSON bytes
 */
export async function openResponse(secret, envelope) {
  const kResp = await deriveKey(secret, RESPONSE_INFO);
  return aesDecrypt(kResp, b64decode(envelope.iv, 'iv'), new Uint8Array(0), b64decode(envelope.data, 'data'));
}

/**
 * Seals a response (the server's side; used by tests and fakes).
 * @param {RequestSecret} secret
 * @param {Uint8Array} body
 * @param {RandomSource} [rand] draws the IV
 */
export async function sealResponse(secret, body, rand = randomBytes) {
  const iv = rand(IV_LEN);
  const data = await aesEncrypt(await deriveKey(secret, RESPONSE_INFO), iv, new Uint8Array(0), body);
  return { version: 1, iv: b64encode(iv), data: b64encode(data) };
}

/**
 * The AAD of event `seq`: "nanochat/v1 event" || seq as u64 big-endian.
 * @param {number | bigint} seq
 * @returns {Bytes}
 */
export function eventAad(seq) {
  const n = BigInt(seq);
  if (n < 0n || n > 0xffffffffffffffffn) throw new CryptoError('event seq out of range', 'malformed');
  const be = new Uint8Array(8);
  new DataView(be.buffer).setBigUint64(0, n);
  return concat(utf8(EVENT_AAD_PREFIX), be);
}

/**
 * Accepts events of one WebSocket session only in strictly increasing `seq`
 * order, so a replayed, duplicated or reordered frame is refused.
 */
export class EventReceiver {
  /** @param {Uint8Array} kEvents the session's event key */
  constructor(kEvents) {
    /** @private */
    this.key = own(kEvents);
    /** @type {number | null} */
    this.last = null;
  }

  /**
   * Builds a receiver for the session opened by the request of `secret`.
   * @param {RequestSecret} secret
   */
  static async forSession(secret) {
    return new EventReceiver(await deriveKey(secret, EVENTS_INFO));
  }

  /**
   * Checks order, decrypts and only on success records `seq`.
   * @param {{seq?: number, iv: string, data: string}} envelope
   * @returns {Promise<Bytes>}
   */
  async open(envelope) {
    const seq = envelope.seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
      throw new CryptoError('event without a valid seq', 'malformed');
    }
    if (this.last !== null && seq <= this.last) {
      throw new CryptoError(`event seq ${seq} does not follow ${this.last} (replayed or reordered)`, 'replay');
    }
    const body = await aesDecrypt(this.key, b64decode(envelope.iv, 'iv'), eventAad(seq), b64decode(envelope.data, 'data'));
    this.last = seq;
    return body;
  }
}

// ------------------------------------------------- canonical signed bytes

/**
 * @param {Uint8Array} field
 */
function lengthPrefixed(field) {
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
function byUsernameBytes(a, b) {
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
function checkRevision(revision) {
  if (!Number.isSafeInteger(revision) || revision < 1) throw new CryptoError('name revision must be at least 1', 'malformed');
}

// ------------------------------------------------ sealing to the members

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
function sortedMembers(sealer, members) {
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
async function wrapForMembers(key, sorted) {
  const out = [];
  for (const m of sorted) out.push({ username: m.username, wrapped: await wrapKey(m.publicKey, key), keyIndex: m.keyIndex });
  return out;
}

/**
 * The wire form of wrapped keys, with `key_index` where the member's index is known.
 * @param {{username: string, wrapped: Uint8Array, keyIndex?: number}[]} wrapped
 * @returns {WireWrappedKey[]}
 */
function wireWrappedKeys(wrapped) {
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
async function checkOwnEntry(recipients, reader, wrapped) {
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
function parseRecipients(recipients) {
  if (!Array.isArray(recipients)) throw new CryptoError('recipients must be a list', 'malformed');
  return recipients.map((r) => ({ username: String(r.username), keyDigest: b64decode(r.key_digest, 'key_digest') }));
}

// ------------------------------------------------------- message content

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

// ------------------------------------------------------ conversation names

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
 * For a message or name signed over the keyed bytes (`signature_version`
 * 2, api.yml "Key history"), the fingerprint of the key that verifies it;
 * `undefined` for version 1.
 * @param {{signature_version?: number}} signed
 * @param {PublicKey} signer
 * @returns {Promise<Uint8Array | undefined>}
 */
async function signerOf(signed, signer) {
  const version = signed.signature_version ?? 1;
  if (version === 1) return undefined;
  if (version !== 2) throw new CryptoError(`signature_version ${version} is not 1 or 2`, 'malformed');
  return sha256(signer.der);
}

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

// -------------------------------------------- password-encrypted keys

/** @typedef {{m_cost: number, t_cost: number, p_cost: number}} KdfParams */

/** The protocol's minimum and this client's default Argon2id parameters. */
export const KDF_DEFAULT = Object.freeze({ m_cost: 19456, t_cost: 2, p_cost: 1 });
/** The most expensive parameters a reader accepts (a blob cannot make us spend more). */
export const KDF_MAX = Object.freeze({ m_cost: 1024 * 1024, t_cost: 20, p_cost: 16 });
/** The most work (KiB x passes) a reader accepts, whatever each parameter: 1 GiB x 2, as the Rust core (`KdfParams::MAX_WORK`). */
export const KDF_MAX_WORK = KDF_MAX.m_cost * KDF_DEFAULT.t_cost;
/** Salt length of an EncryptedPrivateKey. */
export const SALT_LEN = 16;

/**
 * The `EncryptedPrivateKey` schema: version 1 holds one PKCS#8 DER, version
 * 2 a key ring (api.yml, "Password-encrypted private keys").
 * @typedef {{version: 1 | 2, kdf: 'argon2id', m_cost: number, t_cost: number, p_cost: number, salt: string, iv: string, ciphertext: string}} EncryptedPrivateKey
 */

/**
 * @param {KdfParams} p
 */
function checkKdf(p) {
  for (const f of /** @type {const} */ (['m_cost', 't_cost', 'p_cost'])) {
    if (!Number.isSafeInteger(p[f])) throw new CryptoError(`${f} must be an integer`, 'malformed');
  }
  if (p.m_cost < KDF_DEFAULT.m_cost || p.t_cost < KDF_DEFAULT.t_cost || p.p_cost < KDF_DEFAULT.p_cost) {
    throw new CryptoError('the Argon2id parameters are weaker than the protocol minimum', 'weak_kdf');
  }
  if (p.m_cost > KDF_MAX.m_cost || p.t_cost > KDF_MAX.t_cost || p.p_cost > KDF_MAX.p_cost) {
    throw new CryptoError('the Argon2id parameters are too expensive to accept', 'kdf_too_expensive');
  }
  if (p.m_cost * p.t_cost > KDF_MAX_WORK) {
    throw new CryptoError('the Argon2id parameters are too expensive to accept', 'kdf_too_expensive');
  }
}

/**
 * Argon2id v0x13 → the 32-byte AES key.
 * @param {Uint8Array} password
 * @param {Uint8Array} salt
 * @param {KdfParams} params
 * @returns {Promise<Bytes>}
 */
export async function deriveKeyFromPassword(password, salt, params) {
  checkKdf(params);
  const out = await argon2id({
    password,
    salt,
    iterations: params.t_cost,
    parallelism: params.p_cost,
    memorySize: params.m_cost,
    hashLength: KEY_LEN,
    outputType: 'binary',
  });
  return own(out);
}

/**
 * Encrypts a PKCS#8 DER under a password.
 * @param {Uint8Array} pkcs8
 * @param {string} password
 * @param {KdfParams} [params]
 * @param {RandomSource} [rand] draws the salt (16) then the IV (12)
 * @returns {Promise<EncryptedPrivateKey>}
 */
export async function encryptPrivateKey(pkcs8, password, params = KDF_DEFAULT, rand = randomBytes) {
  return sealUnderPassword(1, pkcs8, password, params, rand);
}

/**
 * @param {1 | 2} version
 * @param {Uint8Array} plaintext a PKCS#8 DER (version 1) or ring bytes (version 2)
 * @param {string} password
 * @param {KdfParams} params
 * @param {RandomSource} rand draws the salt (16) then the IV (12)
 * @returns {Promise<EncryptedPrivateKey>}
 */
async function sealUnderPassword(version, plaintext, password, params, rand) {
  if (!password) throw new CryptoError('the password of the key cannot be empty', 'malformed');
  checkKdf(params);
  const salt = rand(SALT_LEN);
  const iv = rand(IV_LEN);
  const key = await deriveKeyFromPassword(utf8(password), salt, params);
  const ciphertext = await aesEncrypt(key, iv, utf8(aadOf(version)), plaintext);
  wipe(key);
  return {
    version,
    kdf: 'argon2id',
    m_cost: params.m_cost,
    t_cost: params.t_cost,
    p_cost: params.p_cost,
    salt: b64encode(salt),
    iv: b64encode(iv),
    ciphertext: b64encode(ciphertext),
  };
}

/**
 * Checks an EncryptedPrivateKey's shape (from a file or the server).
 * @param {unknown} blob
 * @returns {EncryptedPrivateKey}
 */
export function validateEncryptedPrivateKey(blob) {
  if (typeof blob !== 'object' || blob === null) throw new CryptoError('the encrypted private key is not an object', 'malformed');
  const b = /** @type {Record<string, unknown>} */ (blob);
  if (b.version !== 1 && b.version !== 2) {
    throw new CryptoError(`unsupported encrypted key version ${JSON.stringify(b.version)}`, 'unsupported_version');
  }
  if (b.kdf !== 'argon2id') throw new CryptoError(`unsupported key derivation ${JSON.stringify(b.kdf)}`, 'malformed');
  const params = { m_cost: Number(b.m_cost), t_cost: Number(b.t_cost), p_cost: Number(b.p_cost) };
  checkKdf(params);
  if (b64decode(/** @type {string} */ (b.salt), 'salt').length !== SALT_LEN) throw new CryptoError(`the salt must be ${SALT_LEN} bytes`, 'bad_length');
  checkIv(b64decode(/** @type {string} */ (b.iv), 'iv'));
  if (b64decode(/** @type {string} */ (b.ciphertext), 'ciphertext').length < TAG_LEN) throw new CryptoError('ciphertext shorter than its tag', 'bad_length');
  return /** @type {EncryptedPrivateKey} */ (blob);
}

/**
 * The AES-GCM AAD of an EncryptedPrivateKey format version.
 * @param {number} version
 */
function aadOf(version) {
  if (version === 1) return PRIVATE_KEY_AAD;
  if (version === 2) return KEY_RING_AAD;
  throw new CryptoError(`unsupported encrypted key version ${JSON.stringify(version)}`, 'unsupported_version');
}

/**
 * Decrypts an EncryptedPrivateKey to its plaintext (a PKCS#8 DER for
 * version 1, ring bytes for version 2).
 * @param {EncryptedPrivateKey} blob
 * @param {string} password
 * @returns {Promise<Bytes>}
 */
async function openUnderPassword(blob, password) {
  validateEncryptedPrivateKey(blob);
  const key = await deriveKeyFromPassword(utf8(password), b64decode(blob.salt), blob);
  try {
    return await aesDecrypt(key, b64decode(blob.iv), utf8(aadOf(blob.version)), b64decode(blob.ciphertext));
  } catch {
    throw new CryptoError('wrong password for this private key (or the encrypted key is damaged)', 'wrong_password');
  } finally {
    wipe(key);
  }
}

/**
 * Decrypts an EncryptedPrivateKey to the current PKCS#8 DER (wipe it after
 * import): the only key of a version 1 blob, the last key of a version 2
 * ring (use decryptPrivateKeyRing for all of them). A wrong password is a
 * CryptoError with code `wrong_password`.
 * @param {EncryptedPrivateKey} blob
 * @param {string} password
 * @returns {Promise<Bytes>}
 */
export async function decryptPrivateKey(blob, password) {
  const ring = await decryptPrivateKeyRing(blob, password);
  const current = /** @type {Bytes} */ (ring.pop());
  for (const earlier of ring) wipe(earlier);
  return current;
}

/**
 * Decrypts an EncryptedPrivateKey to every PKCS#8 DER it holds, oldest
 * first, the last one current: a version 1 blob is a ring of one key. A
 * wrong password is a CryptoError with code `wrong_password`; ring bytes
 * that do not parse are code `malformed`. The keys are not imported here
 * (importPrivateKey applies the key policy); wipe them after import.
 * @param {EncryptedPrivateKey} blob
 * @param {string} password
 * @returns {Promise<Bytes[]>}
 */
export async function decryptPrivateKeyRing(blob, password) {
  const plain = await openUnderPassword(blob, password);
  if (blob.version === 1) return [plain];
  try {
    return parseRingBytes(plain);
  } finally {
    wipe(plain);
  }
}

/**
 * Encrypts a key ring under a password: one key gives exactly what
 * encryptPrivateKey writes (version 1), more give version 2 over the ring
 * bytes. A key listed twice is kept once, at its last place, so the
 * current key stays current.
 * @param {Uint8Array[]} pkcs8List PKCS#8 DERs, oldest first, the last one current
 * @param {string} password
 * @param {KdfParams} [params]
 * @param {RandomSource} [rand] draws the salt (16) then the IV (12)
 * @returns {Promise<EncryptedPrivateKey>}
 */
export async function encryptPrivateKeyRing(pkcs8List, password, params = KDF_DEFAULT, rand = randomBytes) {
  const ring = uniqueKeepingLast(pkcs8List);
  if (ring.length === 1) return encryptPrivateKey(ring[0], password, params, rand);
  const bytes = keyRingBytes(ring);
  try {
    return await sealUnderPassword(2, bytes, password, params, rand);
  } finally {
    wipe(bytes);
  }
}

/**
 * The list without earlier copies of a key that appears again later.
 * @param {Uint8Array[]} keys
 */
function uniqueKeepingLast(keys) {
  if (!Array.isArray(keys) || keys.length === 0) throw new CryptoError('a key ring holds at least one key', 'malformed');
  return keys.filter((k, i) => !keys.slice(i + 1).some((later) => bytesEqual(k, later)));
}

/**
 * The ring bytes (api.yml, "Password-encrypted private keys"): the number
 * of keys as a u32 big-endian, then per key, oldest first, its PKCS#8 DER
 * as a u32 big-endian length followed by the bytes.
 * @param {Uint8Array[]} pkcs8List oldest first, the last one current
 * @returns {Bytes}
 */
export function keyRingBytes(pkcs8List) {
  if (pkcs8List.length === 0) throw new CryptoError('a key ring holds at least one key', 'malformed');
  if (pkcs8List.length > MAX_RING_KEYS) throw new CryptoError(`a key ring holds at most ${MAX_RING_KEYS} keys`, 'malformed');
  for (const der of pkcs8List) {
    if (der.length === 0 || der.length > MAX_RING_KEY_BYTES) {
      throw new CryptoError(`a key in a key ring is 1 to ${MAX_RING_KEY_BYTES} bytes`, 'malformed');
    }
  }
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, pkcs8List.length);
  return concat(count, ...pkcs8List.map(lengthPrefixed));
}

/**
 * Parses ring bytes into PKCS#8 DERs, oldest first; a key that appears
 * twice is kept once, at its first place (as the Rust core's KeyRing).
 * Refuses (code `malformed`) a count of 0 or over 256, a truncated or
 * oversized entry and trailing bytes.
 * @param {Uint8Array} bytes
 * @returns {Bytes[]}
 */
export function parseRingBytes(bytes) {
  const bad = (/** @type {string} */ why) => new CryptoError(`the key ring is malformed: ${why}`, 'malformed');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = () => {
    if (bytes.length - at < 4) throw bad('it is truncated');
    const n = view.getUint32(at);
    at += 4;
    return n;
  };
  const count = u32();
  if (count === 0 || count > MAX_RING_KEYS) throw bad(`it holds ${count} keys (1 to ${MAX_RING_KEYS} allowed)`);
  /** @type {Bytes[]} */
  const keys = [];
  try {
    for (let i = 0; i < count; i++) {
      const len = u32();
      if (len > MAX_RING_KEY_BYTES) throw bad(`key ${i + 1} claims ${len} bytes (at most ${MAX_RING_KEY_BYTES})`);
      if (len > bytes.length - at) throw bad(`key ${i + 1} is truncated`);
      const der = bytes.slice(at, at + len);
      at += len;
      if (keys.some((k) => bytesEqual(k, der))) wipe(der);
      else keys.push(der);
    }
    if (at !== bytes.length) throw bad('trailing bytes after the last key');
  } catch (e) {
    for (const k of keys) wipe(k);
    throw e;
  }
  return keys;
}

/**
 * Compact JSON of an EncryptedPrivateKey in the Rust field order.
 * @param {EncryptedPrivateKey} blob
 */
export function encryptedPrivateKeyJson(blob) {
  const { version, kdf, m_cost, t_cost, p_cost, salt, iv, ciphertext } = blob;
  return JSON.stringify({ version, kdf, m_cost, t_cost, p_cost, salt, iv, ciphertext });
}

// ---------------------------------------------------------------- key files

/**
 * The `.json` key file, shared with the Rust client: version 1 holds one
 * key, version 2 a key ring (plain: the current key in `pkcs8` and the
 * earlier ones, oldest first, in `earlier`; encrypted: an
 * EncryptedPrivateKey of version 2).
 * @typedef {object} KeyFile
 * @property {1 | 2} version
 * @property {string} server
 * @property {string} username
 * @property {string} public_key base64 SPKI DER of the current key
 * @property {{encoding: 'plain', pkcs8: string, earlier?: string[]} | ({encoding: 'encrypted'} & EncryptedPrivateKey)} private_key
 */

/**
 * Builds a key file, encrypting the private key if a password is given.
 * @param {string} server
 * @param {string} username
 * @param {Uint8Array} publicDer
 * @param {Uint8Array} pkcs8
 * @param {string | null} password
 * @param {RandomSource} [rand]
 * @returns {Promise<KeyFile>}
 */
export async function makeKeyFile(server, username, publicDer, pkcs8, password, rand = randomBytes) {
  const privateKey = password
    ? { encoding: /** @type {const} */ ('encrypted'), ...(await encryptPrivateKey(pkcs8, password, KDF_DEFAULT, rand)) }
    : { encoding: /** @type {const} */ ('plain'), pkcs8: b64encode(pkcs8) };
  return { version: 1, server, username, public_key: b64encode(publicDer), private_key: privateKey };
}

/**
 * Builds a key file of a key ring: version 1 (exactly what makeKeyFile
 * writes) when it holds one key, else version 2; encrypted if a password is
 * given. A key listed twice is kept once, at its last place.
 * @param {string} server
 * @param {string} username
 * @param {Uint8Array} publicDer the current (last) key's SPKI DER
 * @param {Uint8Array[]} pkcs8List PKCS#8 DERs, oldest first, the last one current
 * @param {string | null} password
 * @param {RandomSource} [rand] draws the salt (16) then the IV (12) when encrypted
 * @returns {Promise<KeyFile>}
 */
export async function makeKeyFileRing(server, username, publicDer, pkcs8List, password, rand = randomBytes) {
  const ring = uniqueKeepingLast(pkcs8List);
  if (ring.length === 1) return makeKeyFile(server, username, publicDer, ring[0], password, rand);
  if (ring.length > MAX_RING_KEYS) throw new CryptoError(`a key ring holds at most ${MAX_RING_KEYS} keys`, 'malformed');
  const privateKey = password
    ? { encoding: /** @type {const} */ ('encrypted'), ...(await encryptPrivateKeyRing(ring, password, KDF_DEFAULT, rand)) }
    : {
        encoding: /** @type {const} */ ('plain'),
        pkcs8: b64encode(ring[ring.length - 1]),
        earlier: ring.slice(0, -1).map((der) => b64encode(der)),
      };
  return { version: 2, server, username, public_key: b64encode(publicDer), private_key: privateKey };
}

/**
 * The exact text the Rust `KeyFile::to_json` writes (two-space indent, its
 * field order; `earlier` only when not empty).
 * @param {KeyFile} file
 */
export function keyFileJson(file) {
  const pk = file.private_key;
  const privateKey =
    pk.encoding === 'plain'
      ? pk.earlier && pk.earlier.length > 0
        ? { encoding: 'plain', pkcs8: pk.pkcs8, earlier: pk.earlier }
        : { encoding: 'plain', pkcs8: pk.pkcs8 }
      : {
          encoding: 'encrypted',
          version: pk.version,
          kdf: pk.kdf,
          m_cost: pk.m_cost,
          t_cost: pk.t_cost,
          p_cost: pk.p_cost,
          salt: pk.salt,
          iv: pk.iv,
          ciphertext: pk.ciphertext,
        };
  return JSON.stringify(
    { version: file.version, server: file.server, username: file.username, public_key: file.public_key, private_key: privateKey },
    null,
    2,
  );
}

/**
 * Parses and checks a key file's shape and version.
 * @param {string} text
 * @returns {KeyFile}
 */
export function parseKeyFile(text) {
  let v;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CryptoError('this file is not a key file (invalid JSON)', 'malformed');
  }
  if (typeof v !== 'object' || v === null) throw new CryptoError('this file is not a key file', 'malformed');
  if (v.version !== 1 && v.version !== 2) throw new CryptoError(`unsupported key file version ${JSON.stringify(v.version)}`, 'unsupported_version');
  for (const f of ['server', 'username', 'public_key']) {
    if (typeof v[f] !== 'string') throw new CryptoError(`the key file has no ${f}`, 'malformed');
  }
  b64decode(v.public_key, 'public_key');
  const pk = v.private_key;
  if (typeof pk !== 'object' || pk === null) throw new CryptoError('the key file has no private_key', 'malformed');
  let holdsRing;
  if (pk.encoding === 'plain') {
    b64decode(pk.pkcs8, 'pkcs8');
    if (pk.earlier !== undefined) {
      if (!Array.isArray(pk.earlier)) throw new CryptoError('the key file\'s earlier keys are not a list', 'malformed');
      for (const der of pk.earlier) b64decode(der, 'earlier key');
    }
    holdsRing = Array.isArray(pk.earlier) && pk.earlier.length > 0;
  } else if (pk.encoding === 'encrypted') {
    validateEncryptedPrivateKey(pk);
    holdsRing = pk.version !== 1;
  } else {
    throw new CryptoError(`unknown private key encoding ${JSON.stringify(pk.encoding)}`, 'malformed');
  }
  if (v.version === 1 && holdsRing) throw new CryptoError('a version 1 key file holds one key', 'malformed');
  return v;
}

/**
 * Whether the key file's private key needs a password.
 * @param {KeyFile} file
 */
export function keyFileIsEncrypted(file) {
  return file.private_key.encoding === 'encrypted';
}

/**
 * The key file's private key as an identity (decrypted with `password` if
 * encrypted), checked against the file's public key. Also returns the
 * PKCS#8 DER, which the caller encrypts for local storage and then wipes.
 * @param {KeyFile} file
 * @param {string | null} password
 * @returns {Promise<{identity: Identity, pkcs8: Bytes}>}
 */
export async function openKeyFile(file, password) {
  const { identity, pkcs8, ring } = await openKeyFileRing(file, password);
  for (const earlier of ring.slice(0, -1)) wipe(earlier);
  return { identity, pkcs8 };
}

/**
 * Every key of a key file (one for version 1), decrypted with `password`
 * if encrypted, each imported (key policy applied), the current one checked
 * against the file's public key (`key_mismatch`). A key that appears twice
 * is kept once, at its first place (as the Rust core's KeyRing).
 *
 * Returns `ring`, the PKCS#8 DERs, and `identities`, the imported keys,
 * both oldest first with the current key last, and the current ones on
 * their own (`identity`, `pkcs8`: what openKeyFile returns). The caller encrypts the DERs for
 * local storage and then wipes them.
 * @param {KeyFile} file
 * @param {string | null} password
 * @returns {Promise<{identities: Identity[], ring: Bytes[], identity: Identity, pkcs8: Bytes}>}
 */
export async function openKeyFileRing(file, password) {
  const publicKey = await importPublicKeyBase64(file.public_key);
  const pk = file.private_key;
  /** @type {Bytes[]} */
  let ders;
  if (pk.encoding === 'plain') {
    ders = [...(pk.earlier ?? []).map((der) => b64decode(der, 'earlier key')), b64decode(pk.pkcs8, 'pkcs8')];
  } else {
    if (!password) throw new CryptoError('this key file is encrypted: enter the password of the key', 'password_required');
    ders = await decryptPrivateKeyRing(pk, password);
  }
  if (ders.length > MAX_RING_KEYS) throw new CryptoError(`a key ring holds at most ${MAX_RING_KEYS} keys`, 'malformed');
  /** @type {Identity[]} */
  const identities = [];
  /** @type {Bytes[]} */
  const ring = [];
  try {
    for (const der of ders) {
      const id = await importPrivateKey(own(der));
      if (identities.some((k) => k.publicKey.fingerprint === id.publicKey.fingerprint)) {
        wipe(der);
        continue;
      }
      identities.push(id);
      ring.push(der);
    }
  } catch (e) {
    for (const der of ders) wipe(der);
    throw e;
  }
  const identity = identities[identities.length - 1];
  if (!bytesEqual(identity.publicKey.der, publicKey.der)) {
    for (const der of ring) wipe(der);
    throw new CryptoError('the private key does not belong to the public key', 'key_mismatch');
  }
  return { identities, ring, identity, pkcs8: ring[ring.length - 1] };
}

// ------------------------------------------------------------- key history

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
