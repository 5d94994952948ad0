// Reading the event log by sequence number, with long-poll: a follower that is up to date waits
// until a transaction commits new events (or its wait runs out) instead of polling in a loop.

import type { EventT } from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import { eventsAfter, lastEventSeq } from '../db/queries/event.js';
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

/**
 * The events after `after` that match, and how far the log was read: its end when fewer than
 * `limit` matched. A follower resumes from there, not from its last match; a filtered one (the
 * runner follows its run's workflow_run events) otherwise re-read every other event since that
 * match on each wake-up, a cost growing with the run (bench/cpu-breakdown.md).
 */
async function read(db: Db, q: EventQuery, after: number): Promise<{ events: EventT[]; last: number }> {
  const top = await lastEventSeq(onDb(db));
  if (top <= after) return { events: [], last: after };
  const rows = await eventsAfter(onDb(db), { ...q, after, upTo: top });
  const events = rows.map((r) => ({
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
  return { events, last: events.length === q.limit ? events[events.length - 1]!.seq : top };
}

/** The log's end, where a follower that wants only what comes next starts. */
export function latestEventSeq(db: Db): Promise<number> {
  return lastEventSeq(onDb(db));
}

export const DEFAULT_EVENT_POLL_MS = 250;

export async function followEvents(
  db: Db,
  q: EventQuery,
  signal?: AbortSignal,
): Promise<{ events: EventT[]; last: number }> {
  const deadline = Date.now() + q.waitMs;
  let after = q.after;
  for (;;) {
    const r = await read(db, q, after);
    after = r.last;
    const remaining = deadline - Date.now();
    if (r.events.length > 0 || remaining <= 0 || signal?.aborted) return r;
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
