// The logged-in user's own keys (api.yml, "Key history": readers keep
// their keys). After a rotation the page keeps every earlier private key,
// as non-extractable CryptoKeys in memory and encrypted in the key ring
// blob (IndexedDB, server copy, key files), so that what was sealed for an
// earlier key still opens.

import * as c from './crypto.js';

/** The device's keys are not the user's current key: it rotated elsewhere. */
export class RotatedElsewhere extends Error {
  /**
   * @param {string} username
   * @param {string} current the fingerprint the server has now ('' when reset)
   */
  constructor(username, current) {
    super(
      current
        ? `Your key was rotated on another device: the server now has ${current}, which this device does not hold.`
        : `Your account has no key on the server (the operator reset it): complete it again with a new token.`,
    );
    this.username = username;
    this.current = current;
  }
}

export class OwnKeys {
  /**
   * @param {c.Identity[]} identities oldest first, the last is current
   */
  constructor(identities) {
    if (identities.length === 0) throw new Error('a key ring holds at least one key');
    this.identities = identities;
    /** @type {Map<number, c.Identity>} each key by its index in the user's key history */
    this.byIndex = new Map();
    /** @type {number | null} the current key's index, once learnt */
    this.currentIndex = null;
  }

  /** The current key: the one that signs. */
  get current() {
    return this.identities[this.identities.length - 1];
  }

  /**
   * Imports every key of a ring, wiping the DER as it goes.
   * @param {Uint8Array[]} pkcs8s oldest first
   */
  static async fromPkcs8(pkcs8s) {
    const identities = [];
    try {
      for (const der of pkcs8s) identities.push(await c.importPrivateKey(der));
    } finally {
      for (const der of pkcs8s) c.wipe(der);
    }
    return new OwnKeys(identities);
  }

  /**
   * Decrypts a stored ring (version 1 or 2) with the password of the key.
   * @param {c.EncryptedPrivateKey} blob
   * @param {string} password
   */
  static async open(blob, password) {
    return OwnKeys.fromPkcs8(await c.decryptPrivateKeyRing(blob, password));
  }

  /**
   * Learns which index of the user's key history each key is, from
   * `user.keys`; a device whose keys do not include the current one was
   * left behind by a rotation elsewhere ({@link RotatedElsewhere}).
   * @param {import('./api.js').Client} client
   * @param {string} username
   */
  async learn(client, username) {
    const history = await client.request('user.keys', { username });
    this.byIndex.clear();
    for (const entry of history.keys) {
      const mine = this.identities.find((k) => k.publicKey.fingerprint === entry.fingerprint);
      if (mine) this.byIndex.set(entry.index, mine);
    }
    const last = history.keys[history.keys.length - 1];
    if (!last || last.until) throw new RotatedElsewhere(username, '');
    if (last.fingerprint !== this.current.publicKey.fingerprint) {
      // The ring may hold the current key but not last (a key file made
      // elsewhere): then it is simply not ordered as this device thought.
      const held = this.identities.find((k) => k.publicKey.fingerprint === last.fingerprint);
      if (!held) throw new RotatedElsewhere(username, last.fingerprint);
      this.identities = [...this.identities.filter((k) => k !== held), held];
    }
    this.currentIndex = last.index;
  }

  /**
   * The key something was wrapped for: `index` names it (null or
   * undefined: before the server kept key history, read as index 0).
   * @param {number | null | undefined} index
   */
  at(index) {
    const key = this.byIndex.get(index ?? 0);
    if (!key) {
      throw new c.CryptoError(
        index === null || index === undefined
          ? 'sealed before the server kept key history, for a key this device does not hold'
          : `sealed for your key ${index}, which this device does not hold (import a key file that has it)`,
        'decrypt',
      );
    }
    return key;
  }
}
