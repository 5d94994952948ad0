// `jobmon wait` and `jobmon workflow watch` as a user runs them, against a server on the lane's
// database, while `jobmon run` runs a workflow beside them: both wake on the workflow's events.

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
  db = await createTestDb('cli-wait-watch');
  server = await startServer({ db: db.target, reaper: false });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

/** Start `jobmon run` on a workflow of `n` 1-second tasks (one at a time) named `name`; its id once bound. */
async function startRun(name: string, command = 'sleep 1', n = 3) {
  const file = join(db.dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      tasks: Array.from({ length: n }, (_, i) => ({ name: `s${i}`, template: 'step', command, upstream: [] })),
    }),
  );
  const run = jobmon(['run', file, '-p', '1'], 120_000);
  const api = createApiClient(new Requester(server.url));
  const id = await waitFor(
    `workflow ${name} to be bound`,
    async () => (await api.listWorkflows({ query: { name, limit: 1 } })).workflows[0]?.id,
    60_000,
    50,
  );
  return { run, id };
}

describe(`jobmon wait and watch on ${TEST_DB_KIND}`, () => {
  it('wait blocks until the workflow enters a state of the mask, prints it and exits 0', async () => {
    const { run, id } = await startRun('wait_done');
    const w = await jobmon(['wait', String(id), '--for', 'DONE,FAILED', '--timeout', '60s']);
    expect(w.stdout.trim()).toBe('DONE');
    expect(w.code).toBe(0);
    expect((await run).code).toBe(0);
    // Already there: answers at once.
    const again = await jobmon(['wait', String(id), '--for', 'done', '--json']);
    expect(JSON.parse(again.stdout)).toEqual({ workflowId: id, status: 'DONE', reached: true });
  });

  it('wait times out with exit 1 saying where the workflow is; a bad state is a usage error naming it', async () => {
    const { run, id } = await startRun('wait_timeout', 'sleep 1', 4);
    const w = await jobmon(['wait', String(id), '--for', 'FAILED', '--timeout', '1s']);
    expect(w.code).toBe(1);
    expect(w.stdout).toMatch(new RegExp(`timed out: workflow ${id} is (QUEUED|INSTANTIATING|LAUNCHED|RUNNING)`));
    const bad = await jobmon(['wait', String(id), '--for', 'FINISHED']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'FINISHED' is not a workflow state \(known: REGISTERING, QUEUED/);
    await run;
  });

  it('wait for a state an ended workflow with no live run cannot reach says so at once and exits 1', async () => {
    const { run, id } = await startRun('wait_unreachable', 'sleep 1; exit 3', 1);
    // No --timeout: without the check it would wait for ever (the harness kills it: code -1).
    const w = await jobmon(['wait', String(id), '--for', 'DONE'], 90_000);
    const said = `workflow ${id} is FAILED and no run is live: it will not become DONE unless resumed`;
    expect(w.stdout.trim()).toBe(said);
    expect(w.code).toBe(1);
    expect((await run).code).toBe(1);
    const again = await jobmon(['wait', String(id), '--for', 'DONE,HALTED', '--json'], 90_000);
    expect(JSON.parse(again.stdout)).toEqual({
      workflowId: id,
      status: 'FAILED',
      reached: false,
      message: `workflow ${id} is FAILED and no run is live: it will not become DONE or HALTED unless resumed`,
    });
    expect(again.code).toBe(1);
    // A state it is in is reached, as always; the README's recipe then asks status for the exit code.
    const reached = await jobmon(['wait', String(id), '--for', 'done,failed']);
    expect([reached.code, reached.stdout.trim()]).toEqual([0, 'FAILED']);
  });

  it('watch prints a line per template as counts change and exits as run would (0 DONE, 1 FAILED)', async () => {
    const ok = await startRun('watch_ok');
    const w = await jobmon(['workflow', 'watch', String(ok.id)], 90_000);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/step: 3\/3 done, 0 running/);
    expect(w.stdout).toMatch(/ended DONE/);
    await ok.run;
    const bad = await startRun('watch_fail', 'exit 3', 1);
    const f = await jobmon(['workflow', 'watch', String(bad.id)], 90_000);
    expect(f.stdout).toMatch(/ended FAILED/);
    expect(f.code).toBe(1);
    expect((await bad.run).code).toBe(1);
  });

  it('watch --json prints the progress answer as a line per change, the last one the end', async () => {
    const ok = await startRun('watch_json', 'sleep 1', 2);
    const w = await jobmon(['workflow', 'watch', 'watch_json', '--json'], 90_000);
    expect(w.code).toBe(0);
    const lines = w.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; status: string; templates: { counts: { DONE: number } }[] });
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((l) => l.id === ok.id)).toBe(true);
    expect(lines.at(-1)).toMatchObject({ status: 'DONE', templates: [{ counts: { DONE: 2 } }] });
    await ok.run;
  });

  it('stop --json: the run asked, how it ended, and the workflow status; no live run is said too', async () => {
    const { run, id } = await startRun('stop_json', 'sleep 30', 2);
    await waitFor(
      'a task to run',
      async () => {
        const p = await createApiClient(new Requester(server.url)).getWorkflowProgress({ id });
        return (p.templates[0]?.counts.RUNNING ?? 0) > 0 ? true : undefined; // no template before the bind
      },
      60_000,
      100,
    );
    const s = await jobmon(['workflow', 'stop', String(id), '--json'], 90_000);
    expect(s.code, s.stderr).toBe(0);
    const out = JSON.parse(s.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ workflowId: id, drain: false, runStatus: 'TERMINATED', workflowStatus: 'HALTED' });
    expect(typeof out['runId']).toBe('number');
    expect((await run).code).toBe(1); // its run was ended from elsewhere: not DONE
    const again = await jobmon(['workflow', 'stop', String(id), '--json']);
    expect(JSON.parse(again.stdout)).toEqual({
      workflowId: id,
      runId: null,
      drain: false,
      runStatus: null,
      workflowStatus: 'HALTED',
    });
  });
});
