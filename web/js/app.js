// The NanoChat page: forms and views wired to the protocol (crypto.js), the
// transport (api.js) and this device's memory (store.js). No framework: the
// DOM in index.html is the template and the app-*.js modules fill it. This
// module is the page's entry (index.html loads it): it wires the forms and
// buttons to them.
//
// The modules, each importing only those listed above it:
//
//   app-state.js          the session's state, the types of what is shown
//   app-dom.js            DOM helpers, failures shown, guard
//   app-session.js        where a session ends: start screen, logout, follow screen
//   app-members.js        the keys of others as recipients; absorb a conversation
//   app-messages.js       messages, the composer, the outbox
//   app-conversations.js  the conversation list and the open conversation
//   app-notifications.js  desktop notifications
//   app-events.js         live events
//   app-account.js        the Account screen
//   app-login.js          server, account completion, login, entering the chat
//
// The two calls that go up that list are bound at the start of init():
// guard's follow screen (onKeyRefused) and the outbox's catch-up
// (onCatchUp).
//
// The private key exists only as non-extractable CryptoKeys in `state.me`;
// the page keeps no password after the handler that needed it returns.

import * as store from './store.js';
import { client, currentConversation, me, state } from './app-state.js';
import { clearError, el, guard, input, onKeyRefused, show, status } from './app-dom.js';
import { enterStart, logout, offerFollow } from './app-session.js';
import { loadOlder, onCatchUp, send } from './app-messages.js';
import {
  addMember,
  closeConversation,
  createConversation,
  markSeen,
  renameConversation,
  title,
} from './app-conversations.js';
import { setNotifications } from './app-notifications.js';
import { catchUp } from './app-events.js';
import { deleteAccount, exportKeys, forgetDevice, openAccount, rotateKey, saveServerCopy } from './app-account.js';
import { complete, connect, followFile, followSync, login } from './app-login.js';

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
  // The two calls that go up the module list (see the top of this file).
  onKeyRefused(offerFollow);
  onCatchUp(catchUp);
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
