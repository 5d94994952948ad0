// The task table: one row per (workflow, node, task args). Status moves are compare-and-set on the
// status read (services/runs.ts, services/instances.ts); reads for reports live here too.

import type { TaskStatus } from '@jobmon/core';
import { CompiledQuery, type Insertable, type Updateable } from 'kysely';
import type { Q } from '../conn.js';
import type { SetCas } from '../dialects/dialect.js';
import type { TaskTable } from '../schema.js';

/** A workflow's tasks per status, from the counts the triggers keep (migration 0012). */
export function countTasksByStatus(q: Q, workflowId: number) {
  return q.db
    .selectFrom('task_count')
    .select(['status', (eb) => eb.fn.sum<number>('n').as('n')])
    .where('workflow_id', '=', workflowId)
    .groupBy('status')
    .having((eb) => eb.fn.sum('n'), '>', 0)
    .execute();
}

/** Task template version ids whose template is named `template` (any tool): the template filter. */
export function templateVersionIds(q: Q, template: string) {
  return q.db
    .selectFrom('task_template_version as ttv')
    .innerJoin('task_template as tt', 'tt.id', 'ttv.task_template_id')
    .select('ttv.id')
    .where('tt.name', '=', template);
}

export interface TaskPageFilter {
  statuses?: TaskStatus[];
  template?: string;
  /** Tasks with an id greater than this (the cursor). */
  afterId?: number;
  limit: number;
}

/** One page of a workflow's tasks in id order, with their template's name (task_workflow_id_ix). */
export function listTasks(q: Q, workflowId: number, f: TaskPageFilter) {
  let s = q.db
    .selectFrom('task as t')
    .innerJoin('task_template_version as ttv', 'ttv.id', 't.task_template_version_id')
    .innerJoin('task_template as tt', 'tt.id', 'ttv.task_template_id')
    .select([
      't.id',
      't.name',
      't.status',
      't.num_attempts',
      't.max_attempts',
      't.infra_failures',
      'tt.name as template',
    ])
    .where('t.workflow_id', '=', workflowId);
  if (f.statuses !== undefined) s = s.where('t.status', 'in', f.statuses);
  if (f.template !== undefined) s = s.where('t.task_template_version_id', 'in', templateVersionIds(q, f.template));
  if (f.afterId !== undefined) s = s.where('t.id', '>', f.afterId);
  return s.orderBy('t.id').limit(f.limit).execute();
}

/** A task with its workflow's name and its template's name. */
export function taskWithNames(q: Q, id: number) {
  return q.db
    .selectFrom('task as t')
    .innerJoin('workflow as w', 'w.id', 't.workflow_id')
    .innerJoin('task_template_version as ttv', 'ttv.id', 't.task_template_version_id')
    .innerJoin('task_template as tt', 'tt.id', 'ttv.task_template_id')
    .select([
      't.id',
      't.name',
      't.status',
      't.workflow_id',
      'w.name as workflow_name',
      'tt.name as template',
      't.command',
      't.num_attempts',
      't.max_attempts',
      't.infra_failures',
      't.status_at',
    ])
    .where('t.id', '=', id)
    .executeTakeFirst();
}

