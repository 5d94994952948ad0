// Set-based compare-and-set: one UPDATE moves many rows, each only if it still has the status we
// read, and returns the ids it moved (an id missing from the answer: someone moved that row first).
// Rows travel as one array per column (unnest) on PostgreSQL and as a VALUES list on SQLite, joined
// with UPDATE … FROM (SQLite ≥ 3.33, RETURNING ≥ 3.35); see db/dialects/.

import type { Conn } from './conn.js';
import type { Dialect, SetCas } from './dialects/dialect.js';

export type { SetCas } from './dialects/dialect.js';

/** Rows list values in `columns` order (the first two: id, expected status). Returns the ids moved. */
export function setCas(
  conn: Conn,
  dialect: Dialect,
  spec: SetCas,
  rows: readonly (readonly unknown[])[],
  extra: readonly unknown[] = [],
): Promise<Set<number>> {
  return dialect.setCas(conn, spec, rows, extra);
}
