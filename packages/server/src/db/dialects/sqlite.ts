// SQLite: one writer at a time. A write transaction starts with BEGIN IMMEDIATE, taking the write
// lock up front, so two processes sharing a file never deadlock on a lock upgrade and rows need no
// FOR UPDATE. Statements take at most ~32k parameters: bulk statements chunk to 30,000.

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
  type SetCas,
} from './dialect.js';

const MAX_PARAMS = 30_000;
const IN_CHUNK = 2_000;

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  rowLocks: false,
  notifies: false,
  lockRows: (q) => q,
  positional: (text) => text.replace(/\$\d+/g, '?'),

  async transaction(kysely, fn) {
    return kysely.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const r = await fn(conn);
        await sql`commit`.execute(conn);
        return r;
      } catch (e) {
        await sql`rollback`.execute(conn);
        throw e;
      }
    });
  },

  // One writer at a time already: a transaction commits before the next one starts.
  orderEvents: async () => undefined,

  announceEvents: async () => undefined,

  nowMs: () => sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`,

  bulkInsert: <R>(
    conn: Conn,
    table: string,
    columns: readonly string[],
    rows: readonly (readonly unknown[])[],
    opts: BulkOptions = {},
  ) => multiRowInsert<R>(conn, () => '?', table, columns, rows, opts),

  async selectWhereIn<R>(
    conn: Conn,
    sqlHead: string,
    column: string,
    values: readonly unknown[],
    _pgType: unknown,
    extra = { sql: '', params: [] as unknown[] },
  ) {
    const out: R[] = [];
    for (let i = 0; i < values.length; i += IN_CHUNK) {
      const part = values.slice(i, i + IN_CHUNK);
      const text = `${sqlHead} where ${extra.sql ? `${extra.sql} and ` : ''}${quote(column)} in (${part.map(() => '?').join(', ')})`;
      const res = await conn.executeQuery<R>(CompiledQuery.raw(text, [...extra.params, ...part]));
      out.push(...res.rows);
    }
    return out;
  },

  async setCas(conn: Conn, spec: SetCas, rows: readonly (readonly unknown[])[], extra: readonly unknown[] = []) {
    const moved = new Set<number>();
    const { names, assignments, where } = casParts(spec);
    const perChunk = Math.max(1, Math.floor(MAX_PARAMS / spec.columns.length));
    const tuple = `(${spec.columns.map(() => '?').join(', ')})`;
    const sets = assignments.replace(/\$extra\d+/g, '?');
    for (let start = 0; start < rows.length; start += perChunk) {
      const part = rows.slice(start, start + perChunk);
      const text = `with v(${names.join(', ')}) as (values ${part.map(() => tuple).join(', ')}) update "${spec.table}" set ${sets} from v ${where}`;
      const res = await conn.executeQuery<{ id: number }>(CompiledQuery.raw(text, [...part.flat(), ...extra]));
      for (const r of res.rows) moved.add(Number(r.id));
    }
    return moved;
  },

  classifyError(err: unknown): ErrorKind {
    const { codes, text } = errorFacts(err);
    if (codes.some((c) => c.startsWith('SQLITE_BUSY')) || /SQLITE_BUSY|database is locked/i.test(text)) return 'busy';
    if (codes.some((c) => SOCKET_CODES.has(c)) || OUTAGE_TEXT.test(text)) return 'outage';
    return 'other';
  },
};

/** Multi-row INSERT as plain SQL text. Kysely builds an operation tree per value, which for 100k-row
 * binds cost more than the database itself. `mark(n)` spells the n-th (1-based) placeholder. */
export async function multiRowInsert<R>(
  conn: Conn,
  mark: (n: number) => string,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  opts: BulkOptions,
): Promise<R[]> {
  const out: R[] = [];
  const perChunk = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  const cols = columns.map(quote).join(', ');
  for (let start = 0; start < rows.length; start += perChunk) {
    const part = rows.slice(start, start + perChunk);
    const params: unknown[] = [];
    const tuples = part.map((row) => `(${row.map((v) => (params.push(v), mark(params.length))).join(', ')})`);
    const text = `insert into ${quote(table)} (${cols}) values ${tuples.join(', ')}${conflictAndReturning(opts)}`;
    const res = await conn.executeQuery<R>(CompiledQuery.raw(text, params));
    out.push(...res.rows);
  }
  return out;
}
