// Runs one workflow run to its end: moves the run BOUND → … → RUNNING, starts one distributor per
// cluster the DAG uses, heartbeats the run, feeds outcomes to the swarm (from the reporter for
// in-process distributors, from the event log for worker-based ones), and ends the run DONE,
// ERROR or STOPPED. Ctrl-C (an aborted signal) stops cleanly: nothing new starts, running
// commands are killed, the run ends STOPPED and can be resumed.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Requester,
  type EventT,
  type TaskStatus,
  type TransitionResultT,
  type WorkflowRunStatus,
  type InstanceTransitionT,
} from '@jobmon/core';
import type { Distributor, DistributorFactory, DistributorHost, LaunchItem } from './distributors/contract.js';
import { createLocalDistributor, createSequentialDistributor } from './distributors/local.js';
import { createDummyDistributor } from './distributors/dummy.js';
import { Reporter } from './reporter.js';
import { Swarm, type SwarmProgress, type SwarmTasks } from './swarm/swarm.js';

export const DISTRIBUTORS: Record<string, DistributorFactory> = {
  local: createLocalDistributor,
  sequential: createSequentialDistributor,
  dummy: createDummyDistributor,
};

/** Register a distributor for a cluster type (used by `dummy`, and later `slurm`). */
export function registerDistributor(cluster: string, factory: DistributorFactory): void {
  DISTRIBUTORS[cluster] = factory;
}

