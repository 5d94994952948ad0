// The SQL behind `jobmon resources usage|suggest` and `jobmon nodes`: a template's finished (DONE)
// instances, the newest first and at most `limit` of them (the figures are computed on that bounded
// read), their count, and per node the instances and infrastructure failures of a window, grouped in
// SQL. Indexes (migration 0010): task_template_name_ix finds a template by name, task_ttv_ix
// (task_template_version_id, workflow_id) its tasks, in one workflow or all, task_instance_task_ix
// their instances; task_instance_created_ix bounds the window of the node report.

import { sql } from 'kysely';
import type { Q } from '../conn.js';

/** Templates named `name`, with their tool, optionally of one tool: the ambiguity check. */
export function templatesNamed(q: Q, name: string, tool?: string) {
  let s = q.db
    .selectFrom('task_template as tt')
    .innerJoin('tool_version as tv', 'tv.id', 'tt.tool_version_id')
    .innerJoin('tool as t', 't.id', 'tv.tool_id')
    .select(['tt.id', 't.name as tool'])
    .where('tt.name', '=', name);
  if (tool !== undefined) s = s.where('t.name', '=', tool);
  return s.execute();
}

export interface FinishedFilter {
  /** task_template ids (one name in one tool: one per tool version). */
  templateIds: number[];
  workflowId?: number;
  nodeArgs: [string, string][];
}

// Written as CROSS JOINs in the order template version → task → instance: SQLite then keeps that
// order (its documented planner override) instead of walking every DONE instance by status, and
// PostgreSQL reads a cross join with its conditions as the inner join it is.
function finished(q: Q, f: FinishedFilter) {
  let s = q.db
    .selectFrom('task_template_version as ttv')
    .crossJoin('task as t')
    .crossJoin('task_instance as ti')
    .whereRef('t.task_template_version_id', '=', 'ttv.id')
    .whereRef('ti.task_id', '=', 't.id')
    .where('ttv.task_template_id', 'in', f.templateIds)
    .where('ti.status', '=', 'DONE');
  if (f.workflowId !== undefined) s = s.where('t.workflow_id', '=', f.workflowId);
  for (const [name, value] of f.nodeArgs) {
    s = s.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('node_arg as na')
          .select(sql.lit(1).as('one'))
          .whereRef('na.node_id', '=', 't.node_id')
          .where('na.name', '=', name)
          .where('na.value', '=', value),
      ),
    );
  }
  return s;
}

/** How many finished instances match. */
export async function countFinished(q: Q, f: FinishedFilter): Promise<number> {
  const r = await finished(q, f)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The newest `limit` finished instances' usage and what they asked (resources JSON, after scaling). */
export function finishedUsageQuery(q: Q, f: FinishedFilter, limit: number) {
  return finished(q, f)
    .select(['ti.id', 'ti.wall_time_ms', 'ti.peak_memory_bytes', 'ti.resources'])
    .orderBy('ti.id', 'desc')
    .limit(limit);
}
export const finishedUsage = (q: Q, f: FinishedFilter, limit: number) => finishedUsageQuery(q, f, limit).execute();

/** A workflow's templates (name and id), from its tasks. */
export function templatesOfWorkflow(q: Q, workflowId: number) {
  return q.db
    .selectFrom('task as t')
    .innerJoin('task_template_version as ttv', 'ttv.id', 't.task_template_version_id')
    .innerJoin('task_template as tt', 'tt.id', 'ttv.task_template_id')
    .select(['tt.id', 'tt.name'])
    .where('t.workflow_id', '=', workflowId)
    .groupBy(['tt.id', 'tt.name'])
    .orderBy('tt.name')
    .execute();
}

/** Per node name: instances created since `since` and those of them with an infrastructure error. */
export const nodeFailures = (q: Q, since: number) => nodeFailuresQuery(q, since).execute();
export function nodeFailuresQuery(q: Q, since: number) {
  return q.db
    .selectFrom('task_instance as ti')
    .select((eb) => [
      'ti.node_name',
      eb.fn.countAll<number>().as('instances'),
      eb.fn
        .sum<number>(sql<number>`case when ${sql.ref('ti.error_class')} = 'infrastructure' then 1 else 0 end`)
        .as('failures'),
      eb.fn
        .max<number | null>(
          sql<
            number | null
          >`case when ${sql.ref('ti.error_class')} = 'infrastructure' then ${sql.ref('ti.status_at')} end`,
        )
        .as('last_failure_at'),
    ])
    .where('ti.created_at', '>=', since)
    .where('ti.node_name', 'is not', null)
    .groupBy('ti.node_name');
}
