// The task_instance_error table: one row per failed attempt, appended with the transition that
// ended it (services/instances.ts); never updated.

import type { Q } from '../conn.js';
import { templateVersionIds } from './task.js';

/** A workflow's errors, newest first, with their instance and task; only ERROR_FATAL tasks' when asked. */
export function errorsOfWorkflow(q: Q, workflowId: number, onlyFatal: boolean) {
  let s = q.db
    .selectFrom('task_instance_error as e')
    .innerJoin('task_instance as ti', 'ti.id', 'e.task_instance_id')
    .innerJoin('task as t', 't.id', 'ti.task_id')
    .select([
      't.id as task_id',
      't.name as task_name',
      't.status as task_status',
      'ti.id as instance_id',
      'ti.status as instance_status',
      'ti.exit_code',
      'ti.stderr_tail',
      'e.error_class',
      'e.message',
      'e.at',
      'e.id as error_id',
    ])
    .where('ti.workflow_id', '=', workflowId)
    .orderBy('e.id', 'desc');
  if (onlyFatal) s = s.where('t.status', '=', 'ERROR_FATAL');
  return s.execute();
}

export async function insertInstanceErrors(q: Q, rows: readonly (readonly unknown[])[]): Promise<void> {
  await q.dialect.bulkInsert(q.db, 'task_instance_error', ['task_instance_id', 'at', 'error_class', 'message'], rows, {
    pgTypes: ['bigint', 'bigint', 'text', 'text'],
  });
}

export async function insertInstanceError(
  q: Q,
  instanceId: number,
  at: number,
  errorClass: string,
  message: string,
): Promise<void> {
  await q.db
    .insertInto('task_instance_error')
    .values({ task_instance_id: instanceId, at, error_class: errorClass, message })
    .execute();
}

/** Each instance's errors (task_instance_error_ti_ix), oldest first. */
export function errorsOfInstances(q: Q, instanceIds: readonly number[]) {
  return q.db
    .selectFrom('task_instance_error')
    .select(['id', 'task_instance_id', 'at', 'error_class', 'message'])
    .where('task_instance_id', 'in', [...instanceIds])
    .orderBy('id')
    .execute();
}

/**
 * One page of a workflow's instances in id order after `afterId` (task_instance_workflow_ix),
 * optionally only those of tasks made from `template`; their errors are read by errorsOfInstances.
 */
export function failedInstancesPage(q: Q, workflowId: number, afterId: number, limit: number, template?: string) {
  let s = q.db
    .selectFrom('task_instance as ti')
    .select(['ti.id', 'ti.task_id'])
    .where('ti.workflow_id', '=', workflowId)
    .where('ti.id', '>', afterId);
  if (template !== undefined) {
    s = s.where('ti.task_id', 'in', (eb) =>
      eb
        .selectFrom('task as t')
        .select('t.id')
        .where('t.workflow_id', '=', workflowId)
        .where('t.task_template_version_id', 'in', templateVersionIds(q, template)),
    );
  }
  return s.orderBy('ti.id').limit(limit).execute();
}