export interface RunOptions {
  serverUrl: string;
  requester?: Requester;
  workflowId: number;
  runId: number;
  tasks: SwarmTasks;
  clusterOf: (index: number) => string;
  templateLimits: number[];
  maxConcurrentlyRunning: number;
  /** Root for logs; this run's files go to <logDir>/workflow-<id>/. */
  logDir: string;
  heartbeatMs: number;
  /** Heartbeat period of workers (worker-based distributors); default 90 s. */
  instanceHeartbeatMs?: number;
  reportByFactor: number;
  /** `local` parallelism (default: number of cores). */
  parallelism?: number;
  onProgress?: (p: SwarmProgress) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

export interface RunOutcome {
  status: WorkflowRunStatus;
  progress: SwarmProgress;
  elapsedMs: number;
  logDir: string;
  /** Final task status by index (null: did not finish in this run). */
  finalStatuses: (TaskStatus | null)[];
}

const TERMINAL_TASK: readonly TaskStatus[] = ['DONE', 'REGISTERING', 'ADJUSTING_RESOURCES', 'ERROR_FATAL'];

export async function runWorkflowRun(opts: RunOptions): Promise<RunOutcome> {
  const started = Date.now();
  const requester = opts.requester ?? new Requester(opts.serverUrl);
  const logDir = join(opts.logDir, `workflow-${opts.workflowId}`);
  mkdirSync(logDir, { recursive: true });
  const nextReportMs = Math.round(opts.heartbeatMs * opts.reportByFactor);
  const instanceHeartbeatMs = opts.instanceHeartbeatMs ?? 90_000;
  const instanceReportByMs = Math.round(instanceHeartbeatMs * opts.reportByFactor);
  let runStatus = 'BOUND' as WorkflowRunStatus;
  const move = async (to: WorkflowRunStatus) => {
    const r = await requester.put<{ status: WorkflowRunStatus }>(`/workflow-runs/${opts.runId}/status`, { status: to, nextReportMs });
    runStatus = r.status;
  };

  let swarm: Swarm | undefined = undefined; // set once distributors are up; callbacks may fire before
  let fatal: unknown;
  const reporter = new Reporter(
    requester,
    (r: TransitionResultT, item: InstanceTransitionT) => {
      if (r.outcome === 'rejected') opts.onWarning?.(r.message ?? `instance ${r.id}: ${item.to} rejected`);
      if (isEnd(item.to)) {
        // Our process is over, whatever the server made of the report. A task that is not in a
        // state this attempt can leave it in belongs to another run now (a resume took it over):
        // for this run it is lost, not retried.
        swarm?.instanceEnded(r.id, TERMINAL_TASK.includes(r.taskStatus) ? r.taskStatus : 'ERROR_FATAL');
      }
    },
    (e) => {
      fatal = e;
      swarm?.fail(e);
    },
  );
  const host = (cluster: string): DistributorHost => ({
    serverUrl: opts.serverUrl,
    requester,
    workflowId: opts.workflowId,
    runId: opts.runId,
    logDir,
    instanceReportByMs,
    report: (item) => reporter.report(item),
    capacityChanged: () => swarm?.pump(),
    childEnv: (item: LaunchItem) => ({
      JOBMON_URL: opts.serverUrl,
      JOBMON_LOG_DIR: logDir,
      JOBMON_CLUSTER: cluster,
      JOBMON_TASK_INSTANCE_ID: String(item.instanceId),
      JOBMON_TASK_ID: String(item.taskId),
      JOBMON_WORKFLOW_ID: String(opts.workflowId),
      JOBMON_WORKFLOW_RUN_ID: String(opts.runId),
      JOBMON_INSTANCE_HEARTBEAT_MS: String(instanceHeartbeatMs),
      JOBMON_REPORT_BY_FACTOR: String(opts.reportByFactor),
    }),
  });

  const distributors = new Map<string, Distributor>();
  const clusters = new Set<string>();
  for (let i = 0; i < opts.tasks.ids.length; i++) if (opts.tasks.statuses[i] !== 'DONE') clusters.add(opts.clusterOf(i));

  await move('INSTANTIATED');
  try {
    for (const name of clusters) {
      const factory = DISTRIBUTORS[name];
      if (!factory) throw new Error(`no distributor is available for cluster '${name}' (known: ${Object.keys(DISTRIBUTORS).join(', ')})`);
      distributors.set(name, factory({ host: host(name), ...(opts.parallelism ? { parallelism: opts.parallelism } : {}) }));
    }
    await move('LAUNCHED');
    await move('RUNNING');
  } catch (e) {
    if (runStatus === 'INSTANTIATED' || runStatus === 'LAUNCHED') await move('ERROR').catch(() => undefined);
    throw e;
  }

  swarm = new Swarm({
    requester,
    runId: opts.runId,
    tasks: opts.tasks,
    templateLimits: opts.templateLimits,
    maxConcurrentlyRunning: opts.maxConcurrentlyRunning,
    distributors,
    clusterOf: opts.clusterOf,
    ...(opts.onProgress ? { onProgress: throttle(opts.onProgress, 200) } : {}),
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  });
  const s = swarm;

  // Worker-based distributors report to the server; learn their outcomes from the event log.
  const followAbort = new AbortController();
  let follower: Promise<void> | undefined;
  if ([...distributors.values()].some((d) => d.reportsViaServer)) {
    const { last } = await requester.get<{ last: number }>(`/events/latest`);
    follower = follow(requester, opts.workflowId, last, followAbort.signal, (e) => {
      const instanceId = e.context?.['instanceId'];
      if (e.entity === 'task' && typeof instanceId === 'number' && TERMINAL_TASK.includes(e.to as TaskStatus)) {
        s.instanceEnded(instanceId, e.to as TaskStatus);
      } else if (e.entity === 'task_instance' && e.to === 'TRIAGING') {
        // The server lost its heartbeat: ask the distributor that runs it whether it lives.
        const cluster = s.clusterOfInstance(e.entityId);
        const d = cluster === undefined ? undefined : distributors.get(cluster);
        d?.triage?.([e.entityId]).catch((err: unknown) => opts.onWarning?.(`triage of instance ${e.entityId}: ${(err as Error).message}`));
      }
    }).catch((err: unknown) => s.fail(err));
  }

  let stopRequested = false;
  /** Stop now: launch nothing new and kill what runs (its instances end ERROR_FATAL, class killed). */
  const killAll = () => {
    s.drain();
    const byCluster = [...distributors.values()];
    const active = s.activeInstanceIds();
    void Promise.all(byCluster.map((d) => d.terminate(active))).catch((e: unknown) => opts.onWarning?.(`stopping: ${(e as Error).message}`));
  };
  const onAbort = () => {
    stopRequested = true;
    killAll();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  let serverSaid: WorkflowRunStatus | undefined;
  const beat = setInterval(() => {
    requester
      .post<{ status: WorkflowRunStatus }>(`/workflow-runs/${opts.runId}/heartbeat`, { status: 'RUNNING', nextReportMs })
      .then((r) => {
        if (r.status !== 'RUNNING' && serverSaid === undefined) {
          serverSaid = r.status;
          opts.onWarning?.(`the server moved this run to ${r.status}; stopping`);
          if (r.status === 'HOT_RESUME') s.drain();
          else killAll();
        }
      })
      .catch((e: unknown) => opts.onWarning?.(`heartbeat failed: ${(e as Error).message}`));
  }, opts.heartbeatMs);
  beat.unref();

  swarm.start();
  try {
    await swarm.finishedPromise;
  } catch (e) {
    fatal ??= e;
  } finally {
    clearInterval(beat);
    opts.signal?.removeEventListener('abort', onAbort);
  }

  // Whatever is still queued or running is cancelled: a stop, a resume elsewhere, or a failure.
  const held = swarm.takeHeld();
  for (const id of held) void reporter.report({ id, to: 'ERROR_FATAL', errorMessage: 'cancelled before launch: the run stopped' }).catch(() => undefined);
  // After a drain (hot resume) nothing is running any more; stop() then only releases launchers.
  await Promise.all([...distributors.values()].map((d) => d.stop()));
  await reporter.idle().catch(() => undefined);
  followAbort.abort();
  await follower;

  if (fatal !== undefined) {
    if (runStatus === 'RUNNING') await move('ERROR').catch(() => undefined);
    throw fatal;
  }
  const final: WorkflowRunStatus =
    serverSaid !== undefined ? 'TERMINATED' : stopRequested ? 'STOPPED' : swarm.allDone ? 'DONE' : 'ERROR';
  if (serverSaid === undefined) await move(final);
  else await move('TERMINATED').catch(() => undefined);
  return { status: final, progress: swarm.progress(), elapsedMs: Date.now() - started, logDir, finalStatuses: swarm.finalStatuses() };
}

function isEnd(to: string): boolean {
  return to === 'DONE' || to === 'ERROR' || to === 'RESOURCE_ERROR' || to === 'UNKNOWN_ERROR' || to === 'NO_DISTRIBUTOR_ID' || to === 'NO_HEARTBEAT' || to === 'ERROR_FATAL';
}

async function follow(requester: Requester, workflowId: number, after: number, signal: AbortSignal, onEvent: (e: EventT) => void): Promise<void> {
  let seq = after;
  while (!signal.aborted) {
    const r = await requester.request<{ events: EventT[]; last: number }>(
      'GET',
      `/events?after=${seq}&workflowId=${workflowId}&waitMs=2000&limit=5000`,
      undefined,
      30_000,
      signal,
    ).catch((e: unknown) => {
      if (signal.aborted) return { events: [], last: seq };
      throw e;
    });
    for (const e of r.events) onEvent(e);
    seq = r.last;
  }
}

function throttle<T>(fn: (v: T) => void, ms: number): (v: T) => void {
  let last = 0;
  let pending: T | undefined;
  let timer: NodeJS.Timeout | undefined;
  return (v: T) => {
    const now = Date.now();
    if (now - last >= ms) {
      last = now;
      fn(v);
      return;
    }
    pending = v;
    if (!timer) {
      timer = setTimeout(() => {
        timer = undefined;
        last = Date.now();
        if (pending !== undefined) fn(pending);
      }, ms - (now - last));
      timer.unref();
    }
  };
}
