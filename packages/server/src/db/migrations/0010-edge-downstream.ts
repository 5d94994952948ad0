// An index behind `jobmon workflow reset --partial` and `jobmon task update --status REGISTERING
// --recursive`: both walk a DAG downstream (from a node to the nodes that wait for it), which the
// edge table's primary key (dag_id, downstream_node_id, upstream_node_id) cannot answer without
// scanning the whole DAG at each step. The upstream walk (`--status DONE --recursive`) uses the key.

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
