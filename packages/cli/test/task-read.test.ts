// `jobmon task show`, `task logs`, `workflow tasks` and `workflow errors` as a user runs them: the
// built CLI against a server on the lane's database, after `jobmon run` of real workflows. Each
// command's human output is read, its --json compared with the API's answer, and its errors' exit
// codes checked; a workflow is also named by its exact name (an ambiguous one exits 2).

import { spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, Requester, type ApiClient } from '@jobmon/core';
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

let wfId: number;
const taskIds = new Map<string, number>();

beforeAll(async () => {
  db = await createTestDb('cli-task-read');
  server = await startServer({ db: db.target, reaper: false });
  api = createApiClient(new Requester(server.url));
  const file = workflowFile('reads', {
    name: 'reads_wf',
    workflow_args: { reads: 1 },
    tasks: [
      { name: 'ok', template: 'good', command: 'echo hello; echo second; echo warn >&2', upstream: [] },
      {
        name: 'bad',
        template: 'bad',
        command: "echo out-bad; echo 'cannot open /data/run_1/x.csv' >&2; exit 3",
        upstream: [],
        max_attempts: 2,
        compute_resources: { memory: '1536M', runtime: '90m' },
      },
      ...[7, 42, 1999].map((n) => ({
        name: `same_${n}`,
        template: 'same',
        command: `echo 'cannot open /data/run_${n}/part-${n * 3}.csv id ${(n * 2654435761).toString(16)}' >&2; exit 1`,
        upstream: [],
        max_attempts: 1,
      })),
      {
        name: 'oom',
        template: 'other',
        command: "echo 'MemoryError: out of memory' >&2; exit 1",
        upstream: [],
        max_attempts: 1,
      },
    ],
  });
  const r = await jobmon(['run', file]);
  expect(r.code).toBe(1); // the workflow failed
  const [w] = (await api.listWorkflows({ query: { exactName: 'reads_wf' } })).workflows;
  wfId = w!.id;
  for (const t of (await api.getWorkflowTasks({ id: wfId })).tasks) taskIds.set(t.name, t.id);
  // A second and third workflow named alike: 'twin' is ambiguous.
  for (const k of [1, 2]) {
    const twin = workflowFile(`twin${k}`, {
      name: 'twin',
      workflow_args: { twin: k },
      tasks: [{ name: 't', template: 't', command: 'true', upstream: [] }],
    });
    expect((await jobmon(['run', twin])).code).toBe(0);
  }
}, 240_000);
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

// eslint-disable-next-line no-control-regex
const ESC = /\x1b/;

