// Whose key is whose, as this device trusts it (api.yml, "Key history" and
// "What clients do about a changed key"): every contact's key history is
// verified from the key pinned on this device; a rotation signed by the
// previous key moves the pin quietly and keeps "verified"; anything else is
// an unexplained change, a loud warning that clears "verified", and until
// the person accepts it nothing is sealed for that contact.

import * as c from './crypto.js';
import * as store from './store.js';

/** @typedef {import('./api.js').Client} Client */
/** @typedef {Awaited<ReturnType<typeof c.verifyKeyHistory>>} Chain */

/**
 * An unexplained change of a contact's key, waiting for the person.
 * @typedef {object} KeyChange
 * @property {string} was the fingerprint trusted before
 * @property {string} now the fingerprint the server announces now ('' if none)
 * @property {number | null} index the new key's index
 * @property {string} why what happened, in a sentence
 */

/**
 * A rotation followed without asking: the quiet notice.
 * @typedef {object} Rotation
 * @property {number} from the index trusted before
 * @property {number} to the index trusted now
 * @property {string} fingerprint the new key's fingerprint
 */

/**
 * One row of a contact's key history as the person sees it.
 * @typedef {object} HistoryRow
 * @property {number} index
 * @property {string} fingerprint
 * @property {string} since
 * @property {string | null} until
 * @property {'rotation' | 'start'} kind signed by the previous key, or a chain start (first key, operator reset)
 * @property {boolean} trusted in this device's trusted chain
 */

export class Trust {
  /**
   * @param {Client} client
   * @param {string} self the logged-in user (their own keys are not contacts)
   */
  constructor(client, self) {
    this.client = client;
    this.self = self;
    this.server = client.server.url;
    /** @type {Map<string, Promise<Chain | null>>} verified chains, null when the history did not verify */
    this.chains = new Map();
    /** @type {Map<string, KeyChange>} */
    this.changes = new Map();
    /** @type {Map<string, Rotation>} */
    this.rotations = new Map();
    /** @type {Map<string, any>} the last key history fetched, for the history view */
    this.histories = new Map();
    /** @type {Map<string, string>} why a contact's history did not verify */
    this.broken = new Map();
    /** @type {{fingerprint: string, index: number} | null} the user's own current key: their own history is verified from it, not from what the server says */
    this.own = null;
  }

  /**
   * Sets the user's own current key (after login or a rotation).
   * @param {string} fingerprint
   * @param {number} index
   */
  setOwn(fingerprint, index) {
    this.own = { fingerprint, index };
    this.forget(this.self);
  }

  /**
   * The contact's trusted chain, verified once per session (see forget).
   * Resolves to null when the history does not verify from the pin.
   * @param {string} username
   * @returns {Promise<Chain | null>}
   */
  chain(username) {
    let found = this.chains.get(username);
    if (!found) {
      found = this.load(username);
      this.chains.set(username, found);
      // A failed request is not a verdict: try again next time.
      found.catch(() => this.chains.delete(username));
    }
    return found;
  }

  /**
   * Forgets a contact's chain (their key changed): the next use verifies
   * their history again.
   * @param {string} username
   */
  forget(username) {
    this.chains.delete(username);
  }

