// Clusters a user adds, end to end on a real server (SQLite, or PostgreSQL with
// JOBMON_TEST_DB=postgres) with real processes: the runner picks a distributor by the cluster's
// TYPE and hands it the cluster's options — a `local` cluster with options.parallelism=1 runs its
// tasks one at a time, a `dummy` cluster under another name runs through workers — and a cluster
// whose type has no distributor, or with an option its distributor does not know, fails the run
// before anything starts, naming cluster and type (or option).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { Tool, connect, UnknownClusterError, type Connection, type EventT, type WorkflowDetailT } from '@jobmon/client';
import { ValidationError } from '@jobmon/core';
import { DISTRIBUTORS } from '@jobmon/runner';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';

let db: TestDb;
let server: RunningServer;
let conn: Connection;
let seq = 0;

beforeAll(async () => {
  db = await createTestDb('client-clusters');
  server = await startServer({ db: db.target });
  conn = await connect({ url: server.url, config: { logDir: join(db.dir, 'logs') } });
  const queues = [{ name: 'all.q', limits: { cores: [1, 4] } }];
  await conn.requester.put('/clusters/one-at-a-time', { type: 'local', options: { parallelism: 1 }, queues });
  await conn.requester.put('/clusters/three-at-a-time', { type: 'local', options: { parallelism: 3 }, queues });
  await conn.requester.put('/clusters/fake-remote', { type: 'dummy', queues });
  await conn.requester.put('/clusters/hpc', { type: 'slurm', options: { partiton: 'debug' }, queues });
});

afterAll(async () => {
  await conn?.close();
  await server?.close();
  await db?.drop();
});

/** Three tasks on `cluster`, each tracing its start and end (ns) to one file. */
function traced(cluster: string) {
  const t = new Tool(`clusters_tool_${++seq}`);
  const tt = t.getTaskTemplate({ name: 'sh', commandTemplate: '{cmd}', nodeArgs: ['key'], opArgs: ['cmd'] });
  const trace = join(db.dir, `trace-${seq}`);
  const cmd = `echo "s $(date +%s%N)" >> ${trace}; sleep 0.3; echo "e $(date +%s%N)" >> ${trace}`;
  const wf = t.createWorkflow({ name: `clusters-${seq}` });
  const tasks = [0, 1, 2].map((key) => tt.createTask({ key, cmd }, { cluster }));
  wf.addTasks(tasks);
  return { wf, tasks, trace };
}

describe(`user-added clusters on ${TEST_DB_KIND}`, () => {
  it('a local cluster with options.parallelism=1 runs its tasks one at a time; one with 3 runs them together', async () => {
    const one = traced('one-at-a-time');
    const r = await one.wf.run({ connection: conn }); // no run-level parallelism: the cluster's own
    expect(r.status).toBe('DONE');
    expect(maxConcurrent(one.trace)).toBe(1);
    // The event log agrees: no instance started before the previous one ended.
    const { events } = await conn.requester.get<{ events: EventT[] }>(
      `/events?workflowId=${r.workflowId}&entity=task_instance`,
    );
    let running = 0;
    let most = 0;
    for (const e of events) {
      if (e.to === 'RUNNING') most = Math.max(most, ++running);
      if (e.to === 'DONE') running--;
    }
    expect(most).toBe(1);

    const three = traced('three-at-a-time');
    expect((await three.wf.run({ connection: conn })).status).toBe('DONE');
    expect(maxConcurrent(three.trace)).toBeGreaterThan(1);
  });

  it('a cluster of type dummy under another name runs through workers (chosen by type, not name)', async () => {
    const { wf, tasks, trace } = traced('fake-remote');
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('DONE');
    expect(readFileSync(trace, 'utf8').trim().split('\n')).toHaveLength(6);
    // A worker reported each instance RUNNING itself (a local distributor reports through the runner).
    const { events } = await conn.requester.get<{ events: EventT[] }>(
      `/events?workflowId=${r.workflowId}&entity=task_instance`,
    );
    const runningBy = events.filter((e) => e.to === 'RUNNING').map((e) => e.actor);
    expect(runningBy).toEqual(['worker', 'worker', 'worker']);
    expect(tasks.every((t) => t.status === 'DONE')).toBe(true);
  });

  it('a cluster whose type has no distributor in this runner fails the run before anything starts, naming cluster and type', async () => {
    const slurm = DISTRIBUTORS['slurm']!;
    delete DISTRIBUTORS['slurm']; // a runner built without it
    try {
      const { wf, trace } = traced('hpc');
      const err = await wf.run({ connection: conn }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnknownClusterError);
      expect((err as Error).message).toMatch(
        /cluster 'hpc' is of type 'slurm', and no distributor for type 'slurm' is available in this runner \(available: local, sequential, dummy/,
      );
      expect(existsSync(trace)).toBe(false);
      const detail = await conn.requester.get<WorkflowDetailT>(`/workflows/${wf.id.value}`);
      expect(detail.lastRun?.status).toBe('ERROR');
      expect(detail.counts).toEqual({ REGISTERING: 3 });
    } finally {
      DISTRIBUTORS['slurm'] = slurm;
    }
  });

  it('a slurm cluster with an option its distributor does not know fails the run before anything starts, naming it', async () => {
    const { wf, trace } = traced('hpc');
    const err = await wf.run({ connection: conn }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(
      /cluster 'hpc': options\.partiton is not an option of a slurm cluster \(known: partition, account, pollMs, accountingWaitMs, export, transport, restUrl, restUser, restTokenFile\)/,
    );
    expect(existsSync(trace)).toBe(false);
    const detail = await conn.requester.get<WorkflowDetailT>(`/workflows/${wf.id.value}`);
    expect(detail.lastRun?.status).toBe('ERROR');
    expect(detail.counts).toEqual({ REGISTERING: 3 });
  });
});

/** Largest number of overlapping [s, e] intervals recorded by the commands themselves. */
function maxConcurrent(traceFile: string): number {
  expect(existsSync(traceFile)).toBe(true);
  const marks = readFileSync(traceFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [kind, ns] = l.split(' ');
      return { t: BigInt(ns!), d: kind === 's' ? 1 : -1 };
    })
    .sort((x, y) => (x.t === y.t ? x.d - y.d : x.t < y.t ? -1 : 1));
  let cur = 0;
  let max = 0;
  for (const m of marks) {
    cur += m.d;
    max = Math.max(max, cur);
  }
  return max;
}
