// GET /tasks/{id}/deps and GET /tasks/{id}/why through the real routes: a chain and a star of
// bound tasks, walked up and down to a depth; the walk's cap (truncated past it); bad input is a
// 400 or 404 that names the field and writes nothing; and the walk reads through its indexes.

import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { taskDeps } from '../src/services/deps.js';
import { apiHelpers, testApp, type Bound } from './support.js';

const ctx = testApp('task-deps-why');
const { call, ok, bindWorkflow, snapshot } = apiHelpers(() => ctx);

let chain: Bound;
let star: Bound;
let dense: Bound;

beforeAll(async () => {
  chain = await bindWorkflow(6, { chain: true });
  // A star: task 0 upstream of the 29 others.
  star = await bindWorkflow(30, { bound: false });
  await ok('POST', `/workflow-runs/${star.runId}/edges`, { edges: star.nodes.slice(1).map((d) => [star.nodes[0], d]) });
  await ok('PUT', `/workflow-runs/${star.runId}/status`, { status: 'BOUND', taskCount: 30 });
  // Dense: task 0 → tasks 1–5, each of them → tasks 6–8 (15 edges onto 3 tasks).
  dense = await bindWorkflow(9, { bound: false });
  const n = dense.nodes;
  const edges = [1, 2, 3, 4, 5].flatMap((a) => [[n[0], n[a]], ...[6, 7, 8].map((b) => [n[a], n[b]])]);
  await ok('POST', `/workflow-runs/${dense.runId}/edges`, { edges });
  await ok('PUT', `/workflow-runs/${dense.runId}/status`, { status: 'BOUND', taskCount: 9 });
});

const names = (r: { tasks: { name: string; depth: number }[] }) => r.tasks.map((t) => `${t.name}@${t.depth}`);

describe(`GET /tasks/{id}/deps on ${TEST_DB_KIND}`, () => {
  it('walks up and down a chain to a depth, nearest first; 0 is no limit', async () => {
    const last = chain.tasks[5]!;
    expect(names(await ok('GET', `/tasks/${last}/deps`))).toEqual(['step_4@1']);
    const all = await ok('GET', `/tasks/${last}/deps?depth=0`);
    expect(all).toMatchObject({ taskId: last, direction: 'up', depth: 0, truncated: false });
    expect(names(all)).toEqual(['step_4@1', 'step_3@2', 'step_2@3', 'step_1@4', 'step_0@5']);
    expect(all.tasks[0]).toEqual({
      id: chain.tasks[4],
      name: 'step_4',
      template: 'step',
      status: 'REGISTERING',
      depth: 1,
    });
    expect(names(await ok('GET', `/tasks/${chain.tasks[1]}/deps?direction=down&depth=2`))).toEqual([
      'step_2@1',
      'step_3@2',
    ]);
    expect((await ok('GET', `/tasks/${chain.tasks[0]}/deps`)).tasks).toEqual([]);
  });

  it('stops at its cap and says so (truncated), nearest first', async () => {
    const root = star.tasks[0]!;
    const full = await ok('GET', `/tasks/${root}/deps?direction=down`);
    expect(full.tasks.map((t: { id: number }) => t.id)).toEqual(star.tasks.slice(1));
    expect(full.truncated).toBe(false);
    const cut = await taskDeps(ctx.db, root, 'down', 0, 10);
    expect(cut.truncated).toBe(true);
    expect(cut.tasks.map((t) => t.id)).toEqual(star.tasks.slice(1, 11));
    const exact = await taskDeps(ctx.db, root, 'down', 1, 29);
    expect(exact.truncated).toBe(false);
    expect(exact.tasks).toHaveLength(29);
    // The cap holds across levels: a chain of 5 above with a cap of 3.
    const deep = await taskDeps(ctx.db, chain.tasks[5]!, 'up', 0, 3);
    expect(deep).toMatchObject({ truncated: true });
    expect(deep.tasks.map((t) => t.depth)).toEqual([1, 2, 3]);
  });

  it('counts a task reached by many edges once: duplicates do not use up the cap', async () => {
    const root = dense.tasks[0]!;
    const exact = await taskDeps(ctx.db, root, 'down', 0, 8);
    expect(exact.truncated).toBe(false);
    expect(exact.tasks.map((t) => [t.id, t.depth])).toEqual(dense.tasks.slice(1).map((id, i) => [id, i < 5 ? 1 : 2]));
    const cut = await taskDeps(ctx.db, root, 'down', 0, 7);
    expect(cut.truncated).toBe(true);
    expect(cut.tasks).toHaveLength(7);
    const up = await ok('GET', `/tasks/${dense.tasks[8]}/deps?depth=0`);
    expect(up.tasks.map((t: { id: number; depth: number }) => [t.id, t.depth])).toEqual([
      ...dense.tasks.slice(1, 6).map((id) => [id, 1]),
      [dense.tasks[0], 2],
    ]);
  });

  it('refuses bad input with a 400 or 404 naming it, and writes nothing', async () => {
    const before = await snapshot();
    for (const [q, field] of [
      ['depth=-1', 'depth'],
      ['depth=x', 'depth'],
      ['direction=sideways', 'direction'],
      ['limit=5', 'limit'],
    ]) {
      const r = await call('GET', `/tasks/${chain.tasks[0]}/deps?${q}`);
      expect(r.status, q).toBe(400);
      expect(JSON.stringify(r.body), q).toContain(field);
    }
    const missing = await call('GET', '/tasks/987654/deps');
    expect(missing.status).toBe(404);
    expect(JSON.stringify(missing.body)).toContain('task 987654 does not exist');
    expect((await call('GET', '/tasks/987654/why')).status).toBe(404);
    expect((await call('GET', '/tasks/abc/why')).status).toBe(400);
    expect(await snapshot()).toEqual(before);
  });

  it.runIf(TEST_DB_KIND === 'sqlite')(
    'reads edges through the primary key upward and edge_upstream_ix downward',
    async () => {
      const plan = async (q: string) =>
        (await sql.raw<{ detail: string }>(`explain query plan ${q}`).execute(ctx.db.kysely)).rows
          .map((r) => r.detail)
          .join('\n');
      expect(
        await plan('select upstream_node_id from edge where dag_id = 1 and downstream_node_id in (1, 2) limit 10'),
      ).toMatch(/USING COVERING INDEX sqlite_autoindex_edge_1 \(dag_id=\? AND downstream_node_id=\?\)/);
      expect(
        await plan('select downstream_node_id from edge where dag_id = 1 and upstream_node_id in (1, 2) limit 10'),
      ).toContain('USING COVERING INDEX edge_upstream_ix (dag_id=? AND upstream_node_id=?)');
      expect(await plan('select id from task where workflow_id = 1 and node_id in (1, 2)')).toMatch(
        /task_identity_uq|sqlite_autoindex_task/,
      );
    },
  );
});

