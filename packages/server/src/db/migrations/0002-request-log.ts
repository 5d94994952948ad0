// The request log behind Idempotency-Key (services/idempotency.ts): one row per key, 'pending'
// (status 0, no body) while the first attempt runs, then its 2xx status and body, replayed to
// every retry. Rows older than a day are pruned; created_at is indexed for that.

import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema
      .createTable('request_log')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('body', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('request_log_created_ix').on('request_log').column('created_at').execute();
  };
}
