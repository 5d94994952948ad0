// `jobmon workflow reset` as an operator runs it: the built CLI against a server on the lane's
// database. A workflow with a failure runs to its end; a partial reset and a resume by id run only
// what was not DONE; a full reset of the DONE workflow runs everything again. A dry run changes
// nothing (the tasks, the workflow and the event log compared before and after); a live run refuses.

import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { CLI, type CliResult } from './cli.js';

let db: TestDb;
let server: RunningServer;

const env = () => ({ ...process.env, JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home'), NO_COLOR: '1' });

function jobmonIn(cwd: string, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  const started = Date.now();
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: env(), timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

async function get<T>(path: string): Promise<T> {
  const r = await fetch(`${server.url}/api/v1${path}`);
  expect(r.status, path).toBe(200);
  return (await r.json()) as T;
}

interface TaskRow {
  id: number;
  name: string;
  status: string;
  numAttempts: number;
}

/** What a change would touch: every task's status and attempts, the workflow, the event log's end. */
async function snapshot(wid: number): Promise<string> {
  const tasks = await get<{ tasks: TaskRow[] }>(`/workflows/${wid}/tasks?limit=1000`);
  const wf = await get<{ status: string }>(`/workflows/${wid}`);
  const last = await get<{ last: number }>('/events/latest');
  return JSON.stringify({ tasks: tasks.tasks, status: wf.status, last: last.last });
}

async function statuses(wid: number): Promise<Record<string, string>> {
  const r = await get<{ tasks: TaskRow[] }>(`/workflows/${wid}/tasks?limit=1000`);
  return Object.fromEntries(r.tasks.map((t) => [t.name, t.status]));
}

/** How many times each task ran: each appends a line to `<name>.runs`. */
function runs(dir: string, name: string): number {
  const f = join(dir, `${name}.runs`);
  return existsSync(f)
    ? readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l !== '').length
    : 0;
}

/** A workflow whose task b fails (once, no retry) until the file `ok` exists; c waits for b. */
async function failedWorkflow(name: string): Promise<{ wid: number; work: string }> {
  const work = join(db.dir, name);
  mkdirSync(work, { recursive: true });
  const file = join(work, 'wf.json');
  writeFileSync(
    file,
    JSON.stringify({
      name,
      tasks: [
        { name: 'a', template: 'prep', command: 'echo a >> a.runs' },
        { name: 'd', template: 'prep', command: 'echo d >> d.runs' },
        { name: 'b', template: 'fit', command: 'echo b >> b.runs; test -f ok', max_attempts: 1, upstream: ['a'] },
        { name: 'c', template: 'fit', command: 'echo c >> c.runs', upstream: ['b'] },
      ],
    }),
  );
  const first = await jobmonIn(work, ['run', file, '--json']);
  expect(first.code, first.stderr).toBe(1);
  return { wid: (JSON.parse(first.stdout) as { workflowId: number }).workflowId, work };
}

beforeAll(async () => {
  db = await createTestDb('cli-wf-reset');
  server = await startServer({ db: db.target, reaper: false });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe(`jobmon workflow reset on ${TEST_DB_KIND}`, () => {
  it('--partial then resume by id runs only the tasks not DONE; a full reset of the DONE workflow runs all', async () => {
    const { wid, work } = await failedWorkflow('reset_partial');
    expect(await statuses(wid)).toEqual({ a: 'DONE', d: 'DONE', b: 'ERROR_FATAL', c: 'REGISTERING' });

    // A dry run reports and changes nothing.
    const before = await snapshot(wid);
    const dry = await jobmonIn(work, ['workflow', 'reset', String(wid), '--partial', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      workflowId: wid,
      partial: true,
      dryRun: true,
      workflowFrom: 'FAILED',
      workflowTo: 'FAILED',
      reset: 2,
      kept: 2,
      groups: [
        { template: 'fit', from: 'ERROR_FATAL', count: 1 },
        { template: 'fit', from: 'REGISTERING', count: 1 },
      ],
    });
    expect(await snapshot(wid)).toBe(before);

    const human = await jobmonIn(work, ['workflow', 'reset', 'reset_partial', '--partial']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(
      `workflow ${wid} 'reset_partial' (FAILED): reset 2 tasks to REGISTERING; 2 DONE kept`,
    );
    expect(human.stdout).toMatch(/TEMPLATE\s+FROM\s+TASKS\nfit\s+ERROR_FATAL\s+1\nfit\s+REGISTERING\s+1/);
    expect(human.stdout).toContain(`jobmon workflow resume ${wid}`);
    expect(await statuses(wid)).toEqual({ a: 'DONE', d: 'DONE', b: 'REGISTERING', c: 'REGISTERING' });
    const events = await get<{ events: { entity: string; actor: string; context: Record<string, unknown> | null }[] }>(
      `/events?workflowId=${wid}&entity=workflow&limit=1000`,
    );
    const ev = events.events.find((e) => e.actor === 'operator');
    expect(ev?.context).toMatchObject({ operation: 'reset --partial', tasks: 2 });

    writeFileSync(join(work, 'ok'), '');
    const resumed = await jobmonIn(work, ['workflow', 'resume', String(wid), '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'DONE', total: 4, doneBefore: 2, done: 4 });
    expect([runs(work, 'a'), runs(work, 'd'), runs(work, 'b'), runs(work, 'c')]).toEqual([1, 1, 2, 1]);
    // History is kept: b's failed attempt is still there, next to the one that passed.
    const bId = (await get<{ tasks: TaskRow[] }>(`/workflows/${wid}/tasks?limit=1000`)).tasks.find(
      (t) => t.name === 'b',
    )!.id;
    const b = await get<{ attempts: { status: string }[] }>(`/tasks/${bId}`);
    expect(b.attempts.map((x) => x.status)).toEqual(['ERROR', 'DONE']);

    // The DONE workflow, fully reset, becomes resumable and runs everything again.
    const full = await jobmonIn(work, ['workflow', 'reset', String(wid), '--json']);
    expect(full.code, full.stderr).toBe(0);
    expect(JSON.parse(full.stdout)).toMatchObject({
      workflowFrom: 'DONE',
      workflowTo: 'REGISTERING',
      reset: 4,
      kept: 0,
    });
    const tasks = (await get<{ tasks: TaskRow[] }>(`/workflows/${wid}/tasks?limit=1000`)).tasks;
    expect(tasks.map((t) => [t.status, t.numAttempts])).toEqual(tasks.map(() => ['REGISTERING', 0]));
    const again = await jobmonIn(work, ['workflow', 'resume', String(wid), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'DONE', doneBefore: 0, done: 4 });
    expect([runs(work, 'a'), runs(work, 'd'), runs(work, 'b'), runs(work, 'c')]).toEqual([2, 2, 3, 2]);
  }, 180_000);

  it('--partial also resets DONE tasks downstream of a task not DONE', async () => {
    const { wid, work } = await failedWorkflow('reset_downstream');
    // c is made DONE by hand while b stays failed: a partial reset must take c back with b.
    const c = (await get<{ tasks: TaskRow[] }>(`/workflows/${wid}/tasks?limit=1000`)).tasks.find(
      (t) => t.name === 'c',
    )!;
    const set = await jobmonIn(work, ['task', 'update', String(c.id), '--status', 'DONE']);
    expect(set.code, set.stderr).toBe(0);
    const r = await jobmonIn(work, ['workflow', 'reset', String(wid), '--partial', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ reset: 2, kept: 2 });
    expect(await statuses(wid)).toEqual({ a: 'DONE', d: 'DONE', b: 'REGISTERING', c: 'REGISTERING' });
  }, 120_000);

  it('refuses while a run is live, naming the run and its state (exit 2), and changes nothing', async () => {
    const { wid, work } = await failedWorkflow('reset_live');
    const res = await fetch(`${server.url}/api/v1/workflows/${wid}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'someone', host: 'elsewhere', pid: 4242, jobmonVersion: 'test' }),
    });
    expect(res.status).toBe(200);
    const { runId } = (await res.json()) as { runId: number };
    const before = await snapshot(wid);
    for (const extra of [[], ['--dry-run'], ['--partial']]) {
      const r = await jobmonIn(work, ['workflow', 'reset', String(wid), ...extra]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`has a live run ${runId} (LINKING, pid 4242 on elsewhere)`);
    }
    expect(await snapshot(wid)).toBe(before);
  }, 120_000);

  it('names what is wrong: an unknown workflow (3), a bad id (2)', async () => {
    const missing = await jobmonIn(db.dir, ['workflow', 'reset', '987654']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('workflow 987654 does not exist');
    const unnamed = await jobmonIn(db.dir, ['workflow', 'reset', 'no_such_wf']);
    expect(unnamed.code).toBe(3);
    expect(unnamed.stderr).toContain("no workflow is named 'no_such_wf'");
    const bad = await jobmonIn(db.dir, ['workflow', 'reset', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("got '0'");
  }, 60_000);
});
