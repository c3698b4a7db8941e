// The NanoChat page: forms and views wired to the protocol (crypto.js), the
// transport (api.js) and this device's memory (store.js). No framework: the
// DOM in index.html is the template and this module fills it.
//
// The private key exists only as non-extractable CryptoKeys in `state.me`;
// the page keeps no password after the handler that needed it returns.

import * as c from './crypto.js';
import { ApiError, Client, fetchReferences, normaliseServerUrl } from './api.js';
import * as store from './store.js';
import { describe, humanSize } from './errors.js';
import { dayKey, dayLabel, fullTime, groups, linkify, shortTime } from './format.js';
import { OwnKeys, RotatedElsewhere } from './ring.js';
import { StaleMembers, Trust, Unaccepted } from './trust.js';

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

const state = {
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

// ------------------------------------------------------------ DOM helpers

/** @param {string} id */
function el(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`index.html lacks #${id}`);
  return e;
}
/** @param {string} id */
const input = (id) => /** @type {HTMLInputElement} */ (el(id));

/**
 * Creates an element with text and attributes.
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {...(Node | string)} children
 */
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** @param {string} id */
function show(id) {
  for (const s of ['screen-server', 'screen-start', 'screen-follow', 'screen-chat', 'screen-account']) el(s).hidden = s !== id;
  el('back').hidden = !(id === 'screen-chat' && state.current) && id !== 'screen-account';
}

/**
 * On a phone the list and the conversation are two screens: which one shows.
 * @param {'list' | 'conversation'} view
 */
function chatView(view) {
  el('screen-chat').dataset.view = view;
  el('back').hidden = view === 'list';
}

/**
 * @param {string} text
 * @param {boolean} [error]
 */
function status(text, error = false) {
  if (error && text) {
    toast([text], true);
    return;
  }
  const box = el('status');
  box.replaceChildren(text ? h('p', {}, text) : '');
}

/** @param {string | null} text */
function progress(text) {
  el('progress').hidden = !text;
  el('progress-text').textContent = text ?? '';
}

/**
 * Shows a failure where the person is looking: in the error slot of the
 * form that caused it (created on first use, just above its buttons), or
 * as a toast (fixed at the bottom of the screen, also on a phone). One
 * sentence, with the error code in small print for support.
 * @param {unknown} e
 * @param {HTMLElement | null} [where] the form, if a form caused it
 */
function showError(e, where = null) {
  const { sentence, code } = describe(e);
  /** @type {(Node | string)[]} */
  const content = [h('span', { class: 'sentence' }, sentence)];
  if (code) content.push(' ', h('small', { class: 'code' }, `(${code})`));
  if (where) {
    const slot = errorSlot(where);
    slot.replaceChildren(...content);
    slot.hidden = false;
    slot.scrollIntoView({ block: 'nearest' });
  } else {
    toast(content, true);
  }
}

/**
 * The error slot of a form.
 * @param {HTMLElement} form
 */
function errorSlot(form) {
  let slot = /** @type {HTMLElement | null} */ (form.querySelector(':scope > .form-error'));
  if (!slot) {
    slot = h('p', { class: 'form-error', role: 'alert' });
    const button = form.querySelector(':scope > button[type=submit]');
    if (button) button.before(slot);
    else form.append(slot);
  }
  return slot;
}

/**
 * Clears a form's error slot (at its next submit).
 * @param {HTMLElement} form
 */
function clearError(form) {
  const slot = /** @type {HTMLElement | null} */ (form.querySelector(':scope > .form-error'));
  if (slot) {
    slot.hidden = true;
    slot.replaceChildren();
  }
}

/**
 * A short message at the bottom of the screen; errors stay until
 * dismissed, other notes go after a few seconds.
 * @param {(Node | string)[]} content
 * @param {boolean} [error]
 */
function toast(content, error = false) {
  const close = h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss' }, '×');
  const item = h('div', { class: error ? 'toast error' : 'toast', role: error ? 'alert' : 'status' }, ...content, close);
  close.addEventListener('click', () => item.remove());
  el('toasts').append(item);
  if (!error) setTimeout(() => item.remove(), 6000);
  // Few at once: the oldest go first.
  while (el('toasts').children.length > 3) el('toasts').firstElementChild?.remove();
}

/**
 * Runs an event handler, showing any failure instead of losing it: in
 * `where` (a form) or as a toast.
 * @param {(...args: any[]) => Promise<void>} fn
 * @param {HTMLElement | null} [where]
 */
function guard(fn, where = null) {
  return async (/** @type {any[]} */ ...args) => {
    try {
      await fn(...args);
    } catch (e) {
      progress(null);
      if (e instanceof ApiError && e.code === 'bad_signature' && state.me && state.server) {
        // This page signs with its current key: a refusal means the key
        // is no longer the user's (rotated on another device).
        const username = state.me.username;
        const local = await store.loadKey(state.server.url, username).catch(() => undefined);
        offerFollow(username, Boolean(local?.on_server));
        return;
      }
      showError(e, where);
      // Shown to the person already; kept in the console for support.
      console.warn(e);
    }
  };
}

/**
 * Why something did not verify or open, as a sentence.
 * @param {unknown} e
 */
function explain(e) {
  return describe(e).sentence;
}

/**
 * An error whose message is the sentence to show, with a stable code.
 * @param {string} sentence
 * @param {string} code
 */
function failure(sentence, code) {
  return Object.assign(new Error(sentence), { code });
}

/**
 * Saves bytes as a download.
 * @param {BlobPart} data
 * @param {string} name
 * @param {string} type
 */
