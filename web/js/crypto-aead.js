// AES-256-GCM with explicit key, IV and AAD (src/crypto/aead.rs): the
// building block of envelopes, sealed content and names, and
// password-encrypted keys.
//
// `checkIv` is exported for crypto-password.js only; crypto.js does not
// re-export it.

import { CryptoError, own, subtle } from './crypto-bytes.js';

/** @import { Bytes } from './crypto-bytes.js' */

/** AES-GCM IV length in bytes. */
export const IV_LEN = 12;
/** AES-256 key length in bytes. */
export const KEY_LEN = 32;
/** AES-GCM tag length in bytes. */
export const TAG_LEN = 16;

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
export function checkIv(iv) {
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
