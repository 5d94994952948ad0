// GET /tasks/{id}/deps (`jobmon task deps`): the tasks upstream or downstream of a task, breadth
// first over its workflow's DAG, level by level in batches of nodes, to a depth (0: no limit). The
// walk stops once PAGE_MAX tasks are found (`truncated`), so a task at the root of a million-task
// fan-out reads at most PAGE_MAX + 1 of them. Each level reads edges by index: upward by the edge
// primary key, downward by edge_upstream_ix (migration 0010); tasks by task_identity_uq.

import { NotFoundError, wire, type TaskDepT, type TaskDepsResponseT, type TaskStatus } from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import { neighbourNodes, tasksOnNodes } from '../db/queries/dag.js';
import { chunks } from './tx.js';

/** Nodes per edge query. */
const BATCH = 1000;

export async function taskDeps(
  db: Db,
  id: number,
  direction: 'up' | 'down',
  depth: number,
  cap: number = wire.PAGE_MAX,
): Promise<TaskDepsResponseT> {
  const q = onDb(db);
  const t = await q.db
    .selectFrom('task as t')
    .innerJoin('workflow as w', 'w.id', 't.workflow_id')
    .select(['t.id', 't.node_id', 't.workflow_id', 'w.dag_id'])
    .where('t.id', '=', id)
    .executeTakeFirst();
  if (!t) throw new NotFoundError(`task ${id} does not exist`, { taskId: id });
  const workflowId = Number(t.workflow_id);
  const dagId = Number(t.dag_id);
  const seen = new Set<number>([Number(t.node_id)]);
  const found: TaskDepT[] = [];
  let frontier = [Number(t.node_id)];
  let truncated = false;
  for (let level = 1; frontier.length > 0 && (depth === 0 || level <= depth) && !truncated; level++) {
    const next: number[] = [];
    // The edges of a batch of nodes, at most `limit` rows. A batch that fills the limit is split in
    // two (duplicates may have filled it); a single node that fills it has that many distinct
    // neighbours (edges are unique), so the cap is reached.
    const expand = async (part: number[]): Promise<void> => {
      if (truncated) return;
      const limit = cap + 1 + seen.size;
      const nodes = await neighbourNodes(q, dagId, part, direction, limit);
      if (nodes.length >= limit && part.length > 1) {
        const half = Math.ceil(part.length / 2);
        await expand(part.slice(0, half));
        await expand(part.slice(half));
        return;
      }
      for (const n of nodes) {
        if (seen.has(n)) continue;
        seen.add(n);
        next.push(n);
      }
      if (seen.size - 1 > cap) truncated = true;
    };
    for (const part of chunks(frontier, BATCH)) await expand(part);
    next.sort((a, b) => a - b);
    const rows: TaskDepT[] = [];
    for (const part of chunks(next, BATCH)) {
      for (const r of await tasksOnNodes(q, workflowId, part))
        rows.push({
          id: Number(r.id),
          name: r.name,
          template: r.template,
          status: r.status as TaskStatus,
          depth: level,
        });
    }
    rows.sort((a, b) => a.id - b.id);
    for (const r of rows) {
      if (found.length >= cap) {
        truncated = true;
        break;
      }
      found.push(r);
    }
    frontier = next;
  }
  return { taskId: id, direction, depth, tasks: found, truncated };
}
