// The page's shared state: what one session holds in memory (the server,
// the client, the user's keys, whose key is whose, the conversations and
// messages shown, the outbox), the types of what is shown, and the
// accessors that refuse when nobody is logged in. Every other app-*.js
// module imports it; it imports none of them.
//
// The private key exists only as non-extractable CryptoKeys in `state.me`;
// the page keeps no password after the handler that needed it returns.

/** @import * as c from './crypto.js' */
/** @import { Client } from './api.js' */
/** @import * as store from './store.js' */
/** @import { OwnKeys } from './ring.js' */
/** @import { Trust } from './trust.js' */

/** @typedef {import('../gen/api.js').components['schemas']} Schemas */
/** @typedef {Schemas['MessageConversation']} RawConversation */
/** @typedef {Schemas['Message']} RawMessage */

/**
 * A conversation as shown: the server's record plus what was decrypted.
 * @typedef {object} Conversation
 * @property {RawConversation} raw
 * @property {string | null} name the verified name, if any
 * @property {string | null} nameError why the name is not shown
 */

/**
 * A message as shown.
 * @typedef {object} Message
 * @property {RawMessage} raw
 * @property {c.MessageContent | null} content null when it did not verify
 * @property {Uint8Array | null} contentKey
 * @property {string | null} error why it is not shown as genuine
 */

export const state = {
  /** @type {import('./api.js').ServerInfo | null} */
  server: null,
  /** @type {Client | null} */
  client: null,
  /** @type {{username: string, displayName: string, keys: OwnKeys, identity: c.Identity} | null} identity: the current key */
  me: null,
  /** @type {Trust | null} whose key is whose, for this session */
  trust: null,
  /** @type {import('./api.js').EventSession | null} */
  events: null,
  /** @type {Map<string, Conversation>} */
  conversations: new Map(),
  /** @type {string | null} */
  current: null,
  /** @type {Map<string, Message>} */
  messages: new Map(),
  /** @type {string | null} */
  olderCursor: null,
  /** @type {string | null} the message being edited */
  editing: null,
  /** @type {Map<string, number>} unread messages per conversation (this device) */
  unread: new Map(),
  /** @type {string | null} the newest message time read when the open conversation was opened: the "new messages" divider */
  readAtOpen: null,
  /** Scroll to the divider at the next render (the conversation was just opened). */
  showDivider: false,
  /** @type {Map<string, {item: store.Outgoing, text: string, fileName: string | null, state: 'sending' | 'failed', error: string | null, progress: number | null, attempts: number}>} sent, not acknowledged yet */
  outbox: new Map(),
  /** @type {Record<string, number>} milliseconds, for the README's measurements */
  timings: {},
  connected: false,
};

// Tests read timings and drive reconnects through this handle.
/** @type {any} */ (window).nanochat = { state, dropSocket: () => state.events?.drop(), holdSocket: () => state.events?.hold(), releaseSocket: () => state.events?.release() };

/** @returns {Client} */
export function client() {
  if (!state.client) throw new Error('not logged in');
  return state.client;
}

/** @returns {NonNullable<typeof state.me>} */
export function me() {
  if (!state.me) throw new Error('not logged in');
  return state.me;
}

/** @returns {Trust} */
export function trust() {
  if (!state.trust) throw new Error('not logged in');
  return state.trust;
}

export function currentConversation() {
  const conv = state.current ? state.conversations.get(state.current) : undefined;
  if (!conv) throw new Error('no conversation is open');
  return conv;
}
