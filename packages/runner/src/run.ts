// Runs one workflow run to its end: moves the run BOUND → … → RUNNING, starts one distributor per
// cluster the DAG uses (chosen by the cluster's type, given its options and queues), heartbeats
// the run, follows the run's events (a stop or a resume elsewhere is heard at once; worker-based
// distributors' outcomes arrive there too), feeds outcomes to the swarm, and ends the run DONE,
// ERROR, STOPPED or TERMINATED. Ctrl-C (an aborted signal) stops cleanly: nothing new starts,
// running commands are killed, the run ends STOPPED (the workflow HALTED) and can be resumed.
//
// Server outages: every request rides them out for `outageToleranceMs`. Meanwhile commands already
// running go on, nothing new is launched, and their outcomes wait in the reporter; when the server
// answers again they are sent and the run goes on. If the outage outlasts the tolerance, the run
// gives up: it kills its commands and fails with a message saying how to resume.

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import {
  IllegalTransitionError,
  Requester,
  createApiClient,
  type ApiClient,
  ServerUnreachableError,
  TASK_ATTEMPT_OVER_STATES,
  UnknownClusterError,
  isInstanceEnd,
  workflowRunMachine,
  type EventT,
  type InstanceTransitionT,
  type TaskStatus,
  type TransitionResultT,
  type WorkflowRunStatus,
} from '@jobmon/core';
import type {
  ClusterConfig,
  Distributor,
  DistributorFactory,
  DistributorHost,
  LaunchItem,
} from './distributors/contract.js';
import { createLocalDistributor, createSequentialDistributor } from './distributors/local.js';
import { createDummyDistributor } from './distributors/dummy.js';
import { createSlurmDistributor } from './distributors/slurm/index.js';
import { Reporter, isOutage } from './reporter.js';
import { Swarm, type SwarmProgress, type SwarmTasks } from './swarm/swarm.js';

/** Distributor factories by cluster TYPE; a cluster's name is the user's, its type picks one of these. */
export const DISTRIBUTORS: Record<string, DistributorFactory> = {
  local: createLocalDistributor,
  sequential: createSequentialDistributor,
  dummy: createDummyDistributor,
  slurm: createSlurmDistributor,
};

/** Register the distributor for a cluster type (`slurm`, or a test's own). */
export function registerDistributor(type: string, factory: DistributorFactory): void {
  DISTRIBUTORS[type] = factory;
}

/** The server's definition of each cluster the run uses; a name it does not know, or a type no
 *  distributor is registered for, fails the run before anything starts, naming cluster and type. */
async function clusterConfigs(api: ApiClient, names: Set<string>): Promise<Map<string, ClusterConfig>> {
  const out = new Map<string, ClusterConfig>();
  if (names.size === 0) return out;
  const { clusters } = await api.listClusters();
  for (const name of names) {
    const c = clusters.find((k) => k.name === name);
    if (!c)
      throw new UnknownClusterError(
        `cluster '${name}' is not known to the server (known: ${clusters.map((k) => k.name).join(', ')})`,
        { cluster: name },
      );
    if (!DISTRIBUTORS[c.type]) {
      throw new UnknownClusterError(
        `cluster '${name}' is of type '${c.type}', and no distributor for type '${c.type}' is available in this runner ` +
          `(available: ${Object.keys(DISTRIBUTORS).join(', ')}; registerDistributor('${c.type}', factory) adds one)`,
        { cluster: name, type: c.type },
      );
    }
    out.set(name, {
      name: c.name,
      type: c.type,
      options: c.options,
      queues: c.queues.map((q) => ({ name: q.name, limits: q.limits })),
    });
  }
  return out;
}

/** Default: how long the runner rides out a server that does not answer before it gives up. */
export const DEFAULT_OUTAGE_TOLERANCE_MS = 30 * 60_000;

