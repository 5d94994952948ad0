// DAGs (a hash of their edges' nodes) and their edges: shared between workflows with the same
// graph, so a DAG is bound once and only its first binding sets bound_at.

import type { Q } from '../conn.js';

export async function markDagBound(q: Q, id: number, now: number): Promise<void> {
  await q.db.updateTable('dag').set({ bound_at: now }).where('id', '=', id).where('bound_at', 'is', null).execute();
}