  /**
   * @param {string} username
   * @returns {Promise<Chain | null>}
   */
  async load(username) {
    let history;
    try {
      history = await this.client.request('user.keys', { username });
    } catch (e) {
      // A deleted user: what this device verified of them still stands.
      if (e instanceof Error && 'code' in e && e.code === 'not_found') {
        const remembered = await this.remembered(username);
        if (remembered) return remembered;
      }
      throw e;
    }
    if (history.username !== username) throw new Error(`asked for the key history of ${username}, got that of ${history.username}`);
    this.histories.set(username, history);
    this.broken.delete(username);
    const current = history.keys.length && !history.keys[history.keys.length - 1].until ? history.keys[history.keys.length - 1] : null;
    let pin = username === this.self && this.own ? { ...this.own, verified: true, earlier: [] } : store.contact(this.server, username);
    if (!pin) {
      if (!current) {
        this.broken.set(username, `${username} has no key now (reset by the operator)`);
        return null;
      }
      pin = { fingerprint: current.fingerprint, index: current.index, verified: false, earlier: [] };
      if (username !== this.self) store.saveContact(this.server, username, pin);
    }
    if (pin.index === null) {
      // Pinned before key histories: find the pinned key in the history.
      const entry = history.keys.find((/** @type {any} */ e) => e.fingerprint === pin?.fingerprint);
      if (!entry) return this.unexplained(username, pin.fingerprint, current, 'the key this device knew is not in their key history');
      pin = { ...pin, index: entry.index };
      store.saveContact(this.server, username, pin);
    }
    let chain;
    try {
      chain = await c.verifyKeyHistory(history, /** @type {number} */ (pin.index), pin.fingerprint);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.broken.set(username, why);
      return this.unexplained(username, pin.fingerprint, current, `their key history does not verify (${why})`);
    }
    // Keys trusted before an accepted change stay trusted for what they signed.
    for (const [index, fingerprint] of pin.earlier) {
      try {
        const before = await c.verifyKeyHistory(history, index, fingerprint);
        for (const [i, key] of before.keys) if (!chain.keys.has(i)) chain.keys.set(i, key);
      } catch {
        // An earlier pin the history no longer vouches for trusts nothing.
      }
    }
    if (chain.currentIndex === null) {
      if (current) return this.unexplained(username, pin.fingerprint, current, `${username} has a new key that their previous key did not sign (the operator reset the account, or someone else holds it)`, chain);
      this.broken.set(username, `${username} has no key now (reset by the operator)`);
      return chain;
    }
    this.changes.delete(username);
    if (username !== this.self) this.remember(username, chain);
    if (chain.currentIndex !== pin.index && username !== this.self) {
      const key = /** @type {NonNullable<ReturnType<typeof chain.keys.get>>} */ (chain.keys.get(chain.currentIndex));
      this.rotations.set(username, { from: /** @type {number} */ (pin.index), to: chain.currentIndex, fingerprint: key.fingerprint });
      store.saveContact(this.server, username, { ...pin, fingerprint: key.fingerprint, index: chain.currentIndex });
    }
    return chain;
  }

  /**
   * Keeps the public keys of a verified chain on this device.
   * @param {string} username
   * @param {Chain} chain
   */
  remember(username, chain) {
    const pin = store.contact(this.server, username);
    if (!pin) return;
    /** @type {Map<number, [number, string, string, string | null]>} */
    const keys = new Map((pin.keys ?? []).map((k) => [k[0], k]));
    for (const k of chain.keys.values()) keys.set(k.index, [k.index, c.b64encode(k.publicKey.der), k.since, k.until]);
    const list = [...keys.values()].sort((a, b) => a[0] - b[0]);
    if (JSON.stringify(list) !== JSON.stringify(pin.keys ?? [])) store.saveContact(this.server, username, { ...pin, keys: list });
  }

  /**
   * The chain this device verified of a user the server no longer knows.
   * @param {string} username
   * @returns {Promise<Chain | null>}
   */
  async remembered(username) {
    const stored = store.contact(this.server, username)?.keys ?? [];
    if (!stored.length) return null;
    /** @type {Chain['keys']} */
    const keys = new Map();
    for (const [index, der, since, until] of stored) {
      const publicKey = await c.importPublicKeyBase64(der);
      keys.set(index, { index, publicKey, fingerprint: publicKey.fingerprint, since, until, linked: true });
    }
    return { username, keys, current: null, currentIndex: null, newest: Math.max(...keys.keys()) };
  }

  /**
   * Records an unexplained change: the loud warning, and "verified" gone.
   * @param {string} username
   * @param {string} was
   * @param {{fingerprint: string, index: number} | null} current
   * @param {string} why
   * @param {Chain | null} [chain] what is still trusted (the old keys)
   */
  unexplained(username, was, current, why, chain = null) {
    if (username === this.self) return chain;
    this.changes.set(username, { was, now: current?.fingerprint ?? '', index: current?.index ?? null, why });
    this.rotations.delete(username);
    const pin = store.contact(this.server, username);
    if (pin?.verified) store.saveContact(this.server, username, { ...pin, verified: false });
    return chain;
  }

  /**
   * The person accepts a contact's changed key after comparing
   * fingerprints: it becomes the pin, the keys trusted before stay trusted
   * for what they signed, and the contact is not verified until marked again.
   * @param {string} username
   */
  accept(username) {
    const change = this.changes.get(username);
    if (!change || !change.now || change.index === null) throw new Error(`${username} has no new key to accept.`);
    const pin = store.contact(this.server, username);
    /** @type {Array<[number, string]>} */
    const earlier = [...(pin?.earlier ?? [])];
    if (pin && pin.index !== null && !earlier.some(([i, f]) => i === pin.index && f === pin.fingerprint)) earlier.push([pin.index, pin.fingerprint]);
    store.saveContact(this.server, username, { fingerprint: change.now, index: change.index, verified: false, earlier });
    this.changes.delete(username);
    this.forget(username);
  }

