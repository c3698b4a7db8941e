// The NanoChat client transport in the browser: /references with key
// pinning, encrypted requests over POST /encrypted, and the event session
// over /websocket. Every response and event is checked (request_id and type
// echoed, seq increasing, created_at inside the freshness window) before
// its payload is handed on.

import * as c from './crypto.js';

/** @typedef {import('../gen/bodies.js').Bodies} Bodies */
/** @typedef {import('../gen/bodies.js').Events} Events */
/** @typedef {import('../gen/api.js').components['schemas']} Schemas */

/** An error the server (or a check of its answer) gave, fit to show a person. */
export class ApiError extends Error {
  /**
   * @param {string} code the protocol's ErrorCode, or a client-side reason
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

/**
 * POSTs JSON text; the status and the JSON answer (null if none).
 * @param {string} url
 * @param {string} text
 * @returns {Promise<{status: number, json: any}>}
 */
async function post(url, text) {
  let response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
  } catch (e) {
    throw new ApiError('unreachable', `cannot reach the server (${e instanceof Error ? e.message : e})`);
  }
  return { status: response.status, json: await response.json().catch(() => null) };
}

/**
 * As post, reporting upload progress (fetch cannot).
 * @param {string} url
 * @param {string} text
 * @param {(sent: number, total: number) => void} onProgress
 * @returns {Promise<{status: number, json: any}>}
 */
function postWithProgress(url, text, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('content-type', 'application/json');
    xhr.upload.onprogress = (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : text.length);
    xhr.onload = () => {
      let json = null;
      try {
        json = JSON.parse(xhr.responseText);
      } catch {
        // not JSON: the status says what happened
      }
      resolve({ status: xhr.status, json });
    };
    xhr.onerror = () => reject(new ApiError('unreachable', 'cannot reach the server (the connection failed)'));
    xhr.send(text);
  });
}

/**
 * Normalises a server URL the person typed: scheme and host, no trailing slash.
 * @param {string} text
 */
