// The modules of web/js/ import each other without a cycle (ES modules
// tolerate one only while nothing of it is used at load), stay flat (the
// server embeds js/*.js only), and crypto.js re-exports only the public
// part of the crypto-*.js modules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers.js';
import * as c from '../js/crypto.js';

const JS = path.join(ROOT, 'web/js');

/** @returns {Map<string, string[]>} each module and the modules of js/ it imports or re-exports */
function importGraph() {
  /** @type {Map<string, string[]>} */
  const graph = new Map();
  for (const file of readdirSync(JS).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(path.join(JS, file), 'utf8');
    const deps = [...text.matchAll(/^(?:(?:import|export)\b[^;]*?\bfrom|import) '([^']+)'/gms)].map((m) => m[1]);
    for (const dep of deps) assert.ok(!dep.startsWith('./') || !dep.slice(2).includes('/'), `${file} imports ${dep}, not a module of js/`);
    graph.set(file, deps.filter((d) => d.startsWith('./')).map((d) => d.slice(2)));
  }
  return graph;
}

test('the modules of js/ import each other without a cycle', () => {
  const graph = importGraph();
  /** @type {Map<string, 'visiting' | 'done'>} */
  const seen = new Map();
  /** @type {string[]} */
  const cycles = [];
  /** @param {string} file @param {string[]} trail */
  const visit = (file, trail) => {
    if (seen.get(file) === 'visiting') {
      cycles.push([...trail.slice(trail.indexOf(file)), file].join(' -> '));
      return;
    }
    if (seen.get(file) === 'done') return;
    seen.set(file, 'visiting');
    for (const dep of graph.get(file) ?? []) {
      assert.ok(graph.has(dep), `${file} imports ./${dep}, which js/ lacks`);
      visit(dep, [...trail, file]);
    }
    seen.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});

test('every module of js/ is loaded by the page (app.js) or by crypto.js', () => {
  const graph = importGraph();
  const reached = new Set();
  /** @param {string} file */
  const walk = (file) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const dep of graph.get(file) ?? []) walk(dep);
  };
  walk('app.js');
  walk('crypto.js');
  assert.deepEqual([...graph.keys()].filter((f) => !reached.has(f)), []);
});

test('crypto.js keeps the helpers the crypto-*.js modules share out of its face', () => {
  for (const internal of ['subtle', 'checkIv', 'lengthPrefixed', 'byUsernameBytes', 'checkRevision', 'sortedMembers', 'wrapForMembers', 'wireWrappedKeys', 'checkOwnEntry', 'parseRecipients', 'signerOf', 'uniqueKeepingLast']) {
    assert.ok(!(internal in c), `crypto.js exports ${internal}`);
  }
  for (const name of ['sealRequest', 'sealMessage', 'openMessage', 'sealName', 'openName', 'encryptPrivateKeyRing', 'openKeyFileRing', 'verifyKeyHistory', 'keyInChain', 'EventReceiver', 'CryptoError', 'TAG_LEN']) {
    assert.ok(name in c, `crypto.js lacks ${name}`);
  }
});
