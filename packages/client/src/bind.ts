// Binding a declared workflow to the server in few requests: validate everything first (DAG,
// duplicates, clusters, resources) so bad input changes nothing; then tool, templates, the
// workflow's identity, a run that claims it, tasks in chunks, edges, and BOUND.

import {
  DuplicateTaskError,
  ValidationError,
  dagHash,
  normaliseResources,
  taskSetHash,
  topologicalOrder,
  validateAgainstQueue,
  workflowArgsHash,
  UnknownClusterError,
  UnknownQueueError,
  IllegalTransitionError,
  WorkflowNotResumableError,
  JOBMON_VERSION,
  type ArgValues,
  type BindTaskT,
  type ClustersResponseT,
  type QueueLimits,
  type ApiClient,
  type ResourceInput,
  type ResourceScales,
  type TaskStatus,
  type WorkflowStatus,
  wire,
} from '@jobmon/core';
import { assertWire } from '@jobmon/core/wire-check';
import { hostname, userInfo } from 'node:os';
import { processStart, provablyGone } from './process.js';
import type { Task } from './task.js';
import type { TaskTemplate } from './task-template.js';

export interface WorkflowDecl {
  toolName: string;
  toolDefaults: {
    cluster?: string;
    resources: Record<string, ResourceInput>;
    maxAttempts?: number;
    maxInfraFailures?: number;
  };
  workflowArgs: ArgValues;
  name: string;
  description: string;
  attributes: Record<string, string>;
  maxConcurrentlyRunning: number | undefined;
  templateConcurrency: Record<string, number>;
  defaultCluster: string | undefined;
  defaultResources: Record<string, ResourceInput>;
  maxAttempts: number | undefined;
  maxInfraFailures: number | undefined;
  tasks: readonly Task[];
}

export interface BoundWorkflow {
  workflowId: number;
  status: WorkflowStatus;
  /** Null when the workflow was already DONE and no run was created. */
  runId: number | null;
  /** The run token the server minted for this run (a server with authentication), for its runner and workers. */
  runToken?: string;
  taskIds: Float64Array;
  statuses: TaskStatus[];
  upstream: number[][];
  templateIndex: Int32Array;
  templates: string[];
  clusters: string[];
}

interface Resolved {
  cluster: string;
  queue: string | undefined;
  resources: ResourceInput;
  /** Task's over template's; empty when neither sets any (the server's defaults apply). */
  resourceScales: ResourceScales;
  fallbackQueues: string[];
}

const TASK_CHUNK = 5000;
const EDGE_CHUNK = 50_000;

/** The checks that need no server, and the per-task data bind sends. */
export function prepare(decl: WorkflowDecl): {
  upstream: number[][];
  resolved: Resolved[];
  taskHash: string;
  dagHash: string;
  argsHash: string;
} {
  const { tasks } = decl;
  if (tasks.length === 0) throw new ValidationError(`workflow '${decl.name}' has no tasks`, { field: 'tasks' });
  const index = new Map<Task, number>();
  tasks.forEach((t, i) => {
    if (index.has(t))
      throw new DuplicateTaskError(`task '${t.name}' was added to workflow '${decl.name}' twice`, { task: t.name });
    index.set(t, i);
  });
  const byTask = new Map<string, Task>();
  const byNode = new Map<string, Task>();
  for (const t of tasks) {
    const h = t.hashes;
    const other = byTask.get(h.task) ?? byNode.get(h.node);
    if (other) {
      throw new DuplicateTaskError(
        `tasks '${other.name}' and '${t.name}' are the same task (template '${t.template.name}' with the same node args); give them different node args`,
        { tasks: [other.name, t.name] },
      );
    }
    byTask.set(h.task, t);
    byNode.set(h.node, t);
  }
  const upstream = tasks.map((t) =>
    t.upstream.map((u) => {
      const i = index.get(u);
      if (i === undefined) {
        throw new ValidationError(
          `task '${t.name}' depends on '${u.name}', which was not added to workflow '${decl.name}'`,
          {
            task: t.name,
            upstream: u.name,
          },
        );
      }
      return i;
    }),
  );
  topologicalOrder(upstream, (i) => tasks[i]!.name);
  const resolved = tasks.map((t) => {
    const cluster =
      t.cluster ?? t.template.defaultCluster ?? decl.defaultCluster ?? decl.toolDefaults.cluster ?? 'local';
    const merged: ResourceInput = {
      ...(decl.toolDefaults.resources[cluster] ?? {}),
      ...(decl.defaultResources[cluster] ?? {}),
      ...(t.template.defaultResources[cluster] ?? {}),
      ...(t.computeResources ?? {}),
    };
    const resources = normaliseResources(merged, `task '${t.name}'`);
    const { queue, ...rest } = resources;
    const resourceScales = { ...t.template.resourceScales, ...(t.resourceScales ?? {}) };
    const fallbackQueues = t.fallbackQueues ?? t.template.fallbackQueues ?? [];
    return { cluster, queue, resources: rest as ResourceInput, resourceScales, fallbackQueues };
  });
  const nodeHashes = tasks.map((t) => t.hashes.node);
  return {
    upstream,
    resolved,
    taskHash: taskSetHash(tasks.map((t) => t.hashes.task)),
    dagHash: dagHash(nodeHashes, upstream),
    argsHash: workflowArgsHash(decl.workflowArgs),
  };
}

