// Bulk statements over many rows: each dialect builds its own (db/dialects/), these keep the
// call sites short. Rows list values in `columns` order.

import type { Conn } from './conn.js';
import type { BulkOptions, Dialect, PgType } from './dialects/dialect.js';

export type { BulkOptions, PgType } from './dialects/dialect.js';

export function bulkInsert<R = unknown>(
  conn: Conn,
  dialect: Dialect,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  opts: BulkOptions = {},
): Promise<R[]> {
  return dialect.bulkInsert<R>(conn, table, columns, rows, opts);
}

/** Rows whose `column` is one of `values`: one array parameter on PostgreSQL, chunked IN lists on SQLite. */
export function selectWhereIn<R>(
  conn: Conn,
  dialect: Dialect,
  sqlHead: string,
  column: string,
  values: readonly unknown[],
  pgType: PgType,
  extra: { sql: string; params: unknown[] } = { sql: '', params: [] },
): Promise<R[]> {
  return dialect.selectWhereIn<R>(conn, sqlHead, column, values, pgType, extra);
}
