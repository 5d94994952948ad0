// Text from tasks and the database (names, output tails, error messages) is untrusted: a task could
// print terminal escapes that set the window title, clear the screen or fake a "workflow ended DONE"
// line. Everything the CLI prints of it goes through printable() (human output) or jsonLine() (--json).

// C0 controls but \t and \n, DEL, C1 controls (U+0080–U+009F: a terminal may read U+009B as CSI),
// and the bidi embeddings, overrides and isolates that reorder what is shown around them.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// What JSON.stringify leaves raw yet a terminal may act on (it escapes only C0): DEL, C1, the bidi
// controls, and U+2028/U+2029 (line breaks to JavaScript before ES2019 and to some viewers).
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

/** `s` safe to print: \n and \t kept, CRLF read as a line break, other controls shown as `\x1b` / `\u202e`. */
export function printable(s: string): string {
  return s
    .replace(/\r\n/g, '\n')
    .replace(UNSAFE, (c) => (c.charCodeAt(0) <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/** JSON.stringify, with the characters it leaves raw escaped as \uXXXX: the same JSON value, inert on a terminal. */
export function jsonLine(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(JSON_UNSAFE, (c) => `\\u${hex(c, 4)}`);
}
