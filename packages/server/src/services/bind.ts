// Binding a workflow: its identity row, the run that claims it, its tasks (in bulk, resetting
// unfinished ones on resume) and its DAG edges. Identity is (tool version, workflow args); the same
// identity with another task set or DAG is refused and nothing is written.

import {
  NotFoundError,
  ValidationError,
  WorkflowConflictError,
  WorkflowNotResumableError,
  IllegalTransitionError,
  normaliseResources,
  normaliseResourceScales,
  validateAgainstQueue,
  taskMachine,
  type BindTaskT,
  type QueueLimits,
  type TaskStatus,
  type WorkflowRequestT,
  type WorkflowStatus,
} from '@jobmon/core';
import type { Db } from '../db/connect.js';
import { chunks, withTx, type Tx } from './tx.js';
import { ensureDag, insertEdges } from '../db/queries/dag.js';
import { ensureNodes, insertNodeArgs, nodesByHash } from '../db/queries/node.js';
import { insertTasks, insertTaskArgs, resetTask, tasksOnNodes, upsertTaskAttributes } from '../db/queries/task.js';
import { templatesByName, templatesOfVersions } from '../db/queries/task-template.js';
import { toolVersionExists } from '../db/queries/tool.js';
import {
  findWorkflowByIdentity,
  insertWorkflow,
  lockWorkflow,
  updateWorkflowDeclared,
  upsertTemplateConcurrency,
  upsertWorkflowAttribute,
} from '../db/queries/workflow.js';
import { insertRun, liveRunDetail, runWithDag } from '../db/queries/workflow-run.js';
import { listClusters, resolveQueue } from './definitions.js';
import { moveRun, reapLapsedRuns } from './runs.js';
import { afterRead } from './test-hooks.js';
import { expectMoved } from './guarded.js';

export async function bindWorkflow(
  db: Db,
  req: WorkflowRequestT,
  owner: string | null = null,
): Promise<{ workflowId: number; dagId: number; dagBound: boolean; status: WorkflowStatus; created: boolean }> {
  return withTx(db, async (tx) => {
    if (!(await toolVersionExists(tx, req.toolVersionId)))
      throw new NotFoundError(`tool version ${req.toolVersionId} does not exist`, { toolVersionId: req.toolVersionId });
    const existing = await findWorkflowByIdentity(tx, req.toolVersionId, req.argsHash);
    let workflowId: number;
    let dagId: number;
    let dagBound: boolean;
    let status: WorkflowStatus;
    let created = false;
    if (existing) {
      if (existing.task_hash !== req.taskHash || existing.dag_hash !== req.dagHash) {
        const what = existing.task_hash !== req.taskHash ? 'a different set of tasks' : 'different dependencies';
        throw new WorkflowConflictError(
          `workflow ${existing.id} '${existing.name}' already exists with these workflow args and ${what} ` +
            `(${existing.task_count} tasks stored, ${req.taskCount} declared); to run these tasks as a new workflow, change its workflow args`,
          { workflowId: existing.id, storedTaskCount: existing.task_count, declaredTaskCount: req.taskCount },
        );
      }
      workflowId = existing.id;
      dagId = existing.dag_id;
      dagBound = existing.bound_at !== null;
      status = existing.status;
      await updateWorkflowDeclared(tx, workflowId, req);
    } else {
      const dag = await ensureDag(tx, req.dagHash, tx.now);
      dagId = dag.id;
      dagBound = dag.bound_at !== null;
      status = 'REGISTERING';
      workflowId = await insertWorkflow(tx, {
        tool_version_id: req.toolVersionId,
        dag_id: dagId,
        args_hash: req.argsHash,
        task_hash: req.taskHash,
        workflow_args: JSON.stringify(req.workflowArgs),
        name: req.name,
        description: req.description,
        status,
        max_concurrently_running: req.maxConcurrentlyRunning ?? 2_147_483_647,
        task_count: req.taskCount,
        created_at: tx.now,
        status_at: tx.now,
        bound_at: null,
        owner,
      });
      created = true;
    }
    for (const [name, value] of Object.entries(req.attributes ?? {})) {
      await upsertWorkflowAttribute(tx, workflowId, name, value);
    }
    const limits = Object.entries(req.templateConcurrency ?? {});
    if (limits.length > 0) {
      const templates = await templatesByName(
        tx,
        req.toolVersionId,
        limits.map(([n]) => n),
      );
      for (const [name, limit] of limits) {
        const t = templates.find((r) => r.name === name);
        if (!t)
          throw new ValidationError(
            `templateConcurrency: no task template '${name}' in tool version ${req.toolVersionId}`,
            { field: 'templateConcurrency', template: name },
          );
        await upsertTemplateConcurrency(tx, workflowId, t.id, limit);
      }
    }
    return { workflowId, dagId, dagBound, status, created };
  });
}

export interface RunInfo {
  user: string;
  host: string;
  pid: number;
  jobmonVersion: string;
  processStart?: string;
  cwd?: string;
}

