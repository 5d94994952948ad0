// Clusters are data (docs/clusters.md): what 0001 called a cluster's `connection` holds the
// options its distributor is given (for Slurm: the transport, the REST URL, the polling cycle), so
// it is named `options`. Both dialects rename a column in place; the seeded rows keep their '{}'.

import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema.alterTable('cluster').renameColumn('connection', 'options').execute();
  };
}
