// Getting into the chat: the server (its key pinned on first use, a kept
// session resumed), completing an account, logging in, the follow forms
// (a key rotated on another device), and enterChat, which starts the
// session: conversations, live events, the outbox.

import * as c from './crypto.js';
import { ApiError, Client, fetchReferences, normaliseServerUrl } from './api.js';
import * as store from './store.js';
import { OwnKeys, RotatedElsewhere } from './ring.js';
import { Trust } from './trust.js';
import { state } from './app-state.js';
import { chatView, el, failure, guard, input, progress, show, status } from './app-dom.js';
import { enterStart, offerFollow, stopSession } from './app-session.js';
import { flushOutbox } from './app-messages.js';
import { countUnread, loadConversations, openConversation } from './app-conversations.js';
import { onEvent, onSocketState } from './app-events.js';

/** @import { Schemas } from './app-state.js' */

export async function connect(/** @type {string} */ text) {
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

export async function complete() {
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

export async function login() {
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

/** Fetches the ring through the sync password, then logs in with it. */
export async function followSync() {
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
export async function followFile() {
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