describe(`jobmon task and workflow reads on ${TEST_DB_KIND}`, () => {
  it('task show: every attempt with state, error class, exit code, error text, node, resources and log paths', async () => {
    const id = taskIds.get('bad')!;
    const r = await jobmon(['task', 'show', String(id)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^task ${id} 'bad' \\(workflow ${wfId} 'reads_wf', template bad\\): ERROR_FATAL`),
    );
    expect(r.stdout).toContain('attempts: 2 of 2');
    expect(r.stdout).toMatch(/attempt 1 {2}instance \d+ {2}ERROR \(application\), exit code 3/);
    expect(r.stdout).toMatch(/attempt 2 {2}instance \d+ {2}ERROR \(application\), exit code 3/);
    expect(r.stdout).toMatch(/where: cluster local, queue null\.q, node \S+, distributor id \d+/);
    // Units as a person reads them: memory is stored in MiB, runtime in seconds.
    expect(r.stdout).toContain('asked: memory 1.5 GiB, runtime 1h 30m');
    expect(r.stdout).toMatch(/used: wall time \d+/);
    expect(r.stdout).toMatch(/stdout: \/\S+bad\.\d+\.out/);
    expect(r.stdout).toMatch(/stderr: \/\S+bad\.\d+\.err/);
    expect(r.stdout).toContain('cannot open /data/run_1/x.csv');
    expect(r.stdout).not.toMatch(ESC); // not a terminal: no colour
    const json = JSON.parse((await jobmon(['task', 'show', String(id), '--json'])).stdout);
    const fromApi = await api.getTask({ id });
    expect(json).toEqual({ ...fromApi, attempts: fromApi.attempts.map((a) => ({ ...a, slurmLogPath: null })) });
    const missing = await jobmon(['task', 'show', '987654']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/task 987654 does not exist/);
    // Where it looked: an id from another database (JOBMON_HOME, JOBMON_URL) is a common slip.
    expect(missing.stderr).toContain(server.url);
    expect((await jobmon(['task', 'show', 'x'])).code).toBe(2);
  });

  it('task logs: reads the log files, by attempt and stream, tail or all', async () => {
    const id = String(taskIds.get('ok')!);
    const both = await jobmon(['task', 'logs', id]);
    expect(both.code).toBe(0);
    expect(both.stdout).toMatch(
      /^==> stdout: \S+ok\.\d+\.out <==\nhello\nsecond\n==> stderr: \S+ok\.\d+\.err <==\nwarn\n$/,
    );
    expect(both.stderr).toBe('');
    expect((await jobmon(['task', 'logs', id, '--stdout', '--tail', '1'])).stdout).toBe('second\n');
    expect((await jobmon(['task', 'logs', id, '--stdout', '--all'])).stdout).toBe('hello\nsecond\n');
    const bad = String(taskIds.get('bad')!);
    expect((await jobmon(['task', 'logs', bad, '--attempt', '1', '--stderr'])).stdout).toBe(
      'cannot open /data/run_1/x.csv\n',
    );
    const json = JSON.parse((await jobmon(['task', 'logs', id, '--json'])).stdout);
    expect(json).toMatchObject({
      taskId: Number(id),
      attempt: 1,
      status: 'DONE',
      stdout: { source: 'file', text: 'hello\nsecond\n' },
      stderr: { source: 'file', text: 'warn\n' },
    });
    // 'oom' wrote only to stderr: its stdout file was never created, and that is no error.
    const quiet = await jobmon(['task', 'logs', String(taskIds.get('oom')!)]);
    expect(quiet.stdout).toMatch(
      /^==> stdout: \S+oom\.\d+\.out \(empty: the command wrote nothing\) <==\n==> stderr: /,
    );
    expect(quiet.stderr).toBe('');
    const quietJson = JSON.parse((await jobmon(['task', 'logs', String(taskIds.get('oom')!), '--json'])).stdout);
    expect(quietJson.stdout).toMatchObject({ source: 'empty', text: '' });
    const none = await jobmon(['task', 'logs', bad, '--attempt', '3']);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/task \d+ has no attempt 3 \(its attempts are 1–2\)/);
    expect((await jobmon(['task', 'logs', id, '--all', '--tail', '5'])).code).toBe(2);
  });

  it('task logs: falls back to the stored tail where the file is not readable, and says so', async () => {
    const id = taskIds.get('bad')!;
    const path = (await api.getTask({ id })).attempts.at(-1)!.stderrPath!;
    renameSync(path, `${path}.away`);
    try {
      const r = await jobmon(['task', 'logs', String(id), '--stderr']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('cannot open /data/run_1/x.csv\n');
      expect(r.stderr).toMatch(/cannot read \S+\.err from here \(ENOENT\); showing the tail stored with the attempt/);
      const json = JSON.parse((await jobmon(['task', 'logs', String(id), '--json'])).stdout);
      expect(json.stderr).toMatchObject({ source: 'stored', path, text: 'cannot open /data/run_1/x.csv\n' });
      expect(json.stdout.source).toBe('file');
    } finally {
      renameSync(`${path}.away`, path);
    }
  });

  it('task logs --follow prints what a running task writes until it ends', async () => {
    const file = workflowFile('ticks', {
      name: 'ticks_wf',
      workflow_args: { ticks: 1 },
      tasks: [
        {
          name: 'ticks',
          template: 'tick',
          command: 'for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done',
          upstream: [],
        },
      ],
    });
    const run = spawn(process.execPath, [CLI, 'run', file], { env: { ...process.env, ...env() }, stdio: 'ignore' });
    const ended = new Promise<number | null>((res) => run.on('exit', res));
    try {
      // Wait for the task's first attempt.
      let taskId: number | undefined;
      for (let i = 0; i < 200 && taskId === undefined; i++) {
        const [w] = (await api.listWorkflows({ query: { exactName: 'ticks_wf' } })).workflows;
        const t = w ? (await api.getWorkflowTasks({ id: w.id })).tasks[0] : undefined;
        const a = t ? (await api.getTask({ id: t.id })).attempts.at(-1) : undefined;
        // From its first attempt on: before the command starts, --follow waits for the log paths.
        if (t && a !== undefined) taskId = t.id;
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(taskId).toBeDefined();
      const r = await jobmon(['task', 'logs', String(taskId), '--stdout', '--follow']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe([1, 2, 3, 4, 5, 6].map((i) => `tick ${i}\n`).join(''));
    } finally {
      expect(await ended).toBe(0);
    }
  }, 60_000);

  it('workflow tasks: an aligned table filtered by status and template; --json is the API answer', async () => {
    const r = await jobmon(['workflow', 'tasks', 'reads_wf']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+TEMPLATE\s+STATUS\s+ATTEMPTS\s+INFRA$/);
    expect(lines).toHaveLength(7);
    const at = lines[0]!.indexOf('STATUS');
    expect(lines.slice(1).map((l) => l.slice(at).split(/\s+/)[0])).toEqual([
      'DONE',
      'ERROR_FATAL',
      'ERROR_FATAL',
      'ERROR_FATAL',
      'ERROR_FATAL',
      'ERROR_FATAL',
    ]);
    const json = JSON.parse(
      (await jobmon(['workflow', 'tasks', String(wfId), '--status', 'error_fatal', '--template', 'same', '--json']))
        .stdout,
    );
    expect(json).toEqual(await api.getWorkflowTasks({ id: wfId, query: { status: 'ERROR_FATAL', template: 'same' } }));
    expect(json.tasks.map((t: { name: string }) => t.name)).toEqual(['same_7', 'same_42', 'same_1999']);
    const page = await jobmon(['workflow', 'tasks', String(wfId), '--limit', '2']);
    expect(page.stdout).toMatch(/more: add --cursor \d+\n$/);
    // The group words of `workflow status`'s table, any case: failed (or fatal) is ERROR_FATAL.
    const failed = JSON.parse(
      (await jobmon(['workflow', 'tasks', String(wfId), '--status', 'failed', '--json'])).stdout,
    );
    expect(failed).toEqual(await api.getWorkflowTasks({ id: wfId, query: { status: 'ERROR_FATAL' } }));
    const both = await jobmon(['workflow', 'tasks', String(wfId), '--status', 'Done,fatal,pending', '--json']);
    expect(JSON.parse(both.stdout).tasks).toHaveLength(6);
    const bad = await jobmon(['workflow', 'tasks', String(wfId), '--status', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'jobmon: --status: unknown status "NOPE"; one of REGISTERING, QUEUED, INSTANTIATING, LAUNCHED, RUNNING, DONE, ERROR_RECOVERABLE, ADJUSTING_RESOURCES, ERROR_FATAL, or a group: PENDING, SCHEDULED, RUNNING, DONE, FATAL, FAILED\n',
    );
  });

  it('workflow errors: failures grouped by cause, with count, sample, first and last seen, task ids', async () => {
    const r = await jobmon(['workflow', 'errors', 'reads_wf']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^workflow \d+: 6 failures in 3 groups\n/);
    expect(r.stdout).toMatch(/\n3× application: command exited with code <n>: cannot open <path> id <hex>\n/);
    expect(r.stdout).toMatch(/\n2× application: command exited with code <n>: cannot open <path>\n/);
    expect(r.stdout).toMatch(/\n1× application: command exited with code <n>: MemoryError: out of memory\n/);
    const same = ['same_7', 'same_42', 'same_1999'].map((n) => taskIds.get(n)!);
    expect(r.stdout).toContain(`tasks (3): ${same.join(', ')}\n`);
    expect(r.stdout).toMatch(/first \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, last /);
    const json = JSON.parse((await jobmon(['workflow', 'errors', String(wfId), '--json'])).stdout);
    expect(json).toEqual(await api.getWorkflowErrorGroups({ id: wfId }));
    const only = JSON.parse(
      (await jobmon(['workflow', 'errors', String(wfId), '--template', 'other', '--json'])).stdout,
    );
    expect(only.groups.map((g: { count: number }) => g.count)).toEqual([1]);
  });

  it('a workflow by exact name: found, not found (exit 3), or ambiguous (exit 2, the matches listed)', async () => {
    const status = await jobmon(['workflow', 'status', 'reads_wf']);
    expect(status.stdout).toMatch(new RegExp(`^workflow ${wfId} 'reads_wf': FAILED`));
    const missing = await jobmon(['workflow', 'tasks', 'no_such_wf']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe("jobmon: no workflow is named 'no_such_wf'\n");
    // A near miss suggests the names that contain it.
    const near = await jobmon(['workflow', 'status', 'reads']);
    expect(near.code).toBe(3);
    expect(near.stderr).toBe("jobmon: no workflow is named 'reads'; did you mean reads_wf?\n");
    const twins = (await api.listWorkflows({ query: { exactName: 'twin' } })).workflows.map((w) => w.id);
    expect(twins).toHaveLength(2);
    for (const command of ['status', 'tasks', 'errors']) {
      const r = await jobmon(['workflow', command, 'twin']);
      expect(r.code, command).toBe(2);
      expect(r.stderr).toMatch(/'twin' names 2 workflows; give one by id:/);
      for (const id of twins) expect(r.stderr).toMatch(new RegExp(`\\n {2}${id} {2}DONE`));
    }
    // Case-sensitive and exact: no glob.
    expect((await jobmon(['workflow', 'status', 'READS_WF'])).code).toBe(3);
    expect((await jobmon(['workflow', 'status', 'reads_*'])).code).toBe(3);
  });
});
