// The browser's crypto module against the Rust core's known-answer vectors
// (conformance/vectors/), byte for byte, on Node's WebCrypto.
//
// RSA-OAEP and RSA-PSS are randomised inside WebCrypto, so those outputs are
// checked as the vectors' README prescribes: unwrap with the fixture keys,
// verify signatures; everything deterministic is compared exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from '../js/crypto.js';
import { vector, pemDer, replay } from './helpers.js';

const hex = c.hexEncode;
const unhex = c.hexDecode;

/** @type {Map<string, Promise<import('../js/crypto.js').Identity>>} */
const identities = new Map();
/** @param {string} pem */
function identity(pem) {
  if (!identities.has(pem)) identities.set(pem, c.importPrivateKey(pemDer(pem)));
  return /** @type {Promise<import('../js/crypto.js').Identity>} */ (identities.get(pem));
}

test('request envelope: data under the vector K/IV, key unwraps to K, signatures verify both ways', async () => {
  const v = vector('envelope.json');
  const server = await identity(v.server_key);
  const alice = await identity(v.sender_key);
  const r = v.request;
  // The vector's own values verify and unwrap.
  assert.equal(hex(await c.unwrapKey(server, unhex(r.key))), r.k);
  assert.ok(await c.verify(alice.publicKey, c.concat(unhex(r.key), unhex(r.iv), unhex(r.data)), unhex(r.signature)));
  assert.equal(hex(await c.sha256(c.concat(unhex(r.key), unhex(r.iv), unhex(r.data)))), r.signed_bytes_sha256);
  // Ours, with the same K and IV.
  const sealed = await c.sealRequest(server.publicKey, c.utf8(r.body), alice, replay(r.k, r.iv));
  assert.equal(hex(sealed.raw.data), r.data);
  assert.equal(sealed.envelope.iv, c.b64encode(unhex(r.iv)));
  assert.equal(hex(await c.unwrapKey(server, sealed.raw.key)), r.k);
  assert.ok(await c.verify(alice.publicKey, c.concat(sealed.raw.key, sealed.raw.iv, sealed.raw.data), /** @type {Uint8Array} */ (sealed.raw.signature)));
  // A tampered envelope does not verify.
  const bad = sealed.raw.data.slice();
  bad[0] ^= 1;
  assert.equal(await c.verify(alice.publicKey, c.concat(sealed.raw.key, sealed.raw.iv, bad), /** @type {Uint8Array} */ (sealed.raw.signature)), false);
  // Unsigned (user.sync) has no signature field.
  const unsigned = await c.sealRequest(server.publicKey, c.utf8(r.body), null);
  assert.equal(unsigned.envelope.signature, undefined);
});

test('response: HKDF key, sealing and opening match the vector', async () => {
  const v = vector('envelope.json');
  const secret = { k: unhex(v.request.k), iv: unhex(v.request.iv) };
  const resp = v.response;
  assert.equal(resp.hkdf_info, c.RESPONSE_INFO);
  assert.equal(hex(await c.deriveKey(secret, c.RESPONSE_INFO)), resp.k_resp);
  const sealed = await c.sealResponse(secret, c.utf8(resp.body), replay(resp.iv));
  assert.equal(hex(c.b64decode(sealed.data)), resp.data);
  const opened = await c.openResponse(secret, { iv: c.b64encode(unhex(resp.iv)), data: c.b64encode(unhex(resp.data)) });
  assert.equal(c.fromUtf8(opened), resp.body);
  // Under another request's secret it does not open.
  const other = { k: unhex(v.request.k), iv: unhex(resp.iv) };
  await assert.rejects(c.openResponse(other, sealed), /decryption failed/);
});

test('events: key, AAD, decryption and strictly increasing seq', async () => {
  const v = vector('envelope.json');
  const secret = { k: unhex(v.request.k), iv: unhex(v.request.iv) };
  const ev = v.events;
  assert.equal(hex(await c.deriveKey(secret, c.EVENTS_INFO)), ev.k_events);
  const rx = await c.EventReceiver.forSession(secret);
  const wire = ev.items.map((/** @type {any} */ i) => ({ seq: i.seq, iv: c.b64encode(unhex(i.iv)), data: c.b64encode(unhex(i.data)) }));
  for (const [n, item] of ev.items.entries()) {
    assert.equal(hex(c.eventAad(item.seq)), item.aad);
    assert.equal(hex(await c.aesEncrypt(unhex(ev.k_events), unhex(item.iv), unhex(item.aad), c.utf8(item.body))), item.data);
    assert.equal(c.fromUtf8(await rx.open(wire[n])), item.body);
  }
  await assert.rejects(rx.open(wire[1]), /replayed or reordered/);
  // A frame whose seq was changed fails authentication and leaves the state.
  const fresh = await c.EventReceiver.forSession(secret);
  await assert.rejects(fresh.open({ ...wire[0], seq: 5 }), /decryption failed/);
  assert.equal(fresh.last, null);
});

