// The counts the database keeps (migration 0012: task_count, done_wall_time) against the tables
// they summarise: after tasks move by the services' own paths (bind, queue, instance transitions,
// a repeated DONE report carrying the wall time, an operator's task update), after raw UPDATEs and
// DELETEs, after a backfill of a database written before 0012, and — on PostgreSQL — after
// transactions that update the same count rows at once. And the template graph written at bind.

import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { waitFor } from '../../../test-support/wait.js';
import { apiHelpers, testApp } from './support.js';

const ctx = testApp('task-counts');
const { ok, bindWorkflow, runningWorkflow } = apiHelpers(() => ctx);

type Row = Record<string, number | string>;
type K = Db['kysely'];
const norm = (rows: Row[]) =>
  rows
    .map((r) =>
      JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === 'status' ? v : Number(v)]))),
    )
    .sort();

/** task_count (n > 0) and a GROUP BY over task, in the same shape. */
async function taskCounts(k: K) {
  const kept =
    await sql<Row>`select workflow_id, task_template_version_id, status, n from task_count where n <> 0`.execute(k);
  const real = await sql<Row>`select workflow_id, task_template_version_id, status, count(*) as n from task
    group by workflow_id, task_template_version_id, status`.execute(k);
  return { kept: norm(kept.rows), real: norm(real.rows) };
}

/** done_wall_time (rows with anything in them) and the same sums computed from task_instance. */
async function doneTimes(k: K) {
  const kept = await sql<Row>`select workflow_run_id, task_template_version_id, n, n_timed, wall_ms from done_wall_time
    where n <> 0 or n_timed <> 0 or wall_ms <> 0`.execute(k);
  const real = await sql<Row>`select i.workflow_run_id, t.task_template_version_id, count(*) as n,
      count(i.wall_time_ms) as n_timed, coalesce(sum(i.wall_time_ms), 0) as wall_ms
    from task_instance i join task t on t.id = i.task_id where i.status = 'DONE'
    group by i.workflow_run_id, t.task_template_version_id`.execute(k);
  return { kept: norm(kept.rows), real: norm(real.rows) };
}

async function expectExact(k: K, when: string) {
  const c = await taskCounts(k);
  expect(c.kept, `task_count ${when}`).toEqual(c.real);
  const d = await doneTimes(k);
  expect(d.kept, `done_wall_time ${when}`).toEqual(d.real);
}

const tr = (items: unknown[]) => ok('POST', '/task-instances/transitions', { items });

