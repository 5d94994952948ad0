// The reaper on a real database (SQLite or PostgreSQL), driven by tick(now) with a clock we move:
// lapsed runs end, their leftover instances are closed, instances past their deadlines move on, and
// nothing moves before its deadline.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, openDb, Reaper, type Db, type JobmonApp } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { apiHelpers } from './support.js';

let tdb: TestDb;
let db: Db;
let app: JobmonApp;
let reaper: Reaper;
const GRACE = 5_000;

beforeAll(async () => {
  tdb = await createTestDb('reaper');
  db = await openDb(tdb.target);
  app = await buildApp({ db, runReportByMs: 60_000 });
  reaper = new Reaper(db, { intervalMs: 1_000_000, graceMs: GRACE });
});

afterAll(async () => {
  await app?.close();
  await db?.close();
  await tdb?.drop();
});

const { call, ok, snapshot, runningWorkflow, startedWorkflow, taskRow } = apiHelpers(() => ({ app, db }));

async function instance(id: number) {
  return db.kysely
    .selectFrom('task_instance')
    .select(['status', 'error_class', 'report_by'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}
async function run(id: number) {
  return db.kysely.selectFrom('workflow_run').select(['status']).where('id', '=', id).executeTakeFirstOrThrow();
}
async function errorsOf(id: number) {
  return db.kysely
    .selectFrom('task_instance_error')
    .select(['error_class', 'message'])
    .where('task_instance_id', '=', id)
    .execute();
}

describe(`reaper on ${TEST_DB_KIND}`, () => {
  it('moves nothing before a deadline', async () => {
    const w = await runningWorkflow(2);
    await ok('POST', `/task-instances/${w.instances[0]}/transition`, {
      to: 'RUNNING',
      via: ['INSTANTIATED', 'LAUNCHED'],
      nextReportMs: 30_000,
    });
    await ok('POST', '/task-instances/transitions', {
      items: [{ id: w.instances[1], to: 'LAUNCHED', via: ['INSTANTIATED'], nextReportMs: 30_000 }],
    });
    const snap = await snapshot();
    const r = await reaper.tick(Date.now() + 20_000);
    expect(r.instances.filter((m) => w.instances.includes(m.id))).toEqual([]);
    expect(r.runs).not.toContain(w.runId);
    expect(await snapshot()).toEqual(snap);
  });

  it('a launched instance that never reports running goes NO_HEARTBEAT and is retried on the infrastructure budget', async () => {
    const w = await runningWorkflow(1, { maxAttempts: 1 });
    await ok('POST', '/task-instances/transitions', {
      items: [{ id: w.instances[0], to: 'LAUNCHED', via: ['INSTANTIATED'], nextReportMs: 1_000 }],
    });
    await reaper.tick(Date.now() + 2_000);
    expect(await instance(w.instances[0]!)).toMatchObject({ status: 'NO_HEARTBEAT', error_class: 'infrastructure' });
    // maxAttempts 1, yet it is retried: infrastructure errors do not spend the user's attempts.
    expect(await taskRow(w.tasks[0]!)).toMatchObject({ status: 'REGISTERING', num_attempts: 0, infra_failures: 1 });
    // A worker that starts after it was given up on is told so and does not run.
    const late = await ok('POST', `/task-instances/${w.instances[0]}/transition`, { to: 'RUNNING' });
    expect(late).toMatchObject({ outcome: 'untimely', status: 'NO_HEARTBEAT' });
  });

  it('a silent running instance goes TRIAGING; a late heartbeat brings it back; an unanswered triage ends UNKNOWN_ERROR', async () => {
    const w = await runningWorkflow(2);
    for (const id of w.instances)
      await ok('POST', `/task-instances/${id}/transition`, {
        to: 'RUNNING',
        via: ['INSTANTIATED', 'LAUNCHED'],
        nextReportMs: 1_000,
      });
    const t0 = Date.now();
    const r = await reaper.tick(t0 + 2_000);
    expect(r.instances.filter((m) => w.instances.includes(m.id)).map((m) => m.to)).toEqual(['TRIAGING', 'TRIAGING']);
    // The task stays RUNNING while its instance is triaged.
    expect((await taskRow(w.tasks[0]!)).status).toBe('RUNNING');
    // Instance 0: its worker was only paused; its heartbeat returns it to RUNNING (not an error).
    expect(await ok('POST', `/task-instances/${w.instances[0]}/heartbeat`, { nextReportMs: 60_000 })).toEqual({
      status: 'RUNNING',
    });
    expect(await errorsOf(w.instances[0]!)).toEqual([]);
    // Instance 1: nobody answers within the grace period.
    await reaper.tick(t0 + 2_000 + GRACE + 1_000);
    expect(await instance(w.instances[1]!)).toMatchObject({ status: 'UNKNOWN_ERROR', error_class: 'infrastructure' });
    expect(await taskRow(w.tasks[1]!)).toMatchObject({ status: 'REGISTERING', infra_failures: 1 });
    expect((await instance(w.instances[0]!)).status).toBe('RUNNING');
  });

  it('a run whose runner stopped heartbeating ends ERROR; its instances are closed; the workflow can run again', async () => {
    const w = await runningWorkflow(3);
    // 0: held by the runner (no deadline of its own), 1: held by a worker, 2: still queued.
    await ok('POST', `/task-instances/${w.instances[0]}/transition`, {
      to: 'RUNNING',
      via: ['INSTANTIATED', 'LAUNCHED'],
    });
    await ok('POST', `/task-instances/${w.instances[1]}/transition`, {
      to: 'RUNNING',
      via: ['INSTANTIATED', 'LAUNCHED'],
      nextReportMs: 3_600_000,
    });
    const refused = await call('POST', `/workflows/${w.workflowId}/runs`, {
      user: 'u',
      host: 'h',
      pid: 1,
      jobmonVersion: '0.1.0',
    });
    expect(refused.status).toBe(409);

    const t0 = Date.now() + 61_000; // past the run's 60 s deadline
    const r = await reaper.tick(t0);
    expect(r.runs).toContain(w.runId);
    expect((await run(w.runId)).status).toBe('ERROR');
    expect((await ok('GET', `/workflows/${w.workflowId}`)).status).toBe('FAILED');
    expect((await instance(w.instances[0]!)).status).toBe('ERROR_FATAL');
    expect((await instance(w.instances[2]!)).status).toBe('ERROR_FATAL');
    // The worker-held instance is told to stop and has the grace period to confirm.
    expect((await instance(w.instances[1]!)).status).toBe('KILL_SELF');
    expect(await ok('POST', `/task-instances/${w.instances[1]}/heartbeat`, { nextReportMs: 60_000 })).toEqual({
      status: 'KILL_SELF',
    });
    await reaper.tick(t0 + GRACE + 1_000);
    expect(await instance(w.instances[1]!)).toMatchObject({ status: 'ERROR_FATAL', error_class: 'killed' });
    const msgs = (await errorsOf(w.instances[1]!)).map((e) => e.message).join(' ');
    expect(msgs).toContain('never confirmed');

    // Resumable: a new run links.
    const again = await ok('POST', `/workflows/${w.workflowId}/runs`, {
      user: 'u',
      host: 'h',
      pid: 2,
      jobmonVersion: '0.1.0',
    });
    expect(again.runId).toBeGreaterThan(w.runId);
  });

  it('a late report from an attempt of a dead run does not move the task its replacement owns', async () => {
    const w = await runningWorkflow(1);
    const [old] = w.instances as [number];
    await ok('POST', `/task-instances/${old}/transition`, {
      to: 'RUNNING',
      via: ['INSTANTIATED', 'LAUNCHED'],
      nextReportMs: 3_600_000,
    });
    await reaper.tick(Date.now() + 61_000); // the runner died: its run ends, the worker is told KILL_SELF
    expect((await instance(old)).status).toBe('KILL_SELF');
    // Resume: a new run binds the same tasks (reset to REGISTERING) and starts a new attempt.
    const r2 = await ok('POST', `/workflows/${w.workflowId}/runs`, {
      user: 'u',
      host: 'h',
      pid: 2,
      jobmonVersion: '0.1.0',
    });
    await ok('PUT', `/workflow-runs/${r2.runId}/tasks`, { tasks: w.taskBody });
    for (const s of ['BOUND', 'INSTANTIATED', 'LAUNCHED', 'RUNNING'])
      await ok('PUT', `/workflow-runs/${r2.runId}/status`, { status: s, taskCount: 1 });
    const q = await ok('POST', `/workflow-runs/${r2.runId}/queue`, { tasks: [{ taskId: w.tasks[0] }] });
    const fresh = q.instances[0].instanceId as number;
    await ok('POST', `/task-instances/${fresh}/transition`, { to: 'RUNNING', via: ['INSTANTIATED', 'LAUNCHED'] });
    // The old worker had finished before it saw the kill: its DONE is recorded on its own instance
    // but must not finish the task the new attempt is still running.
    const late = await ok('POST', `/task-instances/${old}/transition`, { to: 'DONE', exitCode: 0 });
    expect(late.status).toBe('DONE');
    expect(await taskRow(w.tasks[0]!)).toMatchObject({ status: 'RUNNING' });
    await ok('POST', `/task-instances/${fresh}/transition`, { to: 'DONE', exitCode: 0 });
    expect((await taskRow(w.tasks[0]!)).status).toBe('DONE');
  });

  it('a replica that takes the reaper lease over gives runners a whole window before judging them', async () => {
    // Another replica held the lease and died long ago; this run reported to it and its deadline
    // has just passed. A reaper up for ages would end it; one taking over must wait a window.
    const w = await startedWorkflow(1);
    const now = Date.now();
    await db.kysely
      .updateTable('workflow_run')
      .set({ heartbeat_at: now - 1_001, report_by: now - 1 })
      .where('id', '=', w.runId)
      .execute();
    await db.kysely.insertInto('lease').values({ name: 'reaper', holder: 'dead-replica', expires_at: 0 }).execute();
    const successor = new Reaper(db, {
      intervalMs: 1_000_000,
      graceMs: GRACE,
      upSince: 0,
      lease: { holder: 'successor', periodMs: 60_000 },
    });
    successor.start();
    try {
      for (let i = 0; i < 500 && successor.passes === 0; i++) await new Promise((r) => setTimeout(r, 10));
    } finally {
      await successor.stop(); // waits for the pass in progress
    }
    expect(successor.passes).toBe(1);
    expect((await run(w.runId)).status).toBe('RUNNING');
    // It handed the lease back on stop.
    expect(await db.kysely.selectFrom('lease').selectAll().execute()).toEqual([]);
  });
});
