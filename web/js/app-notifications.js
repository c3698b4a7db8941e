// Desktop notifications for messages that arrive while the page is in the
// background (opt-in; the text only with the second opt-in), and the
// Account screen's switches for them.

import * as c from './crypto.js';
import * as store from './store.js';
import { client, me, state, trust } from './app-state.js';
import { guard, input } from './app-dom.js';
import { openConversation } from './app-conversations.js';

/** @import { RawMessage } from './app-state.js' */

/**
 * A desktop notification for a message that arrived while the page is in
 * the background, if the person opted in: who wrote, and the text only
 * with the second opt-in.
 * @param {RawMessage} raw
 */
export async function notify(raw) {
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
export async function setNotifications() {
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
