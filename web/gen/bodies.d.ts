// @generated from api.yml by nanochat-codegen: do not edit.
// Refresh with `NANOCHAT_UPDATE_GENERATED=1 cargo test --test offline generated_web`.

import type { components } from './api.js';

type Schemas = components['schemas'];

/** Request body types (`x-nanochat-bodies`): payload, response payload, signing and the type's own error codes. */
export interface Bodies {
  /** Opens an event session on a WebSocket; must be the first frame there. Over POST /encrypted, or as a later frame of a socket whose session is open, it gets bad_request (encrypted) and the socket keeps its session. session_required is the plain answer to any other first frame. */
  'session.open': { payload: null; response: Schemas['SessionOpened']; signed: true; errors: 'bad_request' | 'session_required' };
  /** Completes a user created by the operator, with the one-time complete token; signed with the new private key (proof of possession). */
  'user.complete': { payload: Schemas['CompleteUser']; response: Schemas['PublicUser']; signed: true; errors: 'invalid_token' | 'invalid_key' | 'bad_request' };
  /** Fetches the password-encrypted private key stored on the server, for the right sync password. The only unsigned request. An unknown user, a pending user, a user without a stored key and a wrong password all get the same wrong_password (never unknown_user), and each counts as a failed attempt, so the answer does not reveal which usernames exist. After 5 failed attempts for a username within 15 minutes, user.sync answers rate_limited, before the password is checked and even for the right one, until the window has passed (a server may also limit failed attempts per client address). A successful user.sync clears the username's failed attempts (not the per-address count, which only the window clears). */
  'user.sync': { payload: Schemas['SyncUser']; response: Schemas['PrivateKeyUser']; signed: false; errors: 'wrong_password' | 'rate_limited' | 'bad_request' };
  /** Looks up a user's display name and public key (to pin it and check its fingerprint). */
  'user.get': { payload: Schemas['BaseUser']; response: Schemas['PublicUser']; signed: true; errors: 'not_found' | 'bad_request' };
  /** A user's key history, oldest first (see Key history in the info description), to verify a rotation or an earlier key from a pinned one. A pending user (reset by the operator) has one, without a current key; an unknown user gets not_found. */
  'user.keys': { payload: Schemas['BaseUser']; response: Schemas['KeyHistory']; signed: true; errors: 'not_found' | 'bad_request' };
  /** Changes the caller's display name, key pair, server-stored private key or sync password. A new public_key (a rotation) needs succession_signature and public_key_signature (see Key history) and becomes the next entry of the caller's key history; every session of the caller ends (close code 4001; the rotating client opens a new one with its new key). Members of shared conversations get event.user.key_changed when the public key changes. */
  'user.update': { payload: Schemas['UpdateUser']; response: Schemas['PublicUser']; signed: true; errors: 'invalid_key' | 'bad_signature' | 'bad_request' };
  /** Deletes the caller, immediately and irreversibly. The caller leaves every conversation (conversations they own pass to the longest-standing member, and a conversation left without members is deleted) and every message they sent is deleted. */
  'user.delete': { payload: null; response: Schemas['Empty']; signed: true; errors: never };
  /** Creates a conversation between the caller (its owner) and one or more other users, with the id the caller chose and optionally a sealed name (revision 1). Every member must be a completed user; an unknown or pending one (created or reset and not yet completed) gets not_found, as does adding one with conversation.update. After the pipeline's checks (see Check order in the info description) it checks the member count (too_large) before anything else, before it looks the members up (not_found), checks the sealed name or the id (conflict). */
  'conversation.create': { payload: Schemas['CreateConversation']; response: Schemas['MessageConversation']; signed: true; errors: 'not_found' | 'conflict' | 'members_mismatch' | 'bad_signature' | 'too_large' | 'bad_request' };
  /** Sets, re-seals or removes the sealed name (any member) and/or replaces the member list (owner only; the owner stays a member; a named conversation needs its name re-sealed for the new members). The members after the change get event.conversation.updated; each removed member gets event.conversation.removed. */
  'conversation.update': { payload: Schemas['Conversation']; response: Schemas['MessageConversation']; signed: true; errors: 'not_found' | 'forbidden' | 'conflict' | 'members_mismatch' | 'bad_signature' | 'too_large' | 'bad_request' };
  /** The caller leaves the conversation. An owner who leaves passes ownership to the longest-standing member; the last member to leave deletes it. */
  'conversation.leave': { payload: Schemas['BaseConversation']; response: Schemas['Empty']; signed: true; errors: 'not_found' };
  /** Deletes the conversation and all its messages (owner only). */
  'conversation.delete': { payload: Schemas['BaseConversation']; response: Schemas['Empty']; signed: true; errors: 'not_found' | 'forbidden' };
  /** One conversation with its members' public keys and the latest page of messages. */
  'conversation.get': { payload: Schemas['BaseConversation']; response: Schemas['MessageConversation']; signed: true; errors: 'not_found' };
  /** Every conversation of the caller, most recently active first, each with its latest message only. */
  'conversation.list': { payload: null; response: Schemas['List']; signed: true; errors: never };
  /** Posts an end-to-end encrypted message; keys must name exactly the current members. A repeat (same sender, conversation and id, byte-identical sealed upload; see Retries under Message content in the info description) gets the stored message as it is now and stores nothing and sends no event; any other use of the id of an existing or deleted message is conflict. */
  'message.create': { payload: Schemas['CreateMessage']; response: Schemas['Message']; signed: true; errors: 'not_found' | 'conflict' | 'members_mismatch' | 'too_large' | 'bad_request' };
  /** Replaces a message's content with a fresh content key (sender only). */
  'message.update': { payload: Schemas['UpdateMessage']; response: Schemas['Message']; signed: true; errors: 'not_found' | 'forbidden' | 'members_mismatch' | 'too_large' | 'bad_request' };
  /** Deletes a message (sender only). */
  'message.delete': { payload: Schemas['BaseMessage']; response: Schemas['Empty']; signed: true; errors: 'not_found' | 'forbidden' };
  /** A page of a conversation's history, newest first, before an optional opaque cursor (see ListMessages.before for cursors the server did not issue). */
  'message.list': { payload: Schemas['ListMessages']; response: Schemas['MessagePage']; signed: true; errors: 'not_found' | 'bad_request' };
  /** Downloads one message's encrypted attachment; lists never inline attachment bytes. */
  'message.attachment': { payload: Schemas['BaseMessage']; response: Schemas['Attachment']; signed: true; errors: 'not_found' };
}