/** Create a run and link it to its workflow; refused while another live run holds the workflow. */
export async function createRun(
  db: Db,
  workflowId: number,
  info: RunInfo,
  reportByMs: number,
): Promise<{ runId: number; status: 'LINKING' }> {
  return withTx(db, async (tx) => {
    const wf = await lockWorkflow(tx, workflowId);
    if (!wf) throw new NotFoundError(`workflow ${workflowId} does not exist`, { workflowId });
    if (wf.status === 'DONE') {
      throw new WorkflowNotResumableError(
        `workflow ${workflowId} '${wf.name}' is already DONE; there is nothing to run`,
        { workflowId, status: wf.status },
      );
    }
    await reapLapsedRuns(tx, workflowId);
    const live = await liveRunDetail(tx, workflowId);
    if (live) {
      const ago = Math.round((tx.now - live.heartbeat_at) / 1000);
      throw new WorkflowNotResumableError(
        `workflow ${workflowId} '${wf.name}' is held by run ${live.id} (${live.status}, pid ${live.pid} on ${live.host}, last heartbeat ${ago}s ago); ` +
          `wait for it to end, stop it (jobmon workflow stop ${workflowId}), or take it over (--resume cold|hot)`,
        {
          workflowId,
          runId: live.id,
          status: live.status,
          host: live.host,
          pid: live.pid,
          processStart: live.process_start,
        },
      );
    }
    const runId = await insertRun(tx, {
      workflow_id: workflowId,
      status: 'REGISTERED',
      user: info.user,
      host: info.host,
      pid: info.pid,
      process_start: info.processStart ?? null,
      cwd: info.cwd ?? null,
      jobmon_version: info.jobmonVersion,
      created_at: tx.now,
      status_at: tx.now,
      heartbeat_at: tx.now,
      report_by: tx.now + reportByMs,
    });
    await moveRun(tx, { id: runId, workflow_id: workflowId, status: 'REGISTERED' }, 'LINKING', 'client');
    // A workflow bound without an authenticated user (auth none) is owned by whoever first runs it.
    await tx.db
      .updateTable('workflow')
      .set({ owner: info.user })
      .where('id', '=', workflowId)
      .where('owner', 'is', null)
      .execute();
    return { runId, status: 'LINKING' as const };
  });
}

export async function linkingRun(tx: Tx, runId: number): Promise<{ id: number; workflow_id: number; dag_id: number }> {
  const run = await runWithDag(tx, runId);
  if (!run) throw new NotFoundError(`workflow run ${runId} does not exist`, { runId });
  if (run.status !== 'LINKING') {
    throw new IllegalTransitionError(
      `workflow run ${runId} is ${run.status}; tasks and edges can only be bound while it is LINKING`,
      {
        entity: 'workflow_run',
        id: runId,
        from: run.status,
        to: 'LINKING',
      },
    );
  }
  return run;
}

/**
 * Bind a chunk of tasks under a linking run: nodes and tasks are created if new; tasks that exist
 * and are not DONE are reset to REGISTERING with fresh attempts and the new command, name and
 * resources (op args may change between runs). Returns [nodeId, taskId, status] per task.
 */
