// GET /workflows/:id/dag: what a runner needs to run a workflow by its id alone (`jobmon workflow
// resume <id>`): each task's status, template, cluster and upstream tasks, the workflow's limits and
// the working directory its last run recorded. Commands and resources are not here: the server
// hands them out when the runner queues a task, as for any run. Paged by task id (at most 10,000
// tasks a page), so no answer is a dump of a million rows.

import {
  IllegalTransitionError,
  NotFoundError,
  WorkflowNotResumableError,
  taskMachine,
  type TaskStatus,
  type WorkflowDagT,
} from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import { resetTask } from '../db/queries/task.js';
import { findWorkflow, upsertTemplateConcurrency } from '../db/queries/workflow.js';
import type { Q } from '../db/conn.js';
import { linkingRun } from './bind.js';
import { expectMoved } from './guarded.js';
import { afterRead } from './test-hooks.js';
import { chunks, withTx } from './tx.js';

export async function workflowDag(db: Db, id: number, after: number, limit: number): Promise<WorkflowDagT> {
  const q = onDb(db);
  const wf = await findWorkflow(q, id);
  if (!wf) throw new NotFoundError(`workflow ${id} does not exist`, { workflowId: id });
  const limits = await q.db
    .selectFrom('template_concurrency as tc')
    .innerJoin('task_template as tt', 'tt.id', 'tc.task_template_id')
    .select(['tt.name', 'tc.max_concurrently_running'])
    .where('tc.workflow_id', '=', id)
    .execute();
  const run = await q.db
    .selectFrom('workflow_run')
    .select(['cwd'])
    .where('workflow_id', '=', id)
    .where('cwd', 'is not', null)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const rows = await q.db
    .selectFrom('task as t')
    .innerJoin('task_template_version as v', 'v.id', 't.task_template_version_id')
    .innerJoin('task_template as tt', 'tt.id', 'v.task_template_id')
    .innerJoin('cluster as c', 'c.id', 't.cluster_id')
    .select(['t.id', 't.name', 't.status', 't.node_id', 'tt.name as template', 'c.name as cluster'])
    .where('t.workflow_id', '=', id)
    .where('t.id', '>', after)
    .orderBy('t.id')
    .limit(limit + 1)
    .execute();
  const more = rows.length > limit;
  if (more) rows.length = limit;
  const upstream = new Map<number, number[]>();
  if (rows.length > 0) {
    const edges = await q.db
      .selectFrom('edge as e')
      .innerJoin('task as d', (j) => j.onRef('d.node_id', '=', 'e.downstream_node_id').on('d.workflow_id', '=', id))
      .innerJoin('task as u', (j) => j.onRef('u.node_id', '=', 'e.upstream_node_id').on('u.workflow_id', '=', id))
      .select(['d.id as down', 'u.id as up'])
      .where('e.dag_id', '=', wf.dag_id)
      .where('d.id', '>', after)
      .where('d.id', '<=', Number(rows[rows.length - 1]!.id))
      .execute();
    for (const e of edges) {
      const list = upstream.get(Number(e.down));
      if (list) list.push(Number(e.up));
      else upstream.set(Number(e.down), [Number(e.up)]);
    }
  }
  return {
    workflowId: wf.id,
    name: wf.name,
    status: wf.status,
    taskCount: wf.task_count,
    maxConcurrentlyRunning: wf.max_concurrently_running,
    templateConcurrency: Object.fromEntries(limits.map((l) => [l.name, l.max_concurrently_running])),
    cwd: run?.cwd ?? null,
    tasks: rows.map((r) => ({
      id: Number(r.id),
      name: r.name,
      status: r.status as TaskStatus,
      template: r.template,
      cluster: r.cluster,
      upstream: upstream.get(Number(r.id)) ?? [],
    })),
    ...(more ? { nextAfter: Number(rows[rows.length - 1]!.id) } : {}),
  };
}

const REBIND_PAGE = 10_000;

/**
 * POST /workflow-runs/:id/rebind: the linking run takes over its workflow's tasks as the database
 * holds them, as bindTasks does for a declaration: every task not DONE goes back to REGISTERING
 * with fresh attempts, its stored command, cluster and queue. Its resources stay as its last
 * attempt left them with `keepResources`, and otherwise go back to what its first attempt asked.
 * A workflow whose tasks were never all bound cannot be taken over by id. One transaction: a task
 * that cannot be reset (the table forbids it) names itself and nothing is written.
 */