function checkClusters(
  decl: WorkflowDecl,
  resolved: ReturnType<typeof prepare>['resolved'],
  clusters: ClustersResponseT['clusters'],
): void {
  resolved.forEach((r, i) => {
    const where = `task '${decl.tasks[i]!.name}'`;
    const cluster = clusters.find((c) => c.name === r.cluster);
    if (!cluster) {
      throw new UnknownClusterError(
        `${where}: unknown cluster '${r.cluster}' (known: ${clusters.map((c) => c.name).join(', ')})`,
        {
          task: decl.tasks[i]!.name,
          cluster: r.cluster,
        },
      );
    }
    const queue = r.queue === undefined ? cluster.queues[0] : cluster.queues.find((q) => q.name === r.queue);
    if (!queue) {
      throw new UnknownQueueError(
        `${where}: cluster '${r.cluster}' has no queue '${r.queue}' (known: ${cluster.queues.map((q) => q.name).join(', ')})`,
        {
          task: decl.tasks[i]!.name,
          queue: r.queue,
        },
      );
    }
    validateAgainstQueue(r.resources, queue.limits as QueueLimits, where, queue.name);
    for (const name of r.fallbackQueues) {
      if (!cluster.queues.some((q) => q.name === name)) {
        throw new UnknownQueueError(
          `${where}: fallback queue '${name}' is not a queue of cluster '${r.cluster}' (known: ${cluster.queues.map((q) => q.name).join(', ')})`,
          { task: decl.tasks[i]!.name, queue: name, cluster: r.cluster },
        );
      }
    }
  });
}

export interface BindOptions {
  /** When another live run holds the workflow, ask it to step aside (cold: kill what runs; hot:
   * let running tasks finish) and wait for it, instead of failing. */
  resume?: 'cold' | 'hot';
  /** How long to wait for the other run to end (default 10 minutes). */
  resumeTimeoutMs?: number;
  onWait?: (message: string) => void;
}

/** The PUT /workflow-runs/{id}/tasks item for one task. */
function taskBody(decl: WorkflowDecl, t: Task, r: Resolved, templateVersionId: number): BindTaskT {
  const maxAttempts = t.maxAttempts ?? t.template.maxAttempts ?? decl.maxAttempts ?? decl.toolDefaults.maxAttempts ?? 3;
  const maxInfraFailures =
    t.maxInfraFailures ?? t.template.maxInfraFailures ?? decl.maxInfraFailures ?? decl.toolDefaults.maxInfraFailures;
  return {
    nodeHash: t.hashes.node,
    taskArgsHash: t.hashes.taskArgs,
    templateVersionId,
    nodeArgs: t.nodeArgs,
    taskArgs: t.taskArgs,
    name: t.name,
    command: t.command,
    maxAttempts,
    ...(maxInfraFailures === undefined ? {} : { maxInfraFailures }),
    cluster: r.cluster,
    ...(r.queue === undefined ? {} : { queue: r.queue }),
    resources: r.resources,
    ...(Object.keys(r.resourceScales).length > 0 ? { resourceScales: r.resourceScales } : {}),
    ...(r.fallbackQueues.length > 0 ? { fallbackQueues: r.fallbackQueues } : {}),
    ...(Object.keys(t.attributes).length > 0 ? { attributes: t.attributes } : {}),
  };
}

