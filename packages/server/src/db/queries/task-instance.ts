// The task_instance table: one row per attempt of a task. Transitions are compare-and-set on the
// status read (services/instances.ts, set-based through the dialect's setCas); reads for reports
// and the runner live here too.

import { ACTIVE_INSTANCE_STATES, LIVE_RUN_STATES, type TaskInstanceStatus } from '@jobmon/core';
import { CompiledQuery, type Updateable } from 'kysely';
import type { Q } from '../conn.js';
import type { PgType, SetCas } from '../dialects/dialect.js';
import type { TaskInstanceTable } from '../schema.js';

/** What a transition report may tell about an instance besides its status; a field is written only when given. */
export type InstanceFacts = Updateable<TaskInstanceTable>;

const INSTANCE_FIELDS = [
  'distributor_id',
  'node_name',
  'pgid',
  'exit_code',
  'peak_memory_bytes',
  'wall_time_ms',
  'stdout_path',
  'stderr_path',
  'stdout_tail',
  'stderr_tail',
  'error_class',
  'report_by',
  'cleanup',
] as const;
const INSTANCE_PG_TYPES: Record<(typeof INSTANCE_FIELDS)[number], PgType> = {
  distributor_id: 'text',
  node_name: 'text',
  pgid: 'integer',
  exit_code: 'integer',
  peak_memory_bytes: 'bigint',
  wall_time_ms: 'bigint',
  stdout_path: 'text',
  stderr_path: 'text',
  stdout_tail: 'text',
  stderr_tail: 'text',
  error_class: 'text',
  report_by: 'bigint',
  cleanup: 'text',
};
const factValues = (f: InstanceFacts) => INSTANCE_FIELDS.map((k) => (f[k] === undefined ? null : f[k]));

// The statement on the hottest path, precompiled: a field is overwritten only when given.
const UPDATE_INSTANCE =
  'update task_instance set status = $1, status_at = $2, ' +
  INSTANCE_FIELDS.map((c, i) => `${c} = coalesce($${i + 3}, ${c})`).join(', ') +
  ` where id = $${INSTANCE_FIELDS.length + 3} and status = $${INSTANCE_FIELDS.length + 4}`;

const INSTANCE_CAS: SetCas = {
  table: 'task_instance',
  columns: [
    { name: 'id', pg: 'bigint' },
    { name: 'from', pg: 'text' },
    { name: 'to', pg: 'text' },
    ...INSTANCE_FIELDS.map((c) => ({ name: c, pg: INSTANCE_PG_TYPES[c] })),
  ],
  set: [
    ['status', 'v.to'],
    ['status_at', '$extra1'],
    ...INSTANCE_FIELDS.map((c): [string, string] => [c, `coalesce(v.${c}, ${c})`]),
  ],
};

/** Instances a transition reads, locked (one chunk of ids). */
export function lockInstances(q: Q, ids: readonly number[]) {
  return q.dialect
    .lockRows(
      q.db
        .selectFrom('task_instance')
        .select(['id', 'status', 'task_id', 'workflow_id', 'workflow_run_id'])
        .where('id', 'in', [...ids]),
    )
    .execute();
}

/** Each task's newest instance id. */
export function latestInstanceOfTasks(q: Q, taskIds: readonly number[]) {
  return q.db
    .selectFrom('task_instance')
    .select(['task_id', (eb) => eb.fn.max('id').as('latest')])
    .where('task_id', 'in', [...taskIds])
    .groupBy('task_id')
    .execute();
}

/** Compare-and-set one instance's status with its facts; false: someone moved it first. */
export async function casInstance(
  q: Q,
  id: number,
  from: TaskInstanceStatus,
  to: TaskInstanceStatus,
  now: number,
  facts: InstanceFacts,
): Promise<boolean> {
  const res = await q.db.executeQuery(
    CompiledQuery.raw(q.dialect.positional(UPDATE_INSTANCE), [to, now, ...factValues(facts), id, from]),
  );
  return Number(res.numAffectedRows ?? 0) === 1;
}

export interface InstanceMove {
  id: number;
  from: TaskInstanceStatus;
  to: TaskInstanceStatus;
  facts: InstanceFacts;
}

/** Compare-and-set many instances in one statement; answers the ids moved. */
export function casInstances(q: Q, moves: readonly InstanceMove[], now: number): Promise<Set<number>> {
  return q.dialect.setCas(
    q.db,
    INSTANCE_CAS,
    moves.map((m) => [m.id, m.from, m.to, ...factValues(m.facts)]),
    [now],
  );
}

/** New facts for an instance still in `status` (a repeated report of the current state). */
export async function updateInstanceFacts(
  q: Q,
  id: number,
  status: TaskInstanceStatus,
  facts: InstanceFacts,
): Promise<void> {
  await q.db.updateTable('task_instance').set(facts).where('id', '=', id).where('status', '=', status).execute();
}

