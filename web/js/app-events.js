// Live events: the WebSocket session's state (reconnecting, catching up
// on what was missed, ended by the server), bringing the open conversation
// up to date after a reconnect (catchUp), and each event applied to what
// is shown.

import * as store from './store.js';
import { client, currentConversation, me, state, trust } from './app-state.js';
import { el, status } from './app-dom.js';
import { enterStart, offerFollow, stopSession } from './app-session.js';
import { absorb } from './app-members.js';
import { renderMessages, upsertMessage } from './app-messages.js';
import {
  closeConversation,
  loadConversations,
  markSeen,
  renderConversations,
  renderHeader,
  title,
} from './app-conversations.js';
import { notify } from './app-notifications.js';

/** @import { RawMessage } from './app-state.js' */

/**
 * @param {'open' | 'closed' | 'ended'} s
 * @param {string} [reason]
 * @param {number} [code]
 */
export async function onSocketState(s, reason, code) {
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
export async function catchUp(id) {
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
export async function onEvent(type, payload) {
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
