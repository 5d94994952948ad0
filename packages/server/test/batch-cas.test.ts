// A compare-and-set miss inside a batch of instance transitions (someone moved the instance or its
// task between our read and our write) is that item's result, "moved"; the rest of the batch
// applies. Played with the service's test hook, on SQLite and on PostgreSQL.

import { afterEach, describe, expect, it } from 'vitest';
import { testHooks } from '../src/services/test-hooks.js';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { apiHelpers, testApp } from './support.js';

const ctx = testApp('batch_cas');

afterEach(() => {
  delete testHooks.afterRead;
});

const { call, ok, runningWorkflow, taskRow } = apiHelpers(() => ctx);

async function running(n: number) {
  const w = await runningWorkflow(n);
  await ok('POST', '/task-instances/transitions', {
    items: w.instances.map((id) => ({ id, to: 'RUNNING', via: ['INSTANTIATED', 'LAUNCHED'] })),
  });
  return w;
}

const status = async (id: number) =>
  (await ctx.db.kysely.selectFrom('task_instance').select('status').where('id', '=', id).executeTakeFirstOrThrow())
    .status;

describe(`a batch with a compare-and-set miss on ${TEST_DB_KIND}`, () => {
  it('reports the instance someone moved first as "moved" and applies the rest (200, not a 409 for the batch)', async () => {
    const w = await running(3);
    const [a, b, c] = w.instances as [number, number, number];
    // A stop lands on b between the batch's read and its write.
    testHooks.afterRead = async (_at, tx) => {
      await tx.db.updateTable('task_instance').set({ status: 'KILL_SELF' }).where('id', '=', b).execute();
    };
    const r = await call('POST', '/task-instances/transitions', {
      items: [a, b, c].map((id) => ({ id, to: 'DONE', exitCode: 0 })),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.results.map((x: { outcome: string }) => x.outcome)).toEqual(['applied', 'moved', 'applied']);
    expect(r.body.results[1]).toMatchObject({ id: b, status: 'KILL_SELF', taskStatus: 'RUNNING' });
    expect(r.body.results[1].message).toContain(`task instance ${b}`);
    expect([await status(a), await status(b), await status(c)]).toEqual(['DONE', 'KILL_SELF', 'DONE']);
    expect((await taskRow(w.tasks[0]!)).status).toBe('DONE');
    expect((await taskRow(w.tasks[1]!)).status).toBe('RUNNING');
    expect((await taskRow(w.tasks[2]!)).status).toBe('DONE');
    // Nothing was logged for the item that did not apply.
    const events = await ctx.db.kysely
      .selectFrom('event')
      .select(['entity', 'to_status'])
      .where('entity_id', '=', b)
      .where('entity', '=', 'task_instance')
      .where('to_status', '=', 'DONE')
      .execute();
    expect(events).toEqual([]);
  });

  it('does the same in a batch that names an instance twice (applied item by item)', async () => {
    const w = await running(2);
    const [a, b] = w.instances as [number, number];
    testHooks.afterRead = async (_at, tx) => {
      await tx.db.updateTable('task_instance').set({ status: 'KILL_SELF' }).where('id', '=', b).execute();
    };
    const r = await call('POST', '/task-instances/transitions', {
      items: [a, b, a].map((id) => ({ id, to: 'DONE', exitCode: 0 })),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.results.map((x: { outcome: string }) => x.outcome)).toEqual(['applied', 'moved', 'untimely']);
    expect([await status(a), await status(b)]).toEqual(['DONE', 'KILL_SELF']);
  });

  it('reports an item whose task someone moved first as "moved", leaving its instance as it was', async () => {
    const w = await running(2);
    const [a, b] = w.instances as [number, number];
    // A resume resets b's task between the batch's read and its write.
    testHooks.afterRead = async (_at, tx) => {
      await tx.db.updateTable('task').set({ status: 'REGISTERING' }).where('id', '=', w.tasks[1]!).execute();
    };
    const r = await call('POST', '/task-instances/transitions', {
      items: [a, b].map((id) => ({ id, to: 'DONE', exitCode: 0 })),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.results.map((x: { outcome: string }) => x.outcome)).toEqual(['applied', 'moved']);
    expect(r.body.results[1]).toMatchObject({ id: b, status: 'RUNNING', taskStatus: 'REGISTERING' });
    expect([await status(a), await status(b)]).toEqual(['DONE', 'RUNNING']);
    expect(await ok('GET', `/task-instances/${b}`)).toMatchObject({ exitCode: null });
  });
});
