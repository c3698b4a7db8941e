// Request envelopes, responses and events (src/crypto/envelope.rs): a
// request sealed to the server key (and signed), the response and event
// keys derived from it, and the receiver that takes events of one
// WebSocket session only in order.

import { CryptoError, b64decode, b64encode, concat, own, randomBytes, subtle, utf8 } from './crypto-bytes.js';
import { IV_LEN, KEY_LEN, aesDecrypt, aesEncrypt } from './crypto-aead.js';
import { sign, wrapKey } from './crypto-keys.js';

/** @import { Bytes, RandomSource } from './crypto-bytes.js' */
/** @import { Identity, PublicKey } from './crypto-keys.js' */

/** HKDF info of the response key. */
export const RESPONSE_INFO = 'nanochat/v1 response';
/** HKDF info of the event key. */
export const EVENTS_INFO = 'nanochat/v1 events';
/** AAD prefix of an event (followed by seq, u64 big-endian). */
export const EVENT_AAD_PREFIX = 'nanochat/v1 event';

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
