// A fresh database per test file: a temporary SQLite file, or — with JOBMON_TEST_DB=postgres — a
// new PostgreSQL database on 127.0.0.1:5432 (JOBMON_TEST_PG_URL overrides) that is dropped after.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const TEST_DB_KIND: 'sqlite' | 'postgres' = process.env['JOBMON_TEST_DB'] === 'postgres' ? 'postgres' : 'sqlite';
const ADMIN_URL = process.env['JOBMON_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDb {
  /** A SQLite path or a postgres:// URL, as `jobmon server --db` takes. */
  target: string;
  /** A scratch directory for logs and files, removed by drop(). */
  dir: string;
  drop(): Promise<void>;
}

export async function createTestDb(label = 'jm'): Promise<TestDb> {
  const dir = mkdtempSync(join(tmpdir(), `jobmon-${label}-`));
  if (TEST_DB_KIND === 'sqlite') {
    return { target: join(dir, 'jobmon.db'), dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `jobmon_${label.replace(/\W/g, '_')}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    target: url.toString(),
    dir,
    drop: async () => {
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
