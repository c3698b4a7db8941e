// Every error code of api.yml has a sentence a person understands, and the
// contextual ones name what they are about.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiError } from '../js/api.js';
import { SENTENCES, describe, humanSize } from '../js/errors.js';
import { ROOT } from './helpers.js';

/** The enum of api.yml's ErrorCode schema. */
function apiCodes() {
  const text = readFileSync(path.join(ROOT, 'api.yml'), 'utf8');
  const schema = text.slice(text.indexOf('\n    ErrorCode:'));
  const list = schema.slice(schema.indexOf('      enum:\n') + '      enum:\n'.length);
  const codes = [];
  for (const line of list.split('\n')) {
    const m = /^ {8}- ([a-z_]+)$/.exec(line);
    if (!m) break;
    codes.push(m[1]);
  }
  return codes;
}

test('every api.yml error code has a sentence, with what to do', () => {
  const codes = apiCodes();
  assert.ok(codes.length >= 20, `read only ${codes.length} codes from api.yml`);
  for (const code of codes) {
    const sentence = SENTENCES[code];
    assert.ok(sentence, `no sentence for ${code}`);
    assert.match(sentence, /^[A-Z].*[.)]$/, `${code}: one sentence, capitalised and closed`);
    assert.doesNotMatch(sentence, /_/, `${code}: no protocol words in the sentence`);
    const { sentence: shown, code: small } = describe(new ApiError(code, 'the server message'));
    assert.equal(shown, sentence);
    assert.equal(small, code, 'the code follows in small print');
  }
});

test('sentences name what they are about', () => {
  assert.equal(describe(new ApiError('unknown_user', 'x'), { username: 'zed' }).sentence, 'No user zed (or zed has not activated their account yet): check the spelling with them.');
  assert.match(describe(new ApiError('too_large', 'x'), { limitBytes: 8_388_592 }).sentence, /up to 8\.4 MB/);
  assert.equal(describe(new ApiError('unreachable', 'cannot reach the server (Failed to fetch)')).sentence, SENTENCES.unreachable);
  // The page's own sentences pass through; an unknown code never shows alone.
  assert.equal(describe(new Error('Write a message or attach a file.')).sentence, 'Write a message or attach a file.');
  assert.match(describe(new ApiError('brand_new_code', 'x')).sentence, /brand_new_code/);
});

test('sizes read as people say them', () => {
  assert.equal(humanSize(512), '512 bytes');
  assert.equal(humanSize(70_027), '70 KB');
  assert.equal(humanSize(2_000_000), '2 MB');
  assert.equal(humanSize(20_971_520), '21 MB');
  assert.equal(humanSize(1_900_000), '1.9 MB');
});
