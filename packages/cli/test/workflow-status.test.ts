// `jobmon workflow status` as a user runs it, against a server on the lane's database: while a
// run is live it counts tasks per template and estimates completion from the finished tasks'
// runtimes, saying how; --json carries the same answer as GET /workflows/{id}/progress.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, Requester } from '@jobmon/core';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { waitFor } from '../../../test-support/wait.js';
import { jobmon as cli } from './cli.js';

let db: TestDb;
let server: RunningServer;

const jobmon = (args: string[], timeoutMs = 60_000) =>
  cli(args, { JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') }, timeoutMs);

beforeAll(async () => {
  db = await createTestDb('cli-wf-status');
  server = await startServer({ db: db.target, reaper: false });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe(`jobmon workflow status on ${TEST_DB_KIND}`, () => {
  it('while it runs: counts per template, elapsed time and an estimate that says how it was made', async () => {
    const file = join(db.dir, 'eta.json');
    // Six 1-second tasks one at a time, then a join: once two are done, about 4 s + the join remain.
    writeFileSync(
      file,
      JSON.stringify({
        name: 'eta_demo',
        tasks: [
          ...Array.from({ length: 6 }, (_, i) => ({
            name: `s${i}`,
            template: 'step',
            command: 'sleep 1',
            upstream: [],
          })),
          { name: 'j', template: 'join', command: 'true', upstream: ['s0', 's1', 's2', 's3', 's4', 's5'] },
        ],
      }),
    );
    const run = jobmon(['run', file, '-p', '1'], 120_000);
    const api = createApiClient(new Requester(server.url));
    const wid = await waitFor(
      'the workflow to have 2 tasks done',
      async () => {
        const { workflows } = await api.listWorkflows({ query: { name: 'eta_demo', limit: 1 } });
        const w = workflows[0];
        return w && (w.counts['DONE'] ?? 0) >= 2 ? w.id : undefined;
      },
      60_000,
      100,
    );
    const human = await jobmon(['workflow', 'status', String(wid)]);
    expect(human.code).toBe(0);
    // The run's number, marked as one (not "4 RUNNING", read as four tasks), and its heartbeat's age.
    expect(human.stdout).toMatch(/\n {2}last run: #\d+, running \(heartbeat \d+s ago\)\n/);
    expect(human.stdout).toContain('\n  concurrency: no limit\n');
    expect(human.stdout).toMatch(/TEMPLATE\s+PENDING\s+SCHEDULED\s+RUNNING\s+DONE\s+FATAL\s+RUNTIME/);
    expect(human.stdout).toMatch(/\n {2}step(\s+\d+){5}\s+1s \(this workflow\)/);
    expect(human.stdout).toMatch(/\n {2}join\s+1\s+0\s+0\s+0\s+0\s+\?/);
    expect(human.stdout).toMatch(/estimate: done in about \d+s \(between \d+s and \d+s\)/);
    expect(human.stdout).toMatch(
      /how: mean runtimes of finished tasks per template \(this workflow: 1 template; no runtime known: 1 template/,
    );
    const json = await jobmon(['workflow', 'status', String(wid), '--json']);
    const body = JSON.parse(json.stdout);
    expect(body.eta.seconds).toBeGreaterThan(0);
    expect(body.eta.seconds).toBeLessThanOrEqual(6);
    expect(body.templates.map((t: { name: string }) => t.name)).toEqual(['step', 'join']);
    expect((await run).code).toBe(0);
    const after = JSON.parse((await jobmon(['workflow', 'status', String(wid), '--json'])).stdout);
    expect(after.eta).toMatchObject({ seconds: 0, method: 'nothing is left to run' });
    expect(after.templates[0].counts).toEqual({ PENDING: 0, SCHEDULED: 0, RUNNING: 0, DONE: 6, FATAL: 0 });
    expect(after.maxConcurrentlyRunning).toBe(2_147_483_647); // --json keeps the number
  });

  it('a FAILED workflow: the ended run without a heartbeat age, the failure, and the next step; exit 1', async () => {
    const file = join(db.dir, 'fails.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'status_failed',
        tasks: [
          { name: 'bad', template: 'fetch', command: 'echo no input >&2; exit 3', max_attempts: 1 },
          { name: 'after', template: 'fit', command: 'true', upstream: ['bad'] },
        ],
      }),
    );
    expect((await jobmon(['run', file], 120_000)).code).toBe(1);
    const s = await jobmon(['workflow', 'status', 'status_failed']);
    expect(s.code).toBe(1);
    const [, wid] = /^workflow (\d+) 'status_failed': FAILED\n/.exec(s.stdout)!;
    const [, tid] = /✗ bad \(task (\d+),/.exec(s.stdout)!;
    expect(s.stdout).toMatch(/\n {2}last run: #\d+, error \(ended\)\n/);
    expect(s.stdout).not.toContain('heartbeat');
    expect(s.stdout).toContain(
      `\nsee why: jobmon task logs ${tid} (or jobmon workflow errors ${wid}); fix the cause, then run its file again or jobmon workflow resume ${wid}: only unfinished tasks will run.\nstate: `,
    );
  });
});
