// How messages read at a glance: links found in text (http and https
// only), short times with day separators, and which messages group under
// one sender header. Pure functions, tested in test/format.test.js.

/** Where a link may point: nothing but the web (no javascript:, data:, file:). */
const LINK = /\bhttps?:\/\/[^\s<>"']+/giu;

/** Characters that end a sentence more often than a URL. */
const TRAILING = /[.,;:!?)\]}'"]+$/u;

/**
 * Splits text into plain runs and links.
 * @param {string} text
 * @returns {Array<string | {href: string, text: string}>}
 */
export function linkify(text) {
  /** @type {Array<string | {href: string, text: string}>} */
  const out = [];
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    let found = match[0];
    const trail = TRAILING.exec(found);
    if (trail) found = found.slice(0, found.length - trail[0].length);
    let href;
    try {
      const url = new URL(found);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
      href = url.href;
    } catch {
      continue;
    }
    const start = /** @type {number} */ (match.index);
    if (start > at) out.push(text.slice(at, start));
    out.push({ href, text: found });
    at = start + found.length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

/**
 * The time of day, short ("14:05" or "2:05 PM" as the locale writes it).
 * @param {string} iso
 */
export function shortTime(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' });
}

/**
 * The full date and time, for a tooltip.
 * @param {string} iso
 */
export function fullTime(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });
}

/**
 * The local calendar day of a time, as a comparable key.
 * @param {string} iso
 */
export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/**
 * A day separator's label: "Today", "Yesterday" or the date.
 * @param {string} iso
 * @param {Date} [now]
 */
export function dayLabel(iso, now = new Date()) {
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (dayKey(iso) === dayKey(now.toISOString())) return 'Today';
  if (dayKey(iso) === dayKey(yesterday.toISOString())) return 'Yesterday';
  return new Date(iso).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
}

/** Messages of one sender this close together share a header. */
export const GROUP_WINDOW_MS = 5 * 60 * 1000;

/**
 * Whether `next` groups under `previous`'s header: same sender, same day,
 * within GROUP_WINDOW_MS.
 * @param {{sender: string, created_at: string} | null | undefined} previous
 * @param {{sender: string, created_at: string}} next
 */
export function groups(previous, next) {
  if (!previous || previous.sender !== next.sender) return false;
  if (dayKey(previous.created_at) !== dayKey(next.created_at)) return false;
  const gap = Date.parse(next.created_at) - Date.parse(previous.created_at);
  return gap >= 0 && gap <= GROUP_WINDOW_MS;
}
