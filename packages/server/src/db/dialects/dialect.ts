// The few things SQLite and PostgreSQL do differently, behind one interface: how rows are locked,
// how many rows travel in one statement, how a transaction starts, how the database's clock reads,
// and which driver errors mean "the database is unavailable". Everything else is one SQL text for
// both. Each implementation passes the same contract suite (test/dialect-contract.test.ts).

import type { RawBuilder } from 'kysely';
import type { Conn } from '../conn.js';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export type DialectName = 'sqlite' | 'postgres';

/** PostgreSQL column types for array parameters (unnest, = any). */
export type PgType = 'text' | 'bigint' | 'integer';

export interface BulkOptions {
  /** PostgreSQL column types: with them, rows travel as one array per column (unnest), which
   * PostgreSQL parses and plans far faster than thousands of positional parameters. */
  pgTypes?: readonly PgType[];
  /** ON CONFLICT (columns) DO NOTHING */
  ignoreConflictOn?: readonly string[];
  returning?: readonly string[];
}

export interface SetCas {
  table: string;
  /** Columns of the incoming rows: `id` and `from` first, then one per `set` entry's source. */
  columns: readonly { name: string; pg: PgType }[];
  /** target column = SQL over v.<column> and the row's own columns (e.g. `coalesce(v.pgid, pgid)`). */
  set: readonly [string, string][];
}

/**
 * 'outage': the database is gone or refusing connections (the server backs off and reports it);
 * 'busy': lock contention a retry resolves; 'other': a fault in the statement or the data.
 */
export type ErrorKind = 'outage' | 'busy' | 'other';

export interface Dialect {
  readonly name: DialectName;
  /** Whether a read that decides a write must lock its rows (SELECT … FOR UPDATE). SQLite's
   * write transactions start with BEGIN IMMEDIATE and so already exclude every other writer. */
  readonly rowLocks: boolean;
  /** Whether committed events can be announced to other processes (NOTIFY/LISTEN). */
  readonly notifies: boolean;
  /** `q.forUpdate()` where rows lock, `q` unchanged elsewhere. */
  lockRows<T extends { forUpdate(): T }>(q: T): T;
  /** Raw SQL written with $1, $2 … placeholders, in this dialect's spelling. */
  positional(text: string): string;
  /** Run `fn` in a write transaction. */
  transaction<T>(kysely: Kysely<Database>, fn: (conn: Conn) => Promise<T>): Promise<T>;
  /**
   * Called inside a transaction just before it appends events: from here to its commit, no other
   * transaction appends any. So events become visible in `seq` order, and a follower that reads
   * up to the log's end can never have a smaller seq commit behind it.
   */
  orderEvents(conn: Conn): Promise<void>;
  /** Called inside a transaction that appended events, before it commits. */
  announceEvents(conn: Conn): Promise<void>;
  /** Epoch milliseconds on the database's clock, read when the statement runs. */
  nowMs(): RawBuilder<number>;
  /** Insert rows (values in `columns` order), chunked within the dialect's parameter limits; with
   * `returning`, answers the returned columns of every inserted row in input order. */
  bulkInsert<R = unknown>(
    conn: Conn,
    table: string,
    columns: readonly string[],
    rows: readonly (readonly unknown[])[],
    opts?: BulkOptions,
  ): Promise<R[]>;
  /** `sqlHead where [extra and] column in (values)`, however many values there are. `extra.sql`
   * uses ? placeholders. */
  selectWhereIn<R>(
    conn: Conn,
    sqlHead: string,
    column: string,
    values: readonly unknown[],
    pgType: PgType,
    extra?: { sql: string; params: unknown[] },
  ): Promise<R[]>;
  /**
   * Set-based compare-and-set: one UPDATE moves many rows, each only if it still has the status
   * read (rows list id and expected status first, then one value per `spec.columns`), and answers
   * the ids it moved; an id missing from the answer: someone moved that row first. Joined with
   * UPDATE … FROM (SQLite ≥ 3.33, RETURNING ≥ 3.35); `$extraN` in `spec.set` binds `extra[N-1]`.
   */
  setCas(
    conn: Conn,
    spec: SetCas,
    rows: readonly (readonly unknown[])[],
    extra?: readonly unknown[],
  ): Promise<Set<number>>;
  /** What a driver error means for the caller (retry, report an outage, or a plain fault). */
  classifyError(err: unknown): ErrorKind;
}

export const quote = (c: string): string => `"${c}"`;

export function conflictAndReturning(opts: BulkOptions): string {
  let text = '';
  if (opts.ignoreConflictOn) text += ` on conflict (${opts.ignoreConflictOn.map(quote).join(', ')}) do nothing`;
  if (opts.returning) text += ` returning ${opts.returning.map(quote).join(', ')}`;
  return text;
}

/** The SET list and WHERE shared by both dialects' setCas; `v_<column>` names the incoming values. */
export function casParts(spec: SetCas): { names: string[]; assignments: string; where: string } {
  const names = spec.columns.map((c) => `v_${c.name}`);
  const assignments = spec.set.map(([col, expr]) => `"${col}" = ${expr.replace(/\bv\.(\w+)/g, 'v.v_$1')}`).join(', ');
  const where = `where "${spec.table}"."id" = v.${names[0]} and "${spec.table}"."status" = v.${names[1]} returning "${spec.table}"."id" as id`;
  return { names, assignments, where };
}

/** The message and code of an error and of its causes, for classification. */
export function errorFacts(err: unknown): { codes: string[]; text: string } {
  const codes: string[] = [];
  const texts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e === 'object') {
      const o = e as { code?: unknown; errno?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
      if (typeof o.code === 'string') codes.push(o.code);
      if (typeof o.message === 'string') texts.push(o.message);
      // A refused connection to "localhost" is an AggregateError of one per address tried.
      if (Array.isArray(o.errors))
        for (const inner of o.errors as unknown[]) {
          const c = (inner as { code?: unknown } | null)?.code;
          if (typeof c === 'string') codes.push(c);
        }
      e = o.cause;
    } else {
      texts.push(String(e));
      break;
    }
  }
  return { codes, text: texts.join('\n') };
}

/** Socket errors: the database process or the network path to it is gone. */
export const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** Message fragments that mean the same when a driver gives no code. */
export const OUTAGE_TEXT = /ECONNREFUSED|ECONNRESET|terminating connection|Connection terminated|timeout/i;
