// SQL on the cluster and queue tables. Plain functions over a connection or a transaction; the
// services open transactions. JSON columns (options, limits) are text here and parsed by callers.

import type { Conn } from '../conn.js';
import type { Dialect } from '../dialects/dialect.js';

export interface ClusterDbRow {
  id: number;
  name: string;
  type: string;
  options: string;
}
export interface QueueDbRow {
  id: number;
  cluster_id: number;
  name: string;
  limits: string;
}

/** Every cluster and every queue, in creation order (a cluster's first queue is its default). */
export async function selectAllClusters(c: Conn): Promise<{ clusters: ClusterDbRow[]; queues: QueueDbRow[] }> {
  const clusters = await c.selectFrom('cluster').select(['id', 'name', 'type', 'options']).orderBy('id').execute();
  const queues = await c.selectFrom('queue').select(['id', 'cluster_id', 'name', 'limits']).orderBy('id').execute();
  return { clusters, queues };
}

/** One cluster by name and its queues; `lock` takes a row lock (PostgreSQL) so a read decides a write. */
export async function selectClusterByName(
  c: Conn,
  name: string,
  /** Lock the cluster row the way this dialect does, for a write that follows. */
  lock?: Dialect,
): Promise<{ cluster: ClusterDbRow; queues: QueueDbRow[] } | undefined> {
  let q = c.selectFrom('cluster').select(['id', 'name', 'type', 'options']).where('name', '=', name);
  if (lock) q = lock.lockRows(q);
  const cluster = await q.executeTakeFirst();
  if (!cluster) return undefined;
  const queues = await c
    .selectFrom('queue')
    .select(['id', 'cluster_id', 'name', 'limits'])
    .where('cluster_id', '=', cluster.id)
    .orderBy('id')
    .execute();
  return { cluster, queues };
}

/** Insert a cluster unless one has the name already (a concurrent writer may have won). */
export async function insertClusterIfAbsent(c: Conn, name: string, type: string, options: string): Promise<void> {
  await c
    .insertInto('cluster')
    .values({ name, type, options })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

export async function updateCluster(c: Conn, id: number, type: string, options: string): Promise<void> {
  await c.updateTable('cluster').set({ type, options }).where('id', '=', id).execute();
}

/** Add a queue or replace its limits. */
export async function upsertQueue(c: Conn, clusterId: number, name: string, limits: string): Promise<void> {
  await c
    .insertInto('queue')
    .values({ cluster_id: clusterId, name, limits })
    .onConflict((oc) => oc.columns(['cluster_id', 'name']).doUpdateSet({ limits }))
    .execute();
}

/** Whether any task is bound to the cluster: its type may change only when none is. Not indexed
 *  (task has no cluster index): it runs only when a PUT changes a cluster's type, a rare admin act. */
export async function hasTasksOnCluster(c: Conn, clusterId: number): Promise<boolean> {
  const r = await c.selectFrom('task').select('id').where('cluster_id', '=', clusterId).limit(1).executeTakeFirst();
  return r !== undefined;
}

/** Every queue with its cluster's name and id, for checking resources against queue limits. */
export function selectQueuesWithCluster(c: Conn) {
  return c
    .selectFrom('cluster')
    .innerJoin('queue', 'queue.cluster_id', 'cluster.id')
    .select([
      'cluster.name as cluster',
      'cluster.id as cluster_id',
      'queue.id as queue_id',
      'queue.name as queue',
      'queue.limits',
    ])
    .execute();
}