export async function bindWorkflow(api: ApiClient, decl: WorkflowDecl, opts: BindOptions = {}): Promise<BoundWorkflow> {
  const p = prepare(decl);
  const { clusters } = await api.listClusters();
  checkClusters(decl, p.resolved, clusters);

  const templates: TaskTemplate[] = [];
  const templateIndexOf = new Map<TaskTemplate, number>();
  for (const t of decl.tasks) {
    if (!templateIndexOf.has(t.template)) {
      const clash = templates.find((x) => x.name === t.template.name);
      if (clash) {
        throw new ValidationError(
          `two different task templates are named '${t.template.name}' in workflow '${decl.name}'`,
          { template: t.template.name },
        );
      }
      templateIndexOf.set(t.template, templates.length);
      templates.push(t.template);
    }
  }
  for (const name of Object.keys(decl.templateConcurrency)) {
    if (!templates.some((t) => t.name === name)) {
      throw new ValidationError(
        `concurrency limit set for task template '${name}', which no task of workflow '${decl.name}' uses`,
        { template: name },
      );
    }
  }
  const toolBody = { name: decl.toolName };
  const templatesBody = (toolVersionId: number) => ({
    toolVersionId,
    templates: templates.map((t) => ({
      name: t.name,
      commandTemplate: t.commandTemplate,
      nodeArgs: [...t.nodeArgs],
      taskArgs: [...t.taskArgs],
      opArgs: [...t.opArgs],
    })),
  });
  const workflowBody = (toolVersionId: number) => ({
    toolVersionId,
    argsHash: p.argsHash,
    taskHash: p.taskHash,
    dagHash: p.dagHash,
    workflowArgs: decl.workflowArgs,
    taskCount: decl.tasks.length,
    name: decl.name,
    description: decl.description,
    attributes: decl.attributes,
    ...(decl.maxConcurrentlyRunning === undefined ? {} : { maxConcurrentlyRunning: decl.maxConcurrentlyRunning }),
    templateConcurrency: decl.templateConcurrency,
  });
  // Every body is checked against the server's schema before the first write: a refusal halfway
  // (a NUL in the 500th task's name) would leave a workflow row whose identity the corrected
  // declaration then conflicts with. Ids the server has not assigned yet are stood in for by 1.
  assertWire(wire.ToolRequest, toolBody, `tool '${decl.toolName}'`);
  assertWire(wire.TemplatesRequest, templatesBody(1), `task templates of workflow '${decl.name}'`);
  assertWire(wire.WorkflowRequest, workflowBody(1), `workflow '${decl.name}'`);
  decl.tasks.forEach((t, i) => assertWire(wire.BindTask, taskBody(decl, t, p.resolved[i]!, 1), `task '${t.name}'`));

  const tool = await api.bindTool({ body: toolBody });
  const { templates: boundTemplates } = await api.bindTemplates({ body: templatesBody(tool.toolVersionId) });
  const versionOf = new Map(boundTemplates.map((b) => [b.name, b.versionId]));
  const wf = await api.bindWorkflow({ body: workflowBody(tool.toolVersionId) });
  const n = decl.tasks.length;
  const bound: BoundWorkflow = {
    workflowId: wf.workflowId,
    status: wf.status,
    runId: null,
    taskIds: new Float64Array(n),
    statuses: new Array<TaskStatus>(n),
    upstream: p.upstream,
    templateIndex: Int32Array.from(decl.tasks, (t) => templateIndexOf.get(t.template)!),
    templates: templates.map((t) => t.name),
    clusters: p.resolved.map((r) => r.cluster),
  };
  if (wf.status === 'DONE') {
    bound.statuses.fill('DONE');
    return bound;
  }
  const run = await createRun(api, wf.workflowId, opts);
  bound.runId = run.runId;
  if (run.runToken !== undefined) bound.runToken = run.runToken;
  try {
    const nodeIds = new Float64Array(n);
    for (let start = 0; start < n; start += TASK_CHUNK) {
      const slice = decl.tasks.slice(start, start + TASK_CHUNK);
      const body: BindTaskT[] = slice.map((t, k) =>
        taskBody(decl, t, p.resolved[start + k]!, versionOf.get(t.template.name)!),
      );
      const res = await api.bindTasks({ id: run.runId, body: { tasks: body } });
      res.tasks.forEach(([nodeId, taskId, status], k) => {
        nodeIds[start + k] = nodeId;
        bound.taskIds[start + k] = taskId;
        bound.statuses[start + k] = status;
        const task = decl.tasks[start + k]!;
        task.id = taskId;
        task.status = status;
      });
    }
    if (!wf.dagBound) {
      let edges: [number, number][] = [];
      const flush = async () => {
        if (edges.length === 0) return;
        await api.bindEdges({ id: run.runId, body: { edges } });
        edges = [];
      };
      for (let d = 0; d < n; d++) {
        for (const u of p.upstream[d]!) {
          edges.push([nodeIds[u]!, nodeIds[d]!]);
          if (edges.length >= EDGE_CHUNK) await flush();
        }
      }
      await flush();
    }
    await api.setRunStatus({ id: run.runId, body: { status: 'BOUND', taskCount: n } });
  } catch (e) {
    await api.setRunStatus({ id: run.runId, body: { status: 'ABORTED' } }).catch(() => undefined);
    throw e;
  }
  return bound;
}

