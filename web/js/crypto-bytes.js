// The ground the other crypto-*.js modules stand on (src/crypto/error.rs
// and b64.rs in the Rust core): the one error type, the browser's
// WebCrypto handle, random bytes, UTF-8, byte arrays, base64, hex,
// SHA-256 and the fingerprint people compare.
//
// `subtle` is exported for the sibling modules only; crypto.js, the public
// face, does not re-export it.

/** @typedef {Uint8Array<ArrayBuffer>} Bytes */
/** @typedef {(n: number) => Bytes} RandomSource */

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
export function subtle() {
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