function download(data, name, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** @param {string} when */
function time(when) {
  const d = new Date(when);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

/** @returns {Client} */
function client() {
  if (!state.client) throw new Error('not logged in');
  return state.client;
}

/** @returns {NonNullable<typeof state.me>} */
function me() {
  if (!state.me) throw new Error('not logged in');
  return state.me;
}

// ------------------------------------------------------------ server

async function connect(/** @type {string} */ text) {
  const url = normaliseServerUrl(text);
  progress(`Fetching the server key from ${url}…`);
  const info = await fetchReferences(url);
  progress(null);
  state.server = info;
  const pinned = store.pinnedServer(url);
  if (pinned && pinned !== info.fingerprint) {
    el('pinned-fp').textContent = pinned;
    el('new-fp').textContent = info.fingerprint;
    el('key-changed').hidden = false;
    status('The server key changed. Nothing was sent.', true);
    return;
  }
  el('key-changed').hidden = true;
  if (!pinned) store.pinServer(url, info.fingerprint);
  store.setLastUsed({ server: url });
  const last = store.lastUsed();
  const kept = last.username ? await store.keptSession(url, last.username).catch(() => undefined) : undefined;
  if (kept && last.username && (await resume(kept))) return;
  enterStart(pinned ? 'Server key matches the pinned one.' : 'Server key pinned on first use: ask your operator to compare it with what nanochat server-key prints.');
}

/**
 * Logs in with the keys kept on this device ("Keep me logged in"); false
 * when they no longer work (rotated elsewhere, reset: the session is
 * forgotten and the password asked).
 * @param {store.KeptSession} kept
 */
async function resume(kept) {
  const server = /** @type {import('./api.js').ServerInfo} */ (state.server);
  const keys = new OwnKeys(kept.identities);
  const cl = new Client(server, kept.username, keys.current);
  try {
    await keys.learn(cl, kept.username);
    const self = await cl.request('user.get', { username: kept.username });
    // Locked again while it loaded: the start screen stays.
    if (!(await enterChat(cl, kept.username, self.display_name, keys))) return true;
  } catch (e) {
    if (e instanceof ApiError && e.code === 'unreachable') throw e;
    stopSession();
    await store.forgetSession(server.url, kept.username);
    return false;
  }
  const last = store.lastUsed();
  if (last.conversation && state.conversations.has(last.conversation)) await openConversation(last.conversation);
  return true;
}

/** @param {string} note */
function enterStart(note) {
  const info = /** @type {import('./api.js').ServerInfo} */ (state.server);
  el('server-info').hidden = false;
  el('server-badge').replaceChildren(h('strong', {}, new URL(info.url).host), h('br'), 'Server key fingerprint (pinned on this device): ', h('code', {}, info.fingerprint));
  const skew = Math.abs(info.clockSkewSeconds);
  status(skew > info.windowSeconds / 2 ? `This computer's clock is ${Math.round(skew)} s off the server's: fix it, or requests will be refused.` : note, skew > info.windowSeconds / 2);
  const last = store.lastUsed();
  if (last.username) input('login-username').value = last.username;
  show('screen-start');
}

// ------------------------------------------------------------ complete

/**
 * Opens a key file with its password (if it is encrypted): the ring,
 * oldest first.
 * @param {File} file
 * @param {string} password
 * @param {string} [username] the user it must belong to
 */
async function openKeyFileRing(file, password, username) {
  const keyFile = c.parseKeyFile(await file.text());
  if (username && keyFile.username !== username) throw new Error(`This key file is ${keyFile.username}'s, not ${username}'s.`);
  if (c.keyFileIsEncrypted(keyFile) && !password) throw new Error('This key file is encrypted: enter its password (Key file password).');
  const { ring } = await c.openKeyFileRing(keyFile, password || null);
  return { keyFile, ring };
}

async function complete() {
  const server = /** @type {import('./api.js').ServerInfo} */ (state.server);
  const username = input('complete-username').value.trim();
  const password = input('complete-password').value;
  const advanced = input('complete-advanced').checked;
  const storeOnServer = advanced && input('complete-store').checked;
  const syncPassword = input('complete-sync-password').value;
  if (storeOnServer && !syncPassword) throw new Error('Enter a Sync password to store the private key on the server.');
  if (storeOnServer && syncPassword === password) throw new Error('Choose a Sync password different from the password of your key.');
  const file = advanced ? input('complete-import').files?.[0] : undefined;
  /** @type {Uint8Array[]} */
  let ring;
  const t0 = performance.now();
  if (file) {
    progress('Opening the key file…');
    ring = (await openKeyFileRing(file, input('complete-import-password').value)).ring;
  } else {
    progress('Generating your key pair (RSA 3072)…');
    ring = [(await c.generateKeyPair()).pkcs8];
    state.timings.keygen_ms = performance.now() - t0;
  }
  progress('Encrypting your private key with the password of your key…');
  const blob = await c.encryptPrivateKeyRing(ring, password);
  const keys = await OwnKeys.fromPkcs8(ring);
  const identity = keys.current;
  const cl = new Client(server, username, identity);
  /** @type {Schemas['CompleteUser']} */
  const payload = {
    token: input('complete-token').value.trim(),
    display_name: input('complete-display-name').value.trim(),
    public_key: c.b64encode(identity.publicKey.der),
  };
  if (storeOnServer) {
    payload.private_key = blob;
    payload.sync_password = syncPassword;
  }
  progress('Completing your account…');
  const user = await cl.request('user.complete', payload);
  if (user.fingerprint !== identity.publicKey.fingerprint) throw new Error('the server registered a different key than ours');
  await keys.learn(cl, username);
  await store.saveKey({ server: server.url, username, public_key: user.public_key, private_key: blob, on_server: storeOnServer, exported: false });
  /** @type {HTMLFormElement} */ (el('complete-form')).reset();
  progress(null);
  if (await enterChat(cl, username, user.display_name, keys)) status(`Welcome, ${user.display_name}. Your key fingerprint is ${identity.publicKey.fingerprint}.`);
}

// ------------------------------------------------------------ login

async function login() {
  const server = /** @type {import('./api.js').ServerInfo} */ (state.server);
  const t0 = performance.now();
  delete state.timings.login_ms;
  const username = input('login-username').value.trim();
  const password = input('login-password').value;
  const importFile = input('login-import').files?.[0];
  let local = await store.loadKey(server.url, username);
  const cl = new Client(server, username, null);
  /** @type {OwnKeys} */
  let keys;
  if (importFile) {
    progress('Opening the key file…');
    // A file exported without a key file password is encrypted with the
    // password of the key: the Password above opens it.
    const { keyFile, ring } = await openKeyFileRing(importFile, input('login-import-password').value || password, username);
    const blob = await c.encryptPrivateKeyRing(ring, password);
    keys = await OwnKeys.fromPkcs8(ring);
    local = { server: server.url, username, public_key: keyFile.public_key, private_key: blob, on_server: local?.on_server ?? false, exported: true };
  } else {
    if (!local) {
      const syncPassword = input('login-sync-password').value;
      if (el('login-sync').hidden || !syncPassword) {
        el('login-sync').hidden = false;
        /** @type {HTMLDetailsElement} */ (el('login-import-box')).open = true;
        input('login-sync-password').focus();
        throw failure(`This device has no key for ${username} yet. Enter your Sync password if your key is stored on the server, or choose a key file below.`, '');
      }
      progress('Fetching your encrypted key (user.sync)…');
      const synced = await cl.request('user.sync', { sync_password: syncPassword });
      local = { server: server.url, username, public_key: synced.public_key, private_key: c.validateEncryptedPrivateKey(synced.private_key), on_server: true, exported: false };
    }
    progress('Decrypting your private key…');
    keys = await OwnKeys.open(local.private_key, password);
  }
  cl.identity = keys.current;
  try {
    await keys.learn(cl, username);
  } catch (e) {
    progress(null);
    if (e instanceof RotatedElsewhere || (e instanceof ApiError && ['bad_signature', 'unknown_user'].includes(e.code))) {
      offerFollow(username, local.on_server, e instanceof RotatedElsewhere && !e.current);
      return;
    }
    throw e;
  }
  cl.identity = keys.current;
  const self = await cl.request('user.get', { username });
  await store.saveKey({ ...local, public_key: self.public_key });
  if (input('login-keep').checked) await store.keepSession({ server: server.url, username, identities: keys.identities });
  else await store.forgetSession(server.url, username);
  /** @type {HTMLFormElement} */ (el('login-form')).reset();
  el('login-sync').hidden = true;
  if (!(await enterChat(cl, username, self.display_name, keys))) return;
  state.timings.login_ms = performance.now() - t0;
  progress(null);
  status(`Logged in as ${self.display_name}.`);
}

// ------------------------------------------------------ other devices

/**
 * Shows what to do when this device's key is not the user's current key:
 * it was rotated on another device (fetch the ring through the sync
 * password, or import a key file made after the rotation), or the
 * operator reset the account.
 * @param {string} username
 * @param {boolean} serverCopy whether the server is known to hold a copy
 * @param {boolean} [reset] the account has no key at all
 */
function offerFollow(username, serverCopy, reset = false) {
  stopSession();
  input('follow-username').value = username;
  el('follow-reset').hidden = !reset;
  el('follow-rotated').hidden = reset;
  el('follow-sync').hidden = reset;
  el('follow-file').hidden = reset;
  // The likelier way first; the other stays one click away.
  /** @type {HTMLDetailsElement} */ (el('follow-sync')).open = serverCopy;
  /** @type {HTMLDetailsElement} */ (el('follow-file')).open = !serverCopy;
  show('screen-follow');
  status('');
}

/** Fetches the ring through the sync password, then logs in with it. */
async function followSync() {
  const server = /** @type {import('./api.js').ServerInfo} */ (state.server);
  const username = input('follow-username').value;
  const password = input('follow-password').value;
  const syncPassword = input('follow-sync-password').value;
  if (!syncPassword) throw new Error('Enter your Sync password.');
  const cl = new Client(server, username, null);
  progress('Fetching your encrypted keys (user.sync)…');
  const synced = await cl.request('user.sync', { sync_password: syncPassword });
  const blob = c.validateEncryptedPrivateKey(synced.private_key);
  progress('Decrypting your keys…');
  const keys = await OwnKeys.open(blob, password);
  await finishFollow(cl, username, keys, { server: server.url, username, public_key: synced.public_key, private_key: blob, on_server: true, exported: false }, 'The server copy of your key is older than the rotation: import the key file from the device that rotated.');
}

/** Imports a key file made after the rotation, then logs in with it. */
async function followFile() {
  const server = /** @type {import('./api.js').ServerInfo} */ (state.server);
  const username = input('follow-username').value;
  const password = input('follow-file-device-password').value;
  const file = input('follow-file-input').files?.[0];
  if (!file) throw new Error('Choose the key file exported on the device that rotated.');
  if (password.length < 8) throw new Error('Choose a password of your key for this device (8 characters or more).');
  progress('Opening the key file…');
  const { keyFile, ring } = await openKeyFileRing(file, input('follow-file-password').value, username);
  const blob = await c.encryptPrivateKeyRing(ring, password);
  const keys = await OwnKeys.fromPkcs8(ring);
  const local = await store.loadKey(server.url, username);
  await finishFollow(new Client(server, username, null), username, keys, { server: server.url, username, public_key: keyFile.public_key, private_key: blob, on_server: local?.on_server ?? false, exported: true }, 'This key file is older than the rotation too: export one on the device that rotated, after the rotation.');
}

/**
 * @param {Client} cl
 * @param {string} username
 * @param {OwnKeys} keys
 * @param {store.LocalKey} local
 * @param {string} stillOld what to say when these keys are not current either
 */
async function finishFollow(cl, username, keys, local, stillOld) {
  cl.identity = keys.current;
  try {
    await keys.learn(cl, username);
  } catch (e) {
    if (e instanceof RotatedElsewhere && e.current) throw new Error(stillOld);
    throw e;
  }
  cl.identity = keys.current;
  const self = await cl.request('user.get', { username });
  await store.saveKey({ ...local, public_key: self.public_key });
  for (const id of ['follow-sync-form', 'follow-file-form']) /** @type {HTMLFormElement} */ (el(id)).reset();
  progress(null);
  if (await enterChat(cl, username, self.display_name, keys)) status(`Your keys are up to date on this device (key ${keys.currentIndex}). Everything you could read before still opens.`);
}

/**
 * @param {Client} cl
 * @param {string} username
 * @param {string} displayName
 * @param {OwnKeys} keys
 * @returns {Promise<boolean>} false when the person logged out while it loaded
 */
async function enterChat(cl, username, displayName, keys) {
  state.client = cl;
  state.me = { username, displayName, keys, identity: keys.current };
  state.trust = new Trust(cl, username);
  state.trust.setOwn(keys.current.publicKey.fingerprint, /** @type {number} */ (keys.currentIndex));
  store.setLastUsed({ username });
  el('me-badge').hidden = false;
  el('me-badge').textContent = `${displayName} (@${username})`;
  el('top-actions').hidden = false;
  show('screen-chat');
  chatView('list');
  el('conv-placeholder').hidden = false;
  el('conv-view').hidden = true;
  progress('Loading conversations…');
  await loadConversations();
  // Logged out (or locked) while the list loaded: no socket, no outbox.
  if (state.client !== cl) return false;
  progress(null);
  void guard(countUnread)();
  // Events apply one at a time, in the order the socket delivered them: a
  // handler that fetches (a member left: the conversation again) must not
  // finish after the next event's handler and undo its change (a rename).
  let applied = Promise.resolve();
  state.events = cl.events(
    (type, payload) => {
      applied = applied.then(guard(() => onEvent(String(type), payload)));
    },
    (s, reason, code) => void guard(() => onSocketState(s, reason, code))(),
  );
  // Whatever this device queued and never got acknowledged goes now, once.
  void guard(flushOutbox)();
  return true;
}

/** Ends the session in memory: no socket, no keys, no conversations. */
function stopSession() {
  state.events?.close();
  Object.assign(state, { client: null, me: null, trust: null, events: null, current: null, editing: null, olderCursor: null, connected: false });
  state.conversations.clear();
  state.messages.clear();
  state.outbox.clear();
  state.unread.clear();
  document.title = 'NanoChat';
  chatView('list');
  el('conv-list').replaceChildren();
  el('conv-view').hidden = true;
  for (const id of ['me-badge', 'conn-state', 'top-actions']) el(id).hidden = true;
}

/** @param {string} [note] what to say on the start screen */
function logout(note = 'Logged out. Your encrypted key stays on this device.') {
  stopSession();
  enterStart(note);
}

// ------------------------------------------------------------ keys of others

/** @returns {Trust} */
function trust() {
  if (!state.trust) throw new Error('not logged in');
  return state.trust;
}

/**
 * The current members that have a key, as recipients, once every one of
 * them is trusted (trust.sealable refuses otherwise).
 * @param {RawConversation} raw
 */
function recipients(raw) {
  return trust().sealable(raw.members);
}

/**
 * Recipients for a member list that is about to be set (user.get each).
 * @param {string[]} usernames
 */
async function recipientsFor(usernames) {
  const users = [];
  for (const username of usernames) users.push(await client().request('user.get', { username }));
  return trust().sealable(users);
}

/**
 * Runs `seal` with the conversation's recipients; when a member rotated
 * since the conversation was fetched (the client's member list is stale,
 * or the server says members_mismatch), fetches it again and seals once
 * more.
 * @template T
 * @param {string} id
 * @param {(raw: RawConversation, members: c.Member[]) => Promise<T>} seal
 * @returns {Promise<T>}
 */
async function withRecipients(id, seal) {
  let conv = state.conversations.get(id);
  for (let attempt = 0; ; attempt++) {
    const raw = conv?.raw ?? (await client().request('conversation.get', { id }));
    try {
      return await seal(raw, await recipients(raw));
    } catch (e) {
      const stale = e instanceof StaleMembers || (e instanceof ApiError && e.code === 'members_mismatch');
      if (!stale || attempt > 0) throw e;
      conv = await absorb(await client().request('conversation.get', { id }));
    }
  }
}

// ------------------------------------------------------------ conversations

/** @param {string} text */
function parseUsernames(text) {
  const names = text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!/^[a-z0-9][a-z0-9._-]{0,31}$/.test(n)) throw new Error(`"${n}" is not a username`);
  return [...new Set(names)];
}

/**
 * Decrypts a conversation's name and records it; re-seals when the server
 * hints that a member cannot read it and we can (and may: never for a key
 * the person has not accepted).
 * @param {RawConversation} raw
 */
async function absorb(raw) {
  /** @type {Conversation} */
  const conv = { raw, name: null, nameError: null };
  for (const m of raw.members) store.rememberDisplayName(client().server.url, m.username, m.display_name);
  // Verify every member's history now: rotations become notices, and
  // unexplained changes warnings, before anything is shown.
  for (const m of raw.members) if (m.username !== me().username) await trust().chain(m.username).catch(() => null);
  const sealed = raw.name;
  if (sealed) {
    try {
      const sealerKey = await trust().keyFor(sealed.sealed_by, sealed.sealer_key_index, sealed.sealed_at);
      conv.name = await c.openName(raw.id, /** @type {any} */ (sealed), me().username, me().keys.at(sealed.key_index), sealerKey);
    } catch (e) {
      conv.nameError = `name not verified: ${explain(e)}`;
    }
    if (sealed.reseal && conv.name) {
      try {
        const members = await recipients(raw);
        const name = await c.sealName(me().identity, raw.id, raw.name_revision + 1, conv.name, members);
        const updated = await client().request('conversation.update', { id: raw.id, name });
        conv.raw = updated;
      } catch (e) {
        // Another member re-sealed first (conflict), or a member's key is
        // not accepted yet (the warning says so): the next fetch shows it.
        if (!(e instanceof ApiError && ['conflict', 'members_mismatch'].includes(e.code)) && !(e instanceof StaleMembers) && !(e instanceof Unaccepted)) throw e;
      }
    }
  }
  state.conversations.set(raw.id, conv);
  return conv;
}

/** @param {Conversation} conv */
function title(conv) {
  if (conv.name) return conv.name;
  const others = conv.raw.members.filter((m) => m.username !== me().username).map((m) => m.display_name || m.username);
  return others.length ? others.join(', ') : '(only you)';
}

async function loadConversations() {
  const list = await client().request('conversation.list');
  const seen = new Set();
  for (const raw of list.items) {
    seen.add(raw.id);
    await absorb(raw);
  }
  for (const id of [...state.conversations.keys()]) if (!seen.has(id)) state.conversations.delete(id);
  renderConversations();
  if (state.current && !state.conversations.has(state.current)) closeConversation();
}

function renderConversations() {
  const sorted = [...state.conversations.values()].sort((a, b) => Date.parse(b.raw.updated_at) - Date.parse(a.raw.updated_at));
  el('conv-empty').hidden = sorted.length > 0;
  el('conv-list').replaceChildren(
    ...sorted.map((conv) => {
      const unread = state.unread.get(conv.raw.id) ?? 0;
      const name = title(conv);
      const b = h('button', { type: 'button', 'data-id': conv.raw.id, 'aria-current': String(conv.raw.id === state.current), class: unread ? 'unread' : '' }, name);
      // The count is in the accessible name ("Two, 1 unread") as well as on screen.
      if (unread) b.append(h('span', { class: 'visually-hidden' }, `, ${unread} unread`), h('span', { class: 'count', 'aria-hidden': 'true', 'data-unread': String(unread) }, unread > 99 ? '99+' : String(unread)));
      b.append(h('small', {}, `${conv.raw.members.length} ${conv.raw.members.length === 1 ? 'member' : 'members'} · ${time(conv.raw.updated_at)}`));
      b.addEventListener('click', guard(() => openConversation(conv.raw.id)));
      return h('li', {}, b);
    }),
  );
  const total = [...state.unread.values()].reduce((a, b) => a + b, 0);
  document.title = total ? `(${total}) NanoChat` : 'NanoChat';
}

/**
 * Counts, per conversation, the messages of others newer than what this
 * device read (at login: one page per conversation with news).
 */
async function countUnread() {
  const server = client().server.url;
  for (const conv of state.conversations.values()) {
    const read = store.readUpTo(server, me().username, conv.raw.id);
    if (!read) {
      // First time on this device: start from now.
      store.markRead(server, me().username, conv.raw.id, conv.raw.updated_at);
      continue;
    }
    if (Date.parse(conv.raw.updated_at) <= Date.parse(read)) continue;
    const page = await client().request('message.list', { conversation_id: conv.raw.id, limit: client().server.limits.max_page_size });
    const count = page.messages.filter((m) => m.sender !== me().username && Date.parse(m.created_at) > Date.parse(read)).length;
    if (count) state.unread.set(conv.raw.id, count);
  }
  renderConversations();
}

/** Marks the open conversation as read when the person can see its end. */
function markSeen() {
  const id = state.current;
  if (!id || !state.me || document.visibilityState !== 'visible' || el('screen-chat').hidden) return;
  if (el('screen-chat').dataset.view === 'list' && window.matchMedia('(max-width: 759px)').matches) return;
  const box = el('messages');
  if (box.scrollHeight - box.scrollTop - box.clientHeight > 40) return;
  const newest = [...state.messages.values()].reduce((t, m) => (Date.parse(m.raw.created_at) > Date.parse(t) ? m.raw.created_at : t), '1970-01-01T00:00:00Z');
  store.markRead(client().server.url, me().username, id, newest);
  if (state.unread.delete(id)) renderConversations();
}

async function createConversation() {
  const members = parseUsernames(input('new-conv-members').value).filter((u) => u !== me().username);
  if (members.length === 0) throw new Error('Name at least one other member.');
  const nameText = input('new-conv-name').value.trim();
  // Each member must exist and have activated their account: say which
  // one does not, by name.
  for (const username of members) {
    try {
      await client().request('user.get', { username });
    } catch (e) {
      if (e instanceof ApiError && ['unknown_user', 'not_found'].includes(e.code)) throw failure(describe(e, { username }).sentence, e.code);
      throw e;
    }
  }
  const id = crypto.randomUUID();
  /** @type {Schemas['CreateConversation']} */
  const payload = { id, members };
  if (nameText) {
    c.checkName(nameText);
    const recips = await recipientsFor([me().username, ...members]);
    payload.name = await c.sealName(me().identity, id, 1, nameText, recips);
  }
  const raw = await client().request('conversation.create', payload);
  await absorb(raw);
  /** @type {HTMLFormElement} */ (el('new-conv-form')).reset();
  /** @type {HTMLDialogElement} */ (el('new-conv-dialog')).close();
  renderConversations();
  await openConversation(raw.id);
}

/** @param {string} id */
async function openConversation(id) {
  const t0 = performance.now();
  state.current = id;
  state.messages.clear();
  state.editing = null;
  state.readAtOpen = store.readUpTo(client().server.url, me().username, id) ?? null;
  state.showDivider = true;
  for (const url of previews.values()) URL.revokeObjectURL(url);
  previews.clear();
  store.setLastUsed({ conversation: id });
  el('editing').hidden = true;
  el('message-list').replaceChildren();
  el('conv-view').hidden = false;
  el('conv-placeholder').hidden = true;
  chatView('conversation');
  progress('Decrypting messages…');
  const raw = await client().request('conversation.get', { id });
  const conv = await absorb(raw);
  renderHeader(conv);
  for (const m of raw.messages) await upsertMessage(m, false);
  state.olderCursor = raw.next_cursor ?? null;
  renderMessages(true);
  renderConversations();
  progress(null);
  state.timings.open_conversation_ms = performance.now() - t0;
  state.timings.open_conversation_messages = raw.messages.length;
  input('message-text').focus();
  markSeen();
}

function closeConversation() {
  state.current = null;
  state.messages.clear();
  el('conv-view').hidden = true;
  el('conv-placeholder').hidden = false;
  chatView('list');
  renderConversations();
}

/** @param {Conversation} conv */
function renderHeader(conv) {
  const mine = me().username;
  el('conv-title').textContent = title(conv);
  el('conv-title').title = conv.nameError ?? '';
  const owner = conv.raw.owner === mine;
  el('delete-conv').hidden = !owner;
  el('edit-members').hidden = false;
  el('members-form').hidden = true;
  el('rename-form').hidden = true;
  el('member-list').replaceChildren(...conv.raw.members.map((m) => renderMember(conv, m)));
  const warnings = [];
  if (conv.nameError) warnings.push(h('div', { class: 'warning' }, `The conversation name is not shown: ${conv.nameError}`));
  for (const m of conv.raw.members) {
    const change = trust().changes.get(m.username);
    if (change) {
      const box = h('div', { class: 'warning', role: 'alert', 'data-key-change': m.username });
      box.append(
        h('strong', {}, `${m.display_name || m.username}'s key changed without proof that it is theirs.`),
        ` ${change.why}. Nothing is sent to this conversation until you accept the new key.`,
        h('br'),
        'Trusted: ',
        h('code', {}, change.was),
        h('br'),
        'Now: ',
        h('code', {}, change.now || 'no key'),
        h('br'),
        `Compare the new fingerprint with ${m.username} (in person or on a call), then: `,
      );
      if (change.now) {
        const accept = h('button', { type: 'button', 'data-accept-key': m.username }, 'I compared it: accept the new key');
        accept.addEventListener('click', guard(async () => {
          trust().accept(m.username);
          await reopen(conv.raw.id);
          status(`${m.username}'s new key is accepted. Mark them as verified again once you are sure it is theirs.`);
        }));
        box.append(accept);
      }
      warnings.push(box);
      continue;
    }
    const rotation = trust().rotations.get(m.username);
    if (rotation) {
      const verified = trust().isVerified(m.username);
      const dismiss = h('button', { type: 'button', class: 'link' }, 'OK');
      dismiss.addEventListener('click', () => {
        trust().rotations.delete(m.username);
        renderHeader(conv);
      });
      warnings.push(
        h('div', { class: 'notice', role: 'status', 'data-key-rotation': m.username }, `${m.display_name || m.username} rotated their key (key ${rotation.to}, signed by their previous key)${verified ? '; still verified' : ''}. Earlier messages stay readable and verified. `, dismiss),
      );
    }
  }
  el('key-warnings').replaceChildren(...warnings);
}

/**
 * One member in "Members and fingerprints": fingerprint, the verified mark
 * (per device), and their key history on demand.
 * @param {Conversation} conv
 * @param {RawConversation['members'][number]} m
 */
function renderMember(conv, m) {
  const self = m.username === me().username;
  const li = h('li', { 'data-member': m.username }, h('strong', {}, m.display_name || m.username), ` @${m.username}${m.owner ? ' (owner)' : ''}${self ? ' (you)' : ''} `);
  const changed = trust().changes.has(m.username);
  if (!self && m.fingerprint && !changed) {
    if (trust().isVerified(m.username)) {
      li.append(h('span', { class: 'verified', 'data-verified-mark': m.username, title: 'You compared this fingerprint with them (kept on this device)' }, '✓ verified'));
    } else {
      li.append(h('span', { class: 'unverified-mark' }, 'not verified'));
    }
  }
  li.append(h('br'), h('code', {}, m.fingerprint || 'no key (reset by the operator)'));
  const actions = h('div', { class: 'member-actions' });
  if (!self && conv.raw.owner === me().username) {
    const remove = h('button', { type: 'button', class: 'link remove', 'data-remove': m.username, 'aria-label': `Remove ${m.username}` }, 'Remove');
    remove.addEventListener('click', guard(() => removeMember(m.username)));
    actions.append(remove);
  }
  if (!self && m.fingerprint && !changed) {
    const verified = trust().isVerified(m.username);
    const mark = h('button', { type: 'button', class: 'link', 'data-verify': m.username }, verified ? 'Remove the verified mark' : 'Mark as verified');
    mark.addEventListener('click', guard(async () => {
      if (!verified && !confirm(`Did you compare this fingerprint with ${m.username} themselves (in person or on a call)?\n\n${m.fingerprint}`)) return;
      await trust().setVerified(m.username, !verified);
      renderHeader(conv);
    }));
    actions.append(mark);
  }
  const history = h('details', { class: 'key-history', 'data-history': m.username }, h('summary', {}, 'Key history'));
  history.addEventListener('toggle', guard(async () => {
    if (!(/** @type {HTMLDetailsElement} */ (history).open) || history.querySelector('ol')) return;
    const rows = self ? await ownHistory() : await trust().history(m.username);
    history.append(
      h(
        'ol',
        {},
        ...rows.map((r) =>
          h(
            'li',
            { 'data-index': String(r.index), 'data-trusted': String(r.trusted) },
            `Key ${r.index}: `,
            h('code', {}, r.fingerprint),
            h('br'),
            `${time(r.since)} – ${r.until ? time(r.until) : 'now'} · ${r.kind === 'rotation' ? 'rotation signed by the previous key' : r.index === 0 ? 'first key' : 'new start (operator reset): not signed by the previous key'}${r.trusted ? '' : ' · not trusted on this device'}`,
          ),
        ),
      ),
    );
  }));
  actions.append(history);
  li.append(actions);
  return li;
}

/** The user's own key history, every key of which this device holds trusted. */
async function ownHistory() {
  const history = await client().request('user.keys', { username: me().username });
  return history.keys.map((e) => ({
    index: e.index,
    fingerprint: e.fingerprint,
    since: e.since,
    until: e.until ?? null,
    kind: e.succession_signature ? 'rotation' : 'start',
    trusted: me().keys.byIndex.has(e.index),
  }));
}

/**
 * Fetches a conversation again and shows it (after a key was accepted:
 * what the new key signed now verifies).
 * @param {string} id
 */
async function reopen(id) {
  const conv = await absorb(await client().request('conversation.get', { id }));
  renderConversations();
  if (state.current === id) await openConversation(id);
  else renderHeader(conv);
}

async function renameConversation() {
  const text = input('rename-input').value.trim();
  const raw = await withRecipients(currentConversation().raw.id, async (raw, members) => {
    /** @type {Schemas['Conversation']} */
    const payload = { id: raw.id };
    if (text) payload.name = await c.sealName(me().identity, raw.id, raw.name_revision + 1, text, members);
    else payload.remove_name = true;
    return client().request('conversation.update', payload);
  });
  renderHeader(await absorb(raw));
  renderConversations();
}

/** Adds the member named in the form, once the server knows them. */
async function addMember() {
  const conv = currentConversation();
  const [username] = parseUsernames(input('members-input').value);
  if (!username) throw new Error('Enter the username of the person to add.');
  if (conv.raw.members.some((m) => m.username === username)) throw new Error(`${username} is a member already.`);
  try {
    await client().request('user.get', { username });
  } catch (e) {
    if (e instanceof ApiError && ['unknown_user', 'not_found'].includes(e.code)) throw failure(describe(e, { username }).sentence, e.code);
    throw e;
  }
  await setMembers([...conv.raw.members.map((m) => m.username), username]);
  input('members-input').value = '';
  status(`${username} was added.`);
}

/**
 * Removes one member (owner only).
 * @param {string} username
 */
async function removeMember(username) {
  const conv = currentConversation();
  if (!confirm(`Remove ${username} from "${title(conv)}"? They keep what they already received, but see nothing new.`)) return;
  await setMembers(conv.raw.members.map((m) => m.username).filter((u) => u !== username));
}

/**
 * Sets the member list of the open conversation, re-sealing its name for it.
 * @param {string[]} members
 */
async function setMembers(members) {
  const conv = currentConversation();
  if (!members.includes(me().username)) members.push(me().username);
  /** @type {Schemas['Conversation']} */
  const payload = { id: conv.raw.id, members };
  if (conv.raw.name) {
    if (conv.name) payload.name = await c.sealName(me().identity, conv.raw.id, conv.raw.name_revision + 1, conv.name, await recipientsFor(members));
    else payload.remove_name = true;
  }
  const raw = await client().request('conversation.update', payload);
  renderHeader(await absorb(raw));
  renderConversations();
}

function currentConversation() {
  const conv = state.current ? state.conversations.get(state.current) : undefined;
  if (!conv) throw new Error('no conversation is open');
  return conv;
}

// ------------------------------------------------------------ messages

/**
 * Decrypts and records a message (replacing an older copy with the same id,
 * so a re-fetch after a reconnect never duplicates).
 * @param {RawMessage} raw
 * @param {boolean} render
 */
async function upsertMessage(raw, render = true) {
  const known = state.messages.get(raw.id);
  if (known && known.raw.signature === raw.signature && known.raw.edited_at === raw.edited_at) {
    // Seen before, unchanged: nothing to verify again.
    known.raw = raw;
    if (render) renderMessages(false);
    return;
  }
  /** @type {Message} */
  const msg = { raw, content: null, contentKey: null, error: null };
  try {
    const senderKey = await trust().keyFor(raw.sender, raw.sender_key_index, raw.edited_at ?? raw.created_at);
    const opened = await c.openMessage(/** @type {any} */ (raw), me().username, me().keys.at(raw.key_index), senderKey);
    msg.content = c.parseContent(opened.content);
    msg.contentKey = opened.contentKey;
  } catch (e) {
    msg.error = explain(e);
  }
  state.messages.set(raw.id, msg);
  if (render) renderMessages(false);
}

/** @param {boolean} toBottom */
function renderMessages(toBottom) {
  const box = el('messages');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const sorted = [...state.messages.values()].sort((a, b) => Date.parse(a.raw.created_at) - Date.parse(b.raw.created_at) || (a.raw.cursor ?? '').localeCompare(b.raw.cursor ?? ''));
  // What is on its way (or failed) comes last, in the order it was sent;
  // once acknowledged it is an ordinary message (same id, shown once).
  const pending = [...state.outbox.values()].filter((p) => p.item.conversation_id === state.current && !state.messages.has(p.item.id));
  /** @type {HTMLElement[]} */
  const items = [];
  let previous = null;
  let divided = false;
  for (const msg of sorted) {
    if (!previous || dayKey(previous.raw.created_at) !== dayKey(msg.raw.created_at)) {
      items.push(h('li', { class: 'day' }, dayLabel(msg.raw.created_at)));
      previous = null;
    }
    // Where the reader left off: the first message of someone else newer
    // than what was read when the conversation was opened.
    if (!divided && state.readAtOpen && msg.raw.sender !== me().username && Date.parse(msg.raw.created_at) > Date.parse(state.readAtOpen)) {
      items.push(h('li', { class: 'divider', id: 'new-messages' }, h('span', {}, 'New messages')));
      divided = true;
      previous = null;
    }
    const li = renderMessage(msg);
    if (groups(previous?.raw, msg.raw)) li.classList.add('grouped');
    items.push(li);
    previous = msg;
  }
  el('message-list').replaceChildren(...items, ...pending.map(renderPending));
  el('messages-empty').hidden = sorted.length + pending.length > 0;
  el('load-older').hidden = !state.olderCursor;
  if (toBottom && divided && state.showDivider) document.getElementById('new-messages')?.scrollIntoView({ block: 'start' });
  else if (toBottom || atBottom) box.scrollTop = box.scrollHeight;
  // Only the opening of a conversation goes to where the reader left off.
  state.showDivider = false;
}

/**
 * A message sent but not acknowledged: "sending…" (with the upload's
 * progress), or failed with the reason and Resend.
 * @param {NonNullable<ReturnType<typeof state.outbox.get>>} p
 */
function renderPending(p) {
  const failed = p.state === 'failed';
  const li = h('li', { class: `msg mine ${failed ? 'failed' : 'pending'}`, 'data-id': p.item.id, 'data-pending': p.state }, h('header', {}, h('strong', {}, me().displayName)));
  if (p.text) li.append(h('div', { class: 'text' }, p.text));
  if (p.fileName) li.append(h('div', { class: 'file' }, `File: ${p.fileName}`));
  if (failed) {
    const resend = h('button', { type: 'button', class: 'link' }, 'Resend');
    resend.addEventListener('click', guard(() => deliver(p.item.id)));
    const discard = h('button', { type: 'button', class: 'link' }, 'Discard');
    discard.addEventListener('click', guard(async () => {
      state.outbox.delete(p.item.id);
      await store.dropOutgoing(p.item.server, p.item.username, p.item.id);
      renderMessages(false);
    }));
    li.append(h('div', { class: 'state', role: 'alert' }, `Not sent: ${p.error ?? 'unknown reason'}`), h('div', { class: 'msg-actions' }, resend, discard));
  } else {
    li.append(h('div', { class: 'state' }, 'sending…'));
    if (p.item.payload.attachment) {
      const bar = /** @type {HTMLProgressElement} */ (h('progress', { class: 'progress-bar', max: '1', 'aria-label': 'upload' }));
      if (p.progress !== null) bar.value = p.progress;
      li.append(bar);
    }
  }
  return li;
}

/** @param {Message} msg */
function renderMessage(msg) {
  const conv = state.current ? state.conversations.get(state.current) : undefined;
  const sender = conv?.raw.members.find((m) => m.username === msg.raw.sender);
  const mine = msg.raw.sender === me().username;
  // A former or deleted member keeps the name this device knew them by.
  const name = sender?.display_name || store.displayName(client().server.url, msg.raw.sender) || msg.raw.sender;
  const head = h('header', {}, h('strong', {}, name), h('time', { datetime: msg.raw.created_at, title: fullTime(msg.raw.created_at) }, shortTime(msg.raw.created_at)), msg.raw.edited_at ? '(edited)' : '');
  if (!msg.content) {
    return h('li', { class: 'msg unverified', 'data-id': msg.raw.id, 'data-verified': 'false' }, head, h('div', { class: 'text' }, `⚠ Not verified, not shown: ${msg.error}`));
  }
  const li = h('li', { class: mine ? 'msg mine' : 'msg', 'data-id': msg.raw.id, 'data-verified': 'true' }, head);
  if (msg.content.text) li.append(h('div', { class: 'text' }, ...linkify(msg.content.text).map((part) => (typeof part === 'string' ? part : h('a', { href: part.href, rel: 'noopener noreferrer', target: '_blank' }, part.text)))));
  const actions = h('div', { class: 'msg-actions' });
  if (msg.raw.attachment) {
    const name = msg.content.file_name || 'file';
    const size = humanSize(msg.raw.attachment.size - c.TAG_LEN);
    if (isPreviewable(msg)) li.append(preview(msg));
    const b = h('button', { type: 'button', class: 'link file', 'data-download': name }, `Download ${name} (${size})`);
    b.addEventListener('click', guard(() => downloadAttachment(msg)));
    li.append(h('div', {}, b));
  }
  if (mine) {
    const edit = h('button', { type: 'button', class: 'link' }, 'Edit');
    edit.addEventListener('click', () => startEdit(msg));
    const del = h('button', { type: 'button', class: 'link' }, 'Delete');
    del.addEventListener('click', guard(() => deleteMessage(msg)));
    actions.append(edit, del);
  }
  li.append(actions);
  return li;
}

/** Images up to this size are shown inline (decrypted in the page). */
const PREVIEW_MAX_BYTES = 8 * 1024 * 1024;

/** Decrypted previews by message id (blob: URLs), kept while the conversation is open. */
/** @type {Map<string, string>} */
const previews = new Map();

/** @param {Message} msg */
function isPreviewable(msg) {
  const type = msg.content?.file_type ?? '';
  return /^image\/(png|jpeg|gif|webp)$/.test(type) && (msg.raw.attachment?.size ?? Infinity) <= PREVIEW_MAX_BYTES;
}

/**
 * An image attachment shown inline: fetched and decrypted once, shown
 * from a blob: URL (the CSP's img-src allows blob:, nothing else new).
 * @param {Message} msg
 */
function preview(msg) {
  const img = /** @type {HTMLImageElement} */ (h('img', { class: 'preview', alt: msg.content?.file_name ?? 'image', 'data-preview': msg.raw.id }));
  const known = previews.get(msg.raw.id);
  if (known) {
    img.src = known;
    return img;
  }
  void (async () => {
    try {
      const info = /** @type {NonNullable<RawMessage['attachment']>} */ (msg.raw.attachment);
      const att = await client().request('message.attachment', { conversation_id: msg.raw.conversation_id, id: msg.raw.id });
      const bytes = await c.openAttachment(/** @type {Uint8Array} */ (msg.contentKey), c.b64decode(att.iv), c.b64decode(att.data), c.b64decode(info.digest));
      const url = URL.createObjectURL(new Blob([bytes], { type: msg.content?.file_type ?? 'image/png' }));
      previews.set(msg.raw.id, url);
      for (const shown of document.querySelectorAll(`img[data-preview="${msg.raw.id}"]`)) /** @type {HTMLImageElement} */ (shown).src = url;
    } catch (e) {
      img.replaceWith(h('small', {}, `No preview: ${describe(e).sentence}`));
    }
  })();
  return img;
}

/** @param {Message} msg */
async function downloadAttachment(msg) {
  const info = msg.raw.attachment;
  if (!info || !msg.contentKey || !msg.content) throw new Error('this message has no verified file');
  progress('Downloading and decrypting the file…');
  const att = await client().request('message.attachment', { conversation_id: msg.raw.conversation_id, id: msg.raw.id });
  const bytes = await c.openAttachment(msg.contentKey, c.b64decode(att.iv), c.b64decode(att.data), c.b64decode(info.digest));
  progress(null);
  download(bytes, msg.content.file_name || 'file', msg.content.file_type || 'application/octet-stream');
}

/** @param {Message} msg */
function startEdit(msg) {
  state.editing = msg.raw.id;
  el('editing').hidden = false;
  input('message-text').value = msg.content?.text ?? '';
  input('message-text').focus();
}

async function send() {
  const button = /** @type {HTMLButtonElement} */ (el('send'));
  // One submit at a time: a second click while this one is sealing does
  // nothing (the composer is cleared once the message is queued).
  if (button.disabled) return;
  button.disabled = true;
  try {
    await composeAndSend();
  } finally {
    button.disabled = false;
  }
}

/**
 * Empties the composer of what was just sent, and only of that: whatever
 * was typed or attached while it was being sealed stays for the next send.
 * @param {string} text
 * @param {File | undefined} file
 */
function clearComposer(text, file) {
  const box = input('message-text');
  if (box.value === text) box.value = '';
  const picker = input('message-file');
  if (file && picker.files?.[0] === file) picker.value = '';
}

async function composeAndSend() {
  const conv = currentConversation();
  const text = input('message-text').value;
  const file = input('message-file').files?.[0];
  const editing = state.editing ? state.messages.get(state.editing) : undefined;
  if (!text.trim() && !file && !editing?.content?.file_name) {
    // A second click on Send while the message it sent is on its way.
    if ([...state.outbox.values()].some((p) => p.state === 'sending' && p.item.conversation_id === conv.raw.id)) return;
    throw new Error('Write a message or attach a file.');
  }
  const limits = client().server.limits;
  /** @type {c.MessageContent} */
  const content = {};
  // Exactly what was typed, without the line breaks and spaces after it.
  if (text.trim()) content.text = text.replace(/\s+$/u, '');
  /** @type {Uint8Array | null} */
  let bytes = null;
  if (file) {
    const limit = limits.max_file_bytes - c.TAG_LEN;
    if (file.size > limit) throw failure(`${file.name} is ${humanSize(file.size)}: this server accepts files up to ${humanSize(limit)}.`, 'too_large');
    bytes = new Uint8Array(await file.arrayBuffer());
    content.file_name = file.name;
    content.file_type = file.type || 'application/octet-stream';
  }
  const json = c.contentJson(content);
  if (json.length + c.TAG_LEN > limits.max_content_bytes) {
    throw failure(`This message is too long (${humanSize(json.length)}): this server accepts up to ${humanSize(limits.max_content_bytes - c.TAG_LEN)} of text. Split it, or send it as a file.`, 'too_large');
  }
  if (editing) {
    if (!file && editing.raw.attachment) {
      // An edit that keeps the file must re-encrypt it under the new content key.
      const att = await client().request('message.attachment', { conversation_id: conv.raw.id, id: editing.raw.id });
      bytes = await c.openAttachment(/** @type {Uint8Array} */ (editing.contentKey), c.b64decode(att.iv), c.b64decode(att.data), c.b64decode(editing.raw.attachment.digest));
      content.file_name = editing.content?.file_name;
      content.file_type = editing.content?.file_type;
    }
    const raw = await withRecipients(conv.raw.id, async (_, members) => {
      const sealed = await c.sealMessage(me().identity, conv.raw.id, editing.raw.id, c.contentJson(content), bytes, members);
      return client().request('message.update', sealed.payload);
    });
    state.editing = null;
    el('editing').hidden = true;
    clearComposer(text, file);
    await upsertMessage(raw);
    renderMessages(true);
    return;
  }
  const id = crypto.randomUUID();
  const payload = await withRecipients(conv.raw.id, async (_, members) => (await c.sealMessage(me().identity, conv.raw.id, id, c.contentJson(content), bytes, members)).payload);
  /** @type {store.Outgoing} */
  const item = { server: client().server.url, username: me().username, id, conversation_id: conv.raw.id, payload, queued_at: new Date().toISOString() };
  // Sealed and kept before it goes: a reload or a failure loses nothing,
  // and a retry sends the same bytes with the same id (api.yml: a repeated
  // message.create is answered like the first).
  await store.queueOutgoing(item);
  state.outbox.set(id, { item, text: content.text ?? '', fileName: content.file_name ?? null, state: 'sending', error: null, progress: null, attempts: 0 });
  clearComposer(text, file);
  renderMessages(true);
  // The composer is free again while this one goes.
  void guard(() => deliver(id))();
}

/**
 * Sends a queued message (again): the same sealed bytes, the same id. A
 * member change since it was sealed re-seals it (from this device's own
 * wrapped copy) once.
 * @param {string} id
 */
async function deliver(id) {
  const pending = state.outbox.get(id);
  if (!pending) return;
  pending.state = 'sending';
  pending.error = null;
  pending.attempts += 1;
  renderMessages(false);
  const { item } = pending;
  const hasFile = Boolean(item.payload.attachment);
  try {
    let raw;
    try {
      raw = await client().request('message.create', item.payload, hasFile ? { onProgress: (sent, total) => progressOf(id, sent, total) } : {});
    } catch (e) {
      if (e instanceof ApiError && e.code === 'conflict' && pending.attempts > 1) {
        // A retry of a create that took effect and was deleted since (a
        // repeat of one that stands is answered like the first): settled.
        state.outbox.delete(id);
        await store.dropOutgoing(item.server, item.username, id);
        if (item.conversation_id === state.current) await catchUp(item.conversation_id);
        return;
      }
      if (!(e instanceof ApiError && e.code === 'members_mismatch')) throw e;
      item.payload = await resealOwn(item);
      await store.queueOutgoing(item);
      raw = await client().request('message.create', item.payload);
    }
    state.outbox.delete(id);
    await store.dropOutgoing(item.server, item.username, id);
    if (raw.conversation_id === state.current) await upsertMessage(raw, false);
    renderMessages(false);
  } catch (e) {
    pending.state = 'failed';
    pending.error = describe(e).sentence;
    pending.progress = null;
    renderMessages(false);
    // Where the person looks: the failed message, with its Resend.
    document.querySelector(`#message-list li[data-id="${id}"]`)?.scrollIntoView({ block: 'nearest' });
    if (e instanceof ApiError && e.code === 'bad_signature') throw e;
  }
}

/**
 * Shows an upload's progress on its pending message.
 * @param {string} id
 * @param {number} sent
 * @param {number} total
 */
function progressOf(id, sent, total) {
  const pending = state.outbox.get(id);
  if (!pending) return;
  pending.progress = total ? sent / total : null;
  const bar = /** @type {HTMLProgressElement | null} */ (document.querySelector(`#message-list li[data-id="${id}"] progress`));
  if (bar && pending.progress !== null) bar.value = pending.progress;
}

/**
 * Seals a queued message again for the conversation's members now, from
 * the copy wrapped for this device's key (the page keeps no plaintext).
 * @param {store.Outgoing} item
 */
async function resealOwn(item) {
  const p = item.payload;
  const mine = p.keys.find((/** @type {any} */ k) => k.username === me().username);
  if (!mine) throw new Error('this queued message has no copy for you; it cannot be sealed again');
  const key = await c.unwrapKey(me().keys.at(mine.key_index ?? me().keys.currentIndex), c.b64decode(mine.key));
  try {
    const content = await c.aesDecrypt(key, c.b64decode(p.content_iv), new Uint8Array(0), c.b64decode(p.content));
    const bytes = p.attachment ? await c.aesDecrypt(key, c.b64decode(p.attachment.iv), new Uint8Array(0), c.b64decode(p.attachment.data)) : null;
    const conv = await absorb(await client().request('conversation.get', { id: item.conversation_id }));
    const members = await recipients(conv.raw);
    return (await c.sealMessage(me().identity, item.conversation_id, item.id, content, bytes, members)).payload;
  } finally {
    c.wipe(key);
  }
}

/** Sends, once each, what this device queued for the user and never got acknowledged (a reload, a crash). */
async function flushOutbox() {
  for (const item of await store.outgoing(client().server.url, me().username)) {
    if (state.outbox.has(item.id)) continue;
    let text = '';
    let fileName = null;
    try {
      // Shown as it will be read: opened from this device's own copy.
      const mine = item.payload.keys.find((/** @type {any} */ k) => k.username === me().username);
      const key = await c.unwrapKey(me().keys.at(mine?.key_index ?? me().keys.currentIndex), c.b64decode(mine.key));
      const parsed = c.parseContent(await c.aesDecrypt(key, c.b64decode(item.payload.content_iv), new Uint8Array(0), c.b64decode(item.payload.content)));
      c.wipe(key);
      text = parsed.text ?? '';
      fileName = parsed.file_name ?? null;
    } catch {
      text = '(a message queued on this device)';
    }
    // Queued before a reload: it may have reached the server already.
    state.outbox.set(item.id, { item, text, fileName, state: 'sending', error: null, progress: null, attempts: 1 });
  }
  renderMessages(false);
  for (const id of [...state.outbox.keys()]) if (state.outbox.get(id)?.state === 'sending') await deliver(id);
}

/** @param {Message} msg */
async function deleteMessage(msg) {
  if (!confirm('Delete this message for everyone?')) return;
  await client().request('message.delete', { conversation_id: msg.raw.conversation_id, id: msg.raw.id });
  state.messages.delete(msg.raw.id);
  renderMessages(false);
}

async function loadOlder() {
  const conv = currentConversation();
  if (!state.olderCursor) return;
  progress('Decrypting older messages…');
  const page = await client().request('message.list', { conversation_id: conv.raw.id, before: state.olderCursor, limit: 50 });
  const box = el('messages');
  const fromBottom = box.scrollHeight - box.scrollTop;
  for (const m of page.messages) await upsertMessage(m, false);
  state.olderCursor = page.next_cursor ?? null;
  renderMessages(false);
  box.scrollTop = box.scrollHeight - fromBottom;
  progress(null);
}

// ------------------------------------------------------------ live events

/**
 * @param {'open' | 'closed' | 'ended'} s
 * @param {string} [reason]
 * @param {number} [code]
 */
async function onSocketState(s, reason, code) {
  if (s === 'ended') {
    const username = me().username;
    if (code === 4003) {
      stopSession();
      enterStart('Your account was deleted on the server (by you on another device, or by the operator). Ask the operator for a new account to chat again.');
      return;
    }
    const local = await store.loadKey(/** @type {any} */ (state.server).url, username);
    offerFollow(username, Boolean(local?.on_server), code === 4002);
    return;
  }
  const badge = el('conn-state');
  badge.hidden = false;
  badge.className = `badge ${s === 'open' ? 'online' : 'offline'}`;
  badge.textContent = s === 'open' ? 'live' : 'reconnecting…';
  badge.title = reason ?? '';
  state.connected = s === 'open';
  if (s !== 'open') return;
  // Events sent while the socket was down are gone: fetch back what they
  // would have told us. Messages are keyed by id, so nothing doubles.
  badge.textContent = 'catching up…';
  await loadConversations();
  if (state.current) await catchUp(state.current);
  if (state.connected) badge.textContent = 'live';
}

/**
 * Brings the open conversation up to date after a reconnect: pages back
 * from the newest message until it reaches the oldest one shown, so that
 * nothing sent meanwhile is skipped however much it was, and edits and
 * deletions made meanwhile show too.
 * @param {string} id
 */
async function catchUp(id) {
  const raw = await client().request('conversation.get', { id });
  if (state.current !== id) return;
  renderHeader(await absorb(raw));
  const shown = [...state.messages.values()].map((m) => Date.parse(m.raw.created_at));
  const oldestShown = shown.length ? Math.min(...shown) : Infinity;
  /** @type {RawMessage[]} */
  const fetched = [...raw.messages];
  let cursor = raw.next_cursor ?? null;
  const oldestFetched = () => Math.min(...fetched.map((m) => Date.parse(m.created_at)));
  while (cursor && fetched.length && oldestFetched() > oldestShown) {
    const page = await client().request('message.list', { conversation_id: id, before: cursor, limit: client().server.limits.max_page_size });
    if (state.current !== id) return;
    fetched.push(...page.messages);
    cursor = page.next_cursor ?? null;
  }
  // What is shown within the fetched span but no longer there was deleted.
  // (Back to the first message when the pages ran out.)
  const span = cursor === null ? -Infinity : oldestFetched();
  const present = new Set(fetched.map((m) => m.id));
  for (const [messageId, m] of state.messages) if (Date.parse(m.raw.created_at) >= span && !present.has(messageId)) state.messages.delete(messageId);
  for (const m of fetched) await upsertMessage(m, false);
  if (oldestFetched() <= oldestShown || !shown.length) state.olderCursor = cursor;
  renderMessages(false);
}

/**
 * @param {string} type
 * @param {any} payload
 */
async function onEvent(type, payload) {
  switch (type) {
    case 'event.message.created':
    case 'event.message.updated': {
      const conv = state.conversations.get(payload.conversation_id);
      if (conv) conv.raw.updated_at = payload.edited_at ?? payload.created_at;
      if (payload.conversation_id === state.current) await upsertMessage(payload);
      else if (!conv) await loadConversations();
      if (type === 'event.message.created' && payload.sender !== me().username) {
        state.unread.set(payload.conversation_id, (state.unread.get(payload.conversation_id) ?? 0) + 1);
        await notify(payload);
      }
      renderConversations();
      markSeen();
      break;
    }
    case 'event.message.deleted':
      if (payload.conversation_id === state.current) {
        state.messages.delete(payload.id);
        renderMessages(false);
      }
      break;
    case 'event.conversation.created':
    case 'event.conversation.updated': {
      const conv = await absorb(payload);
      renderConversations();
      if (payload.id === state.current) renderHeader(conv);
      break;
    }
    case 'event.conversation.deleted':
    case 'event.conversation.removed': {
      const gone = state.conversations.get(payload.id);
      const name = gone ? title(gone) : 'a conversation';
      state.conversations.delete(payload.id);
      state.unread.delete(payload.id);
      if (payload.id === state.current) closeConversation();
      status(type === 'event.conversation.removed' ? `The owner removed you from ${name}.` : `The owner deleted ${name}.`);
      renderConversations();
      break;
    }
    case 'event.conversation.left':
      if (payload.username === me().username) {
        state.conversations.delete(payload.conversation_id);
        if (payload.conversation_id === state.current) closeConversation();
        renderConversations();
      } else {
        const raw = await client().request('conversation.get', { id: payload.conversation_id });
        const conv = await absorb(raw);
        if (raw.id === state.current) renderHeader(conv);
        renderConversations();
      }
      break;
    case 'event.user.key_changed': {
      if (payload.username === me().username) break; // this session ends with 4001 if it was not us
      trust().forget(payload.username);
      await trust().chain(payload.username).catch(() => null);
      // Re-seals names for the new key where needed, and shows the notice
      // (a signed rotation) or the warning (an unexplained change).
      await loadConversations();
      if (state.current) renderHeader(currentConversation());
      break;
    }
    default:
      console.warn('unknown event', type);
  }
}

// ------------------------------------------------------------ notifications

/**
 * A desktop notification for a message that arrived while the page is in
 * the background, if the person opted in: who wrote, and the text only
 * with the second opt-in.
 * @param {RawMessage} raw
 */
async function notify(raw) {
  const prefs = store.notifyPrefs();
  if (!prefs.on || document.visibilityState === 'visible' || !('Notification' in window) || Notification.permission !== 'granted') return;
  const conv = state.conversations.get(raw.conversation_id);
  const sender = conv?.raw.members.find((m) => m.username === raw.sender)?.display_name || store.displayName(client().server.url, raw.sender) || raw.sender;
  let body = '';
  if (prefs.text && raw.conversation_id === state.current) body = state.messages.get(raw.id)?.content?.text ?? '';
  else if (prefs.text) {
    try {
      const key = await trust().keyFor(raw.sender, raw.sender_key_index, raw.created_at);
      body = c.parseContent((await c.openMessage(/** @type {any} */ (raw), me().username, me().keys.at(raw.key_index), key)).content).text ?? '';
    } catch {
      body = '';
    }
  }
  const note = new Notification(`New message from ${sender}`, { body, tag: raw.conversation_id });
  note.onclick = () => {
    window.focus();
    void guard(() => openConversation(raw.conversation_id))();
  };
}

/** Applies the notification switches of the Account screen. */
async function setNotifications() {
  const on = input('notify-on').checked;
  let granted = false;
  if (on) {
    if (!('Notification' in window)) throw new Error('This browser cannot show notifications.');
    granted = (await Notification.requestPermission()) === 'granted';
    if (!granted) {
      input('notify-on').checked = false;
      throw new Error('The browser did not allow notifications: allow them for this site in its settings, then try again.');
    }
  }
  store.setNotifyPrefs({ on: on && granted, text: on && input('notify-text').checked });
  input('notify-text').disabled = !(on && granted);
  if (!on) input('notify-text').checked = false;
}

// ------------------------------------------------------------ account

async function localKey() {
  const k = await store.loadKey(client().server.url, me().username);
  if (!k) throw new Error('This device has no copy of your key any more: export it from another device and import it here.');
  return k;
}

async function saveServerCopy() {
  const local = await localKey();
  if (input('account-store').checked) {
    const sync = input('account-sync-password').value;
    if (!sync) throw new Error('Enter the Sync password the server should ask for.');
    // The local copy is already encrypted with the password of the key:
    // upload it as it is; nothing is decrypted.
    await client().request('user.update', { private_key: local.private_key, sync_password: sync });
    await store.saveKey({ ...local, on_server: true });
    status('The encrypted key is stored on the server, behind your Sync password.');
  } else {
    await client().request('user.update', { remove_private_key: true });
    await store.saveKey({ ...local, on_server: false });
    status('The server copy of your key is removed.');
  }
  input('account-sync-password').value = '';
}

async function exportKeys() {
  const local = await localKey();
  const filePassword = input('export-password').value;
  /** @type {c.KeyFile} */
  let file;
  if (filePassword) {
    const keyPassword = input('export-key-password').value;
    if (!keyPassword) throw new Error('Enter the password of your key to re-encrypt it with the key file password.');
    const ring = await c.decryptPrivateKeyRing(local.private_key, keyPassword);
    try {
      file = await c.makeKeyFileRing(client().server.url, me().username, c.b64decode(local.public_key), ring, filePassword);
    } finally {
      for (const der of ring) c.wipe(der);
    }
  } else {
    // Without a new password the file holds the keys as this device does:
    // encrypted with the password of the key (every key, after a rotation).
    const version = local.private_key.version === 2 ? 2 : 1;
    file = { version, server: client().server.url, username: me().username, public_key: local.public_key, private_key: { encoding: 'encrypted', ...local.private_key } };
  }
  download(c.keyFileJson(file), `nanochat-${me().username}.json`, 'application/json');
  await store.saveKey({ ...local, exported: true });
  input('export-password').value = '';
  input('export-key-password').value = '';
  status(filePassword ? 'Key file exported, encrypted with the key file password.' : 'Key file exported, encrypted with the password of your key.');
}

async function rotateKey() {
  const password = input('rotate-password').value;
  if (!password) throw new Error('Enter the password of your key: it encrypts your key ring again with the new key in it.');
  const local = await localKey();
  progress('Opening your key ring…');
  const ring = await c.decryptPrivateKeyRing(local.private_key, password);
  let blob;
  let identity;
  try {
    progress('Generating your new key pair…');
    const generated = await c.generateKeyPair();
    identity = generated.identity;
    // Every earlier key stays, encrypted with the same password: what was
    // sealed for them keeps opening (api.yml, "Key history").
    ring.push(generated.pkcs8);
    blob = await c.encryptPrivateKeyRing(ring, password);
  } finally {
    for (const der of ring) c.wipe(der);
  }
  // Both keys sign the succession bytes: the current key vouches for the
  // new one, the new one proves possession (api.yml, "Key history").
  const self = await client().request('user.get', { username: me().username });
  const succession = c.keySuccessionBytes(me().username, self.key_index + 1, me().identity.publicKey.der, identity.publicKey.der);
  const vouch = await c.sign(me().identity, succession);
  const proof = await c.sign(identity, succession);
  /** @type {Schemas['UpdateUser']} */
  const payload = {
    public_key: c.b64encode(identity.publicKey.der),
    public_key_signature: c.b64encode(proof),
    succession_signature: c.b64encode(vouch),
  };
  if (local.on_server) payload.private_key = blob;
  // The ring with the new key is on this device before the server learns
  // of it: a page closed in between loses nothing (login finds the key
  // the server has in the ring, whichever it is).
  await store.saveKey({ ...local, private_key: blob, exported: false });
  const cl = client();
  const update = cl.request('user.update', payload).then((user) => {
    // From the moment the server has it, the new key signs (the event
    // session reconnects with it).
    cl.identity = identity;
    return user;
  });
  cl.keyChange = update.then(
    () => {},
    () => {},
  );
  let user;
  try {
    user = await update;
  } finally {
    cl.keyChange = null;
  }
  await store.saveKey({ ...local, public_key: user.public_key, private_key: blob, exported: false });
  const keys = new OwnKeys([...me().keys.identities, identity]);
  await keys.learn(client(), me().username);
  me().keys = keys;
  me().identity = identity;
  trust().setOwn(identity.publicKey.fingerprint, /** @type {number} */ (keys.currentIndex));
  // A kept session keeps the new ring too, or the next reload would find
  // only the earlier keys.
  if (await store.keptSession(cl.server.url, me().username)) await store.keepSession({ server: cl.server.url, username: me().username, identities: keys.identities });
  input('rotate-password').value = '';
  progress(null);
  el('my-fp').textContent = identity.publicKey.fingerprint;
  status(`New key pair in use (key ${keys.currentIndex}): ${identity.publicKey.fingerprint}. Everything you could read before still opens.${local.on_server ? ' The server copy holds every key: your other devices log in with the sync password.' : ' Export a key file now for your other devices: older key files lack the new key.'}`);
}

async function deleteAccount() {
  if (input('delete-confirm').value !== me().username) throw new Error('Type your username exactly to confirm.');
  await client().request('user.delete');
  await store.deleteKey(client().server.url, me().username);
  logout();
  status('Your account is deleted.');
}

async function forgetDevice() {
  const local = await localKey();
  if (!local.on_server && !local.exported) {
    if (!confirm('This device holds the only copy of your private key. Without it you lose your account. Export it first (Export public/private keys) or store it on the server. Delete it anyway?')) return;
  }
  await store.deleteKey(local.server, local.username);
  logout();
  status('This device no longer holds your key.');
}

async function openAccount() {
  const local = await store.loadKey(client().server.url, me().username);
  el('my-fp').textContent = me().identity.publicKey.fingerprint;
  el('rotate-server-copy').textContent = local?.on_server
    ? 'This device uploaded a copy of your key to the server: the rotation updates it, and your other devices log in again with your sync password.'
    : 'The server holds no copy of your key from this device: after rotating, export a key file here and import it on each of your other devices.';
  input('account-display-name').value = me().displayName;
  input('account-store').checked = Boolean(local?.on_server);
  const prefs = store.notifyPrefs();
  input('notify-on').checked = prefs.on;
  input('notify-text').checked = prefs.text;
  input('notify-text').disabled = !prefs.on;
  show('screen-account');
}

// ------------------------------------------------------------ wiring

/**
 * @param {string} id
 * @param {() => Promise<void>} fn
 */
function onSubmit(id, fn) {
  const form = el(id);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void guard(async () => {
      status('');
      clearError(form);
      await fn();
    }, form)();
  });
}

