// Binding a workflow: its identity row, the run that claims it, its tasks (in bulk, resetting
// unfinished ones on resume) and its DAG edges. Identity is (tool version, workflow args); the same
// identity with another task set or DAG is refused and nothing is written.

import {
  LIVE_RUN_STATES,
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
import { bulkInsert, selectWhereIn } from '../db/bulk.js';
import { listClusters, resolveQueue } from './definitions.js';
import { moveRun, reapLapsedRuns } from './runs.js';
import { afterRead } from './test-hooks.js';
import { expectMoved } from './guarded.js';

const TASK_COLUMNS = [
  'workflow_id',
  'node_id',
  'task_args_hash',
  'task_template_version_id',
  'name',
  'command',
  'status',
  'status_at',
  'num_attempts',
  'max_attempts',
  'infra_failures',
  'max_infra_failures',
  'cluster_id',
  'queue_id',
  'resources',
  'resource_scales',
  'fallback_queues',
] as const;

export async function bindWorkflow(
  db: Db,
  req: WorkflowRequestT,
): Promise<{ workflowId: number; dagId: number; dagBound: boolean; status: WorkflowStatus; created: boolean }> {
  return withTx(db, async (tx) => {
    const c = tx.db;
    const tv = await c.selectFrom('tool_version').select(['id']).where('id', '=', req.toolVersionId).executeTakeFirst();
    if (!tv) throw new NotFoundError(`tool version ${req.toolVersionId} does not exist`, { toolVersionId: req.toolVersionId });
    const existing = await c
      .selectFrom('workflow')
      .innerJoin('dag', 'dag.id', 'workflow.dag_id')
      .select(['workflow.id', 'workflow.status', 'workflow.task_hash', 'workflow.task_count', 'workflow.name', 'dag.hash as dag_hash', 'dag.id as dag_id', 'dag.bound_at'])
      .where('workflow.tool_version_id', '=', req.toolVersionId)
      .where('workflow.args_hash', '=', req.argsHash)
      .executeTakeFirst();
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
      await c
        .updateTable('workflow')
        .set({
          name: req.name,
          description: req.description,
          ...(req.maxConcurrentlyRunning === undefined ? {} : { max_concurrently_running: req.maxConcurrentlyRunning }),
        })
        .where('id', '=', workflowId)
        .execute();
    } else {
      await c.insertInto('dag').values({ hash: req.dagHash, created_at: tx.now, bound_at: null }).onConflict((oc) => oc.column('hash').doNothing()).execute();
      const dag = await c.selectFrom('dag').select(['id', 'bound_at']).where('hash', '=', req.dagHash).executeTakeFirstOrThrow();
      dagId = dag.id;
      dagBound = dag.bound_at !== null;
      status = 'REGISTERING';
      const row = await c
        .insertInto('workflow')
        .values({
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
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      workflowId = row.id;
      created = true;
    }
    for (const [name, value] of Object.entries(req.attributes ?? {})) {
      await c
        .insertInto('workflow_attribute')
        .values({ workflow_id: workflowId, name, value })
        .onConflict((oc) => oc.columns(['workflow_id', 'name']).doUpdateSet({ value }))
        .execute();
    }
    const limits = Object.entries(req.templateConcurrency ?? {});
    if (limits.length > 0) {
      const templates = await c
        .selectFrom('task_template')
        .select(['id', 'name'])
        .where('tool_version_id', '=', req.toolVersionId)
        .where('name', 'in', limits.map(([n]) => n))
        .execute();
      for (const [name, limit] of limits) {
        const t = templates.find((r) => r.name === name);
        if (!t) throw new ValidationError(`templateConcurrency: no task template '${name}' in tool version ${req.toolVersionId}`, { field: 'templateConcurrency', template: name });
        await c
          .insertInto('template_concurrency')
          .values({ workflow_id: workflowId, task_template_id: t.id, max_concurrently_running: limit })
          .onConflict((oc) => oc.columns(['workflow_id', 'task_template_id']).doUpdateSet({ max_concurrently_running: limit }))
          .execute();
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
}

/** Create a run and link it to its workflow; refused while another live run holds the workflow. */
export async function createRun(db: Db, workflowId: number, info: RunInfo, reportByMs: number): Promise<{ runId: number; status: 'LINKING' }> {
  return withTx(db, async (tx) => {
    const c = tx.db;
    let q = c.selectFrom('workflow').select(['id', 'status', 'name']).where('id', '=', workflowId);
    q = tx.dialect.lockRows(q);
    const wf = await q.executeTakeFirst();
    if (!wf) throw new NotFoundError(`workflow ${workflowId} does not exist`, { workflowId });
    if (wf.status === 'DONE') {
      throw new WorkflowNotResumableError(`workflow ${workflowId} '${wf.name}' is already DONE; there is nothing to run`, { workflowId, status: wf.status });
    }
    await reapLapsedRuns(tx, workflowId);
    const live = await c
      .selectFrom('workflow_run')
      .select(['id', 'status', 'host', 'pid', 'process_start', 'heartbeat_at'])
      .where('workflow_id', '=', workflowId)
      .where('status', 'in', [...LIVE_RUN_STATES])
      .executeTakeFirst();
    if (live) {
      const ago = Math.round((tx.now - live.heartbeat_at) / 1000);
      throw new WorkflowNotResumableError(
        `workflow ${workflowId} '${wf.name}' is held by run ${live.id} (${live.status}, pid ${live.pid} on ${live.host}, last heartbeat ${ago}s ago); ` +
          `wait for it to end, stop it (jobmon workflow stop ${workflowId}), or take it over (--resume cold|hot)`,
        { workflowId, runId: live.id, status: live.status, host: live.host, pid: live.pid, processStart: live.process_start },
      );
    }
    const run = await c
      .insertInto('workflow_run')
      .values({
        workflow_id: workflowId,
        status: 'REGISTERED',
        user: info.user,
        host: info.host,
        pid: info.pid,
        process_start: info.processStart ?? null,
        jobmon_version: info.jobmonVersion,
        created_at: tx.now,
        status_at: tx.now,
        heartbeat_at: tx.now,
        report_by: tx.now + reportByMs,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await moveRun(tx, { id: run.id, workflow_id: workflowId, status: 'REGISTERED' }, 'LINKING', 'client');
    return { runId: run.id, status: 'LINKING' as const };
  });
}

async function linkingRun(tx: Tx, runId: number): Promise<{ id: number; workflow_id: number; dag_id: number }> {
  const run = await tx.db
    .selectFrom('workflow_run')
    .innerJoin('workflow', 'workflow.id', 'workflow_run.workflow_id')
    .select(['workflow_run.id', 'workflow_run.status', 'workflow_run.workflow_id', 'workflow.dag_id'])
    .where('workflow_run.id', '=', runId)
    .executeTakeFirst();
  if (!run) throw new NotFoundError(`workflow run ${runId} does not exist`, { runId });
  if (run.status !== 'LINKING') {
    throw new IllegalTransitionError(`workflow run ${runId} is ${run.status}; tasks and edges can only be bound while it is LINKING`, {
      entity: 'workflow_run',
      id: runId,
      from: run.status,
      to: 'LINKING',
    });
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
  const prepared = tasks.map((t, i) => {
    const where = `task '${t.name}'`;
    const q = resolveQueue(clustersCache, t.cluster, t.queue, where);
    const resources = normaliseResources(t.resources, where);
    validateAgainstQueue(resources, q.limits as QueueLimits, where, q.queueName);
    // Scales and fallback queues are used at retry time (services/scaling.ts); refuse bad ones now.
    normaliseResourceScales(t.resourceScales, where);
    for (const fallback of t.fallbackQueues ?? []) resolveQueue(clustersCache, t.cluster, fallback, `${where}: fallback queue`);
    return { t, i, q, resources: JSON.stringify(resources) };
  });
  return withTx(db, async (tx) => {
    const c = tx.db;
    const run = await linkingRun(tx, runId);
    const versionIds = [...new Set(tasks.map((t) => t.templateVersionId))];
    const versions = await c.selectFrom('task_template_version').select(['id', 'task_template_id']).where('id', 'in', versionIds).execute();
    const templateOf = new Map(versions.map((v) => [v.id, v.task_template_id]));
    for (const id of versionIds) {
      if (!templateOf.has(id)) throw new ValidationError(`task template version ${id} does not exist`, { field: 'templateVersionId', value: id });
    }
    // Nodes: insert-or-ignore by hash, then read back every id.
    const nodeIdByHash = new Map<string, number>();
    await bulkInsert(c, tx.dialect, 'node', ['hash', 'task_template_id'], prepared.map(({ t }) => [t.nodeHash, templateOf.get(t.templateVersionId)!]), {
      ignoreConflictOn: ['hash'],
      pgTypes: ['text', 'bigint'],
    });
    const nodeRows = await selectWhereIn<{ id: number; hash: string }>(c, tx.dialect, 'select "id", "hash" from "node"', 'hash', prepared.map(({ t }) => t.nodeHash), 'text');
    for (const r of nodeRows) nodeIdByHash.set(r.hash, Number(r.id));
    const nodeArgs = prepared.flatMap(({ t }) => Object.entries(t.nodeArgs).map(([name, value]) => [nodeIdByHash.get(t.nodeHash)!, name, String(value)]));
    await bulkInsert(c, tx.dialect, 'node_arg', ['node_id', 'name', 'value'], nodeArgs, { ignoreConflictOn: ['node_id', 'name'], pgTypes: ['bigint', 'text', 'text'] });
    // Existing tasks of this workflow for these nodes.
    const existing = new Map<string, { id: number; status: TaskStatus }>();
    const taskRows = await selectWhereIn<{ id: number; node_id: number; task_args_hash: string; status: TaskStatus }>(
      c,
      tx.dialect,
      'select "id", "node_id", "task_args_hash", "status" from "task"',
      'node_id',
      [...new Set(nodeIdByHash.values())],
      'bigint',
      { sql: '"workflow_id" = ?', params: [run.workflow_id] },
    );
    for (const r of taskRows) existing.set(`${r.node_id}:${r.task_args_hash}`, { id: Number(r.id), status: r.status });
    const result: [number, number, TaskStatus][] = new Array(tasks.length);
    const fresh = prepared.filter(({ t, i }) => {
      const nodeId = nodeIdByHash.get(t.nodeHash)!;
      const hit = existing.get(`${nodeId}:${t.taskArgsHash}`);
      if (hit) result[i] = [nodeId, hit.id, hit.status];
      return !hit;
    });
    const inserted = await bulkInsert<{ id: number; node_id: number; task_args_hash: string }>(
      c,
      tx.dialect,
      'task',
      TASK_COLUMNS,
      fresh.map(({ t, q, resources }) => [
        run.workflow_id,
        nodeIdByHash.get(t.nodeHash)!,
        t.taskArgsHash,
        t.templateVersionId,
        t.name,
        t.command,
        'REGISTERING',
        tx.now,
        0,
        t.maxAttempts,
        0,
        t.maxInfraFailures ?? 5,
        q.clusterId,
        q.queueId,
        resources,
        JSON.stringify(t.resourceScales ?? {}),
        JSON.stringify(t.fallbackQueues ?? []),
      ]),
      {
        returning: ['id', 'node_id', 'task_args_hash'],
        pgTypes: ['bigint', 'bigint', 'text', 'bigint', 'text', 'text', 'text', 'bigint', 'integer', 'integer', 'integer', 'integer', 'bigint', 'bigint', 'text', 'text', 'text'],
      },
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
        throw new IllegalTransitionError(`task ${row[1]} '${t.name}' is ${row[2]}; a resume cannot reset it to REGISTERING`, {
          entity: 'task',
          id: row[1],
          from: row[2],
          to: 'REGISTERING',
        });
      }
      const reset = await c
        .updateTable('task')
        .set({
          status: 'REGISTERING',
          status_at: tx.now,
          num_attempts: 0,
          infra_failures: 0,
          name: t.name,
          command: t.command,
          max_attempts: t.maxAttempts,
          max_infra_failures: t.maxInfraFailures ?? 5,
          cluster_id: q.clusterId,
          queue_id: q.queueId,
          resources,
          resource_scales: JSON.stringify(t.resourceScales ?? {}),
          fallback_queues: JSON.stringify(t.fallbackQueues ?? []),
        })
        .where('id', '=', row[1])
        .where('status', '=', row[2])
        .executeTakeFirst();
      await expectMoved(tx, 'task', [row[1]], reset.numUpdatedRows, [row[2]], 'REGISTERING', `the resume reset of task '${t.name}'`);
      if (row[2] !== 'REGISTERING') {
        tx.event({ workflowId: run.workflow_id, entity: 'task', entityId: row[1], from: row[2], to: 'REGISTERING', actor: 'client', context: { reason: 'resume', runId } });
        row[2] = 'REGISTERING';
      }
    }
    const args = prepared.flatMap(({ t, i }) => Object.entries(t.taskArgs).map(([name, value]) => [result[i]![1], name, String(value)]));
    await bulkInsert(c, tx.dialect, 'task_arg', ['task_id', 'name', 'value'], args, { ignoreConflictOn: ['task_id', 'name'], pgTypes: ['bigint', 'text', 'text'] });
    const attrs = prepared.flatMap(({ t, i }) =>
      Object.entries(t.attributes ?? {}).map(([name, value]) => ({ task_id: result[i]![1], name, value })),
    );
    for (const part of chunks(attrs, 1000)) {
      await c
        .insertInto('task_attribute')
        .values(part)
        .onConflict((oc) => oc.columns(['task_id', 'name']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
        .execute();
    }
    return result;
  });
}

export async function bindEdges(db: Db, runId: number, edges: [number, number][]): Promise<{ inserted: number }> {
  return withTx(db, async (tx) => {
    const run = await linkingRun(tx, runId);
    await bulkInsert(tx.db, tx.dialect, 'edge', ['dag_id', 'upstream_node_id', 'downstream_node_id'], edges.map(([u, d]) => [run.dag_id, u, d]), {
      ignoreConflictOn: ['dag_id', 'downstream_node_id', 'upstream_node_id'],
      pgTypes: ['bigint', 'bigint', 'bigint'],
    });
    return { inserted: edges.length };
  });
}
