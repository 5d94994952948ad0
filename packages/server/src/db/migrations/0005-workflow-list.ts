// Indexes behind GET /workflows (db/queries/workflow-list.ts): the page order and its cursor
// (newest first by created_at, then id), the status filter in that order, and "workflows a user
// ran" (the user is a run's, so the filter reads workflow_run).

import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema.createIndex('workflow_created_ix').on('workflow').columns(['created_at', 'id']).execute();
    await db.schema
      .createIndex('workflow_status_created_ix')
      .on('workflow')
      .columns(['status', 'created_at', 'id'])
      .execute();
    await db.schema.createIndex('workflow_run_user_ix').on('workflow_run').columns(['user', 'workflow_id']).execute();
  };
}
