// The messages of the open conversation: decrypted and verified
// (upsertMessage), rendered with their day separators, the "new messages"
// divider, image previews and their actions; the composer (send, edit,
// files); and the outbox of sealed messages not acknowledged yet (deliver,
// Resend, flushOutbox after a reload).
//
// A retry that turns out settled brings the open conversation up to date
// with catchUp (app-events.js, which imports this module): app.js binds it
// here with onCatchUp.

import * as c from './crypto.js';
import { ApiError } from './api.js';
import * as store from './store.js';
import { describe, humanSize } from './errors.js';
import { dayKey, dayLabel, fullTime, groups, linkify, shortTime } from './format.js';
import { client, currentConversation, me, state, trust } from './app-state.js';
import { download, el, explain, failure, guard, h, input, progress } from './app-dom.js';
import { absorb, recipients, withRecipients } from './app-members.js';

/** @import { RawMessage, Message } from './app-state.js' */

/**
 * Brings the open conversation up to date (catchUp of app-events.js),
 * bound by app.js.
 * @type {(id: string) => Promise<void>}
 */
let catchUp = async () => {
  throw new Error('app.js did not bind onCatchUp');
};

/**
 * Binds what a settled retry calls to bring the open conversation up to date.
 * @param {(id: string) => Promise<void>} fn
 */
export function onCatchUp(fn) {
  catchUp = fn;
}

/**
 * Decrypts and records a message (replacing an older copy with the same id,
 * so a re-fetch after a reconnect never duplicates).
 * @param {RawMessage} raw
 * @param {boolean} render
 */
export async function upsertMessage(raw, render = true) {
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
export function renderMessages(toBottom) {
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

/** Revokes and forgets the previews (another conversation opens). */
export function dropPreviews() {
  for (const url of previews.values()) URL.revokeObjectURL(url);
  previews.clear();
}

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

export async function send() {
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
export async function flushOutbox() {
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

export async function loadOlder() {
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
