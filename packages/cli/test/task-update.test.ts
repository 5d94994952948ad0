// `jobmon task update` as an operator runs it: the built CLI against a server on the lane's
// database. A failed task set DONE lets a resume finish what is downstream of it; REGISTERING
// --recursive runs a task and everything downstream again; DONE --recursive takes the upstream
// along. A dry run lists the changes and changes nothing; a live run, unknown ids, an unknown
// template and tasks of two workflows are refused by name.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

async function tasksOf(wid: number): Promise<Record<string, TaskRow>> {
  const r = await get<{ tasks: TaskRow[] }>(`/workflows/${wid}/tasks?limit=1000`);
  return Object.fromEntries(r.tasks.map((t) => [t.name, t]));
}

async function statuses(wid: number): Promise<Record<string, string>> {
  return Object.fromEntries(Object.entries(await tasksOf(wid)).map(([n, t]) => [n, t.status]));
}

/** The tasks, the workflow and the event log's end: what a change would touch. */
async function snapshot(wid: number): Promise<string> {
  const tasks = await get<{ tasks: TaskRow[] }>(`/workflows/${wid}/tasks?limit=1000`);
  const wf = await get<{ status: string }>(`/workflows/${wid}`);
  const last = await get<{ last: number }>('/events/latest');
  return JSON.stringify({ tasks: tasks.tasks, status: wf.status, last: last.last });
}

function runs(dir: string, name: string): number {
  const f = join(dir, `${name}.runs`);
  return existsSync(f)
    ? readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l !== '').length
    : 0;
}

/** a → b → c, b failing (no retry) until `ok` exists; x apart, with an attribute. */
async function failedWorkflow(name: string): Promise<{ wid: number; work: string }> {
  const work = join(db.dir, name);
  mkdirSync(work, { recursive: true });
  const file = join(work, 'wf.json');
  writeFileSync(
    file,
    JSON.stringify({
      name,
      tasks: [
        { name: 'a', template: 'prep', command: 'echo a >> a.runs', attributes: { stage: 'one' } },
        { name: 'b', template: 'fit', command: 'echo b >> b.runs; test -f ok', max_attempts: 1, upstream: ['a'] },
        { name: 'c', template: 'fit', command: 'echo c >> c.runs', upstream: ['b'] },
        { name: 'x', template: 'prep', command: 'echo x >> x.runs', attributes: { stage: 'two' } },
      ],
    }),
  );
  const first = await jobmonIn(work, ['run', file, '--json']);
  expect(first.code, first.stderr).toBe(1);
  return { wid: (JSON.parse(first.stdout) as { workflowId: number }).workflowId, work };
}