export async function taskExists(q: Q, id: number): Promise<boolean> {
  return (await q.db.selectFrom('task').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export async function countTasks(q: Q, workflowId: number): Promise<number> {
  const row = await q.db
    .selectFrom('task')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workflow_id', '=', workflowId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** What queueing reads of tasks, locked (one chunk of ids). */
export function lockTasksToQueue(q: Q, ids: readonly number[]) {
  return q.dialect
    .lockRows(
      q.db
        .selectFrom('task')
        .select([
          'id',
          'workflow_id',
          'status',
          'name',
          'command',
          'cluster_id',
          'queue_id',
          'resources',
          'resource_scales',
          'fallback_queues',
        ])
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

/** Tasks a transition reads, locked (one chunk of ids). */
export function lockTasksForTransition(q: Q, ids: readonly number[]) {
  return q.dialect
    .lockRows(
      q.db
        .selectFrom('task')
        .select(['id', 'status', 'num_attempts', 'max_attempts', 'infra_failures', 'max_infra_failures', 'status_at'])
        .where('id', 'in', [...ids]),
    )
    .execute();
}

export interface TaskMove {
  id: number;
  from: TaskStatus;
  to: TaskStatus;
  numAttempts: number;
  infraFailures: number;
}

// On the hottest path, precompiled.
const UPDATE_TASK =
  'update task set status = $1, status_at = $2, num_attempts = $3, infra_failures = $4 where id = $5 and status = $6';

const TASK_CAS: SetCas = {
  table: 'task',
  columns: [
    { name: 'id', pg: 'bigint' },
    { name: 'from', pg: 'text' },
    { name: 'to', pg: 'text' },
    { name: 'attempts', pg: 'integer' },
    { name: 'infra', pg: 'integer' },
  ],
  set: [
    ['status', 'v.to'],
    ['num_attempts', 'v.attempts'],
    ['infra_failures', 'v.infra'],
    ['status_at', '$extra1'],
  ],
};

/** Compare-and-set one task's status and counters; false: someone moved it first. */
export async function casTask(q: Q, m: TaskMove, now: number): Promise<boolean> {
  const res = await q.db.executeQuery(
    CompiledQuery.raw(q.dialect.positional(UPDATE_TASK), [m.to, now, m.numAttempts, m.infraFailures, m.id, m.from]),
  );
  return Number(res.numAffectedRows ?? 0) === 1;
}

/** Compare-and-set many tasks in one statement; answers the ids moved. */
export function casTasks(q: Q, moves: readonly TaskMove[], now: number): Promise<Set<number>> {
  return q.dialect.setCas(
    q.db,
    TASK_CAS,
    moves.map((m) => [m.id, m.from, m.to, m.numAttempts, m.infraFailures]),
    [now],
  );
}

/** Put a task back as it was read (its instance's compare-and-set missed after the task's applied). */
export async function restoreTask(
  q: Q,
  t: { id: number; status: TaskStatus; status_at: number; num_attempts: number; infra_failures: number },
): Promise<void> {
  await q.db
    .updateTable('task')
    .set({ status: t.status, status_at: t.status_at, num_attempts: t.num_attempts, infra_failures: t.infra_failures })
    .where('id', '=', t.id)
    .execute();
}

export function taskState(q: Q, id: number) {
  return q.db
    .selectFrom('task')
    .select(['status', 'status_at', 'num_attempts', 'infra_failures'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** A workflow's tasks on these nodes (to tell existing tasks from new ones). */
export function tasksOnNodes(q: Q, workflowId: number, nodeIds: readonly number[]) {
  return q.dialect.selectWhereIn<{ id: number; node_id: number; task_args_hash: string; status: TaskStatus }>(
    q.db,
    'select "id", "node_id", "task_args_hash", "status" from "task"',
    'node_id',
    nodeIds,
    'bigint',
    { sql: '"workflow_id" = ?', params: [workflowId] },
  );
}

const TASK_COLUMNS = [
  'workflow_id',
  'node_id',
  'task_args_hash',
  'task_template_version_id',
  'name',
  'command',
  'status',
  'status_at',
  'num_attempts',
  'max_attempts',
  'infra_failures',
  'max_infra_failures',
  'cluster_id',
  'queue_id',
  'resources',
  'resource_scales',
  'fallback_queues',
] as const;
const TASK_PG_TYPES = [
  'bigint',
  'bigint',
  'text',
  'bigint',
  'text',
  'text',
  'text',
  'bigint',
  'integer',
  'integer',
  'integer',
  'integer',
  'bigint',
  'bigint',
  'text',
  'text',
  'text',
] as const;

export type NewTask = Omit<Insertable<TaskTable>, 'id'>;

/** Insert tasks in bulk; answers each one's id with its node and task-args hash. */
export function insertTasks(q: Q, rows: readonly NewTask[]) {
  return q.dialect.bulkInsert<{ id: number; node_id: number; task_args_hash: string }>(
    q.db,
    'task',
    TASK_COLUMNS,
    rows.map((r) => TASK_COLUMNS.map((c) => r[c])),
    { returning: ['id', 'node_id', 'task_args_hash'], pgTypes: TASK_PG_TYPES },
  );
}

/** A resume's reset of a task still in `from`: fresh attempts and the new declaration. Answers the rows moved. */
export async function resetTask(
  q: Q,
  id: number,
  from: TaskStatus,
  values: Omit<Updateable<TaskTable>, 'id' | 'status' | 'workflow_id'>,
  now: number,
): Promise<bigint> {
  const res = await q.db
    .updateTable('task')
    .set({ status: 'REGISTERING', status_at: now, num_attempts: 0, infra_failures: 0, ...values })
    .where('id', '=', id)
    .where('status', '=', from)
    .executeTakeFirst();
  return res.numUpdatedRows;
}

/** Insert [task id, name, value] rows; args a task has already are kept. */
export async function insertTaskArgs(q: Q, rows: readonly (readonly [number, string, string])[]): Promise<void> {
  await q.dialect.bulkInsert(q.db, 'task_arg', ['task_id', 'name', 'value'], rows, {
    ignoreConflictOn: ['task_id', 'name'],
    pgTypes: ['bigint', 'text', 'text'],
  });
}

/** Insert or overwrite task attributes (one chunk). */
export async function upsertTaskAttributes(
  q: Q,
  rows: readonly { task_id: number; name: string; value: string }[],
): Promise<void> {
  await q.db
    .insertInto('task_attribute')
    .values([...rows])
    .onConflict((oc) => oc.columns(['task_id', 'name']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
    .execute();
}

export function taskStatuses(q: Q, ids: readonly number[]) {
  return q.db
    .selectFrom('task')
    .select(['id', 'status'])
    .where('id', 'in', [...ids])
    .execute();
}
