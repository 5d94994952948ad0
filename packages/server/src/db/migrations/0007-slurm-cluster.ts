// A `slurm` cluster from the start, beside `sequential`, `local` and `dummy`: a workflow on a
// Slurm submit host says `cluster: slurm` and runs, with no set-up. Its one queue, `default`, is
// Slurm's default partition (the distributor passes no --partition for it, and checks the task
// against that partition's limits before submitting); more queues, options and limits are added
// like any cluster's (docs/clusters.md). A database that already has a cluster of that name keeps it.

import { sql, type Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    const { rows } = await sql<{ n: number }>`select count(*) as n from cluster where name = 'slurm'`.execute(db);
    if (Number(rows[0]?.n) > 0) return;
    await sql`insert into cluster (name, type, options) values ('slurm', 'slurm', '{}')`.execute(db);
    await sql`insert into queue (cluster_id, name, limits) select id, 'default', ${JSON.stringify({
      cores: [1, 1024],
      memory: [1, 1024 * 1024 * 64],
      runtime: [1, 60 * 60 * 24 * 365],
    })} from cluster where name = 'slurm'`.execute(db);
  };
}
