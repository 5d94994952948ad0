// The workflow table: one row per (tool version, workflow args); its status follows its runs
// (services/cascade.ts). Guarded updates name the states they move from.

import type { WorkflowStatus } from '@jobmon/core';
import type { Q } from '../conn.js';

export function findWorkflow(q: Q, id: number) {
  return q.db.selectFrom('workflow').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The workflow's status, locked: a run's move decides the workflow's from it. */
export async function lockWorkflowStatus(q: Q, id: number): Promise<WorkflowStatus> {
  return (await q.dialect.lockRows(q.db.selectFrom('workflow').select(['status']).where('id', '=', id)).executeTakeFirstOrThrow()).status;
}

/** Compare-and-set the workflow's status; answers the rows moved (0 or 1). */
export async function casWorkflowStatus(q: Q, id: number, from: WorkflowStatus, to: WorkflowStatus, now: number): Promise<bigint> {
  const res = await q.db.updateTable('workflow').set({ status: to, status_at: now }).where('id', '=', id).where('status', '=', from).executeTakeFirst();
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