/** Record what a cleanup pass killed after the instance ended; written once. */
export async function setCleanupOnce(q: Q, id: number, cleanup: string): Promise<void> {
  await q.db.updateTable('task_instance').set({ cleanup }).where('id', '=', id).where('cleanup', 'is', null).execute();
}

export async function instanceStatus(q: Q, id: number): Promise<TaskInstanceStatus | undefined> {
  return (await q.db.selectFrom('task_instance').select('status').where('id', '=', id).executeTakeFirst())?.status;
}

export async function setInstanceReportBy(q: Q, id: number, reportBy: number): Promise<void> {
  await q.db.updateTable('task_instance').set({ report_by: reportBy }).where('id', '=', id).execute();
}

/** A task's instances in id order, after `after`, at most `limit` (task_instance_task_ix). */
export function instancesOfTask(q: Q, taskId: number, after: number, limit: number) {
  return q.db
    .selectFrom('task_instance')
    .selectAll()
    .where('task_id', '=', taskId)
    .where('id', '>', after)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** A task's newest `limit` instances (task_instance_task_ix), newest first, with cluster and queue names. */
export function attemptsOfTask(q: Q, taskId: number, limit: number) {
  return q.db
    .selectFrom('task_instance as ti')
    .innerJoin('cluster as c', 'c.id', 'ti.cluster_id')
    .innerJoin('queue as qu', 'qu.id', 'ti.queue_id')
    .selectAll('ti')
    .select(['c.name as cluster', 'c.type as cluster_type', 'qu.name as queue'])
    .where('ti.task_id', '=', taskId)
    .orderBy('ti.id', 'desc')
    .limit(limit)
    .execute();
}

/** How many instances a task has. */
export async function countInstancesOfTask(q: Q, taskId: number): Promise<number> {
  const r = await q.db
    .selectFrom('task_instance')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('task_id', '=', taskId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
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

/** A run's instances in id order after `after`, at most `limit`, optionally only those in `statuses`. */
export function instancesOfRun(
  q: Q,
  runId: number,
  statuses: readonly TaskInstanceStatus[],
  after: number,
  limit: number,
) {
  let s = q.db
    .selectFrom('task_instance')
    .select(['id', 'task_id', 'status', 'pgid', 'distributor_id'])
    .where('workflow_run_id', '=', runId)
    .where('id', '>', after);
  if (statuses.length > 0) s = s.where('status', 'in', [...statuses]);
  return s.orderBy('id').limit(limit).execute();
}

/** Per node name: instances created since `since` and their infrastructure errors. */
export function instancesPerNode(q: Q, since: number) {
  return q.db
    .selectFrom('task_instance as ti')
    .leftJoin('task_instance_error as e', (j) =>
      j.onRef('e.task_instance_id', '=', 'ti.id').on('e.error_class', '=', 'infrastructure'),
    )
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
    [
      'workflow_run_id',
      'workflow_id',
      'task_id',
      'status',
      'status_at',
      'created_at',
      'cluster_id',
      'queue_id',
      'resources',
    ],
    rows.map((r) => [r.runId, r.workflowId, r.taskId, 'QUEUED', now, now, r.clusterId, r.queueId, r.resources]),
    {
      returning: ['id', 'task_id'],
      pgTypes: ['bigint', 'bigint', 'bigint', 'text', 'bigint', 'bigint', 'bigint', 'bigint', 'text'],
    },
  );
}

/** Active instances whose run has ended (at most `limit`), with their run. */
export function orphanedInstances(q: Q, limit: number) {
  return q.db
    .selectFrom('task_instance as ti')
    .innerJoin('workflow_run as r', 'r.id', 'ti.workflow_run_id')
    .select(['ti.id', 'ti.status', 'ti.report_by', 'r.id as run_id', 'r.status as run_status'])
    .where('ti.status', 'in', [...ACTIVE_INSTANCE_STATES])
    .where('r.status', 'not in', [...LIVE_RUN_STATES])
    .limit(limit)
    .execute();
}

/** Instances in one of `statuses` whose report deadline passed before `now` (at most `limit`). */
export function overdueInstances(q: Q, statuses: readonly TaskInstanceStatus[], now: number, limit: number) {
  return q.db
    .selectFrom('task_instance')
    .select(['id', 'status'])
    .where('status', 'in', [...statuses])
    .where('report_by', '<', now)
    .limit(limit)
    .execute();
}

/** A run's active instances. */
export function activeInstancesOfRun(q: Q, runId: number) {
  return q.db
    .selectFrom('task_instance')
    .select(['id', 'status', 'report_by'])
    .where('workflow_run_id', '=', runId)
    .where('status', 'in', [...ACTIVE_INSTANCE_STATES])
    .execute();
}
