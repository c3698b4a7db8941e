// Key files (src/crypto/keyfile.rs): the `.json` export shared with the
// Rust client, holding one key (version 1) or a key ring (version 2),
// plain or under a password; written exactly as the Rust client writes
// it, parsed and opened into identities.

import { CryptoError, b64decode, b64encode, bytesEqual, own, randomBytes } from './crypto-bytes.js';
import { importPrivateKey, importPublicKeyBase64, wipe } from './crypto-keys.js';
import {
  KDF_DEFAULT,
  MAX_RING_KEYS,
  decryptPrivateKeyRing,
  encryptPrivateKey,
  encryptPrivateKeyRing,
  uniqueKeepingLast,
  validateEncryptedPrivateKey,
} from './crypto-password.js';

/** @import { Bytes, RandomSource } from './crypto-bytes.js' */
/** @import { Identity } from './crypto-keys.js' */
/** @import { EncryptedPrivateKey } from './crypto-password.js' */

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
