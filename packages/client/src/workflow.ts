// A workflow: tasks, their dependencies and how to run them. run() binds it (resuming it if the
// same workflow exists), runs it to the end and returns the final status with per-task results
// and errors. Ctrl-C during run() stops cleanly and says how to resume.

import {
  ValidationError,
  type ArgValues,
  type ResourceInput,
  type TaskErrorT,
  type TaskStatus,
  type WorkflowRunStatus,
  type WorkflowStatus,
} from '@jobmon/core';
import { runWorkflowRun, type SwarmProgress } from '@jobmon/runner';
import { randomUUID } from 'node:crypto';
import { bindWorkflow, type BindOptions, type BoundWorkflow, type WorkflowDecl } from './bind.js';
import { connect, runnerLog, runnerSettings, type Connection } from './connection.js';
import type { Task } from './task.js';
import type { Tool } from './tool.js';

export interface WorkflowSpec {
  /** Identity (with the tool). Default: {name} when a name is given, else a random id (not resumable). */
  workflowArgs?: Record<string, string | number | boolean>;
  name?: string;
  description?: string;
  attributes?: Record<string, string | number | boolean>;
  maxConcurrentlyRunning?: number;
  defaultCluster?: string;
  defaultResources?: Record<string, ResourceInput>;
  maxAttempts?: number;
  /** Infrastructure errors retried without consuming attempts (default 5). */
  maxInfraFailures?: number;
}

export interface RunOptions {
  connection?: Connection;
  /** `local` distributor parallelism (default: number of cores). */
  parallelism?: number;
  onProgress?: (p: SwarmProgress) => void;
  onWarning?: (message: string) => void;
  onBound?: (info: {
    workflowId: number;
    runId: number | null;
    resumed: boolean;
    total: number;
    alreadyDone: number;
  }) => void;
  /**
   * When another process's run holds this workflow: ask it to step aside and take over — `cold`
   * kills its running tasks, `hot` lets them finish first. Without it such a run is refused.
   */
  resume?: 'cold' | 'hot';
  /** Abort to stop the run (as Ctrl-C does). */
  signal?: AbortSignal;
  /** Handle SIGINT/SIGTERM by stopping the run cleanly (default true). */
  handleSignals?: boolean;
}

export interface RunResult {
  workflowId: number;
  runId: number | null;
  /** The workflow's status at the end: DONE, FAILED or HALTED. */
  status: WorkflowStatus;
  runStatus: WorkflowRunStatus | null;
  /** The workflow was DONE before this call; nothing ran. */
  alreadyDone: boolean;
  /** True when this call picked up an existing workflow. */
  resumed: boolean;
  total: number;
  done: number;
  failed: number;
  /** Not finished: waiting for upstream tasks, never started, or stopped (they run on resume). */
  notRun: number;
  /** Of notRun: tasks that were running when a stop (Ctrl-C, a stop or resume from elsewhere) killed them. */
  stopped: number;
  elapsedMs: number;
  /** Time spent binding (validation, hashing, upload), part of elapsedMs. */
  bindMs: number;
  /** Tasks that ended ERROR_FATAL, each with its error class, message and stderr tail. */
  errors: TaskErrorT[];
  /** Where the state lives (a database file or a server URL). */
  stateLocation: string;
  logDir: string | null;
  /** Jobmon's own log of this run (warnings, errors, start and end): JSON lines, bounded. */
  systemLog: string;
  /** Per-task final status, by task name. */
  tasks: { name: string; id: number; status: TaskStatus | 'NOT_RUN' }[];
}

export class Workflow {
  readonly tasks: Task[] = [];
  readonly workflowArgs: ArgValues;
  readonly name: string;
  private readonly templateLimits: Record<string, number> = {};
  private readonly taskSet = new Set<Task>();
  readonly id: { value: number | undefined } = { value: undefined };
  private bindMs = 0;

  constructor(
    readonly tool: Tool,
    readonly spec: WorkflowSpec = {},
  ) {
    this.name = spec.name ?? '';
    this.workflowArgs = spec.workflowArgs ?? (spec.name ? { name: spec.name } : { anonymous: randomUUID() });
    if (
      spec.maxConcurrentlyRunning !== undefined &&
      (!Number.isInteger(spec.maxConcurrentlyRunning) || spec.maxConcurrentlyRunning < 0)
    ) {
      throw new ValidationError(`workflow '${this.name}': maxConcurrentlyRunning must be a whole number ≥ 0`, {
        field: 'maxConcurrentlyRunning',
      });
    }
  }

  addTask(task: Task): Task {
    if (this.taskSet.has(task))
      throw new ValidationError(`task '${task.name}' is already in workflow '${this.name}'`, { task: task.name });
    this.taskSet.add(task);
    this.tasks.push(task);
    return task;
  }

  addTasks(tasks: Iterable<Task>): void {
    for (const t of tasks) this.addTask(t);
  }

  /** At most `limit` tasks of this template run at once. */
  setTemplateConcurrency(templateName: string, limit: number): void {
    if (!Number.isInteger(limit) || limit < 0)
      throw new ValidationError(`concurrency limit for '${templateName}' must be a whole number ≥ 0`, {
        template: templateName,
      });
    this.templateLimits[templateName] = limit;
  }

  private decl(): WorkflowDecl {
    return {
      toolName: this.tool.name,
      toolDefaults: this.tool.defaults,
      workflowArgs: this.workflowArgs,
      name: this.name,
      description: this.spec.description ?? '',
      attributes: Object.fromEntries(Object.entries(this.spec.attributes ?? {}).map(([k, v]) => [k, String(v)])),
      maxConcurrentlyRunning: this.spec.maxConcurrentlyRunning,
      templateConcurrency: this.templateLimits,
      defaultCluster: this.spec.defaultCluster,
      defaultResources: this.spec.defaultResources ?? {},
      maxAttempts: this.spec.maxAttempts,
      maxInfraFailures: this.spec.maxInfraFailures,
      tasks: this.tasks,
    };
  }

