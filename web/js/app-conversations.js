// The conversation list and the open conversation: the list with its
// unread counts, opening and closing a conversation, its header (members,
// fingerprints, verified marks, key histories, the warnings of key changes
// and notices of rotations), creating and renaming one, and changing its
// members.

import * as c from './crypto.js';
import { ApiError } from './api.js';
import * as store from './store.js';
import { describe } from './errors.js';
import { client, currentConversation, me, state, trust } from './app-state.js';
import { chatView, el, failure, guard, h, input, progress, status, time } from './app-dom.js';
import { absorb, recipientsFor, withRecipients } from './app-members.js';
import { dropPreviews, renderMessages, upsertMessage } from './app-messages.js';

/** @import { Schemas, RawConversation, Conversation } from './app-state.js' */

/** @param {string} text */
function parseUsernames(text) {
  const names = text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!/^[a-z0-9][a-z0-9._-]{0,31}$/.test(n)) throw new Error(`"${n}" is not a username`);
  return [...new Set(names)];
}

/** @param {Conversation} conv */
export function title(conv) {
  if (conv.name) return conv.name;
  const others = conv.raw.members.filter((m) => m.username !== me().username).map((m) => m.display_name || m.username);
  return others.length ? others.join(', ') : '(only you)';
}

export async function loadConversations() {
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

export function renderConversations() {
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
export async function countUnread() {
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
export function markSeen() {
  const id = state.current;
  if (!id || !state.me || document.visibilityState !== 'visible' || el('screen-chat').hidden) return;
  if (el('screen-chat').dataset.view === 'list' && window.matchMedia('(max-width: 759px)').matches) return;
  const box = el('messages');
  if (box.scrollHeight - box.scrollTop - box.clientHeight > 40) return;
  const newest = [...state.messages.values()].reduce((t, m) => (Date.parse(m.raw.created_at) > Date.parse(t) ? m.raw.created_at : t), '1970-01-01T00:00:00Z');
  store.markRead(client().server.url, me().username, id, newest);
  if (state.unread.delete(id)) renderConversations();
}

export async function createConversation() {
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
export async function openConversation(id) {
  const t0 = performance.now();
  state.current = id;
  state.messages.clear();
  state.editing = null;
  state.readAtOpen = store.readUpTo(client().server.url, me().username, id) ?? null;
  state.showDivider = true;
  dropPreviews();
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

export function closeConversation() {
  state.current = null;
  state.messages.clear();
  el('conv-view').hidden = true;
  el('conv-placeholder').hidden = false;
  chatView('list');
  renderConversations();
}

/** @param {Conversation} conv */
export function renderHeader(conv) {
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

export async function renameConversation() {
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
export async function addMember() {
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
