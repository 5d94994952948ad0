// Resume a workflow by its id alone (`jobmon workflow resume <id>`): no file, no script. The DAG,
// each task's status, template and cluster, and the limits come from GET /workflows/:id/dag; the
// commands and resources stay in the database, where the server hands them out as tasks are
// queued. A new run takes the workflow over (POST /workflow-runs/:id/rebind resets every unfinished
// task to REGISTERING with fresh attempts) and runs in the working directory the last run recorded.

import { existsSync } from 'node:fs';
import {
  NotFoundError,
  type DagTaskT,
  type TaskStatus,
  type WorkflowRunStatus,
  type WorkflowStatus,
  type WorkflowDagT,
} from '@jobmon/core';
import { runWorkflowRun, type SwarmProgress } from '@jobmon/runner';
import { createRun } from './bind.js';
import { connect, runnerLog, runnerSettings, type Connection } from './connection.js';

export interface ResumeByIdOptions {
  connection?: Connection;
  /** A live run that holds the workflow is asked to step aside: `cold` kills its running tasks,
   *  `hot` lets them finish first. Without it such a run is refused. */
  mode?: 'cold' | 'hot';
  /** Keep each unfinished task's resources as its last attempt left them (scaled after failures);
   *  by default they go back to what its first attempt asked. */
  keepResources?: boolean;
  /** Run in the working directory the workflow's last run recorded (default true); when it is
   *  gone the resume fails naming it. False: run here. */
  useRecordedCwd?: boolean;
  parallelism?: number;
  onBound?: (info: {
    workflowId: number;
    runId: number;
    name: string;
    total: number;
    alreadyDone: number;
    cwd: string;
  }) => void;
  onProgress?: (p: SwarmProgress) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** Handle SIGINT/SIGTERM by stopping the run cleanly (default true). */
  handleSignals?: boolean;
  /** Drive this run, which another client (Python's, R's) has bound already, instead of taking
   *  the workflow over with a new one; it runs in this directory unless useRecordedCwd is set. */
  boundRun?: { runId: number; runToken?: string };
}

export interface ResumeByIdResult {
  workflowId: number;
  name: string;
  runId: number | null;
  /** The workflow's status at the end. */
  status: WorkflowStatus;
  runStatus: WorkflowRunStatus | null;
  /** The workflow was DONE already: nothing ran. */
  alreadyDone: boolean;
  total: number;
  /** DONE before this resume. */
  doneBefore: number;
  done: number;
  failed: number;
  notRun: number;
  elapsedMs: number;
  cwd: string;
  logDir: string | null;
  stateLocation: string;
  systemLog: string;
}

/** Every task of the workflow, page by page (the route answers at most 10,000 a page). */
async function readDag(conn: Connection, workflowId: number) {
  const first = await conn.api.getWorkflowDag({ id: workflowId, query: { after: 0 } });
  const tasks: DagTaskT[] = [...first.tasks];
  for (let next = first.nextAfter; next !== undefined;) {
    const page = await conn.api.getWorkflowDag({ id: workflowId, query: { after: next } });
    tasks.push(...page.tasks);
    next = page.nextAfter;
  }
  return { ...first, tasks };
}

