// `jobmon workflow resume <id> --run <runId>`: the runner for a run that another client bound. The
// Python and R clients bind over HTTP and start this command; here the TypeScript client binds
// (the same requests), the command drives that very run in its own directory, and a run it was not
// given, or one already over, is refused.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { Tool, connect, type Connection } from '@jobmon/client';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { CLI, type CliResult } from './cli.js';
import { execFile } from 'node:child_process';

let db: TestDb;
let server: RunningServer;
let conn: Connection;

function jobmonIn(cwd: string, args: string[]): Promise<CliResult> {
  const started = Date.now();
  const env = { ...process.env, JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') };
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

beforeAll(async () => {
  db = await createTestDb('cli-run-bound');
  server = await startServer({ db: db.target, reaper: false });
  conn = await connect({ url: server.url });
}, 60_000);
afterAll(async () => {
  await conn?.close();
  await server?.close();
  await db?.drop();
});

describe(`jobmon workflow resume --run on ${TEST_DB_KIND}`, () => {
  it('drives the run a client bound: every task runs once, in the directory it was started from', async () => {
    const work = join(db.dir, 'work');
    mkdirSync(work, { recursive: true });
    const tool = new Tool('run_bound_tool');
    const tt = tool.getTaskTemplate({ name: 'step', commandTemplate: 'echo {i} >> ran.txt', nodeArgs: ['i'] });
    const wf = tool.createWorkflow({ name: 'run_bound' });
    const [a, b] = tt.createTasks({ i: [1, 2] });
    b!.addUpstream(a!);
    wf.addTasks([a!, b!]);
    const bound = await wf.bind(conn);
    expect(bound.runId).not.toBeNull();

    const r = await jobmonIn(work, [
      'workflow',
      'resume',
      String(bound.workflowId),
      '--run',
      String(bound.runId),
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      workflowId: bound.workflowId,
      runId: bound.runId,
      status: 'DONE',
      runStatus: 'DONE',
      total: 2,
      done: 2,
      failed: 0,
      cwd: work,
    });
    expect(readFileSync(join(work, 'ran.txt'), 'utf8')).toBe('1\n2\n');

    // The workflow is DONE: driving the run again runs nothing twice.
    const again = await jobmonIn(work, ['workflow', 'resume', String(bound.workflowId), '--run', String(bound.runId)]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already DONE');
    expect(readFileSync(join(work, 'ran.txt'), 'utf8')).toBe('1\n2\n');
  }, 90_000);

  it('refuses --run with options that take a workflow over', async () => {
    const r = await jobmonIn(db.dir, ['workflow', 'resume', '1', '--run', '1', '--cold']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--run drives a run that is bound already');
  });
});
