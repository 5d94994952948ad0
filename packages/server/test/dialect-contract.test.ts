// The dialect contract (db/dialects/): the same cases against the dialect of this lane's database
// (JOBMON_TEST_DB picks SQLite or PostgreSQL), so what services rely on — rows inserted in bulk
// come back in input order, IN lists of any length, insert-ignore, set-based compare-and-set, row
// locks that really exclude another writer, the database clock, and which driver errors mean
// "unavailable" — holds on both. Errors classified here are real ones, raised by the drivers.

import { createServer, type AddressInfo } from 'node:net';
import Sqlite from 'better-sqlite3';
import { CompiledQuery, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';

let tdb: TestDb;
let db: Db;

beforeAll(async () => {
  tdb = await createTestDb('dialect');
  db = await openDb(tdb.target);
  // A scratch table outside the schema (this database is dropped after the file).
  await sql`create table contract_row (id bigint primary key, status text not null, note text)`.execute(db.kysely);
});
afterAll(async () => {
  await db?.close();
  await tdb?.drop();
});

/** A real error a statement raised, for classification. */
async function raised(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the statement to fail');
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe(`the ${TEST_DB_KIND} dialect`, () => {
  it('is the one openDb chose for the target', () => {
    expect(db.dialect.name).toBe(TEST_DB_KIND);
    expect(db.dialect.rowLocks).toBe(TEST_DB_KIND === 'postgres');
  });

  it('inserts more rows than one chunk holds and returns their ids in input order', async () => {
    // 25,000 rows: past SQLite's 30,000-parameter chunk (two columns: 15,000 rows) and PostgreSQL's
    // 20,000-row array chunk, so both split the batch and must keep the order across chunks.
    const names = Array.from({ length: 25_000 }, (_, i) => `tool-${String(i).padStart(5, '0')}`);
    const ids = await db.dialect.bulkInsert<{ id: number; name: string }>(
      db.kysely,
      'tool',
      ['name', 'created_at'],
      names.map((n, i) => [n, i]),
      {
        pgTypes: ['text', 'bigint'],
        returning: ['id', 'name'],
      },
    );
    expect(ids.map((r) => r.name)).toEqual(names);
    const stored = await db.kysely.selectFrom('tool').select(['id', 'name', 'created_at']).orderBy('id').execute();
    expect(stored).toHaveLength(names.length);
    expect(stored.map((r) => [Number(r.id), r.name])).toEqual(ids.map((r) => [Number(r.id), r.name]));
    expect(stored.every((r, i) => Number(r.created_at) === i)).toBe(true);
  });

  it('inserts without array types too (positional VALUES on both)', async () => {
    const rows = await db.dialect.bulkInsert<{ key: string }>(
      db.kysely,
      'meta',
      ['key', 'value'],
      [
        ['c-1', 'a'],
        ['c-2', 'b'],
      ],
      { returning: ['key'] },
    );
    expect(rows.map((r) => r.key)).toEqual(['c-1', 'c-2']);
    expect(await db.dialect.bulkInsert(db.kysely, 'meta', ['key', 'value'], [])).toEqual([]);
  });

  it('ignores rows that conflict when asked, and inserts the rest', async () => {
    await db.dialect.bulkInsert(db.kysely, 'lease', ['name', 'holder', 'expires_at'], [['ig-a', 'first', 1]], {
      pgTypes: ['text', 'text', 'bigint'],
    });
    const inserted = await db.dialect.bulkInsert<{ name: string }>(
      db.kysely,
      'lease',
      ['name', 'holder', 'expires_at'],
      [
        ['ig-a', 'second', 2],
        ['ig-b', 'second', 2],
      ],
      { pgTypes: ['text', 'text', 'bigint'], ignoreConflictOn: ['name'], returning: ['name'] },
    );
    expect(inserted.map((r) => r.name)).toEqual(['ig-b']);
    const rows = await db.kysely
      .selectFrom('lease')
      .select(['name', 'holder'])
      .where('name', 'like', 'ig-%')
      .orderBy('name')
      .execute();
    expect(rows).toEqual([
      { name: 'ig-a', holder: 'first' },
      { name: 'ig-b', holder: 'second' },
    ]);
    // Without ignoreConflictOn the same conflict is an error, and a plain fault, not an outage.
    const e = await raised(
      db.dialect.bulkInsert(db.kysely, 'lease', ['name', 'holder', 'expires_at'], [['ig-a', 'third', 3]], {
        pgTypes: ['text', 'text', 'bigint'],
      }),
    );
    expect(db.dialect.classifyError(e)).toBe('other');
  });

  it('selects where a column is in more keys than one IN list holds, with an extra condition', async () => {
    const names = Array.from({ length: 5_000 }, (_, i) => `tool-${String(i * 5).padStart(5, '0')}`);
    const rows = await db.dialect.selectWhereIn<{ name: string }>(
      db.kysely,
      'select "name" from "tool"',
      'name',
      [...names, 'no-such-tool'],
      'text',
      {
        sql: '"created_at" >= ?',
        params: [10],
      },
    );
    const want = names.filter((_, i) => i * 5 >= 10);
    expect(rows.map((r) => r.name).sort()).toEqual(want);
    expect(await db.dialect.selectWhereIn(db.kysely, 'select "name" from "tool"', 'name', [], 'text')).toEqual([]);
  });

  it('moves, in one compare-and-set, exactly the rows that still have the status read', async () => {
    const n = 12_000; // past SQLite's chunk for four columns (7,500 rows)
    await db.dialect.bulkInsert(
      db.kysely,
      'contract_row',
      ['id', 'status', 'note'],
      Array.from({ length: n }, (_, i) => [i + 1, i % 3 === 0 ? 'B' : 'A', null]),
      {
        pgTypes: ['bigint', 'text', 'text'],
      },
    );
    const spec = {
      table: 'contract_row',
      columns: [
        { name: 'id', pg: 'bigint' as const },
        { name: 'from', pg: 'text' as const },
        { name: 'to', pg: 'text' as const },
        { name: 'note', pg: 'text' as const },
      ],
      set: [
        ['status', 'v.to'],
        ['note', `coalesce(v.note, $extra1)`],
      ] as [string, string][],
    };
    // Every row claims to be A; only the two thirds that are move. A null note takes the extra.
    const moved = await db.dialect.setCas(
      db.kysely,
      spec,
      Array.from({ length: n }, (_, i) => [i + 1, 'A', 'C', i % 2 === 0 ? 'given' : null]),
      ['default'],
    );
    expect(moved.size).toBe(n - n / 3);
    expect(moved.has(1)).toBe(false);
    expect(moved.has(2)).toBe(true);
    const counts = await sql<{
      status: string;
      note: string | null;
      n: number;
    }>`select status, note, count(*) as n from contract_row group by status, note order by status, note`.execute(
      db.kysely,
    );
    expect(counts.rows.map((r) => [r.status, r.note, Number(r.n)])).toEqual([
      ['B', null, n / 3],
      ['C', 'default', n / 3],
      ['C', 'given', n / 3],
    ]);
  });

  it('spells $n placeholders its own way', async () => {
    const text = db.dialect.positional('select $1 as a, $2 as b');
    const res = await db.kysely.executeQuery<{ a: string; b: string }>(CompiledQuery.raw(text, ['x', 'y']));
    expect(res.rows[0]).toEqual({ a: 'x', b: 'y' });
  });

  it('reads the database clock in epoch milliseconds', async () => {
    const res = await sql<{ now: number }>`select ${db.dialect.nowMs()} as now`.execute(db.kysely);
    // This host's clock is the database's in tests: a wrong unit or epoch is off by far more.
    expect(Math.abs(Number(res.rows[0]!.now) - Date.now())).toBeLessThan(5_000);
  });

  it('commits a transaction, rolls one back on error, and announces events inside one', async () => {
    await db.dialect.transaction(db.kysely, async (conn) => {
      await conn.insertInto('meta').values({ key: 'tx-kept', value: '1' }).execute();
      await db.dialect.announceEvents(conn);
    });
    await expect(
      db.dialect.transaction(db.kysely, async (conn) => {
        await conn.insertInto('meta').values({ key: 'tx-undone', value: '1' }).execute();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const keys = await db.kysely.selectFrom('meta').select('key').where('key', 'like', 'tx-%').execute();
    expect(keys.map((k) => k.key)).toEqual(['tx-kept']);
  });

  it('keeps another writer off a row a transaction read with lockRows, and calls that busy', async () => {
    await db.kysely.insertInto('lease').values({ name: 'locked', holder: 'h', expires_at: 0 }).execute();
    let refusal: unknown;
    await db.dialect.transaction(db.kysely, async (conn) => {
      const row = await db.dialect
        .lockRows(conn.selectFrom('lease').select(['name', 'holder']).where('name', '=', 'locked'))
        .executeTakeFirst();
      expect(row).toEqual({ name: 'locked', holder: 'h' });
      // Another session that will not wait: refused while this transaction holds the row.
      if (TEST_DB_KIND === 'postgres') {
        const other = new pg.Client({ connectionString: tdb.target });
        await other.connect();
        try {
          refusal = await raised(other.query(`select name from lease where name = 'locked' for update nowait`));
        } finally {
          await other.end();
        }
      } else {
        const other = new Sqlite(tdb.target, { timeout: 0 });
        try {
          refusal = await raised(
            Promise.resolve().then(() =>
              other.prepare(`update lease set holder = 'other' where name = 'locked'`).run(),
            ),
          );
        } finally {
          other.close();
        }
      }
    });
    expect(db.dialect.classifyError(refusal)).toBe('busy');
    const after = await db.kysely
      .selectFrom('lease')
      .select('holder')
      .where('name', '=', 'locked')
      .executeTakeFirstOrThrow();
    expect(after.holder).toBe('h');
  });

  it('calls a refused connection an outage', async () => {
    const port = await closedPort();
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'test',
      connectionTimeoutMillis: 5_000,
    });
    const e = await raised(client.connect());
    expect((e as { code?: string }).code).toBe('ECONNREFUSED');
    expect(db.dialect.classifyError(e)).toBe('outage');
    // Wrapped by a caller, the cause still decides.
    expect(db.dialect.classifyError(new Error('GET /x failed', { cause: e }))).toBe('outage');
  });

  it('calls a constraint violation and a syntax error plain faults', async () => {
    const dup = await raised(db.kysely.insertInto('meta').values({ key: 'tx-kept', value: '2' }).execute());
    expect(db.dialect.classifyError(dup)).toBe('other');
    const bad = await raised(sql`selec 1`.execute(db.kysely));
    expect(db.dialect.classifyError(bad)).toBe('other');
  });

  it.runIf(TEST_DB_KIND === 'postgres')('calls a session the server terminated an outage', async () => {
    const victim = new pg.Client({ connectionString: tdb.target });
    victim.on('error', () => undefined);
    await victim.connect();
    try {
      const pid = (await victim.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      await sql`select pg_terminate_backend(${pid})`.execute(db.kysely);
      // Either pg's own error for the dead session or the server's 57P01, depending on which the
      // client hears first: both mean the database went away.
      const e = await raised(victim.query('select 1'));
      expect(db.dialect.classifyError(e)).toBe('outage');
    } finally {
      await victim.end().catch(() => undefined);
    }
  });
});
