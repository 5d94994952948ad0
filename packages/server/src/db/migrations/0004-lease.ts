// Leases: a named role that one server process at a time may hold (today: 'reaper'), so replicas
// over one PostgreSQL do not all run the same loop. `expires_at` is epoch milliseconds on the
// database's clock (services/lease.ts says why); a holder renews before it passes.

import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema
      .createTable('lease')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
  };
}
