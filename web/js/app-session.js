// Where a session ends: stopSession (nothing of it left in memory), the
// start screen (enterStart, logout), and the follow screen shown when this
// device's key is no longer the user's current key (offerFollow; its forms
// are handled in app-login.js).

import * as store from './store.js';
import { state } from './app-state.js';
import { chatView, el, h, input, show, status } from './app-dom.js';

/** @param {string} note */
export function enterStart(note) {
  const info = /** @type {import('./api.js').ServerInfo} */ (state.server);
  el('server-info').hidden = false;
  el('server-badge').replaceChildren(h('strong', {}, new URL(info.url).host), h('br'), 'Server key fingerprint (pinned on this device): ', h('code', {}, info.fingerprint));
  const skew = Math.abs(info.clockSkewSeconds);
  status(skew > info.windowSeconds / 2 ? `This computer's clock is ${Math.round(skew)} s off the server's: fix it, or requests will be refused.` : note, skew > info.windowSeconds / 2);
  const last = store.lastUsed();
  if (last.username) input('login-username').value = last.username;
  show('screen-start');
}

/**
 * Shows what to do when this device's key is not the user's current key:
 * it was rotated on another device (fetch the ring through the sync
 * password, or import a key file made after the rotation), or the
 * operator reset the account.
 * @param {string} username
 * @param {boolean} serverCopy whether the server is known to hold a copy
 * @param {boolean} [reset] the account has no key at all
 */
export function offerFollow(username, serverCopy, reset = false) {
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

/** Ends the session in memory: no socket, no keys, no conversations. */
export function stopSession() {
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
export function logout(note = 'Logged out. Your encrypted key stays on this device.') {
  stopSession();
  enterStart(note);
}
