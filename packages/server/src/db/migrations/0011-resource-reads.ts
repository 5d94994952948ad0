// Indexes behind `jobmon resources usage|suggest` and `jobmon nodes` (db/queries/resources.ts):
// - task_template_name_ix (name): a template given by name, in any tool (the unique key leads with
//   tool_version_id, so it cannot serve that);
// - task_ttv_ix (task_template_version_id, workflow_id): a template's tasks across workflows or in
//   one, then their instances through task_instance_task_ix;
// - task_instance_created_ix (created_at): the instances of a time window, grouped per node.

import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema.createIndex('task_template_name_ix').on('task_template').column('name').execute();
    await db.schema
      .createIndex('task_ttv_ix')
      .on('task')
      .columns(['task_template_version_id', 'workflow_id'])
      .execute();
    await db.schema.createIndex('task_instance_created_ix').on('task_instance').column('created_at').execute();
  };
}
