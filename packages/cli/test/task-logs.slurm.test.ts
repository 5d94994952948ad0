// `jobmon task logs` and `task show` for a task the slurm distributor ran, on the real single-node
// cluster scripts/slurm-local.sh starts (partition `debug`; jobs run here, as this user, so the
// log files are readable). Part of `npm run test:slurm`. Other people's jobs may fill the node: the
// run waits its turn.

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiClient, Requester, type ApiClient } from '@jobmon/core';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, type TestDb } from '../../../test-support/db.js';
import { jobmon as cli } from './cli.js';

let db: TestDb;
let server: RunningServer;
let api: ApiClient;
const RUN_MS = 15 * 60_000;

const jobmon = (args: string[], timeoutMs = 60_000) =>
  cli(args, { JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') }, timeoutMs);

beforeAll(async () => {
  db = await createTestDb('cli-slurm-logs');
  server = await startServer({ db: db.target, reaper: false });
  api = createApiClient(new Requester(server.url));
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

it("shows a Slurm task's stdout and stderr, and names Slurm's own log", { timeout: RUN_MS + 120_000 }, async () => {
  const add = await jobmon([
    'cluster',
    'add',
    'slurm-logs',
    '--type',
    'slurm',
    '--option',
    'pollMs=500',
    '--queue',
    'debug:cores=1-2,memory=1-4096,runtime=60-86400',
  ]);
  expect(add.code, add.stderr).toBe(0);
  const file = join(db.dir, 'slurm-logs.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'slurm_logs',
      workflow_args: { pid: process.pid },
      defaults: {
        cluster: 'slurm-logs',
        compute_resources: { queue: 'debug', cores: 1, memory: 100, runtime: 600 },
      },
      tasks: [
        {
          name: 'sl',
          template: 'sl',
          command: 'echo from-slurm-out; echo from-slurm-err >&2; exit 4',
          upstream: [],
          max_attempts: 1,
        },
      ],
    }),
  );
  const run = await jobmon(['run', file], RUN_MS);
  expect(run.code, run.stdout + run.stderr).toBe(1);
  const [task] = (
    await api.getWorkflowTasks({
      id: (await api.listWorkflows({ query: { exactName: 'slurm_logs' } })).workflows[0]!.id,
    })
  ).tasks;
  const id = String(task!.id);
  const detail = await api.getTask({ id: task!.id });
  const a = detail.attempts.at(-1)!;
  expect(a).toMatchObject({ clusterType: 'slurm', status: 'ERROR', exitCode: 4 });

  const logs = await jobmon(['task', 'logs', id]);
  expect(logs.code).toBe(0);
  expect(logs.stdout).toMatch(/==> stdout: \S+\.out <==\nfrom-slurm-out\n==> stderr: \S+\.err <==\nfrom-slurm-err\n/);
  expect(logs.stderr).toBe('');

  const show = await jobmon(['task', 'show', id]);
  expect(show.stdout).toContain(`distributor id ${a.distributorId}`);
  const slurmLog = join(a.stdoutPath!.replace(/\/[^/]+$/, ''), `slurm.${a.distributorId}.log`);
  expect(show.stdout).toContain(`slurm log: ${slurmLog}`);
  expect(existsSync(slurmLog), slurmLog).toBe(true); // the file Slurm wrote, not only a name
  const json = JSON.parse((await jobmon(['task', 'show', id, '--json'])).stdout);
  expect(json.attempts.at(-1).slurmLogPath).toBe(slurmLog);
});
