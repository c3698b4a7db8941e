// RSA keys (src/crypto/keys.rs): the key policy (2048 to 4096 bits,
// exponent 65537), importing public and private keys as WebCrypto keys,
// generating a key pair, RSA-OAEP key wrapping and RSA-PSS signatures.

import { CryptoError, b64decode, bytesEqual, fingerprint, own, subtle } from './crypto-bytes.js';
import { KEY_LEN } from './crypto-aead.js';

/** @import { Bytes } from './crypto-bytes.js' */

/** Smallest accepted RSA modulus, in bits. */
export const MIN_KEY_BITS = 2048;
/** Largest accepted RSA modulus, in bits. */
export const MAX_KEY_BITS = 4096;
/** The size of keys this client generates. */
export const DEFAULT_KEY_BITS = 3072;

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