describe(`maintained counts on ${TEST_DB_KIND}`, () => {
  it('equal a GROUP BY over the tables as tasks move by the service paths and by raw SQL', async () => {
    const k = ctx.db.kysely;
    const a = await runningWorkflow(8);
    const b = await runningWorkflow(3);
    await expectExact(k, 'after bind and queue');
    const [i0, i1, i2, i3, i4, i5] = a.instances as [number, number, number, number, number, number];
    await tr([i0, i1, i2, i3, i4, i5].map((id) => ({ id, to: 'RUNNING', via: ['INSTANTIATED', 'LAUNCHED'] })));
    await expectExact(k, 'after RUNNING');
    await tr([
      { id: i0, to: 'DONE', exitCode: 0, wallTimeMs: 1000 },
      { id: i1, to: 'DONE', exitCode: 0, wallTimeMs: 3000 },
      { id: i2, to: 'DONE', exitCode: 0 },
      { id: i3, to: 'ERROR', exitCode: 1 },
    ]);
    await expectExact(k, 'after DONE and ERROR in one batch');
    // The wall time may come after the DONE status, in a repeated report of it.
    await tr([{ id: i2, to: 'DONE', wallTimeMs: 2000 }]);
    await expectExact(k, 'after a late wall time');
    const detail = await ok('GET', `/workflows/${a.workflowId}`);
    expect(detail.counts).toEqual({ DONE: 3, REGISTERING: 1, RUNNING: 2, QUEUED: 2 });
    const progress = await ok('GET', `/workflows/${a.workflowId}/progress`);
    expect(progress.templates[0].runtimeSeconds).toBe(2);
    expect(progress.templates[0].counts).toEqual({ PENDING: 1, SCHEDULED: 2, RUNNING: 2, DONE: 3, FATAL: 0 });

    // The run ends (its live instances are killed, their tasks wait again); then an operator sets
    // DONE tasks back to REGISTERING and a waiting one to DONE.
    await ok('PUT', `/workflow-runs/${a.runId}/status`, { status: 'ERROR' });
    await expectExact(k, 'after the run ended');
    await ok('POST', '/tasks/status', { taskIds: [a.tasks[0], a.tasks[1]], status: 'REGISTERING' });
    await ok('POST', '/tasks/status', { taskIds: a.tasks.slice(2, 4), status: 'DONE' });
    await expectExact(k, 'after operator task updates');

    // Raw writes, as a repair script would make them: the triggers see every path.
    await sql`update task set status = 'DONE' where workflow_id = ${b.workflowId}`.execute(k);
    await sql`update task_instance set status = 'DONE', wall_time_ms = 7 where workflow_run_id = ${b.runId}`.execute(k);
    await sql`update task_instance set wall_time_ms = null where id = ${b.instances[0]!}`.execute(k);
    await sql`update task set task_template_version_id = ${b.versionId} where id = ${a.tasks[7]!}`.execute(k);
    await expectExact(k, 'after raw updates');
    expect((await ok('GET', `/workflows/${b.workflowId}`)).counts).toEqual({ DONE: 3 });
    // A task goes with its instances (the instance's template is read through its task).
    await sql`delete from task_instance where id in (${b.instances[1]!}, ${b.instances[2]!})`.execute(k);
    await sql`delete from task where id = ${b.tasks[2]!}`.execute(k);
    await expectExact(k, 'after raw deletes');
    expect((await ok('GET', `/workflows/${b.workflowId}`)).counts).toEqual({ DONE: 2 });
  });

  it('are exact under many concurrent transition requests', async () => {
    const k = ctx.db.kysely;
    const w = await runningWorkflow(40);
    // One request per instance, all at once: on PostgreSQL, up to 10 transactions (the pool) move
    // tasks of the same workflow and template together.
    await Promise.all(w.instances.map((id) => tr([{ id, to: 'RUNNING', via: ['INSTANTIATED', 'LAUNCHED'] }])));
    await Promise.all(w.instances.map((id, i) => tr([{ id, to: 'DONE', exitCode: 0, wallTimeMs: i }])));
    await expectExact(k, 'after concurrent requests');
    expect((await ok('GET', `/workflows/${w.workflowId}`)).counts).toEqual({ DONE: 40 });
  });

  it.runIf(TEST_DB_KIND === 'postgres')(
    'PostgreSQL: a transaction that updates count rows another holds waits, then adds to its committed value',
    async () => {
      const w = await runningWorkflow(6);
      const url = ctx.db.location;
      const c1 = new pg.Client({ connectionString: url });
      const c2 = new pg.Client({ connectionString: url });
      await c1.connect();
      await c2.connect();
      try {
        await c1.query('begin');
        await c1.query(`update task set status = 'INSTANTIATING' where id = any($1)`, [w.tasks.slice(0, 3)]);
        await c2.query('begin');
        const pid2 = (await c2.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
        const second = c2.query(`update task set status = 'INSTANTIATING' where id = any($1)`, [w.tasks.slice(3)]);
        // The second transaction's trigger waits for the first's lock on the (QUEUED) count row.
        await waitFor('the second update to wait for a lock', async () => {
          const r = await c1.query<{ w: string | null }>(
            'select wait_event_type as w from pg_stat_activity where pid = $1',
            [pid2],
          );
          return r.rows[0]?.w === 'Lock';
        });
        await c1.query('commit');
        await second;
        await c2.query('commit');
      } finally {
        await c1.end();
        await c2.end();
      }
      await expectExact(ctx.db.kysely, 'after two overlapping transactions');
      expect((await ok('GET', `/workflows/${w.workflowId}`)).counts).toEqual({ INSTANTIATING: 6 });
    },
  );
});

describe(`template graph on ${TEST_DB_KIND}`, () => {
  it('is written when a DAG is first bound, and equals the pairs of templates of its edges', async () => {
    const k = ctx.db.kysely;
    const w = await bindWorkflow(4, { chain: true, bound: false });
    const kept = () =>
      k
        .selectFrom('dag_template_edge')
        .select(['upstream_template_id', 'downstream_template_id'])
        .where('dag_id', '=', w.dagId)
        .execute();
    expect(await kept()).toEqual([]);
    await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: 'BOUND', taskCount: 4 });
    const live = await sql<{ u: number; d: number }>`select distinct un.task_template_id as u, dn.task_template_id as d
      from edge e join node un on un.id = e.upstream_node_id join node dn on dn.id = e.downstream_node_id
      where e.dag_id = ${w.dagId}`.execute(k);
    expect(live.rows).toHaveLength(1);
    expect((await kept()).map((r) => [Number(r.upstream_template_id), Number(r.downstream_template_id)])).toEqual(
      live.rows.map((r) => [Number(r.u), Number(r.d)]),
    );
  });
});

