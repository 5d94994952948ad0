// The workflow_run table: one row per runner attempt at a workflow. Moves are compare-and-set on
// the status read (services/runs.ts); lapsed runs are found by their report deadline.

import type { Q } from '../conn.js';

export function latestRun(q: Q, workflowId: number) {
  return q.db.selectFrom('workflow_run').select(['id', 'status', 'heartbeat_at']).where('workflow_id', '=', workflowId).orderBy('id', 'desc').executeTakeFirst();
}