export function normaliseServerUrl(text) {
  const trimmed = text.trim();
  let url;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`);
  } catch {
    throw new ApiError('bad_server', `"${text}" is not a server address (for example https://chat.example.org)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ApiError('bad_server', 'the server address must start with https:// (or http:// for this computer)');
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * What /references announces, with the server key imported.
 * @typedef {object} ServerInfo
 * @property {string} url
 * @property {c.PublicKey} key
 * @property {string} fingerprint
 * @property {number} windowSeconds
 * @property {number} clockSkewSeconds local clock minus server clock
 * @property {Schemas['Limits']} limits
 */

/**
 * Fetches and checks /references. The caller pins `key.fingerprint`.
 * @param {string} url normalised server URL
 * @returns {Promise<ServerInfo>}
 */
export async function fetchReferences(url) {
  let response;
  try {
    response = await fetch(`${url}/references`, { cache: 'no-store' });
  } catch (e) {
    throw new ApiError('unreachable', `cannot reach ${url} (${e instanceof Error ? e.message : e})`);
  }
  if (!response.ok) throw new ApiError('unreachable', `${url}/references answered HTTP ${response.status}`);
  /** @type {Schemas['References']} */
  const refs = await response.json();
  if (refs.protocol_version !== 1) throw new ApiError('protocol', `the server speaks protocol ${refs.protocol_version}, this page speaks 1`);
  const key = await c.importPublicKeyBase64(refs.server_public_key);
  if (key.fingerprint !== refs.server_fingerprint) {
    throw new ApiError('protocol', 'the server announced a fingerprint that is not its key\'s');
  }
  return {
    url,
    key,
    fingerprint: key.fingerprint,
    windowSeconds: refs.freshness_window_seconds,
    clockSkewSeconds: (Date.now() - Date.parse(refs.server_time)) / 1000,
    limits: refs.limits,
  };
}

/** RFC 3339 UTC without fractional seconds, as the Rust side writes it. */
function now() {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * @param {string} createdAt
 * @param {number} windowSeconds
 */
function checkFresh(createdAt, windowSeconds) {
  const t = Date.parse(createdAt);
  if (Number.isNaN(t)) throw new ApiError('invalid_response', 'the answer has no valid created_at');
  const skew = Math.abs(Date.now() - t) / 1000;
  if (skew > windowSeconds) {
    throw new ApiError('invalid_response', `the answer is ${Math.round(skew)} s old or ahead; the window is ${windowSeconds} s (check this computer's clock)`);
  }
}

/**
 * @param {Uint8Array} bytes
 * @returns {any}
 */
function parseBody(bytes) {
  try {
    return JSON.parse(c.fromUtf8(bytes, 'body'));
  } catch {
    throw new ApiError('invalid_response', 'the answer is not a valid Body');
  }
}

/**
 * The request types whose envelope is not signed.
 * @param {string} type
 */
function isSigned(type) {
  return type !== 'user.sync';
}

/** One user's encrypted channel to one server. */
export class Client {
  /**
   * @param {ServerInfo} server
   * @param {string} username
   * @param {c.Identity | null} identity null until the key is known (user.sync)
   */
  constructor(server, username, identity) {
    this.server = server;
    this.username = username;
    this.identity = identity;
    /**
     * A change of this client's own key in flight (a rotation): the event
     * session, closed with 4001 when the server commits it, waits for it
     * before reconnecting with whichever key is current then.
     * @type {Promise<void> | null}
     */
    this.keyChange = null;
  }

  /**
   * The Body of a request.
   * @param {string} type
   * @param {object | undefined} payload
   */
  body(type, payload) {
    /** @type {Record<string, unknown>} */
    const body = { type, created_at: now(), request_id: crypto.randomUUID(), username: this.username };
    if (payload !== undefined) body.payload = payload;
    return body;
  }

  /**
   * Seals a Body into an envelope, signing it unless it is user.sync.
   * @param {Record<string, unknown>} body
   */
  async seal(body) {
    const type = /** @type {string} */ (body.type);
    if (isSigned(type) && !this.identity) throw new ApiError('no_key', `${type} needs your private key, which is not loaded`);
    return c.sealRequest(this.server.key, c.utf8(JSON.stringify(body)), isSigned(type) ? this.identity : null);
  }

  /**
   * Opens and checks the answer to `body`.
   * @param {Record<string, unknown>} body
   * @param {c.RequestSecret} secret
   * @param {{iv: string, data: string}} envelope
   * @returns {Promise<any>} the payload
   */
  async openAnswer(body, secret, envelope) {
    let plain;
    try {
      plain = await c.openResponse(secret, envelope);
    } catch {
      throw new ApiError('invalid_response', 'the answer does not decrypt under this request\'s key: it is not from the pinned server');
    }
    const answer = parseBody(plain);
    // An answer that decrypts comes from the server; when it could not read
    // our Body it cannot echo it, and its error is the answer.
    if (answer.request_id === undefined && answer.error) throw new ApiError(answer.error.code, answer.error.message);
    if (answer.type !== body.type) throw new ApiError('invalid_response', `the answer is for ${answer.type}, not ${body.type}`);
    if (answer.request_id !== body.request_id) throw new ApiError('invalid_response', 'the answer does not echo our request_id');
    checkFresh(answer.created_at, this.server.windowSeconds);
    if (answer.error) throw new ApiError(answer.error.code, answer.error.message);
    return answer.payload ?? {};
  }

  /**
   * Sends one request over POST /encrypted.
   * @template {keyof Bodies} T
   * @param {T} type
   * @param {Bodies[T]['payload']} [payload]
   * @param {{onProgress?: (sent: number, total: number) => void}} [options] onProgress: upload progress (large files)
   * @returns {Promise<Bodies[T]['response']>}
   */
  async request(type, payload, options = {}) {
    const body = this.body(String(type), payload ?? undefined);
    const { envelope, secret } = await this.seal(body);
    const url = `${this.server.url}/encrypted`;
    const text = JSON.stringify(envelope);
    const { status, json } = options.onProgress ? await postWithProgress(url, text, options.onProgress) : await post(url, text);
    if (status < 200 || status > 299) {
      if (json && typeof json.code === 'string') throw new ApiError(json.code, json.message);
      if (status === 413) throw new ApiError('too_large', 'the request is larger than the server accepts');
      throw new ApiError('unreachable', `the server answered HTTP ${status}`);
    }
    return this.openAnswer(body, secret, json);
  }

  /**
   * Opens an event session; see EventSession.
   * @param {(type: keyof Events, payload: any) => void} onEvent
   * @param {(state: 'open' | 'closed' | 'ended', reason?: string, code?: number) => void} onState
   */
  events(onEvent, onState) {
    return new EventSession(this, onEvent, onState);
  }
}

/** Close codes with which the server ends a session for good: the key was replaced (4001), the operator reset the user (4002), the user was deleted (4003). */
export const SESSION_ENDED = [4001, 4002, 4003];

/** The close code of a session whose key was replaced. */
const KEY_REPLACED = 4001;

/** The close code this page sends when it refuses a frame. */
const CLIENT_REFUSED = 4900;

/**
 * The live event stream over /websocket, reconnecting after a drop with a
 * growing delay. Each socket has its own event key and seq numbering; the
 * owner re-fetches state on every (re)open so nothing missed while
 * disconnected is lost, and keys messages by id so nothing is duplicated.
 */
export class EventSession {
  /**
   * @param {Client} client
   * @param {(type: keyof Events, payload: any) => void} onEvent
   * @param {(state: 'open' | 'closed' | 'ended', reason?: string, code?: number) => void} onState
   */
  constructor(client, onEvent, onState) {
    this.client = client;
    this.onEvent = onEvent;
    this.onState = onState;
    /** @type {WebSocket | null} */
    this.socket = null;
    this.stopped = false;
    this.retry = 0;
    /** Closed with 4001 (key replaced) and not open since. */
    this.replaced = false;
    /** Not reconnecting until release() (tests). */
    this.held = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.connect();
  }

  /** Stops for good (logout). */
  close() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000);
  }

  /** Drops the current socket as a network failure would (tests use it). */
  drop() {
    this.socket?.close(4000, 'dropped');
  }

  /**
   * Drops the socket and does not reconnect until release(): a network
   * outage of any length, as tests need it.
   */
  hold() {
    this.held = true;
    if (this.timer) clearTimeout(this.timer);
    this.drop();
  }

  /** Ends hold(): reconnects now. */
  release() {
    this.held = false;
    if (!this.socket && !this.stopped) this.connect();
  }

  /** @private */
  connect() {
    const url = this.client.server.url.replace(/^http/, 'ws') + '/websocket';
    const socket = new WebSocket(url);
    this.socket = socket;
    /** @type {c.EventReceiver | null} */
    let receiver = null;
    /** @type {{body: Record<string, unknown>, secret: c.RequestSecret} | null} */
    let pending = null;
    let failure = '';
    // The server refused this page's key at session.open.
    let refused = false;
    const fail = (/** @type {string} */ reason) => {
      failure = reason;
      socket.close(CLIENT_REFUSED, 'bad frame');
    };
    // Frames are handled strictly in arrival order: a decryption awaits.
    let chain = Promise.resolve();
    socket.onopen = () => {
      chain = chain.then(async () => {
        const body = this.client.body('session.open', undefined);
        const { envelope, secret } = await this.client.seal(body);
        pending = { body, secret };
        socket.send(JSON.stringify(envelope));
      });
    };
    socket.onmessage = (msg) => {
      chain = chain.then(async () => {
        if (failure) return;
        let frame;
        try {
          frame = JSON.parse(String(msg.data));
        } catch {
          return fail('the server sent a frame that is not JSON');
        }
        if (pending) {
          const { body, secret } = pending;
          pending = null;
          try {
            await this.client.openAnswer(body, secret, frame);
          } catch (e) {
            refused = e instanceof ApiError;
            return fail(e instanceof Error ? e.message : String(e));
          }
          receiver = await c.EventReceiver.forSession(secret);
          this.replaced = false;
          this.retry = 0;
          this.onState('open');
          return;
        }
        if (!receiver || frame.seq === undefined) return fail('unexpected frame outside the session');
        try {
          const event = parseBody(await receiver.open(frame));
          if (event.seq !== frame.seq) throw new ApiError('invalid_event', 'the event body\'s seq does not match its frame');
          checkFresh(event.created_at, this.client.server.windowSeconds);
          this.onEvent(event.type, event.payload ?? {});
        } catch (e) {
          fail(`refused an event: ${e instanceof Error ? e.message : e}`);
        }
      });
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!failure && ev.code === KEY_REPLACED && !this.replaced) {
        // The key was replaced: by this page (it signs with the new key
        // now, and reconnects at once) or on another device (the server
        // refuses this page's key, and the session ends below).
        this.replaced = true;
        this.onState('closed', ev.reason);
        void Promise.resolve(this.client.keyChange).then(() => {
          if (!this.stopped) this.connect();
        });
        return;
      }
      if (!failure && SESSION_ENDED.includes(ev.code)) {
        // The server ended the session for good (api.yml, "Key history"):
        // reconnecting with this key cannot succeed.
        this.stopped = true;
        this.onState('ended', ev.reason, ev.code);
        return;
      }
      if (this.replaced && refused) {
        this.stopped = true;
        this.onState('ended', failure, KEY_REPLACED);
        return;
      }
      this.onState('closed', failure || ev.reason || `connection closed (${ev.code})`);
      if (this.stopped || this.held) return;
      const delay = Math.min(30_000, 500 * 2 ** this.retry++);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }
}
