// Transactions and the event log they append to. How a write transaction starts and whether rows
// are locked is the dialect's business (db/dialects/). Events collected
// during a transaction are inserted in bulk before it commits and announced after it commits: to
// this process through eventBus, and on PostgreSQL to every replica through NOTIFY (event-listener.ts).

import { EventEmitter } from 'node:events';
import type { Db } from '../db/connect.js';
import type { Conn, Q } from '../db/conn.js';
import { insertEvents, type PendingEvent } from '../db/queries/event.js';
import { afterRead } from './test-hooks.js';

export type { Conn } from '../db/conn.js';
export type { PendingEvent } from '../db/queries/event.js';

export interface Tx extends Q {
  readonly now: number;
  event(e: PendingEvent): void;
}

/** Announces committed events: followers wake up without polling the database. */
export const eventBus = new EventEmitter();
eventBus.setMaxListeners(0);

const CHUNK = 500;

/** `now` is the transaction's clock (the reaper's tick passes its own for tests). */
export async function withTx<T>(db: Db, fn: (tx: Tx) => Promise<T>, now = Date.now()): Promise<T> {
  const events: PendingEvent[] = [];
  const run = async (conn: Conn): Promise<T> => {
    const tx: Tx = { db: conn, now, dialect: db.dialect, event: (e) => events.push(e) };
    const result = await fn(tx);
    if (events.length > 0) {
      await db.dialect.orderEvents(conn);
      await insertEvents(tx, now, events);
      await afterRead('events', tx);
      await db.dialect.announceEvents(conn);
    }
    return result;
  };
  const result = await db.dialect.transaction(db.kysely, run);
  if (events.length > 0) eventBus.emit('committed', events.length);
  return result;
}

/** Split a list for IN (...) and multi-row statements, within both dialects' parameter limits. */
export function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
