// What this device remembers: the password-encrypted private key per
// server and username (IndexedDB), pinned server and member fingerprints,
// and the last server and username (localStorage). Never a CryptoKey
// (browsers write those to disk unencrypted) and never a password.

const DB = 'nanochat';
const STORE = 'keys';
const OUTBOX = 'outbox';
const SESSIONS = 'sessions';

/**
 * One locally stored key.
 * @typedef {object} LocalKey
 * @property {string} server
 * @property {string} username
 * @property {string} public_key base64 SPKI DER
 * @property {import('./crypto.js').EncryptedPrivateKey} private_key
 * @property {boolean} on_server whether a server copy was uploaded from here
 * @property {boolean} exported whether it was exported to a file from here
 */

/** @returns {Promise<IDBDatabase>} */
function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 3);
    req.onupgradeneeded = () => {
      const db = req.result;
      for (const name of [STORE, OUTBOX, SESSIONS]) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`this browser refused local storage (${req.error?.message})`));
  });
}

/**
 * @template T
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest<T>} fn
 * @param {string} [name] the object store
 * @returns {Promise<T>}
 */
async function run(mode, fn, name = STORE) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const req = fn(db.transaction(name, mode).objectStore(name));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

/**
 * @param {string} server
 * @param {string} username
 */
function id(server, username) {
  return `${server}|${username}`;
}

/**
 * The encrypted key of a user on a server, if this device has one.
 * @param {string} server
 * @param {string} username
 * @returns {Promise<LocalKey | undefined>}
 */
export function loadKey(server, username) {
  return run('readonly', (s) => s.get(id(server, username)));
}

/**
 * Stores (or replaces) the encrypted key and asks the browser to keep the
 * storage, so clearing space never silently drops the only copy.
 * @param {LocalKey} key
 */
export async function saveKey(key) {
  await run('readwrite', (s) => s.put(key, id(key.server, key.username)));
  await navigator.storage?.persist?.().catch(() => false);
}

/**
 * Deletes the local copy of a key.
 * @param {string} server
 * @param {string} username
 */
export function deleteKey(server, username) {
  return run('readwrite', (s) => s.delete(id(server, username)));
}

/**
 * A message sent but not acknowledged yet: kept sealed (ciphertext, as it
 * goes on the wire) so that a reload sends it once more, with the same id.
 * @typedef {object} Outgoing
 * @property {string} server
 * @property {string} username the sender
 * @property {string} id the message id
 * @property {string} conversation_id
 * @property {any} payload the sealed CreateMessage
 * @property {string} queued_at ISO time it was first sent
 */

/**
 * Keeps an outgoing message until it is acknowledged.
 * @param {Outgoing} item
 */
export async function queueOutgoing(item) {
  await run('readwrite', (s) => s.put(item, `${id(item.server, item.username)}|${item.id}`), OUTBOX);
}

/**
 * Forgets an outgoing message (acknowledged, or given up by the person).
 * @param {string} server
 * @param {string} username
 * @param {string} messageId
 */
export async function dropOutgoing(server, username, messageId) {
  await run('readwrite', (s) => s.delete(`${id(server, username)}|${messageId}`), OUTBOX);
}

/**
 * The outgoing messages of a user, oldest first.
 * @param {string} server
 * @param {string} username
 * @returns {Promise<Outgoing[]>}
 */
export async function outgoing(server, username) {
  const prefix = `${id(server, username)}|`;
  /** @type {Outgoing[]} */
  const all = await run('readonly', (s) => s.getAll(IDBKeyRange.bound(prefix, `${prefix}\uffff`)), OUTBOX);
  return all.sort((a, b) => a.queued_at.localeCompare(b.queued_at));
}

/**
 * An unlocked session kept by choice ("Keep me logged in on this device"):
 * the user's keys as non-extractable CryptoKeys, which IndexedDB stores
 * without their private bytes ever being readable by script. Never a
 * password, never key bytes.
 * @typedef {object} KeptSession
 * @property {string} server
 * @property {string} username
 * @property {import('./crypto.js').Identity[]} identities oldest first, the last current
 */

/**
 * Keeps the unlocked keys of a user on this device.
 * @param {KeptSession} session
 */
export async function keepSession(session) {
  await run('readwrite', (s) => s.put(session, id(session.server, session.username)), SESSIONS);
}

/**
 * The kept session of a user, if any.
 * @param {string} server
 * @param {string} username
 * @returns {Promise<KeptSession | undefined>}
 */
export function keptSession(server, username) {
  return run('readonly', (s) => s.get(id(server, username)), SESSIONS);
}

/**
 * Forgets the kept session of a user (Log out, Lock).
 * @param {string} server
 * @param {string} username
 */
export async function forgetSession(server, username) {
  await run('readwrite', (s) => s.delete(id(server, username)), SESSIONS);
}

/**
 * Where the user read up to in each conversation on this device (the
 * time of the newest message seen), for unread counts and the divider.
 * @param {string} server
 * @param {string} username
 * @param {string} conversation
 * @returns {string | undefined}
 */
export function readUpTo(server, username, conversation) {
  return readMap('nanochat.read')[`${id(server, username)}|${conversation}`];
}

/**
 * Records that the user has read up to `at` in a conversation.
 * @param {string} server
 * @param {string} username
 * @param {string} conversation
 * @param {string} at
 */
