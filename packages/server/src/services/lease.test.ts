// The lease statement on a real database (SQLite or PostgreSQL): one holder at a time, renewal by
// the holder, takeover once expired, release; expiry on the database's clock. A negative period
// makes a lease that is already expired, so nothing here waits.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../../test-support/db.js';
import { openDb, type Db } from '../db/connect.js';
import { acquireLease, releaseLease } from './lease.js';

let tdb: TestDb;
let db: Db;

beforeAll(async () => {
  tdb = await createTestDb('lease');
  db = await openDb(tdb.target);
});
afterAll(async () => {
  await db?.close();
  await tdb?.drop();
});

const row = (name: string) => db.kysely.selectFrom('lease').selectAll().where('name', '=', name).executeTakeFirst();

describe(`the lease on ${TEST_DB_KIND}`, () => {
  it('is granted to one holder at a time and renewed by it, on the database clock', async () => {
    expect(await acquireLease(db, 'one', 'a', 60_000)).toBe(true);
    const first = await row('one');
    // The database's clock, in epoch milliseconds like every timestamp here (this host's clock is
    // the database's in tests: a wrong unit or epoch would be off by far more than a minute).
    expect(Math.abs(first!.expires_at - (Date.now() + 60_000))).toBeLessThan(60_000);
    expect(await acquireLease(db, 'one', 'b', 60_000)).toBe(false);
    expect(await acquireLease(db, 'one', 'a', 120_000)).toBe(true);
    expect((await row('one'))!.expires_at).toBeGreaterThan(first!.expires_at);
    expect((await row('one'))!.holder).toBe('a');
  });

  it('passes to another once expired, and at once when released', async () => {
    expect(await acquireLease(db, 'two', 'a', -1)).toBe(true);
    expect(await acquireLease(db, 'two', 'b', 60_000)).toBe(true);
    expect(await acquireLease(db, 'two', 'a', 60_000)).toBe(false);
    await releaseLease(db, 'two', 'a'); // not a's to release: nothing happens
    expect((await row('two'))!.holder).toBe('b');
    await releaseLease(db, 'two', 'b');
    expect(await acquireLease(db, 'two', 'a', 60_000)).toBe(true);
  });

  it('lets exactly one of many racing bids win', async () => {
    const bids = await Promise.all(Array.from({ length: 8 }, (_, i) => acquireLease(db, 'three', `h${i}`, 60_000)));
    expect(bids.filter(Boolean)).toHaveLength(1);
  });
});