beforeAll(async () => {
  db = await createTestDb('cli-task-update');
  server = await startServer({ db: db.target, reaper: false });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe(`jobmon task update on ${TEST_DB_KIND}`, () => {
  it('DONE on a failed task, then resume, finishes what is downstream; a dry run changes nothing', async () => {
    const { wid, work } = await failedWorkflow('update_done');
    const t = await tasksOf(wid);
    expect(await statuses(wid)).toEqual({ a: 'DONE', b: 'ERROR_FATAL', c: 'REGISTERING', x: 'DONE' });

    const before = await snapshot(wid);
    const dry = await jobmonIn(work, ['task', 'update', String(t['b']!.id), '--status', 'DONE', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      workflowId: wid,
      status: 'DONE',
      dryRun: true,
      selected: 1,
      changed: 1,
      unchanged: 0,
      tasks: [{ id: t['b']!.id, name: 'b', template: 'fit', from: 'ERROR_FATAL', to: 'DONE' }],
      truncated: false,
    });
    const dryHuman = await jobmonIn(work, ['task', 'update', String(t['b']!.id), '--status', 'done', '--dry-run']);
    expect(dryHuman.stdout).toContain(`workflow ${wid} 'update_done' (FAILED): would set 1 task to DONE`);
    expect(dryHuman.stdout).toMatch(
      new RegExp(`ID\\s+NAME\\s+TEMPLATE\\s+CHANGE\\n${t['b']!.id}\\s+b\\s+fit\\s+ERROR_FATAL → DONE`),
    );
    expect(await snapshot(wid)).toBe(before);

    const set = await jobmonIn(work, ['task', 'update', String(t['b']!.id), '--status', 'DONE']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(`jobmon workflow resume ${wid}`);
    expect((await statuses(wid))['b']).toBe('DONE');
    const ev = await get<{ events: { actor: string; context: Record<string, unknown> | null }[] }>(
      `/events?workflowId=${wid}&entity=workflow&limit=1000`,
    );
    expect(ev.events.find((e) => e.actor === 'operator')?.context).toMatchObject({
      operation: 'task update',
      status: 'DONE',
      tasks: 1,
    });

    const resumed = await jobmonIn(work, ['workflow', 'resume', String(wid), '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: 'DONE', done: 4 });
    // b did not run again (its one failed attempt); c ran once.
    expect([runs(work, 'a'), runs(work, 'b'), runs(work, 'c'), runs(work, 'x')]).toEqual([1, 1, 1, 1]);
  }, 180_000);

  it('REGISTERING --recursive takes the downstream along and reopens a DONE workflow; DONE --recursive the upstream', async () => {
    const { wid, work } = await failedWorkflow('update_recursive');
    writeFileSync(join(work, 'ok'), '');
    const t = await tasksOf(wid);
    const fixed = await jobmonIn(work, ['workflow', 'resume', String(wid)]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(await get<{ status: string }>(`/workflows/${wid}`)).toMatchObject({ status: 'DONE' });

    const r = await jobmonIn(work, [
      'task',
      'update',
      String(t['a']!.id),
      '--status',
      'REGISTERING',
      '--recursive',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { tasks: { name: string; from: string; to: string }[] };
    expect(out).toMatchObject({ workflowFrom: 'DONE', workflowTo: 'REGISTERING', selected: 3, changed: 3 });
    expect(out.tasks.map((x) => `${x.name}:${x.from}>${x.to}`)).toEqual([
      'a:DONE>REGISTERING',
      'b:DONE>REGISTERING',
      'c:DONE>REGISTERING',
    ]);
    expect(await statuses(wid)).toEqual({ a: 'REGISTERING', b: 'REGISTERING', c: 'REGISTERING', x: 'DONE' });

    // Upstream: c DONE with its upstream, dry run; then for real on b only (a comes along).
    const up = await jobmonIn(work, [
      'task',
      'update',
      String(t['c']!.id),
      '--status',
      'DONE',
      '--recursive',
      '--dry-run',
      '--json',
    ]);
    expect(up.code, up.stderr).toBe(0);
    expect((JSON.parse(up.stdout) as { tasks: { name: string }[] }).tasks.map((x) => x.name)).toEqual(['a', 'b', 'c']);
    const upB = await jobmonIn(work, ['task', 'update', String(t['b']!.id), '--status', 'DONE', '--recursive']);
    expect(upB.code, upB.stderr).toBe(0);
    expect(await statuses(wid)).toEqual({ a: 'DONE', b: 'DONE', c: 'REGISTERING', x: 'DONE' });

    const again = await jobmonIn(work, ['workflow', 'resume', String(wid), '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect([runs(work, 'a'), runs(work, 'b'), runs(work, 'c'), runs(work, 'x')]).toEqual([1, 2, 2, 1]);
  }, 180_000);

  it('selects by --workflow, --template and --attr', async () => {
    const { wid, work } = await failedWorkflow('update_select');
    const byAttr = await jobmonIn(work, [
      'task',
      'update',
      '--workflow',
      'update_select',
      '--template',
      'prep',
      '--attr',
      'stage=two',
      '--status',
      'REGISTERING',
      '--dry-run',
      '--json',
    ]);
    expect(byAttr.code, byAttr.stderr).toBe(0);
    expect((JSON.parse(byAttr.stdout) as { tasks: { name: string }[] }).tasks.map((x) => x.name)).toEqual(['x']);
    const byTemplate = await jobmonIn(work, [
      'task',
      'update',
      '--workflow',
      String(wid),
      '--template',
      'fit',
      '--status',
      'DONE',
      '--json',
    ]);
    expect(byTemplate.code, byTemplate.stderr).toBe(0);
    expect(JSON.parse(byTemplate.stdout)).toMatchObject({ selected: 2, changed: 2 });
    expect(await statuses(wid)).toEqual({ a: 'DONE', b: 'DONE', c: 'DONE', x: 'DONE' });
  }, 120_000);

  it('refuses a live run, unknown ids, an unknown template, tasks of two workflows, bad usage; changing nothing', async () => {
    const one = await failedWorkflow('update_refuse_1');
    const two = await failedWorkflow('update_refuse_2');
    const t1 = await tasksOf(one.wid);
    const t2 = await tasksOf(two.wid);
    const before = [await snapshot(one.wid), await snapshot(two.wid)];

    const mixed = await jobmonIn(db.dir, [
      'task',
      'update',
      String(t1['b']!.id),
      String(t2['b']!.id),
      '--status',
      'DONE',
    ]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain(`task ${t1['b']!.id} in workflow ${one.wid} 'update_refuse_1'`);
    expect(mixed.stderr).toContain(`task ${t2['b']!.id} in workflow ${two.wid} 'update_refuse_2'`);

    const missing = await jobmonIn(db.dir, ['task', 'update', String(t1['b']!.id), '987654321', '--status', 'DONE']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no task with id 987654321');

    const template = await jobmonIn(db.dir, [
      'task',
      'update',
      '--workflow',
      String(one.wid),
      '--template',
      'nope',
      '--status',
      'DONE',
    ]);
    expect(template.code).toBe(3);
    expect(template.stderr).toContain(`workflow ${one.wid} has no task of template 'nope' (its templates: `);

    const noMatch = await jobmonIn(db.dir, [
      'task',
      'update',
      '--workflow',
      String(one.wid),
      '--attr',
      'stage=zzz',
      '--status',
      'DONE',
    ]);
    expect(noMatch.code).toBe(3);
    expect(noMatch.stderr).toContain('attribute stage=zzz');

    for (const [args, text] of [
      [['task', 'update', 'abc', '--status', 'DONE'], "got 'abc'"],
      [['task', 'update', '--status', 'DONE'], 'give task ids or --workflow'],
      [
        ['task', 'update', String(t1['b']!.id), '--status', 'RUNNING'],
        '--status: unknown status "RUNNING"; one of DONE, REGISTERING',
      ],
      [['task', 'update', String(t1['b']!.id), '--template', 'fit', '--status', 'DONE'], '--template and --attr'],
    ] as const) {
      const r = await jobmonIn(db.dir, [...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(text);
    }

    const res = await fetch(`${server.url}/api/v1/workflows/${one.wid}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'someone', host: 'elsewhere', pid: 4242, jobmonVersion: 'test' }),
    });
    const { runId } = (await res.json()) as { runId: number };
    const live = await jobmonIn(db.dir, ['task', 'update', String(t1['b']!.id), '--status', 'DONE']);
    expect(live.code).toBe(2);
    expect(live.stderr).toContain(`has a live run ${runId} (LINKING, pid 4242 on elsewhere)`);

    const after = await snapshot(two.wid);
    // Neither workflow's tasks moved on any refusal above.
    expect(JSON.parse(after).tasks).toEqual(JSON.parse(before[1]!).tasks);
    expect(JSON.parse(await snapshot(one.wid)).tasks).toEqual(JSON.parse(before[0]!).tasks);
  }, 180_000);
});
