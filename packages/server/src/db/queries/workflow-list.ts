// The SQL behind GET /workflows: one page of workflows, newest first, matching every filter given,
// and the facts the page shows (tool, latest run's user, task counts) in two grouped reads for the
// whole page, never one per row. Filters arrive parsed and checked (services/workflow-list.ts);
// every value travels as a bound parameter.

import { sql, type Expression, type SqlBool } from 'kysely';
import type { WorkflowStatus } from '@jobmon/core';
import type { Db } from '../connect.js';

export interface WorkflowListFilter {
  /** A LIKE pattern with `\` as its escape character (the service builds it from a glob). */
  nameLike?: string;
  /** The name, exact (workflow_name_ix). */
  exactName?: string;
  user?: string;
  tool?: string;
  statuses?: WorkflowStatus[];
  createdFrom?: number;
  createdBefore?: number;
  args?: [string, string][];
  attributes?: [string, string][];
  /** Rows strictly after this one in the order (created_at desc, id desc). */
  after?: { createdAt: number; id: number };
  limit: number;
}

export interface WorkflowListRow {
  id: number;
  name: string;
  tool: string;
  status: string;
  taskCount: number;
  createdAt: number;
  statusAt: number;
}

export async function selectWorkflowPage(db: Db, f: WorkflowListFilter): Promise<WorkflowListRow[]> {
  const pg = db.dialect.name === 'postgres';
  let q = db.kysely
    .selectFrom('workflow as w')
    .innerJoin('tool_version as tv', 'tv.id', 'w.tool_version_id')
    .innerJoin('tool as t', 't.id', 'tv.tool_id')
    .select(['w.id', 'w.name', 't.name as tool', 'w.status', 'w.task_count', 'w.created_at', 'w.status_at']);
  if (f.nameLike !== undefined) {
    // Case-insensitive on both: SQLite's LIKE already is (for ASCII), PostgreSQL's is not.
    q = q.where(sql<SqlBool>`w.name ${sql.raw(pg ? 'ILIKE' : 'LIKE')} ${f.nameLike} ESCAPE '\\'`);
  }
  if (f.exactName !== undefined) q = q.where('w.name', '=', f.exactName);
  if (f.tool !== undefined) q = q.where('t.name', '=', f.tool);
  if (f.statuses !== undefined) q = q.where('w.status', 'in', f.statuses);
  if (f.createdFrom !== undefined) q = q.where('w.created_at', '>=', f.createdFrom);
  if (f.createdBefore !== undefined) q = q.where('w.created_at', '<', f.createdBefore);
  if (f.user !== undefined) {
    const user = f.user;
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('workflow_run as r')
          .select(sql.lit(1).as('one'))
          .whereRef('r.workflow_id', '=', 'w.id')
          .where('r.user', '=', user),
      ),
    );
  }
  for (const [name, value] of f.attributes ?? []) {
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('workflow_attribute as a')
          .select(sql.lit(1).as('one'))
          .whereRef('a.workflow_id', '=', 'w.id')
          .where('a.name', '=', name)
          .where('a.value', '=', value),
      ),
    );
  }
  for (const [key, value] of f.args ?? []) q = q.where(argEquals(pg, key, value));
  if (f.after) {
    const { createdAt, id } = f.after;
    // A row-value comparison, which both planners turn into one range over workflow_created_ix
    // (an OR of the two cases made PostgreSQL scan).
    q = q.where(sql<SqlBool>`(w.created_at, w.id) < (${createdAt}, ${id})`);
  }
  const rows = await q.orderBy('w.created_at', 'desc').orderBy('w.id', 'desc').limit(f.limit).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    tool: r.tool,
    status: r.status,
    taskCount: Number(r.task_count),
    createdAt: Number(r.created_at),
    statusAt: Number(r.status_at),
  }));
}

/**
 * A workflow arg equal to `value` as text: strings as they are, numbers as JSON writes them,
 * booleans as true/false. The args are a JSON object in a text column.
 */
function argEquals(pg: boolean, key: string, value: string): Expression<SqlBool> {
  if (pg) return sql<SqlBool>`(w.workflow_args::jsonb ->> ${key}) = ${value}`;
  return sql<SqlBool>`exists (select 1 from json_each(w.workflow_args) j where j.key = ${key} and (case j.type when 'true' then 'true' when 'false' then 'false' else cast(j.value as text) end) = ${value})`;
}

/** Task counts per status for the given workflows: one grouped read of the maintained counts (0012). */
export async function selectTaskCounts(db: Db, workflowIds: number[]): Promise<Map<number, Record<string, number>>> {
  const out = new Map<number, Record<string, number>>();
  if (workflowIds.length === 0) return out;
  const rows = await db.kysely
    .selectFrom('task_count')
    .select(['workflow_id', 'status', (eb) => eb.fn.sum<number>('n').as('n')])
    .where('workflow_id', 'in', workflowIds)
    .groupBy(['workflow_id', 'status'])
    .having((eb) => eb.fn.sum('n'), '>', 0)
    .execute();
  for (const r of rows) {
    const id = Number(r.workflow_id);
    const counts = out.get(id) ?? {};
    counts[r.status] = Number(r.n);
    out.set(id, counts);
  }
  return out;
}

/** The user of each workflow's latest run: one read for the page. */
export async function selectLatestRunUsers(db: Db, workflowIds: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (workflowIds.length === 0) return out;
  const rows = await db.kysely
    .selectFrom('workflow_run as r')
    .select(['r.workflow_id', 'r.user'])
    .where('r.id', 'in', (eb) =>
      eb
        .selectFrom('workflow_run')
        .select((e) => e.fn.max('id').as('id'))
        .where('workflow_id', 'in', workflowIds)
        .groupBy('workflow_id'),
    )
    .execute();
  for (const r of rows) out.set(Number(r.workflow_id), r.user);
  return out;
}