describe(`migration 0012 on ${TEST_DB_KIND}`, () => {
  const dbs: TestDb[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });

  it('backfills the counts of a database written before it', async () => {
    const t = await createTestDb('counts-backfill');
    dbs.push(t);
    let db: Db = await openDb(t.target, { migrateTo: '0011-resource-reads' });
    try {
      const k = db.kysely;
      await sql`insert into task (id, workflow_id, node_id, task_args_hash, task_template_version_id, name, command,
          status, status_at, num_attempts, max_attempts, infra_failures, max_infra_failures, cluster_id, queue_id,
          resources, resource_scales, fallback_queues)
        values (1, 1, 1, 'h', 1, 't1', 'c', 'DONE', 0, 1, 3, 0, 3, 1, 1, '{}', '{}', '[]'),
               (2, 1, 2, 'h', 1, 't2', 'c', 'DONE', 0, 1, 3, 0, 3, 1, 1, '{}', '{}', '[]'),
               (3, 1, 3, 'h', 2, 't3', 'c', 'RUNNING', 0, 1, 3, 0, 3, 1, 1, '{}', '{}', '[]'),
               (4, 2, 1, 'h', 1, 't4', 'c', 'ERROR_FATAL', 0, 1, 3, 0, 3, 1, 1, '{}', '{}', '[]')`.execute(k);
      await sql`insert into dag (id, hash, created_at, bound_at) values (1, 'd1', 0, 0), (2, 'd2', 0, null)`.execute(k);
      await sql`insert into node (id, hash, task_template_id) values (1, 'n1', 1), (2, 'n2', 1), (3, 'n3', 2)`.execute(
        k,
      );
      await sql`insert into edge (dag_id, upstream_node_id, downstream_node_id)
        values (1, 1, 3), (1, 2, 3), (2, 1, 2)`.execute(k);
      await sql`insert into task_instance (id, workflow_run_id, workflow_id, task_id, status, status_at, created_at,
          cluster_id, queue_id, resources, wall_time_ms)
        values (1, 1, 1, 1, 'DONE', 0, 0, 1, 1, '{}', 100), (2, 1, 1, 2, 'DONE', 0, 0, 1, 1, '{}', null),
               (3, 1, 1, 3, 'RUNNING', 0, 0, 1, 1, '{}', null), (4, 2, 2, 4, 'ERROR', 0, 0, 1, 1, '{}', 5),
               (5, 3, 1, 1, 'DONE', 0, 0, 1, 1, '{}', 300)`.execute(k);
    } finally {
      await db.close();
    }
    db = await openDb(t.target);
    try {
      const k = db.kysely;
      const c = await taskCounts(k);
      expect(c.kept).toEqual(c.real);
      expect(c.kept).toHaveLength(3);
      const d = await doneTimes(k);
      expect(d.kept).toEqual(d.real);
      expect(d.kept).toEqual(
        norm([
          { workflow_run_id: 1, task_template_version_id: 1, n: 2, n_timed: 1, wall_ms: 100 },
          { workflow_run_id: 3, task_template_version_id: 1, n: 1, n_timed: 1, wall_ms: 300 },
        ]),
      );
      // The template graph of the bound DAG only: the other one gets its own at its binding.
      expect(
        (await sql<Row>`select * from dag_template_edge`.execute(k)).rows.map((r) => [
          Number(r['dag_id']),
          Number(r['upstream_template_id']),
          Number(r['downstream_template_id']),
        ]),
      ).toEqual([[1, 1, 2]]);
      // And the triggers run from then on.
      await sql`update task set status = 'DONE' where id = 3`.execute(k);
      await sql`update task_instance set status = 'DONE', wall_time_ms = 50 where id = 3`.execute(k);
      await expectExact(k, 'after a write on the migrated database');
    } finally {
      await db.close();
    }
  });
});
