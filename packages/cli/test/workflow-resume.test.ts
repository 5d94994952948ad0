// `jobmon workflow resume <id>` and `--detach` as a user runs them: the built CLI against a server
// on the lane's database. A workflow runs from its file and fails part-way; the file is deleted;
// a second process resumes it by id from another directory, and only what was left runs, in the
// directory the first run recorded. A detached run survives its parent shell being killed.

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { CLI, type CliResult } from './cli.js';

let db: TestDb;
let server: RunningServer;

const env = () => ({ ...process.env, JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') });

/** The CLI run from the directory `cwd`. */
function jobmonIn(cwd: string, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: env(), timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

beforeAll(async () => {
  db = await createTestDb('cli-wf-resume');
  server = await startServer({ db: db.target, reaper: false });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe(`jobmon workflow resume on ${TEST_DB_KIND}`, () => {
  it('resumes by id from a second process with the file deleted: only what was left runs, where it ran', async () => {
    const work = join(db.dir, 'work');
    const elsewhere = join(db.dir, 'elsewhere');
    mkdirSync(work, { recursive: true });
    mkdirSync(elsewhere, { recursive: true });
    const file = join(work, 'wf.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'resume_by_id',
        tasks: [
          { name: 'a', command: 'echo a >> ran.txt' },
          { name: 'b', command: 'test -f ok && echo b >> ran.txt', max_attempts: 1, upstream: ['a'] },
          { name: 'c', command: 'echo c >> ran.txt', upstream: ['b'] },
        ],
      }),
    );
    const first = await jobmonIn(work, ['run', file, '--json']);
    expect(first.code, first.stderr).toBe(1);
    const wid = (JSON.parse(first.stdout) as { workflowId: number }).workflowId;
    expect(readFileSync(join(work, 'ran.txt'), 'utf8')).toBe('a\n');

    rmSync(file);
    writeFileSync(join(work, 'ok'), '');
    const r = await jobmonIn(elsewhere, ['workflow', 'resume', String(wid), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      workflowId: wid,
      status: 'DONE',
      total: 3,
      doneBefore: 1,
      done: 3,
      failed: 0,
      cwd: work,
    });
    // a ran once; b and c ran in the recorded directory, not in `elsewhere`.
    expect(readFileSync(join(work, 'ran.txt'), 'utf8')).toBe('a\nb\nc\n');
    expect(existsSync(join(elsewhere, 'ran.txt'))).toBe(false);
    const detail = (await (await fetch(`${server.url}/api/v1/workflows/${wid}`)).json()) as { status: string };
    expect(detail.status).toBe('DONE');

    // By its exact name, too.
    const again = await jobmonIn(elsewhere, ['workflow', 'resume', 'resume_by_id']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`workflow ${wid} 'resume_by_id' is already DONE`);
  }, 120_000);

  it('names what is wrong: an unknown workflow or name (3), a bad id or both --cold and --hot (2)', async () => {
    const missing = await jobmonIn(db.dir, ['workflow', 'resume', '987654']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('workflow 987654 does not exist');
    const unnamed = await jobmonIn(db.dir, ['workflow', 'resume', 'no_such_wf']);
    expect(unnamed.code).toBe(3);
    expect(unnamed.stderr).toContain("no workflow is named 'no_such_wf'");
    const bad = await jobmonIn(db.dir, ['workflow', 'resume', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("got '0'");
    const both = await jobmonIn(db.dir, ['workflow', 'resume', '1', '--cold', '--hot']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--cold and --hot');
  }, 60_000);

  it('run --detach survives its parent shell being killed and finishes DONE', async () => {
    const work = join(db.dir, 'detach');
    mkdirSync(work, { recursive: true });
    const file = join(work, 'wf.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'detached_run',
        tasks: [
          { name: 's1', command: 'sleep 2' },
          { name: 's2', command: 'echo done > detached.txt', upstream: ['s1'] },
        ],
      }),
    );
    // A shell (its own process group) starts the detached run, then waits; it is killed with its group.
    const shell = spawn('bash', ['-c', `'${process.execPath}' '${CLI}' run '${file}' --detach --json; sleep 600`], {
      cwd: work,
      env: env(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    shell.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!stdout.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const started = JSON.parse(stdout) as { workflowId: number; pid: number; logFile: string; watch: string };
    expect(started.watch).toBe(`jobmon workflow watch ${started.workflowId}`);
    expect(existsSync(started.logFile)).toBe(true);
    process.kill(-shell.pid!, 'SIGKILL');
    await new Promise((r) => shell.on('exit', r));
    expect(() => process.kill(started.pid, 0)).not.toThrow(); // the runner lives on
    let status = '';
    while (Date.now() < deadline + 30_000) {
      const s = await jobmonIn(work, ['workflow', 'status', String(started.workflowId), '--json']);
      status = (JSON.parse(s.stdout) as { status: string }).status;
      if (status === 'DONE') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(status).toBe('DONE');
    expect(readFileSync(join(work, 'detached.txt'), 'utf8')).toBe('done\n');
    expect(readFileSync(started.logFile, 'utf8')).toContain(`workflow ${started.workflowId} 'detached_run'`);
  }, 150_000);
});
