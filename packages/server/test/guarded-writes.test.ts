// Writes outside the instance batch that move many rows (queueing tasks, the resume reset at bind)
// or follow another move (a workflow following its run) are guarded by the state tables and check
// the rows they changed: a mismatch is an error naming the entity, and nothing is written. Someone
// moving a row first is played with the services' test hook, on SQLite and on PostgreSQL.

import { afterEach, describe, expect, it } from 'vitest';
import { testHooks, type HookPoint } from '../src/services/test-hooks.js';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { apiHelpers, testApp } from './support.js';

const ctx = testApp('guarded');

afterEach(() => {
  delete testHooks.afterRead;
});

const { call, ok, snapshot, bindWorkflow, startedWorkflow } = apiHelpers(() => ctx);

/** At `point`, someone sets `table` row `id` to `status` first. */
function someoneMoves(point: HookPoint, table: 'task' | 'workflow', id: number, status: string): void {
  testHooks.afterRead = async (at, tx) => {
    if (at === point) await tx.db.updateTable(table).set({ status }).where('id', '=', id).execute();
  };
}

describe(`guarded multi-row writes on ${TEST_DB_KIND}`, () => {
  it('queueing: a task moved by someone else first fails the request naming it, and nothing is queued', async () => {
    const w = await startedWorkflow(3);
    const snap = await snapshot();
    someoneMoves('queue', 'task', w.tasks[1]!, 'DONE');
    const r = await call('POST', `/workflow-runs/${w.runId}/queue`, { tasks: w.tasks.map((taskId) => ({ taskId })) });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body).toMatchObject({ code: 'JM_ILLEGAL_TRANSITION', details: { entity: 'task', id: w.tasks[1] } });
    expect(r.body.message).toContain(`task ${w.tasks[1]}`);
    expect(await snapshot()).toEqual(snap);
  });

  it('resume reset: a task moved by someone else first fails the bind naming it, and nothing is reset', async () => {
    const w = await bindWorkflow(2);
    await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: 'ERROR' });
    const r2 = await ok('POST', `/workflows/${w.workflowId}/runs`, {
      user: 'u',
      host: 'h',
      pid: 2,
      jobmonVersion: '0.1.0',
    });
    const snap = await snapshot();
    someoneMoves('resume', 'task', w.tasks[1]!, 'DONE');
    const r = await call('PUT', `/workflow-runs/${r2.runId}/tasks`, { tasks: w.taskBody });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body).toMatchObject({ code: 'JM_ILLEGAL_TRANSITION', details: { entity: 'task', id: w.tasks[1] } });
    expect(r.body.message).toContain(`task ${w.tasks[1]}`);
    expect(await snapshot()).toEqual(snap);
  });

  it("workflow cascade: a workflow moved by someone else first fails its run's move naming it", async () => {
    const w = await bindWorkflow(1);
    const snap = await snapshot();
    someoneMoves('workflow', 'workflow', w.workflowId, 'HALTED');
    const r = await call('PUT', `/workflow-runs/${w.runId}/status`, { status: 'INSTANTIATED' });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body).toMatchObject({ code: 'JM_ILLEGAL_TRANSITION', details: { entity: 'workflow', id: w.workflowId } });
    expect(r.body.message).toContain(`workflow ${w.workflowId}`);
    expect(await snapshot()).toEqual(snap);
  });
});