/** @param {any} v @param {string} reader */
function wireMessage(v, reader) {
  const own = v.recipients.find((/** @type {any} */ r) => r.username === reader);
  return {
    conversation_id: v.conversation_id,
    id: v.message_id,
    sender: v.sender,
    created_at: '2026-01-01T00:00:00Z',
    content_iv: c.b64encode(unhex(v.content_iv)),
    content: c.b64encode(unhex(v.content)),
    attachment: { iv: c.b64encode(unhex(v.attachment_iv)), size: unhex(v.attachment).length, digest: c.b64encode(unhex(v.attachment_digest)) },
    key: c.b64encode(unhex(own.wrapped_key)),
    recipients: v.recipients.map((/** @type {any} */ r) => ({ username: r.username, key_digest: c.b64encode(unhex(r.key_digest)) })),
    signature: c.b64encode(unhex(v.signature)),
  };
}

test('message content: canonical bytes, ciphertexts and opening match the vector', async () => {
  const v = vector('content.json');
  const keys = await Promise.all(v.keys.map(async (/** @type {any} */ k) => ({ username: k.username, id: await identity(k.key) })));
  const alice = /** @type {any} */ (keys.find((k) => k.username === 'alice')).id;
  // Canonical JSON of the content.
  const content = c.parseContent(c.utf8(v.content_plaintext));
  assert.equal(c.fromUtf8(c.contentJson(content)), v.content_plaintext);
  // Signed bytes recomputed from the vector's parts.
  const digests = v.recipients.map((/** @type {any} */ r) => ({ username: r.username, keyDigest: unhex(r.key_digest) }));
  const signed = c.messageSignedBytes(v.conversation_id, v.message_id, unhex(v.content_iv), unhex(v.content), unhex(v.attachment_digest), digests);
  assert.equal(hex(signed), v.signed_bytes);
  // The order of the recipient list given does not matter: it is sorted.
  assert.equal(hex(c.messageSignedBytes(v.conversation_id, v.message_id, unhex(v.content_iv), unhex(v.content), unhex(v.attachment_digest), [...digests].reverse())), v.signed_bytes);
  assert.ok(await c.verify(alice.publicKey, signed, unhex(v.signature)));
  // Every member opens the vector's message.
  for (const { username, id } of keys) {
    const opened = await c.openMessage(wireMessage(v, username), username, id, alice.publicKey);
    assert.equal(hex(opened.contentKey), v.c);
    assert.equal(c.fromUtf8(opened.content), v.content_plaintext);
    const file = await c.openAttachment(opened.contentKey, unhex(v.attachment_iv), unhex(v.attachment), unhex(v.attachment_digest));
    assert.equal(hex(file), v.attachment_plaintext);
  }
  // Ours with the vector's C and IVs: identical ciphertexts, and it opens.
  const members = keys.map((k) => ({ username: k.username, publicKey: k.id.publicKey }));
  const sealed = await c.sealMessage(alice, v.conversation_id, v.message_id, c.utf8(v.content_plaintext), unhex(v.attachment_plaintext), [...members].reverse(), replay(v.c, v.content_iv, v.attachment_iv));
  const p = sealed.payload;
  assert.equal(hex(c.b64decode(p.content)), v.content);
  assert.equal(hex(c.b64decode(/** @type {any} */ (p.attachment).data)), v.attachment);
  assert.deepEqual(p.keys.map((k) => k.username), ['alice', 'bob', 'dave', 'erin']);
  const bob = /** @type {any} */ (keys.find((k) => k.username === 'bob')).id;
  const recipients = [];
  for (const k of p.keys) recipients.push({ username: k.username, key_digest: c.b64encode(await c.sha256(c.b64decode(k.key))) });
  const received = {
    ...p,
    sender: 'alice',
    created_at: '2026-01-01T00:00:00Z',
    attachment: { iv: /** @type {any} */ (p.attachment).iv, size: 0, digest: c.b64encode(await c.sha256(c.b64decode(/** @type {any} */ (p.attachment).data))) },
    key: /** @type {any} */ (p.keys.find((k) => k.username === 'bob')).key,
    recipients,
  };
  const opened = await c.openMessage(received, 'bob', bob, alice.publicKey);
  assert.equal(c.fromUtf8(opened.content), v.content_plaintext);
});

