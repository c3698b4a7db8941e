// The Account screen: the server copy of the key, the key file export, key
// rotation, deleting the account and forgetting this device.

import * as c from './crypto.js';
import * as store from './store.js';
import { OwnKeys } from './ring.js';
import { client, me, trust } from './app-state.js';
import { download, el, input, progress, show, status } from './app-dom.js';
import { logout } from './app-session.js';

/** @import { Schemas } from './app-state.js' */

async function localKey() {
  const k = await store.loadKey(client().server.url, me().username);
  if (!k) throw new Error('This device has no copy of your key any more: export it from another device and import it here.');
  return k;
}

export async function saveServerCopy() {
  const local = await localKey();
  if (input('account-store').checked) {
    const sync = input('account-sync-password').value;
    if (!sync) throw new Error('Enter the Sync password the server should ask for.');
    // The local copy is already encrypted with the password of the key:
    // upload it as it is; nothing is decrypted.
    await client().request('user.update', { private_key: local.private_key, sync_password: sync });
    await store.saveKey({ ...local, on_server: true });
    status('The encrypted key is stored on the server, behind your Sync password.');
  } else {
    await client().request('user.update', { remove_private_key: true });
    await store.saveKey({ ...local, on_server: false });
    status('The server copy of your key is removed.');
  }
  input('account-sync-password').value = '';
}

export async function exportKeys() {
  const local = await localKey();
  const filePassword = input('export-password').value;
  /** @type {c.KeyFile} */
  let file;
  if (filePassword) {
    const keyPassword = input('export-key-password').value;
    if (!keyPassword) throw new Error('Enter the password of your key to re-encrypt it with the key file password.');
    const ring = await c.decryptPrivateKeyRing(local.private_key, keyPassword);
    try {
      file = await c.makeKeyFileRing(client().server.url, me().username, c.b64decode(local.public_key), ring, filePassword);
    } finally {
      for (const der of ring) c.wipe(der);
    }
  } else {
    // Without a new password the file holds the keys as this device does:
    // encrypted with the password of the key (every key, after a rotation).
    const version = local.private_key.version === 2 ? 2 : 1;
    file = { version, server: client().server.url, username: me().username, public_key: local.public_key, private_key: { encoding: 'encrypted', ...local.private_key } };
  }
  download(c.keyFileJson(file), `nanochat-${me().username}.json`, 'application/json');
  await store.saveKey({ ...local, exported: true });
  input('export-password').value = '';
  input('export-key-password').value = '';
  status(filePassword ? 'Key file exported, encrypted with the key file password.' : 'Key file exported, encrypted with the password of your key.');
}

export async function rotateKey() {
  const password = input('rotate-password').value;
  if (!password) throw new Error('Enter the password of your key: it encrypts your key ring again with the new key in it.');
  const local = await localKey();
  progress('Opening your key ring…');
  const ring = await c.decryptPrivateKeyRing(local.private_key, password);
  let blob;
  let identity;
  try {
    progress('Generating your new key pair…');
    const generated = await c.generateKeyPair();
    identity = generated.identity;
    // Every earlier key stays, encrypted with the same password: what was
    // sealed for them keeps opening (api.yml, "Key history").
    ring.push(generated.pkcs8);
    blob = await c.encryptPrivateKeyRing(ring, password);
  } finally {
    for (const der of ring) c.wipe(der);
  }
  // Both keys sign the succession bytes: the current key vouches for the
  // new one, the new one proves possession (api.yml, "Key history").
  const self = await client().request('user.get', { username: me().username });
  const succession = c.keySuccessionBytes(me().username, self.key_index + 1, me().identity.publicKey.der, identity.publicKey.der);
  const vouch = await c.sign(me().identity, succession);
  const proof = await c.sign(identity, succession);
  /** @type {Schemas['UpdateUser']} */
  const payload = {
    public_key: c.b64encode(identity.publicKey.der),
    public_key_signature: c.b64encode(proof),
    succession_signature: c.b64encode(vouch),
  };
  if (local.on_server) payload.private_key = blob;
  // The ring with the new key is on this device before the server learns
  // of it: a page closed in between loses nothing (login finds the key
  // the server has in the ring, whichever it is).
  await store.saveKey({ ...local, private_key: blob, exported: false });
  const cl = client();
  const update = cl.request('user.update', payload).then((user) => {
    // From the moment the server has it, the new key signs (the event
    // session reconnects with it).
    cl.identity = identity;
    return user;
  });
  cl.keyChange = update.then(
    () => {},
    () => {},
  );
  let user;
  try {
    user = await update;
  } finally {
    cl.keyChange = null;
  }
  await store.saveKey({ ...local, public_key: user.public_key, private_key: blob, exported: false });
  const keys = new OwnKeys([...me().keys.identities, identity]);
  await keys.learn(client(), me().username);
  me().keys = keys;
  me().identity = identity;
  trust().setOwn(identity.publicKey.fingerprint, /** @type {number} */ (keys.currentIndex));
  // A kept session keeps the new ring too, or the next reload would find
  // only the earlier keys.
  if (await store.keptSession(cl.server.url, me().username)) await store.keepSession({ server: cl.server.url, username: me().username, identities: keys.identities });
  input('rotate-password').value = '';
  progress(null);
  el('my-fp').textContent = identity.publicKey.fingerprint;
  status(`New key pair in use (key ${keys.currentIndex}): ${identity.publicKey.fingerprint}. Everything you could read before still opens.${local.on_server ? ' The server copy holds every key: your other devices log in with the sync password.' : ' Export a key file now for your other devices: older key files lack the new key.'}`);
}

export async function deleteAccount() {
  if (input('delete-confirm').value !== me().username) throw new Error('Type your username exactly to confirm.');
  await client().request('user.delete');
  await store.deleteKey(client().server.url, me().username);
  logout();
  status('Your account is deleted.');
}

export async function forgetDevice() {
  const local = await localKey();
  if (!local.on_server && !local.exported) {
    if (!confirm('This device holds the only copy of your private key. Without it you lose your account. Export it first (Export public/private keys) or store it on the server. Delete it anyway?')) return;
  }
  await store.deleteKey(local.server, local.username);
  logout();
  status('This device no longer holds your key.');
}

export async function openAccount() {
  const local = await store.loadKey(client().server.url, me().username);
  el('my-fp').textContent = me().identity.publicKey.fingerprint;
  el('rotate-server-copy').textContent = local?.on_server
    ? 'This device uploaded a copy of your key to the server: the rotation updates it, and your other devices log in again with your sync password.'
    : 'The server holds no copy of your key from this device: after rotating, export a key file here and import it on each of your other devices.';
  input('account-display-name').value = me().displayName;
  input('account-store').checked = Boolean(local?.on_server);
  const prefs = store.notifyPrefs();
  input('notify-on').checked = prefs.on;
  input('notify-text').checked = prefs.text;
  input('notify-text').disabled = !prefs.on;
  show('screen-account');
}
