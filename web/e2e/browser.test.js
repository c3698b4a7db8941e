// The web frontend end to end: the real `nanochat` binary on a loopback
// port, Debian's chromium driven by playwright-core, three people in
// browsers (on several devices each) chatting through it. Screenshots go to
// target/web-e2e/; the measured times go to target/web-e2e/timings.json.
//
// A fourth person, dave, uses the Rust client (examples/web_peer.rs) in the
// same group, so browser-sealed names and messages are opened by the Rust
// core and the other way round.
//
// Needs: the debug binary and example (cargo build --bin nanochat --example
// web_peer; cargo test builds both), /usr/bin/chromium, npm ci in web/.
// NANOCHAT_BIN, NANOCHAT_PEER and CHROMIUM override the paths.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SHOTS, complete, createConversation, createUser, device, loginTime, message, noConsoleErrors, openConversation, pageTimings, rustPeer, send, shot, timings, url, useServer } from './harness.js';

useServer();

after(() => writeFileSync(path.join(SHOTS, 'timings.json'), JSON.stringify(timings, null, 2) + '\n'));

test('three people in browsers and one on the Rust client chat through the real server', { timeout: 300_000 }, async () => {
  const tokens = { alice: createUser('alice'), bob: createUser('bob'), carol: createUser('carol'), dave: createUser('dave') };
  const dave = await rustPeer('dave', tokens.dave);

  // Alice: first visit, server key pinned, account completed with a server copy.
  const alice = await device();
  await shot(alice, '01-start');
  await complete(alice, { username: 'alice', token: tokens.alice, displayName: 'Alice', password: 'alice key password', syncPassword: 'alice sync password' });
  timings.keygen_ms = (await pageTimings(alice)).keygen_ms;

  // Bob on a phone-sized screen, key only on his device.
  const bob = await device({ width: 390, height: 844 });
  await complete(bob, { username: 'bob', token: tokens.bob, displayName: 'Bob', password: 'bob key password' });
  const carol = await device();
  await complete(carol, { username: 'carol', token: tokens.carol, displayName: 'Carol', password: 'carol key password' });

  // A named group.
  await createConversation(alice, 'bob, carol, dave', 'Team ☕');
  for (const page of [bob, carol]) await page.locator('#conv-list button', { hasText: 'Team ☕' }).waitFor({ state: 'attached' });
  await openConversation(bob, 'Team ☕');
  await openConversation(carol, 'Team ☕');

  // Text both ways, live.
  await send(alice, 'Hello from Alice');
  await message(bob, 'Hello from Alice').waitFor();
  await message(carol, 'Hello from Alice').waitFor();
  await send(carol, 'Carol was here');
  await message(alice, 'Carol was here').waitFor();

  // A file from Bob, downloaded byte-identical by Alice.
  const fileBytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
  await send(bob, 'the report', { name: 'report.bin', mimeType: 'application/octet-stream', buffer: fileBytes });
  await message(alice, 'the report').waitFor();
  const [download] = await Promise.all([alice.waitForEvent('download'), message(alice, 'the report').getByRole('button', { name: /Download report\.bin/ }).click()]);
  assert.equal(download.suggestedFilename(), 'report.bin');
  assert.ok(readFileSync(/** @type {string} */ (await download.path())).equals(fileBytes), 'the downloaded file differs');
  await shot(bob, '03-conversation-phone');

  // The Rust client opens the browser-sealed name and messages, and what
  // it sends verifies in the browsers.
  const conversationId = await alice.evaluate(() => /** @type {any} */ (window).nanochat.state.current);
  const seen = await dave.ask({ cmd: 'read', conversation: conversationId });
  assert.equal(seen.name, 'Team ☕');
  assert.deepEqual(
    seen.messages.map((/** @type {any} */ m) => [m.sender, m.text, m.file_name ?? null, m.verified]),
    [['alice', 'Hello from Alice', null, true], ['carol', 'Carol was here', null, true], ['bob', 'the report', 'report.bin', true]],
  );
  await dave.ask({ cmd: 'send', conversation: conversationId, text: 'Dave here, from the Rust client' });
  for (const page of [alice, bob]) await message(page, 'Dave here, from the Rust client').and(page.locator('[data-verified="true"]')).waitFor();

  // Edit and delete, seen by the others.
  await message(alice, 'Hello from Alice').getByRole('button', { name: 'Edit' }).click();
  await alice.getByLabel('Message', { exact: true }).fill('Hello from Alice, edited');
  await alice.getByRole('button', { name: 'Send' }).click();
  await message(bob, 'Hello from Alice, edited').filter({ hasText: '(edited)' }).waitFor();
  await send(alice, 'a message to delete');
  await message(bob, 'a message to delete').waitFor();
  await message(alice, 'a message to delete').getByRole('button', { name: 'Delete' }).click();
  await message(bob, 'a message to delete').waitFor({ state: 'detached' });
  await shot(alice, '02-conversation');

  // A dropped socket reconnects; a message sent meanwhile arrives exactly once.
  await bob.evaluate(() => /** @type {any} */ (window).nanochat.dropSocket());
  await send(alice, 'sent while Bob was reconnecting');
  await message(bob, 'sent while Bob was reconnecting').waitFor();
  await bob.locator('#conn-state', { hasText: 'live' }).waitFor();
  assert.equal(await message(bob, 'sent while Bob was reconnecting').count(), 1);

  // Alice's second device logs in through sync.
  const alice2 = await device();
  const login = alice2.locator('#login-form');
  await login.getByLabel('Username').fill('alice');
  await login.getByLabel('Password', { exact: true }).fill('alice key password');
  await login.getByRole('button', { name: 'Log in' }).click();
  await login.getByLabel('Sync password').waitFor();
  await shot(alice2, '04-login-sync');
  await login.getByLabel('Sync password').fill('wrong sync password');
  await login.getByRole('button', { name: 'Log in' }).click();
  await alice2.locator('#login-form .form-error', { hasText: 'Wrong sync password' }).waitFor();
  await login.getByLabel('Sync password').fill('alice sync password');
  await login.getByLabel('Password', { exact: true }).fill('alice key password');
  await login.getByRole('button', { name: 'Log in' }).click();
  await alice2.locator('#screen-chat').waitFor();
  timings.login_sync_ms = await loginTime(alice2);
  await openConversation(alice2, 'Team ☕');
  await message(alice2, 'the report').waitFor();

  // Bob exports his key with a key file password and logs in on a new device from the file.
  await bob.getByRole('button', { name: 'Account' }).click();
  await bob.locator('#export-form').getByLabel('Key file password').fill('bob file password');
  await bob.locator('#export-form').getByLabel('Current password').fill('bob key password');
  const [keyDownload] = await Promise.all([bob.waitForEvent('download'), bob.getByRole('button', { name: 'Export public/private keys' }).click()]);
  const keyFile = readFileSync(/** @type {string} */ (await keyDownload.path()), 'utf8');
  const parsed = JSON.parse(keyFile);
  assert.equal(parsed.username, 'bob');
  assert.equal(parsed.private_key.encoding, 'encrypted');
  await shot(bob, '05-account-phone');
  await bob.getByRole('button', { name: 'Back to conversations' }).click();
  const bob2 = await device();
  const login2 = bob2.locator('#login-form');
  await login2.getByLabel('Username').fill('bob');
  await login2.getByLabel('Password', { exact: true }).fill('bob new device password');
  await bob2.locator('#login-import-box summary').click();
  await login2.getByLabel('Import public/private keys').setInputFiles({ name: 'nanochat-bob.json', mimeType: 'application/json', buffer: Buffer.from(keyFile) });
  await login2.getByLabel('Key file password').fill('bob file password');
  await login2.getByRole('button', { name: 'Log in' }).click();
  await bob2.locator('#screen-chat').waitFor();
  await openConversation(bob2, 'Team ☕');
  await message(bob2, 'Carol was here').waitFor();

  // Carol rotates her key: her current key signed the new one, so the
  // others follow it with a quiet notice, and her earlier message stays
  // verified (api.yml, "Key history").
  await carol.getByRole('button', { name: 'Account' }).click();
  await carol.locator('#rotate-form').getByLabel('Password').fill('carol key password');
  await carol.getByRole('button', { name: 'Rotate key pair' }).click();
  await carol.locator('#status', { hasText: 'New key pair in use' }).waitFor();
  await alice.locator('[data-key-rotation="carol"]').waitFor();
  assert.equal(await alice.locator('[data-key-change]').count(), 0, 'a signed rotation is not an unexplained change');
  await openConversation(alice, 'Team ☕');
  await message(alice, 'Carol was here').and(alice.locator('[data-verified="true"]')).waitFor();
  await shot(alice, '06-key-rotated');

  // Carol leaves; Alice sees two members.
  await carol.getByRole('button', { name: 'Back to conversations' }).click();
  await openConversation(carol, 'Team ☕');
  await carol.getByRole('button', { name: 'Leave' }).click();
  await carol.locator('#conv-list button', { hasText: 'Team ☕' }).waitFor({ state: 'detached' });
  await alice.waitForFunction(() => document.querySelectorAll('#member-list li').length === 3);

  // Rename through a sealed name.
  await alice.getByRole('button', { name: 'Rename' }).click();
  await alice.locator('#rename-form').getByLabel('Conversation name').fill('Alice & Bob');
  await alice.getByRole('button', { name: 'Save name' }).click();
  await bob.locator('#conv-list button', { hasText: 'Alice & Bob' }).waitFor({ state: 'attached' });

  // The owner adds Carol back: the name is re-sealed for the new member
  // list, so she can read it.
  await alice.getByRole('button', { name: 'Members', exact: true }).click();
  await alice.getByLabel('Add a member').fill('carol');
  await alice.locator('#members-form').getByRole('button', { name: 'Add' }).click();
  await carol.locator('#conv-list button', { hasText: 'Alice & Bob' }).waitFor({ state: 'attached' });
  await alice.waitForFunction(() => document.querySelectorAll('#member-list li').length === 4);
  assert.equal((await dave.ask({ cmd: 'list' })).conversations[0].name, 'Alice & Bob');

  // Account changes: Bob's new display name reaches the others; Bob
  // uploads a server copy of his key and a new device syncs it.
  await bob.getByRole('button', { name: 'Account' }).click();
  await bob.locator('#display-name-form').getByLabel('Display name').fill('Bob B.');
  await bob.getByRole('button', { name: 'Change display name' }).click();
  await bob.locator('#me-badge', { hasText: 'Bob B.' }).waitFor({ state: 'attached' });
  await bob.locator('#server-copy-form').getByLabel('Store private key on server').check();
  await bob.locator('#server-copy-form').getByLabel('Sync password').fill('bob sync password');
  await bob.getByRole('button', { name: 'Save server copy' }).click();
  await bob.locator('#status', { hasText: 'stored on the server' }).waitFor();
  await bob.getByRole('button', { name: 'Back to conversations' }).click();
  const bobSync = await device();
  const loginSync = bobSync.locator('#login-form');
  await loginSync.getByLabel('Username').fill('bob');
  await loginSync.getByLabel('Password', { exact: true }).fill('bob key password');
  await loginSync.getByRole('button', { name: 'Log in' }).click();
  await loginSync.getByLabel('Sync password').fill('bob sync password');
  await loginSync.getByRole('button', { name: 'Log in' }).click();
  await bobSync.locator('#me-badge', { hasText: 'Bob B.' }).waitFor({ state: 'attached' });
  await bobSync.context().close();

  // 50 messages, then a fresh login opens the conversation.
  for (let i = 1; i <= 50; i++) await send(bob, `bulk message ${i}`);
  const bob3 = await device();
  const login3 = bob3.locator('#login-form');
  await login3.getByLabel('Username').fill('bob');
  await login3.getByLabel('Password', { exact: true }).fill('bob new device password');
  // bob3 is a new profile: it has no key, so it needs the file again.
  await bob3.locator('#login-import-box summary').click();
  await login3.getByLabel('Import public/private keys').setInputFiles({ name: 'nanochat-bob.json', mimeType: 'application/json', buffer: Buffer.from(keyFile) });
  await login3.getByLabel('Key file password').fill('bob file password');
  await login3.getByRole('button', { name: 'Log in' }).click();
  await bob3.locator('#screen-chat').waitFor();
  timings.login_key_file_ms = await loginTime(bob3);
  await openConversation(bob3, 'Alice & Bob');
  await message(bob3, 'bulk message 50').waitFor();
  const t = await pageTimings(bob3);
  timings.open_conversation_ms = t.open_conversation_ms;
  timings.open_conversation_messages = t.open_conversation_messages;
  assert.ok(t.open_conversation_messages >= 50, `only ${t.open_conversation_messages} messages in the first page`);
  // Paging back through history.
  const older = bob3.getByRole('button', { name: 'Load older messages' });
  if (await older.isVisible()) {
    // A re-render can take the button away under the click (seen on a
    // loaded machine): what counts is that the older message shows.
    await older.click({ timeout: 5000 }).catch(() => {});
    await message(bob3, 'the report').waitFor();
  }

  // A plain re-login on a device that holds the key (no sync needed).
  await alice2.getByRole('button', { name: 'Log out' }).click();
  await alice2.locator('#login-form').getByLabel('Username').fill('alice');
  await alice2.locator('#login-form').getByLabel('Password', { exact: true }).fill('alice key password');
  await alice2.locator('#login-form').getByRole('button', { name: 'Log in' }).click();
  await alice2.locator('#screen-chat').waitFor();
  timings.login_local_ms = await loginTime(alice2);

  // Carol deletes her account: she disappears from the member list.
  await carol.getByRole('button', { name: 'Account' }).click();
  await carol.getByLabel('Type your username to confirm').fill('carol');
  await carol.getByRole('button', { name: 'Delete my account' }).click();
  await carol.locator('#screen-start').waitFor();
  await openConversation(alice, 'Alice & Bob');
  await alice.waitForFunction(() => document.querySelectorAll('#member-list li').length === 3);

  // Owner deletes the conversation.
  await alice.locator('#delete-conv').click();
  await bob.locator('#conv-list button', { hasText: 'Alice & Bob' }).waitFor({ state: 'detached' });
  dave.stop();
  console.log('# timings', JSON.stringify(timings));
  noConsoleErrors();
});

test('a changed server key blocks the page', { timeout: 60_000 }, async () => {
  const page = await device();
  // Pretend this device pinned another key earlier.
  await page.evaluate((u) => localStorage.setItem('nanochat.pins', JSON.stringify({ [u]: '0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000' })), url);
  // The page connects to the server it used before by itself.
  await page.reload();
  await page.locator('#key-changed').waitFor();
  assert.equal(await page.locator('#screen-start').isVisible(), false);
  await shot(page, '07-server-key-changed');
});
