// Workflow runs: their transitions (and the workflow's, which follow), heartbeats, the lapsed-run
// check, and queueing tasks — the swarm's request that creates task instances in bulk.

import {
  IllegalTransitionError,
  NotFoundError,
  ValidationError,
  WORKFLOW_FOR_RUN,
  LIVE_RUN_STATES,
  LAPSED_TO,
  QUEUEABLE_TASK_STATES,
  normaliseResources,
  validateAgainstQueue,
  taskMachine,
  workflowMachine,
  workflowRunMachine,
  type Actor,
  type TaskStatus,
  type WorkflowRunStatus,
  type QueuedInstanceT,
  type ComputeResources,
  type QueueLimits,
} from '@jobmon/core';
import type { Db } from '../db/connect.js';
import { chunks, withTx, type Tx } from './tx.js';
import { markDagBound } from '../db/queries/dag.js';
import { fillTemplateEdges } from '../db/queries/template-edges.js';
import { workflowLimits } from './takeover.js';
import { casTasksToQueued, countTasks, lockTasksToQueue, setTaskResources } from '../db/queries/task.js';
import { insertQueuedInstances } from '../db/queries/task-instance.js';
import {
  casWorkflowStatus,
  lockWorkflowStatus,
  markWorkflowBound,
  workflowExists,
  workflowShape,
} from '../db/queries/workflow.js';
import { casRunStatus, extendRunDeadline, lockLapsedRuns, lockLiveRun, lockRun } from '../db/queries/workflow-run.js';
import { planRetry } from './scaling.js';
import { afterRead } from './test-hooks.js';
import { expectMoved } from './guarded.js';
import { selectQueuesWithCluster } from '../db/queries/clusters.js';

interface RunRow {
  id: number;
  workflow_id: number;
  status: WorkflowRunStatus;
}

/**
 * Move a run (compare-and-set) and its workflow with it. Throws IllegalTransitionError for an edge
 * the table does not have; returns false for an untimely one (left as it is).
 */
export async function moveRun(
  tx: Tx,
  run: RunRow,
  to: WorkflowRunStatus,
  actor: Actor,
  extra: { report_by?: number } = {},
): Promise<boolean> {
  const from = run.status;
  if (workflowRunMachine.isUntimely(from, to)) return false;
  if (!workflowRunMachine.isLegal(from, to)) {
    throw new IllegalTransitionError(`workflow run ${run.id} cannot move from ${from} to ${to}`, {
      entity: 'workflow_run',
      id: run.id,
      from,
      to,
    });
  }
  // A move that sets a new deadline comes from the runner itself: it is also a sign of life.
  if (!(await casRunStatus(tx, run.id, from, to, tx.now, extra))) {
    throw new IllegalTransitionError(`workflow run ${run.id} moved before ${from}→${to} could apply; retry`, {
      entity: 'workflow_run',
      id: run.id,
      from,
      to,
    });
  }
  tx.event({ workflowId: run.workflow_id, entity: 'workflow_run', entityId: run.id, from, to, actor });
  run.status = to;
  const wfTo = WORKFLOW_FOR_RUN[to];
  if (wfTo !== undefined) {
    const wfFrom = await lockWorkflowStatus(tx, run.workflow_id);
    await afterRead('workflow', tx);
    if (wfFrom !== wfTo && workflowMachine.isLegal(wfFrom, wfTo)) {
      const moved = await casWorkflowStatus(tx, run.workflow_id, wfFrom, wfTo, tx.now);
      await expectMoved(
        tx,
        'workflow',
        [run.workflow_id],
        moved,
        [wfFrom],
        wfTo,
        `following workflow run ${run.id} to ${to}`,
      );
      tx.event({
        workflowId: run.workflow_id,
        entity: 'workflow',
        entityId: run.workflow_id,
        from: wfFrom,
        to: wfTo,
        actor,
      });
    }
  }
  return true;
}

/** End live runs (of one workflow, or all) whose runner stopped heartbeating, so a new run can link. */
export async function reapLapsedRuns(tx: Tx, workflowId?: number, upSince?: number): Promise<number[]> {
  // A server that was down could not hear heartbeats: judge a run only once its runner has had a
  // whole reporting window (report_by − heartbeat_at) since the server came up.
  const lapsed = await lockLapsedRuns(tx, tx.now, workflowId, upSince);
  for (const run of lapsed) {
    const to = LAPSED_TO[run.status];
    if (to) await moveRun(tx, run, to, 'reaper');
  }
  return lapsed.map((r) => r.id);
}

async function loadRun(tx: Tx, runId: number): Promise<RunRow & { report_by: number }> {
  const run = await lockRun(tx, runId);
  if (!run) throw new NotFoundError(`workflow run ${runId} does not exist`, { runId });
  return run;
}

