// Set-based compare-and-set: one UPDATE moves many rows, each only if it still has the status we
// read, and returns the ids it moved (an id missing from the answer: someone moved that row first).
// Rows travel as one array per column (unnest) on PostgreSQL and as a VALUES list on SQLite, joined
// with UPDATE … FROM (SQLite ≥ 3.33, RETURNING ≥ 3.35).

import { CompiledQuery } from 'kysely';
import type { Conn } from '../services/tx.js';
import type { DialectName } from './connect.js';
import type { PgType } from './bulk.js';

export interface SetCas {
  table: string;
  /** Columns of the incoming rows: `id` and `from` first, then one per `set` entry's source. */
  columns: readonly { name: string; pg: PgType }[];
  /** target column = SQL over v.<column> and the row's own columns (e.g. `coalesce(v.pgid, pgid)`). */
  set: readonly [string, string][];
}

/** Rows list values in `columns` order (the first two: id, expected status). Returns the ids moved. */
export async function setCas(
  conn: Conn,
  dialect: DialectName,
  spec: SetCas,
  rows: readonly (readonly unknown[])[],
  extra: readonly unknown[] = [],
): Promise<Set<number>> {
  const moved = new Set<number>();
  if (rows.length === 0) return moved;
  const names = spec.columns.map((c) => `v_${c.name}`);
  const assignments = spec.set.map(([col, expr]) => `"${col}" = ${expr.replace(/\bv\.(\w+)/g, 'v.v_$1')}`).join(', ');
  const where = `where "${spec.table}"."id" = v.${names[0]} and "${spec.table}"."status" = v.${names[1]} returning "${spec.table}"."id" as id`;
  // ~30,000 parameters per statement on SQLite; the arrays on PostgreSQL are few parameters anyway.
  const perChunk = dialect === 'postgres' ? 20_000 : Math.max(1, Math.floor(30_000 / spec.columns.length));
  for (let start = 0; start < rows.length; start += perChunk) {
    const part = rows.slice(start, start + perChunk);
    let text: string;
    let params: unknown[];
    if (dialect === 'postgres') {
      const k = spec.columns.length;
      const sources = spec.columns.map((c, j) => `$${j + 1}::${c.pg}[]`).join(', ');
      const sets = assignments.replace(/\$extra(\d+)/g, (_, n: string) => `$${k + Number(n)}`);
      text = `update "${spec.table}" set ${sets} from unnest(${sources}) as v(${names.join(', ')}) ${where}`;
      params = [...spec.columns.map((_, j) => part.map((r) => r[j])), ...extra];
    } else {
      const tuple = `(${spec.columns.map(() => '?').join(', ')})`;
      const sets = assignments.replace(/\$extra\d+/g, '?');
      text = `with v(${names.join(', ')}) as (values ${part.map(() => tuple).join(', ')}) update "${spec.table}" set ${sets} from v ${where}`;
      params = [...part.flat(), ...extra];
    }
    const res = await conn.executeQuery<{ id: number }>(CompiledQuery.raw(text, params));
    for (const r of res.rows) moved.add(Number(r.id));
  }
  return moved;
}
