// The web app a team keeps open all day, on a desktop (1280x800) and a
// phone (390x844): unread counts and the title, the New messages divider,
// Enter to send, the phone's two screens, staying logged in only by
// choice, image previews and safe links, notifications only after opt-in,
// axe-core on every screen at both sizes, and the first load's weight.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../test/helpers.js';
import { PHONE, blankPage, complete, createConversation, createUser, device, message, noConsoleErrors, openConversation, reload, send, shots, url, useServer } from './harness.js';

useServer();

const AXE = readFileSync(path.join(ROOT, 'web/node_modules/axe-core/axe.min.js'), 'utf8');

/** A 24x16 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAABgAAAAQCAIAAACDRijCAAAAGklEQVR4nGNQCT9KFcQwatCoQaMGjRpEGQIAUyrgEOlLctMAAAAASUVORK5CYII=', 'base64');

/**
 * Runs axe-core on the page as it is, at desktop and phone size, and
 * saves both screenshots: no violation is allowed.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
async function accessible(page, name) {
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  for (const viewport of [{ width: 1280, height: 800 }, PHONE]) {
    await page.setViewportSize(viewport);
    // Evaluated through the DevTools protocol: the page's CSP is untouched.
    if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
    const result = await page.evaluate(async () => {
      const r = await /** @type {any} */ (window).axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((/** @type {any} */ v) => `${v.id}: ${v.help} (${v.nodes.map((/** @type {any} */ n) => n.target.join(' ')).join('; ')})`);
    });
    assert.deepEqual(result, [], `axe-core on ${name} at ${viewport.width}x${viewport.height}`);
  }
  await page.setViewportSize(size);
  await shots(page, name);
}

/**
 * Replaces the Notification API and the page's visibility with recorders
 * the test drives (before any page script runs).
 * @param {import('playwright-core').Page} page
 */
async function fakeNotifications(page) {
  await page.addInitScript(() => {
    const w = /** @type {any} */ (window);
    w.__notes = [];
    w.__asked = 0;
    w.__hidden = false;
    class FakeNotification {
      static permission = 'default';
      static async requestPermission() {
        w.__asked += 1;
        FakeNotification.permission = 'granted';
        return 'granted';
      }
      /** @param {string} title @param {NotificationOptions} [options] */
      constructor(title, options = {}) {
        w.__notes.push({ title, body: options.body ?? '' });
      }
    }
    w.Notification = FakeNotification;
    Object.defineProperty(document, 'visibilityState', { get: () => (w.__hidden ? 'hidden' : 'visible') });
    Object.defineProperty(document, 'hidden', { get: () => w.__hidden });
  });
}

/**
 * @param {import('playwright-core').Page} page
 * @param {boolean} hidden
 */
