// A run records the working directory its runner started in, so that `jobmon workflow resume <id>`
// can run the workflow's commands where the original run did, without the original file or
// script. The index serves GET /workflows/:id/dag, which pages a workflow's tasks by id. Runs bound before this migration have none (null): resume then uses its own directory.

import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema.alterTable('workflow_run').addColumn('cwd', 'text').execute();
    // GET /workflows/:id/dag pages a workflow's tasks by id.
    await db.schema.createIndex('task_workflow_id_ix').on('task').columns(['workflow_id', 'id']).execute();
  };
}
