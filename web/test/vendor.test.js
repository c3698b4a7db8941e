// The committed web/vendor/argon2.js must be exactly what the pinned
// hash-wasm and esbuild produce, so nobody can slip in a hand-edited bundle.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './helpers.js';
import { bundleArgon2 } from '../tools/build-vendor.mjs';

test('vendor/argon2.js rebuilds to the same bytes', async () => {
  const committed = await readFile(path.join(ROOT, 'web/vendor/argon2.js'), 'utf8');
  assert.ok((await bundleArgon2()) === committed, 'web/vendor/argon2.js differs from a rebuild: run `npm run vendor` in web/ and commit');
});
