// The DOM helpers every part of the page uses: elements by id, element
// creation, which screen shows, the status line and progress, failures (in
// the error slot of the form that caused them, or as a toast), guard (runs
// an event handler and shows its failure), downloads and times.
//
// guard answers a refused signature with the follow screen (offerFollow,
// app-session.js, which imports this module): app.js binds it here with
// onKeyRefused, so that this module imports no page logic.

import { ApiError } from './api.js';
import * as store from './store.js';
import { describe } from './errors.js';
import { state } from './app-state.js';

/** @param {string} id */
export function el(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`index.html lacks #${id}`);
  return e;
}
/** @param {string} id */
export const input = (id) => /** @type {HTMLInputElement} */ (el(id));

/**
 * Creates an element with text and attributes.
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {...(Node | string)} children
 */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** @param {string} id */
export function show(id) {
  for (const s of ['screen-server', 'screen-start', 'screen-follow', 'screen-chat', 'screen-account']) el(s).hidden = s !== id;
  el('back').hidden = !(id === 'screen-chat' && state.current) && id !== 'screen-account';
}

/**
 * On a phone the list and the conversation are two screens: which one shows.
 * @param {'list' | 'conversation'} view
 */
export function chatView(view) {
  el('screen-chat').dataset.view = view;
  el('back').hidden = view === 'list';
}

/**
 * @param {string} text
 * @param {boolean} [error]
 */
export function status(text, error = false) {
  if (error && text) {
    toast([text], true);
    return;
  }
  const box = el('status');
  box.replaceChildren(text ? h('p', {}, text) : '');
}

/** @param {string | null} text */
export function progress(text) {
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
export function clearError(form) {
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
 * guard's answer when the server refuses this page's signature: the
 * follow screen (offerFollow of app-session.js), bound by app.js.
 * @type {(username: string, serverCopy: boolean) => void}
 */
let offerFollow = () => {
  throw new Error('app.js did not bind onKeyRefused');
};

/**
 * Binds guard's answer to a refused signature.
 * @param {(username: string, serverCopy: boolean) => void} fn
 */
export function onKeyRefused(fn) {
  offerFollow = fn;
}

/**
 * Runs an event handler, showing any failure instead of losing it: in
 * `where` (a form) or as a toast.
 * @param {(...args: any[]) => Promise<void>} fn
 * @param {HTMLElement | null} [where]
 */
export function guard(fn, where = null) {
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
export function explain(e) {
  return describe(e).sentence;
}

/**
 * An error whose message is the sentence to show, with a stable code.
 * @param {string} sentence
 * @param {string} code
 */
export function failure(sentence, code) {
  return Object.assign(new Error(sentence), { code });
}

/**
 * Saves bytes as a download.
 * @param {BlobPart} data
 * @param {string} name
 * @param {string} type
 */
export function download(data, name, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** @param {string} when */
export function time(when) {
  const d = new Date(when);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}
