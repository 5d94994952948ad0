// Multi-row INSERT built as plain SQL text. Kysely builds an operation tree per value, which for
// 100k-row binds cost more than the database itself; these paths only need
// "insert … values (…),(…) [on conflict (…) do nothing] [returning …]" with positional parameters.

import { CompiledQuery } from 'kysely';
import type { Conn } from '../services/tx.js';
import type { DialectName } from './connect.js';

export type PgType = 'text' | 'bigint' | 'integer';

export interface BulkOptions {
  /** PostgreSQL column types: with them, rows travel as one array per column (unnest), which
   * PostgreSQL parses and plans far faster than thousands of positional parameters. */
  pgTypes?: readonly PgType[];
  /** ON CONFLICT (columns) DO NOTHING */
  ignoreConflictOn?: readonly string[];
  returning?: readonly string[];
}

/** Rows must list values in `columns` order. Chunk so rows × columns stays under 30,000 params. */
export async function bulkInsert<R = unknown>(
  conn: Conn,
  dialect: DialectName,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  opts: BulkOptions = {},
): Promise<R[]> {
  const out: R[] = [];
  if (rows.length === 0) return out;
  if (dialect === 'postgres' && opts.pgTypes) return bulkInsertUnnest<R>(conn, table, columns, rows, opts, opts.pgTypes);
  const perChunk = Math.max(1, Math.floor(30_000 / columns.length));
  const cols = columns.map((c) => `"${c}"`).join(', ');
  for (let start = 0; start < rows.length; start += perChunk) {
    const part = rows.slice(start, start + perChunk);
    const params: unknown[] = [];
    let n = 0;
    const tuples = part.map((row) => {
      const marks = row.map((v) => {
        params.push(v);
        n += 1;
        return dialect === 'postgres' ? `$${n}` : '?';
      });
      return `(${marks.join(', ')})`;
    });
    let text = `insert into "${table}" (${cols}) values ${tuples.join(', ')}`;
    if (opts.ignoreConflictOn) text += ` on conflict (${opts.ignoreConflictOn.map((c) => `"${c}"`).join(', ')}) do nothing`;
    if (opts.returning) text += ` returning ${opts.returning.map((c) => `"${c}"`).join(', ')}`;
    const res = await conn.executeQuery<R>(CompiledQuery.raw(text, params));
    out.push(...res.rows);
  }
  return out;
}

async function bulkInsertUnnest<R>(
  conn: Conn,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  opts: BulkOptions,
  types: readonly PgType[],
): Promise<R[]> {
  const out: R[] = [];
  const CHUNK = 20_000;
  const cols = columns.map((c) => `"${c}"`).join(', ');
  for (let start = 0; start < rows.length; start += CHUNK) {
    const part = rows.slice(start, start + CHUNK);
    const arrays = columns.map((_, j) => part.map((r) => r[j]));
    const sources = types.map((t, j) => `$${j + 1}::${t}[]`).join(', ');
    let text = `insert into "${table}" (${cols}) select * from unnest(${sources})`;
    if (opts.ignoreConflictOn) text += ` on conflict (${opts.ignoreConflictOn.map((c) => `"${c}"`).join(', ')}) do nothing`;
    if (opts.returning) text += ` returning ${opts.returning.map((c) => `"${c}"`).join(', ')}`;
    const res = await conn.executeQuery<R>(CompiledQuery.raw(text, arrays));
    out.push(...res.rows);
  }
  return out;
}

/** Rows whose `column` is one of `values`: one array parameter on PostgreSQL, chunked IN lists on SQLite. */
export async function selectWhereIn<R>(
  conn: Conn,
  dialect: DialectName,
  sqlHead: string,
  column: string,
  values: readonly unknown[],
  pgType: PgType,
  extra: { sql: string; params: unknown[] } = { sql: '', params: [] },
): Promise<R[]> {
  const out: R[] = [];
  if (values.length === 0) return out;
  if (dialect === 'postgres') {
    let k = 0;
    const where = extra.sql ? `${extra.sql.replace(/\?/g, () => `$${++k}`)} and ` : '';
    const text = `${sqlHead} where ${where}"${column}" = any($${k + 1}::${pgType}[])`;
    const res = await conn.executeQuery<R>(CompiledQuery.raw(text, [...extra.params, [...values]]));
    return res.rows as R[];
  }
  for (let i = 0; i < values.length; i += 2000) {
    const part = values.slice(i, i + 2000);
    const text = `${sqlHead} where ${extra.sql ? `${extra.sql} and ` : ''}"${column}" in (${part.map(() => '?').join(', ')})`;
    const res = await conn.executeQuery<R>(CompiledQuery.raw(text, [...extra.params, ...part]));
    out.push(...res.rows);
  }
  return out;
}
