// Aligned tables for human output, with status colours on a terminal. Colour is used only when
// stdout is a TTY, NO_COLOR is unset or empty (https://no-color.org) and TERM is not `dumb`; the
// escapes wrap a cell after it is padded, so columns line up with or without them. Cells are
// passed through printable() here: callers hand in text from the database as it is.

import { printable } from './text.js';

export function useColour(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!stream.isTTY) return false;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  return env['TERM'] !== 'dumb';
}

const GREEN = '32';
const RED = '31';
const YELLOW = '33';
const DIM = '2';

/** The colour a status is shown in: done green, failed red, in flight yellow; others plain. */
function statusColour(status: string): string | undefined {
  if (status === 'DONE') return GREEN;
  if (/ERROR|FAILED|FATAL|KILLED|HALTED|ABORTED/.test(status)) return RED;
  if (/RUNNING|QUEUED|LAUNCHED|INSTANTIATING|REGISTERING|RESUME|TRIAGING|BOUND/.test(status)) return YELLOW;
  return undefined;
}

export function paint(text: string, code: string | undefined, colour: boolean): string {
  return colour && code !== undefined ? `\x1b[${code}m${text}\x1b[0m` : text;
}

export const paintStatus = (text: string, status: string, colour: boolean) => paint(text, statusColour(status), colour);
export const paintDim = (text: string, colour: boolean) => paint(text, DIM, colour);

/**
 * Lines of an aligned table: the header, then one line per row; two spaces between columns, the
 * last column not padded. `statusColumn` names the column whose value picks the colour of its cell.
 */
export function tableLines(
  header: string[],
  rows: string[][],
  opts: { colour?: boolean; statusColumn?: number } = {},
): string[] {
  const all = [header, ...rows].map((r) => r.map(printable));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r, rowIndex) =>
    r
      .map((c, i) => {
        const cell = i === r.length - 1 ? c : c.padEnd(widths[i]!);
        return rowIndex > 0 && i === opts.statusColumn ? paintStatus(cell, c, opts.colour ?? false) : cell;
      })
      .join('  '),
  );
}

/** 1536 → "1.5 KiB"; null → "-". */
export function bytes(n: number | null): string {
  if (n === null) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** 83_000 → "1m 23s"; null → "-". */
export function duration(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.round(ms / 1000);
  if (s < 60) return ms < 1000 ? `${ms} ms` : `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** Local time, minutes: "2026-12-02 15:04". */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Local time with seconds: "2026-12-02 15:04:05". */
export function localTimeSeconds(ms: number): string {
  const d = new Date(ms);
  return `${localTime(ms)}:${String(d.getSeconds()).padStart(2, '0')}`;
}
