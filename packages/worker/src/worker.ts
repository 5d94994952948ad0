// jobmon-worker: the wrapper a cluster distributor launches for one task instance. It reports
// RUNNING (and receives the command), runs the command in its own process group with output to
// files, heartbeats until it ends, reports DONE or the error with the exit code and output tails,
// and obeys KILL_SELF (from a heartbeat answer, or SIGTERM/SIGINT to itself). Its import graph
// is core's requester and node builtins only: no server code.
//
// Under Slurm (`under: 'slurm'`), a SIGTERM to the worker is Slurm's (a time limit, a scancel by
// Jobmon or by someone else), and only Slurm's accounting knows which: the worker kills its
// command but reports no end, and exits non-zero; the distributor reports from accounting. A
// command killed by SIGKILL while the cgroup's OOM-kill count went up is RESOURCE_ERROR anywhere.

import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
// Core's requester and errors by their own entry points, not '@jobmon/core': its index loads the
// route table and every wire schema (typebox, some 200 modules), which was half the worker's
// start-up (bench/worker-startup.md). Types only from the index.
import type { SingleTransitionRequestT, SingleTransitionResponseT, TaskInstanceStatus } from '@jobmon/core';
import { IllegalTransitionError } from '@jobmon/core/errors';
import { Requester } from '@jobmon/core/requester';
import { oomKills, type CgroupPaths } from './oom.js';
import { spawnGroup, type GroupHandle, type GroupResult } from './process-group.js';
import { mark, writeTiming } from './startup-timing.js';

export interface WorkerOptions {
  instanceId: number;
  url: string;
  /** The run token (JOBMON_TOKEN), on a server with authentication. */
  token?: string;
  logDir: string;
  heartbeatMs: number;
  /** After SIGTERM to the command's group, wait this long before SIGKILL. */
  killGraceMs: number;
  reportByFactor?: number;
  /** Most bytes kept of the command's stdout, and of its stderr. */
  logCapBytes?: number;
  log?: (line: string) => void;
  /** The cluster that started it, when that cluster reports deaths by its signals (`slurm`). */
  under?: 'slurm';
  /** Where to read the OOM-kill count (tests); default: this process's own memory cgroup. */
  cgroup?: CgroupPaths;
  /** Under Slurm: how long a command dead by SIGTERM waits for Slurm's SIGTERM to the worker too. */
  signalWaitMs?: number;
}

/** Exit code of a worker that leaves the verdict to its cluster: 128 + the signal's number. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGKILL: 137, SIGTERM: 143 };

/** The worker's two routes: the same as ROUTES.transitionInstance and ROUTES.instanceHeartbeat of
 *  core's api.ts, which a test holds them to. */
export const WORKER_ROUTES = {
  transition: { method: 'POST', path: '/task-instances/:id/transition' },
  heartbeat: { method: 'POST', path: '/task-instances/:id/heartbeat' },
} as const;

/** The calls of one instance's worker, through `requester`. */
function instanceCalls(requester: Requester, id: number) {
  const path = (p: string) => p.replace(':id', String(id));
  const { transition, heartbeat } = WORKER_ROUTES;
  return {
    transition: (body: SingleTransitionRequestT) =>
      requester.request<SingleTransitionResponseT>(transition.method, path(transition.path), body),
    heartbeat: (body: { nextReportMs: number }) =>
      requester.request<{ status: TaskInstanceStatus }>(heartbeat.method, path(heartbeat.path), body),
  };
}

const safe = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);

/**
 * Tell the distributor that started us (when it gave us a private pipe, JOBMON_WORKER_CONTROL_FD)
 * which process group runs the command: if we die, it may kill that group — and only that one.
 */
function announceGroup(pgid: number): void {
  const fd = Number(process.env['JOBMON_WORKER_CONTROL_FD']);
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    writeSync(fd, `${JSON.stringify({ pgid })}\n`);
  } catch {
    // no listener: nobody will clean up after us but the cluster
  }
}

/** Returns the worker's exit code: 0 once the outcome is reported (even a failed command). */
export async function runWorker(opts: WorkerOptions): Promise<number> {
  // A stop (SIGTERM/SIGINT) is heard from the start: the signal's default action would kill the
  // worker at once, perhaps with the command just started behind it. Before the command starts, a
  // stop cuts the RUNNING report short (the server may be slow or away) and nothing starts.
  let stopSignal: NodeJS.Signals | undefined;
  const beforeStart = new AbortController();
  const onEarlySignal = (sig: NodeJS.Signals) => {
    stopSignal ??= sig;
    beforeStart.abort();
  };
  process.on('SIGTERM', onEarlySignal);
  process.on('SIGINT', onEarlySignal);
  try {
    return await work(opts, () => stopSignal, beforeStart.signal);
  } finally {
    process.off('SIGTERM', onEarlySignal);
    process.off('SIGINT', onEarlySignal);
  }
}

