// Counts the database keeps itself, so that no write path can forget them and no read has to walk a
// workflow's tasks (a 1,000,000-task workflow's status read 1M rows twice):
// - task_count (workflow_id, task_template_version_id, status, n): tasks per workflow, template
//   version and status. Rows reaching n = 0 stay (a task moving back and forth does not delete and
//   re-insert them); readers skip them.
// - done_wall_time (workflow_run_id, task_template_version_id, n, n_timed, wall_ms): the instances of
//   a run that are DONE, how many of them have a wall time, and the sum of those wall times. The
//   wall time arrives with the DONE status in one UPDATE, or later in a repeated DONE report
//   (services/instances.ts, updateInstanceFacts), so the trigger takes out the old row's share and
//   adds the new row's whenever either side is DONE.
// Kept by triggers on task and task_instance (INSERT, UPDATE, DELETE). SQLite: row-level triggers.
// PostgreSQL: statement-level triggers over transition tables (one grouped upsert per statement,
// in key order, so batches do not deadlock on the count rows; bench/transitions.mjs measured both).
// The triggers are made before the backfill, in the migration's transaction: exact from the start.
// - dag_template_edge (dag_id, upstream_template_id, downstream_template_id): a DAG's template
//   graph, for the estimate (a join over every edge: 0.5–1.4 s at 1M edges on PostgreSQL, per
//   server process, and the embedded server is a new process per CLI command). A DAG's edges never
//   change once it is bound, so the run's LINKING → BOUND writes it once (services/runs.ts), with
//   the statement of the backfill here (queries/template-edges.ts); no per-edge trigger on the bind.

