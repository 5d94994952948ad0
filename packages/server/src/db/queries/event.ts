// The event log: appended in bulk at the end of each write transaction (services/tx.ts), read by
// sequence number (services/events.ts). `seq` only grows; rows are never updated.

import type { Q } from '../conn.js';

/** An event a transaction appends before it commits. */
export interface PendingEvent {
  workflowId: number | null;
  entity: 'workflow' | 'workflow_run' | 'task' | 'task_instance';
  entityId: number;
  from: string | null;
  to: string;
  actor: string;
  context?: Record<string, unknown>;
}

export async function insertEvents(q: Q, at: number, events: readonly PendingEvent[]): Promise<void> {
  await q.dialect.bulkInsert(
    q.db,
    'event',
    ['at', 'workflow_id', 'entity', 'entity_id', 'from_status', 'to_status', 'actor', 'context'],
    events.map((e) => [
      at,
      e.workflowId,
      e.entity,
      e.entityId,
      e.from,
      e.to,
      e.actor,
      e.context === undefined ? null : JSON.stringify(e.context),
    ]),
    { pgTypes: ['bigint', 'bigint', 'text', 'bigint', 'text', 'text', 'text', 'text'] },
  );
}

export interface EventFilter {
  after: number;
  /** Read no further than this seq (the log's end when the read began). */
  upTo?: number;
  workflowId?: number;
  entity?: string;
  limit: number;
}

/** Events after `after` in sequence order, at most `limit`. */
export function eventsAfter(q: Q, f: EventFilter) {
  let s = q.db.selectFrom('event').selectAll().where('seq', '>', f.after).orderBy('seq').limit(f.limit);
  if (f.upTo !== undefined) s = s.where('seq', '<=', f.upTo);
  if (f.workflowId !== undefined) s = s.where('workflow_id', '=', f.workflowId);
  if (f.entity !== undefined) s = s.where('entity', '=', f.entity);
  return s.execute();
}

/** The log's end: the highest seq written (0 when empty). */
export async function lastEventSeq(q: Q): Promise<number> {
  const r = await q.db
    .selectFrom('event')
    .select((eb) => eb.fn.max('seq').as('end'))
    .executeTakeFirst();
  return Number(r?.end ?? 0);
}
