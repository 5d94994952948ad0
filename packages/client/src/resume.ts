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
    if ((options.useRecordedCwd ?? true) && dag.cwd !== null && dag.cwd !== cwd) {
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
    const { runId, runToken } = await createRun(conn.api, workflowId, {
      ...(options.mode ? { resume: options.mode } : {}),
      onWait: warn,
    });
    try {
      await conn.api.rebindRun({ id: runId, body: { keepResources: options.keepResources ?? false } });
      await conn.api.setRunStatus({ id: runId, body: { status: 'BOUND', taskCount: dag.tasks.length } });
    } catch (e) {
      await conn.api.setRunStatus({ id: runId, body: { status: 'ABORTED' } }).catch(() => undefined);
      throw e;
    }
    // Statuses as the takeover left them: DONE stays, everything else starts over.
    const statuses = dag.tasks.map((t): TaskStatus => (t.status === 'DONE' ? 'DONE' : 'REGISTERING'));
    const indexOf = new Map(dag.tasks.map((t, i) => [t.id, i]));
    const templates = [...new Set(dag.tasks.map((t) => t.template))];
    const templateIndex = new Map(templates.map((t, i) => [t, i]));
    options.onBound?.({ workflowId, runId, name: dag.name, total: dag.tasks.length, alreadyDone: doneBefore, cwd });
    log.info(
      { workflow: workflowId, run: runId, tasks: dag.tasks.length, alreadyDone: doneBefore, cwd },
      'workflow resumed by id',
    );
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
      signal: ac.signal,
    });
    const finals = outcome.finalStatuses.map((s, i) => s ?? (statuses[i] === 'DONE' ? 'DONE' : null));
    const done = finals.filter((s) => s === 'DONE').length;
    const failed = finals.filter((s) => s === 'ERROR_FATAL').length;
    const detail = await conn.api.getWorkflow({ id: workflowId });
    return {
      ...base,
      runId,
      status: detail.status,
      runStatus: outcome.status,
      alreadyDone: false,
      done,
      failed,
      notRun: dag.tasks.length - done - failed,
      elapsedMs: Date.now() - started,
      logDir: outcome.logDir,
    };
  } finally {
    options.signal?.removeEventListener('abort', onSignal);
    if (handle) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (ownConnection) await conn.close();
  }
}
