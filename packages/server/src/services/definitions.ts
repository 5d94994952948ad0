// Tools, tool versions, task templates and their versions: create-or-get, so a client can bind the
// same declarations any number of times; and resolving a task's cluster and queue by name.

import { createHash } from 'node:crypto';
import {
  NotFoundError,
  UnknownClusterError,
  UnknownQueueError,
  ValidationError,
  type TemplateSpecT,
} from '@jobmon/core';
import type { Db } from '../db/connect.js';
import type { ClusterRow } from './clusters.js';
import { ensureTaskTemplate, ensureTemplateVersion } from '../db/queries/task-template.js';
import { ensureTool, insertToolVersion, latestToolVersion, toolVersionExists } from '../db/queries/tool.js';
import { withTx } from './tx.js';

export async function bindTool(
  db: Db,
  name: string,
  newVersion = false,
): Promise<{ toolId: number; toolVersionId: number }> {
  return withTx(db, async (tx) => {
    const toolId = await ensureTool(tx, name, tx.now);
    const latest = await latestToolVersion(tx, toolId);
    if (latest !== undefined && !newVersion) return { toolId, toolVersionId: latest };
    return { toolId, toolVersionId: await insertToolVersion(tx, toolId, tx.now) };
  });
}

function argHash(t: TemplateSpecT): string {
  const body = JSON.stringify([
    t.commandTemplate,
    [...t.nodeArgs].sort(),
    [...t.taskArgs].sort(),
    [...t.opArgs].sort(),
  ]);
  return createHash('sha256').update(body).digest('hex');
}

export async function bindTemplates(
  db: Db,
  toolVersionId: number,
  templates: TemplateSpecT[],
): Promise<{ name: string; taskTemplateId: number; versionId: number }[]> {
  const seen = new Set<string>();
  for (const t of templates) {
    if (seen.has(t.name))
      throw new ValidationError(`task template '${t.name}' appears twice in one request`, { field: 'templates' });
    seen.add(t.name);
    const all = [...t.nodeArgs, ...t.taskArgs, ...t.opArgs];
    const dup = all.find((a, i) => all.indexOf(a) !== i);
    if (dup)
      throw new ValidationError(`task template '${t.name}': argument '${dup}' is declared twice`, {
        field: 'templates',
      });
  }
  return withTx(db, async (tx) => {
    if (!(await toolVersionExists(tx, toolVersionId)))
      throw new NotFoundError(`tool version ${toolVersionId} does not exist`, { toolVersionId });
    const out: { name: string; taskTemplateId: number; versionId: number }[] = [];
    for (const t of templates) {
      const taskTemplateId = await ensureTaskTemplate(tx, toolVersionId, t.name, tx.now);
      const versionId = await ensureTemplateVersion(
        tx,
        taskTemplateId,
        {
          command_template: t.commandTemplate,
          arg_hash: argHash(t),
          node_args: JSON.stringify(t.nodeArgs),
          task_args: JSON.stringify(t.taskArgs),
          op_args: JSON.stringify(t.opArgs),
          default_resources: JSON.stringify(t.defaultResources ?? {}),
        },
        tx.now,
      );
      out.push({ name: t.name, taskTemplateId, versionId });
    }
    return out;
  });
}

// Clusters live in clusters.ts; bind resolves its tasks' clusters and queues through these.
export { listClusters, type ClusterRow } from './clusters.js';

/** Resolve a cluster name and optional queue name; the default queue is the cluster's first. */
export function resolveQueue(
  clusters: ClusterRow[],
  clusterName: string,
  queueName: string | undefined,
  where: string,
): { clusterId: number; queueId: number; queueName: string; limits: Record<string, unknown> } {
  const cluster = clusters.find((c) => c.name === clusterName);
  if (!cluster) {
    throw new UnknownClusterError(
      `${where}: unknown cluster '${clusterName}' (known: ${clusters.map((c) => c.name).join(', ')})`,
      { field: 'cluster', cluster: clusterName },
    );
  }
  const queue = queueName === undefined ? cluster.queues[0] : cluster.queues.find((q) => q.name === queueName);
  if (!queue) {
    throw new UnknownQueueError(
      `${where}: cluster '${clusterName}' has no queue '${queueName}' (known: ${cluster.queues.map((q) => q.name).join(', ')})`,
      { field: 'queue', cluster: clusterName, queue: queueName },
    );
  }
  return { clusterId: cluster.id, queueId: queue.id, queueName: queue.name, limits: queue.limits };
}
