// spawnGroup with real commands: what reaches a task's log files. The cap keeps a flood from
// filling the disk (and says where it cut); an existing file is added to, never truncated.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnGroup } from '../src/process-group.js';
import { killWithArg, liveWithArg } from '../../../test-support/processes.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jobmon-pg-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const paths = () => ({ stdoutPath: join(dir, 't.out'), stderrPath: join(dir, 't.err') });

describe('task log files', () => {
  it('keep at most the cap of each output, end with a note saying so, and the tail is still the real end', async () => {
    const cap = 100_000;
    // 5 MB on stdout and on stderr, then a last line on each.
    const command = `head -c 5000000 /dev/zero | tr '\\0' x; echo; echo last-out; head -c 5000000 /dev/zero | tr '\\0' y >&2; echo >&2; echo last-err >&2`;
    const r = await spawnGroup({ command, ...paths(), logCapBytes: cap }).done;
    expect(r.exitCode).toBe(0);
    for (const [path, fill, last, tail] of [
      [paths().stdoutPath, 'x', 'last-out', r.stdoutTail],
      [paths().stderrPath, 'y', 'last-err', r.stderrTail],
    ] as const) {
      const size = statSync(path).size;
      expect(size).toBeGreaterThan(cap);
      expect(size).toBeLessThan(cap + 200);
      const text = readFileSync(path, 'latin1');
      expect(text.slice(0, cap)).toBe(fill.repeat(cap));
      expect(text.slice(cap)).toMatch(
        /^\n\[jobmon: log cut at 100000 bytes \(JOBMON_LOG_CAP_BYTES\); 4900010 more bytes were not kept\]\n$/,
      );
      expect(tail.endsWith(`\n${last}\n`)).toBe(true);
    }
  });

  it('leave a log under the cap as the command wrote it', async () => {
    const r = await spawnGroup({ command: 'echo hello; echo oops >&2', ...paths(), logCapBytes: 100_000 }).done;
    expect(readFileSync(paths().stdoutPath, 'utf8')).toBe('hello\n');
    expect(readFileSync(paths().stderrPath, 'utf8')).toBe('oops\n');
    expect([r.stdoutTail, r.stderrTail]).toEqual(['hello\n', 'oops\n']);
  });

  it('are made by the first byte of output: an output the command never wrote to has no file', async () => {
    const r = await spawnGroup({ command: 'echo only-out', ...paths() }).done;
    expect(r.exitCode).toBe(0);
    expect(readFileSync(paths().stdoutPath, 'utf8')).toBe('only-out\n');
    expect(existsSync(paths().stderrPath)).toBe(false);
    expect(r.stderrTail).toBe('');
  });

  it('in a folder that is not there fail the spawn, naming the folder, and nothing runs', () => {
    const missing = join(dir, 'gone');
    const marker = join(dir, 'ran');
    expect(() =>
      spawnGroup({
        command: `touch ${marker}`,
        stdoutPath: join(missing, 't.out'),
        stderrPath: join(missing, 't.err'),
      }),
    ).toThrow(missing);
    expect(existsSync(marker)).toBe(false);
  });

  it('are appended to when they exist already, never truncated', async () => {
    writeFileSync(paths().stdoutPath, 'earlier out\n');
    writeFileSync(paths().stderrPath, 'earlier err\n');
    await spawnGroup({ command: 'echo later out; echo later err >&2', ...paths() }).done;
    expect(readFileSync(paths().stdoutPath, 'utf8')).toBe('earlier out\nlater out\n');
    expect(readFileSync(paths().stderrPath, 'utf8')).toBe('earlier err\nlater err\n');
  });
});

describe('a leftover beyond reach', () => {
  const marker = `1000.${process.pid}7`;
  afterEach(() => killWithArg(marker));

  it('(own session, environment cleared) holding the output pipe does not hold the result', async () => {
    const command = `setsid env -i sleep ${marker} & until pgrep -xf 'sleep ${marker}' >/dev/null; do :; done; echo hi`;
    const r = await spawnGroup({ command, ...paths() }).done;
    expect(r.exitCode).toBe(0);
    expect(r.stdoutTail).toBe('hi\n');
    expect(r.cleanup).toBeUndefined();
    // Documented limit: without the cookie or the group it is not ours to signal.
    expect(liveWithArg(marker)).toHaveLength(1);
  }, 15_000);
});