export async function resumeWorkflowById(
  workflowId: number,
  options: ResumeByIdOptions = {},
): Promise<ResumeByIdResult> {
  const conn = options.connection ?? (await connect());
  const ownConnection = options.connection === undefined;
  const log = runnerLog(conn.systemLog);
  const warn = (m: string) => {
    log.warn({ workflow: workflowId }, m);
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
  const started = Date.now();
  try {
    const dag = await readDag(conn, workflowId);
    let cwd = process.cwd();
    if ((options.useRecordedCwd ?? options.boundRun === undefined) && dag.cwd !== null && dag.cwd !== cwd) {
      if (!existsSync(dag.cwd))
        throw new NotFoundError(
          `workflow ${workflowId} '${dag.name}' ran in ${dag.cwd}, which does not exist here; ` +
            `resume it where that directory exists, or from the directory to use instead with --here`,
          { workflowId, cwd: dag.cwd },
        );
      process.chdir(dag.cwd);
      cwd = dag.cwd;
    }
    const doneBefore = dag.tasks.filter((t) => t.status === 'DONE').length;
    const base = {
      workflowId,
      name: dag.name,
      total: dag.tasks.length,
      doneBefore,
      cwd,
      stateLocation: conn.stateLocation,
      systemLog: conn.systemLog,
    };
    if (dag.status === 'DONE') {
      return {
        ...base,
        runId: null,
        status: 'DONE',
        runStatus: null,
        alreadyDone: true,
        done: doneBefore,
        failed: 0,
        notRun: dag.tasks.length - doneBefore,
        elapsedMs: Date.now() - started,
        logDir: null,
      };
    }
    const { runId, runToken } = options.boundRun ?? (await takeOver(conn, workflowId, dag.tasks.length, options, warn));
    options.onBound?.({ workflowId, runId, name: dag.name, total: dag.tasks.length, alreadyDone: doneBefore, cwd });
    log.info(
      { workflow: workflowId, run: runId, tasks: dag.tasks.length, alreadyDone: doneBefore, cwd },
      options.boundRun ? 'bound run driven by id' : 'workflow resumed by id',
    );
    const driven = await driveBoundRun(conn, dag, runId, runToken, options, warn, ac.signal);
    return { ...base, ...driven, elapsedMs: Date.now() - started };
  } finally {
    options.signal?.removeEventListener('abort', onSignal);
    if (handle) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (ownConnection) await conn.close();
  }
}

/** A new run that takes the workflow over: every unfinished task back to REGISTERING, then BOUND. */
async function takeOver(
  conn: Connection,
  workflowId: number,
  taskCount: number,
  options: ResumeByIdOptions,
  warn: (m: string) => void,
): Promise<{ runId: number; runToken?: string }> {
  const run = await createRun(conn.api, workflowId, {
    ...(options.mode ? { resume: options.mode } : {}),
    onWait: warn,
  });
  try {
    await conn.api.rebindRun({ id: run.runId, body: { keepResources: options.keepResources ?? false } });
    await conn.api.setRunStatus({ id: run.runId, body: { status: 'BOUND', taskCount } });
  } catch (e) {
    await conn.api.setRunStatus({ id: run.runId, body: { status: 'ABORTED' } }).catch(() => undefined);
    throw e;
  }
  return run;
}

/**
 * Drive a BOUND run to its end from the database's view of the DAG: DONE tasks stay done, every
 * other task runs (binding and takeover have reset them to REGISTERING). Shared by resume by id and
 * by `jobmon workflow resume <id> --run <runId>`, which runs what a Python or R client bound.
 */
async function driveBoundRun(
  conn: Connection,
  dag: WorkflowDagT,
  runId: number,
  runToken: string | undefined,
  options: ResumeByIdOptions,
  warn: (m: string) => void,
  signal: AbortSignal,
): Promise<
  Pick<ResumeByIdResult, 'runId' | 'status' | 'runStatus' | 'alreadyDone' | 'done' | 'failed' | 'notRun' | 'logDir'>
> {
  const workflowId = dag.workflowId;
  const statuses = dag.tasks.map((t): TaskStatus => (t.status === 'DONE' ? 'DONE' : 'REGISTERING'));
  const indexOf = new Map(dag.tasks.map((t, i) => [t.id, i]));
  const templates = [...new Set(dag.tasks.map((t) => t.template))];
  const templateIndex = new Map(templates.map((t, i) => [t, i]));
  const outcome = await runWorkflowRun({
    serverUrl: conn.url,
    requester: conn.requester,
    ...(runToken === undefined ? {} : { token: runToken }),
    workflowId,
    runId,
    tasks: {
      ids: dag.tasks.map((t) => t.id),
      statuses,
      templates: dag.tasks.map((t) => templateIndex.get(t.template)!),
      upstream: dag.tasks.map((t) =>
        t.upstream.map((u) => {
          const i = indexOf.get(u);
          if (i === undefined)
            throw new Error(`task ${t.id} waits for task ${u}, which is not in workflow ${workflowId}`);
          return i;
        }),
      ),
    },
    clusterOf: (i) => dag.tasks[i]!.cluster,
    templateLimits: templates.map((t) => dag.templateConcurrency[t] ?? Infinity),
    templateNames: templates,
    maxConcurrentlyRunning: dag.maxConcurrentlyRunning,
    ...runnerSettings(conn),
    ...(options.parallelism ? { parallelism: options.parallelism } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    onWarning: warn,
    signal,
  });
  const finals = outcome.finalStatuses.map((s, i) => s ?? (statuses[i] === 'DONE' ? 'DONE' : null));
  const done = finals.filter((s) => s === 'DONE').length;
  const failed = finals.filter((s) => s === 'ERROR_FATAL').length;
  const detail = await conn.api.getWorkflow({ id: workflowId });
  return {
    runId,
    status: detail.status,
    runStatus: outcome.status,
    alreadyDone: false,
    done,
    failed,
    notRun: dag.tasks.length - done - failed,
    logDir: outcome.logDir,
  };
}