async function setHidden(page, hidden) {
  await page.evaluate((value) => {
    /** @type {any} */ (window).__hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

test('a day of use on a desktop and a phone', { timeout: 300_000 }, async () => {
  const tokens = { alice: createUser('alice'), bob: createUser('bob') };

  // The first load weighs less than 300 KB (every response body counted).
  const first = await blankPage();
  /** @type {Promise<number>[]} */
  const bodies = [];
  first.on('response', (r) => bodies.push(r.body().then((b) => b.length, () => 0)));
  await first.goto(url);
  await first.waitForLoadState('networkidle');
  const bytes = (await Promise.all(bodies)).reduce((a, b) => a + b, 0);
  console.log(`# first load: ${bytes} bytes`);
  assert.ok(bytes > 50_000 && bytes < 300_000, `first load ${bytes} bytes`);
  await accessible(first, '20-server');
  await first.getByRole('button', { name: 'Connect' }).click();
  await first.locator('#screen-start').waitFor();
  await accessible(first, '21-start');
  await first.context().close();

  const alice = await blankPage();
  await fakeNotifications(alice);
  await alice.goto(url);
  await alice.getByRole('button', { name: 'Connect' }).click();
  await alice.locator('#screen-start').waitFor();
  await complete(alice, { username: 'alice', token: tokens.alice, displayName: 'Alice', password: 'alice key password' });
  await alice.locator('#conv-empty', { hasText: 'No conversations yet' }).waitFor();
  await accessible(alice, '22-empty');
  const bob = await device(PHONE);
  await complete(bob, { username: 'bob', token: tokens.bob, displayName: 'Bob', password: 'bob key password' });

  await alice.getByRole('button', { name: 'New conversation' }).click();
  await alice.locator('#new-conv-dialog').waitFor();
  await accessible(alice, '23-new-conversation');
  await alice.getByRole('button', { name: 'Cancel' }).click();
  await createConversation(alice, 'bob', 'One');
  await createConversation(alice, 'bob', 'Two');
  await alice.locator('#messages-empty', { hasText: 'No messages yet' }).waitFor();

  // Enter sends exactly the typed text; Shift+Enter is a line break.
  await openConversation(alice, 'One');
  const box = alice.getByLabel('Message', { exact: true });
  await box.focus();
  assert.equal(await alice.evaluate(() => document.activeElement?.id), 'message-text', 'focus is in the message box');
  await box.pressSequentially('line one');
  await box.press('Shift+Enter');
  await box.pressSequentially('line two');
  await box.press('Enter');
  await message(alice, 'line two').waitFor();
  assert.equal(await message(alice, 'line two').locator('.text').textContent(), 'line one\nline two');
  assert.equal(await box.inputValue(), '', 'the box is empty after Enter');

  // The phone: the list is one screen, the conversation another, with the
  // message box in view without scrolling; Back returns to the list.
  assert.equal(await bob.locator('#conv-view').isVisible(), false);
  await accessible(bob, '24-phone-list');
  await bob.locator('#conv-list button', { hasText: 'One' }).click();
  await bob.locator('#conv-title', { hasText: 'One' }).waitFor();
  assert.equal(await bob.locator('#conv-list').isVisible(), false, 'the list is hidden');
  const composer = await bob.locator('#message-text').boundingBox();
  assert.ok(composer && composer.y + composer.height <= PHONE.height, `message box at ${JSON.stringify(composer)}`);
  assert.equal(await message(bob, 'line two').locator('.text').textContent(), 'line one\nline two');
  await accessible(bob, '25-phone-conversation');
  await bob.getByRole('button', { name: 'Back to the conversation list' }).click();
  await bob.locator('#conv-list').waitFor();

  // Unread: Bob writes in Two while Alice reads One: a count, bold, in the
  // accessible name and the title; it clears once she reads it.
  await bob.locator('#conv-list button', { hasText: 'Two' }).click();
  await send(bob, 'news in two');
  const two = alice.locator('#conv-list button', { hasText: 'Two' });
  await two.locator('[data-unread="1"]').waitFor();
  await alice.getByRole('button', { name: /^Two\s*, 1 unread/ }).waitFor();
  assert.equal(await alice.title(), '(1) NanoChat');
  await accessible(alice, '26-unread');
  await openConversation(alice, 'Two');
  await message(alice, 'news in two').waitFor();
  await two.locator('[data-unread]').waitFor({ state: 'detached' });
  assert.equal(await alice.title(), 'NanoChat');

  // The divider: where Alice left off in One.
  await bob.getByRole('button', { name: 'Back to the conversation list' }).click();
  await bob.locator('#conv-list button', { hasText: 'One' }).click();
  await send(bob, 'first unread in one');
  await send(bob, 'second unread in one');
  await alice.locator('#conv-list button', { hasText: 'One' }).locator('[data-unread="2"]').waitFor();
  await openConversation(alice, 'One');
  const order = await alice.$$eval('#message-list > li', (items) => items.map((li) => (li.classList.contains('divider') ? 'DIVIDER' : li.querySelector('.text')?.textContent ?? '')));
  const divider = order.indexOf('DIVIDER');
  assert.ok(divider > 0 && order[divider + 1] === 'first unread in one', JSON.stringify(order));

  // An image shows as a preview; links are clickable and safe.
  await bob.getByLabel('Attach file').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG });
  await send(bob, 'a picture, see https://example.org/page and javascript:alert(1)');
  const picture = message(alice, 'a picture');
  await alice.waitForFunction(() => {
    const img = /** @type {HTMLImageElement | null} */ (document.querySelector('img.preview'));
    return Boolean(img && img.complete && img.naturalWidth === 24);
  });
  assert.match(/** @type {string} */ (await picture.locator('img.preview').getAttribute('src')), /^blob:/);
  const link = picture.locator('a');
  assert.equal(await link.count(), 1, 'one link: the https one');
  assert.equal(await link.getAttribute('href'), 'https://example.org/page');
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  await accessible(alice, '27-conversation');

  // Notifications: nothing before the opt-in (not even the permission
  // prompt); after it, "New message from Bob" while the page is hidden,
  // with the text only after the second opt-in.
  await setHidden(alice, true);
  await send(bob, 'while hidden, before opting in');
  await alice.waitForTimeout(500);
  assert.deepEqual(await alice.evaluate(() => [/** @type {any} */ (window).__asked, /** @type {any} */ (window).__notes.length]), [0, 0]);
  await setHidden(alice, false);
  await alice.getByRole('button', { name: 'Account' }).click();
  await accessible(alice, '28-account');
  await alice.getByLabel('Notify me of new messages').check();
  await alice.waitForFunction(() => /** @type {any} */ (window).__asked === 1);
  await setHidden(alice, true);
  await send(bob, 'while hidden, after opting in');
  await alice.waitForFunction(() => /** @type {any} */ (window).__notes.length === 1);
  assert.deepEqual(await alice.evaluate(() => /** @type {any} */ (window).__notes[0]), { title: 'New message from Bob', body: '' });
  await alice.getByLabel('Show the message text in notifications').check();
  await send(bob, 'with the text shown');
  await alice.waitForFunction(() => /** @type {any} */ (window).__notes.length === 2);
  assert.deepEqual(await alice.evaluate(() => /** @type {any} */ (window).__notes[1]), { title: 'New message from Bob', body: 'with the text shown' });
  await setHidden(alice, false);
  await alice.getByRole('button', { name: 'Back to conversations' }).click();

  // Staying logged in only by choice: with it, a reload lands in the
  // conversation without a password; Lock forgets it; without it, a
  // reload asks for the password.
  await alice.getByRole('button', { name: 'Log out' }).click();
  const login = alice.locator('#login-form');
  await login.getByLabel('Password', { exact: true }).fill('alice key password');
  await login.getByLabel('Keep me logged in on this device').check();
  await login.getByRole('button', { name: 'Log in' }).click();
  await alice.locator('#screen-chat').waitFor();
  await openConversation(alice, 'One');
  await reload(alice);
  await alice.locator('#conv-title', { hasText: 'One' }).waitFor();
  await message(alice, 'with the text shown').waitFor();
  await alice.getByRole('button', { name: 'Lock' }).click();
  await alice.locator('#screen-start').waitFor();
  await accessible(alice, '29-locked');
  await reload(alice);
  await alice.locator('#login-form').waitFor();
  assert.equal(await alice.locator('#screen-chat').isVisible(), false, 'Lock forgot the kept session');
  await reload(bob);
  await bob.locator('#login-form').waitFor();
  assert.equal(await bob.locator('#screen-chat').isVisible(), false, 'without the choice, a reload asks for the password');

  noConsoleErrors();
});
