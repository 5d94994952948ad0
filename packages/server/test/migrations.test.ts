// Migrations on both dialects (JOBMON_TEST_DB picks one): from an empty database to the latest, and
// an upgrade — a database at the previous migration, holding a workflow, a run and an instance, is
// opened by this version: the rows survive, the new columns are null, the new meta row holds the
// database id and a cluster's renamed options column keeps its value; error rows written before
// 0013 get their workflow, task and normalised pattern.

import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATION_NAMES, openDb } from '@jobmon/server';
import { sql } from 'kysely';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';

const dbs: TestDb[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});
async function fresh(label: string): Promise<string> {
  const d = await createTestDb(label);
  dbs.push(d);
  return d.target;
}
const applied = async (db: Awaited<ReturnType<typeof openDb>>) =>
  (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db.kysely)).rows.map(
    (r) => r.name,
  );

describe(`migrations on ${TEST_DB_KIND}`, () => {
  it('from empty: every migration runs once, in order, and the database gets its id', async () => {
    const target = await fresh('mig-empty');
    const db = await openDb(target);
    try {
      expect(await applied(db)).toEqual([...MIGRATION_NAMES]);
      expect(db.id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await db.close();
    }
    const again = await openDb(target);
    try {
      expect(await applied(again)).toEqual([...MIGRATION_NAMES]);
    } finally {
      await again.close();
    }
  });

  it('from an earlier migration with data: rows survive and the new columns have their defaults', async () => {
    // 0005, the last one before a column was renamed (0006); later ones (0007: the seeded slurm cluster; 0008: indexes) run on top.
    const previous = '0005-workflow-list';
    const target = await fresh('mig-upgrade');
    const old = await openDb(target, { migrateTo: previous });
    try {
      expect(await applied(old)).toEqual(MIGRATION_NAMES.slice(0, MIGRATION_NAMES.indexOf(previous) + 1));
      const k = old.kysely;
      // Written as a version at `previous` would have: plain SQL against that schema.
      await sql`insert into tool (id, name, created_at) values (1, 'my_model', 1000)`.execute(k);
      await sql`insert into tool_version (id, tool_id, created_at) values (1, 1, 1000)`.execute(k);
      await sql`insert into dag (id, hash, created_at, bound_at) values (1, 'dag-hash', 1000, 1001)`.execute(k);
      await sql`insert into workflow (id, tool_version_id, dag_id, args_hash, task_hash, workflow_args, name, description, status,
        max_concurrently_running, task_count, created_at, status_at, bound_at)
        values (1, 1, 1, 'a', 't', '{"year":2025}', 'my_model_2025', '', 'RUNNING', 10000, 1, 1000, 1002, 1001)`.execute(
        k,
      );
      await sql`insert into workflow_run (id, workflow_id, status, "user", host, pid, jobmon_version, created_at, status_at, heartbeat_at, report_by)
        values (1, 1, 'RUNNING', 'me', 'here', 4242, '0.1.0', 1002, 1003, 1004, 99999)`.execute(k);
      await sql`insert into task_instance (id, workflow_run_id, workflow_id, task_id, status, status_at, created_at, cluster_id, queue_id, resources, exit_code)
        values (1, 1, 1, 1, 'DONE', 1006, 1005, 2, 2, '{}', 0)`.execute(k);
      await sql`insert into request_log (key, method, url, status, body, created_at) values ('k1', 'POST', '/api/v1/x', 200, '{}', 1007)`.execute(
        k,
      );
      await sql`insert into cluster (name, type, connection) values ('mine', 'local', '{"parallelism":2}')`.execute(k);
    } finally {
      await old.close();
    }

    const db = await openDb(target);
    try {
      expect(await applied(db)).toEqual([...MIGRATION_NAMES]);
      expect(db.id).toMatch(/^[0-9a-f-]{36}$/);
      const k = db.kysely;
      expect(await k.selectFrom('workflow').select(['id', 'name', 'status', 'workflow_args']).execute()).toEqual([
        { id: 1, name: 'my_model_2025', status: 'RUNNING', workflow_args: '{"year":2025}' },
      ]);
      expect(
        await k
          .selectFrom('workflow_run')
          .select(['id', 'pid', 'heartbeat_at', 'report_by', 'process_start', 'cwd'])
          .execute(),
      ).toEqual([{ id: 1, pid: 4242, heartbeat_at: 1004, report_by: 99999, process_start: null, cwd: null }]);
      expect(await k.selectFrom('task_instance').select(['id', 'status', 'exit_code', 'cleanup']).execute()).toEqual([
        { id: 1, status: 'DONE', exit_code: 0, cleanup: null },
      ]);
      expect(await k.selectFrom('request_log').select(['key', 'status']).execute()).toEqual([
        { key: 'k1', status: 200 },
      ]);
      // 0006: a cluster's `connection` is its `options`; the seeded and the user's clusters keep theirs.
      expect(await k.selectFrom('cluster').select(['name', 'type', 'options']).orderBy('id').execute()).toEqual([
        { name: 'sequential', type: 'sequential', options: '{}' },
        { name: 'local', type: 'local', options: '{}' },
        { name: 'dummy', type: 'dummy', options: '{}' },
        { name: 'mine', type: 'local', options: '{"parallelism":2}' },
        // 0007: the seeded slurm cluster.
        { name: 'slurm', type: 'slurm', options: '{}' },
      ]);
      expect(
        await k
          .selectFrom('queue')
          .innerJoin('cluster', 'cluster.id', 'queue.cluster_id')
          .select('queue.name')
          .where('cluster.name', '=', 'slurm')
          .execute(),
      ).toEqual([{ name: 'default' }]);
    } finally {
      await db.close();
    }
  });

  it('0013 backfills the workflow, task and pattern of error rows written before it', async () => {
    const previous = MIGRATION_NAMES[MIGRATION_NAMES.indexOf('0013-error-patterns') - 1]!;
    const target = await fresh('mig-patterns');
    const old = await openDb(target, { migrateTo: previous });
    try {
      const k = old.kysely;
      await sql`insert into task_instance (id, workflow_run_id, workflow_id, task_id, status, status_at, created_at, cluster_id, queue_id, resources)
        values (1, 1, 7, 70, 'ERROR', 1, 1, 1, 1, '{}'), (2, 1, 7, 71, 'ERROR', 1, 1, 1, 1, '{}'), (3, 2, 8, 80, 'ERROR', 1, 1, 1, 1, '{}')`.execute(
        k,
      );
      // More rows than one backfill batch (500), differing only in paths and numbers.
      await sql`with recursive c(n) as (select 1 union all select n + 1 from c where n < 1201)
        insert into task_instance_error (task_instance_id, at, error_class, message)
        select 1 + n % 2, n, 'application', 'cannot open /data/run_' || n || '/part.csv for task ' || n from c`.execute(
        k,
      );
      await sql`insert into task_instance_error (task_instance_id, at, error_class, message)
        values (3, 5000, 'application', 'KeyError: ''region_9''')`.execute(k);
    } finally {
      await old.close();
    }
    const db = await openDb(target);
    try {
      const rows = await db.kysely
        .selectFrom('task_instance_error')
        .select((eb) => ['task_instance_id', 'workflow_id', 'task_id', 'pattern', eb.fn.countAll<number>().as('n')])
        .groupBy(['task_instance_id', 'workflow_id', 'task_id', 'pattern'])
        .orderBy('task_instance_id')
        .execute();
      expect(rows.map((r) => ({ ...r, n: Number(r.n) }))).toEqual([
        { task_instance_id: 1, workflow_id: 7, task_id: 70, pattern: 'cannot open <path> for task <n>', n: 600 },
        { task_instance_id: 2, workflow_id: 7, task_id: 71, pattern: 'cannot open <path> for task <n>', n: 601 },
        { task_instance_id: 3, workflow_id: 8, task_id: 80, pattern: "KeyError: '<q>'", n: 1 },
      ]);
    } finally {
      await db.close();
    }
  });
});
