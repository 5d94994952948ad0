// The (covering) index behind `jobmon task deps <id> --down`, `workflow reset --partial` and `task update --recursive` (GET /tasks/{id}/deps?direction=down): the edges
// leaving a node of a DAG. Walking up uses the primary key (dag_id, downstream_node_id, ...); a
// node's tasks are found by task_identity_uq (workflow_id, node_id, ...). `jobmon task why` reads a
// task's upstream edges the same way.

import type { Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema
      .createIndex('edge_upstream_ix')
      .on('edge')
      .columns(['dag_id', 'upstream_node_id', 'downstream_node_id'])
      .execute();
  };
}
