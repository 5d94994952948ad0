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
