// A run records the working directory its runner started in, so that `jobmon workflow resume <id>`
// can run the workflow's commands where the original run did, without the original file or
// script. Runs bound before this migration have none (null): resume then uses its own directory.
// (GET /workflows/:id/dag pages a workflow's tasks by id on 0008's task_workflow_id_ix.)

import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema.alterTable('workflow_run').addColumn('cwd', 'text').execute();
  };
}