/** Event types pushed over the WebSocket (`x-nanochat-events`) and their payloads. */
export interface Events {
  /** A message was posted in a conversation the socket's user is a member of. */
  'event.message.created': { payload: Schemas['Message'] };
  /** A message was edited. */
  'event.message.updated': { payload: Schemas['Message'] };
  /** A message was deleted. */
  'event.message.deleted': { payload: Schemas['BaseMessage'] };
  /** The socket's user was made a member of a new conversation (the name, if any, with the key wrapped for this user). */
  'event.conversation.created': { payload: Schemas['MessageConversation'] };
  /** A conversation's name or members changed (also sent to a member who was added). The name carries the key wrapped for this user. Carries no messages; fetch them with conversation.get. */
  'event.conversation.updated': { payload: Schemas['MessageConversation'] };
  /** A conversation was deleted (by its owner with conversation.delete, or by its last member leaving); its members can no longer read it. Never sent for a removal (event.conversation.removed). */
  'event.conversation.deleted': { payload: Schemas['BaseConversation'] };
  /** The socket's user was removed from the conversation by its owner (conversation.update with a member list without them); they can no longer read it. The conversation goes on for its remaining members, who get event.conversation.updated. */
  'event.conversation.removed': { payload: Schemas['BaseConversation'] };
  /** A member left a conversation (or was deleted). */
  'event.conversation.left': { payload: Schemas['MemberLeft'] };
  /** A member of a shared conversation (or the socket's own user) changed their public key. Clients check the new key through the key history (user.keys) from the key they pinned; a rotation continues the chain and is followed without a warning; a chain start (after an operator reset) is an unexplained change that clients warn about loudly. */
  'event.user.key_changed': { payload: Schemas['PublicUser'] };
}

/** The name of a request body type. */
export type BodyType = keyof Bodies;

/** The name of an event type. */
export type EventType = keyof Events;
