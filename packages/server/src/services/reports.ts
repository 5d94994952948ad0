// Read-only views for clients, the CLI and (later) the GUI: aggregates first, lists on request.

import {
  NotFoundError,
  wire,
  TASK_STATES,
  ValidationError,
  type ErrorClass,
  type ErrorGroupT,
  type ErrorGroupsResponseT,
  type TaskAttemptT,
  type TaskDetailT,
  type WorkflowTasksResponseT,
  type InstanceDetailT,
  type NodeHealthT,
  type TaskErrorT,
  type TaskInstanceStatus,
  type TaskStatus,
  type WorkflowDetailT,
} from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import type { Q } from '../db/conn.js';
import { countTasksByStatus, listTasks, taskExists, taskWithNames, type TaskPageFilter } from '../db/queries/task.js';
import {
  attemptsOfTask,
  countInstancesOfTask,
  instancesOfRun,
  instancesOfTask,
  instancesPerNode,
  instanceWithTask,
} from '../db/queries/task-instance.js';
import {
  errorGroups,
  errorMessages,
  errorsOfInstances,
  groupTaskIds,
  newestErrorPerFatalTask,
  newestErrorPerTask,
} from '../db/queries/task-instance-error.js';
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
    owner: wf.owner,
    taskCount: wf.task_count,
    counts: Object.fromEntries(counts.map((r) => [r.status, Number(r.n)])),
    maxConcurrentlyRunning: wf.max_concurrently_running,
    lastRun: run ? { id: run.id, status: run.status, heartbeatAt: run.heartbeat_at } : null,
    createdAt: wf.created_at,
    statusAt: wf.status_at,
  };
}

function badQuery(route: string, field: string, problem: string, value: unknown): ValidationError {
  return new ValidationError(`GET ${route}: querystring/${field} ${problem}`, {
    field: `querystring/${field}`,
    route,
    value,
  });
}

/** One page of a workflow's tasks in id order; `nextCursor` (the last id) when the page is full. */
export async function workflowTasks(
  db: Db,
  id: number,
  query: { status?: string; template?: string; limit: number; cursor?: string },
): Promise<WorkflowTasksResponseT> {
  // Looked up by its key only: the workflow's detail counts every task.
  await requireWorkflow(onDb(db), id);
  const f: TaskPageFilter = { limit: query.limit };
  if (query.status !== undefined) {
    const statuses = query.status.split(',');
    const unknown = statuses.find((s) => !(TASK_STATES as readonly string[]).includes(s));
    if (unknown !== undefined)
      throw badQuery(
        '/workflows/{id}/tasks',
        'status',
        `has unknown status ${JSON.stringify(unknown)}; one of ${TASK_STATES.join(', ')}`,
        query.status,
      );
    f.statuses = statuses as TaskStatus[];
  }
  if (query.template !== undefined) f.template = query.template;
  if (query.cursor !== undefined) {
    const after = Number(query.cursor);
    if (!Number.isSafeInteger(after))
      throw badQuery('/workflows/{id}/tasks', 'cursor', 'is not a cursor this server gave out', query.cursor);
    f.afterId = after;
  }
  const rows = await listTasks(onDb(db), id, f);
  const last = rows[rows.length - 1];
  return {
    tasks: rows.map((r) => ({
      id: r.id,
      name: r.name,
      status: r.status,
      numAttempts: r.num_attempts,
      maxAttempts: r.max_attempts,
      infraFailures: r.infra_failures,
      template: r.template,
    })),
    ...(last && rows.length === f.limit ? { nextCursor: String(last.id) } : {}),
  };
}

/** A task and its attempts, oldest first (the newest wire.PAGE_MAX when there are more), each with its newest error. */
export async function taskDetail(db: Db, id: number): Promise<TaskDetailT> {
  const c = onDb(db);
  const t = await taskWithNames(c, id);
  if (!t) throw new NotFoundError(`task ${id} does not exist`, { taskId: id });
  const rows = (await attemptsOfTask(c, id, wire.PAGE_MAX)).reverse();
  const total = rows.length < wire.PAGE_MAX ? rows.length : await countInstancesOfTask(c, id);
  const messages = new Map<number, string>();
  for (let i = 0; i < rows.length; i += 1000) {
    // Oldest first: the newest error of an instance is written last.
    for (const e of await errorsOfInstances(
      c,
      rows.slice(i, i + 1000).map((r) => r.id),
    ))
      messages.set(e.task_instance_id, e.message);
  }
  const attempts: TaskAttemptT[] = rows.map((r, i) => ({
    ...instanceDetail(r),
    attempt: total - rows.length + i + 1,
    cluster: r.cluster,
    clusterType: r.cluster_type,
    queue: r.queue,
    errorMessage: messages.get(r.id) ?? null,
  }));
  return {
    id: t.id,
    name: t.name,
    status: t.status,
    workflowId: t.workflow_id,
    workflowName: t.workflow_name,
    template: t.template,
    command: t.command,
    numAttempts: t.num_attempts,
    maxAttempts: t.max_attempts,
    infraFailures: t.infra_failures,
    statusAt: t.status_at,
    attempts,
  };
}

