// The workflow table: one row per (tool version, workflow args); its status follows its runs
// (services/cascade.ts). Guarded updates name the states they move from.

import type { Q } from '../conn.js';

export function findWorkflow(q: Q, id: number) {
  return q.db.selectFrom('workflow').selectAll().where('id', '=', id).executeTakeFirst();
}
