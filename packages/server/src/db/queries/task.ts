// The task table: one row per (workflow, node, task args). Status moves are compare-and-set on the
// status read (services/runs.ts, services/instances.ts); reads for reports live here too.

import type { TaskStatus } from '@jobmon/core';
import type { Q } from '../conn.js';

export function countTasksByStatus(q: Q, workflowId: number) {
  return q.db
    .selectFrom('task')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('workflow_id', '=', workflowId)
    .groupBy('status')
    .execute();
}

export function listTasks(q: Q, workflowId: number, status: TaskStatus | undefined, limit: number, offset: number) {
  let s = q.db
    .selectFrom('task')
    .select(['id', 'name', 'status', 'num_attempts', 'max_attempts', 'infra_failures'])
    .where('workflow_id', '=', workflowId)
    .orderBy('id')
    .limit(limit)
    .offset(offset);
  if (status !== undefined) s = s.where('status', '=', status);
  return s.execute();
}

export async function taskExists(q: Q, id: number): Promise<boolean> {
  return (await q.db.selectFrom('task').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export async function countTasks(q: Q, workflowId: number): Promise<number> {
  const row = await q.db.selectFrom('task').select((eb) => eb.fn.countAll<number>().as('n')).where('workflow_id', '=', workflowId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** What queueing reads of tasks, locked (one chunk of ids). */
export function lockTasksToQueue(q: Q, ids: readonly number[]) {
  return q.dialect
    .lockRows(
      q.db
        .selectFrom('task')
        .select(['id', 'workflow_id', 'status', 'name', 'command', 'cluster_id', 'queue_id', 'resources', 'resource_scales', 'fallback_queues'])
        .where('id', 'in', [...ids]),
    )
    .execute();
}

/** Queue tasks still in `from`, counting the attempt; answers the rows moved. */
export async function casTasksToQueued(q: Q, ids: readonly number[], from: TaskStatus, now: number): Promise<bigint> {
  const res = await q.db
    .updateTable('task')
    .set((eb) => ({ status: 'QUEUED', status_at: now, num_attempts: eb('num_attempts', '+', 1) }))
    .where('id', 'in', [...ids])
    .where('status', '=', from)
    .executeTakeFirst();
  return res.numUpdatedRows;
}

/** New resources for a task's next attempt, and a new queue when it moved. */
export async function setTaskResources(q: Q, id: number, resources: string, queueId?: number): Promise<void> {
  await q.db
    .updateTable('task')
    .set({ resources, ...(queueId !== undefined ? { queue_id: queueId } : {}) })
    .where('id', '=', id)
    .execute();
}
