// The key history verifier against the crafted histories of
// conformance/vectors/key_history_cases.json (what src/client/history.rs
// answers), and keyInChain.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from '../js/crypto.js';
import { vector } from './helpers.js';

/**
 * @typedef {object} HistoryCase
 * @property {string} name
 * @property {c.WireKeyHistory} history
 * @property {{index: number, fingerprint: string}} pin
 * @property {{ok: true, trusted: number[], current_trusted: boolean} | {ok: false}} expect
 */

/** @type {{description: string, cases: HistoryCase[]}} */
const file = vector('key_history_cases.json');

test('the cases file has cases of both outcomes', () => {
  assert.ok(file.cases.length > 0);
  assert.ok(file.cases.some((k) => k.expect.ok));
  assert.ok(file.cases.some((k) => !k.expect.ok));
});

for (const k of file.cases) {
  test(`history case: ${k.name}`, async () => {
    const run = c.verifyKeyHistory(k.history, k.pin.index, k.pin.fingerprint);
    if (!k.expect.ok) {
      await assert.rejects(run, (/** @type {any} */ e) => e instanceof c.CryptoError && e.code === 'history' && e.message.length > 0);
      return;
    }
    const chain = await run;
    const trusted = [...chain.keys.keys()].sort((a, b) => a - b);
    assert.deepEqual(trusted, k.expect.trusted);
    assert.equal(chain.currentIndex !== null, k.expect.current_trusted);
    assert.equal(chain.username, k.history.username);
    assert.equal(chain.newest, Math.max(...trusted));
    // The pinned key is the one not linked; every key is the entry's key.
    for (const [index, key] of chain.keys) {
      const entry = /** @type {c.WireKeyRecord} */ (k.history.keys.find((e) => e.index === index));
      assert.equal(key.index, index);
      assert.equal(key.linked, index !== k.pin.index);
      assert.equal(key.fingerprint, await c.fingerprint(c.b64decode(entry.public_key)));
      assert.equal(key.publicKey.fingerprint, key.fingerprint);
      assert.equal(key.since, entry.since);
      assert.equal(key.until, entry.until ?? null);
    }
    const last = k.history.keys[k.history.keys.length - 1];
    assert.equal(chain.current, last.until === undefined ? last.index : null);
    if (chain.currentIndex !== null) assert.equal(chain.currentIndex, chain.current);
  });
}

/** The unaltered history of the first case, pinned at its first key. */
async function bobs() {
  const k = file.cases[0];
  return { history: k.history, chain: await c.verifyKeyHistory(k.history, k.pin.index, k.pin.fingerprint) };
}

test('a pin is matched on its digits: case and spacing do not matter, another key does', async () => {
  const k = file.cases[0];
  const compact = k.pin.fingerprint.replace(/ /g, '').toUpperCase();
  assert.deepEqual([...(await c.verifyKeyHistory(k.history, k.pin.index, compact)).keys.keys()].sort(), [0, 1, 2]);
  await assert.rejects(c.verifyKeyHistory(k.history, k.pin.index, 'not a fingerprint'), { code: 'history', message: /does not hold the pinned key/ });
  await assert.rejects(c.verifyKeyHistory(/** @type {any} */ (null), 0, k.pin.fingerprint), { code: 'history' });
  // Fields of the wrong form refuse the whole history.
  const bad = (/** @type {object} */ change) => ({ ...k.history, keys: k.history.keys.map((e, i) => (i === 4 ? { ...e, ...change } : e)) });
  await assert.rejects(c.verifyKeyHistory(bad({ since: 'yesterday' }), 0, k.pin.fingerprint), { code: 'history', message: /since/ });
  await assert.rejects(c.verifyKeyHistory(bad({ public_key_signature: '***' }), 0, k.pin.fingerprint), { code: 'history' });
  await assert.rejects(c.verifyKeyHistory(bad({ index: '4' }), 0, k.pin.fingerprint), { code: 'history' });
});

test('keyInChain: the trusted key within its period, else the sentence the reader sees', async () => {
  const { history, chain } = await bobs();
  const entry = (/** @type {number} */ i) => /** @type {c.WireKeyRecord} */ (history.keys.find((e) => e.index === i));
  const e1 = entry(1);
  assert.equal(c.keyInChain(chain, 1, e1.since).fingerprint, e1.fingerprint);
  assert.equal(c.keyInChain(chain, 1, /** @type {string} */ (e1.until)).fingerprint, e1.fingerprint);
  // Just outside the period, with a second of slack.
  const shifted = (/** @type {string} */ at, /** @type {number} */ ms) => new Date(Date.parse(at) + ms).toISOString();
  assert.equal(c.keyInChain(chain, 1, shifted(e1.since, -1000)).fingerprint, e1.fingerprint);
  assert.throws(() => c.keyInChain(chain, 1, shifted(e1.since, -1001)), {
    code: 'key_period',
    message: 'claims key 1 of bob, which was not their key when the server accepted it',
  });
  assert.throws(() => c.keyInChain(chain, 1, shifted(/** @type {string} */ (e1.until), 1001)), { code: 'key_period' });
  // Beyond the reset: not in this reader's chain.
  assert.throws(() => c.keyInChain(chain, 4, entry(4).since), {
    code: 'untrusted_key',
    message: 'signed with key 4 of bob, which their verified key history does not reach (an unexplained key change lies between)',
  });
  // No index: before key history, key 0, whatever the time.
  assert.equal(c.keyInChain(chain, null, '2001-01-01T00:00:00Z').fingerprint, entry(0).fingerprint);
  assert.equal(c.keyInChain(chain, undefined, '2001-01-01T00:00:00Z').fingerprint, entry(0).fingerprint);
  const late = file.cases.find((k) => k.pin.index === 4 && k.expect.ok);
  const lateChain = await c.verifyKeyHistory(/** @type {HistoryCase} */ (late).history, 4, /** @type {HistoryCase} */ (late).pin.fingerprint);
  assert.throws(() => c.keyInChain(lateChain, null, '2001-01-01T00:00:00Z'), {
    code: 'untrusted_key',
    message: 'signed before the server kept key history, by a key of bob it no longer has',
  });
  assert.equal(c.currentHistoryEntry(history)?.index, 4);
});
