// Key history over time, in the browser and on the command line (api.yml,
// "Key history" and "What clients do about a changed key"): two people in
// browsers and one on nanochat-client chat; Alice rotates twice and nobody
// loses anything, Alice's second browser follows through the sync
// password, the verified marks survive the signed rotations, and an
// operator reset of Bob is the one loud warning, which blocks sending to
// him in both clients alike until it is accepted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PHONE, cliUser, complete, createConversation, createUser, device, message, noConsoleErrors, openConversation, reload, resetUser, send, shots, useServer } from './harness.js';

useServer();

/**
 * Logs in on a page that holds no key yet, through the sync password.
 * @param {import('playwright-core').Page} page
 * @param {string} username
 * @param {string} password
 * @param {string} syncPassword
 */
async function syncLogin(page, username, password, syncPassword) {
  const form = page.locator('#login-form');
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByRole('button', { name: 'Log in' }).click();
  await form.getByLabel('Sync password').fill(syncPassword);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#screen-chat').waitFor();
}

/**
 * Rotates the page's key from the Account screen.
 * @param {import('playwright-core').Page} page
 * @param {string} password
 */
async function rotate(page, password) {
  await page.getByRole('button', { name: 'Account' }).click();
  await page.locator('#rotate-form').getByLabel('Password').fill(password);
  const before = await page.locator('#my-fp').textContent();
  await page.getByRole('button', { name: 'Rotate key pair' }).click();
  await page.locator('#status', { hasText: /New key pair in use|\S/ }).waitFor();
  assert.match(/** @type {string} */ (await page.locator('#status').textContent()), /New key pair in use/);
  const after = await page.locator('#my-fp').textContent();
  assert.notEqual(after, before);
  await page.getByRole('button', { name: 'Back to conversations' }).click();
  return /** @type {string} */ (after);
}

/**
 * Every message of the open conversation: [text, verified].
 * @param {import('playwright-core').Page} page
 */
function shown(page) {
  return page.$$eval('#message-list > li.msg', (items) => items.map((li) => [li.querySelector('.text')?.textContent ?? '', li.getAttribute('data-verified')]));
}

/**
 * Opens "Members and fingerprints" (if closed).
 * @param {import('playwright-core').Page} page
 */
async function openMembers(page) {
  await page.evaluate(() => {
    /** @type {HTMLDetailsElement} */ (document.getElementById('members-box')).open = true;
  });
}

/**
 * Opens the member details and marks `username` as verified.
 * @param {import('playwright-core').Page} page
 * @param {string} username
 */
async function markVerified(page, username) {
  await openMembers(page);
  await page.locator(`[data-verify="${username}"]`).click();
  await page.locator(`[data-verified-mark="${username}"]`).waitFor();
}

/**
 * The messages as the CLI user sees them, oldest first: [sender, text, verified].
 * @param {ReturnType<typeof cliUser>} who
 * @param {string} conversation
 */
function cliMessages(who, conversation) {
  const page = who.json(['message', 'list', conversation]);
  return page.messages.map((/** @type {any} */ m) => [m.sender, m.text ?? null, m.verified]).reverse();
}

