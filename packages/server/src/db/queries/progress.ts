// Reads behind GET /workflows/{id}/progress: per-template counts, runtimes and the template graph.
// All are aggregates (one row per template, or per template pair): the answer's size does not grow
// with the number of tasks.

import { sql } from 'kysely';
import type { Q } from '../conn.js';

/** Tasks per template and status, with the template's name, from the maintained counts (0012). */
export function templateCounts(q: Q, workflowId: number) {
  return q.db
    .selectFrom('task_count as c')
    .innerJoin('task_template_version as v', 'v.id', 'c.task_template_version_id')
    .innerJoin('task_template as tt', 'tt.id', 'v.task_template_id')
    .select(['tt.id as template_id', 'tt.name as name', 'c.status as status', (eb) => eb.fn.sum<number>('c.n').as('n')])
    .where('c.workflow_id', '=', workflowId)
    .where('c.n', '>', 0)
    .groupBy(['tt.id', 'tt.name', 'c.status'])
    .execute();
}

/** Per template: the mean wall time of these runs' DONE instances, from the maintained sums (0012). */
export function templateDoneRuntimes(q: Q, runIds: readonly number[]) {
  return q.db
    .selectFrom('done_wall_time as d')
    .innerJoin('task_template_version as v', 'v.id', 'd.task_template_version_id')
    .select([
      'v.task_template_id as template_id',
      (eb) => eb.fn.sum<number>('d.n_timed').as('n_timed'),
      (eb) => eb.fn.sum<number>('d.wall_ms').as('wall_ms'),
    ])
    .where('d.workflow_run_id', 'in', runIds)
    .groupBy('v.task_template_id')
    .having((eb) => eb.fn.sum('d.n_timed'), '>', 0)
    .execute();
}

/**
 * Per template: these runs' RUNNING instances, how many and their mean start. Running instances
 * are few (bounded by concurrency): found by task_instance_run_status_ix, then their tasks by key.
 * CROSS JOIN keeps that order in SQLite, which otherwise starts from the template versions.
 */
export async function templateRunning(q: Q, runIds: readonly number[]) {
  if (runIds.length === 0) return [];
  const r = await sql<{ template_id: number; n: number; mean_status_at: number }>`
    select v.task_template_id as template_id, count(*) as n, avg(i.status_at) as mean_status_at
    from task_instance i cross join task t cross join task_template_version v
    where i.workflow_run_id in (${sql.join(runIds)}) and i.status = 'RUNNING'
      and t.id = i.task_id and v.id = t.task_template_version_id
    group by v.task_template_id`.execute(q.db);
  return r.rows;
}

/**
 * Mean wall time of the templates' tasks finished in other workflows, among the most recent
 * `window` DONE instances: read backwards by key. SQLite, given its statistics, would rather
 * collect every DONE instance through task_instance_run_status_ix and sort them (0.4 s at 1M);
 * `+status` keeps it on the key, and CROSS JOIN keeps the join order instance → task → version.
 */
export async function earlierRuntimes(q: Q, workflowId: number, templateIds: readonly number[], window: number) {
  if (templateIds.length === 0) return [];
  const status = q.dialect.name === 'sqlite' ? sql`+status` : sql`status`;
  const r = await sql<{ template_id: number; mean_wall_ms: number | null }>`
    select v.task_template_id as template_id, avg(i.wall_time_ms) as mean_wall_ms
    from (select id, task_id, wall_time_ms, workflow_id from task_instance
          where ${status} = 'DONE' order by id desc limit ${window}) i
    cross join task t cross join task_template_version v
    where t.id = i.task_id and v.id = t.task_template_version_id and i.workflow_id <> ${workflowId}
      and i.wall_time_ms is not null and v.task_template_id in (${sql.join(templateIds)})
    group by v.task_template_id`.execute(q.db);
  return r.rows;
}

/**
 * The resources of the first task (by id) of each template version, for templates with nothing
 * finished: the runtime request. One index probe per version (task_ttv_ix on SQLite, the key on
 * PostgreSQL), where grouping the workflow's tasks read every one of them.
 */
export async function requestedResources(q: Q, workflowId: number, templateIds: readonly number[]) {
  if (templateIds.length === 0) return [];
  const r = await sql<{ template_id: number; resources: string | null }>`
    select v.task_template_id as template_id,
      (select t.resources from task t where t.task_template_version_id = v.id and t.workflow_id = ${workflowId}
       order by t.id limit 1) as resources
    from task_template_version v where v.task_template_id in (${sql.join(templateIds)}) order by v.id`.execute(q.db);
  const first = new Map<number, string>();
  for (const x of r.rows)
    if (x.resources !== null && !first.has(Number(x.template_id))) first.set(Number(x.template_id), x.resources);
  return [...first].map(([template_id, resources]) => ({ template_id, resources }));
}

/** The ids of a workflow's runs. */
export async function runIdsOf(q: Q, workflowId: number): Promise<number[]> {
  const rows = await q.db.selectFrom('workflow_run').select('id').where('workflow_id', '=', workflowId).execute();
  return rows.map((r) => Number(r.id));
}

/**
 * The command time of these runs that fell in [since, now] (`busyMs`; a finished instance's command
 * ran from status_at − wall_time_ms to status_at, a running one's from status_at on) and the
 * earliest start among them: eta.ts's measured concurrency. Only instances that ran in the window
 * are read — DONE after `since`, or RUNNING — by task_instance_run_status_at_ix (0015), so the
 * read is bounded by the window, not by the run's size. Its earliest start is the run's first
 * command start whenever that start lies in the window, which is the only case it is used for.
 */
export async function recentBusy(
  q: Q,
  runIds: readonly number[],
  since: number,
  now: number,
): Promise<{ busyMs: number; firstStart: number | null }> {
  if (runIds.length === 0) return { busyMs: 0, firstStart: null };
  const start = sql<number>`(case when i.status = 'DONE' then i.status_at - coalesce(i.wall_time_ms, 0) else i.status_at end)`;
  const end = sql<number>`(case when i.status = 'DONE' then i.status_at else ${now} end)`;
  const r = await q.db
    .selectFrom('task_instance as i')
    .select([
      // Portable (no greatest/max of two): the overlap of [start, end] with [since, now].
      sql<number>`sum(case when ${end} <= ${since} then 0 when ${start} >= ${since} then ${end} - ${start}
        else ${end} - ${since} end)`.as('busy_ms'),
      sql<number>`min(${start})`.as('first_start'),
    ])
    .where('i.workflow_run_id', 'in', runIds)
    .where((eb) =>
      eb.or([eb.and([eb('i.status', '=', 'DONE'), eb('i.status_at', '>', since)]), eb('i.status', '=', 'RUNNING')]),
    )
    .executeTakeFirst();
  return {
    busyMs: Number(r?.busy_ms ?? 0),
    firstStart: r?.first_start === null || r?.first_start === undefined ? null : Number(r.first_start),
  };
}
