// What this device remembers: the password-encrypted private key per
// server and username (IndexedDB), pinned server and member fingerprints,
// and the last server and username (localStorage). Never a CryptoKey
// (browsers write those to disk unencrypted) and never a password.

const DB = 'nanochat';
const STORE = 'keys';

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
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`this browser refused local storage (${req.error?.message})`));
  });
}

/**
 * @template T
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest<T>} fn
 * @returns {Promise<T>}
 */
async function run(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const req = fn(db.transaction(STORE, mode).objectStore(STORE));
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
 * The fingerprint seen before for a user on a server, if any.
 * @param {string} server
 * @param {string} username
 */
export function knownUserKey(server, username) {
  return readMap('nanochat.users')[id(server, username)];
}

/**
 * Remembers a user's fingerprint.
 * @param {string} server
 * @param {string} username
 * @param {string} fingerprint
 */
export function rememberUserKey(server, username, fingerprint) {
  const users = readMap('nanochat.users');
  users[id(server, username)] = fingerprint;
  localStorage.setItem('nanochat.users', JSON.stringify(users));
}

/**
 * The last server and username used on this device (not secrets).
 * @returns {{server?: string, username?: string}}
 */
export function lastUsed() {
  return readMap('nanochat.last');
}

/**
 * @param {{server?: string, username?: string}} value
 */
export function setLastUsed(value) {
  localStorage.setItem('nanochat.last', JSON.stringify({ ...lastUsed(), ...value }));
}
