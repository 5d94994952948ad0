// Clusters and their queues as data: listed, read by name, and created or updated by PUT (from the
// API, the CLI's `jobmon cluster add`, or a config file when a server starts). A cluster's type
// picks the runner's distributor, so it may change only while no task is bound to the cluster;
// queues are added or updated but never removed, since tasks and instances refer to them by id.

import { checkClusterSpec, ClusterInUseError, NotFoundError, ValidationError, type ClusterSpec } from '@jobmon/core';
import type { Db } from '../db/connect.js';
import {
  hasTasksOnCluster,
  insertClusterIfAbsent,
  selectAllClusters,
  selectClusterByName,
  updateCluster,
  upsertQueue,
  type ClusterDbRow,
  type QueueDbRow,
} from '../db/queries/clusters.js';
import { withTx, type Conn } from './tx.js';

export interface ClusterRow {
  id: number;
  name: string;
  type: string;
  options: Record<string, unknown>;
  queues: { id: number; name: string; limits: Record<string, unknown> }[];
}

function toRow(cl: ClusterDbRow, queues: QueueDbRow[]): ClusterRow {
  return {
    id: cl.id,
    name: cl.name,
    type: cl.type,
    options: JSON.parse(cl.options) as Record<string, unknown>,
    queues: queues
      .filter((q) => q.cluster_id === cl.id)
      .map((q) => ({ id: q.id, name: q.name, limits: JSON.parse(q.limits) as Record<string, unknown> })),
  };
}

export async function listClusters(c: Conn): Promise<ClusterRow[]> {
  const { clusters, queues } = await selectAllClusters(c);
  return clusters.map((cl) => toRow(cl, queues));
}

export async function getCluster(c: Conn, name: string): Promise<ClusterRow> {
  const found = await selectClusterByName(c, name);
  if (!found) {
    const known = (await selectAllClusters(c)).clusters.map((cl) => cl.name);
    throw new NotFoundError(`cluster '${name}' does not exist (known: ${known.join(', ')})`, { cluster: name });
  }
  return toRow(found.cluster, found.queues);
}

/**
 * Create the cluster or update it to `input` (checked by checkClusterSpec: type, options, queue
 * limits). Listed queues are added or get the new limits; others are kept. Nothing is written
 * when any part is refused.
 */
export async function putCluster(
  db: Db,
  name: string,
  input: unknown,
): Promise<{ created: boolean; cluster: ClusterRow }> {
  const spec = checkClusterSpec(name, input);
  // Every start from a config file applies its clusters again: when nothing would change, answer
  // from a read, without the write lock (processes sharing a SQLite file would queue for it).
  const current = await selectClusterByName(db.kysely, name);
  if (current && sameAs(current, spec)) return { created: false, cluster: toRow(current.cluster, current.queues) };
  return withTx(db, async (tx) => {
    const c = tx.db;
    const before = await selectClusterByName(c, name, tx.dialect);
    if (!before && spec.queues.length === 0) {
      throw new ValidationError(
        `cluster '${name}': queues must list at least one queue for a new cluster (tasks go to a queue)`,
        {
          cluster: name,
          field: 'queues',
        },
      );
    }
    const options = JSON.stringify(spec.options);
    if (!before) {
      await insertClusterIfAbsent(c, name, spec.type, options);
    } else {
      if (before.cluster.type !== spec.type && (await hasTasksOnCluster(c, before.cluster.id))) {
        throw new ClusterInUseError(
          `cluster '${name}' is of type '${before.cluster.type}' and has tasks bound to it; its type cannot change to '${spec.type}' ` +
            `(add a new cluster of type '${spec.type}' instead)`,
          { cluster: name, field: 'type', type: before.cluster.type, requested: spec.type },
        );
      }
      await updateCluster(c, before.cluster.id, spec.type, options);
    }
    // A concurrent PUT of the same new name may have inserted it first: read it back and lock it.
    const row = await selectClusterByName(c, name, tx.dialect);
    if (!row) throw new Error(`cluster '${name}' vanished while being written`);
    if (before === undefined && row.cluster.type !== spec.type)
      await updateCluster(c, row.cluster.id, spec.type, options);
    for (const q of spec.queues) await upsertQueue(c, row.cluster.id, q.name, JSON.stringify(q.limits));
    const after = await selectClusterByName(c, name);
    return { created: before === undefined, cluster: toRow(after!.cluster, after!.queues) };
  });
}

function sameAs(current: { cluster: ClusterDbRow; queues: QueueDbRow[] }, spec: ClusterSpec): boolean {
  return (
    current.cluster.type === spec.type &&
    current.cluster.options === JSON.stringify(spec.options) &&
    spec.queues.every((q) => current.queues.some((c) => c.name === q.name && c.limits === JSON.stringify(q.limits)))
  );
}

/** Apply clusters from a configuration (at server start), in order; the first refusal stops it. */
export async function applyClusters(db: Db, clusters: Record<string, ClusterSpec>, origin: string): Promise<void> {
  for (const [name, spec] of Object.entries(clusters)) {
    try {
      await putCluster(db, name, spec);
    } catch (e) {
      if (e instanceof Error) e.message = `${origin}: ${e.message}`;
      throw e;
    }
  }
}
