// PostgreSQL: many writers at once. A read that decides a write locks its rows (FOR UPDATE); bulk
// rows travel as one array parameter per column (unnest, = any), which PostgreSQL parses and plans
// far faster than thousands of positional parameters; a commit that appended events NOTIFYs the
// other replicas (services/event-listener.ts).

import { CompiledQuery, sql } from 'kysely';
import type { Conn } from '../conn.js';
import {
  casParts,
  conflictAndReturning,
  errorFacts,
  OUTAGE_TEXT,
  quote,
  SOCKET_CODES,
  type BulkOptions,
  type Dialect,
  type ErrorKind,
  type PgType,
  type SetCas,
} from './dialect.js';
import { multiRowInsert } from './sqlite.js';

/** The advisory lock that orders event appends (an arbitrary constant: "jobmon" in ASCII). */
const EVENT_APPEND_LOCK = 0x6a6f626d6f6e;

const ARRAY_CHUNK = 20_000;

/** SQLSTATEs of a server going away or refusing sessions: admin/crash shutdown, cannot connect
 * now, too many connections, and class 08 (connection exceptions). */
const OUTAGE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** Serialization failure, deadlock, lock not available: the same request succeeds on retry. */
const BUSY_STATES = new Set(['40001', '40P01', '55P03']);
/** What pg says of a query on a connection that had already died (the server ended the session). */
const DEAD_CLIENT_TEXT = /is not queryable|Connection terminated unexpectedly/i;

export const postgresDialect: Dialect = {
  name: 'postgres',
  rowLocks: true,
  notifies: true,
  lockRows: (q) => q.forUpdate(),
  positional: (text) => text,

  transaction: (kysely, fn) => kysely.transaction().execute(fn),

  // Transactions take their seq from a sequence as they insert, but commit in any order: without
  // this lock, seq 101 could commit (and be read, and passed) while seq 100 was still in flight.
  // Taken last, held to commit: it orders only the append and the commit, and cannot deadlock,
  // since a holder waits on nothing else.
  async orderEvents(conn) {
    await sql`select pg_advisory_xact_lock(${EVENT_APPEND_LOCK})`.execute(conn);
  },

  // Queued inside the transaction, PostgreSQL delivers it at commit and never on rollback: a
  // replica's follower is woken exactly when it can read the events.
  async announceEvents(conn) {
    await sql`notify jobmon_events`.execute(conn);
  },

  // clock_timestamp: the statement's time, not the transaction's.
  nowMs: () => sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`,

  async bulkInsert<R>(
    conn: Conn,
    table: string,
    columns: readonly string[],
    rows: readonly (readonly unknown[])[],
    opts: BulkOptions = {},
  ) {
    if (!opts.pgTypes) return multiRowInsert<R>(conn, (n) => `$${n}`, table, columns, rows, opts);
    const types: readonly PgType[] = opts.pgTypes;
    const out: R[] = [];
    const cols = columns.map(quote).join(', ');
    const sources = types.map((t, j) => `$${j + 1}::${t}[]`).join(', ');
    const text = `insert into ${quote(table)} (${cols}) select * from unnest(${sources})${conflictAndReturning(opts)}`;
    for (let start = 0; start < rows.length; start += ARRAY_CHUNK) {
      const part = rows.slice(start, start + ARRAY_CHUNK);
      const arrays = columns.map((_, j) => part.map((r) => r[j]));
      const res = await conn.executeQuery<R>(CompiledQuery.raw(text, arrays));
      out.push(...res.rows);
    }
    return out;
  },

  async selectWhereIn<R>(
    conn: Conn,
    sqlHead: string,
    column: string,
    values: readonly unknown[],
    pgType: PgType,
    extra = { sql: '', params: [] as unknown[] },
  ) {
    if (values.length === 0) return [];
    let k = 0;
    const where = extra.sql ? `${extra.sql.replace(/\?/g, () => `$${++k}`)} and ` : '';
    const text = `${sqlHead} where ${where}${quote(column)} = any($${k + 1}::${pgType}[])`;
    const res = await conn.executeQuery<R>(CompiledQuery.raw(text, [...extra.params, [...values]]));
    return [...res.rows];
  },

  async setCas(conn: Conn, spec: SetCas, rows: readonly (readonly unknown[])[], extra: readonly unknown[] = []) {
    const moved = new Set<number>();
    const { names, assignments, where } = casParts(spec);
    const k = spec.columns.length;
    const sources = spec.columns.map((c, j) => `$${j + 1}::${c.pg}[]`).join(', ');
    const sets = assignments.replace(/\$extra(\d+)/g, (_, n: string) => `$${k + Number(n)}`);
    const text = `update "${spec.table}" set ${sets} from unnest(${sources}) as v(${names.join(', ')}) ${where}`;
    for (let start = 0; start < rows.length; start += ARRAY_CHUNK) {
      const part = rows.slice(start, start + ARRAY_CHUNK);
      const res = await conn.executeQuery<{ id: number }>(
        CompiledQuery.raw(text, [...spec.columns.map((_, j) => part.map((r) => r[j])), ...extra]),
      );
      for (const r of res.rows) moved.add(Number(r.id));
    }
    return moved;
  },

  classifyError(err: unknown): ErrorKind {
    const { codes, text } = errorFacts(err);
    if (codes.some((c) => BUSY_STATES.has(c)) || /deadlock detected|could not serialize/i.test(text)) return 'busy';
    if (
      codes.some((c) => OUTAGE_STATES.has(c) || c.startsWith('08') || SOCKET_CODES.has(c)) ||
      OUTAGE_TEXT.test(text) ||
      DEAD_CLIENT_TEXT.test(text)
    )
      return 'outage';
    return 'other';
  },
};
