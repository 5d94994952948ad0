// The task_instance table: one row per attempt of a task. Transitions are compare-and-set on the
// status read (services/instances.ts, set-based through the dialect's setCas); reads for reports
// and the runner live here too.

import type { TaskInstanceStatus } from '@jobmon/core';
import type { Q } from '../conn.js';

export function instancesOfTask(q: Q, taskId: number) {
  return q.db.selectFrom('task_instance').selectAll().where('task_id', '=', taskId).orderBy('id').execute();
}

/** An instance with its task's command and name. */
export function instanceWithTask(q: Q, id: number) {
  return q.db
    .selectFrom('task_instance')
    .innerJoin('task', 'task.id', 'task_instance.task_id')
    .selectAll('task_instance')
    .select(['task.command', 'task.name as task_name'])
    .where('task_instance.id', '=', id)
    .executeTakeFirst();
}

/** A run's instances, optionally only those in `statuses`. */
export function instancesOfRun(q: Q, runId: number, statuses: readonly TaskInstanceStatus[]) {
  let s = q.db.selectFrom('task_instance').select(['id', 'task_id', 'status', 'pgid', 'distributor_id']).where('workflow_run_id', '=', runId);
  if (statuses.length > 0) s = s.where('status', 'in', [...statuses]);
  return s.execute();
}

/** Per node name: instances created since `since` and their infrastructure errors. */
export function instancesPerNode(q: Q, since: number) {
  return q.db
    .selectFrom('task_instance as ti')
    .leftJoin('task_instance_error as e', (j) => j.onRef('e.task_instance_id', '=', 'ti.id').on('e.error_class', '=', 'infrastructure'))
    .select((eb) => [
      'ti.node_name',
      eb.fn.count<number>('ti.id').distinct().as('instances'),
      eb.fn.count<number>('e.id').as('errors'),
      eb.fn.max('e.at').as('last_error_at'),
    ])
    .where('ti.created_at', '>=', since)
    .where('ti.node_name', 'is not', null)
    .groupBy('ti.node_name')
    .execute();
}

export interface NewInstance {
  runId: number;
  workflowId: number;
  taskId: number;
  clusterId: number;
  queueId: number;
  resources: string;
}

/** Insert QUEUED instances; answers each one's id with its task id. */
export function insertQueuedInstances(q: Q, rows: readonly NewInstance[], now: number) {
  return q.dialect.bulkInsert<{ id: number; task_id: number }>(
    q.db,
    'task_instance',
    ['workflow_run_id', 'workflow_id', 'task_id', 'status', 'status_at', 'created_at', 'cluster_id', 'queue_id', 'resources'],
    rows.map((r) => [r.runId, r.workflowId, r.taskId, 'QUEUED', now, now, r.clusterId, r.queueId, r.resources]),
    { returning: ['id', 'task_id'], pgTypes: ['bigint', 'bigint', 'bigint', 'text', 'bigint', 'bigint', 'bigint', 'bigint', 'text'] },
  );
}