test('message content: every forgery is refused as such', async () => {
  const v = vector('content.json');
  const alice = await identity('conformance/fixtures/keys/alice-3072.pem');
  const bob = await identity('conformance/fixtures/keys/bob-3072.pem');
  const good = wireMessage(v, 'bob');
  const flip = (/** @type {string} */ b64) => {
    const b = c.b64decode(b64);
    b[b.length - 1] ^= 1;
    return c.b64encode(b);
  };
  await assert.rejects(c.openMessage({ ...good, content: flip(good.content) }, 'bob', bob, alice.publicKey), { code: 'bad_signature' });
  await assert.rejects(c.openMessage({ ...good, id: '0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5e' }, 'bob', bob, alice.publicKey), { code: 'bad_signature' });
  await assert.rejects(c.openMessage({ ...good, key: flip(good.key) }, 'bob', bob, alice.publicKey), { code: 'key_digest_mismatch' });
  await assert.rejects(c.openMessage(good, 'bob', bob, bob.publicKey), { code: 'bad_signature' });
  await assert.rejects(c.openMessage(good, 'mallory', bob, alice.publicKey), { code: 'not_a_recipient' });
  await assert.rejects(c.openAttachment(unhex(v.c), unhex(v.attachment_iv), unhex(v.content), unhex(v.attachment_digest)), { code: 'attachment_mismatch' });
});

test('conversation names: canonical bytes, ciphertext and opening match the vector', async () => {
  const v = vector('name.json');
  const keys = await Promise.all(v.keys.map(async (/** @type {any} */ k) => ({ username: k.username, id: await identity(k.key) })));
  const alice = /** @type {any} */ (keys.find((k) => k.username === 'alice')).id;
  const digests = v.recipients.map((/** @type {any} */ r) => ({ username: r.username, keyDigest: unhex(r.key_digest) }));
  const signed = c.nameSignedBytes(v.conversation_id, v.revision, unhex(v.iv), unhex(v.ciphertext), digests);
  assert.equal(hex(signed), v.signed_bytes);
  assert.ok(await c.verify(alice.publicKey, signed, unhex(v.signature)));
  const wire = (/** @type {string} */ reader) => ({
    revision: v.revision,
    sealed_by: 'alice',
    sealed_at: '2026-01-01T00:00:00Z',
    iv: c.b64encode(unhex(v.iv)),
    ciphertext: c.b64encode(unhex(v.ciphertext)),
    key: c.b64encode(unhex(v.recipients.find((/** @type {any} */ r) => r.username === reader).wrapped_key)),
    recipients: v.recipients.map((/** @type {any} */ r) => ({ username: r.username, key_digest: c.b64encode(unhex(r.key_digest)) })),
    signature: c.b64encode(unhex(v.signature)),
    reseal: false,
  });
  for (const { username, id } of keys) {
    assert.equal(await c.openName(v.conversation_id, wire(username), username, id, alice.publicKey), v.name);
  }
  // A name moved to another conversation or revision no longer verifies.
  const bob = /** @type {any} */ (keys.find((k) => k.username === 'bob')).id;
  await assert.rejects(c.openName('6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e50', wire('bob'), 'bob', bob, alice.publicKey), { code: 'bad_signature' });
  await assert.rejects(c.openName(v.conversation_id, { ...wire('bob'), revision: v.revision + 1 }, 'bob', bob, alice.publicKey), { code: 'bad_signature' });
  // Ours with the vector's N and IV.
  const members = keys.map((k) => ({ username: k.username, publicKey: k.id.publicKey }));
  const sealed = await c.sealName(alice, v.conversation_id, v.revision, v.name, members, replay(v.n, v.iv));
  assert.equal(hex(c.b64decode(sealed.ciphertext)), v.ciphertext);
  assert.equal(hex(await c.unwrapKey(bob, c.b64decode(/** @type {any} */ (sealed.keys.find((k) => k.username === 'bob')).key))), v.n);
});

test('conversation name rules', () => {
  for (const bad of ['', ' lead', 'trail ', 'tab\there', 'x'.repeat(129), '\uD800']) {
    assert.throws(() => c.checkName(bad), c.CryptoError, JSON.stringify(bad));
  }
  c.checkName('☕'.repeat(128));
  c.checkName('Café ☕ planning');
});

