// Key rings (EncryptedPrivateKey version 2, key files version 2) and
// signature version 2 from the page, against conformance/vectors/key_history.json
// and the fixture keys (no key is generated here).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from '../js/crypto.js';
import { vector, pemDer, replay } from './helpers.js';

const hex = c.hexEncode;
const unhex = c.hexDecode;

const ALICE = 'conformance/fixtures/keys/alice-3072.pem';
const BOB = 'conformance/fixtures/keys/bob-3072.pem';
const DAVE = 'conformance/fixtures/keys/dave-2048.pem';

/** @type {Map<string, Promise<c.Identity>>} */
const identities = new Map();
/** @param {string} pem */
function identity(pem) {
  if (!identities.has(pem)) identities.set(pem, c.importPrivateKey(pemDer(pem)));
  return /** @type {Promise<c.Identity>} */ (identities.get(pem));
}

/** The salt and IV of a blob, as the RandomSource that drew them. @param {{salt: string, iv: string}} blob */
const drawsOf = (blob) => replay(hex(c.b64decode(blob.salt)), hex(c.b64decode(blob.iv)));

test('key ring blob: the vector decrypts to its keys, and the same keys and draws give the same JSON', async () => {
  const v = vector('key_history.json').key_ring;
  const ders = v.keys.map((/** @type {string} */ k) => pemDer(k));
  assert.equal(hex(c.keyRingBytes(ders)), v.ring_bytes);
  assert.deepEqual(c.parseRingBytes(unhex(v.ring_bytes)), ders);
  const blob = c.validateEncryptedPrivateKey(JSON.parse(v.blob_json));
  assert.equal(blob.version, 2);
  assert.deepEqual(await c.decryptPrivateKeyRing(blob, v.password), ders);
  // Old call sites get the current (last) key.
  assert.deepEqual(await c.decryptPrivateKey(blob, v.password), ders[ders.length - 1]);
  await assert.rejects(c.decryptPrivateKeyRing(blob, 'wrong'), { code: 'wrong_password' });
  // Under the version 1 AAD the ring does not open (the version is bound).
  await assert.rejects(c.decryptPrivateKeyRing({ ...blob, version: 1 }, v.password), { code: 'wrong_password' });
  const ours = await c.encryptPrivateKeyRing(ders, v.password, c.KDF_DEFAULT, drawsOf(blob));
  assert.equal(c.encryptedPrivateKeyJson(ours), v.blob_json);
});

test('key ring blob: one key is version 1 exactly as encryptPrivateKey writes, and version 1 reads as a ring of one', async () => {
  const v = vector('private_key.json');
  const der = pemDer(v.key);
  const ring = await c.encryptPrivateKeyRing([der], v.password, c.KDF_DEFAULT, drawsOf(v.blob));
  assert.deepEqual(ring, v.blob);
  assert.equal(c.encryptedPrivateKeyJson(ring), v.blob_json);
  assert.deepEqual(await c.decryptPrivateKeyRing(v.blob, v.password), [der]);
  // A key listed twice is kept once (at its last place): still version 1.
  const twice = await c.encryptPrivateKeyRing([der, der], v.password, c.KDF_DEFAULT, drawsOf(v.blob));
  assert.deepEqual(twice, v.blob);
});

test('key ring blob: a round trip of three keys, oldest first, the last current', async () => {
  const ders = [pemDer(ALICE), pemDer(BOB), pemDer(DAVE)];
  const blob = await c.encryptPrivateKeyRing(ders, 'pw');
  assert.equal(blob.version, 2);
  const back = await c.decryptPrivateKeyRing(c.validateEncryptedPrivateKey(JSON.parse(c.encryptedPrivateKeyJson(blob))), 'pw');
  assert.deepEqual(back, ders);
  assert.deepEqual(await c.decryptPrivateKey(blob, 'pw'), ders[2]);
  // Moving a key to the end makes it current, not duplicated.
  const rotatedBack = await c.decryptPrivateKeyRing(await c.encryptPrivateKeyRing([...ders, ders[0]], 'pw'), 'pw');
  assert.deepEqual(rotatedBack, [ders[1], ders[2], ders[0]]);
  await assert.rejects(c.encryptPrivateKeyRing([], 'pw'), { code: 'malformed' });
  await assert.rejects(c.encryptPrivateKeyRing(ders, ''), { code: 'malformed' });
});

