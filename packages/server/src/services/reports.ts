// Read-only views for clients, the CLI and (later) the GUI: aggregates first, lists on request.

import {
  NotFoundError,
  type ErrorClass,
  type InstanceDetailT,
  type NodeHealthT,
  type TaskErrorT,
  type TaskInstanceStatus,
  type TaskStatus,
  type TaskSummaryT,
  type WorkflowDetailT,
} from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import { countTasksByStatus, listTasks, taskExists } from '../db/queries/task.js';
import { instancesOfRun, instancesOfTask, instancesPerNode, instanceWithTask } from '../db/queries/task-instance.js';
import { errorsOfWorkflow } from '../db/queries/task-instance-error.js';
import { findWorkflow } from '../db/queries/workflow.js';
import { latestRun } from '../db/queries/workflow-run.js';
import type { TaskInstanceTable } from '../db/schema.js';
import type { Selectable } from 'kysely';

export async function workflowDetail(db: Db, id: number): Promise<WorkflowDetailT> {
  const c = onDb(db);
  const wf = await findWorkflow(c, id);
  if (!wf) throw new NotFoundError(`workflow ${id} does not exist`, { workflowId: id });
  const counts = await countTasksByStatus(c, id);
  const run = await latestRun(c, id);
  return {
    id: wf.id,
    name: wf.name,
    description: wf.description,
    status: wf.status,
    workflowArgs: JSON.parse(wf.workflow_args) as Record<string, unknown>,
    taskCount: wf.task_count,
    counts: Object.fromEntries(counts.map((r) => [r.status, Number(r.n)])),
    maxConcurrentlyRunning: wf.max_concurrently_running,
    lastRun: run ? { id: run.id, status: run.status, heartbeatAt: run.heartbeat_at } : null,
    createdAt: wf.created_at,
    statusAt: wf.status_at,
  };
}

export async function workflowTasks(
  db: Db,
  id: number,
  status: TaskStatus | undefined,
  limit: number,
  offset: number,
): Promise<TaskSummaryT[]> {
  const rows = await listTasks(onDb(db), id, status, limit, offset);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    status: r.status,
    numAttempts: r.num_attempts,
    maxAttempts: r.max_attempts,
    infraFailures: r.infra_failures,
  }));
}

/** The latest error of each task that has one; by default only tasks that ended ERROR_FATAL. */
export async function workflowErrors(db: Db, id: number, onlyFatal: boolean, limit: number): Promise<TaskErrorT[]> {
  const rows = await errorsOfWorkflow(onDb(db), id, onlyFatal);
  const seen = new Set<number>();
  const out: TaskErrorT[] = [];
  for (const r of rows) {
    if (seen.has(r.task_id)) continue;
    seen.add(r.task_id);
    out.push({
      taskId: r.task_id,
      taskName: r.task_name,
      taskStatus: r.task_status,
      instanceId: r.instance_id,
      instanceStatus: r.instance_status,
      errorClass: r.error_class as ErrorClass,
      message: r.message,
      exitCode: r.exit_code,
      stderrTail: r.stderr_tail,
      at: r.at,
    });
    if (out.length >= limit) break;
  }
  return out;
}

function instanceDetail(r: Selectable<TaskInstanceTable>): InstanceDetailT {
  return {
    id: r.id,
    taskId: r.task_id,
    workflowRunId: r.workflow_run_id,
    status: r.status,
    exitCode: r.exit_code,
    peakMemoryBytes: r.peak_memory_bytes,
    wallTimeMs: r.wall_time_ms,
    nodeName: r.node_name,
    distributorId: r.distributor_id,
    stdoutPath: r.stdout_path,
    stderrPath: r.stderr_path,
    stdoutTail: r.stdout_tail,
    stderrTail: r.stderr_tail,
    resources: JSON.parse(r.resources) as Record<string, unknown>,
    errorClass: r.error_class as ErrorClass | null,
    cleanup: r.cleanup,
    createdAt: r.created_at,
    statusAt: r.status_at,
  };
}

export async function taskInstances(db: Db, taskId: number): Promise<InstanceDetailT[]> {
  if (!(await taskExists(onDb(db), taskId))) throw new NotFoundError(`task ${taskId} does not exist`, { taskId });
  const rows = await instancesOfTask(onDb(db), taskId);
  return rows.map(instanceDetail);
}

export async function getInstance(
  db: Db,
  id: number,
): Promise<InstanceDetailT & { command: string; taskName: string; workflowId: number }> {
  const r = await instanceWithTask(onDb(db), id);
  if (!r) throw new NotFoundError(`task instance ${id} does not exist`, { id });
  return { ...instanceDetail(r), command: r.command, taskName: r.task_name, workflowId: r.workflow_id };
}

export async function runInstances(
  db: Db,
  runId: number,
  statuses: string[],
): Promise<{ id: number; taskId: number; status: string; pgid: number | null; distributorId: string | null }[]> {
  // Names come unchecked from the query string: one that is no state matches no row.
  const rows = await instancesOfRun(onDb(db), runId, statuses as TaskInstanceStatus[]);
  return rows.map((r) => ({
    id: r.id,
    taskId: r.task_id,
    status: r.status,
    pgid: r.pgid,
    distributorId: r.distributor_id,
  }));
}

/**
 * Which nodes kill jobs: per node name, the instances created since `since` and their
 * infrastructure-class errors, most errors first. Instances without a node name are left out.
 */
export async function nodeHealth(db: Db, since: number): Promise<NodeHealthT[]> {
  const rows = await instancesPerNode(onDb(db), since);
  return rows
    .map((r) => ({
      nodeName: r.node_name!,
      infrastructureErrors: Number(r.errors),
      instances: Number(r.instances),
      lastErrorAt: r.last_error_at === null ? null : Number(r.last_error_at),
    }))
    .sort(
      (a, b) =>
        b.infrastructureErrors - a.infrastructureErrors ||
        b.instances - a.instances ||
        a.nodeName.localeCompare(b.nodeName),
    );
}
