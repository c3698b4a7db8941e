// The NanoChat page: forms and views wired to the protocol (crypto.js), the
// transport (api.js) and this device's memory (store.js). No framework: the
// DOM in index.html is the template and this module fills it.
//
// The private key exists only as non-extractable CryptoKeys in `state.me`;
// the page keeps no password after the handler that needed it returns.

import * as c from './crypto.js';
import { ApiError, Client, fetchReferences, normaliseServerUrl } from './api.js';
import * as store from './store.js';

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
  /** @type {{username: string, displayName: string, identity: c.Identity} | null} */
  me: null,
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
  /** @type {Map<string, c.PublicKey>} public keys by fingerprint */
  keys: new Map(),
  /** @type {Map<string, {was: string, now: string}>} unacknowledged key changes by username */
  keyChanges: new Map(),
  /** @type {string | null} the message being edited */
  editing: null,
  /** @type {Record<string, number>} milliseconds, for the README's measurements */
  timings: {},
  connected: false,
};

// Tests read timings and drive reconnects through this handle.
/** @type {any} */ (window).nanochat = { state, dropSocket: () => state.events?.drop() };

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
  for (const s of ['screen-server', 'screen-start', 'screen-chat', 'screen-account']) el(s).hidden = s !== id;
}

/**
 * @param {string} text
 * @param {boolean} [error]
 */
function status(text, error = false) {
  const box = el('status');
  box.replaceChildren(text ? h('p', error ? { class: 'error' } : {}, text) : '');
}

/** @param {string | null} text */
function progress(text) {
  el('progress').hidden = !text;
  el('progress-text').textContent = text ?? '';
}

/**
 * Runs an event handler, showing any failure instead of losing it.
 * @param {(...args: any[]) => Promise<void>} fn
 */
function guard(fn) {
  return async (/** @type {any[]} */ ...args) => {
    try {
      await fn(...args);
    } catch (e) {
      progress(null);
      status(explain(e), true);
      console.error(e);
    }
  };
}

/** @param {unknown} e */
function explain(e) {
  if (e instanceof ApiError) {
    const known = {
      invalid_token: 'The complete token is wrong, used or expired: ask the operator for a new one (nanochat user reset).',
      wrong_password: 'Wrong sync password.',
      rate_limited: 'Too many attempts: wait a few minutes.',
      unknown_user: 'No such user on this server.',
      not_found: 'Not found.',
    };
    return /** @type {Record<string, string>} */ (known)[e.code] ?? `${e.message} (${e.code})`;
  }
  if (e instanceof c.CryptoError && e.code === 'wrong_password') return 'Wrong password of the key.';
  return e instanceof Error ? e.message : String(e);
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
  enterStart(pinned ? 'Server key matches the pinned one.' : 'Server key pinned on first use: ask your operator to compare it with what nanochat server-key prints.');
}

/** @param {string} note */
function enterStart(note) {
  const info = /** @type {import('./api.js').ServerInfo} */ (state.server);
  const badge = el('server-badge');
  badge.hidden = false;
  badge.textContent = `${new URL(info.url).host} · ${info.fingerprint}`;
  badge.title = 'Server key fingerprint (pinned)';
  const skew = Math.abs(info.clockSkewSeconds);
  status(skew > info.windowSeconds / 2 ? `This computer's clock is ${Math.round(skew)} s off the server's: fix it, or requests will be refused.` : note, skew > info.windowSeconds / 2);
  const last = store.lastUsed();
  if (last.username) input('login-username').value = last.username;
  show('screen-start');
}

