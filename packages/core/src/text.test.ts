import { describe, expect, it } from 'vitest';
import { cleanText, isCleanText, REPLACEMENT_CHAR } from './text.js';

describe('cleanText', () => {
  it('replaces NUL and unpaired surrogates with U+FFFD and keeps everything else', () => {
    expect(cleanText('hello\u0000world\n')).toBe(`hello${REPLACEMENT_CHAR}world\n`);
    expect(cleanText('a\uD800b')).toBe(`a${REPLACEMENT_CHAR}b`);
    expect(cleanText('a\uDC00b\uD83D')).toBe(`a${REPLACEMENT_CHAR}b${REPLACEMENT_CHAR}`);
    expect(cleanText('pair \uD83D\uDE00 kept, é ✓')).toBe('pair \uD83D\uDE00 kept, é ✓');
    expect(cleanText('\u0000\u0000')).toBe(REPLACEMENT_CHAR.repeat(2));
  });

  it('isCleanText accepts exactly what cleanText leaves alone', () => {
    for (const s of ['', 'plain', '\uD83D\uDE00', 'tab\tnew\nline\u0001']) expect(isCleanText(s)).toBe(true);
    for (const s of ['\u0000', 'x\uD800', '\uDFFFx', '\uDE00\uD83D']) {
      expect(isCleanText(s)).toBe(false);
      expect(isCleanText(cleanText(s))).toBe(true);
    }
  });
});
