// The schema a fresh database gets from the migrations, per dialect, as committed text:
// packages/server/schema/{sqlite,postgres}.sql. `npm run schema:dump` writes them (both dialects;
// PostgreSQL on JOBMON_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test, through
// pg_dump); packages/server/test/schema-dump.test.ts regenerates the one for its lane and diffs.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { openDb } from '@jobmon/server';

export type Dialect = 'sqlite' | 'postgres';
export const SCHEMA_PATH = (dialect: Dialect) => `packages/server/schema/${dialect}.sql`;
export const STALE = 'schema changed: run npm run schema:dump and commit';
const ADMIN_URL = process.env['JOBMON_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const HEADER = (d: Dialect) =>
  `-- The ${d} schema after every migration, written by \`npm run schema:dump\` (scripts/schema-dump.ts). Do not edit.\n`;

export async function dumpSqlite(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'jobmon-schema-'));
  try {
    const db = await openDb(join(dir, 'jobmon.db'));
    try {
      const rows = (
        await sql<{
          sql: string;
        }>`select sql from sqlite_master where sql is not null order by type desc, name`.execute(db.kysely)
      ).rows;
      return `${HEADER('sqlite')}\n` + rows.map((r) => `${r.sql};\n`).join('\n');
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function dumpPostgres(): Promise<string> {
  const name = `jobmon_schema_${process.pid}_${Date.now().toString(36)}`;
  const admin = async (q: string) => {
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  await admin(`create database ${name}`);
  try {
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    const db = await openDb(url.toString());
    await db.close();
    let out: string;
    try {
      out = execFileSync(
        'pg_dump',
        ['--schema-only', '--no-owner', '--no-privileges', '--no-comments', url.toString()],
        { encoding: 'utf8' },
      );
    } catch (e) {
      throw new Error(`pg_dump failed (is postgresql-client installed?): ${(e as Error).message}`, { cause: e });
    }
    // Only what the migrations decide: no comments, session settings or pg_dump's per-run \restrict key.
    const body = out
      .split('\n')
      .filter((l) => !/^(--|SET |SELECT pg_catalog\.set_config|\\(un)?restrict )/.test(l))
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
    return `${HEADER('postgres')}\n${body}\n`;
  } finally {
    await admin(`drop database if exists ${name} with (force)`);
  }
}

export const dump = (d: Dialect) => (d === 'sqlite' ? dumpSqlite() : dumpPostgres());

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const d of ['sqlite', 'postgres'] as const) {
    writeFileSync(fileURLToPath(new URL(`../${SCHEMA_PATH(d)}`, import.meta.url)), await dump(d));
    console.log(`wrote ${SCHEMA_PATH(d)}`);
  }
}
