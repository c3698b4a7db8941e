// What the page tells a person when something fails: one sentence in
// their words, with what to do, for every error code of api.yml (and the
// page's own: unreachable, invalid_response, invalid_event). The code
// follows in small print for support, never instead of the sentence.

/**
 * Every error code of api.yml's ErrorCode, and the page's own, to a
 * sentence. test/errors.test.js checks that no api.yml code is missing.
 * @type {Record<string, string>}
 */
export const SENTENCES = {
  bad_envelope: 'The server could not read this request. Reload the page; if it keeps happening, tell your operator.',
  undecryptable: 'The server could not decrypt this request, so its key may have changed. Reload the page and compare the server fingerprint with your operator.',
  too_large: 'This is larger than the server accepts: send less at once (a shorter text, a smaller file, fewer members).',
  rate_limited: 'Too many attempts in a short time: wait a minute, then try again.',
  unavailable: 'The server is busy or starting up: try again in a moment.',
  session_required: 'The server refused the live connection: reload the page.',
  bad_request: 'The server refused this request as malformed. Reload the page; if it keeps happening, tell your operator.',
  unknown_type: 'The server does not know this kind of request (it may run an older NanoChat): tell your operator.',
  stale: "This device's clock is too far from the server's: set the clock right, then try again.",
  replayed: 'The server already received this request: reload the page to see where things stand.',
  unknown_user: 'No such user (or they have not activated their account yet): check the spelling with them.',
  bad_signature: "The server did not accept this device's signature: your key may have been replaced on another device. Log in again.",
  invalid_token: 'The complete token is wrong, used or expired: ask your operator for a new one (nanochat user reset).',
  invalid_key: 'The server refused this key: it is malformed or of a size the server does not accept.',
  wrong_password: 'Wrong sync password, or no copy of your key is stored on the server: try again, or use a key file.',
  not_found: 'Not found: it was deleted, or you are no longer a member.',
  forbidden: 'You are not allowed to do that (only the owner of the conversation, or the sender of the message, may).',
  conflict: 'Someone changed this at the same time: the page shows the latest now; try again.',
  members_mismatch: 'The members changed while you were writing: the page has the new list now; send again.',
  internal: 'The server failed unexpectedly: try again; if it keeps happening, tell your operator.',
  unreachable: 'Cannot reach the server: check your connection, then try again.',
  invalid_response: "The server's answer did not verify, so it may not be your server: nothing was changed on this device.",
  invalid_event: 'The live connection sent something that did not verify: the page reconnects.',
};

/**
 * Bytes as people read them: "1.9 MB", "700 KB", "512 bytes".
 * @param {number} bytes
 */
export function humanSize(bytes) {
  if (bytes < 1000) return `${bytes} bytes`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 100) / 10} KB`.replace('.0 ', ' ');
  return `${Math.round(bytes / 100_000) / 10} MB`.replace('.0 ', ' ');
}

/**
 * What went wrong, for the person: a sentence and, when there is one, the
 * stable code for support.
 * @param {unknown} e
 * @param {{username?: string, limitBytes?: number}} [context] what the failed action was about
 * @returns {{sentence: string, code: string | null}}
 */
export function describe(e, context = {}) {
  const code = e && typeof e === 'object' && 'code' in e && typeof e.code === 'string' ? e.code : null;
  const isApi = e instanceof Error && e.name === 'ApiError';
  if (isApi && code) {
    if ((code === 'unknown_user' || code === 'not_found') && context.username) {
      return { sentence: `No user ${context.username} (or ${context.username} has not activated their account yet): check the spelling with them.`, code };
    }
    if (code === 'too_large' && context.limitBytes) {
      return { sentence: `That is too large: this server accepts files up to ${humanSize(context.limitBytes)}.`, code };
    }
    return { sentence: SENTENCES[code] ?? `The server refused this (${code}).`, code };
  }
  if (e instanceof Error) {
    if (code === 'wrong_password') return { sentence: 'Wrong password of the key: it is the one you chose when you created the key (or exported the file).', code };
    // The page's own errors are sentences already.
    return { sentence: e.message, code: code && code !== 'crypto' ? code : null };
  }
  return { sentence: String(e), code: null };
}
