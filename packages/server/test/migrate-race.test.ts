// Several processes opening one fresh database at once (the first `jobmon run`s of a day, started
// together) must all succeed: migrations take a lock on SQLite as on PostgreSQL.

import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';

const run = promisify(execFile);
const SERVER = resolve(import.meta.dirname, '../dist/db/connect.js');
const MIGRATIONS = resolve(import.meta.dirname, '../src/db/migrations');
// Each process loads the code first, then waits for a common instant, so the opens really race.
const OPEN = `const { openDb } = await import(process.argv[1]);
await new Promise((r) => setTimeout(r, Number(process.argv[3]) - Date.now()));
const db = await openDb(process.argv[2]); console.log(db.id); await db.close();`;

let dbs: TestDb[] = [];
beforeAll(() => {
  dbs = [];
});
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

describe(`first opens racing on a fresh ${TEST_DB_KIND} database`, () => {
  it('8 processes opening one new database at once all succeed and agree on its id', async () => {
    for (let round = 0; round < 2; round++) {
      const d = await createTestDb(`race${round}`);
      dbs.push(d);
      const target = TEST_DB_KIND === 'sqlite' ? join(d.dir, 'fresh.db') : d.target;
      const at = String(Date.now() + 4000);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => run(process.execPath, ['--input-type=module', '-e', OPEN, SERVER, target, at])),
      );
      const failures = results.flatMap((r) =>
        r.status === 'rejected'
          ? [
              String((r.reason as { stderr?: string }).stderr ?? r.reason)
                .split('\n')
                .find((l) => /Error|failed/.test(l)),
            ]
          : [],
      );
      expect(failures, `round ${round}`).toEqual([]);
      const ids = new Set(results.map((r) => (r.status === 'fulfilled' ? r.value.stdout.trim() : '')));
      expect(ids.size).toBe(1);
      const db = await openDb(target);
      try {
        const done = await db.kysely
          .selectFrom('kysely_migration' as never)
          .selectAll()
          .execute();
        // One row per migration in packages/server/src/db/migrations, each applied once.
        expect(done.length).toBe(readdirSync(MIGRATIONS).filter((f) => f.endsWith('.ts')).length);
      } finally {
        await db.close();
      }
    }
  });
});
