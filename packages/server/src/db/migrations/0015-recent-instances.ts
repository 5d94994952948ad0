// The estimate of completion measures the concurrency of the last minute from the instances that
// ran in it (db/queries/progress.ts recentBusy): a run's DONE instances that ended after a moment,
// and its RUNNING ones. task_instance_run_status_at_ix (workflow_run_id, status, status_at) reads
// exactly those, where task_instance_run_status_ix would walk every DONE instance of the run.

import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema
      .createIndex('task_instance_run_status_at_ix')
      .on('task_instance')
      .columns(['workflow_run_id', 'status', 'status_at'])
      .execute();
  };
}