export async function rebindRun(
  db: Db,
  runId: number,
  keepResources: boolean,
): Promise<{ reset: number; done: number; total: number }> {
  return withTx(db, async (tx) => {
    const run = await linkingRun(tx, runId);
    const wf = await findWorkflow(tx, run.workflow_id);
    if (!wf) throw new NotFoundError(`workflow ${run.workflow_id} does not exist`, { workflowId: run.workflow_id });
    if (wf.bound_at === null) {
      throw new WorkflowNotResumableError(
        `workflow ${wf.id} '${wf.name}' was never completely bound (its tasks or edges are missing); ` +
          `run it from its file or script once, then it can be resumed by id`,
        { workflowId: wf.id },
      );
    }
    await afterRead('resume', tx);
    let reset = 0;
    let done = 0;
    let total = 0;
    for (let after = 0; ;) {
      const rows = await tx.db
        .selectFrom('task')
        .select(['id', 'name', 'status', 'resources', 'queue_id'])
        .where('workflow_id', '=', wf.id)
        .where('id', '>', after)
        .orderBy('id')
        .limit(REBIND_PAGE)
        .execute();
      if (rows.length === 0) break;
      after = Number(rows[rows.length - 1]!.id);
      total += rows.length;
      const todo = rows.filter((r) => r.status !== 'DONE');
      done += rows.length - todo.length;
      const firstAsked = new Map<number, { resources: string; queue_id: number }>();
      if (!keepResources && todo.length > 0) {
        const ids = todo.map((r) => Number(r.id));
        for (const part of chunks(ids, 1000)) {
          const first = await tx.db
            .selectFrom('task_instance')
            .select(['task_id', 'resources', 'queue_id', 'id'])
            .where('task_id', 'in', part)
            .orderBy('id')
            .execute();
          for (const f of first)
            if (!firstAsked.has(Number(f.task_id)))
              firstAsked.set(Number(f.task_id), { resources: f.resources, queue_id: f.queue_id });
        }
      }
      for (const r of todo) {
        const id = Number(r.id);
        if (r.status !== 'REGISTERING' && !taskMachine.isLegal(r.status, 'REGISTERING')) {
          throw new IllegalTransitionError(
            `task ${id} '${r.name}' is ${r.status}; a resume cannot reset it to REGISTERING`,
            {
              entity: 'task',
              id,
              from: r.status,
              to: 'REGISTERING',
            },
          );
        }
        const asked = firstAsked.get(id);
        const moved = await resetTask(
          tx,
          id,
          r.status,
          asked ? { resources: asked.resources, queue_id: asked.queue_id } : {},
          tx.now,
        );
        await expectMoved(tx, 'task', [id], moved, [r.status], 'REGISTERING', `the resume reset of task '${r.name}'`);
        if (r.status !== 'REGISTERING') {
          tx.event({
            workflowId: wf.id,
            entity: 'task',
            entityId: id,
            from: r.status,
            to: 'REGISTERING',
            actor: 'client',
            context: { reason: 'resume', runId },
          });
        }
        reset++;
      }
    }
    return { reset, done, total };
  });
}

/** The workflow's limits as a runner applies them: the workflow's and each template's by name. */
export async function workflowLimits(
  q: Q,
  workflowId: number,
): Promise<{ maxConcurrentlyRunning: number; templateConcurrency: Record<string, number> } | undefined> {
  const wf = await q.db
    .selectFrom('workflow')
    .select(['max_concurrently_running'])
    .where('id', '=', workflowId)
    .executeTakeFirst();
  if (!wf) return undefined;
  const rows = await q.db
    .selectFrom('template_concurrency as tc')
    .innerJoin('task_template as tt', 'tt.id', 'tc.task_template_id')
    .select(['tt.name', 'tc.max_concurrently_running'])
    .where('tc.workflow_id', '=', workflowId)
    .execute();
  return {
    maxConcurrentlyRunning: wf.max_concurrently_running,
    templateConcurrency: Object.fromEntries(rows.map((r) => [r.name, r.max_concurrently_running])),
  };
}

/**
 * PUT /workflows/:id/concurrency: set the workflow's limit, or one template's, while it runs or
 * not (0 pauses: nothing new starts; what runs goes on). The runner learns it from its next
 * heartbeat's answer. A template the workflow has no task of is refused, naming the ones it has.
 */
export async function setConcurrency(
  db: Db,
  workflowId: number,
  limit: number,
  template: string | undefined,
): Promise<{ workflowId: number; template: string | null; limit: number; previous: number }> {
  return withTx(db, async (tx) => {
    const wf = await findWorkflow(tx, workflowId);
    if (!wf) throw new NotFoundError(`workflow ${workflowId} does not exist`, { workflowId });
    if (template === undefined) {
      await tx.db
        .updateTable('workflow')
        .set({ max_concurrently_running: limit })
        .where('id', '=', workflowId)
        .execute();
      return { workflowId, template: null, limit, previous: wf.max_concurrently_running };
    }
    const templates = await tx.db
      .selectFrom('task as t')
      .innerJoin('task_template_version as v', 'v.id', 't.task_template_version_id')
      .innerJoin('task_template as tt', 'tt.id', 'v.task_template_id')
      .select(['tt.id', 'tt.name'])
      .distinct()
      .where('t.workflow_id', '=', workflowId)
      .execute();
    const hit = templates.find((t) => t.name === template);
    if (!hit)
      throw new NotFoundError(
        `workflow ${workflowId} has no task of template '${template}' (its templates: ${templates.map((t) => t.name).join(', ') || 'none'})`,
        { workflowId, template },
      );
    const before = await tx.db
      .selectFrom('template_concurrency')
      .select(['max_concurrently_running'])
      .where('workflow_id', '=', workflowId)
      .where('task_template_id', '=', hit.id)
      .executeTakeFirst();
    await upsertTemplateConcurrency(tx, workflowId, hit.id, limit);
    return { workflowId, template, limit, previous: before?.max_concurrently_running ?? 2_147_483_647 };
  });
}
