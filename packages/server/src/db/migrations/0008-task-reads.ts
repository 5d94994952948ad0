// Indexes behind the task reads of `jobmon workflow tasks`, `task show` and `workflow errors`:
// - task_workflow_id_ix (workflow_id, id): GET /workflows/{id}/tasks, one page in id order after the
//   cursor (db/queries/task.ts listTasks);
// - task_instance_workflow_ix (workflow_id, id): GET /workflows/{id}/error-groups, a workflow's
//   instances in id order, page by page (db/queries/task-instance-error.ts instancesWithErrorsPage);
// - workflow_name_ix (name): GET /workflows?exactName=, a workflow given to the CLI by its name.
// The template filter of both reads goes through task_template (its name is unique per tool) and
// then the task rows above; each instance's errors through task_instance_error_ti_ix.

import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema.createIndex('task_workflow_id_ix').on('task').columns(['workflow_id', 'id']).execute();
    await db.schema
      .createIndex('task_instance_workflow_ix')
      .on('task_instance')
      .columns(['workflow_id', 'id'])
      .execute();
    await db.schema.createIndex('workflow_name_ix').on('workflow').column('name').execute();
  };
}
