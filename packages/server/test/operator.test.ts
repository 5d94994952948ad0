// An operator's bulk changes through the API (POST /workflows/:id/reset, POST /tasks/status), on
// SQLite and PostgreSQL: the DAG walk picks the right tasks, a dry run writes nothing (every table
// compared), each status group's guarded UPDATE rolls the whole change back when someone moved a
// task first, a listing stops at 10,000 rows with the total, and tasks an ended run left in flight
// are refused by name.

import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { testHooks } from '../src/services/test-hooks.js';
import { apiHelpers, testApp } from './support.js';

const ctx = testApp('operator');
const { call, ok, snapshot, bindWorkflow, runningWorkflow } = apiHelpers(() => ctx);

afterEach(() => {
  delete testHooks.afterRead;
});

/** Set task statuses (and attempts) by hand, as a finished run would have left them. */
async function setStatuses(ids: number[], statuses: string[]): Promise<void> {
  for (const [i, id] of ids.entries())
    await ctx.db.kysely
      .updateTable('task')
      .set({ status: statuses[i]!, num_attempts: 2 })
      .where('id', '=', id)
      .execute();
}

async function statusesOf(ids: number[]): Promise<string[]> {
  const rows = await ctx.db.kysely.selectFrom('task').select(['id', 'status']).where('id', 'in', ids).execute();
  const by = new Map(rows.map((r) => [Number(r.id), r.status]));
  return ids.map((i) => by.get(i)!);
}

/** A chain of n tasks whose run ended (ERROR), the workflow FAILED. */
async function endedChain(n: number) {
  const w = await bindWorkflow(n, { chain: true });
  await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: 'ERROR' });
  return w;
}

describe(`operator changes on ${TEST_DB_KIND}`, () => {
  it('reset --partial walks downstream of every task not DONE; a dry run writes nothing', async () => {
    const w = await endedChain(6);
    await setStatuses(w.tasks, ['DONE', 'DONE', 'DONE', 'ERROR_FATAL', 'DONE', 'REGISTERING']);
    const snap = await snapshot();
    const dry = await ok('POST', `/workflows/${w.workflowId}/reset`, { partial: true, dryRun: true });
    expect(dry).toMatchObject({ reset: 3, kept: 3, workflowFrom: 'FAILED', workflowTo: 'FAILED' });
    expect(dry.groups).toEqual([
      { template: 'step', from: 'DONE', count: 1 },
      { template: 'step', from: 'ERROR_FATAL', count: 1 },
      { template: 'step', from: 'REGISTERING', count: 1 },
    ]);
    expect(await snapshot()).toEqual(snap);

    await ok('POST', `/workflows/${w.workflowId}/reset`, { partial: true, requestedBy: { user: 'op', host: 'h' } });
    expect(await statusesOf(w.tasks)).toEqual(['DONE', 'DONE', 'DONE', 'REGISTERING', 'REGISTERING', 'REGISTERING']);
    const attempts = await ctx.db.kysely
      .selectFrom('task')
      .select(['num_attempts'])
      .where('id', 'in', w.tasks.slice(3))
      .execute();
    expect(attempts.map((a) => a.num_attempts)).toEqual([0, 0, 0]);
    const ev = await ok('GET', `/events?workflowId=${w.workflowId}&entity=workflow`);
    const last = ev.events[ev.events.length - 1];
    expect(last).toMatchObject({ actor: 'operator', from: 'FAILED', to: 'FAILED' });
    expect(last.context).toMatchObject({ operation: 'reset --partial', tasks: 3, requestedBy: { user: 'op' } });
  });

  it('task update --recursive: REGISTERING walks downstream, DONE upstream', async () => {
    const w = await endedChain(5);
    await setStatuses(w.tasks, ['DONE', 'DONE', 'DONE', 'DONE', 'DONE']);
    const down = await ok('POST', '/tasks/status', { taskIds: [w.tasks[2]], status: 'REGISTERING', recursive: true });
    expect(down).toMatchObject({ selected: 3, changed: 3, unchanged: 0 });
    expect(await statusesOf(w.tasks)).toEqual(['DONE', 'DONE', 'REGISTERING', 'REGISTERING', 'REGISTERING']);
    const up = await ok('POST', '/tasks/status', { taskIds: [w.tasks[3]], status: 'DONE', recursive: true });
    expect(up).toMatchObject({ selected: 4, changed: 2, unchanged: 2 });
    expect(up.tasks.map((t: { id: number }) => t.id)).toEqual([w.tasks[2], w.tasks[3]]);
    expect(await statusesOf(w.tasks)).toEqual(['DONE', 'DONE', 'DONE', 'DONE', 'REGISTERING']);
  });

  it('a task moved by someone else between the count and the update fails the change, and nothing is written', async () => {
    const w = await endedChain(4);
    await setStatuses(w.tasks, ['DONE', 'ERROR_FATAL', 'REGISTERING', 'REGISTERING']);
    const snap = await snapshot();
    testHooks.afterRead = async (at, tx) => {
      if (at === 'operator')
        await tx.db.updateTable('task').set({ status: 'QUEUED' }).where('id', '=', w.tasks[3]!).execute();
    };
    const r = await call('POST', `/workflows/${w.workflowId}/reset`, {});
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body).toMatchObject({
      code: 'JM_ILLEGAL_TRANSITION',
      details: { entity: 'task', workflowId: w.workflowId },
    });
    expect(await snapshot()).toEqual(snap);
  });

  it('refuses tasks an ended run left in flight, naming one; and a body naming tasks both ways', async () => {
    const w = await runningWorkflow(2);
    await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: 'ERROR' });
    const snap = await snapshot();
    const r = await call('POST', '/tasks/status', { workflowId: w.workflowId, status: 'DONE' });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.message).toContain(`task ${w.tasks[0]} 'step_0' (and 1 more of template 'step') is QUEUED`);
    const both = await call('POST', '/tasks/status', {
      workflowId: w.workflowId,
      taskIds: [w.tasks[0]],
      status: 'DONE',
    });
    expect(both.status).toBe(400);
    expect(both.body.message).toContain('either by id (taskIds) or by workflow (workflowId)');
    expect(await snapshot()).toEqual(snap);
    // A reset takes them back (the resume edges), so the workflow can run again.
    expect(await ok('POST', `/workflows/${w.workflowId}/reset`, {})).toMatchObject({ reset: 2 });
  });

  it('lists at most 10,000 changes with the total, and moves 10,005 tasks in bulk', async () => {
    const w = await bindWorkflow(10_005);
    await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: 'ERROR' });
    const dry = await ok('POST', '/tasks/status', { workflowId: w.workflowId, status: 'DONE', dryRun: true });
    expect(dry).toMatchObject({ selected: 10_005, changed: 10_005, truncated: true });
    expect(dry.tasks).toHaveLength(10_000);
    expect(dry.tasks[0]).toEqual({ id: w.tasks[0], name: 'step_0', template: 'step', from: 'REGISTERING', to: 'DONE' });
    const done = await ok('POST', '/tasks/status', { workflowId: w.workflowId, status: 'DONE' });
    expect(done).toMatchObject({ changed: 10_005 });
    const left = await ctx.db.kysely
      .selectFrom('task')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workflow_id', '=', w.workflowId)
      .where('status', '<>', 'DONE')
      .executeTakeFirstOrThrow();
    expect(Number(left.n)).toBe(0);
    const reset = await ok('POST', `/workflows/${w.workflowId}/reset`, {});
    expect(reset).toMatchObject({ reset: 10_005, groups: [{ template: 'step', from: 'DONE', count: 10_005 }] });
  }, 120_000);
});