test('key ring bytes: malformed rings are refused with a clear message', async () => {
  const good = c.keyRingBytes([pemDer(ALICE), pemDer(BOB)]);
  const u32 = (/** @type {number} */ n) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    return b;
  };
  const cases = [
    [good.slice(0, 3), /truncated/],
    [good.slice(0, good.length - 1), /truncated/],
    [u32(0), /holds 0 keys/],
    [c.concat(u32(257), u32(1), new Uint8Array(1)), /holds 257 keys/],
    [c.concat(u32(1), u32(16385), new Uint8Array(16385)), /claims 16385 bytes/],
    [c.concat(good, new Uint8Array(1)), /trailing bytes/],
    [new Uint8Array([0, 0, 1, 1, 0, 0, 0, 0]), /holds 257 keys/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => c.parseRingBytes(/** @type {Uint8Array} */ (bytes)), (/** @type {any} */ e) => e instanceof c.CryptoError && e.code === 'malformed' && /** @type {RegExp} */ (message).test(e.message));
  }
  // A repeated key is kept once, at its first place.
  const alice = pemDer(ALICE);
  assert.deepEqual(c.parseRingBytes(c.keyRingBytes([alice, pemDer(BOB), alice])), [alice, pemDer(BOB)]);
  assert.throws(() => c.keyRingBytes(Array(257).fill(new Uint8Array(1))), { code: 'malformed' });

  // Inside a blob: the password is right, the ring is not.
  const v = vector('private_key.json');
  const salt = c.b64decode(v.blob.salt);
  const iv = c.b64decode(v.blob.iv);
  const key = await c.deriveKeyFromPassword(c.utf8(v.password), salt, c.KDF_DEFAULT);
  const ciphertext = await c.aesEncrypt(key, iv, c.utf8(c.KEY_RING_AAD), good.slice(0, good.length - 5));
  const blob = { ...v.blob, version: /** @type {const} */ (2), ciphertext: c.b64encode(ciphertext) };
  await assert.rejects(c.decryptPrivateKeyRing(blob, v.password), { code: 'malformed', message: /the key ring is malformed: key 2 is truncated/ });
  await assert.rejects(c.decryptPrivateKey(blob, v.password), { code: 'malformed' });
  assert.throws(() => c.validateEncryptedPrivateKey({ ...v.blob, version: 3 }), { code: 'unsupported_version' });
});

test('key files version 2: the vectors open to the ring, and the same ring and draws write the same bytes', async () => {
  const v = vector('key_history.json');
  const ders = v.key_ring.keys.map((/** @type {string} */ k) => pemDer(k));
  const current = await identity(v.key_ring.keys[v.key_ring.keys.length - 1]);
  const f = v.key_files;

  const plain = c.parseKeyFile(f.plain_json);
  assert.equal(plain.version, 2);
  assert.equal(c.keyFileJson(plain), f.plain_json);
  assert.equal(c.keyFileIsEncrypted(plain), false);
  const enc = c.parseKeyFile(f.encrypted_json);
  assert.equal(enc.version, 2);
  assert.equal(c.keyFileJson(enc), f.encrypted_json);
  assert.equal(c.keyFileIsEncrypted(enc), true);

  for (const [file, password] of /** @type {const} */ ([[plain, null], [enc, f.password]])) {
    const opened = await c.openKeyFileRing(file, password);
    assert.deepEqual(opened.ring, ders);
    assert.deepEqual(opened.identities.map((i) => i.publicKey.fingerprint), await Promise.all(v.key_ring.keys.map(async (/** @type {string} */ k) => (await identity(k)).publicKey.fingerprint)));
    assert.equal(opened.identity.publicKey.fingerprint, current.publicKey.fingerprint);
    assert.deepEqual(opened.pkcs8, ders[ders.length - 1]);
    // openKeyFile keeps returning the current key.
    const one = await c.openKeyFile(file, password);
    assert.equal(one.identity.publicKey.fingerprint, current.publicKey.fingerprint);
    assert.deepEqual(one.pkcs8, ders[ders.length - 1]);
  }
  await assert.rejects(c.openKeyFileRing(enc, null), { code: 'password_required' });
  await assert.rejects(c.openKeyFileRing(enc, 'nope'), { code: 'wrong_password' });

  // Written by us: byte for byte.
  const pub = current.publicKey.der;
  assert.equal(c.keyFileJson(await c.makeKeyFileRing('https://chat.example', 'alice', pub, ders, null)), f.plain_json);
  const pk = /** @type {any} */ (enc.private_key);
  assert.equal(c.keyFileJson(await c.makeKeyFileRing('https://chat.example', 'alice', pub, ders, f.password, drawsOf(pk))), f.encrypted_json);
});

