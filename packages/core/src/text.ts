// Text that crosses the API boundary. PostgreSQL refuses NUL in text columns and SQLite stores a
// lone UTF-16 surrogate as invalid UTF-8, so neither may reach the database. Text captured from a
// task (output tails, error messages, cleanup notes) is cleaned: losing a byte of a log is better
// than losing the report. Text that identifies something (names, commands, args) is refused instead
// (isCleanText), because rewriting it would silently change the identity the user declared.

/** Each NUL and each unpaired surrogate becomes this one character, U+FFFD REPLACEMENT CHARACTER. */
export const REPLACEMENT_CHAR = '\uFFFD';

const UNSAFE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const UNSAFE_ONE = new RegExp(UNSAFE.source);

/** Replace NUL and unpaired surrogates with U+FFFD; every other character (pairs included) is kept. */
export function cleanText(s: string): string {
  return UNSAFE_ONE.test(s) ? s.replace(UNSAFE, REPLACEMENT_CHAR) : s;
}

/** True when `s` holds neither NUL nor an unpaired surrogate, so a database stores it as given. */
export function isCleanText(s: string): boolean {
  return !UNSAFE_ONE.test(s);
}

/** Seconds as a short duration for people: `12s`, `4m 10s`, `1h 05m`. */
export function formatDuration(seconds: number): string {
  const t = Math.round(seconds);
  if (t >= 3600) return `${Math.floor(t / 3600)}h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m ${String(t % 60).padStart(2, '0')}s`;
  return `${t}s`;
}
