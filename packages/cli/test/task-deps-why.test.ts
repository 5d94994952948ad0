// `jobmon task deps` and `jobmon task why` as a user runs them: the built CLI against a server on
// the lane's database, after `jobmon run` of real workflows. One workflow fails (a task with its
// attempts spent, tasks blocked behind it, one whose resources no queue of its cluster holds once
// an operator shrank the queue); another is paused (limit 0) while its runner lives, then let go
// to finish. Human output is read, --json compared with the API, and bad input exits 2 or 3.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, Requester, type ApiClient, type TaskWhyResponseT } from '@jobmon/core';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { CLI, jobmon as cli } from './cli.js';

let db: TestDb;
let server: RunningServer;
let api: ApiClient;

const env = () => ({ JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') });
const jobmon = (args: string[]) => cli(args, env(), 60_000);

function workflowFile(name: string, spec: object): string {
  const file = join(db.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

async function tasksOf(name: string): Promise<Map<string, number>> {
  const [w] = (await api.listWorkflows({ query: { exactName: name } })).workflows;
  const ids = new Map<string, number>();
  if (w) for (const t of (await api.getWorkflowTasks({ id: w.id })).tasks) ids.set(t.name, t.id);
  return ids;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** What a why answer says, without its messages' "N s ago". */
const gist = (w: TaskWhyResponseT) => ({
  ...w,
  causes: w.causes.map((c) => ({ reason: c.reason, details: c.details })),
});
const reasons = (w: TaskWhyResponseT) => w.causes.map((c) => c.reason);

let ids: Map<string, number>;
let failedWf: number;

beforeAll(async () => {
  db = await createTestDb('cli-deps-why');
  server = await startServer({ db: db.target, reaper: false });
  api = createApiClient(new Requester(server.url));
  const add = await jobmon(['cluster', 'add', 'whytiny', '--type', 'local', '--queue', 'small:memory=1-4G']);
  expect(add.code, add.stderr).toBe(0);
  //   fine ──► after_fine ──┐
  //                         ├──► last
  //   boom ──► after_boom ──┘
  //     └────► big (cluster whytiny, 2 GiB)
  const file = workflowFile('why_fail', {
    name: 'why_fail',
    workflow_args: { why: 1 },
    tasks: [
      { name: 'fine', template: 'prep', command: 'true', upstream: [] },
      { name: 'after_fine', template: 'mid', command: 'true', upstream: ['fine'] },
      { name: 'boom', template: 'prep', command: 'echo kaput >&2; exit 4', upstream: [], max_attempts: 2 },
      { name: 'after_boom', template: 'mid', command: 'true', upstream: ['boom'] },
      { name: 'last', template: 'end', command: 'true', upstream: ['after_fine', 'after_boom'] },
      {
        name: 'big',
        template: 'big',
        command: 'true',
        upstream: ['boom'],
        cluster: 'whytiny',
        compute_resources: { memory: '2G' },
      },
    ],
  });
  const r = await jobmon(['run', file]);
  expect(r.code, r.stderr).toBe(1); // boom failed for good
  ids = await tasksOf('why_fail');
  failedWf = (await api.getTask({ id: ids.get('boom')! })).workflowId;
  // An operator shrinks the queue afterwards: big's 2 GiB now fits no queue of whytiny.
  const shrink = await jobmon(['cluster', 'add', 'whytiny', '--type', 'local', '--queue', 'small:memory=1-100']);
  expect(shrink.code, shrink.stderr).toBe(0);
}, 240_000);
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe(`jobmon task deps on ${TEST_DB_KIND}`, () => {
  it('lists upstream tasks to a depth, nearest first, as a table and as the API answers', async () => {
    const last = ids.get('last')!;
    const one = await jobmon(['task', 'deps', String(last)]);
    expect(one.code, one.stderr).toBe(0);
    const lines = one.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +NAME +TEMPLATE +STATUS +DEPTH$/);
    expect(lines.slice(1, 3).map((l) => l.split(/ +/).slice(1))).toEqual([
      ['after_fine', 'mid', 'DONE', '1'],
      ['after_boom', 'mid', 'REGISTERING', '1'],
    ]);
    expect(lines[3]).toBe('2 upstream tasks directly, 1 not DONE');
    const all = JSON.parse((await jobmon(['task', 'deps', String(last), '--up', '--depth', 'all', '--json'])).stdout);
    expect(all).toEqual(await api.getTaskDeps({ id: last, query: { direction: 'up', depth: 0 } }));
    expect(all).toMatchObject({ taskId: last, direction: 'up', depth: 0, truncated: false });
    expect(all.tasks.map((t: { name: string; depth: number }) => [t.name, t.depth])).toEqual([
      ['after_fine', 1],
      ['after_boom', 1],
      ['fine', 2],
      ['boom', 2],
    ]);
    expect(JSON.parse((await jobmon(['task', 'deps', String(last), '--depth', '0', '--json'])).stdout)).toEqual(all);
  });

  it('lists downstream tasks with --down, and says when there are none', async () => {
    const boom = ids.get('boom')!;
    const down = JSON.parse(
      (await jobmon(['task', 'deps', String(boom), '--down', '--depth', 'all', '--json'])).stdout,
    );
    expect(
      down.tasks.map((t: { name: string; depth: number; template: string }) => [t.name, t.template, t.depth]),
    ).toEqual([
      ['after_boom', 'mid', 1],
      ['big', 'big', 1],
      ['last', 'end', 2],
    ]);
    const direct = JSON.parse((await jobmon(['task', 'deps', String(boom), '--down', '--json'])).stdout);
    expect(direct.tasks.map((t: { name: string }) => t.name).sort()).toEqual(['after_boom', 'big']);
    const none = await jobmon(['task', 'deps', String(boom)]);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(`task ${boom} has no upstream tasks directly\n`);
    const leaf = await jobmon(['task', 'deps', String(ids.get('last')!), '--down', '--depth', '3']);
    expect(leaf.stdout).toBe(`task ${ids.get('last')!} has no downstream tasks within 3 edges\n`);
  });

  it('refuses bad input with a message that names it: usage exits 2, an unknown task 3', async () => {
    const id = String(ids.get('last')!);
    const both = await jobmon(['task', 'deps', id, '--up', '--down']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--up and --down exclude each other/);
    for (const bad of ['-1', 'x', '1.5', '2000000']) {
      const r = await jobmon(['task', 'deps', id, '--depth', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/--depth/);
    }
    expect((await jobmon(['task', 'deps', 'abc'])).code).toBe(2);
    const missing = await jobmon(['task', 'deps', '987654']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/task 987654 does not exist/);
  });
});

describe(`jobmon task why on ${TEST_DB_KIND}`, () => {
  it('a task blocked by a failed upstream: which one, and what resume would do', async () => {
    const id = ids.get('after_boom')!;
    const r = await jobmon(['task', 'why', String(id)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^task ${id} 'after_boom' \\(workflow ${failedWf} FAILED, template mid\\): REGISTERING\n`),
    );
    expect(r.stdout).toContain(
      `UPSTREAM_NOT_DONE  1 of its 1 upstream task is not DONE (1 of those listed failed for good): ${ids.get('boom')} 'boom' ERROR_FATAL`,
    );
    expect(r.stdout).toMatch(
      /NO_LIVE_RUN +workflow \d+ is FAILED and no run is running it \(its last run \d+ is ERROR\)/,
    );
    const json = JSON.parse((await jobmon(['task', 'why', String(id), '--json'])).stdout) as TaskWhyResponseT;
    expect(gist(json)).toEqual(gist(await api.getTaskWhy({ id })));
    expect(reasons(json)).toEqual(['UPSTREAM_NOT_DONE', 'UPSTREAM_FAILED', 'NO_LIVE_RUN']);
    expect(json.causes[0]!.details).toEqual({
      upstream: [{ id: ids.get('boom'), name: 'boom', status: 'ERROR_FATAL' }],
      count: 1,
      total: 1,
    });
  });

  it('a task two edges below a failed one names it, not only the task it waits on', async () => {
    // last waits on after_boom (REGISTERING), which waits on boom, failed for good.
    const id = ids.get('last')!;
    const boom = ids.get('boom')!;
    const r = await jobmon(['task', 'why', String(id)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `UPSTREAM_NOT_DONE  1 of its 2 upstream tasks is not DONE: ${ids.get('after_boom')} 'after_boom' REGISTERING\n`,
    );
    expect(r.stdout).toContain(
      `UPSTREAM_FAILED    1 task upstream of it failed for good, so it will not run until that is fixed and the workflow resumed: ${boom} 'boom' (2 edges up); see \`jobmon task why ${boom}\` and \`jobmon task logs ${boom}\`\n`,
    );
    const json = JSON.parse((await jobmon(['task', 'why', String(id), '--json'])).stdout) as TaskWhyResponseT;
    expect(reasons(json)).toEqual(['UPSTREAM_NOT_DONE', 'UPSTREAM_FAILED', 'NO_LIVE_RUN']);
    expect(json.causes[1]!.details).toEqual({
      failed: [{ id: boom, name: 'boom', status: 'ERROR_FATAL', depth: 2 }],
      count: 1,
      complete: true,
    });
  });

  it('a fatal task with its attempts spent: n of max, and that a resume runs it with fresh attempts', async () => {
    const id = ids.get('boom')!;
    const json = JSON.parse((await jobmon(['task', 'why', String(id), '--json'])).stdout) as TaskWhyResponseT;
    expect(json.status).toBe('ERROR_FATAL');
    expect(reasons(json)).toEqual(['ATTEMPTS_SPENT', 'NO_LIVE_RUN']);
    expect(json.causes[0]!.details).toMatchObject({ attempts: 2, maxAttempts: 2, lastErrorClass: 'application' });
    expect(json.causes[1]!.details).toMatchObject({ onResume: 'rerun', freshAttempts: 2 });
    const r = await jobmon(['task', 'why', String(id)]);
    expect(r.stdout).toContain(
      'ATTEMPTS_SPENT  the task failed for good: 2 of 2 attempts spent, the last with an application error',
    );
    expect(r.stdout).toContain('`jobmon workflow resume` would run it again with a fresh set of 2 attempts');
  });

  it('a resource request that no queue of its cluster can hold names the queue and the limit', async () => {
    const id = ids.get('big')!;
    const json = JSON.parse((await jobmon(['task', 'why', String(id), '--json'])).stdout) as TaskWhyResponseT;
    expect(reasons(json)).toEqual(['UPSTREAM_NOT_DONE', 'UPSTREAM_FAILED', 'NO_QUEUE_FITS', 'NO_LIVE_RUN']);
    expect(json.causes[2]!.details).toEqual({
      cluster: 'whytiny',
      queue: 'small',
      resources: { memory: 2048 },
      queues: [{ queue: 'small', outside: [{ resource: 'memory', asked: 2048, range: [1, 100] }] }],
    });
    const r = await jobmon(['task', 'why', String(id)]);
    expect(r.stdout).toContain(
      "NO_QUEUE_FITS      its resource request fits no queue of cluster 'whytiny': on its queue 'small' 2048 MiB memory is outside [1, 100]",
    );
  });

  it('a done task says so and that it will not run again', async () => {
    const id = ids.get('fine')!;
    const r = await jobmon(['task', 'why', String(id)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      / {2}DONE {2}the task is DONE \(since \d+ s ago\); it will not run again, not even on resume\n$/,
    );
    expect(reasons(JSON.parse((await jobmon(['task', 'why', String(id), '--json'])).stdout))).toEqual(['DONE']);
  });

  it('an unknown task exits 3, a bad id 2', async () => {
    const missing = await jobmon(['task', 'why', '987654']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/task 987654 does not exist/);
    expect((await jobmon(['task', 'why', '0'])).code).toBe(2);
  });

  it('a paused workflow (limit 0) holds its queued task; let go, the task runs and is DONE', async () => {
    const file = workflowFile('why_paused', {
      name: 'why_paused',
      workflow_args: { why: 2 },
      max_concurrently_running: 0,
      tasks: [{ name: 'p', template: 'p', command: 'true', upstream: [] }],
    });
    const child: ChildProcess = spawn(process.execPath, [CLI, 'run', file], {
      // Heartbeats often, so the runner hears of the new limit soon after it is set.
      env: { ...process.env, ...env(), JOBMON_RUN_HEARTBEAT_MS: '300' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      let id: number | undefined;
      let why: TaskWhyResponseT | undefined;
      // Wait (bounded by the test's timeout) until the runner has queued the task and holds it.
      for (;;) {
        id = (await tasksOf('why_paused')).get('p');
        if (id !== undefined) {
          why = await api.getTaskWhy({ id });
          if (why.status === 'QUEUED') break;
        }
        await sleep(100);
      }
      expect(reasons(why)).toEqual(['WORKFLOW_PAUSED', 'QUEUED']);
      expect(why.causes[0]!.details).toMatchObject({ limit: 0, running: 0 });
      expect(why.causes[1]!.details).toMatchObject({ held: true, attempt: 1 });
      const r = await jobmon(['task', 'why', String(id)]);
      expect(r.stdout).toMatch(
        new RegExp(
          `WORKFLOW_PAUSED  workflow ${why.workflowId} is paused \\(its concurrency limit is 0\\): nothing new starts until \`jobmon workflow concurrency ${why.workflowId} <n>\``,
        ),
      );
      expect(r.stdout).toMatch(
        /QUEUED {11}attempt 1 \(instance \d+\) was queued \d+ s ago and is held by the runner until a concurrency slot frees/,
      );
      expect((await jobmon(['workflow', 'concurrency', String(why.workflowId), '5'])).code).toBe(0);
      expect(await exited).toBe(0);
      expect(reasons(await api.getTaskWhy({ id }))).toEqual(['DONE']);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});