  /**
   * Whether the person marked the contact as verified.
   * @param {string} username
   */
  isVerified(username) {
    return store.contact(this.server, username)?.verified === true;
  }

  /**
   * Marks (or unmarks) a contact as verified. Marking needs their current
   * key to be the trusted one: an unaccepted change must be accepted first.
   * @param {string} username
   * @param {boolean} verified
   */
  async setVerified(username, verified) {
    const chain = await this.chain(username);
    if (verified && (this.changes.has(username) || !chain || chain.currentIndex === null)) {
      throw new Error(`${username}'s current key is not the one this device trusts: compare the new fingerprint and accept it first.`);
    }
    const pin = store.contact(this.server, username);
    if (!pin) throw new Error(`This device has not met ${username} yet.`);
    store.saveContact(this.server, username, { ...pin, verified });
  }

  /**
   * The key `username` signed with at `index` (null or undefined: before
   * the server kept key history, read as index 0), if it is trusted and
   * `at` lies within its period; else an Error with the sentence the
   * reader sees.
   * @param {string} username
   * @param {number | null | undefined} index
   * @param {string} at
   * @returns {Promise<c.PublicKey>}
   */
  async keyFor(username, index, at) {
    let chain;
    try {
      chain = await this.chain(username);
    } catch (e) {
      if (e instanceof Error && 'code' in e && e.code === 'not_found') throw new Error(`the key of ${username} is unknown`);
      throw e;
    }
    if (!chain) throw new Error(this.broken.get(username) ?? `the key history of ${username} does not verify`);
    return c.keyInChain(chain, index, at);
  }

  /**
   * The members to seal for, each with their current key and its index,
   * once every one of them is trusted; else an Error saying who and what
   * to do (nothing is sealed for a key the person has not accepted).
   * @param {Array<{username: string, public_key?: string | null, fingerprint?: string | null, key_index?: number | null}>} members
   * @returns {Promise<c.Member[]>}
   */
  async sealable(members) {
    /** @type {c.Member[]} */
    const out = [];
    const blocked = [];
    for (const m of members) {
      if (!m.public_key) continue;
      const publicKey = await c.importPublicKeyBase64(m.public_key);
      if (m.username === this.self) {
        out.push({ username: m.username, publicKey, keyIndex: m.key_index ?? undefined });
        continue;
      }
      const matches = (/** @type {Chain | null} */ chain) => {
        const key = chain && m.key_index !== null && m.key_index !== undefined ? chain.keys.get(m.key_index) : undefined;
        return Boolean(key && key.fingerprint === publicKey.fingerprint && chain?.currentIndex === m.key_index && !this.changes.has(m.username));
      };
      let chain = await this.chain(m.username);
      if (!matches(chain)) {
        // The chain may predate a rotation: verify once more.
        this.forget(m.username);
        chain = await this.chain(m.username);
      }
      if (!matches(chain)) {
        // A member list older than a verified rotation is not a change.
        if (chain && chain.currentIndex !== null && !this.changes.has(m.username) && (m.key_index ?? -1) < chain.currentIndex) throw new StaleMembers(m.username);
        blocked.push(m.username);
        continue;
      }
      out.push({ username: m.username, publicKey, keyIndex: m.key_index ?? undefined });
    }
    if (blocked.length) {
      throw new Unaccepted(blocked);
    }
    return out;
  }

  /**
   * A contact's key history as the person sees it.
   * @param {string} username
   * @returns {Promise<HistoryRow[]>}
   */
  async history(username) {
    const chain = await this.chain(username).catch(() => null);
    const history = this.histories.get(username);
    if (!history) return [];
    return history.keys.map((/** @type {any} */ e) => ({
      index: e.index,
      fingerprint: e.fingerprint,
      since: e.since,
      until: e.until ?? null,
      kind: e.succession_signature ? 'rotation' : 'start',
      trusted: Boolean(chain?.keys.has(e.index)),
    }));
  }
}

/** The member list is older than a member's rotation: fetch it again. */
export class StaleMembers extends Error {
  /** @param {string} username */
  constructor(username) {
    super(`${username} rotated their key since the member list was fetched`);
    this.username = username;
  }
}

/** A member's key changed without explanation and the person has not accepted it. */
export class Unaccepted extends Error {
  /** @param {string[]} usernames */
  constructor(usernames) {
    const who = usernames.join(', ');
    super(`Not sent: the key of ${who} changed without proof that it is theirs. Compare fingerprints with ${who} (Members and fingerprints) and accept the new key first.`);
    this.usernames = usernames;
  }
}
