// Links, times and grouping as messages show them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dayLabel, groups, linkify } from '../js/format.js';

test('links are http and https only, without the sentence around them', () => {
  assert.deepEqual(linkify('see https://example.org/a?b=1, then http://x.test.'), [
    'see ',
    { href: 'https://example.org/a?b=1', text: 'https://example.org/a?b=1' },
    ', then ',
    { href: 'http://x.test/', text: 'http://x.test' },
    '.',
  ]);
  for (const bad of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'data:text/html,hi', 'file:///etc/passwd', 'ftp://x.test', '<a href="javascript:x">']) {
    assert.deepEqual(linkify(bad), [bad], bad);
  }
  assert.deepEqual(linkify('no links here'), ['no links here']);
  assert.deepEqual(linkify(''), []);
});

test('messages of one sender a few minutes apart share a header', () => {
  const a = { sender: 'alice', created_at: '2026-12-06T10:00:00Z' };
  assert.equal(groups(a, { sender: 'alice', created_at: '2026-12-06T10:04:00Z' }), true);
  assert.equal(groups(a, { sender: 'alice', created_at: '2026-12-06T10:06:00Z' }), false);
  assert.equal(groups(a, { sender: 'bob', created_at: '2026-12-06T10:01:00Z' }), false);
  assert.equal(groups(null, a), false);
});

test('day separators say Today and Yesterday', () => {
  const now = new Date('2026-12-06T12:00:00');
  assert.equal(dayLabel(new Date('2026-12-06T08:00:00').toISOString(), now), 'Today');
  assert.equal(dayLabel(new Date('2026-12-05T23:00:00').toISOString(), now), 'Yesterday');
  assert.match(dayLabel(new Date('2026-11-20T08:00:00').toISOString(), now), /2026/);
});
