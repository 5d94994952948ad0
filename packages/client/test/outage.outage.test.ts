// A shared server killed (kill -9) under a running 2,000-task workflow and brought back 5, 60 and
// 120 s later. The runner (`jobmon run`, a real process) must ride the outage out: the commands
// already running finish, nothing new starts, their outcomes are sent when the server is back, and
// the workflow ends DONE with every command run exactly once — counted by marker files that each
// command appends one byte to. Slow (about 4 minutes per database): its own lane,
// `npm run test:outage`, which .ci/run calls on SQLite and PostgreSQL.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { freePort, spawnServer } from '../../../test-support/server-process.js';
import { sleep, waitFor } from '../../../test-support/wait.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'packages/cli/bin/jobmon.js');
const TASKS = 2_000;

let db: TestDb;
let port: number;
let server: ChildProcess | undefined;

async function startServerProcess(): Promise<void> {
  server = await spawnServer(db.target, port, { JOBMON_HOME: join(db.dir, 'home') });
}

function killServer(): void {
  server?.kill('SIGKILL');
  server = undefined;
}

beforeAll(async () => {
  db = await createTestDb('outage');
  port = await freePort();
  await startServerProcess();
});
afterAll(async () => {
  killServer();
  await db?.drop();
});

/** Markers: one file per task, one byte per run of its command. */
function markers(dir: string): { files: number; twice: number; bytes: number } {
  let files = 0;
  let twice = 0;
  let bytes = 0;
  for (const f of readdirSync(dir)) {
    const size = statSync(join(dir, f)).size;
    files++;
    bytes += size;
    if (size > 1) twice++;
  }
  return { files, twice, bytes };
}

describe(`a server outage under a ${TASKS}-task run on ${TEST_DB_KIND}`, () => {
  for (const outageS of [5, 60, 120]) {
    it(`rides out ${outageS} s: every command runs exactly once and the workflow ends DONE`, async () => {
      const dir = join(db.dir, `markers-${outageS}`);
      mkdirSync(dir, { recursive: true });
      const file = join(db.dir, `outage-${outageS}.json`);
      const tasks = Array.from({ length: TASKS }, (_, i) => ({
        name: `t${i}`,
        template: 't',
        command: `printf x >> ${dir}/t${i}; sleep 0.01`,
      }));
      writeFileSync(file, JSON.stringify({ name: `outage_${outageS}`, tasks }));
      const runner = spawn(process.execPath, [CLI, 'run', file, '-p', '2'], {
        env: { ...process.env, JOBMON_URL: `http://127.0.0.1:${port}`, JOBMON_HOME: join(db.dir, 'home') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      runner.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      runner.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const exit = new Promise<number | null>((r) => runner.once('exit', (code) => r(code)));
      try {
        // Kill the server a few hundred tasks in.
        await waitFor('300 commands to have run', () => markers(dir).files >= 300, 60_000);
        const before = markers(dir).files;
        expect(before).toBeLessThan(TASKS);
        killServer();
        await sleep(outageS * 1000);
        const during = markers(dir).files;
        await startServerProcess();
        const code = await exit;
        const m = markers(dir);
        console.log(
          `[outage] ${TEST_DB_KIND} ${outageS} s: ${before} commands done when killed, ${during} when back; ${m.files} run, ${m.twice} ran twice (${m.bytes} runs in all); runner exit ${code}`,
        );
        expect(code, out.slice(-2000)).toBe(0);
        expect(out).toMatch(/ended DONE/);
        expect(out).toMatch(/does not answer/);
        expect(out).toMatch(/is back after/);
        expect(m).toEqual({ files: TASKS, twice: 0, bytes: TASKS });
        // While it was down, only what was already running finished: nothing new was launched.
        expect(during - before).toBeLessThanOrEqual(2 + 8 * 2);
      } finally {
        if (runner.exitCode === null) runner.kill('SIGKILL');
      }
    }, 600_000);
  }

  it('gives up cleanly past its tolerance: stops its commands, says how to resume; the same command then finishes', async () => {
    const marker = `jobmon-outage-giveup-${process.pid}`;
    const file = join(db.dir, 'giveup.json');
    const tasks = Array.from({ length: 20 }, (_, i) => ({
      name: `g${i}`,
      template: 'g',
      command: `sleep 60 # ${marker}`,
    }));
    writeFileSync(file, JSON.stringify({ name: 'outage_giveup', tasks }));
    const env = {
      ...process.env,
      JOBMON_URL: `http://127.0.0.1:${port}`,
      JOBMON_HOME: join(db.dir, 'home'),
      JOBMON_OUTAGE_TOLERANCE_MS: '4000',
    };
    const runner = spawn(process.execPath, [CLI, 'run', file, '-p', '2'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    runner.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    runner.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((r) => runner.once('exit', (code) => r(code)));
    const pgrep = () =>
      execFileSync('sh', ['-c', `pgrep -f "[s]leep 60 # ${marker}" || true`])
        .toString()
        .trim();
    try {
      await waitFor('two commands to run', () => pgrep().split('\n').filter(Boolean).length >= 2, 20_000);
      killServer();
      const code = await exit;
      expect(code, out).toBe(1);
      expect(out).toMatch(/did not answer for .* gave up and stopped its running tasks/);
      expect(out).toMatch(/run the same command again to resume/);
      expect(pgrep()).toBe('');
    } finally {
      if (runner.exitCode === null) runner.kill('SIGKILL');
      await startServerProcess();
    }
    writeFileSync(
      file,
      JSON.stringify({ name: 'outage_giveup', tasks: tasks.map((t) => ({ ...t, command: 'true' })) }),
    );
    const again = execFileSync(process.execPath, [CLI, 'run', file, '-p', '2'], { env }).toString();
    expect(again).toMatch(/ended DONE/);
  }, 120_000);
});

// For the record on a failure: which jobmon processes are left.
afterAll(() => {
  try {
    execFileSync('sh', ['-c', 'pgrep -fa "jobmon.js (run|server)" || true'], { stdio: 'inherit' });
  } catch {
    // nothing
  }
});