test('rotations cost nobody any history, in browsers and on the command line', { timeout: 300_000 }, async () => {
  const tokens = { alice: createUser('alice'), bob: createUser('bob'), carol: createUser('carol') };
  const carol = cliUser('carol', 'carol key password');
  carol.ok(['complete', '--token', tokens.carol, '--display-name', 'Carol (CLI)']);

  const alice = await device();
  await complete(alice, { username: 'alice', token: tokens.alice, displayName: 'Alice', password: 'alice key password', syncPassword: 'alice sync password' });
  const bob = await device(PHONE);
  await complete(bob, { username: 'bob', token: tokens.bob, displayName: 'Bob', password: 'bob key password' });
  // Alice's second browser, logged in before any rotation, and a third
  // one that logged out again (its copy of her key stays behind).
  const alice2 = await device();
  await syncLogin(alice2, 'alice', 'alice key password', 'alice sync password');
  const alice3 = await device(PHONE);
  await syncLogin(alice3, 'alice', 'alice key password', 'alice sync password');
  await alice3.getByRole('button', { name: 'Log out' }).click();

  // Text, a file and a sealed name, from all three.
  await createConversation(alice, 'bob, carol', 'Keys club');
  const conversation = /** @type {string} */ (await alice.evaluate(() => /** @type {any} */ (window).nanochat.state.current));
  await openConversation(bob, 'Keys club');
  await send(alice, 'alice before any rotation');
  const fileBytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) % 256));
  await send(bob, 'bob sends a file', { name: 'notes.bin', mimeType: 'application/octet-stream', buffer: fileBytes });
  carol.ok(['message', 'send', conversation, '--text', 'carol from the command line']);
  await message(alice, 'carol from the command line').waitFor();
  await message(bob, 'carol from the command line').waitFor();

  // Bob and Carol compare Alice's fingerprint with her and mark her
  // verified; Alice and Carol do the same for Bob.
  const aliceFp0 = /** @type {string} */ (await alice.locator('#member-list [data-member="alice"] code').textContent());
  const bobFp0 = /** @type {string} */ (await alice.locator('#member-list [data-member="bob"] code').textContent());
  await markVerified(bob, 'alice');
  await markVerified(alice, 'bob');
  carol.ok(['trust', 'verify', 'alice', aliceFp0]);
  carol.ok(['trust', 'verify', 'bob', bobFp0]);

  // Alice rotates twice, writing after each.
  await rotate(alice, 'alice key password');
  await openConversation(alice, 'Keys club');
  await send(alice, 'alice after the first rotation');
  await bob.locator('[data-key-rotation="alice"]').waitFor();
  await shots(bob, '08-rotation-notice');
  await rotate(alice, 'alice key password');
  await openConversation(alice, 'Keys club');
  await send(alice, 'alice after the second rotation');
  await bob.locator('[data-key-rotation="alice"]', { hasText: 'key 2' }).waitFor();
  await message(bob, 'alice after the second rotation').waitFor();

  // Nothing was lost, for anyone: every message verified, the name read,
  // the file opens for its sender after... and for Alice, whose key it was
  // wrapped for is two keys back.
  const expected = [
    ['alice before any rotation', 'true'],
    ['bob sends a file', 'true'],
    ['carol from the command line', 'true'],
    ['alice after the first rotation', 'true'],
    ['alice after the second rotation', 'true'],
  ];
  for (const page of [alice, bob]) await reload(page);
  // A reload forgets the keys: log in again from the device's copy.
  for (const [page, username, password] of /** @type {const} */ ([[alice, 'alice', 'alice key password'], [bob, 'bob', 'bob key password']])) {
    const form = page.locator('#login-form');
    await form.getByLabel('Username').fill(username);
    await form.getByLabel('Password', { exact: true }).fill(password);
    await form.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#screen-chat').waitFor();
    await openConversation(page, 'Keys club');
    await message(page, 'alice after the second rotation').waitFor();
    assert.deepEqual(await shown(page), expected, `${username} after the rotations`);
  }
  assert.equal(await bob.locator('[data-key-change]').count(), 0, 'a signed rotation is no warning');
  const [download] = await Promise.all([alice.waitForEvent('download'), message(alice, 'bob sends a file').getByRole('button', { name: /Download notes\.bin/ }).click()]);
  assert.ok(readFileSync(/** @type {string} */ (await download.path())).equals(fileBytes), 'the file differs');
  // Still verified after two signed rotations, in both clients (the CLI
  // follows the rotations when it reads her messages).
  await openMembers(bob);
  await bob.locator('[data-verified-mark="alice"]').waitFor();
  assert.deepEqual(cliMessages(carol, conversation), [
    ['alice', 'alice before any rotation', true],
    ['bob', 'bob sends a file', true],
    ['carol', 'carol from the command line', true],
    ['alice', 'alice after the first rotation', true],
    ['alice', 'alice after the second rotation', true],
  ]);
  const trusted = carol.json(['trust', 'list']);
  const aliceForCarol = trusted.contacts.find((/** @type {any} */ c) => c.username === 'alice');
  assert.equal(aliceForCarol.verified, true, JSON.stringify(trusted));
  assert.equal(aliceForCarol.key_index, 2, JSON.stringify(trusted));
  assert.equal(carol.json(['conversation', 'list']).conversations[0].name, 'Keys club');

  // The key history view: three keys, each a signed rotation of the last.
  const history = bob.locator('[data-member="alice"] [data-history="alice"]');
  await history.locator('summary').click();
  await history.locator('li[data-index="2"]').waitFor();
  assert.equal(await history.locator('li[data-trusted="true"]').count(), 3);
  assert.match(/** @type {string} */ (await history.locator('li[data-index="1"]').textContent()), /rotation signed by the previous key/);
  await shots(bob, '09-key-history');

  // Alice's second browser was left behind: it says so and offers the sync step.
  await alice2.locator('#screen-follow').waitFor();
  await alice2.locator('#follow-rotated', { hasText: 'Your key was rotated on another device' }).waitFor();
  await shots(alice2, '10-other-device');
  const follow = alice2.locator('#follow-sync-form');
  await follow.getByLabel('Sync password').fill('alice sync password');
  await follow.getByLabel('Password', { exact: true }).fill('alice key password');
  await follow.getByRole('button', { name: 'Fetch and log in' }).click();
  await alice2.locator('#screen-chat').waitFor();
  await openConversation(alice2, 'Keys club');
  await message(alice2, 'alice after the second rotation').waitFor();
  assert.deepEqual(await shown(alice2), expected, 'alice2 after the sync step');

  // Alice's third browser logs in with the key it kept: it is told why
  // that no longer works and imports the key file Alice exports now.
  await alice.getByRole('button', { name: 'Account' }).click();
  await alice.locator('#export-form').getByLabel('Key file password').fill('alice file password');
  await alice.locator('#export-form').getByLabel('Current password').fill('alice key password');
  const [keyDownload] = await Promise.all([alice.waitForEvent('download'), alice.getByRole('button', { name: 'Export public/private keys' }).click()]);
  const keyFile = readFileSync(/** @type {string} */ (await keyDownload.path()), 'utf8');
  assert.equal(JSON.parse(keyFile).version, 2, 'a key file after a rotation holds the ring');
  await alice.getByRole('button', { name: 'Back to conversations' }).click();
  const stale = alice3.locator('#login-form');
  await stale.getByLabel('Username').fill('alice');
  await stale.getByLabel('Password', { exact: true }).fill('alice key password');
  await stale.getByRole('button', { name: 'Log in' }).click();
  await alice3.locator('#follow-rotated').waitFor();
  await alice3.locator('#follow-file summary').click();
  const importForm = alice3.locator('#follow-file-form');
  await importForm.getByLabel('Key file', { exact: true }).setInputFiles({ name: 'nanochat-alice.json', mimeType: 'application/json', buffer: Buffer.from(keyFile) });
  await importForm.getByLabel('Key file password').fill('alice file password');
  await importForm.getByLabel('Password for this device').fill('alice phone password');
  await importForm.getByRole('button', { name: 'Import and log in' }).click();
  await alice3.locator('#screen-chat').waitFor();
  await openConversation(alice3, 'Keys club');
  await message(alice3, 'alice after the second rotation').waitFor();
  assert.deepEqual(await shown(alice3), expected, 'alice3 after importing the key file');

  // The operator resets Bob; he completes again with a new key. That is
  // an unexplained change: the loud warning, "verified" cleared, and
  // nothing sealed for him until Alice (and Carol) accept the new key.
  const bobToken = resetUser('bob');
  await bob.locator('#follow-reset', { hasText: 'The operator reset your account' }).waitFor();
  const bobAgain = await device(PHONE);
  await complete(bobAgain, { username: 'bob', token: bobToken, displayName: 'Bob', password: 'bob new key password' });
  await alice.locator('[data-key-change="bob"]').waitFor();
  await alice.getByLabel('Message', { exact: true }).fill('to bob, before accepting');
  await alice.getByRole('button', { name: 'Send' }).click();
  await alice.locator('#composer .form-error', { hasText: 'Not sent: the key of bob changed' }).waitFor();
  assert.equal(await message(alice, 'to bob, before accepting').count(), 0);
  await openMembers(alice);
  assert.equal(await alice.locator('[data-verified-mark="bob"]').count(), 0, 'the reset cleared "verified"');
  await shots(alice, '11-key-changed-warning');
  // The command line refuses the same way, and has cleared "verified" too.
  const refused = carol.fails(['message', 'send', conversation, '--text', 'to bob, before accepting']);
  assert.match(refused, /bob/);
  assert.match(refused, /trust user bob/);
  const afterReset = carol.json(['trust', 'list']).contacts.find((/** @type {any} */ c) => c.username === 'bob');
  assert.equal(afterReset.verified, false, 'the CLI cleared "verified" on the reset');

  // Both accept after comparing the new fingerprint; sending works again
  // and Bob's new key reads it.
  await alice.locator('[data-accept-key="bob"]').click();
  await alice.locator('[data-key-change="bob"]').waitFor({ state: 'detached' });
  const bobFp1 = /** @type {string} */ (await alice.locator('#member-list [data-member="bob"] code').textContent());
  assert.notEqual(bobFp1, bobFp0);
  carol.ok(['trust', 'user', 'bob', bobFp1]);
  await send(alice, 'to bob, after accepting');
  carol.ok(['message', 'send', conversation, '--text', 'carol to the new bob']);
  await openConversation(bobAgain, 'Keys club');
  await message(bobAgain, 'carol to the new bob').and(bobAgain.locator('[data-verified="true"]')).waitFor();
  await message(bobAgain, 'to bob, after accepting').and(bobAgain.locator('[data-verified="true"]')).waitFor();
  // Bob's messages from before the reset stay verified for Alice: the
  // key she trusted then still vouches for what it signed.
  await message(alice, 'bob sends a file').and(alice.locator('[data-verified="true"]')).waitFor();
  noConsoleErrors();
});