export async function setRunStatus(
  db: Db,
  runId: number,
  to: WorkflowRunStatus,
  taskCount: number | undefined,
  actor: Actor,
  reportByMs: number,
): Promise<{ status: WorkflowRunStatus }> {
  return withTx(db, async (tx) => {
    const run = await loadRun(tx, runId);
    if (run.status === 'LINKING' && to === 'BOUND') {
      const wf = await workflowShape(tx, run.workflow_id);
      const bound = await countTasks(tx, run.workflow_id);
      if (bound !== wf.task_count || (taskCount !== undefined && taskCount !== bound)) {
        throw new ValidationError(
          `workflow ${run.workflow_id} has ${bound} tasks bound but declares ${wf.task_count}; bind every task before BOUND`,
          {
            field: 'taskCount',
            bound,
            declared: wf.task_count,
          },
        );
      }
      // The DAG's edges are fixed from its first binding: its template graph is written once.
      if (await markDagBound(tx, wf.dag_id, tx.now)) await fillTemplateEdges(tx, wf.dag_id);
      await markWorkflowBound(tx, run.workflow_id, tx.now);
    }
    await moveRun(tx, run, to, actor, { report_by: tx.now + reportByMs });
    return { status: run.status };
  });
}

/** A runner's heartbeat. Extends the deadline while the run is where the runner thinks it is;
 * otherwise answers the server's status (e.g. COLD_RESUME) so the runner learns of it. */
export async function heartbeat(
  db: Db,
  runId: number,
  status: WorkflowRunStatus,
  reportByMs: number,
): Promise<{ status: WorkflowRunStatus }> {
  return withTx(db, async (tx) => {
    const run = await loadRun(tx, runId);
    if (workflowRunMachine.isLegal(run.status, status)) {
      await moveRun(tx, run, status, 'swarm', { report_by: tx.now + reportByMs });
    } else if (LIVE_RUN_STATES.includes(run.status)) {
      // The runner is alive, even when the server has moved its run on (a COLD/HOT_RESUME it is
      // still carrying out): keep the deadline so the run is not reaped while it drains.
      await extendRunDeadline(tx, runId, tx.now, tx.now + reportByMs);
    }
    const limits = await workflowLimits(tx, run.workflow_id);
    return { status: run.status, ...(limits ? { limits } : {}) };
  });
}

/**
 * Create one instance per task (one attempt each) and move the tasks to QUEUED. A task queued
 * from ADJUSTING_RESOURCES (a resource error) gets scaled resources, and maybe a fallback queue,
 * unless the request overrides its resources; each instance records the resources it asked for.
 */