test('EncryptedPrivateKey: Argon2id output, blob and its exact JSON match the vector', async () => {
  const v = vector('private_key.json');
  const b = v.blob;
  assert.equal(v.aad, c.PRIVATE_KEY_AAD);
  const k = await c.deriveKeyFromPassword(c.utf8(v.password), c.b64decode(b.salt), b);
  assert.equal(hex(k), v.argon2id_output);
  const pkcs8 = pemDer(v.key);
  const ours = await c.encryptPrivateKey(pkcs8, v.password, c.KDF_DEFAULT, replay(hex(c.b64decode(b.salt)), hex(c.b64decode(b.iv))));
  assert.deepEqual(ours, b);
  assert.equal(c.encryptedPrivateKeyJson(ours), v.blob_json);
  assert.deepEqual(await c.decryptPrivateKey(b, v.password), pkcs8);
  await assert.rejects(c.decryptPrivateKey(b, 'wrong'), { code: 'wrong_password' });
  await assert.rejects(c.decryptPrivateKey({ ...b, m_cost: 19455 }, v.password), { code: 'weak_kdf' });
  await assert.rejects(c.decryptPrivateKey({ ...b, t_cost: 21 }, v.password), { code: 'kdf_too_expensive' });
  // Each parameter under its own ceiling, the work (memory x passes) over 1 GiB x 2.
  await assert.rejects(c.decryptPrivateKey({ ...b, m_cost: 1024 * 1024, t_cost: 3 }, v.password), { code: 'kdf_too_expensive' });
  await assert.rejects(c.decryptPrivateKey({ ...b, salt: 'AAAA' }, v.password), { code: 'bad_length' });
  await assert.rejects(c.decryptPrivateKey(/** @type {any} */ ({ ...b, version: 3 }), v.password), { code: 'unsupported_version' });
});

test('key files: exact bytes of the Rust writer, both encodings, and imports', async () => {
  const v = vector('keyfile.json');
  const plain = c.parseKeyFile(v.plain_json);
  assert.equal(c.keyFileJson(plain), v.plain_json);
  const enc = c.parseKeyFile(v.encrypted_json);
  assert.equal(c.keyFileJson(enc), v.encrypted_json);
  assert.equal(c.keyFileIsEncrypted(enc), true);
  // Written by us from the same key and randomness: the same bytes.
  const alice = pemDer('conformance/fixtures/keys/alice-3072.pem');
  const pub = c.b64decode(plain.public_key);
  assert.equal(c.keyFileJson(await c.makeKeyFile(v.plain.server, v.plain.username, pub, alice, null)), v.plain_json);
  const pk = /** @type {any} */ (enc.private_key);
  const rand = replay(hex(c.b64decode(pk.salt)), hex(c.b64decode(pk.iv)));
  assert.equal(c.keyFileJson(await c.makeKeyFile(v.encrypted.server, v.encrypted.username, pub, alice, v.password, rand)), v.encrypted_json);
  // Both import to the same identity.
  const a = await c.openKeyFile(plain, null);
  const b = await c.openKeyFile(enc, v.password);
  assert.equal(a.identity.publicKey.fingerprint, b.identity.publicKey.fingerprint);
  await assert.rejects(c.openKeyFile(enc, null), { code: 'password_required' });
  await assert.rejects(c.openKeyFile(enc, 'nope'), { code: 'wrong_password' });
  // A private key from someone else is refused.
  const bobDer = pemDer('conformance/fixtures/keys/bob-3072.pem');
  const swapped = { ...plain, private_key: { encoding: /** @type {const} */ ('plain'), pkcs8: c.b64encode(bobDer) } };
  await assert.rejects(c.openKeyFile(swapped, null), { code: 'key_mismatch' });
  assert.throws(() => c.parseKeyFile('{"version":3}'), { code: 'unsupported_version' });
  assert.throws(() => c.parseKeyFile('not json'), { code: 'malformed' });
});

