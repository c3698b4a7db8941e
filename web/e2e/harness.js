// What the browser tests share: the real `nanochat` binary on a loopback
// port, Debian's chromium driven by playwright-core, fresh profiles
// (devices), the Rust peer (examples/web_peer.rs), the command-line client
// and the page actions every test uses. Screenshots go to target/web-e2e/.
//
// Needs: the debug binaries and example (cargo build --bins --example
// web_peer; cargo test builds them), /usr/bin/chromium, npm ci in web/.
// NANOCHAT_BIN, NANOCHAT_CLIENT, NANOCHAT_PEER and CHROMIUM override the paths.

import { before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { ROOT } from '../test/helpers.js';

export const TARGET = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target');
export const BIN = process.env.NANOCHAT_BIN ?? path.join(TARGET, 'debug/nanochat');
const PEER = process.env.NANOCHAT_PEER ?? path.join(TARGET, 'debug/examples/web_peer');
const CLIENT = process.env.NANOCHAT_CLIENT ?? path.join(TARGET, 'debug/nanochat-client');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = path.join(ROOT, 'target/web-e2e');
export const DATA = mkdtempSync(path.join(tmpdir(), 'nanochat-web-e2e-'));

/** @type {import('node:child_process').ChildProcess} */
let server;
export let url = '';
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Record<string, number>} */
export const timings = {};

/** @param {string} name */
export function createUser(name) {
  return operatorToken(['user', 'create', name]);
}

/**
 * The operator resets a user (their key is gone; they complete again):
 * the new complete token.
 * @param {string} name
 */
export function resetUser(name) {
  return operatorToken(['user', 'reset', name]);
}

/**
 * The operator deletes a user.
 * @param {string} name
 */
export function deleteUser(name) {
  execFileSync(BIN, ['user', 'delete', name], { cwd: DATA, encoding: 'utf8' });
}

/** @param {string[]} args */
function operatorToken(args) {
  const out = execFileSync(BIN, args, { cwd: DATA, encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith('complete token: '));
  if (!line) throw new Error(`no token in: ${out}`);
  return line.slice('complete token: '.length);
}

/** Every Rust peer started, so that a failed test cannot leave one running
 * (its open stdin would keep this process alive). */
/** @type {Set<import('node:child_process').ChildProcess>} */
const peers = new Set();

/**
 * Starts `nanochat serve` on `listen` in DATA; resolves with its URL.
 * @param {string} listen
 * @returns {Promise<string>}
 */
function startServer(listen) {
  const child = spawn(BIN, ['serve', '--listen', listen, '--log-format', 'json'], { cwd: DATA, stdio: ['ignore', 'ignore', 'pipe'] });
  server = child;
  const lines = createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stderr) });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`nanochat serve exited with ${code}`)));
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line);
        if (entry.fields?.message === 'listening') resolve(`http://${entry.fields.address}`);
      } catch {
        // not JSON: ignore
      }
    });
  });
}