export async function queueTasks(
  db: Db,
  runId: number,
  items: { taskId: number; resources?: Record<string, unknown>; queue?: string }[],
): Promise<{ instances: QueuedInstanceT[]; skipped: { taskId: number; status: TaskStatus }[] }> {
  const ids = items.map((i) => i.taskId);
  if (new Set(ids).size !== ids.length) throw new ValidationError('tasks: a task id appears twice', { field: 'tasks' });
  const overrides = new Map(
    items
      .filter((i) => i.resources !== undefined)
      .map((i) => [i.taskId, normaliseResources(i.resources, `task ${i.taskId}`)]),
  );
  return withTx(db, async (tx) => {
    const run = await loadRun(tx, runId);
    if (run.status !== 'RUNNING') {
      throw new IllegalTransitionError(
        `workflow run ${runId} is ${run.status}; tasks can only be queued while it is RUNNING`,
        {
          entity: 'workflow_run',
          id: runId,
          from: run.status,
          to: 'RUNNING',
        },
      );
    }
    const rows: Awaited<ReturnType<typeof lockTasksToQueue>> = [];
    for (const part of chunks(ids, 500)) rows.push(...(await lockTasksToQueue(tx, part)));
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of ids) {
      const r = byId.get(id);
      if (!r || r.workflow_id !== run.workflow_id) {
        throw new ValidationError(`task ${id} is not part of workflow ${run.workflow_id}`, {
          field: 'tasks',
          taskId: id,
        });
      }
    }
    const skipped: { taskId: number; status: TaskStatus }[] = [];
    const queue = rows.filter((r) => {
      if (QUEUEABLE_TASK_STATES.includes(r.status) && taskMachine.isLegal(r.status, 'QUEUED')) return true;
      skipped.push({ taskId: r.id, status: r.status });
      return false;
    });
    await afterRead('queue', tx);
    const byFrom = new Map<TaskStatus, number[]>();
    for (const r of queue) byFrom.set(r.status, [...(byFrom.get(r.status) ?? []), r.id]);
    for (const [from, group] of byFrom) {
      for (const part of chunks(group, 500)) {
        const moved = await casTasksToQueued(tx, part, from, tx.now);
        await expectMoved(tx, 'task', part, moved, [from], 'QUEUED', `queueing for workflow run ${runId}`);
      }
    }
    const clusters = await selectQueuesWithCluster(tx.db);
    const queueInfo = new Map(clusters.map((c) => [c.queue_id, c]));
    for (const [taskId, res] of overrides) {
      // An override is held to its queue's limits exactly as bind holds declared resources, whether
      // or not the task is queueable now; a refusal rolls back the whole request.
      const r = byId.get(taskId)!;
      const q = queueInfo.get(r.queue_id);
      if (q)
        validateAgainstQueue(res, JSON.parse(q.limits) as QueueLimits, `task ${taskId}: resource override`, q.queue);
    }
    for (const [taskId, res] of overrides) {
      const r = byId.get(taskId)!;
      if (!queue.includes(r)) continue;
      await setTaskResources(tx, taskId, JSON.stringify(res));
      r.resources = JSON.stringify(res);
    }
    const scaled = new Map<number, { resources: Record<string, unknown>; queue?: string; coerced?: string[] }>();
    for (const r of queue) {
      if (r.status !== 'ADJUSTING_RESOURCES' || overrides.has(r.id)) continue;
      const plan = planRetry({
        resources: JSON.parse(r.resources) as ComputeResources,
        resourceScales: JSON.parse(r.resource_scales) as unknown,
        fallbackQueues: JSON.parse(r.fallback_queues) as unknown,
        queueId: r.queue_id,
        queues: clusters
          .filter((c) => c.cluster_id === r.cluster_id)
          .map((c) => ({ id: c.queue_id, name: c.queue, limits: JSON.parse(c.limits) as QueueLimits })),
      });
      const moved = plan.queue.id !== r.queue_id;
      r.resources = JSON.stringify(plan.resources);
      r.queue_id = plan.queue.id;
      await setTaskResources(tx, r.id, r.resources, moved ? r.queue_id : undefined);
      scaled.set(r.id, {
        resources: plan.resources,
        ...(moved ? { queue: plan.queue.name } : {}),
        ...(plan.coerced.length > 0 ? { coerced: plan.coerced } : {}),
      });
    }
    const instances: QueuedInstanceT[] = [];
    for (const part of chunks(queue, 400)) {
      const inserted = await insertQueuedInstances(
        tx,
        part.map((r) => ({
          runId,
          workflowId: run.workflow_id,
          taskId: r.id,
          clusterId: r.cluster_id,
          queueId: r.queue_id,
          resources: r.resources,
        })),
        tx.now,
      );
      const instanceOf = new Map(inserted.map((i) => [i.task_id, i.id]));
      for (const r of part) {
        const instanceId = instanceOf.get(r.id)!;
        const qi = queueInfo.get(r.queue_id)!;
        const scaledTo = scaled.get(r.id);
        tx.event({
          workflowId: run.workflow_id,
          entity: 'task',
          entityId: r.id,
          from: r.status,
          to: 'QUEUED',
          actor: 'swarm',
          context: scaledTo ? { instanceId, scaledTo } : { instanceId },
        });
        tx.event({
          workflowId: run.workflow_id,
          entity: 'task_instance',
          entityId: instanceId,
          from: null,
          to: 'QUEUED',
          actor: 'swarm',
          context: { taskId: r.id },
        });
        instances.push({
          instanceId,
          taskId: r.id,
          name: r.name,
          command: r.command,
          cluster: qi.cluster,
          queue: qi.queue,
          resources: JSON.parse(r.resources) as Record<string, unknown>,
        });
      }
    }
    return { instances, skipped };
  });
}

/**
 * Ask the live run of a workflow to step aside (another process wants to run it, or an operator
 * wants it stopped): `cold` kills what runs, `hot` lets running tasks finish. The runner learns it
 * from its next heartbeat and ends the run TERMINATED; a run not yet started ends at once.
 */
export async function requestResume(
  db: Db,
  workflowId: number,
  mode: 'cold' | 'hot',
): Promise<{ runId: number | null; status: WorkflowRunStatus | null }> {
  return withTx(db, async (tx) => {
    if (!(await workflowExists(tx, workflowId)))
      throw new NotFoundError(`workflow ${workflowId} does not exist`, { workflowId });
    const run = await lockLiveRun(tx, workflowId);
    if (!run) return { runId: null, status: null };
    const to: WorkflowRunStatus = mode === 'cold' ? 'COLD_RESUME' : 'HOT_RESUME';
    if (run.status === 'COLD_RESUME' || run.status === 'HOT_RESUME') return { runId: run.id, status: run.status };
    if (run.status !== 'RUNNING') {
      throw new IllegalTransitionError(
        `workflow run ${run.id} of workflow ${workflowId} is ${run.status}; only a RUNNING run can be asked to step aside — retry once it runs`,
        { entity: 'workflow_run', id: run.id, from: run.status, to },
      );
    }
    await moveRun(tx, run, to, 'server');
    return { runId: run.id, status: to };
  });
}