import { sql, type Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

const SQLITE_TRIGGERS = [
  `create trigger task_count_ins after insert on task begin
    insert into task_count (workflow_id, task_template_version_id, status, n)
      values (new.workflow_id, new.task_template_version_id, new.status, 1)
      on conflict (workflow_id, task_template_version_id, status) do update set n = n + 1;
  end`,
  `create trigger task_count_upd after update of status, workflow_id, task_template_version_id on task
  when old.status is not new.status or old.workflow_id is not new.workflow_id
    or old.task_template_version_id is not new.task_template_version_id
  begin
    update task_count set n = n - 1 where workflow_id = old.workflow_id
      and task_template_version_id = old.task_template_version_id and status = old.status;
    insert into task_count (workflow_id, task_template_version_id, status, n)
      values (new.workflow_id, new.task_template_version_id, new.status, 1)
      on conflict (workflow_id, task_template_version_id, status) do update set n = n + 1;
  end`,
  `create trigger task_count_del after delete on task begin
    update task_count set n = n - 1 where workflow_id = old.workflow_id
      and task_template_version_id = old.task_template_version_id and status = old.status;
  end`,
  `create trigger done_wall_time_ins after insert on task_instance when new.status = 'DONE' begin
    insert into done_wall_time (workflow_run_id, task_template_version_id, n, n_timed, wall_ms)
      select new.workflow_run_id, t.task_template_version_id, 1, new.wall_time_ms is not null,
        coalesce(new.wall_time_ms, 0) from task t where t.id = new.task_id
      on conflict (workflow_run_id, task_template_version_id) do update set n = n + excluded.n,
        n_timed = n_timed + excluded.n_timed, wall_ms = wall_ms + excluded.wall_ms;
  end`,
  `create trigger done_wall_time_upd after update of status, wall_time_ms, workflow_run_id, task_id on task_instance
  when (old.status = 'DONE' or new.status = 'DONE') and (old.status is not new.status
    or old.wall_time_ms is not new.wall_time_ms or old.workflow_run_id is not new.workflow_run_id
    or old.task_id is not new.task_id)
  begin
    update done_wall_time set n = n - 1, n_timed = n_timed - (old.wall_time_ms is not null),
        wall_ms = wall_ms - coalesce(old.wall_time_ms, 0)
      where old.status = 'DONE' and workflow_run_id = old.workflow_run_id
        and task_template_version_id = (select task_template_version_id from task where id = old.task_id);
    insert into done_wall_time (workflow_run_id, task_template_version_id, n, n_timed, wall_ms)
      select new.workflow_run_id, t.task_template_version_id, 1, new.wall_time_ms is not null,
        coalesce(new.wall_time_ms, 0) from task t where new.status = 'DONE' and t.id = new.task_id
      on conflict (workflow_run_id, task_template_version_id) do update set n = n + excluded.n,
        n_timed = n_timed + excluded.n_timed, wall_ms = wall_ms + excluded.wall_ms;
  end`,
  `create trigger done_wall_time_del after delete on task_instance when old.status = 'DONE' begin
    update done_wall_time set n = n - 1, n_timed = n_timed - (old.wall_time_ms is not null),
        wall_ms = wall_ms - coalesce(old.wall_time_ms, 0)
      where workflow_run_id = old.workflow_run_id
        and task_template_version_id = (select task_template_version_id from task where id = old.task_id);
  end`,
];

// One function per table and event: a statement's rows become signed deltas (its old rows count
// -1, its new ones +1, so a row whose key did not change cancels out), grouped by key, applied in
// key order. ON CONFLICT ... DO UPDATE locks the row and adds to its latest committed value, so
// concurrent transactions under READ COMMITTED never lose a count. No joins between the transition
// tables: PL/pgSQL plans these parameterless statements once per session, with the row count of
// the first call, and a plan made for one row must still serve 2,000 (an instance's template
// version is looked up by key, one probe per DONE row, whatever the plan).
const TASK_DELTA = (rows: string, sign: number) =>
  `select workflow_id, task_template_version_id, status, ${sign} as d from ${rows}`;
const DONE_DELTA = (rows: string, sign: number) =>
  `select r.workflow_run_id,
     (select t.task_template_version_id from task t where t.id = r.task_id) as task_template_version_id,
     ${sign} as d, ${sign} * (r.wall_time_ms is not null)::int as dt, ${sign} * coalesce(r.wall_time_ms, 0) as dw
   from ${rows} r where r.status = 'DONE'`;
const TASK_APPLY = (deltas: string) => `
  insert into task_count as c (workflow_id, task_template_version_id, status, n)
  select workflow_id, task_template_version_id, status, sum(d) from (${deltas}) x
  group by 1, 2, 3 having sum(d) <> 0 order by 1, 2, 3
  on conflict (workflow_id, task_template_version_id, status) do update set n = c.n + excluded.n`;
const DONE_APPLY = (deltas: string) => `
  insert into done_wall_time as c (workflow_run_id, task_template_version_id, n, n_timed, wall_ms)
  select workflow_run_id, task_template_version_id, sum(d), sum(dt), sum(dw) from (${deltas}) x
  group by 1, 2 having sum(d) <> 0 or sum(dt) <> 0 or sum(dw) <> 0 order by 1, 2
  on conflict (workflow_run_id, task_template_version_id) do update
    set n = c.n + excluded.n, n_timed = c.n_timed + excluded.n_timed, wall_ms = c.wall_ms + excluded.wall_ms`;

function pgFunction(name: string, body: string): string {
  return `create function ${name}() returns trigger language plpgsql as $$
    begin
      ${body};
      return null;
    end $$`;
}

const PG_STATEMENTS = [
  pgFunction('task_count_ins', TASK_APPLY(TASK_DELTA('new_rows', 1))),
  pgFunction('task_count_upd', TASK_APPLY(`${TASK_DELTA('old_rows', -1)} union all ${TASK_DELTA('new_rows', 1)}`)),
  pgFunction('task_count_del', TASK_APPLY(TASK_DELTA('old_rows', -1))),
  pgFunction('done_wall_time_ins', DONE_APPLY(DONE_DELTA('new_rows', 1))),
  pgFunction('done_wall_time_upd', DONE_APPLY(`${DONE_DELTA('old_rows', -1)} union all ${DONE_DELTA('new_rows', 1)}`)),
  pgFunction('done_wall_time_del', DONE_APPLY(DONE_DELTA('old_rows', -1))),
  ...(['task', 'task_instance'] as const).flatMap((table) => {
    const fn = table === 'task' ? 'task_count' : 'done_wall_time';
    return [
      `create trigger ${fn}_ins after insert on ${table} referencing new table as new_rows
        for each statement execute function ${fn}_ins()`,
      `create trigger ${fn}_upd after update on ${table} referencing old table as old_rows new table as new_rows
        for each statement execute function ${fn}_upd()`,
      `create trigger ${fn}_del after delete on ${table} referencing old table as old_rows
        for each statement execute function ${fn}_del()`,
    ];
  }),
];

export function up(dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema
      .createTable('task_count')
      .addColumn('workflow_id', 'bigint', (c) => c.notNull())
      .addColumn('task_template_version_id', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('n', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('task_count_pk', ['workflow_id', 'task_template_version_id', 'status'])
      .execute();
    await db.schema
      .createTable('done_wall_time')
      .addColumn('workflow_run_id', 'bigint', (c) => c.notNull())
      .addColumn('task_template_version_id', 'bigint', (c) => c.notNull())
      .addColumn('n', 'bigint', (c) => c.notNull())
      .addColumn('n_timed', 'bigint', (c) => c.notNull())
      .addColumn('wall_ms', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('done_wall_time_pk', ['workflow_run_id', 'task_template_version_id'])
      .execute();
    await db.schema
      .createTable('dag_template_edge')
      .addColumn('dag_id', 'bigint', (c) => c.notNull())
      .addColumn('upstream_template_id', 'bigint', (c) => c.notNull())
      .addColumn('downstream_template_id', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('dag_template_edge_pk', ['dag_id', 'upstream_template_id', 'downstream_template_id'])
      .execute();
    for (const s of dialect === 'postgres' ? PG_STATEMENTS : SQLITE_TRIGGERS) await sql.raw(s).execute(db);
    await sql`insert into task_count (workflow_id, task_template_version_id, status, n)
      select workflow_id, task_template_version_id, status, count(*) from task group by 1, 2, 3`.execute(db);
    await sql`insert into done_wall_time (workflow_run_id, task_template_version_id, n, n_timed, wall_ms)
      select i.workflow_run_id, t.task_template_version_id, count(*), count(i.wall_time_ms),
        coalesce(sum(i.wall_time_ms), 0)
      from task_instance i join task t on t.id = i.task_id where i.status = 'DONE' group by 1, 2`.execute(db);
    await sql`insert into dag_template_edge (dag_id, upstream_template_id, downstream_template_id)
      select distinct e.dag_id, un.task_template_id, dn.task_template_id
      from edge e join node un on un.id = e.upstream_node_id join node dn on dn.id = e.downstream_node_id
      where e.dag_id in (select id from dag where bound_at is not null)`.execute(db);
  };
}