/**
 * @param {string} id
 * @param {() => Promise<void> | void} fn
 */
function onClick(id, fn) {
  el(id).addEventListener('click', () => void guard(async () => fn())());
}

function init() {
  if (!globalThis.crypto?.subtle) {
    el('insecure').hidden = false;
    return;
  }
  const last = store.lastUsed();
  input('server-url').value = last.server ?? location.origin;
  show('screen-server');
  // A server used before and pinned: connect at once (and resume a kept
  // session); the server screen stays for the first visit and for errors.
  if (last.server && store.pinnedServer(last.server)) void guard(() => connect(/** @type {string} */ (last.server)), el('server-form'))();
  onSubmit('server-form', () => connect(input('server-url').value));
  input('accept-new-key').addEventListener('change', () => {
    /** @type {HTMLButtonElement} */ (el('trust-new-key')).disabled = !input('accept-new-key').checked;
  });
  onClick('trust-new-key', () => {
    const info = /** @type {import('./api.js').ServerInfo} */ (state.server);
    store.pinServer(info.url, info.fingerprint);
    el('key-changed').hidden = true;
    input('accept-new-key').checked = false;
    enterStart('New server key pinned.');
  });
  input('complete-advanced').addEventListener('change', () => (el('complete-advanced-fields').hidden = !input('complete-advanced').checked));
  input('complete-store').addEventListener('change', () => (el('complete-sync-fields').hidden = !input('complete-store').checked));
  input('complete-import').addEventListener('change', () => (el('complete-import-pw').hidden = !input('complete-import').files?.length));
  onSubmit('complete-form', complete);
  onSubmit('login-form', login);
  onSubmit('new-conv-form', createConversation);
  onSubmit('composer', send);
  onSubmit('rename-form', renameConversation);
  onSubmit('members-form', addMember);
  onClick('load-older', loadOlder);
  // Scrolling to the top of the history fetches the previous page.
  el('messages').addEventListener('scroll', () => {
    if (el('messages').scrollTop === 0 && state.olderCursor && el('progress').hidden) void guard(loadOlder)();
  });
  onClick('cancel-edit', () => {
    state.editing = null;
    el('editing').hidden = true;
    /** @type {HTMLFormElement} */ (el('composer')).reset();
  });
  onClick('rename-conv', () => {
    const conv = currentConversation();
    el('rename-form').hidden = false;
    input('rename-input').value = conv.name ?? '';
    input('rename-input').focus();
  });
  onClick('edit-members', () => {
    /** @type {HTMLDetailsElement} */ (el('members-box')).open = true;
    el('members-form').hidden = currentConversation().raw.owner !== me().username;
    if (!el('members-form').hidden) input('members-input').focus();
  });
  onClick('leave-conv', async () => {
    const conv = currentConversation();
    if (!confirm(`Leave "${title(conv)}"?`)) return;
    await client().request('conversation.leave', { id: conv.raw.id });
    state.conversations.delete(conv.raw.id);
    closeConversation();
  });
  onClick('delete-conv', async () => {
    const conv = currentConversation();
    if (!confirm(`Delete "${title(conv)}" and all its messages for everyone?`)) return;
    await client().request('conversation.delete', { id: conv.raw.id });
    state.conversations.delete(conv.raw.id);
    closeConversation();
  });
  onClick('logout', async () => {
    const local = await store.loadKey(client().server.url, me().username);
    const onlyCopy = local && !local.on_server && !local.exported;
    await store.forgetSession(client().server.url, me().username);
    logout(
      onlyCopy
        ? 'Logged out. This device holds the only copy of your key: log in again and export it (Account), or store it on the server, so that losing this device does not lose your account.'
        : undefined,
    );
  });
  onClick('lock', async () => {
    await store.forgetSession(client().server.url, me().username);
    logout('Locked. Enter your password to continue.');
    input('login-password').focus();
  });
  onClick('open-account', openAccount);
  onClick('close-account', () => show('screen-chat'));
  onClick('back', () => {
    if (!el('screen-account').hidden) show('screen-chat');
    else closeConversation();
  });
  onClick('new-conv-open', () => {
    /** @type {HTMLDialogElement} */ (el('new-conv-dialog')).showModal();
    input('new-conv-members').focus();
  });
  onClick('new-conv-cancel', () => /** @type {HTMLDialogElement} */ (el('new-conv-dialog')).close());
  // Enter sends, Shift+Enter adds a line; Escape cancels an edit.
  el('message-text').addEventListener('keydown', (ev) => {
    const key = /** @type {KeyboardEvent} */ (ev);
    if (key.key === 'Enter' && !key.shiftKey && !key.isComposing) {
      key.preventDefault();
      /** @type {HTMLFormElement} */ (el('composer')).requestSubmit();
    } else if (key.key === 'Escape' && state.editing) {
      key.preventDefault();
      el('cancel-edit').click();
    }
  });
  input('notify-on').addEventListener('change', () => void guard(setNotifications, el('notify-form'))());
  input('notify-text').addEventListener('change', () => void guard(setNotifications, el('notify-form'))());
  document.addEventListener('visibilitychange', markSeen);
  el('messages').addEventListener('scroll', markSeen, { passive: true });
  onSubmit('display-name-form', async () => {
    const user = await client().request('user.update', { display_name: input('account-display-name').value.trim() });
    me().displayName = user.display_name;
    el('me-badge').textContent = `${user.display_name} (@${user.username})`;
    status('Display name changed.');
  });
  onSubmit('server-copy-form', saveServerCopy);
  onSubmit('export-form', exportKeys);
  onSubmit('rotate-form', rotateKey);
  onSubmit('follow-sync-form', followSync);
  onSubmit('follow-file-form', followFile);
  onClick('follow-back', () => enterStart(''));
  onSubmit('delete-account-form', deleteAccount);
  onClick('forget-device', forgetDevice);
}

init();
