// web/gen/api.d.ts must be what openapi-typescript makes of api.yml today.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './helpers.js';
import { apiDts } from '../tools/gen-api.mjs';

test('gen/api.d.ts matches api.yml', async () => {
  const committed = await readFile(path.join(ROOT, 'web/gen/api.d.ts'), 'utf8');
  assert.ok((await apiDts()) === committed, 'web/gen/api.d.ts is stale: run `node tools/gen-api.mjs` in web/ and commit');
});
