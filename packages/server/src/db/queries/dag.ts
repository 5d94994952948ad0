// DAGs (a hash of their edges' nodes) and their edges: shared between workflows with the same
// graph, so a DAG is bound once and only its first binding sets bound_at.

import type { Q } from '../conn.js';

export async function markDagBound(q: Q, id: number, now: number): Promise<void> {
  await q.db.updateTable('dag').set({ bound_at: now }).where('id', '=', id).where('bound_at', 'is', null).execute();
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
