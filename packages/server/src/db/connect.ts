// Opens the database behind a Kysely instance: SQLite (better-sqlite3, WAL) for a file path,
// PostgreSQL (pg pool) for a postgres:// URL. Migrations run on open; they are forward-only.

import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Migration } from 'kysely';
import type { Database } from './schema.js';
import type { Q } from './conn.js';
import { up as initial } from './migrations/0001-initial.js';
import { up as requestLog } from './migrations/0002-request-log.js';
import { up as identity } from './migrations/0003-identity.js';
import { up as lease } from './migrations/0004-lease.js';
import { up as workflowList } from './migrations/0005-workflow-list.js';
import { up as clusters } from './migrations/0006-clusters.js';
import { up as slurmCluster } from './migrations/0007-slurm-cluster.js';
import { up as taskReads } from './migrations/0008-task-reads.js';
import { up as runCwd } from './migrations/0009-run-cwd.js';
import { up as taskDeps } from './migrations/0010-task-deps.js';
import { up as resourceReads } from './migrations/0011-resource-reads.js';
import { up as errorPatterns } from './migrations/0013-error-patterns.js';
import { up as auth } from './migrations/0014-auth.js';
import type { Dialect, DialectName } from './dialects/dialect.js';
import { postgresDialect } from './dialects/postgres.js';
import { sqliteDialect } from './dialects/sqlite.js';

export type { Dialect, DialectName } from './dialects/dialect.js';

export interface Db {
  readonly kysely: Kysely<Database>;
  /** What differs between SQLite and PostgreSQL (db/dialects/); `dialect.name` says which. */
  readonly dialect: Dialect;
  /** Where it lives, for messages: a file path or a URL without its password. */
  readonly location: string;
  /** The database's own id, a UUID written when it was created (logs are kept under it). */
  readonly id: string;
  close(): Promise<void>;
}

/** The database itself as a query target, outside any transaction. */
export function onDb(db: Db): Q {
  return { db: db.kysely, dialect: db.dialect };
}

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//.test(target);
}

export interface OpenDbOptions {
  /** Stop after this migration instead of the latest (upgrade tests build the previous schema so).
   *  The database id is then '' when the schema has no `meta` table yet. */
  migrateTo?: MigrationName;
}

export async function openDb(target: string, opts: OpenDbOptions = {}): Promise<Db> {
  const dialect: DialectName = isPostgresUrl(target) ? 'postgres' : 'sqlite';
  let kysely: Kysely<Database>;
  let location = target;
  if (dialect === 'postgres') {
    // Drivers load on demand: a SQLite user never pays for pg, nor the reverse.
    const pg = (await import('pg')).default;
    // int8 and count(*) arrive as strings from pg; every id and timestamp here fits a double.
    pg.types.setTypeParser(20, (v) => Number(v));
    const pool = new pg.Pool({ connectionString: target, max: 10 });
    pool.on('error', () => {
      // A dropped idle connection is replaced on next use; queries report their own errors.
    });
    // A connection in use when the database goes away (a restart) emits 'error' on itself; without
    // a listener that would crash the server. Its query fails too, and that is what we report.
    pool.on('connect', (client) => client.on('error', () => undefined));
    kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    location = target.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@');
  } else {
    if (target !== ':memory:') mkdirSync(dirname(target), { recursive: true });
    const Sqlite = (await import('better-sqlite3')).default;
    const sqlite = new Sqlite(target);
    // The state of every workflow, and the tokens' hashes: for its owner's eyes only (its -wal and
    // -shm files, created later, take the same mode). A file of someone else's is left as it is.
    if (target !== ':memory:')
      try {
        chmodSync(target, 0o600);
      } catch {
        // not ours to change
      }
    // The busy timeout first: processes opening a fresh file together wait for each other's locks.
    sqlite.pragma('busy_timeout = 10000');
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    // 100k-task binds walk large hash-keyed indexes: a 2 MiB default cache makes them I/O bound.
    sqlite.pragma('cache_size = -65536');
    sqlite.pragma('mmap_size = 268435456');
    sqlite.pragma('temp_store = MEMORY');
    kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
    // Kysely takes no migration lock on SQLite: two first starts on one fresh file would both create
    // the tables. Migrate inside one write transaction instead (SQLite's DDL is transactional); the
    // second process waits for it, then finds nothing left to do.
    sqlite.exec('begin immediate');
    try {
      await migrate(kysely, dialect, opts.migrateTo);
      sqlite.exec('commit');
    } catch (e) {
      if (sqlite.inTransaction) sqlite.exec('rollback');
      throw e;
    }
  }
  if (dialect === 'postgres') await migrate(kysely, dialect, opts.migrateTo);
  const ops = dialect === 'postgres' ? postgresDialect : sqliteDialect;
  if (opts.migrateTo && opts.migrateTo < '0003-identity')
    return { kysely, dialect: ops, location, id: '', close: () => kysely.destroy() };
  const meta = await kysely
    .selectFrom('meta')
    .select('value')
    .where('key', '=', 'database_id')
    .executeTakeFirstOrThrow();
  return { kysely, dialect: ops, location, id: meta.value, close: () => kysely.destroy() };
}

/**
 * Kysely prepares a statement on every query; preparing costs more than running most of ours.
 * Reuse prepared statements by SQL text (bounded, so varying multi-row inserts cannot grow it).
 */
function cachingStatements(sqlite: SQLite.Database): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop === 'prepare') {
        return (sql: string) => {
          let stmt = cache.get(sql);
          if (!stmt) {
            stmt = target.prepare(sql);
            if (cache.size >= 1000) cache.clear();
            cache.set(sql, stmt);
          }
          return stmt;
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The migrations in order; names sort in the order they run. */
export const MIGRATION_NAMES = [
  '0001-initial',
  '0002-request-log',
  '0003-identity',
  '0004-lease',
  '0005-workflow-list',
  '0006-clusters',
  '0007-slurm-cluster',
  '0008-task-reads',
  '0009-run-cwd',
  '0010-task-deps',
  '0011-resource-reads',
  '0013-error-patterns',
  '0014-auth',
] as const;
export type MigrationName = (typeof MIGRATION_NAMES)[number];

const MIGRATIONS = (dialect: DialectName): Record<MigrationName, Migration> => ({
  '0001-initial': { up: initial(dialect) },
  '0002-request-log': { up: requestLog(dialect) },
  '0003-identity': { up: identity(dialect) },
  '0004-lease': { up: lease(dialect) },
  '0005-workflow-list': { up: workflowList(dialect) },
  '0006-clusters': { up: clusters(dialect) },
  '0007-slurm-cluster': { up: slurmCluster(dialect) },
  '0008-task-reads': { up: taskReads(dialect) },
  '0009-run-cwd': { up: runCwd(dialect) },
  '0010-task-deps': { up: taskDeps(dialect) },
  '0011-resource-reads': { up: resourceReads(dialect) },
  '0013-error-patterns': { up: errorPatterns(dialect) },
  '0014-auth': { up: auth(dialect) },
});

async function migrate(db: Kysely<Database>, dialect: DialectName, to?: MigrationName): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => MIGRATIONS(dialect) },
  });
  const { error, results } = to ? await migrator.migrateTo(to) : await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`, { cause: error });
  }
}
