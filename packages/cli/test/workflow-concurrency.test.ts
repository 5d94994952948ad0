// `jobmon workflow concurrency` as a user runs it, against a running workflow: a workflow that
// starts paused (limit 0) runs nothing until the limit is raised from another process; its runner
// picks the new limit up from its heartbeat's answer and the workflow ends DONE. Bad input is
// refused naming it.

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { CLI, type CliResult } from './cli.js';

let db: TestDb;
let server: RunningServer;

const env = () => ({
  ...process.env,
  JOBMON_URL: server.url,
  JOBMON_HOME: join(db.dir, 'home'),
  JOBMON_RUN_HEARTBEAT_MS: '300',
});

function jobmon(args: string[]): Promise<CliResult> {
  const started = Date.now();
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: env(), timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

beforeAll(async () => {
  db = await createTestDb('cli-wf-concurrency');
  server = await startServer({ db: db.target, reaper: false });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe(`jobmon workflow concurrency on ${TEST_DB_KIND}`, () => {
  it('a paused workflow (0) runs nothing until the limit is raised live; then it ends DONE', async () => {
    const work = join(db.dir, 'work');
    mkdirSync(work, { recursive: true });
    const file = join(work, 'wf.json');
    const out = join(work, 'ran.txt');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'paused_at_start',
        max_concurrently_running: 0,
        tasks: ['a', 'b', 'c'].map((n) => ({ name: n, command: `echo ${n} >> '${out}'` })),
      }),
    );
    const run = spawn(process.execPath, [CLI, 'run', file], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    run.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    run.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => run.on('exit', (code) => r(code)));
    const deadline = Date.now() + 30_000;
    while (!/^workflow (\d+) /m.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const wid = Number(/^workflow (\d+) /m.exec(stdout)![1]);
    // Several heartbeats pass: nothing starts while the limit is 0.
    await new Promise((r) => setTimeout(r, 2000));
    expect(existsSync(out)).toBe(false);

    const set = await jobmon(['workflow', 'concurrency', String(wid), '2', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ workflowId: wid, template: null, limit: 2, previous: 0 });
    expect(await exited, stderr).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['a', 'b', 'c']);
    expect(stderr).toContain('limits changed: workflow 2');

    const human = await jobmon(['workflow', 'concurrency', String(wid), '--template', 'task', '5']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`template 'task' of workflow ${wid}: at most 5 at once (was no limit)`);
  }, 90_000);

  it('names what is wrong: an unknown template or workflow (3), a bad limit (2)', async () => {
    const list = JSON.parse((await jobmon(['workflow', 'list', '--json'])).stdout) as { workflows: { id: number }[] };
    const wid = list.workflows[0]!.id;
    const nope = await jobmon(['workflow', 'concurrency', String(wid), '--template', 'nope', '3']);
    expect(nope.code).toBe(3);
    expect(nope.stderr).toContain(`workflow ${wid} has no task of template 'nope' (its templates: task)`);
    const missing = await jobmon(['workflow', 'concurrency', '987654', '3']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('workflow 987654 does not exist');
    const bad = await jobmon(['workflow', 'concurrency', String(wid), '-1']);
    expect(bad.code).toBe(2);
  }, 60_000);
});
