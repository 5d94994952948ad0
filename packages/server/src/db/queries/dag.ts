// DAGs (a hash of their edges' nodes) and their edges: shared between workflows with the same
// graph, so a DAG is bound once and only its first binding sets bound_at.

import type { Q } from '../conn.js';

/** Set the DAG's bound_at unless it has one; true when this call set it (its first binding). */
export async function markDagBound(q: Q, id: number, now: number): Promise<boolean> {
  const r = await q.db
    .updateTable('dag')
    .set({ bound_at: now })
    .where('id', '=', id)
    .where('bound_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The DAG with `hash`, created when missing. */
export async function ensureDag(q: Q, hash: string, now: number) {
  await q.db
    .insertInto('dag')
    .values({ hash, created_at: now, bound_at: null })
    .onConflict((oc) => oc.column('hash').doNothing())
    .execute();
  return q.db.selectFrom('dag').select(['id', 'bound_at']).where('hash', '=', hash).executeTakeFirstOrThrow();
}

/** Insert edges [upstream node, downstream node] of a DAG; ones it has already are skipped. */
export async function insertEdges(q: Q, dagId: number, edges: readonly (readonly [number, number])[]): Promise<void> {
  await q.dialect.bulkInsert(
    q.db,
    'edge',
    ['dag_id', 'upstream_node_id', 'downstream_node_id'],
    edges.map(([u, d]) => [dagId, u, d]),
    {
      ignoreConflictOn: ['dag_id', 'downstream_node_id', 'upstream_node_id'],
      pgTypes: ['bigint', 'bigint', 'bigint'],
    },
  );
}

/**
 * The nodes one edge away from `nodes` in a DAG: upstream (by the primary key, dag_id and
 * downstream_node_id first) or downstream (by edge_upstream_ix), one row per edge (a node reached
 * twice comes twice: DISTINCT would make SQLite walk the whole DAG in node order), at most `limit`.
 */
export async function neighbourNodes(
  q: Q,
  dagId: number,
  nodes: readonly number[],
  direction: 'up' | 'down',
  limit: number,
): Promise<number[]> {
  if (nodes.length === 0) return [];
  const [from, to] =
    direction === 'up'
      ? (['downstream_node_id', 'upstream_node_id'] as const)
      : (['upstream_node_id', 'downstream_node_id'] as const);
  const rows = await q.db
    .selectFrom('edge')
    .select(`${to} as node`)
    .where('dag_id', '=', dagId)
    .where(from, 'in', [...nodes])
    .limit(limit)
    .execute();
  return rows.map((r) => Number(r.node));
}

/** The tasks of a workflow on these nodes (by task_identity_uq: workflow_id, node_id), with their template. */
export function tasksOnNodes(q: Q, workflowId: number, nodes: readonly number[]) {
  return q.db
    .selectFrom('task as t')
    .innerJoin('task_template_version as v', 'v.id', 't.task_template_version_id')
    .innerJoin('task_template as tt', 'tt.id', 'v.task_template_id')
    .select(['t.id', 't.name', 't.status', 't.node_id', 'tt.name as template'])
    .where('t.workflow_id', '=', workflowId)
    .where('t.node_id', 'in', [...nodes])
    .execute();
}
