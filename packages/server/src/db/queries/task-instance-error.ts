// The task_instance_error table: one row per failed attempt, appended with the transition that
// ended it (services/instances.ts); never updated. Each row carries its instance's workflow and task
// and its normalised message (migration 0013), so the error reads group and pick in SQL by index.

import { normaliseMessage } from '@jobmon/core';
import { sql } from 'kysely';
import type { Q } from '../conn.js';
import { templateVersionIds } from './task.js';

/** What an error row is written with: its instance, and that instance's workflow and task. */
export interface NewInstanceError {
  instanceId: number;
  workflowId: number;
  taskId: number;
  at: number;
  errorClass: string;
  message: string;
}

const errorRow = (e: NewInstanceError) =>
  [e.instanceId, e.workflowId, e.taskId, e.at, e.errorClass, e.message, normaliseMessage(e.message)] as const;

/** Append error rows, each with its normalised pattern (the key error groups are read by). */
export async function insertInstanceErrors(q: Q, rows: readonly NewInstanceError[]): Promise<void> {
  await q.dialect.bulkInsert(
    q.db,
    'task_instance_error',
    ['task_instance_id', 'workflow_id', 'task_id', 'at', 'error_class', 'message', 'pattern'],
    rows.map(errorRow),
    { pgTypes: ['bigint', 'bigint', 'bigint', 'bigint', 'text', 'text', 'text'] },
  );
}

export async function insertInstanceError(q: Q, e: NewInstanceError): Promise<void> {
  const [task_instance_id, workflow_id, task_id, at, error_class, message, pattern] = errorRow(e);
  await q.db
    .insertInto('task_instance_error')
    .values({ task_instance_id, workflow_id, task_id, at, error_class, message, pattern })
    .execute();
}

const errorColumns = [
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
] as const;

/**
 * The newest error of each of a workflow's tasks that has one, tasks ordered by that error, newest
 * first, at most `limit`. Walks the workflow's errors backwards (task_instance_error_wf_ix) and
 * keeps a row when its task has no newer error (task_instance_error_task_ix): it reads at most
 * `limit` rows per attempt a task has had.
 */
export function newestErrorPerTask(q: Q, workflowId: number, limit: number) {
  return q.db
    .selectFrom('task_instance_error as e')
    .innerJoin('task as t', 't.id', 'e.task_id')
    .innerJoin('task_instance as ti', 'ti.id', 'e.task_instance_id')
    .select(errorColumns)
    .where('e.workflow_id', '=', workflowId)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('task_instance_error as n')
            .select('n.id')
            .whereRef('n.task_id', '=', 'e.task_id')
            .whereRef('n.id', '>', 'e.id'),
        ),
      ),
    )
    .orderBy('e.id', 'desc')
    .limit(limit)
    .execute();
}

/**
 * The newest error of each of a workflow's ERROR_FATAL tasks, the tasks that became fatal most
 * recently first (task_status_at_ix, backwards; for a task failed by an attempt, that is when its
 * newest error was written), at most `limit`; each task's newest error by task_instance_error_task_ix.
 * Walking the errors instead would pass every error of tasks that were retried and went on.
 */
export function newestErrorPerFatalTask(q: Q, workflowId: number, limit: number) {
  return q.db
    .selectFrom('task as t')
    .innerJoin('task_instance_error as e', (j) =>
      j.on((eb) =>
        eb(
          'e.id',
          '=',
          q.db
            .selectFrom('task_instance_error as n')
            .select((n) => n.fn.max('n.id').as('id'))
            .where('n.task_id', '=', sql.ref<number>('t.id')),
        ),
      ),
    )
    .innerJoin('task_instance as ti', 'ti.id', 'e.task_instance_id')
    .select(errorColumns)
    .where('t.workflow_id', '=', workflowId)
    .where('t.status', '=', 'ERROR_FATAL')
    .orderBy('t.status_at', 'desc')
    .orderBy('t.id', 'desc')
    .limit(limit)
    .execute();
}

/** The ids of a workflow's tasks made from `template` (task_ttv_ix). */
const tasksOfTemplate = (q: Q, workflowId: number, template: string) =>
  q.db
    .selectFrom('task as t')
    .select('t.id')
    .where('t.task_template_version_id', 'in', templateVersionIds(q, template))
    .where('t.workflow_id', '=', workflowId);

/**
 * A workflow's errors grouped by (error class, pattern), the largest groups first, at most
 * `limit`; each row also carries the totals over every group (`group_count`, `all_failures`).
 * One covering scan of task_instance_error_groups_ix, in group order.
 */
export function errorGroups(q: Q, workflowId: number, limit: number, template?: string) {
  let s = q.db
    .selectFrom('task_instance_error')
    .select((eb) => [
      'error_class',
      'pattern',
      eb.fn.countAll<number>().as('failures'),
      eb.fn.count<number>('task_id').distinct().as('task_count'),
      eb.fn.min('at').as('first_at'),
      eb.fn.max('at').as('last_at'),
      eb.fn.max('id').as('last_id'),
      sql<number | string>`count(*) over ()`.as('group_count'),
      sql<number | string>`sum(count(*)) over ()`.as('all_failures'),
    ])
    .where('workflow_id', '=', workflowId);
  if (template !== undefined) s = s.where('task_id', 'in', tasksOfTemplate(q, workflowId, template));
  return s
    .groupBy(['error_class', 'pattern'])
    .orderBy('failures', 'desc')
    .orderBy('last_at', 'desc')
    .orderBy('pattern')
    .orderBy('error_class')
    .limit(limit)
    .execute();
}

/** A group's first `limit` distinct task ids, ascending (task_instance_error_groups_ix, in order). */
export async function groupTaskIds(
  q: Q,
  workflowId: number,
  group: { error_class: string; pattern: string | null },
  limit: number,
  template?: string,
): Promise<number[]> {
  let s = q.db
    .selectFrom('task_instance_error')
    .select('task_id')
    .distinct()
    .where('workflow_id', '=', workflowId)
    .where('error_class', '=', group.error_class)
    .where('pattern', group.pattern === null ? 'is' : '=', group.pattern);
  if (template !== undefined) s = s.where('task_id', 'in', tasksOfTemplate(q, workflowId, template));
  const rows = await s.orderBy('task_id').limit(limit).execute();
  return rows.map((r) => Number(r.task_id));
}

/** Messages by error id. */
export async function errorMessages(q: Q, ids: readonly number[]) {
  if (ids.length === 0) return [];
  return q.db
    .selectFrom('task_instance_error')
    .select(['id', 'message'])
    .where('id', 'in', [...ids])
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