/** 404 for an unknown workflow, by its key alone (workflowDetail would count its tasks first). */
async function requireWorkflow(c: Q, id: number): Promise<void> {
  if (!(await findWorkflow(c, id))) throw new NotFoundError(`workflow ${id} does not exist`, { workflowId: id });
}

/** Most task ids a group lists; and all groups together (no read route answers more than 10,000 rows). */
const GROUP_TASK_IDS = 1000;
const TASK_IDS_MAX = 10_000;

/**
 * Every failure (error row) of a workflow's instances, grouped by error class and normalised
 * message (core's normaliseMessage, stored with each row), the largest groups first. Grouped in
 * SQL over one index (db/queries/task-instance-error.ts): no message is read but the samples.
 */
export async function workflowErrorGroups(
  db: Db,
  workflowId: number,
  query: { template?: string; limit: number },
): Promise<ErrorGroupsResponseT> {
  const c = onDb(db);
  await requireWorkflow(c, workflowId);
  const rows = await errorGroups(c, workflowId, query.limit, query.template);
  const samples = new Map(
    (
      await errorMessages(
        c,
        rows.map((r) => Number(r.last_id)),
      )
    ).map((m) => [m.id, m.message]),
  );
  // 1000 ids for up to 10 groups; 10 each when 1000 groups are asked for.
  const idsPerGroup = Math.min(GROUP_TASK_IDS, Math.floor(TASK_IDS_MAX / Math.max(1, rows.length)));
  const groups: ErrorGroupT[] = [];
  for (const r of rows) {
    groups.push({
      pattern: r.pattern ?? '',
      errorClass: r.error_class as ErrorClass,
      count: Number(r.failures),
      sample: samples.get(Number(r.last_id)) ?? '',
      firstAt: Number(r.first_at),
      lastAt: Number(r.last_at),
      taskIds: await groupTaskIds(c, workflowId, r, idsPerGroup, query.template),
      taskCount: Number(r.task_count),
    });
  }
  const first = rows[0];
  return {
    groups,
    failures: first ? Number(first.all_failures) : 0,
    groupCount: first ? Number(first.group_count) : 0,
  };
}

/**
 * The latest error of each task that has one, newest first; by default only tasks that ended
 * ERROR_FATAL, the most recently failed first.
 */
export async function workflowErrors(db: Db, id: number, onlyFatal: boolean, limit: number): Promise<TaskErrorT[]> {
  const c = onDb(db);
  await requireWorkflow(c, id);
  const rows = onlyFatal ? await newestErrorPerFatalTask(c, id, limit) : await newestErrorPerTask(c, id, limit);
  return rows.map((r) => ({
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
  }));
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

/** A page of a task's instances in id order; `nextAfter` when more may follow. */
export async function taskInstances(
  db: Db,
  taskId: number,
  page: { after?: number; limit: number },
): Promise<{ instances: InstanceDetailT[]; nextAfter?: number }> {
  if (!(await taskExists(onDb(db), taskId))) throw new NotFoundError(`task ${taskId} does not exist`, { taskId });
  const rows = await instancesOfTask(onDb(db), taskId, page.after ?? 0, page.limit);
  return { instances: rows.map(instanceDetail), ...nextAfter(rows, page.limit) };
}

function nextAfter(rows: readonly { id: number }[], limit: number): { nextAfter?: number } {
  return rows.length === limit ? { nextAfter: rows[rows.length - 1]!.id } : {};
}

export async function getInstance(
  db: Db,
  id: number,
): Promise<InstanceDetailT & { command: string; taskName: string; workflowId: number }> {
  const r = await instanceWithTask(onDb(db), id);
  if (!r) throw new NotFoundError(`task instance ${id} does not exist`, { id });
  return { ...instanceDetail(r), command: r.command, taskName: r.task_name, workflowId: r.workflow_id };
}

/** A page of a run's instances in id order; `nextAfter` when more may follow. */
export async function runInstances(
  db: Db,
  runId: number,
  statuses: string[],
  page: { after?: number; limit: number },
): Promise<{
  instances: { id: number; taskId: number; status: string; pgid: number | null; distributorId: string | null }[];
  nextAfter?: number;
}> {
  // Names come unchecked from the query string: one that is no state matches no row.
  const rows = await instancesOfRun(onDb(db), runId, statuses as TaskInstanceStatus[], page.after ?? 0, page.limit);
  const instances = rows.map((r) => ({
    id: r.id,
    taskId: r.task_id,
    status: r.status,
    pgid: r.pgid,
    distributorId: r.distributor_id,
  }));
  return { instances, ...nextAfter(rows, page.limit) };
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