/** Stops the server (SIGTERM) and waits until it has exited. */
export async function stopServer() {
  const child = server;
  if (child.exitCode !== null) return;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

/** Starts the server again on the same address and data. */
export async function startServerAgain() {
  const again = await startServer(new URL(url).host);
  assert.equal(again, url);
}

/**
 * Registers the hooks that start the server and the browser before the
 * file's tests and stop them (and every peer) after.
 */
export function useServer() {
  before(async () => {
    if (!existsSync(BIN)) throw new Error(`no nanochat binary at ${BIN}: run \`cargo build\` first (or set NANOCHAT_BIN)`);
    if (!existsSync(CLIENT)) throw new Error(`no nanochat-client binary at ${CLIENT}: run \`cargo build\` first (or set NANOCHAT_CLIENT)`);
    if (!existsSync(PEER)) throw new Error(`no web_peer example at ${PEER}: run \`cargo build --example web_peer\` first (or set NANOCHAT_PEER)`);
    if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM)`);
    mkdirSync(SHOTS, { recursive: true });
    url = await startServer('127.0.0.1:0');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  // A failed test leaves a picture of every open page and what its status
  // line and toasts said, so a failure on CI can be read afterwards.
  afterEach(async (t) => {
    if (t.passed || !browser) return;
    let n = 0;
    for (const context of browser.contexts()) {
      for (const page of context.pages()) {
        n += 1;
        const file = path.join(SHOTS, `failed-${n}.png`);
        await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
        const said = await page
          .evaluate(() => [document.querySelector('#status')?.textContent ?? '', document.querySelector('#toasts')?.textContent ?? ''].join(' | '))
          .catch(() => '(page closed)');
        console.error(`failed test "${t.name}": page ${n} (${file}) says: ${said}`);
      }
    }
  });

  after(async () => {
    await browser?.close();
    for (const peer of peers) peer.kill('SIGTERM');
    server?.kill('SIGTERM');
    rmSync(DATA, { recursive: true, force: true });
  });
}

/**
 * A person on the command-line client (`nanochat-client`), with a home of
 * their own and the password of their key in a file.
 * @param {string} username
 * @param {string} password
 */
export function cliUser(username, password) {
  const home = mkdtempSync(path.join(DATA, `cli-${username}-`));
  const passwordFile = path.join(home, 'password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  /** @param {string[]} args */
  const run = (args) => spawnSync(CLIENT, ['--server', url, '--user', username, '--home', home, '--password-file', passwordFile, ...args], { encoding: 'utf8' });
  return {
    home,
    /** Runs a command that must succeed; its stdout. @param {string[]} args */
    ok(args) {
      const out = run(args);
      assert.equal(out.status, 0, `nanochat-client ${args.join(' ')} failed: ${out.stderr}`);
      return out.stdout;
    },
    /** Runs a command with --json that must succeed; its document. @param {string[]} args */
    json(args) {
      return JSON.parse(this.ok(['--json', ...args]));
    },
    /** Runs a command that must fail; its stderr. @param {string[]} args */
    fails(args) {
      const out = run(args);
      assert.notEqual(out.status, 0, `nanochat-client ${args.join(' ')} succeeded: ${out.stdout}`);
      return out.stderr;
    },
  };
}

/**
 * Starts the Rust-client user and returns a function that sends it one
 * command and resolves with its one-line JSON answer.
 * @param {string} username
 * @param {string} token
 */
export async function rustPeer(username, token) {
  const child = spawn(PEER, [url, username, token], { stdio: ['pipe', 'pipe', 'inherit'] });
  peers.add(child);
  child.on('exit', () => peers.delete(child));
  const lines = createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) });
  /** @type {((line: string) => void)[]} */
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () => new Promise((resolve) => waiting.push((line) => resolve(JSON.parse(line))));
  const ready = await next();
  assert.equal(ready.ready, true, JSON.stringify(ready));
  /** @param {object} command */
  const ask = async (command) => {
    const answer = next();
    /** @type {import('node:stream').Writable} */ (child.stdin).write(JSON.stringify(command) + '\n');
    const value = await answer;
    if (value.error) throw new Error(`web_peer: ${value.error}`);
    return value;
  };
  return { ask, stop: () => child.stdin?.end() };
}

/** Console errors and page errors of every page so far (see noConsoleErrors). */
/** @type {string[]} */
const problems = [];

/**
 * Asserts that no page logged a console error (a CSP violation or an
 * invalid CSP source among them) or threw since the last call, but for
 * those `allowed` matches (a test that stops the server expects refused
 * connections).
 * @param {RegExp} [allowed]
 */
export function noConsoleErrors(allowed = /$^/) {
  const found = problems.splice(0).filter((p) => !allowed.test(p));
  assert.deepEqual(found, [], 'console errors on the pages');
}

/**
 * A fresh browser profile (a device) with the page open and connected.
 * @param {{width: number, height: number}} [viewport]
 */
export async function device(viewport = { width: 1280, height: 800 }) {
  const page = await blankPage(viewport);
  await page.goto(url);
  await page.getByLabel('Server', { exact: true }).fill(url);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.locator('#screen-start').waitFor();
  return page;
}

/**
 * A fresh browser profile with nothing loaded yet (console errors
 * recorded, dialogs accepted).
 * @param {{width: number, height: number}} [viewport]
 */
export async function blankPage(viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  page.on('pageerror', (e) => {
    console.error('page error:', e);
    problems.push(`page error: ${e.message}`);
  });
  page.on('console', (m) => {
    // A refused request is the server's answer, shown to the person; the
    // browser logs its status line too. Anything else (a CSP violation,
    // an invalid CSP source, an exception) is a defect.
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(m.text());
  });
  return page;
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function shot(page, name) {
  // Form screens (account, login) scroll inside the page's main area: let
  // them grow for the picture so that nothing below the fold is missing.
  // The chat keeps its fixed layout, which is what a person sees.
  const grown = await page.evaluate(() => {
    if (!document.getElementById('screen-chat')?.hidden) return false;
    document.body.style.height = 'auto';
    /** @type {HTMLElement} */ (document.querySelector('main')).style.overflowY = 'visible';
    return true;
  });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  if (grown) {
    await page.evaluate(() => {
      document.body.style.height = '';
      /** @type {HTMLElement} */ (document.querySelector('main')).style.overflowY = '';
    });
  }
}

/** The phone viewport the tests use. */
export const PHONE = { width: 390, height: 844 };

/**
 * Screenshots at desktop size (`NAME-desktop.png`) and phone size
 * (`NAME-phone.png`), the page resized between them and back.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function shots(page, name) {
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.setViewportSize({ width: 1280, height: 800 });
  await shot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  await shot(page, `${name}-phone`);
  await page.setViewportSize(size);
}

/**
 * @param {import('playwright-core').Page} page
 * @returns {Promise<Record<string, number>>}
 */
export function pageTimings(page) {
  return page.evaluate(() => /** @type {any} */ (window).nanochat.state.timings);
}

/**
 * The page's login time, once the login has finished (the chat screen
 * shows before the conversations are loaded and the time is taken).
 * @param {import('playwright-core').Page} page
 */
export async function loginTime(page) {
  await page.waitForFunction(() => /** @type {any} */ (window).nanochat.state.timings.login_ms !== undefined);
  return (await pageTimings(page)).login_ms;
}

/**
 * Completes an account from the Complete form.
 * @param {import('playwright-core').Page} page
 * @param {{username: string, token: string, displayName: string, password: string, syncPassword?: string}} who
 */
export async function complete(page, who) {
  const form = page.locator('#complete-form');
  await form.getByLabel('Username').fill(who.username);
  await form.getByLabel('Token').fill(who.token);
  await form.getByLabel('Display name').fill(who.displayName);
  await form.getByLabel('Password', { exact: true }).fill(who.password);
  if (who.syncPassword) {
    await form.getByLabel('Advanced mode').check();
    await form.getByLabel('Store private key on server').check();
    await form.getByLabel('Sync password').fill(who.syncPassword);
  }
  await form.getByRole('button', { name: 'Complete' }).click();
  await page.locator('#screen-chat').waitFor();
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} text
 * @param {{name: string, mimeType: string, buffer: Buffer}} [file]
 */
export async function send(page, text, file) {
  const before = await page.locator('#message-list > li').count();
  await page.getByLabel('Message', { exact: true }).fill(text);
  if (file) await page.getByLabel('Attach file').setInputFiles(file);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('#message-list > li').length > n, before);
  // The list can also grow by a page of history arriving: wait for this one.
  if (text) await message(page, text.split('\n')[0]).last().waitFor();
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} text
 */
export function message(page, text) {
  return page.locator('#message-list > li', { hasText: text });
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} title
 */
export async function openConversation(page, title) {
  // On a phone the list is its own screen: go back to it first.
  if (await page.locator('#back').isVisible()) await page.locator('#back').click();
  await page.locator('#conv-list button', { hasText: title }).click();
  await page.locator('#conv-title', { hasText: title }).waitFor();
}

/**
 * Creates a conversation from the New conversation dialog.
 * @param {import('playwright-core').Page} page
 * @param {string} members comma-separated usernames
 * @param {string} [name]
 */
export async function createConversation(page, members, name) {
  if (await page.locator('#back').isVisible()) await page.locator('#back').click();
  await page.getByRole('button', { name: 'New conversation' }).click();
  const form = page.locator('#new-conv-form');
  await form.getByLabel('Members').fill(members);
  if (name) await form.getByLabel('Conversation name').fill(name);
  await form.getByRole('button', { name: 'Create' }).click();
  if (name) await page.locator('#conv-title', { hasText: name }).waitFor();
  else await page.locator('#new-conv-dialog').waitFor({ state: 'hidden' });
}

/**
 * Reloads a page: it connects to the server it used by itself, and shows
 * the login (or, with a kept session, the conversations).
 * @param {import('playwright-core').Page} page
 */
export async function reload(page) {
  await page.reload();
  await page.waitForFunction(() => ['screen-start', 'screen-chat'].some((id) => !document.getElementById(id)?.hidden));
}

