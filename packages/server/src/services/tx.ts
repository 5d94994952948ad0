// Transactions and the event log they append to. A write transaction on SQLite starts with
// BEGIN IMMEDIATE so two processes sharing a file never deadlock on a lock upgrade; on
// PostgreSQL rows are locked with FOR UPDATE where a read decides a write. Events collected
// during a transaction are inserted in bulk before it commits and announced after it commits: to
// this process through eventBus, and on PostgreSQL to every replica through NOTIFY (event-listener.ts).

import { EventEmitter } from 'node:events';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Db } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import { bulkInsert } from '../db/bulk.js';

export type Conn = Kysely<Database> | Transaction<Database>;

export interface PendingEvent {
  workflowId: number | null;
  entity: 'workflow' | 'workflow_run' | 'task' | 'task_instance';
  entityId: number;
  from: string | null;
  to: string;
  actor: string;
  context?: Record<string, unknown>;
}

export interface Tx {
  readonly db: Conn;
  readonly now: number;
  readonly dialect: Db['dialect'];
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
    await bulkInsert(
      conn,
      db.dialect,
      'event',
      ['at', 'workflow_id', 'entity', 'entity_id', 'from_status', 'to_status', 'actor', 'context'],
      events.map((e) => [now, e.workflowId, e.entity, e.entityId, e.from, e.to, e.actor, e.context === undefined ? null : JSON.stringify(e.context)]),
      { pgTypes: ['bigint', 'bigint', 'text', 'bigint', 'text', 'text', 'text', 'text'] },
    );
    // Queued inside the transaction, PostgreSQL delivers it at commit and never on rollback: a
    // replica's follower is woken exactly when it can read the events.
    if (events.length > 0 && db.dialect === 'postgres') await sql`notify jobmon_events`.execute(conn);
    return result;
  };
  let result: T;
  if (db.dialect === 'postgres') {
    result = await db.kysely.transaction().execute(run);
  } else {
    result = await db.kysely.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const r = await run(conn);
        await sql`commit`.execute(conn);
        return r;
      } catch (e) {
        await sql`rollback`.execute(conn);
        throw e;
      }
    });
  }
  if (events.length > 0) eventBus.emit('committed', events.length);
  return result;
}

/** Split a list for IN (...) and multi-row statements, within both dialects' parameter limits. */
export function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function forUpdate(tx: Tx): boolean {
  return tx.dialect === 'postgres';
}
