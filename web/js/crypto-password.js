// Password-encrypted keys (src/crypto/password.rs and ring.rs): Argon2id
// (the vendored hash-wasm build), the EncryptedPrivateKey of one key
// (version 1) or a key ring (version 2), and the ring bytes.
//
// `uniqueKeepingLast` is exported for crypto-keyfile.js only; crypto.js
// does not re-export it.

import { argon2id } from '../vendor/argon2.js';
import { CryptoError, b64decode, b64encode, bytesEqual, concat, own, randomBytes, utf8 } from './crypto-bytes.js';
import { IV_LEN, KEY_LEN, TAG_LEN, aesDecrypt, aesEncrypt, checkIv } from './crypto-aead.js';
import { wipe } from './crypto-keys.js';
import { lengthPrefixed } from './crypto-canonical.js';

/** @import { Bytes, RandomSource } from './crypto-bytes.js' */

/** AAD of a password-encrypted private key. */
export const PRIVATE_KEY_AAD = 'nanochat/v1 private-key';
/** AAD of a password-encrypted key ring (EncryptedPrivateKey version 2). */
export const KEY_RING_AAD = 'nanochat/v1 private-key ring';
/** Most keys a key ring holds. */
export const MAX_RING_KEYS = 256;
/** Largest PKCS#8 DER a key ring accepts for one key. */
export const MAX_RING_KEY_BYTES = 16384;

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
export function uniqueKeepingLast(keys) {
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
