// Nothing a person sends or receives is lost, sent twice, or reported
// where they cannot see it: catch-up after an outage, one message per
// Send however often it is clicked, failed sends that stay with Resend,
// queued messages that survive a reload, errors next to what caused them,
// the key-file login and the only-copy warning.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PHONE, complete, createUser, device, message, noConsoleErrors, openConversation, reload, rustPeer, shots, startServerAgain, stopServer, useServer } from './harness.js';

useServer();

/** What a stopped server makes the browser log, and nothing else. */
const OUTAGE = /ERR_CONNECTION_REFUSED|WebSocket connection to .* failed/;

/**
 * The texts of the open conversation's messages, in the order shown.
 * @param {import('playwright-core').Page} page
 */
function texts(page) {
  return page.$$eval('#message-list > li .text', (items) => items.map((t) => t.textContent ?? ''));
}

/**
 * Logs in from the device's stored key.
 * @param {import('playwright-core').Page} page
 * @param {string} username
 * @param {string} password
 */
async function login(page, username, password) {
  const form = page.locator('#login-form');
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#screen-chat').waitFor();
}

test('nothing is lost, sent twice or reported out of sight', { timeout: 300_000 }, async () => {
  const tokens = { alice: createUser('alice'), bob: createUser('bob'), carol: createUser('carol'), dave: createUser('dave') };
  createUser('erin'); // created by the operator, never activated
  const dave = await rustPeer('dave', tokens.dave);
  const alice = await device();
  await complete(alice, { username: 'alice', token: tokens.alice, displayName: 'Alice', password: 'alice key password', syncPassword: 'alice sync password' });
  const bob = await device(PHONE);
  await complete(bob, { username: 'bob', token: tokens.bob, displayName: 'Bob', password: 'bob key password' });

  // Creating with an unknown or not yet activated member: the sentence
  // names them, in the form.
  const create = alice.locator('#new-conv-form');
  await alice.getByRole('button', { name: 'New conversation' }).click();
  for (const who of ['gus', 'erin']) {
    await create.getByLabel('Members').fill(`bob, ${who}`);
    await create.getByRole('button', { name: 'Create' }).click();
    await create.locator('.form-error', { hasText: `No user ${who} (or ${who} has not activated their account yet)` }).waitFor();
  }
  await shots(alice, '12-error-unknown-member');
  await create.getByLabel('Members').fill('bob, dave');
  await create.getByLabel('Conversation name').fill('Delivery');
  await create.getByRole('button', { name: 'Create' }).click();
  await alice.locator('#conv-title', { hasText: 'Delivery' }).waitFor();
  assert.equal(await create.locator('.form-error').isVisible(), false, 'the error went with the successful submit');
  const conversation = /** @type {string} */ (await alice.evaluate(() => /** @type {any} */ (window).nanochat.state.current));
  await openConversation(bob, 'Delivery');
  const composer = alice.locator('#composer');
  await composer.getByLabel('Message', { exact: true }).fill('first from alice');
  await composer.getByRole('button', { name: 'Send' }).click();
  await message(bob, 'first from alice').waitFor();
  await composer.getByLabel('Message', { exact: true }).fill('alice will edit this');
  await composer.getByRole('button', { name: 'Send' }).click();
  await composer.getByLabel('Message', { exact: true }).fill('alice will delete this');
  await composer.getByRole('button', { name: 'Send' }).click();
  await message(bob, 'alice will delete this').waitFor();

  // 1. An outage longer than the first page of history: the server
  // restarts, 60 messages are sent, an edit and a deletion are made, and
  // only then do the pages reconnect. Every message shows once, in order.
  for (const page of [alice, bob]) await page.evaluate(() => /** @type {any} */ (window).nanochat.holdSocket());
  await stopServer();
  await startServerAgain();
  for (let i = 1; i <= 60; i++) await dave.ask({ cmd: 'send', conversation, text: `catch-up ${i}` });
  await message(alice, 'alice will edit this').getByRole('button', { name: 'Edit' }).click();
  await composer.getByLabel('Message', { exact: true }).fill('alice edited this meanwhile');
  await composer.getByRole('button', { name: 'Send' }).click();
  await message(alice, 'alice edited this meanwhile').waitFor();
  await message(alice, 'alice will delete this').getByRole('button', { name: 'Delete' }).click();
  await message(alice, 'alice will delete this').waitFor({ state: 'detached' });
  for (const page of [alice, bob]) await page.evaluate(() => /** @type {any} */ (window).nanochat.releaseSocket());
  const expected = ['first from alice', 'alice edited this meanwhile', ...Array.from({ length: 60 }, (_, i) => `catch-up ${i + 1}`)];
  for (const page of [bob, alice]) {
    await page.locator('#conn-state', { hasText: 'live' }).waitFor();
    await message(page, 'catch-up 60').waitFor();
    assert.deepEqual(await texts(page), expected, 'every message once, in order, edits and deletions caught up');
  }

  // 2. Send pressed twice during a slow upload (the request held for 4 s
  // on its way): one message, shown as sending (with the upload's
  // progress) from the first click.
  await alice.route('**/encrypted', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await route.continue();
  });
  const big = Buffer.alloc(2_000_000, 7);
  await composer.getByLabel('Message', { exact: true }).fill('a slow file');
  await composer.getByLabel('Attach file').setInputFiles({ name: 'slow.bin', mimeType: 'application/octet-stream', buffer: big });
  await composer.getByRole('button', { name: 'Send' }).click();
  const firstClick = Date.now();
  await alice.locator('#message-list li[data-pending="sending"] progress').waitFor();
  await alice.waitForTimeout(Math.max(0, 1000 - (Date.now() - firstClick)));
  await composer.getByRole('button', { name: 'Send' }).click();
  assert.equal(await composer.locator('.form-error').isVisible(), false, 'a second click while it is sending is no error');
  await shots(alice, '13-sending');
  await alice.locator('#message-list li[data-pending]').waitFor({ state: 'detached', timeout: 60_000 });
  await alice.unroute('**/encrypted');
  await message(bob, 'a slow file').waitFor();
  await bob.waitForTimeout(500);
  assert.equal(await message(bob, 'a slow file').count(), 1, 'one message for two clicks');
  assert.equal(await message(alice, 'a slow file').count(), 1);
  // The size people read is the file's, not the ciphertext's.
  await message(bob, 'a slow file').getByRole('button', { name: /Download slow\.bin \(2 MB\)/ }).waitFor();

  // 3. A file over the limit: said in the composer, with the limit in MB.
  await composer.getByLabel('Attach file').setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(20 * 1024 * 1024, 1) });
  await composer.getByRole('button', { name: 'Send' }).click();
  await composer.locator('.form-error', { hasText: /huge\.bin is 21 MB: this server accepts files up to 8\.4 MB/ }).waitFor();
  await shots(alice, '14-error-file-too-large');
  await composer.getByLabel('Attach file').setInputFiles([]);

  // Sending while the server is down: the message stays, failed, with
  // Resend; resent once the server is back, it arrives once.
  await stopServer();
  await composer.getByLabel('Message', { exact: true }).fill('sent while the server was down');
  await composer.getByRole('button', { name: 'Send' }).click();
  const failed = alice.locator('#message-list li[data-pending="failed"]', { hasText: 'sent while the server was down' });
  await failed.locator('.state', { hasText: 'Not sent: Cannot reach the server' }).waitFor();
  await shots(alice, '15-failed-send');
  // Queued sealed: a second one survives a reload and goes once after it.
  await composer.getByLabel('Message', { exact: true }).fill('queued across a reload');
  await composer.getByRole('button', { name: 'Send' }).click();
  await alice.locator('#message-list li[data-pending="failed"]', { hasText: 'queued across a reload' }).waitFor();
  await startServerAgain();
  await failed.getByRole('button', { name: 'Resend' }).click();
  await message(bob, 'sent while the server was down').waitFor();
  await reload(alice);
  await login(alice, 'alice', 'alice key password');
  await message(bob, 'queued across a reload').waitFor();
  await openConversation(alice, 'Delivery');
  await message(alice, 'queued across a reload').and(alice.locator('[data-verified="true"]')).waitFor();
  await bob.waitForTimeout(500);
  for (const text of ['sent while the server was down', 'queued across a reload']) {
    assert.equal(await message(bob, text).count(), 1, `${text}: once`);
    assert.equal(await message(alice, text).count(), 1, `${text}: once for alice`);
  }
  assert.equal(await alice.locator('#message-list li[data-pending]').count(), 0, 'nothing left queued');

  // 4 and 5. Carol keeps her key on her device only: logging out says it
  // is the only copy; she exports it (no key file password) and a new
  // device logs in from the file with her password alone.
  const carol = await device(PHONE);
  await complete(carol, { username: 'carol', token: tokens.carol, displayName: 'Carol', password: 'carol key password' });
  await carol.getByRole('button', { name: 'Log out' }).click();
  await carol.locator('#status', { hasText: 'This device holds the only copy of your key' }).waitFor();
  await shots(carol, '16-only-copy');
  await login(carol, 'carol', 'carol key password');
  await carol.getByRole('button', { name: 'Account' }).click();
  const [download] = await Promise.all([carol.waitForEvent('download'), carol.getByRole('button', { name: 'Export public/private keys' }).click()]);
  const keyFile = readFileSync(/** @type {string} */ (await download.path()));
  const carol2 = await device();
  const form = carol2.locator('#login-form');
  await form.getByLabel('Username').fill('carol');
  await form.getByLabel('Password', { exact: true }).fill('carol key password');
  await form.getByRole('button', { name: 'Log in' }).click();
  await form.locator('.form-error', { hasText: 'or choose a key file below' }).waitFor();
  assert.equal(await form.locator('.form-error', { hasText: 'Wrong sync password' }).count(), 0);
  await shots(carol2, '17-login-key-file');
  await form.getByLabel('Import public/private keys').setInputFiles({ name: 'nanochat-carol.json', mimeType: 'application/json', buffer: keyFile });
  await form.getByRole('button', { name: 'Log in' }).click();
  await carol2.locator('#screen-chat').waitFor();

  // 8. Alice removes Dave from the conversation: on Bob's freshly loaded
  // page his messages keep the name Bob's device knew him by, verified.
  dave.stop();
  await alice.getByRole('button', { name: 'Members', exact: true }).click();
  await alice.locator('[data-remove="dave"]').click();
  await alice.waitForFunction(() => document.querySelectorAll('#member-list > li').length === 2);
  await reload(bob);
  await login(bob, 'bob', 'bob key password');
  await openConversation(bob, 'Delivery');
  const fromDave = message(bob, 'catch-up 60');
  await fromDave.and(bob.locator('[data-verified="true"]')).waitFor();
  assert.equal(await fromDave.locator('header strong').textContent(), 'dave (Rust client)');
  noConsoleErrors(OUTAGE);
});
