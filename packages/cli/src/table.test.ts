import { describe, expect, it } from 'vitest';
import { bytes, duration, tableLines, useColour } from './table.js';

const tty = { isTTY: true } as NodeJS.WriteStream;
const pipe = { isTTY: false } as NodeJS.WriteStream;
// eslint-disable-next-line no-control-regex
const strip = (s: string) => s.replace(/\x1b\[\d+m/g, '');

describe('colour and tables', () => {
  it('colours only a terminal, and never when NO_COLOR is set (to anything but empty) or TERM is dumb', () => {
    expect(useColour(tty, {})).toBe(true);
    expect(useColour(pipe, {})).toBe(false);
    expect(useColour(tty, { NO_COLOR: '1' })).toBe(false);
    expect(useColour(tty, { NO_COLOR: '' })).toBe(true);
    expect(useColour(tty, { TERM: 'dumb' })).toBe(false);
  });

  it('aligns columns with or without colour, and escapes what a cell holds', () => {
    const rows = [
      ['1', 'a', 'DONE', 'x'],
      ['22', 'bb\x1b]0;evil\x07', 'ERROR_FATAL', 'y'],
    ];
    const plain = tableLines(['ID', 'NAME', 'STATUS', 'LAST'], rows, { statusColumn: 2 });
    const coloured = tableLines(['ID', 'NAME', 'STATUS', 'LAST'], rows, { statusColumn: 2, colour: true });
    expect(plain.join('\n')).not.toContain('\x1b');
    expect(coloured[1]).toContain('\x1b[32mDONE');
    expect(coloured[2]).toContain('\x1b[31mERROR_FATAL');
    expect(coloured.map(strip)).toEqual(plain);
    expect(plain[2]).toBe('22  bb\\x1b]0;evil\\x07  ERROR_FATAL  y');
    const at = plain[0]!.indexOf('STATUS');
    expect(plain.map((l) => l.slice(at, at + 1))).toEqual(['S', 'D', 'E']);
  });

  it('formats sizes and durations', () => {
    expect(bytes(null)).toBe('-');
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(duration(250)).toBe('250 ms');
    expect(duration(83_000)).toBe('1m 23s');
    expect(duration(3_720_000)).toBe('1h 2m');
  });
});