export function markRead(server, username, conversation, at) {
  const read = readMap('nanochat.read');
  const key = `${id(server, username)}|${conversation}`;
  if (read[key] && Date.parse(read[key]) >= Date.parse(at)) return;
  read[key] = at;
  localStorage.setItem('nanochat.read', JSON.stringify(read));
}

/**
 * The person's notification choices on this device.
 * @returns {{on: boolean, text: boolean}}
 */
export function notifyPrefs() {
  const raw = /** @type {any} */ (readMap('nanochat.notify'));
  return { on: raw.on === true, text: raw.text === true };
}

/** @param {{on: boolean, text: boolean}} prefs */
export function setNotifyPrefs(prefs) {
  localStorage.setItem('nanochat.notify', JSON.stringify(prefs));
}

/**
 * @param {string} name
 * @returns {Record<string, string>}
 */
function readMap(name) {
  try {
    return JSON.parse(localStorage.getItem(name) ?? '{}');
  } catch {
    return {};
  }
}

/**
 * The fingerprint pinned for a server, if any.
 * @param {string} server
 */
export function pinnedServer(server) {
  return readMap('nanochat.pins')[server];
}

/**
 * Pins a server's fingerprint.
 * @param {string} server
 * @param {string} fingerprint
 */
export function pinServer(server, fingerprint) {
  const pins = readMap('nanochat.pins');
  pins[server] = fingerprint;
  localStorage.setItem('nanochat.pins', JSON.stringify(pins));
}

/**
 * What this device knows of a contact: the key it trusts (pinned on first
 * use, moved along verified rotations, replaced only when the person
 * accepts an unexplained change), the keys pinned before such a change, and
 * whether the person marked the contact as verified.
 * @typedef {object} Contact
 * @property {string} fingerprint the trusted key's fingerprint
 * @property {number | null} index its index in the contact's key history (null: pinned before key histories)
 * @property {boolean} verified the person compared the fingerprint with the contact
 * @property {Array<[number, string]>} earlier keys trusted before an accepted change, as [index, fingerprint]
 * @property {Array<[number, string, string, string | null]>} [keys] every key of theirs this device verified, as [index, SPKI base64, since, until]: what they signed stays verifiable after the server forgets them (a deleted user)
 */

/**
 * The contact record of a user on a server, if this device met them.
 * Pins written before key histories (a bare fingerprint) read as a
 * contact with no index.
 * @param {string} server
 * @param {string} username
 * @returns {Contact | undefined}
 */
export function contact(server, username) {
  const raw = /** @type {Record<string, unknown>} */ (readMap('nanochat.users'))[id(server, username)];
  if (typeof raw === 'string') return { fingerprint: raw, index: null, verified: false, earlier: [] };
  if (!raw || typeof raw !== 'object') return undefined;
  const r = /** @type {Partial<Contact>} */ (raw);
  if (typeof r.fingerprint !== 'string') return undefined;
  return {
    fingerprint: r.fingerprint,
    index: typeof r.index === 'number' ? r.index : null,
    verified: r.verified === true,
    earlier: Array.isArray(r.earlier) ? r.earlier.filter((e) => Array.isArray(e) && typeof e[0] === 'number' && typeof e[1] === 'string') : [],
    keys: Array.isArray(r.keys) ? r.keys.filter((e) => Array.isArray(e) && typeof e[0] === 'number' && typeof e[1] === 'string' && typeof e[2] === 'string') : [],
  };
}

/**
 * Saves a contact record.
 * @param {string} server
 * @param {string} username
 * @param {Contact} value
 */
export function saveContact(server, username, value) {
  const users = /** @type {Record<string, unknown>} */ (readMap('nanochat.users'));
  users[id(server, username)] = value;
  localStorage.setItem('nanochat.users', JSON.stringify(users));
}

/**
 * Every contact known on a server, by username.
 * @param {string} server
 * @returns {Map<string, Contact>}
 */
export function contacts(server) {
  const out = new Map();
  const prefix = `${server}|`;
  for (const key of Object.keys(readMap('nanochat.users'))) {
    if (!key.startsWith(prefix)) continue;
    const username = key.slice(prefix.length);
    const found = contact(server, username);
    if (found) out.set(username, found);
  }
  return out;
}

/**
 * The display name last seen for a user on a server, if any: history keeps
 * showing it after they leave or are deleted.
 * @param {string} server
 * @param {string} username
 * @returns {string | undefined}
 */
export function displayName(server, username) {
  return readMap('nanochat.names')[id(server, username)];
}

/**
 * Remembers a user's display name.
 * @param {string} server
 * @param {string} username
 * @param {string} name
 */
export function rememberDisplayName(server, username, name) {
  const names = readMap('nanochat.names');
  if (!name || names[id(server, username)] === name) return;
  names[id(server, username)] = name;
  localStorage.setItem('nanochat.names', JSON.stringify(names));
}

/**
 * The last server and username used on this device (not secrets).
 * @returns {{server?: string, username?: string, conversation?: string}}
 */
export function lastUsed() {
  return readMap('nanochat.last');
}

/**
 * @param {{server?: string, username?: string, conversation?: string}} value
 */
export function setLastUsed(value) {
  localStorage.setItem('nanochat.last', JSON.stringify({ ...lastUsed(), ...value }));
}
