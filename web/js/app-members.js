// The keys of others, as a conversation's members: the recipients a
// message or name is sealed for (once every member's key is trusted), a
// seal tried once more when a member rotated meanwhile (withRecipients),
// and absorb, which takes in a conversation as the server sent it: every
// member's key history verified, its name opened, and re-sealed for a new
// key. app-messages.js and app-conversations.js both seal to members.

import * as c from './crypto.js';
import { ApiError } from './api.js';
import * as store from './store.js';
import { StaleMembers, Unaccepted } from './trust.js';
import { client, me, state, trust } from './app-state.js';
import { explain } from './app-dom.js';

/** @import { RawConversation, Conversation } from './app-state.js' */

/**
 * The current members that have a key, as recipients, once every one of
 * them is trusted (trust.sealable refuses otherwise).
 * @param {RawConversation} raw
 */
export function recipients(raw) {
  return trust().sealable(raw.members);
}

/**
 * Recipients for a member list that is about to be set (user.get each).
 * @param {string[]} usernames
 */
export async function recipientsFor(usernames) {
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
export async function withRecipients(id, seal) {
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

/**
 * Decrypts a conversation's name and records it; re-seals when the server
 * hints that a member cannot read it and we can (and may: never for a key
 * the person has not accepted).
 * @param {RawConversation} raw
 */
export async function absorb(raw) {
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
