// Sets of a workflow's tasks chosen by a predicate, optionally closed over the DAG (every task
// upstream or downstream of one chosen), for an operator's bulk changes (services/operator.ts):
// counted per template and status, listed a page at a time, and moved one status group per
// statement. The walk is a recursive query over edge (edge_upstream_ix downstream, edge_pk upstream),
// so a million-task workflow never comes into memory.

import type { TaskStatus } from '@jobmon/core';
import { sql, type RawBuilder } from 'kysely';
import type { Q } from '../conn.js';

export type Walk = 'none' | 'down' | 'up';

export interface TaskSelection {
  workflowId: number;
  dagId: number;
  /** A predicate over the task row aliased `alias`. */
  seed: (alias: string) => RawBuilder<unknown>;
  walk: Walk;
}

export interface StatusGroup {
  template: string;
  from: TaskStatus;
  count: number;
}

/** Seed predicates. */
export const everyTask = (): RawBuilder<unknown> => sql`1 = 1`;
export const notDone = (a: string): RawBuilder<unknown> => sql`${sql.ref(`${a}.status`)} <> 'DONE'`;
export function matching(
  a: string,
  f: { ids?: readonly number[]; template?: string; attributes?: readonly (readonly [string, string])[] },
): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  if (f.ids !== undefined) parts.push(sql`${sql.ref(`${a}.id`)} IN (${sql.join([...f.ids])})`);
  if (f.template !== undefined)
    parts.push(sql`${sql.ref(`${a}.task_template_version_id`)} IN (SELECT v2.id FROM task_template_version v2
      INNER JOIN task_template tt2 ON tt2.id = v2.task_template_id WHERE tt2.name = ${f.template})`);
  for (const [k, v] of f.attributes ?? [])
    parts.push(sql`EXISTS (SELECT 1 FROM task_attribute ta WHERE ta.task_id = ${sql.ref(`${a}.id`)}
      AND ta.name = ${k} AND ta.value = ${v})`);
  return parts.length === 0 ? everyTask() : sql.join(parts, sql` AND `);
}

/** The transaction's selection: node ids, one row each, keyed (see fillSelection). */
const TABLE = 'jm_task_selection';

/**
 * Compute the selection once into a temporary table (node ids, primary key) of this transaction's
 * connection; the reads and UPDATEs below join it by key. A recursive walk inlined in each UPDATE
 * was planned by PostgreSQL, without fresh statistics, as a nested loop over the walk's output:
 * quadratic (16 s for 10,000 of 20,000 tasks). Call dropSelection before the transaction ends; a
 * rollback drops it too (DDL is transactional on both databases).
 */
export async function fillSelection(q: Q, s: TaskSelection): Promise<void> {
  await sql`CREATE TEMPORARY TABLE ${sql.raw(TABLE)} (node_id bigint PRIMARY KEY)`.execute(q.db);
  if (s.walk === 'none') {
    await sql`INSERT INTO ${sql.raw(TABLE)} (node_id)
      SELECT s.node_id FROM task s WHERE s.workflow_id = ${s.workflowId} AND ${s.seed('s')}`.execute(q.db);
    return;
  }
  const [from, to] =
    s.walk === 'down'
      ? [sql.ref('e.upstream_node_id'), sql.ref('e.downstream_node_id')]
      : [sql.ref('e.downstream_node_id'), sql.ref('e.upstream_node_id')];
  // UNION (not UNION ALL) keeps each node once, so the walk ends on any DAG. CROSS JOIN makes
  // SQLite keep the step's new nodes outer and look each one's edges up by index; with an inner
  // join it scanned the whole DAG's edges at every step (seconds on a 20,000-task chain).
  await sql`INSERT INTO ${sql.raw(TABLE)} (node_id)
    WITH RECURSIVE sel(node_id) AS (
      SELECT s.node_id FROM task s WHERE s.workflow_id = ${s.workflowId} AND ${s.seed('s')}
      UNION
      SELECT ${to} FROM sel CROSS JOIN edge e WHERE e.dag_id = ${s.dagId} AND ${from} = sel.node_id
    ) SELECT node_id FROM sel`.execute(q.db);
}

export async function dropSelection(q: Q): Promise<void> {
  await sql`DROP TABLE ${sql.raw(TABLE)}`.execute(q.db);
}

/** The predicate over task alias `t`: its node is in the selection. */
const selected = (): RawBuilder<unknown> => sql`t.node_id IN (SELECT node_id FROM ${sql.raw(TABLE)})`;

/** How many selected tasks there are per (template, status). */
export async function countSelection(q: Q, s: TaskSelection): Promise<StatusGroup[]> {
  const rows = await sql<{ template: string; status: TaskStatus; n: number | string }>`
    SELECT tt.name AS template, t.status AS status, COUNT(*) AS n
    FROM task t
    INNER JOIN task_template_version v ON v.id = t.task_template_version_id
    INNER JOIN task_template tt ON tt.id = v.task_template_id
    WHERE t.workflow_id = ${s.workflowId} AND ${selected()}
    GROUP BY tt.name, t.status
    ORDER BY tt.name, t.status`.execute(q.db);
  return rows.rows.map((r) => ({ template: r.template, from: r.status, count: Number(r.n) }));
}

/** Selected tasks not in `except`, in id order, at most `limit` (optionally only in `status`). */
export async function listSelection(
  q: Q,
  s: TaskSelection,
  f: { except?: TaskStatus; status?: TaskStatus; limit: number },
): Promise<{ id: number; name: string; template: string; status: TaskStatus }[]> {
  const except = f.except !== undefined ? sql`AND t.status <> ${f.except}` : sql``;
  const only = f.status !== undefined ? sql`AND t.status = ${f.status}` : sql``;
  const rows = await sql<{ id: number | string; name: string; template: string; status: TaskStatus }>`
    SELECT t.id, t.name, tt.name AS template, t.status
    FROM task t
    INNER JOIN task_template_version v ON v.id = t.task_template_version_id
    INNER JOIN task_template tt ON tt.id = v.task_template_id
    WHERE t.workflow_id = ${s.workflowId} ${except} ${only} AND ${selected()}
    ORDER BY t.id LIMIT ${f.limit}`.execute(q.db);
  return rows.rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/**
 * Compare-and-set every selected task in `from` to `to` in one statement (REGISTERING also gets
 * fresh attempts); answers the rows moved.
 */
export async function moveSelection(
  q: Q,
  s: TaskSelection,
  from: TaskStatus,
  to: TaskStatus,
  now: number,
): Promise<number> {
  const fresh = to === 'REGISTERING' ? sql`, num_attempts = 0, infra_failures = 0` : sql``;
  const res = await sql`UPDATE task AS t SET status = ${to}, status_at = ${now}${fresh}
    WHERE t.workflow_id = ${s.workflowId} AND t.status = ${from} AND ${selected()}`.execute(q.db);
  return Number(res.numAffectedRows ?? 0);
}