describe(`GET /tasks/{id}/why on ${TEST_DB_KIND}`, () => {
  it('a bound chain: the first task is READY, the next waits for it', async () => {
    const first = await ok('GET', `/tasks/${chain.tasks[0]}/why`);
    expect(first).toMatchObject({
      taskId: chain.tasks[0],
      status: 'REGISTERING',
      template: 'step',
      workflowStatus: 'QUEUED',
    });
    expect(first.causes.map((c: { reason: string }) => c.reason)).toEqual(['READY']);
    const second = await ok('GET', `/tasks/${chain.tasks[1]}/why`);
    expect(second.causes.map((c: { reason: string }) => c.reason)).toEqual(['UPSTREAM_NOT_DONE']);
    expect(second.causes[0].details).toEqual({
      upstream: [{ id: chain.tasks[0], name: 'step_0', status: 'REGISTERING' }],
      count: 1,
      total: 1,
    });
  });

  it('UPSTREAM_FAILED: failed tasks anywhere upstream, reached through tasks not DONE only', async () => {
    // 0 → 1–5 → 6–8, as the dense workflow; 0 and 1 failed for good, 2 DONE, 3–5 wait.
    const w = await bindWorkflow(9, { bound: false });
    const n = w.nodes;
    const edges = [1, 2, 3, 4, 5].flatMap((a) => [[n[0], n[a]], ...[6, 7, 8].map((b) => [n[a], n[b]])]);
    await ok('POST', `/workflow-runs/${w.runId}/edges`, { edges });
    await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: 'BOUND', taskCount: 9 });
    const set = (i: number[], status: string) =>
      ctx.db.kysely
        .updateTable('task')
        .set({ status })
        .where(
          'id',
          'in',
          i.map((k) => w.tasks[k]!),
        )
        .execute();
    await set([0, 1], 'ERROR_FATAL');
    await set([2], 'DONE');
    const why = await ok('GET', `/tasks/${w.tasks[6]}/why`);
    expect(why.causes.map((c: { reason: string }) => c.reason)).toEqual(['UPSTREAM_NOT_DONE', 'UPSTREAM_FAILED']);
    expect(why.causes[1].details).toEqual({
      failed: [
        { id: w.tasks[1], name: 'step_1', status: 'ERROR_FATAL', depth: 1 },
        { id: w.tasks[0], name: 'step_0', status: 'ERROR_FATAL', depth: 2 },
      ],
      count: 2,
      complete: true,
    });
    // Behind a DONE task, a failed one holds nothing: a chain 0 → 1 → 2 → 3, with 0 failed and 1 DONE.
    const c = await bindWorkflow(4, { chain: true });
    const setC = (i: number[], status: string) =>
      ctx.db.kysely
        .updateTable('task')
        .set({ status })
        .where(
          'id',
          'in',
          i.map((k) => c.tasks[k]!),
        )
        .execute();
    await setC([0], 'ERROR_FATAL');
    await setC([1], 'DONE');
    const behind = await ok('GET', `/tasks/${c.tasks[3]}/why`);
    expect(behind.causes.map((x: { reason: string }) => x.reason)).toEqual(['UPSTREAM_NOT_DONE']);
    await setC([1], 'REGISTERING');
    const reached = await ok('GET', `/tasks/${c.tasks[3]}/why`);
    expect(reached.causes[1].details).toEqual({
      failed: [{ id: c.tasks[0], name: 'step_0', status: 'ERROR_FATAL', depth: 3 }],
      count: 1,
      complete: true,
    });
  });

  it('a task of a paused star: the limit of 0 is named with its run', async () => {
    await ok('PUT', `/workflows/${star.workflowId}/concurrency`, { limit: 0 });
    const why = await ok('GET', `/tasks/${star.tasks[0]}/why`);
    expect(why.causes.map((c: { reason: string }) => c.reason)).toEqual(['WORKFLOW_PAUSED']);
    expect(why.causes[0].details).toMatchObject({ limit: 0, running: 0, runId: star.runId, runStatus: 'BOUND' });
  });
});
