// Shared by the unit tests: the conformance vectors and fixture keys of the
// Rust core, read from the repository.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { b64decode, hexDecode } from '../js/crypto.js';

/** The repository root (web/ is one level down). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A vector file from conformance/vectors/.
 * @param {string} name
 * @returns {any}
 */
export function vector(name) {
  return JSON.parse(readFileSync(path.join(ROOT, 'conformance/vectors', name), 'utf8'));
}

/**
 * The PKCS#8 DER of a fixture PEM (path relative to the repository root).
 * @param {string} rel
 */
export function pemDer(rel) {
  const text = readFileSync(path.join(ROOT, rel), 'utf8');
  const body = text.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  return b64decode(body);
}

/**
 * A RandomSource that hands out the given byte strings in order and fails
 * on any unexpected draw, so a changed draw order is caught.
 * @param {...string} hexes
 * @returns {(n: number) => Uint8Array<ArrayBuffer>}
 */
export function replay(...hexes) {
  const queue = hexes.map((h) => hexDecode(h));
  return (n) => {
    const next = queue.shift();
    if (!next || next.length !== n) throw new Error(`unexpected draw of ${n} bytes`);
    return next;
  };
}
