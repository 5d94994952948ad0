// The workflow table: one row per (tool version, workflow args); its status follows its runs
// (services/cascade.ts). Guarded updates name the states they move from.

import type { WorkflowStatus } from '@jobmon/core';
import type { Insertable } from 'kysely';
import type { Q } from '../conn.js';
import type { WorkflowTable } from '../schema.js';

export function findWorkflow(q: Q, id: number) {
  return q.db.selectFrom('workflow').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The workflow's status, locked: a run's move decides the workflow's from it. */
export async function lockWorkflowStatus(q: Q, id: number): Promise<WorkflowStatus> {
  return (
    await q.dialect
      .lockRows(q.db.selectFrom('workflow').select(['status']).where('id', '=', id))
      .executeTakeFirstOrThrow()
  ).status;
}

/** Compare-and-set the workflow's status; answers the rows moved (0 or 1). */
export async function casWorkflowStatus(
  q: Q,
  id: number,
  from: WorkflowStatus,
  to: WorkflowStatus,
  now: number,
): Promise<bigint> {
  const res = await q.db
    .updateTable('workflow')
    .set({ status: to, status_at: now })
    .where('id', '=', id)
    .where('status', '=', from)
    .executeTakeFirst();
  return res.numUpdatedRows;
}

export function workflowShape(q: Q, id: number) {
  return q.db.selectFrom('workflow').select(['task_count', 'dag_id']).where('id', '=', id).executeTakeFirstOrThrow();
}

export async function markWorkflowBound(q: Q, id: number, now: number): Promise<void> {
  await q.db.updateTable('workflow').set({ bound_at: now }).where('id', '=', id).execute();
}

export async function workflowExists(q: Q, id: number): Promise<boolean> {
  return (await q.db.selectFrom('workflow').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

/** The workflow with this identity (tool version, workflow args), with its DAG. */
export function findWorkflowByIdentity(q: Q, toolVersionId: number, argsHash: string) {
  return q.db
    .selectFrom('workflow')
    .innerJoin('dag', 'dag.id', 'workflow.dag_id')
    .select([
      'workflow.id',
      'workflow.status',
      'workflow.task_hash',
      'workflow.task_count',
      'workflow.name',
      'dag.hash as dag_hash',
      'dag.id as dag_id',
      'dag.bound_at',
    ])
    .where('workflow.tool_version_id', '=', toolVersionId)
    .where('workflow.args_hash', '=', argsHash)
    .executeTakeFirst();
}

/** What a new binding of an existing workflow may change: its name, description and concurrency. */
export async function updateWorkflowDeclared(
  q: Q,
  id: number,
  d: { name: string; description: string; maxConcurrentlyRunning?: number | undefined },
): Promise<void> {
  await q.db
    .updateTable('workflow')
    .set({
      name: d.name,
      description: d.description,
      ...(d.maxConcurrentlyRunning === undefined ? {} : { max_concurrently_running: d.maxConcurrentlyRunning }),
    })
    .where('id', '=', id)
    .execute();
}

export async function insertWorkflow(q: Q, row: Insertable<WorkflowTable>): Promise<number> {
  return (await q.db.insertInto('workflow').values(row).returning('id').executeTakeFirstOrThrow()).id;
}

export async function upsertWorkflowAttribute(q: Q, workflowId: number, name: string, value: string): Promise<void> {
  await q.db
    .insertInto('workflow_attribute')
    .values({ workflow_id: workflowId, name, value })
    .onConflict((oc) => oc.columns(['workflow_id', 'name']).doUpdateSet({ value }))
    .execute();
}

export async function upsertTemplateConcurrency(
  q: Q,
  workflowId: number,
  taskTemplateId: number,
  limit: number,
): Promise<void> {
  await q.db
    .insertInto('template_concurrency')
    .values({ workflow_id: workflowId, task_template_id: taskTemplateId, max_concurrently_running: limit })
    .onConflict((oc) =>
      oc.columns(['workflow_id', 'task_template_id']).doUpdateSet({ max_concurrently_running: limit }),
    )
    .execute();
}

/** The workflow, locked: creating a run decides from its status. */
export function lockWorkflow(q: Q, id: number) {
  return q.dialect
    .lockRows(q.db.selectFrom('workflow').select(['id', 'status', 'name']).where('id', '=', id))
    .executeTakeFirst();
}
export function workflowStatuses(q: Q, ids: readonly number[]) {
  return q.db
    .selectFrom('workflow')
    .select(['id', 'status'])
    .where('id', 'in', [...ids])
    .execute();
}
