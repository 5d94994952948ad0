// Error grouping for `jobmon workflow errors`: failures whose messages differ only in the numbers,
// hex, paths, ids and quoted values they carry are one cause. normaliseMessage() replaces each of
// those with a placeholder; the server groups failures by (error class, normalised message).

/** Longest normalised message kept as a group's key and pattern. */
export const ERROR_PATTERN_MAX = 500;

const RULES: [RegExp, string][] = [
  // Quoted values first, so a path or number inside quotes is one value.
  [/'[^'\n]*'/g, "'<q>'"],
  [/"[^"\n]*"/g, '"<q>"'],
  [/`[^`\n]*`/g, '`<q>`'],
  // UUIDs and similar ids before the hex and number rules cut them apart.
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>'],
  // URLs and paths: absolute, home-relative, ./ and ../, Windows drives.
  [/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>'],
  [/(?:~|\.{1,2}|\b[A-Za-z]:)?(?:[/\\][^\s'"`/\\:,;()[\]{}<>]+)+[/\\]?/g, '<path>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  // Long runs of hex with a digit in them (hashes, addresses, container ids).
  [/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '<hex>'],
  // Numbers, also glued to letters (task_17, node042, 12GB), signed and decimal.
  [/[-+]?\d+(?:[.,:]\d+)*/g, '<n>'],
  [/\s+/g, ' '],
];

/** The message with its variable parts replaced: `<q>`, `<id>`, `<url>`, `<path>`, `<hex>`, `<n>`. */
export function normaliseMessage(message: string): string {
  let s = message;
  for (const [re, to] of RULES) s = s.replace(re, to);
  s = s.trim();
  return s.length > ERROR_PATTERN_MAX ? `${s.slice(0, ERROR_PATTERN_MAX)}…` : s;
}