test('key policy and fingerprints', async () => {
  const alice = await identity('conformance/fixtures/keys/alice-3072.pem');
  assert.match(alice.publicKey.fingerprint, /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
  assert.equal(alice.publicKey.bits, 3072);
  await assert.rejects(c.importPrivateKey(pemDer('conformance/fixtures/keys/weak-1024.pem')), { code: 'key_size' });
  await assert.rejects(c.importPrivateKey(pemDer('conformance/fixtures/keys/exp3-2048.pem')), { code: 'exponent' });
  await assert.rejects(c.importPublicKey(new Uint8Array([1, 2, 3])), { code: 'malformed' });
  assert.throws(() => c.b64decode('abc'), { code: 'malformed' });
  assert.equal(c.b64encode(c.b64decode('AAECAw==')), 'AAECAw==');
});

test('a generated key pair signs, unwraps and round-trips through a key file', async () => {
  const t0 = performance.now();
  const { identity: me, pkcs8 } = await c.generateKeyPair();
  const ms = performance.now() - t0;
  assert.equal(me.publicKey.bits, 3072);
  assert.equal(me.sign.extractable, false);
  assert.equal(me.decrypt.extractable, false);
  const file = await c.makeKeyFile('https://chat.example', 'zoe', me.publicKey.der, pkcs8, 'pw');
  c.wipe(pkcs8);
  const back = await c.openKeyFile(c.parseKeyFile(c.keyFileJson(file)), 'pw');
  assert.equal(back.identity.publicKey.fingerprint, me.publicKey.fingerprint);
  const k = c.randomBytes(32);
  assert.deepEqual(await c.unwrapKey(back.identity, await c.wrapKey(me.publicKey, k)), k);
  assert.ok(await c.verify(me.publicKey, c.utf8('x'), await c.sign(back.identity, c.utf8('x'))));
  console.log(`# 3072-bit key generation on Node: ${ms.toFixed(0)} ms`);
});

test('key history: succession bytes and both signatures, keyed message and name bytes match the vector', async () => {
  const v = vector('key_history.json');
  const s = v.succession;
  const previous = await identity(s.previous_key);
  const next = await identity(s.new_key);
  const bytes = c.keySuccessionBytes(s.username, s.index, previous.publicKey.der, next.publicKey.der);
  assert.equal(hex(bytes), s.bytes);
  assert.ok(await c.verify(previous.publicKey, bytes, unhex(s.succession_signature)), 'the previous key vouches');
  assert.ok(await c.verify(next.publicKey, bytes, unhex(s.public_key_signature)), 'the new key proves possession');
  // Each signature by the other key, or over another index, is refused.
  assert.ok(!(await c.verify(next.publicKey, bytes, unhex(s.succession_signature))));
  const other = c.keySuccessionBytes(s.username, s.index + 1, previous.publicKey.der, next.publicKey.der);
  assert.ok(!(await c.verify(previous.publicKey, other, unhex(s.succession_signature))));
  assert.throws(() => c.keySuccessionBytes(s.username, 0, previous.publicKey.der, next.publicKey.der));

  const m = v.keyed_message;
  const signer = await identity(m.signer);
  const fingerprint = unhex(m.signer_fingerprint);
  assert.equal(hex(await c.sha256(signer.publicKey.der)), m.signer_fingerprint);
  const digests = (/** @type {any} */ section) =>
    section.recipients.map((/** @type {any} */ r) => ({ username: r.username, keyDigest: unhex(r.key_digest) }));
  const signed = c.messageSignedBytes(m.conversation_id, m.message_id, unhex(m.content_iv), unhex(m.content), null, digests(m), fingerprint);
  assert.equal(hex(signed), m.signed_bytes);
  assert.ok(await c.verify(signer.publicKey, signed, unhex(m.signature)));
  const v1 = c.messageSignedBytes(m.conversation_id, m.message_id, unhex(m.content_iv), unhex(m.content), null, digests(m));
  assert.ok(!(await c.verify(signer.publicKey, v1, unhex(m.signature))), 'the version 1 bytes are other bytes');

  // The page opens a version 2 message (what the Rust clients send), and
  // refuses it under the version 1 bytes.
  const bob = await identity('conformance/fixtures/keys/bob-3072.pem');
  const wire = {
    conversation_id: m.conversation_id,
    id: m.message_id,
    sender: 'alice',
    created_at: '2026-01-01T00:00:00Z',
    content_iv: c.b64encode(unhex(m.content_iv)),
    content: c.b64encode(unhex(m.content)),
    key: c.b64encode(unhex(m.recipients.find((/** @type {any} */ r) => r.username === 'bob').wrapped_key)),
    recipients: m.recipients.map((/** @type {any} */ r) => ({ username: r.username, key_digest: c.b64encode(unhex(r.key_digest)) })),
    signature: c.b64encode(unhex(m.signature)),
    signature_version: 2,
  };
  const opened = await c.openMessage(wire, 'bob', bob, signer.publicKey);
  assert.equal(JSON.parse(new TextDecoder().decode(opened.content)).text, 'Signed with my second key.');
  await assert.rejects(c.openMessage({ ...wire, signature_version: 1 }, 'bob', bob, signer.publicKey), { code: 'bad_signature' });

  const n = v.keyed_name;
  const named = c.nameSignedBytes(n.conversation_id, n.revision, unhex(n.iv), unhex(n.ciphertext), digests(n), fingerprint);
  assert.equal(hex(named), n.signed_bytes);
  assert.ok(await c.verify(signer.publicKey, named, unhex(n.signature)));
});