// ------------------------------------------------------------ complete

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
  let generated;
  const t0 = performance.now();
  if (file) {
    progress('Opening the key file…');
    const keyFile = c.parseKeyFile(await file.text());
    generated = await c.openKeyFile(keyFile, input('complete-import-password').value || null);
  } else {
    progress('Generating your key pair (RSA 3072)…');
    generated = await c.generateKeyPair();
    state.timings.keygen_ms = performance.now() - t0;
  }
  progress('Encrypting your private key with the password of your key…');
  const blob = await c.encryptPrivateKey(generated.pkcs8, password);
  c.wipe(generated.pkcs8);
  const identity = generated.identity;
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
  await store.saveKey({ server: server.url, username, public_key: user.public_key, private_key: blob, on_server: storeOnServer, exported: false });
  /** @type {HTMLFormElement} */ (el('complete-form')).reset();
  progress(null);
  await enterChat(cl, username, user.display_name, identity);
  status(`Welcome, ${user.display_name}. Your key fingerprint is ${identity.publicKey.fingerprint}.`);
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
  if (importFile) {
    progress('Opening the key file…');
    const keyFile = c.parseKeyFile(await importFile.text());
    if (keyFile.username !== username) throw new Error(`This key file is ${keyFile.username}'s, not ${username}'s.`);
    const opened = await c.openKeyFile(keyFile, input('login-import-password').value || null);
    const blob = await c.encryptPrivateKey(opened.pkcs8, password);
    c.wipe(opened.pkcs8);
    local = { server: server.url, username, public_key: keyFile.public_key, private_key: blob, on_server: local?.on_server ?? false, exported: true };
  } else if (!local) {
    const syncPassword = input('login-sync-password').value;
    if (el('login-sync').hidden || !syncPassword) {
      el('login-sync').hidden = false;
      input('login-sync-password').focus();
      status(`This device has no key for ${username}. Enter your Sync password to fetch the encrypted copy from the server.`);
      return;
    }
    progress('Fetching your encrypted key (user.sync)…');
    const synced = await cl.request('user.sync', { sync_password: syncPassword });
    local = { server: server.url, username, public_key: synced.public_key, private_key: c.validateEncryptedPrivateKey(synced.private_key), on_server: true, exported: false };
  }
  progress('Decrypting your private key…');
  const pkcs8 = await c.decryptPrivateKey(local.private_key, password);
  const identity = await c.importPrivateKey(pkcs8, await c.importPublicKeyBase64(local.public_key));
  c.wipe(pkcs8);
  cl.identity = identity;
  const self = await cl.request('user.get', { username });
  if (self.fingerprint !== identity.publicKey.fingerprint) {
    throw new Error(`The key on this device (${identity.publicKey.fingerprint}) is no longer ${username}'s key on the server (${self.fingerprint}). Import the current key file or log in through sync.`);
  }
  await store.saveKey(local);
  /** @type {HTMLFormElement} */ (el('login-form')).reset();
  el('login-sync').hidden = true;
  await enterChat(cl, username, self.display_name, identity);
  state.timings.login_ms = performance.now() - t0;
  progress(null);
  status(`Logged in as ${self.display_name}.`);
}

/**
 * @param {Client} cl
 * @param {string} username
 * @param {string} displayName
 * @param {c.Identity} identity
 */
async function enterChat(cl, username, displayName, identity) {
  state.client = cl;
  state.me = { username, displayName, identity };
  store.setLastUsed({ username });
  store.rememberUserKey(cl.server.url, username, identity.publicKey.fingerprint);
  el('me-badge').hidden = false;
  el('me-badge').textContent = `${displayName} (@${username})`;
  el('top-actions').hidden = false;
  show('screen-chat');
  progress('Loading conversations…');
  await loadConversations();
  progress(null);
  state.events = cl.events(
    (type, payload) => void guard(() => onEvent(String(type), payload))(),
    (s, reason) => void guard(() => onSocketState(s, reason))(),
  );
}

function logout() {
  state.events?.close();
  Object.assign(state, { client: null, me: null, events: null, current: null, editing: null, olderCursor: null, connected: false });
  state.conversations.clear();
  state.messages.clear();
  state.keyChanges.clear();
  el('conv-list').replaceChildren();
  el('conv-view').hidden = true;
  for (const id of ['me-badge', 'conn-state', 'top-actions']) el(id).hidden = true;
  enterStart('Logged out. Your encrypted key stays on this device.');
}

// ------------------------------------------------------------ keys of others

/**
 * Imports (once) and checks a user's public key against what this device
 * saw before; a change is recorded as a warning, never silently accepted.
 * @param {string} username
 * @param {string} publicKeyB64
 */
async function userKey(username, publicKeyB64) {
  const key = await c.importPublicKeyBase64(publicKeyB64);
  const cached = state.keys.get(key.fingerprint);
  if (!cached) state.keys.set(key.fingerprint, key);
  const server = client().server.url;
  const known = store.knownUserKey(server, username);
  if (!known) store.rememberUserKey(server, username, key.fingerprint);
  else if (known !== key.fingerprint && username !== me().username) state.keyChanges.set(username, { was: known, now: key.fingerprint });
  return cached ?? key;
}

/**
 * The current members that have a key, as recipients.
 * @param {RawConversation} raw
 */
