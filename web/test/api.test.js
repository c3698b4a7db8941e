// The transport's checks of what the server answers: an answer is accepted
// only if it decrypts under the request's key, echoes its type and
// request_id, and is fresh; events only in increasing seq.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from '../js/crypto.js';
import { ApiError, Client, normaliseServerUrl } from '../js/api.js';
import { pemDer } from './helpers.js';

const server = await c.importPrivateKey(pemDer('conformance/fixtures/keys/server-3072.pem'));
const alice = await c.importPrivateKey(pemDer('conformance/fixtures/keys/alice-3072.pem'));
/** @type {import('../js/api.js').ServerInfo} */
const info = {
  url: 'https://chat.example',
  key: server.publicKey,
  fingerprint: server.publicKey.fingerprint,
  windowSeconds: 300,
  clockSkewSeconds: 0,
  limits: { max_body_bytes: 1, max_file_bytes: 1, max_content_bytes: 1, max_members: 1, max_page_size: 1, max_conversations: 1 },
};

/**
 * Seals a request as the page would and answers it as the server would,
 * with `tweak` applied to the answer Body.
 * @param {(answer: Record<string, unknown>) => void} tweak
 */
async function exchange(tweak) {
  const client = new Client(info, 'alice', alice);
  const body = client.body('conversation.list', undefined);
  const { envelope, secret } = await client.seal(body);
  // The server's side: unwrap K with the server key and answer under K_resp.
  const k = await c.unwrapKey(server, c.b64decode(envelope.key));
  assert.ok(await c.verify(alice.publicKey, c.concat(c.b64decode(envelope.key), c.b64decode(envelope.iv), c.b64decode(envelope.data)), c.b64decode(/** @type {string} */ (envelope.signature))));
  /** @type {Record<string, unknown>} */
  const answer = { type: body.type, request_id: body.request_id, created_at: new Date().toISOString(), payload: { items: [] } };
  tweak(answer);
  const sealed = await c.sealResponse({ k, iv: c.b64decode(envelope.iv) }, c.utf8(JSON.stringify(answer)));
  return client.openAnswer(body, secret, sealed);
}

test('a matching, fresh answer hands back its payload', async () => {
  assert.deepEqual(await exchange(() => {}), { items: [] });
});

test('answers that do not echo the request or are stale are refused', async () => {
  await assert.rejects(exchange((a) => (a.request_id = crypto.randomUUID())), /does not echo our request_id/);
  await assert.rejects(exchange((a) => (a.type = 'user.get')), /is for user.get, not conversation.list/);
  await assert.rejects(exchange((a) => (a.created_at = new Date(Date.now() - 301_000).toISOString())), /window is 300 s/);
  await assert.rejects(exchange((a) => (a.created_at = 'yesterday')), /no valid created_at/);
});

test('an encrypted error is surfaced with its code', async () => {
  await assert.rejects(
    exchange((a) => {
      delete a.payload;
      a.error = { code: 'not_found', message: 'no such conversation' };
    }),
    (/** @type {unknown} */ e) => e instanceof ApiError && e.code === 'not_found',
  );
});

test('an answer under another key is refused', async () => {
  const client = new Client(info, 'alice', alice);
  const body = client.body('conversation.list', undefined);
  const { secret } = await client.seal(body);
  const forged = await c.sealResponse({ k: c.randomBytes(32), iv: secret.iv }, c.utf8('{}'));
  await assert.rejects(client.openAnswer(body, secret, forged), /not from the pinned server/);
});

test('signed requests need the key; user.sync goes unsigned', async () => {
  const anonymous = new Client(info, 'alice', null);
  await assert.rejects(anonymous.seal(anonymous.body('conversation.list', undefined)), /needs your private key/);
  const { envelope } = await anonymous.seal(anonymous.body('user.sync', { sync_password: 'x' }));
  assert.equal(envelope.signature, undefined);
});

test('server addresses are normalised or refused with a reason', () => {
  assert.equal(normaliseServerUrl(' chat.example.org/ '), 'https://chat.example.org');
  assert.equal(normaliseServerUrl('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080');
  assert.throws(() => normaliseServerUrl('ftp://x'), /must start with https/);
  assert.throws(() => normaliseServerUrl('http://'), /not a server address/);
});
