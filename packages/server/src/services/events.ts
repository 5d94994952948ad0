// Reading the event log by sequence number, with long-poll: a follower that is up to date waits
// until a transaction commits new events (or its wait runs out) instead of polling in a loop.

import type { EventT } from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import { eventsAfter } from '../db/queries/event.js';
import { eventBus } from './tx.js';

export interface EventQuery {
  after: number;
  workflowId?: number;
  entity?: string;
  limit: number;
  waitMs: number;
  /** How often a waiting follower reads anyway (default 250 ms): the fallback for commits nobody
   * announced here — another process on a SQLite file, or a NOTIFY lost while reconnecting. */
  pollMs?: number;
}

async function read(db: Db, q: EventQuery): Promise<EventT[]> {
  const rows = await eventsAfter(onDb(db), q);
  return rows.map((r) => ({
    seq: r.seq,
    at: r.at,
    workflowId: r.workflow_id,
    entity: r.entity,
    entityId: r.entity_id,
    from: r.from_status,
    to: r.to_status,
    actor: r.actor,
    context: r.context === null ? null : (JSON.parse(r.context) as Record<string, unknown>),
  }));
}

export const DEFAULT_EVENT_POLL_MS = 250;

export async function followEvents(db: Db, q: EventQuery, signal?: AbortSignal): Promise<{ events: EventT[]; last: number }> {
  const deadline = Date.now() + q.waitMs;
  for (;;) {
    const events = await read(db, q);
    const remaining = deadline - Date.now();
    if (events.length > 0 || remaining <= 0 || signal?.aborted) {
      return { events, last: events.length > 0 ? events[events.length - 1]!.seq : q.after };
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        eventBus.off('committed', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(remaining, q.pollMs ?? DEFAULT_EVENT_POLL_MS));
      eventBus.on('committed', done);
      signal?.addEventListener('abort', done);
    });
  }
}