async function work(
  opts: WorkerOptions,
  stopSignal: () => NodeJS.Signals | undefined,
  beforeStart: AbortSignal,
): Promise<number> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`jobmon-worker[${opts.instanceId}]: ${l}\n`));
  const requester = new Requester(opts.url, { token: opts.token });
  const id = opts.instanceId;
  const api = instanceCalls(requester, id);
  const transition = api.transition;
  const nextReportMs = Math.round(opts.heartbeatMs * (opts.reportByFactor ?? 3.1));

  let started: SingleTransitionResponseT;
  const pending = {
    stdoutPath: join(opts.logDir, `instance.${opts.instanceId}.out`),
    stderrPath: join(opts.logDir, `instance.${opts.instanceId}.err`),
  };
  const toldToStop = async (sig: NodeJS.Signals) => {
    if (opts.under === 'slurm') {
      log(`not running: received ${sig} before the command started; Slurm's accounting has the verdict`);
      return SIGNAL_EXIT[sig] ?? 1;
    }
    // Best effort and bounded: whatever the server recorded, no command of ours runs.
    await instanceCalls(new Requester(opts.url, { retries: 2, timeoutMs: 5_000, token: opts.token }), id)
      .transition({
        to: 'ERROR_FATAL',
        via: ['KILL_SELF'],
        errorMessage: `told to stop before it started (the worker received ${sig})`,
      })
      .catch(() => undefined);
    log(`not running: received ${sig} before the command started`);
    return 0;
  };
  try {
    mark('runningSent');
    started = await instanceCalls(requester.with({ signal: beforeStart }), id).transition({
      to: 'RUNNING',
      nodeName: hostname(),
      pgid: process.pid,
      nextReportMs,
      ...pending,
    });
    mark('runningAnswered');
    writeTiming({ instanceId: id });
  } catch (e) {
    const sig = stopSignal();
    if (sig !== undefined) return toldToStop(sig);
    if (e instanceof IllegalTransitionError) {
      const from = e.details['from'];
      if (from === 'KILL_SELF') {
        await transition({ to: 'ERROR_FATAL', errorMessage: 'told to stop before it started' }).catch(() => undefined);
      }
      log(`not running: ${e.message}`);
      return 0;
    }
    log(`cannot report running: ${(e as Error).message}`);
    return 1;
  }
  if (started.status !== 'RUNNING') {
    // Given up on before it started (NO_HEARTBEAT: a replacement attempt exists): do not run.
    log(`not running: the instance is ${started.status}`);
    return 0;
  }
  if (started.command === undefined) {
    log('the server did not return a command');
    return 1;
  }
  const early = stopSignal();
  if (early !== undefined) return toldToStop(early);
  const base = join(opts.logDir, `${safe(started.name ?? 'task')}.${opts.instanceId}`);
  const stdoutPath = `${base}.out`;
  const stderrPath = `${base}.err`;
  const oomBefore = oomKills(opts.cgroup);
  const group: GroupHandle = spawnGroup({
    command: started.command,
    stdoutPath,
    stderrPath,
    env: {
      ...process.env,
      JOBMON_TASK_INSTANCE_ID: String(opts.instanceId),
      JOBMON_TASK_ID: String(started.taskId),
      JOBMON_WORKFLOW_ID: String(started.workflowId),
      JOBMON_WORKFLOW_RUN_ID: String(started.workflowRunId),
    },
    ...(opts.logCapBytes === undefined ? {} : { logCapBytes: opts.logCapBytes }),
  });
  if (group.pid !== undefined) {
    announceGroup(group.pid);
    void transition({ to: 'RUNNING', pgid: group.pid, stdoutPath, stderrPath }).catch(() => undefined);
  }

  let killReason: string | undefined;
  /** A signal to the worker itself (not a KILL_SELF from the server). */
  let signalled: NodeJS.Signals | undefined;
  let heardSignal: (() => void) | undefined;
  const stop = (reason: string) => {
    if (killReason !== undefined) return;
    killReason = reason;
    group.kill('SIGTERM');
    setTimeout(() => group.kill('SIGKILL'), opts.killGraceMs).unref();
  };
  const onSignal = (sig: NodeJS.Signals) => {
    signalled ??= sig;
    heardSignal?.();
    stop(`the worker received ${sig}`);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const beat = setInterval(() => {
    api
      .heartbeat({ nextReportMs })
      .then((r) => {
        if (r.status === 'KILL_SELF') stop('told to stop (KILL_SELF)');
        // Given up on while we were unreachable or paused (e.g. its run ended): another attempt may
        // own the task now, so stop rather than finish twice.
        else if (r.status !== 'RUNNING' && r.status !== 'TRIAGING' && r.status !== 'LAUNCHED')
          stop(`the server gave this instance up (${r.status})`);
      })
      .catch((e: unknown) => log(`heartbeat failed: ${(e as Error).message}`));
  }, opts.heartbeatMs);

  let result: GroupResult;
  try {
    result = await group.done;
    clearInterval(beat);
    // Under Slurm, a command dead by SIGTERM was most likely signalled by Slurm with the whole
    // job (a time limit, a scancel), and the worker's own SIGTERM is on its way: wait for it briefly.
    if (opts.under === 'slurm' && signalled === undefined && killReason === undefined && result.signal === 'SIGTERM') {
      await new Promise<void>((r) => {
        const t = setTimeout(r, opts.signalWaitMs ?? 3_000);
        heardSignal = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  } finally {
    clearInterval(beat);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  // Killed for memory: SIGKILL (or a shell's 137 for a child it ran) while the OOM killer struck.
  const oomAfter = result.signal === 'SIGKILL' || result.exitCode === 137 ? oomKills(opts.cgroup) : undefined;
  const oomKilled = oomAfter !== undefined && oomAfter > (oomBefore ?? 0);
  if (opts.under === 'slurm' && signalled !== undefined) {
    // Slurm's signal (time limit, scancel): accounting says which, and the distributor reports it.
    log(`the command was stopped (the worker received ${signalled}); Slurm's accounting has the verdict`);
    return SIGNAL_EXIT[signalled] ?? 1;
  }
  if (opts.under === 'slurm' && killReason === undefined && result.signal === 'SIGKILL' && oomAfter === undefined) {
    log('the command was killed by SIGKILL and the OOM-kill count cannot be read; Slurm accounting has the verdict');
    return SIGNAL_EXIT.SIGKILL!;
  }
  const measured = {
    wallTimeMs: result.wallTimeMs,
    stdoutTail: result.stdoutTail,
    stderrTail: result.stderrTail,
    ...(result.peakMemoryBytes === null ? {} : { peakMemoryBytes: result.peakMemoryBytes }),
    ...(result.cleanup === undefined ? {} : { cleanup: result.cleanup }),
  };
  // Outcomes go via RUNNING: if the server moved us to TRIAGING while we were paused or cut off,
  // reporting is itself the proof of life (TRIAGING → RUNNING → outcome).
  let outcome: SingleTransitionRequestT;
  if (killReason !== undefined) {
    outcome = { to: 'ERROR_FATAL', via: ['KILL_SELF'], ...measured, errorMessage: `killed: ${killReason}` };
  } else if (result.spawnError !== undefined) {
    outcome = {
      to: 'ERROR',
      exitCode: 127,
      ...measured,
      errorMessage: `could not start the command: ${result.spawnError}`,
    };
  } else if (oomKilled) {
    outcome = {
      to: 'RESOURCE_ERROR',
      via: ['RUNNING'],
      ...measured,
      ...(result.exitCode === null ? {} : { exitCode: result.exitCode }),
      errorMessage: "killed for memory (the job's cgroup OOM-killed it)",
    };
  } else if (result.exitCode === 0) {
    outcome = { to: 'DONE', via: ['RUNNING'], exitCode: 0, ...measured };
  } else if (result.exitCode !== null) {
    const tail = result.stderrTail.trim().split('\n').slice(-20).join('\n');
    outcome = {
      to: 'ERROR',
      via: ['RUNNING'],
      exitCode: result.exitCode,
      ...measured,
      errorMessage: `command exited with code ${result.exitCode}${tail ? `: ${tail}` : ''}`,
    };
  } else {
    outcome = {
      to: 'UNKNOWN_ERROR',
      via: ['RUNNING'],
      ...measured,
      errorMessage: `killed by signal ${result.signal ?? 'unknown'} (not by Jobmon)`,
    };
  }
  try {
    await transition(outcome);
  } catch (e) {
    if (e instanceof IllegalTransitionError && outcome.to === 'ERROR_FATAL') {
      // Already ended elsewhere (e.g. a force cleanup): nothing left to report.
      return 0;
    }
    log(`cannot report the outcome (${outcome.to}): ${(e as Error).message}`);
    return 1;
  }
  return 0;
}
