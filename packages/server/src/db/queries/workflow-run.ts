// The workflow_run table: one row per runner attempt at a workflow. Moves are compare-and-set on
// the status read (services/runs.ts); lapsed runs are found by their report deadline.

import { LIVE_RUN_STATES, type WorkflowRunStatus } from '@jobmon/core';
import { sql, type Insertable } from 'kysely';
import type { Q } from '../conn.js';
import type { WorkflowRunTable } from '../schema.js';

export function latestRun(q: Q, workflowId: number) {
  return q.db
    .selectFrom('workflow_run')
    .select(['id', 'status', 'heartbeat_at', 'created_at', 'status_at'])
    .where('workflow_id', '=', workflowId)
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/** Compare-and-set a run's status; with a new report deadline the move is also a heartbeat. False: someone moved it first. */
export async function casRunStatus(
  q: Q,
  id: number,
  from: WorkflowRunStatus,
  to: WorkflowRunStatus,
  now: number,
  extra: { report_by?: number } = {},
): Promise<boolean> {
  const res = await q.db
    .updateTable('workflow_run')
    .set({ status: to, status_at: now, ...extra, ...(extra.report_by !== undefined ? { heartbeat_at: now } : {}) })
    .where('id', '=', id)
    .where('status', '=', from)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * Live runs whose report deadline passed, locked (of one workflow, or all). With `upSince`, only
 * runs whose runner has had a whole reporting window (report_by − heartbeat_at) since then.
 */
export function lockLapsedRuns(q: Q, now: number, workflowId?: number, upSince?: number) {
  let s = q.db
    .selectFrom('workflow_run')
    .select(['id', 'workflow_id', 'status'])
    .where('status', 'in', [...LIVE_RUN_STATES])
    .where('report_by', '<', now);
  if (upSince !== undefined) s = s.where(sql<boolean>`report_by - heartbeat_at < ${now - upSince}`);
  if (workflowId !== undefined) s = s.where('workflow_id', '=', workflowId);
  return q.dialect.lockRows(s).execute();
}

export function lockRun(q: Q, id: number) {
  return q.dialect
    .lockRows(q.db.selectFrom('workflow_run').select(['id', 'workflow_id', 'status', 'report_by']).where('id', '=', id))
    .executeTakeFirst();
}

/** The workflow's live run (at most one exists), locked. */
export function lockLiveRun(q: Q, workflowId: number) {
  return q.dialect
    .lockRows(
      q.db
        .selectFrom('workflow_run')
        .select(['id', 'workflow_id', 'status'])
        .where('workflow_id', '=', workflowId)
        .where('status', 'in', [...LIVE_RUN_STATES]),
    )
    .executeTakeFirst();
}

/** A heartbeat that moves nothing: only the deadline. */
export async function extendRunDeadline(q: Q, id: number, now: number, reportBy: number): Promise<void> {
  await q.db.updateTable('workflow_run').set({ heartbeat_at: now, report_by: reportBy }).where('id', '=', id).execute();
}

/** The workflow's live run, for a message naming who holds it (not locked: the workflow row is). */
export function liveRunDetail(q: Q, workflowId: number) {
  return q.db
    .selectFrom('workflow_run')
    .select(['id', 'status', 'host', 'pid', 'process_start', 'heartbeat_at'])
    .where('workflow_id', '=', workflowId)
    .where('status', 'in', [...LIVE_RUN_STATES])
    .executeTakeFirst();
}

export async function insertRun(q: Q, row: Insertable<WorkflowRunTable>): Promise<number> {
  return (await q.db.insertInto('workflow_run').values(row).returning('id').executeTakeFirstOrThrow()).id;
}

/** A run with its workflow's DAG. */
export function runWithDag(q: Q, id: number) {
  return q.db
    .selectFrom('workflow_run')
    .innerJoin('workflow', 'workflow.id', 'workflow_run.workflow_id')
    .select(['workflow_run.id', 'workflow_run.status', 'workflow_run.workflow_id', 'workflow.dag_id'])
    .where('workflow_run.id', '=', id)
    .executeTakeFirst();
}

/** A run with the process that ran it, locked. */
export function lockRunProcess(q: Q, id: number) {
  return q.dialect
    .lockRows(
      q.db
        .selectFrom('workflow_run')
        .select(['id', 'workflow_id', 'status', 'host', 'pid', 'process_start'])
        .where('id', '=', id),
    )
    .executeTakeFirst();
}
