// Multi-row INSERT built as plain SQL text. Kysely builds an operation tree per value, which for
// 100k-row binds cost more than the database itself; these paths only need
// "insert … values (…),(…) [on conflict (…) do nothing] [returning …]" with positional parameters.

import { CompiledQuery } from 'kysely';
import type { Conn } from '../services/tx.js';
import type { DialectName } from './connect.js';

export interface BulkOptions {
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