/** The working directory, recorded so that a resume by id runs the commands there again; left
 *  out when the wire could not carry it (over 4096 characters, or control characters). */
function recordableCwd(): { cwd?: string } {
  try {
    const cwd = process.cwd();
    // eslint-disable-next-line no-control-regex
    return cwd.length <= 4096 && !/[\u0000-\u001f\u007f]/.test(cwd) ? { cwd } : {};
  } catch {
    return {};
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? 'unknown';
  }
}

/** Link a new run; with `resume`, first ask a live run that holds the workflow to step aside. A
 * holder whose process is provably gone from this very host is ended at once (as the reaper would
 * end it after its deadline) and the run goes ahead. */
export async function createRun(
  api: ApiClient,
  workflowId: number,
  opts: BindOptions,
): Promise<{ runId: number; runToken?: string }> {
  const me = hostname();
  const start = processStart(process.pid);
  const body = {
    user: safeUser(),
    host: me,
    pid: process.pid,
    jobmonVersion: JOBMON_VERSION,
    ...(start ? { processStart: start } : {}),
    ...recordableCwd(),
  };
  const deadline = Date.now() + (opts.resumeTimeoutMs ?? 600_000);
  let asked: number | undefined;
  const reaped = new Set<number>();
  for (;;) {
    try {
      return await api.createRun({ id: workflowId, body });
    } catch (e) {
      if (!(e instanceof WorkflowNotResumableError)) throw e;
      const {
        runId: holder,
        host,
        pid,
        processStart: heldBy,
      } = e.details as { runId?: unknown; host?: unknown; pid?: unknown; processStart?: unknown };
      if (typeof holder !== 'number') throw e;
      if (
        host === me &&
        typeof pid === 'number' &&
        typeof heldBy === 'string' &&
        !reaped.has(holder) &&
        provablyGone(pid, heldBy)
      ) {
        reaped.add(holder);
        await api.reapRun({ id: holder, body: { host: me, pid, processStart: heldBy } });
        opts.onWait?.(
          `run ${holder} held the workflow, but its process (pid ${pid} on this host) is gone; ended it, taking over`,
        );
        continue;
      }
      if (!opts.resume) throw e;
      if (Date.now() > deadline) {
        throw new WorkflowNotResumableError(
          `${e.message} (gave up waiting for it after ${Math.round((opts.resumeTimeoutMs ?? 600_000) / 1000)} s)`,
          e.details,
        );
      }
      if (asked !== holder) {
        const r = await api
          .resumeWorkflow({ id: workflowId, body: { mode: opts.resume } })
          .catch((err: unknown) => (err instanceof IllegalTransitionError ? null : Promise.reject(err)));
        if (r !== null) {
          asked = holder;
          opts.onWait?.(`asked run ${holder} to step aside (${opts.resume} resume); waiting for it to end`);
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