  /** Validate and hash the declaration now (bind does it otherwise); errors are the same. */
  prepare(): void {
    for (const t of this.tasks) void t.hashes;
  }

  /** Bind to a server without running (a run is created and left BOUND). */
  async bind(connection: Connection, options: BindOptions = {}): Promise<BoundWorkflow> {
    const bound = await bindWorkflow(connection.api, this.decl(), options);
    this.id.value = bound.workflowId;
    return bound;
  }

  async run(options: RunOptions = {}): Promise<RunResult> {
    const conn = options.connection ?? (await connect());
    const ownConnection = options.connection === undefined;
    const log = runnerLog(conn.systemLog);
    // Every warning goes to the system log as well as to the caller.
    const warn = (m: string) => {
      log.warn({ workflow: this.id.value }, m);
      options.onWarning?.(m);
    };
    const ac = new AbortController();
    const onSignal = () => ac.abort();
    options.signal?.addEventListener('abort', onSignal, { once: true });
    const handle = options.handleSignals ?? true;
    if (handle) {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    try {
      const started = Date.now();
      const bound = await this.bind(conn, {
        ...(options.resume ? { resume: options.resume } : {}),
        onWait: warn,
      });
      this.bindMs = Date.now() - started;
      const resumed = bound.statuses.some((s) => s !== 'REGISTERING') || bound.status !== 'REGISTERING';
      const alreadyDoneCount = bound.statuses.filter((s) => s === 'DONE').length;
      options.onBound?.({
        workflowId: bound.workflowId,
        runId: bound.runId,
        resumed,
        total: this.tasks.length,
        alreadyDone: alreadyDoneCount,
      });
      log.info(
        {
          workflow: bound.workflowId,
          run: bound.runId,
          workflowName: this.name,
          tasks: this.tasks.length,
          alreadyDone: alreadyDoneCount,
          state: conn.stateLocation,
        },
        'workflow bound',
      );
      if (bound.runId === null) {
        return await this.result(conn, bound, null, 'DONE', true, resumed, started, null, null, 0);
      }
      const limits = bound.templates.map((t) => this.templateLimits[t] ?? Infinity);
      const outcome = await runWorkflowRun({
        serverUrl: conn.url,
        requester: conn.requester,
        ...(bound.runToken === undefined ? {} : { token: bound.runToken }),
        workflowId: bound.workflowId,
        runId: bound.runId,
        tasks: {
          ids: bound.taskIds,
          statuses: bound.statuses,
          templates: bound.templateIndex,
          upstream: bound.upstream,
        },
        clusterOf: (i) => bound.clusters[i]!,
        templateLimits: limits,
        templateNames: bound.templates,
        maxConcurrentlyRunning: this.spec.maxConcurrentlyRunning ?? Infinity,
        ...runnerSettings(conn),
        ...(options.parallelism ? { parallelism: options.parallelism } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        onWarning: warn,
        signal: ac.signal,
      });
      outcome.finalStatuses.forEach((s, i) => {
        if (s !== null) this.tasks[i]!.status = s;
      });
      const detail = await conn.api.getWorkflow({ id: bound.workflowId });
      const r = await this.result(
        conn,
        bound,
        outcome.status,
        detail.status,
        false,
        resumed,
        started,
        outcome.logDir,
        outcome.finalStatuses,
        outcome.progress.stopped,
      );
      log.info(
        {
          workflow: r.workflowId,
          run: r.runId,
          status: r.status,
          runStatus: r.runStatus,
          done: r.done,
          failed: r.failed,
          notFinished: r.notRun,
          stopped: r.stopped,
          ms: r.elapsedMs,
        },
        'run ended',
      );
      return r;
    } catch (e) {
      log.error({ workflow: this.id.value, err: e }, 'run failed');
      throw e;
    } finally {
      options.signal?.removeEventListener('abort', onSignal);
      if (handle) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      if (ownConnection) await conn.close();
    }
  }

  private async result(
    conn: Connection,
    bound: BoundWorkflow,
    runStatus: WorkflowRunStatus | null,
    status: WorkflowStatus,
    alreadyDone: boolean,
    resumed: boolean,
    started: number,
    logDir: string | null,
    finals: (TaskStatus | null)[] | null,
    stopped: number,
  ): Promise<RunResult> {
    const errors = alreadyDone
      ? []
      : (await conn.api.getWorkflowErrors({ id: bound.workflowId, query: { limit: 1000 } })).errors;
    const tasks = this.tasks.map((t, i) => ({
      name: t.name,
      id: bound.taskIds[i] ?? 0,
      status: (finals?.[i] ?? (bound.statuses[i] === 'DONE' ? 'DONE' : 'NOT_RUN')) as TaskStatus | 'NOT_RUN',
    }));
    const done = tasks.filter((t) => t.status === 'DONE').length;
    const failed = tasks.filter((t) => t.status === 'ERROR_FATAL').length;
    return {
      workflowId: bound.workflowId,
      runId: bound.runId,
      status,
      runStatus,
      alreadyDone,
      resumed,
      total: tasks.length,
      done,
      failed,
      notRun: tasks.length - done - failed,
      stopped,
      elapsedMs: Date.now() - started,
      bindMs: this.bindMs,
      errors,
      stateLocation: conn.stateLocation,
      logDir,
      systemLog: conn.systemLog,
      tasks,
    };
  }
}
