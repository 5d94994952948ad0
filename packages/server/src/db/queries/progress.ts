// Reads behind GET /workflows/{id}/progress: per-template counts, runtimes and the template graph.
// All are aggregates (one row per template, or per template pair): the answer's size does not grow
// with the number of tasks.

import { sql } from 'kysely';
import type { Q } from '../conn.js';

/** Tasks per template and status, with the template's name. */
export function templateCounts(q: Q, workflowId: number) {
  return q.db
    .selectFrom('task as t')
    .innerJoin('task_template_version as v', 'v.id', 't.task_template_version_id')
    .innerJoin('task_template as tt', 'tt.id', 'v.task_template_id')
    .select(['tt.id as template_id', 'tt.name as name', 't.status as status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('t.workflow_id', '=', workflowId)
    .groupBy(['tt.id', 'tt.name', 't.status'])
    .execute();
}

/**
 * Per template: finished (DONE) instances of these runs, their mean wall time; running ones, mean
 * start. Also, per group, the command time that fell in [since, now] (`busy_ms`; a finished
 * instance's command ran from status_at − wall_time_ms to status_at, a running one's from
 * status_at on) and the earliest command start (`first_start`): eta.ts's measured concurrency.
 */
export function templateRuntimes(q: Q, runIds: readonly number[], since: number, now: number) {
  const start = sql<number>`(case when i.status = 'DONE' then i.status_at - coalesce(i.wall_time_ms, 0) else i.status_at end)`;
  const end = sql<number>`(case when i.status = 'DONE' then i.status_at else ${now} end)`;
  return q.db
    .selectFrom('task_instance as i')
    .innerJoin('task as t', 't.id', 'i.task_id')
    .innerJoin('task_template_version as v', 'v.id', 't.task_template_version_id')
    .select([
      'v.task_template_id as template_id',
      'i.status as status',
      (eb) => eb.fn.countAll<number>().as('n'),
      (eb) => eb.fn.avg<number>('i.wall_time_ms').as('mean_wall_ms'),
      (eb) => eb.fn.avg<number>('i.status_at').as('mean_status_at'),
      // Portable (no greatest/max of two): the overlap of [start, end] with [since, now].
      sql<number>`sum(case when ${end} <= ${since} then 0 when ${start} >= ${since} then ${end} - ${start}
        else ${end} - ${since} end)`.as('busy_ms'),
      sql<number>`min(${start})`.as('first_start'),
    ])
    .where('i.workflow_run_id', 'in', runIds)
    .where('i.status', 'in', ['DONE', 'RUNNING'])
    .groupBy(['v.task_template_id', 'i.status'])
    .execute();
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