export interface RunOptions {
  serverUrl: string;
  requester?: Requester;
  /** The run's token (a server with authentication): the runner's requests and its workers' carry it. */
  token?: string;
  workflowId: number;
  runId: number;
  tasks: SwarmTasks;
  clusterOf: (index: number) => string;
  templateLimits: number[];
  /** Template names by index (as templateLimits): limits changed while the run goes on
   *  (`jobmon workflow concurrency`) arrive by name in the heartbeat's answer. */
  templateNames?: readonly string[];
  maxConcurrentlyRunning: number;
  /** Root for logs; this run's files go to <logDir>/<database id>/workflow-<id>/. */
  logDir: string;
  heartbeatMs: number;
  /** Heartbeat period of workers (worker-based distributors); default 90 s. */
  instanceHeartbeatMs?: number;
  reportByFactor: number;
  /** How long to ride out a server that does not answer (default 30 min). */
  outageToleranceMs?: number;
  /** Most bytes kept of each instance's stdout and stderr (default 1 GiB). */
  logCapBytes?: number;
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

export async function runWorkflowRun(opts: RunOptions): Promise<RunOutcome> {
  const started = Date.now();
  const toleranceMs = opts.outageToleranceMs ?? DEFAULT_OUTAGE_TOLERANCE_MS;
  let swarm: Swarm | undefined = undefined; // set once distributors are up; callbacks may fire before
  let downSince: number | undefined;
  const giveUp = new AbortController();
  const given = opts.requester ?? new Requester(opts.serverUrl);
  const base = opts.token === undefined ? given : given.with({ token: opts.token });
  const requester = base.with({
    retries: Infinity,
    retryForMs: toleranceMs,
    signal: giveUp.signal,
    onReachable: (up, error) => {
      swarm?.setOnline(up);
      if (!up) {
        downSince = Date.now();
        const why =
          error instanceof Error
            ? ((error.cause as Error | undefined)?.message ?? error.message)
            : 'it answers 502/503/504';
        opts.onWarning?.(
          `the Jobmon server at ${base.baseUrl} does not answer (${why}); running tasks go on, nothing new starts, ` +
            `outcomes are kept until it is back (giving up after ${Math.round(toleranceMs / 60_000)} min)`,
        );
      } else if (downSince !== undefined) {
        opts.onWarning?.(
          `the Jobmon server is back after ${((Date.now() - downSince) / 1000).toFixed(0)} s; sending ${reporter.backlog} kept report(s)`,
        );
        downSince = undefined;
      }
    },
  });
  const api = createApiClient(requester);
  const health = await api.health();
  // Keyed by the database's id: workflow 1 of one database never shares a folder with another's.
  const logDir = join(opts.logDir, health.databaseId, `workflow-${opts.workflowId}`);
  mkdirSync(logDir, { recursive: true });
  const nextReportMs = Math.round(opts.heartbeatMs * opts.reportByFactor);
  const instanceHeartbeatMs = opts.instanceHeartbeatMs ?? 90_000;
  const instanceReportByMs = Math.round(instanceHeartbeatMs * opts.reportByFactor);
  let runStatus = 'BOUND' as WorkflowRunStatus;
  const move = async (to: WorkflowRunStatus) => {
    const r = await api.setRunStatus({ id: opts.runId, body: { status: to, nextReportMs } });
    runStatus = r.status;
  };

  let fatal: unknown;
  const reporter = new Reporter(requester, {
    onResult: (r: TransitionResultT, item: InstanceTransitionT) => {
      if (r.outcome === 'rejected' || r.outcome === 'moved')
        opts.onWarning?.(r.message ?? `instance ${r.id}: ${item.to} rejected`);
      if (item.to === 'RUNNING' && r.status === 'RUNNING') swarm?.instanceRunning(r.id);
      if (isInstanceEnd(item.to)) {
        // Our process is over, whatever the server made of the report. A task that is not in a
        // state this attempt can leave it in belongs to another run now (a resume took it over):
        // for this run it is lost, not retried.
        swarm?.instanceEnded(r.id, TASK_ATTEMPT_OVER_STATES.includes(r.taskStatus) ? r.taskStatus : 'ERROR_FATAL');
      }
    },
    onItemFailed: (item, e) => {
      opts.onWarning?.(
        `the server refused the report ${item.to} of instance ${item.id}: ${(e as Error).message}; that task will run again on resume`,
      );
      if (isInstanceEnd(item.to)) swarm?.instanceEnded(item.id, 'ERROR_FATAL');
    },
    onFatal: (e) => {
      fatal ??= e;
      swarm?.fail(e);
    },
  });
  const host = (cluster: string): DistributorHost => ({
    serverUrl: opts.serverUrl,
    requester,
    workflowId: opts.workflowId,
    runId: opts.runId,
    logDir,
    instanceReportByMs,
    ...(opts.logCapBytes === undefined ? {} : { logCapBytes: opts.logCapBytes }),
    report: (item) => reporter.report(item),
    capacityChanged: () => swarm?.pump(),
    childEnv: (item: LaunchItem) => ({
      JOBMON_URL: opts.serverUrl,
      ...(opts.token === undefined ? {} : { JOBMON_TOKEN: opts.token }),
      JOBMON_LOG_DIR: logDir,
      JOBMON_CLUSTER: cluster,
      JOBMON_TASK_INSTANCE_ID: String(item.instanceId),
      JOBMON_TASK_ID: String(item.taskId),
      JOBMON_WORKFLOW_ID: String(opts.workflowId),
      JOBMON_WORKFLOW_RUN_ID: String(opts.runId),
      JOBMON_INSTANCE_HEARTBEAT_MS: String(instanceHeartbeatMs),
      JOBMON_REPORT_BY_FACTOR: String(opts.reportByFactor),
      ...(opts.logCapBytes === undefined ? {} : { JOBMON_LOG_CAP_BYTES: String(opts.logCapBytes) }),
    }),
  });

  const distributors = new Map<string, Distributor>();
  const clusters = new Set<string>();
  for (let i = 0; i < opts.tasks.ids.length; i++)
    if (opts.tasks.statuses[i] !== 'DONE') clusters.add(opts.clusterOf(i));

  // Follow the run's events from before it starts, so a stop that arrives at any moment is heard.
  const { last } = await api.latestEvent();
  await move('INSTANTIATED');
  try {
    for (const [name, cluster] of await clusterConfigs(api, clusters)) {
      const factory = DISTRIBUTORS[cluster.type]!;
      distributors.set(
        name,
        factory({ host: host(name), cluster, ...(opts.parallelism ? { parallelism: opts.parallelism } : {}) }),
      );
    }
    await move('LAUNCHED');
    await move('RUNNING');
  } catch (e) {
    if (runStatus === 'INSTANTIATED' || runStatus === 'LAUNCHED') await move('ERROR').catch(() => undefined);
    throw e;
  }

  swarm = new Swarm({
    port: {
      queue: (taskIds) => api.queueTasks({ id: opts.runId, body: { tasks: taskIds.map((taskId) => ({ taskId })) } }),
      distributor: (cluster) => distributors.get(cluster),
    },
    tasks: opts.tasks,
    templateLimits: opts.templateLimits,
    maxConcurrentlyRunning: opts.maxConcurrentlyRunning,
    ...(opts.onProgress ? { onProgress: throttle(opts.onProgress, 200) } : {}),
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  });
  const s = swarm;

  let stopRequested = false;
  /** Stop now: launch nothing new and kill what runs (its instances end ERROR_FATAL, class killed). */
  const killAll = () => {
    void s.stop().catch((e: unknown) => opts.onWarning?.(`stopping: ${(e as Error).message}`));
  };
  const onAbort = () => {
    stopRequested = true;
    killAll();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  /** Set when the server moved this run on (a stop or resume from elsewhere, or the reaper ended it). */
  let serverSaid: WorkflowRunStatus | undefined;
  const serverMoved = (to: WorkflowRunStatus) => {
    if (serverSaid !== undefined || to === 'RUNNING') return;
    serverSaid = to;
    opts.onWarning?.(
      `the server moved this run to ${to}; ${to === 'HOT_RESUME' ? 'letting running tasks finish, starting nothing new' : 'stopping its tasks'}`,
    );
    if (to === 'HOT_RESUME') s.drain();
    else killAll();
  };

  // The run's own events: a stop or resume from elsewhere is heard at once, not at the next
  // heartbeat. Worker-based distributors report to the server; their outcomes arrive here too.
  const viaServer = [...distributors.values()].some((d) => d.reportsViaServer);
  const followAbort = new AbortController();
  const follower = follow(
    api,
    opts.workflowId,
    viaServer ? undefined : 'workflow_run',
    last,
    followAbort.signal,
    (e) => {
      if (e.entity === 'workflow_run') {
        if (e.entityId === opts.runId && e.actor !== 'swarm' && workflowRunMachine.isState(e.to)) serverMoved(e.to);
        return;
      }
      const instanceId = e.context?.['instanceId'];
      if (
        e.entity === 'task' &&
        typeof instanceId === 'number' &&
        TASK_ATTEMPT_OVER_STATES.includes(e.to as TaskStatus)
      ) {
        s.instanceEnded(instanceId, e.to as TaskStatus);
      } else if (e.entity === 'task_instance' && e.to === 'RUNNING') {
        s.instanceRunning(e.entityId);
      } else if (e.entity === 'task_instance' && e.to === 'TRIAGING') {
        // The server lost its heartbeat: ask the distributor that runs it whether it lives.
        const cluster = s.clusterOfInstance(e.entityId);
        const d = cluster === undefined ? undefined : distributors.get(cluster);
        d?.triage?.([e.entityId]).catch((err: unknown) =>
          opts.onWarning?.(`triage of instance ${e.entityId}: ${(err as Error).message}`),
        );
      }
    },
  ).catch((err: unknown) => {
    fatal ??= err;
    s.fail(err);
  });

  // Limits as the server holds them now; applied when they differ from the last ones applied.
  let applied = JSON.stringify([
    opts.maxConcurrentlyRunning >= 2_147_483_647 ? Infinity : opts.maxConcurrentlyRunning,
    opts.templateLimits,
  ]);
  const applyLimits = (l: { maxConcurrentlyRunning: number; templateConcurrency: Record<string, number> }) => {
    const names = opts.templateNames ?? [];
    // The server stores "no limit" as the largest 32-bit integer.
    const unbounded = (n: number) => (n >= 2_147_483_647 ? Infinity : n);
    const byTemplate = opts.templateLimits.map((own, i) => unbounded(l.templateConcurrency[names[i] ?? ''] ?? own));
    const max = unbounded(l.maxConcurrentlyRunning);
    const key = JSON.stringify([max, byTemplate]);
    if (key === applied) return;
    applied = key;
    s.setLimits(max, byTemplate);
    opts.onWarning?.(
      `limits changed: workflow ${max === 0 ? 'paused (0)' : max === Infinity ? 'no limit' : max}` +
        names.map((n, i) => (byTemplate[i] !== Infinity ? `, template '${n}' ${byTemplate[i]}` : '')).join(''),
    );
  };

  let beating = false; // one heartbeat at a time: during an outage the pending one keeps retrying
  const beat = setInterval(() => {
    if (beating) return;
    beating = true;
    api
      .runHeartbeat({ id: opts.runId, body: { status: 'RUNNING', nextReportMs } })
      .then((r) => {
        serverMoved(r.status);
        if (r.limits) applyLimits(r.limits);
      })
      .catch(() => undefined) // an outage is reported once by onReachable; giving up by the reporter
      .finally(() => (beating = false));
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

  const unreachable = isOutage(fatal);
  if (unreachable) {
    // Nothing can be recorded any more: stop what runs rather than leave it unwatched.
    giveUp.abort();
    killAll();
  }
  // Whatever is still queued or running is cancelled: a stop, a resume elsewhere, or a failure.
  const held = swarm.takeHeld();
  for (const id of held)
    void reporter.report({ id, to: 'ERROR_FATAL', errorMessage: 'cancelled before launch: the run stopped' });
  // After a drain (hot resume) nothing is running any more; stop() then only releases launchers.
  await Promise.all([...distributors.values()].map((d) => d.stop()));
  await reporter.idle();
  followAbort.abort();
  await follower;

  if (unreachable) {
    const p = swarm.progress();
    throw new ServerUnreachableError(
      `the Jobmon server at ${base.baseUrl} did not answer for ${Math.round(toleranceMs / 60_000)} min; the run gave up and stopped its ` +
        `running tasks (${p.done}/${p.total} done and recorded). When the server is back, run the same command again to resume: ` +
        `finished tasks are kept.`,
      { url: base.baseUrl, workflowId: opts.workflowId, runId: opts.runId },
      { cause: fatal },
    );
  }
  if (fatal !== undefined) {
    await endRun(move, 'ERROR', swarm.allDone).catch(() => undefined);
    throw fatal;
  }
  const wanted: WorkflowRunStatus = swarm.allDone
    ? 'DONE'
    : serverSaid !== undefined
      ? 'TERMINATED'
      : stopRequested
        ? 'STOPPED'
        : 'ERROR';
  const status = await endRun(move, wanted, swarm.allDone);
  return {
    status,
    progress: swarm.progress(),
    elapsedMs: Date.now() - started,
    logDir,
    finalStatuses: swarm.finalStatuses(),
  };
}

/**
 * Move the run to its end. The server may have moved it meanwhile (a stop or resume requested just
 * before the end, or the reaper after an outage): then the run ends as the table allows from there —
 * DONE when every task finished, TERMINATED otherwise — and an ended run is left as it is.
 */
async function endRun(
  move: (to: WorkflowRunStatus) => Promise<void>,
  wanted: WorkflowRunStatus,
  allDone: boolean,
): Promise<WorkflowRunStatus> {
  try {
    await move(wanted);
    return wanted;
  } catch (e) {
    if (!(e instanceof IllegalTransitionError)) throw e;
    const from = e.details['from'] as WorkflowRunStatus | undefined;
    if (from === undefined) throw e;
    if (workflowRunMachine.terminal.includes(from)) return from;
    const to: WorkflowRunStatus = allDone && workflowRunMachine.isLegal(from, 'DONE') ? 'DONE' : 'TERMINATED';
    if (!workflowRunMachine.isLegal(from, to)) throw e;
    await move(to);
    return to;
  }
}

async function follow(
  api: ApiClient,
  workflowId: number,
  entity: 'workflow_run' | undefined,
  after: number,
  signal: AbortSignal,
  onEvent: (e: EventT) => void,
): Promise<void> {
  let seq = after;
  while (!signal.aborted) {
    const r = await api
      .followEvents(
        { query: { after: seq, workflowId, ...(entity === undefined ? {} : { entity }), waitMs: 2000, limit: 5000 } },
        { timeoutMs: 30_000, signal },
      )
      .catch((e: unknown) => {
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
      timer = setTimeout(
        () => {
          timer = undefined;
          last = Date.now();
          if (pending !== undefined) fn(pending);
        },
        ms - (now - last),
      );
      timer.unref();
    }
  };
}
