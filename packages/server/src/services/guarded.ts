// The row-count check after a guarded UPDATE (… WHERE status IN (the states the table allows)):
// every row we meant to move must have moved. Fewer means someone moved one first; the error names
// it, and the caller's transaction rolls back, so nothing of the request is written.

import { IllegalTransitionError } from '@jobmon/core';
import { taskStatuses } from '../db/queries/task.js';
import { workflowStatuses } from '../db/queries/workflow.js';
import type { Tx } from './tx.js';

export async function expectMoved(
  tx: Tx,
  entity: 'task' | 'workflow',
  ids: readonly number[],
  affected: bigint | number | undefined,
  from: readonly string[],
  to: string,
  what: string,
): Promise<void> {
  if (Number(affected ?? 0) === ids.length) return;
  const rows = await (entity === 'task' ? taskStatuses(tx, ids) : workflowStatuses(tx, ids));
  const found = new Map(rows.map((r) => [Number(r.id), r.status]));
  const id = ids.find((i) => found.get(i) !== to) ?? ids[0]!;
  const now = found.get(id) ?? 'gone';
  throw new IllegalTransitionError(
    `${entity} ${id} is ${now}: someone moved it before ${what} (${from.join('|')} → ${to}) could apply; nothing was written, retry`,
    { entity, id, from: now, to },
  );
}
