// The system log stays bounded: past its size the file is rotated to `.1`, every line is whole
// JSON, and a second process writing the same file follows the rotation instead of growing the
// renamed file forever.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BoundedFile, openSystemLog } from './system-log.js';

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'jobmon-syslog-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const jsonLines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg: string; name: string; pid: number; i: number });

describe('the system log', () => {
  it('keeps at most twice its size: the file and one rotated file, each of whole JSON lines', () => {
    const path = join(scratch(), 'logs', 'jobmon.log');
    const log = openSystemLog(path, 'runner', 4096);
    for (let i = 0; i < 500; i++)
      log.info({ i }, 'a line of about a hundred bytes, to fill the file several times over');
    expect(statSync(path).size).toBeLessThanOrEqual(4096);
    expect(statSync(`${path}.1`).size).toBeLessThanOrEqual(4096);
    const last = jsonLines(path);
    expect(last.at(-1)).toMatchObject({
      msg: expect.stringContaining('a line'),
      name: 'runner',
      pid: process.pid,
      i: 499,
    });
    expect(jsonLines(`${path}.1`).every((l) => typeof l.i === 'number')).toBe(true);
  });

  it('a second writer of the same file follows a rotation made by the first', () => {
    const path = join(scratch(), 'jobmon.log');
    const a = new BoundedFile(path, 2000);
    const b = new BoundedFile(path, 1_000_000);
    for (let i = 0; i < 300; i++) a.write(`${JSON.stringify({ from: 'a', i })}\n`);
    expect(existsSync(`${path}.1`)).toBe(true);
    // b's file was renamed under it; within its recheck interval it writes to the new file.
    for (let i = 0; i < 200; i++) b.write(`${JSON.stringify({ from: 'b', i })}\n`);
    expect(readFileSync(path, 'utf8')).toMatch(/"from":"b","i":199/);
    a.close();
    b.close();
  });

  it('a log that cannot be opened is given up quietly: logging never fails the work', () => {
    const file = join(scratch(), 'a-file');
    new BoundedFile(file).close();
    const log = openSystemLog(join(file, 'under-a-file.log'), 'runner');
    expect(() => log.error('nowhere to go')).not.toThrow();
  });
});