async function recipients(raw) {
  /** @type {c.Member[]} */
  const out = [];
  for (const m of raw.members) if (m.public_key) out.push({ username: m.username, publicKey: await userKey(m.username, m.public_key) });
  return out;
}

/**
 * Recipients for a member list that is about to be set (user.get each).
 * @param {string[]} usernames
 */
async function recipientsFor(usernames) {
  /** @type {c.Member[]} */
  const out = [];
  for (const username of usernames) {
    const u = await client().request('user.get', { username });
    if (u.public_key) out.push({ username, publicKey: await userKey(username, u.public_key) });
  }
  return out;
}

/**
 * The key to verify a sender with: from the member list, else user.get.
 * @param {string} username
 */
async function senderKey(username) {
  const conv = state.current ? state.conversations.get(state.current) : undefined;
  const member = conv?.raw.members.find((m) => m.username === username);
  if (member?.public_key) return userKey(username, member.public_key);
  const u = await client().request('user.get', { username });
  return userKey(username, u.public_key);
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
 * hints that a member cannot read it and we can.
 * @param {RawConversation} raw
 */
async function absorb(raw) {
  /** @type {Conversation} */
  const conv = { raw, name: null, nameError: null };
  for (const m of raw.members) if (m.public_key) await userKey(m.username, m.public_key);
  const sealed = raw.name;
  if (sealed) {
    const sealer = raw.members.find((m) => m.username === sealed.sealed_by);
    try {
      if (!sealer?.public_key) throw new Error(`its sealer ${sealed.sealed_by} is no longer a member`);
      conv.name = await c.openName(raw.id, /** @type {any} */ (sealed), me().username, me().identity, await userKey(sealer.username, sealer.public_key));
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
        // Another member re-sealed first (conflict): the next fetch shows it.
        if (!(e instanceof ApiError && e.code === 'conflict')) throw e;
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
  el('conv-list').replaceChildren(
    ...sorted.map((conv) => {
      const b = h('button', { type: 'button', 'data-id': conv.raw.id, 'aria-current': String(conv.raw.id === state.current) }, title(conv), h('small', {}, `${conv.raw.members.length} members · ${time(conv.raw.updated_at)}`));
      b.addEventListener('click', guard(() => openConversation(conv.raw.id)));
      return h('li', {}, b);
    }),
  );
}

async function createConversation() {
  const members = parseUsernames(input('new-conv-members').value).filter((u) => u !== me().username);
  if (members.length === 0) throw new Error('Name at least one other member.');
  const nameText = input('new-conv-name').value.trim();
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
  renderConversations();
  await openConversation(raw.id);
}

/** @param {string} id */
async function openConversation(id) {
  const t0 = performance.now();
  state.current = id;
  state.messages.clear();
  state.editing = null;
  el('editing').hidden = true;
  el('message-list').replaceChildren();
  el('conv-view').hidden = false;
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
}

function closeConversation() {
  state.current = null;
  state.messages.clear();
  el('conv-view').hidden = true;
  renderConversations();
}

/** @param {Conversation} conv */
function renderHeader(conv) {
  const mine = me().username;
  el('conv-title').textContent = title(conv);
  el('conv-title').title = conv.nameError ?? '';
  const owner = conv.raw.owner === mine;
  el('delete-conv').hidden = !owner;
  el('edit-members').hidden = !owner;
  el('members-form').hidden = true;
  el('rename-form').hidden = true;
  el('member-list').replaceChildren(
    ...conv.raw.members.map((m) =>
      h('li', {}, h('strong', {}, m.display_name || m.username), ` @${m.username}${m.owner ? ' (owner)' : ''} `, h('br'), h('code', {}, m.fingerprint || 'no key (reset by the operator)')),
    ),
  );
  const warnings = [];
  if (conv.nameError) warnings.push(h('div', { class: 'warning' }, `The conversation name is not shown: ${conv.nameError}`));
  for (const m of conv.raw.members) {
    const change = state.keyChanges.get(m.username);
    if (!change) continue;
    const accept = h('button', { type: 'button', class: 'link' }, 'I checked the new fingerprint');
    accept.addEventListener('click', () => {
      store.rememberUserKey(client().server.url, m.username, change.now);
      state.keyChanges.delete(m.username);
      renderHeader(conv);
    });
    warnings.push(h('div', { class: 'warning', role: 'alert', 'data-key-change': m.username }, `${m.username}'s key changed. Was ${change.was}, now ${change.now}. Compare it with them before trusting new messages. `, accept));
  }
  el('key-warnings').replaceChildren(...warnings);
}

async function renameConversation() {
  const conv = currentConversation();
  const text = input('rename-input').value.trim();
  /** @type {Schemas['Conversation']} */
  const payload = { id: conv.raw.id };
  if (text) payload.name = await c.sealName(me().identity, conv.raw.id, conv.raw.name_revision + 1, text, await recipients(conv.raw));
  else payload.remove_name = true;
  const raw = await client().request('conversation.update', payload);
  renderHeader(await absorb(raw));
  renderConversations();
}

async function saveMembers() {
  const conv = currentConversation();
  const members = parseUsernames(input('members-input').value);
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
  /** @type {Message} */
  const msg = { raw, content: null, contentKey: null, error: null };
  try {
    const opened = await c.openMessage(/** @type {any} */ (raw), me().username, me().identity, await senderKey(raw.sender));
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
  el('message-list').replaceChildren(...sorted.map(renderMessage));
  el('load-older').hidden = !state.olderCursor;
  if (toBottom || atBottom) box.scrollTop = box.scrollHeight;
}

/** @param {Message} msg */
function renderMessage(msg) {
  const conv = state.current ? state.conversations.get(state.current) : undefined;
  const sender = conv?.raw.members.find((m) => m.username === msg.raw.sender);
  const mine = msg.raw.sender === me().username;
  const head = h('header', {}, h('strong', {}, sender?.display_name || msg.raw.sender), h('time', { datetime: msg.raw.created_at }, time(msg.raw.created_at)), msg.raw.edited_at ? '(edited)' : '');
  if (!msg.content) {
    return h('li', { class: 'msg unverified', 'data-id': msg.raw.id, 'data-verified': 'false' }, head, h('div', { class: 'text' }, `⚠ Not verified, not shown: ${msg.error}`));
  }
  const li = h('li', { class: mine ? 'msg mine' : 'msg', 'data-id': msg.raw.id, 'data-verified': 'true' }, head);
  if (msg.content.text) li.append(h('div', { class: 'text' }, msg.content.text));
  const actions = h('div', { class: 'msg-actions' });
  if (msg.raw.attachment) {
    const name = msg.content.file_name || 'file';
    const b = h('button', { type: 'button', class: 'link', 'data-download': name }, `Download ${name} (${msg.raw.attachment.size - c.TAG_LEN} bytes)`);
    b.addEventListener('click', guard(() => downloadAttachment(msg)));
    actions.append(b);
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
  const conv = currentConversation();
  const text = input('message-text').value;
  const file = input('message-file').files?.[0];
  const editing = state.editing ? state.messages.get(state.editing) : undefined;
  if (!text.trim() && !file && !editing?.content?.file_name) throw new Error('Write a message or attach a file.');
  /** @type {c.MessageContent} */
  const content = {};
  if (text.trim()) content.text = text;
  let bytes = null;
  if (file) {
    const limit = client().server.limits.max_file_bytes - c.TAG_LEN;
    if (file.size > limit) throw new Error(`The file is ${file.size} bytes; this server accepts at most ${limit}.`);
    bytes = new Uint8Array(await file.arrayBuffer());
    content.file_name = file.name;
    content.file_type = file.type || 'application/octet-stream';
  }
  if (editing && !file && editing.raw.attachment) {
    // An edit that keeps the file must re-encrypt it under the new content key.
    const att = await client().request('message.attachment', { conversation_id: conv.raw.id, id: editing.raw.id });
    bytes = await c.openAttachment(/** @type {Uint8Array} */ (editing.contentKey), c.b64decode(att.iv), c.b64decode(att.data), c.b64decode(editing.raw.attachment.digest));
    content.file_name = editing.content?.file_name;
    content.file_type = editing.content?.file_type;
  }
  const members = await recipients(conv.raw);
  const id = editing ? editing.raw.id : crypto.randomUUID();
  const sealed = await c.sealMessage(me().identity, conv.raw.id, id, c.contentJson(content), bytes, members);
  const raw = editing ? await client().request('message.update', sealed.payload) : await client().request('message.create', sealed.payload);
  state.editing = null;
  el('editing').hidden = true;
  /** @type {HTMLFormElement} */ (el('composer')).reset();
  await upsertMessage(raw);
  renderMessages(true);
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
 * @param {'open' | 'closed'} s
 * @param {string} [reason]
 */
async function onSocketState(s, reason) {
  const badge = el('conn-state');
  badge.hidden = false;
  badge.className = `badge ${s === 'open' ? 'online' : 'offline'}`;
  badge.textContent = s === 'open' ? 'live' : 'reconnecting…';
  badge.title = reason ?? '';
  state.connected = s === 'open';
  if (s !== 'open') return;
  // Events sent while the socket was down are gone: re-fetch what they
  // would have told us. Messages are keyed by id, so nothing doubles.
  await loadConversations();
  if (state.current) {
    const raw = await client().request('conversation.get', { id: state.current });
    renderHeader(await absorb(raw));
    for (const m of raw.messages) await upsertMessage(m, false);
    renderMessages(false);
  }
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
      renderConversations();
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
      state.conversations.delete(payload.id);
      if (payload.id === state.current) {
        closeConversation();
        status('The owner deleted this conversation.');
      }
      renderConversations();
      break;
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
      await userKey(payload.username, payload.public_key);
      status(`${payload.username}'s key changed: compare the new fingerprint ${payload.fingerprint} with them.`, true);
      await loadConversations();
      if (state.current) renderHeader(currentConversation());
      break;
    }
    default:
      console.warn('unknown event', type);
  }
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
    const pkcs8 = await c.decryptPrivateKey(local.private_key, keyPassword);
    file = await c.makeKeyFile(client().server.url, me().username, c.b64decode(local.public_key), pkcs8, filePassword);
    c.wipe(pkcs8);
  } else {
    // Without a new password the file holds the key as this device does:
    // encrypted with the password of the key.
    file = { version: 1, server: client().server.url, username: me().username, public_key: local.public_key, private_key: { encoding: 'encrypted', ...local.private_key } };
  }
  download(c.keyFileJson(file), `nanochat-${me().username}.json`, 'application/json');
  await store.saveKey({ ...local, exported: true });
  input('export-password').value = '';
  input('export-key-password').value = '';
  status(filePassword ? 'Key file exported, encrypted with the key file password.' : 'Key file exported, encrypted with the password of your key.');
}

async function rotateKey() {
  const password = input('rotate-password').value;
  if (password.length < 8) throw new Error('Choose a password of the key of 8 characters or more.');
  const local = await localKey();
  progress('Generating your new key pair…');
  const { identity, pkcs8 } = await c.generateKeyPair();
  const blob = await c.encryptPrivateKey(pkcs8, password);
  c.wipe(pkcs8);
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
  const user = await client().request('user.update', payload);
  await store.saveKey({ ...local, public_key: user.public_key, private_key: blob, exported: false });
  client().identity = identity;
  me().identity = identity;
  store.rememberUserKey(client().server.url, me().username, identity.publicKey.fingerprint);
  input('rotate-password').value = '';
  progress(null);
  el('my-fp').textContent = identity.publicKey.fingerprint;
  status(`New key pair in use: ${identity.publicKey.fingerprint}. Export it again; old key files no longer work.`);
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
  input('account-display-name').value = me().displayName;
  input('account-store').checked = Boolean(local?.on_server);
  show('screen-account');
}

// ------------------------------------------------------------ wiring

/**
 * @param {string} id
 * @param {() => Promise<void>} fn
 */
function onSubmit(id, fn) {
  el(id).addEventListener('submit', (ev) => {
    ev.preventDefault();
    void guard(async () => {
      status('');
      await fn();
    })();
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
  input('server-url').value = store.lastUsed().server ?? location.origin;
  show('screen-server');
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
  onSubmit('members-form', saveMembers);
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
    const conv = currentConversation();
    /** @type {HTMLDetailsElement} */ (el('members-box')).open = true;
    el('members-form').hidden = false;
    input('members-input').value = conv.raw.members.map((m) => m.username).join(', ');
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
    if (local && !local.on_server && !local.exported) {
      status('Note: this device holds the only copy of your key. Export it (Account) to be safe.', true);
    }
    logout();
  });
  onClick('open-account', openAccount);
  onClick('close-account', () => show('screen-chat'));
  onSubmit('display-name-form', async () => {
    const user = await client().request('user.update', { display_name: input('account-display-name').value.trim() });
    me().displayName = user.display_name;
    el('me-badge').textContent = `${user.display_name} (@${user.username})`;
    status('Display name changed.');
  });
  onSubmit('server-copy-form', saveServerCopy);
  onSubmit('export-form', exportKeys);
  onSubmit('rotate-form', rotateKey);
  onSubmit('delete-account-form', deleteAccount);
  onClick('forget-device', forgetDevice);
}

init();