test('key files: a ring of one is version 1 as makeKeyFile writes; version rules and key checks', async () => {
  const v = vector('keyfile.json');
  const alice = pemDer(ALICE);
  const pub = c.b64decode(c.parseKeyFile(v.plain_json).public_key);
  assert.equal(c.keyFileJson(await c.makeKeyFileRing(v.plain.server, v.plain.username, pub, [alice], null)), v.plain_json);
  const pk = /** @type {any} */ (c.parseKeyFile(v.encrypted_json).private_key);
  assert.equal(c.keyFileJson(await c.makeKeyFileRing(v.encrypted.server, v.encrypted.username, pub, [alice], v.password, drawsOf(pk))), v.encrypted_json);
  // A version 1 file opens as a ring of one.
  const opened = await c.openKeyFileRing(c.parseKeyFile(v.plain_json), null);
  assert.deepEqual(opened.ring, [alice]);

  const h = vector('key_history.json').key_files;
  const plain = JSON.parse(h.plain_json);
  const enc = JSON.parse(h.encrypted_json);
  // A version 1 file holds one key.
  assert.throws(() => c.parseKeyFile(JSON.stringify({ ...plain, version: 1 })), { code: 'malformed', message: /version 1 key file holds one key/ });
  assert.throws(() => c.parseKeyFile(JSON.stringify({ ...enc, version: 1 })), { code: 'malformed', message: /version 1 key file holds one key/ });
  // A version 2 file may hold one key.
  const single = c.parseKeyFile(JSON.stringify({ ...plain, private_key: { encoding: 'plain', pkcs8: plain.private_key.pkcs8 } }));
  assert.equal((await c.openKeyFileRing(single, null)).ring.length, 1);
  assert.throws(() => c.parseKeyFile(JSON.stringify({ ...plain, private_key: { ...plain.private_key, earlier: 'x' } })), { code: 'malformed' });
  assert.throws(() => c.parseKeyFile(JSON.stringify({ ...plain, private_key: { ...plain.private_key, earlier: ['***'] } })), { code: 'malformed' });
  // The current key must be the file's public key; an earlier one is not enough.
  const swapped = c.parseKeyFile(JSON.stringify({ ...plain, private_key: { encoding: 'plain', pkcs8: plain.private_key.earlier[0], earlier: [plain.private_key.pkcs8] } }));
  await assert.rejects(c.openKeyFileRing(swapped, null), { code: 'key_mismatch' });
  await assert.rejects(c.openKeyFile(swapped, null), { code: 'key_mismatch' });
  // A weak key anywhere in the ring refuses the file.
  const weak = c.b64encode(pemDer('conformance/fixtures/keys/weak-1024.pem'));
  const withWeak = c.parseKeyFile(JSON.stringify({ ...plain, private_key: { ...plain.private_key, earlier: [weak, ...plain.private_key.earlier] } }));
  await assert.rejects(c.openKeyFileRing(withWeak, null), { code: 'key_size' });
});

/** @param {c.WireWrappedKey[]} keys */
async function recipientsOf(keys) {
  const out = [];
  for (const k of keys) out.push({ username: k.username, key_digest: c.b64encode(await c.sha256(c.b64decode(k.key))) });
  return out;
}

