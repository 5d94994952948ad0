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

/** Mean wall time of the templates' tasks finished in other workflows, among the most recent `window`. */
export function earlierRuntimes(q: Q, workflowId: number, templateIds: readonly number[], window: number) {
  const recent = q.db
    .selectFrom('task_instance')
    .select(['id', 'task_id', 'wall_time_ms', 'workflow_id'])
    .where('status', '=', 'DONE')
    .orderBy('id', 'desc')
    .limit(window)
    .as('i');
  return q.db
    .selectFrom(recent)
    .innerJoin('task as t', 't.id', 'i.task_id')
    .innerJoin('task_template_version as v', 'v.id', 't.task_template_version_id')
    .select(['v.task_template_id as template_id', (eb) => eb.fn.avg<number>('i.wall_time_ms').as('mean_wall_ms')])
    .where('i.workflow_id', '<>', workflowId)
    .where('i.wall_time_ms', 'is not', null)
    .where('v.task_template_id', 'in', templateIds)
    .groupBy('v.task_template_id')
    .execute();
}

/** One task's resources per template (the runtime request), for templates with nothing finished. */
export function requestedResources(q: Q, workflowId: number, templateIds: readonly number[]) {
  const first = q.db
    .selectFrom('task as t')
    .innerJoin('task_template_version as v', 'v.id', 't.task_template_version_id')
    .select(['v.task_template_id as template_id', (eb) => eb.fn.min('t.id').as('task_id')])
    .where('t.workflow_id', '=', workflowId)
    .where('v.task_template_id', 'in', templateIds)
    .groupBy('v.task_template_id')
    .as('f');
  return q.db
    .selectFrom(first)
    .innerJoin('task as t', 't.id', 'f.task_id')
    .select(['f.template_id', 't.resources'])
    .execute();
}

/** The template graph of a DAG: distinct (upstream template, downstream template) pairs. */
export async function templateEdges(q: Q, dagId: number): Promise<[number, number][]> {
  const r = await sql<{ u: number; d: number }>`
    select distinct un.task_template_id as u, dn.task_template_id as d
    from edge e
    join node un on un.id = e.upstream_node_id
    join node dn on dn.id = e.downstream_node_id
    where e.dag_id = ${dagId}`.execute(q.db);
  return r.rows.map((x) => [Number(x.u), Number(x.d)]);
}

/** The ids of a workflow's runs. */
export async function runIdsOf(q: Q, workflowId: number): Promise<number[]> {
  const rows = await q.db.selectFrom('workflow_run').select('id').where('workflow_id', '=', workflowId).execute();
  return rows.map((r) => Number(r.id));
}