export async function bindTasks(db: Db, runId: number, tasks: BindTaskT[]): Promise<[number, number, TaskStatus][]> {
  const clustersCache = await listClusters(db.kysely);
  // A workflow holds one task per node (template version and node args): a second one is a
  // mistake in the request, named here rather than left to a unique constraint.
  const byNode = new Map<string, string>();
  for (const t of tasks) {
    const first = byNode.get(t.nodeHash);
    if (first !== undefined) {
      throw new ValidationError(
        `task '${t.name}' has the node of task '${first}' (the same template and node args); a workflow holds one task per node`,
        { field: 'nodeHash', task: t.name, sameNodeAs: first },
      );
    }
    byNode.set(t.nodeHash, t.name);
  }
  const prepared = tasks.map((t, i) => {
    const where = `task '${t.name}'`;
    const q = resolveQueue(clustersCache, t.cluster, t.queue, where);
    const resources = normaliseResources(t.resources, where);
    validateAgainstQueue(resources, q.limits as QueueLimits, where, q.queueName);
    // Scales and fallback queues are used at retry time (services/scaling.ts); refuse bad ones now.
    normaliseResourceScales(t.resourceScales, where);
    for (const fallback of t.fallbackQueues ?? [])
      resolveQueue(clustersCache, t.cluster, fallback, `${where}: fallback queue`);
    return { t, i, q, resources: JSON.stringify(resources) };
  });
  return withTx(db, async (tx) => {
    const run = await linkingRun(tx, runId);
    const versionIds = [...new Set(tasks.map((t) => t.templateVersionId))];
    const versions = await templatesOfVersions(tx, versionIds);
    const templateOf = new Map(versions.map((v) => [v.id, v.task_template_id]));
    for (const id of versionIds) {
      if (!templateOf.has(id))
        throw new ValidationError(`task template version ${id} does not exist`, {
          field: 'templateVersionId',
          value: id,
        });
    }
    // Nodes: insert-or-ignore by hash, then read back every id.
    const nodeIdByHash = new Map<string, number>();
    await ensureNodes(
      tx,
      prepared.map(({ t }) => [t.nodeHash, templateOf.get(t.templateVersionId)!] as const),
    );
    const nodeRows = await nodesByHash(
      tx,
      prepared.map(({ t }) => t.nodeHash),
    );
    for (const r of nodeRows) nodeIdByHash.set(r.hash, Number(r.id));
    const nodeArgs = prepared.flatMap(({ t }) =>
      Object.entries(t.nodeArgs).map(([name, value]) => [nodeIdByHash.get(t.nodeHash)!, name, String(value)] as const),
    );
    await insertNodeArgs(tx, nodeArgs);
    // Existing tasks of this workflow for these nodes.
    const existing = new Map<string, { id: number; status: TaskStatus }>();
    const taskRows = await tasksOnNodes(tx, run.workflow_id, [...new Set(nodeIdByHash.values())]);
    for (const r of taskRows) existing.set(`${r.node_id}:${r.task_args_hash}`, { id: Number(r.id), status: r.status });
    const result: [number, number, TaskStatus][] = new Array(tasks.length);
    const fresh = prepared.filter(({ t, i }) => {
      const nodeId = nodeIdByHash.get(t.nodeHash)!;
      const hit = existing.get(`${nodeId}:${t.taskArgsHash}`);
      if (hit) result[i] = [nodeId, hit.id, hit.status];
      return !hit;
    });
    const inserted = await insertTasks(
      tx,
      fresh.map(({ t, q, resources }) => ({
        workflow_id: run.workflow_id,
        node_id: nodeIdByHash.get(t.nodeHash)!,
        task_args_hash: t.taskArgsHash,
        task_template_version_id: t.templateVersionId,
        name: t.name,
        command: t.command,
        status: 'REGISTERING',
        status_at: tx.now,
        num_attempts: 0,
        max_attempts: t.maxAttempts,
        infra_failures: 0,
        max_infra_failures: t.maxInfraFailures ?? 5,
        cluster_id: q.clusterId,
        queue_id: q.queueId,
        resources,
        resource_scales: JSON.stringify(t.resourceScales ?? {}),
        fallback_queues: JSON.stringify(t.fallbackQueues ?? []),
      })),
    );
    const idByKey = new Map(inserted.map((r) => [`${r.node_id}:${r.task_args_hash}`, Number(r.id)]));
    for (const { t, i } of fresh) {
      const nodeId = nodeIdByHash.get(t.nodeHash)!;
      result[i] = [nodeId, idByKey.get(`${nodeId}:${t.taskArgsHash}`)!, 'REGISTERING'];
    }
    // Resume: unfinished tasks start over with fresh attempts and the newly declared command. The
    // table says from where a task may go back to REGISTERING (one already there takes the new
    // declaration); each reset is a compare-and-set whose row count is checked.
    const freshIndex = new Set(fresh.map(({ i }) => i));
    await afterRead('resume', tx);
    for (const { t, i, q, resources } of prepared) {
      const row = result[i]!;
      if (freshIndex.has(i) || row[2] === 'DONE') continue;
      if (row[2] !== 'REGISTERING' && !taskMachine.isLegal(row[2], 'REGISTERING')) {
        throw new IllegalTransitionError(
          `task ${row[1]} '${t.name}' is ${row[2]}; a resume cannot reset it to REGISTERING`,
          {
            entity: 'task',
            id: row[1],
            from: row[2],
            to: 'REGISTERING',
          },
        );
      }
      const reset = await resetTask(
        tx,
        row[1],
        row[2],
        {
          name: t.name,
          command: t.command,
          max_attempts: t.maxAttempts,
          max_infra_failures: t.maxInfraFailures ?? 5,
          cluster_id: q.clusterId,
          queue_id: q.queueId,
          resources,
          resource_scales: JSON.stringify(t.resourceScales ?? {}),
          fallback_queues: JSON.stringify(t.fallbackQueues ?? []),
        },
        tx.now,
      );
      await expectMoved(tx, 'task', [row[1]], reset, [row[2]], 'REGISTERING', `the resume reset of task '${t.name}'`);
      if (row[2] !== 'REGISTERING') {
        tx.event({
          workflowId: run.workflow_id,
          entity: 'task',
          entityId: row[1],
          from: row[2],
          to: 'REGISTERING',
          actor: 'client',
          context: { reason: 'resume', runId },
        });
        row[2] = 'REGISTERING';
      }
    }
    const args = prepared.flatMap(({ t, i }) =>
      Object.entries(t.taskArgs).map(([name, value]) => [result[i]![1], name, String(value)] as const),
    );
    await insertTaskArgs(tx, args);
    const attrs = prepared.flatMap(({ t, i }) =>
      Object.entries(t.attributes ?? {}).map(([name, value]) => ({ task_id: result[i]![1], name, value })),
    );
    for (const part of chunks(attrs, 1000)) await upsertTaskAttributes(tx, part);
    return result;
  });
}

export async function bindEdges(db: Db, runId: number, edges: [number, number][]): Promise<{ inserted: number }> {
  return withTx(db, async (tx) => {
    const run = await linkingRun(tx, runId);
    await insertEdges(tx, run.dag_id, edges);
    return { inserted: edges.length };
  });
}