test('signature version 2 from the page: a sealed message and name verify with the keyed bytes only', async () => {
  const alice = await identity(ALICE);
  const bob = await identity(BOB);
  const members = [
    { username: 'bob', publicKey: bob.publicKey, keyIndex: 3 },
    { username: 'alice', publicKey: alice.publicKey, keyIndex: 0 },
  ];
  const conversationId = '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
  const messageId = '0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d';
  const { payload } = await c.sealMessage(alice, conversationId, messageId, c.contentJson({ text: 'keyed' }), null, members);
  assert.equal(payload.signature_version, 2);
  assert.deepEqual(payload.keys.map((k) => [k.username, k.key_index]), [['alice', 0], ['bob', 3]]);
  const recipients = await recipientsOf(payload.keys);
  const digests = recipients.map((r) => ({ username: r.username, keyDigest: c.b64decode(r.key_digest) }));
  const fingerprint = await c.sha256(alice.publicKey.der);
  const iv = c.b64decode(payload.content_iv);
  const content = c.b64decode(payload.content);
  const signature = c.b64decode(payload.signature);
  assert.ok(await c.verify(alice.publicKey, c.messageSignedBytes(conversationId, messageId, iv, content, null, digests, fingerprint), signature));
  assert.ok(!(await c.verify(alice.publicKey, c.messageSignedBytes(conversationId, messageId, iv, content, null, digests), signature)));
  const { attachment: _none, ...sent } = payload;
  const received = {
    ...sent,
    sender: 'alice',
    created_at: '2026-01-01T00:00:00Z',
    key: /** @type {any} */ (payload.keys.find((k) => k.username === 'bob')).key,
    recipients,
  };
  const opened = await c.openMessage(received, 'bob', bob, alice.publicKey);
  assert.deepEqual(c.parseContent(opened.content), { text: 'keyed' });
  await assert.rejects(c.openMessage({ ...received, signature_version: 1 }, 'bob', bob, alice.publicKey), { code: 'bad_signature' });
  // Another key with the same name cannot pass as the signer.
  await assert.rejects(c.openMessage(received, 'bob', bob, bob.publicKey), { code: 'bad_signature' });

  // Members without an index get no key_index.
  const plainMembers = members.map(({ username, publicKey }) => ({ username, publicKey }));
  const unindexed = await c.sealMessage(alice, conversationId, messageId, c.contentJson({ text: 'x' }), null, plainMembers);
  assert.ok(unindexed.payload.keys.every((k) => !('key_index' in k)));

  const name = await c.sealName(alice, conversationId, 2, 'Plans', members);
  assert.equal(name.signature_version, 2);
  assert.deepEqual(name.keys.map((k) => [k.username, k.key_index]), [['alice', 0], ['bob', 3]]);
  const nameRecipients = await recipientsOf(name.keys);
  const nameDigests = nameRecipients.map((r) => ({ username: r.username, keyDigest: c.b64decode(r.key_digest) }));
  const nameSig = c.b64decode(name.signature);
  assert.ok(await c.verify(alice.publicKey, c.nameSignedBytes(conversationId, 2, c.b64decode(name.iv), c.b64decode(name.ciphertext), nameDigests, fingerprint), nameSig));
  assert.ok(!(await c.verify(alice.publicKey, c.nameSignedBytes(conversationId, 2, c.b64decode(name.iv), c.b64decode(name.ciphertext), nameDigests), nameSig)));
  const wireName = {
    revision: 2,
    sealed_by: 'alice',
    sealed_at: '2026-01-01T00:00:00Z',
    iv: name.iv,
    ciphertext: name.ciphertext,
    key: /** @type {any} */ (name.keys.find((k) => k.username === 'bob')).key,
    recipients: nameRecipients,
    signature: name.signature,
    signature_version: 2,
    reseal: false,
  };
  assert.equal(await c.openName(conversationId, wireName, 'bob', bob, alice.publicKey), 'Plans');
  await assert.rejects(c.openName(conversationId, { ...wireName, signature_version: undefined }, 'bob', bob, alice.publicKey), { code: 'bad_signature' });
});
