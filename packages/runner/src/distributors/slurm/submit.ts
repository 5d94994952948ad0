// What one task instance (or one array of them) becomes in Slurm: a JobSpec. Resources map to
// Slurm's options: queue → partition (unless the cluster's `partition` option names one), cores →
// cpus per task, memory (MiB) → memory, runtime (s) → time limit in whole minutes (rounded up).
// The job runs jobmon-worker (JOBMON_WORKER_UNDER=slurm), which starts the command, heartbeats and
// reports the outcome, except a stop by Slurm's signal, which the distributor reports from accounting.

import { join } from 'node:path';
import { safeName, type LaunchItem } from '../contract.js';
import { shellQuote } from './cli-transport.js';
import type { JobSpec } from './transport.js';

export interface SubmitSettings {
  /** Node, and the worker's bin, as the job runs them (the same paths on a shared file system). */
  node: string;
  workerBin: string;
  logDir: string;
  partition?: string;
  account?: string;
  exportEnv: JobSpec['exportEnv'];
}

/** Seconds → Slurm's time limit in whole minutes (at least 1). */
export function slurmMinutes(seconds: number): number {
  return Math.max(1, Math.ceil(seconds / 60));
}

function positive(resources: Record<string, unknown>, key: string): number | undefined {
  const v = resources[key];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

/** The spec of one instance's job; its environment: the host's variables for the worker. */
export function jobSpec(item: LaunchItem, env: NodeJS.ProcessEnv, s: SubmitSettings): JobSpec {
  const r = item.resources;
  const spec: JobSpec = {
    name: `jobmon-${item.instanceId}-${safeName(item.name).slice(0, 60)}`,
    partition: s.partition ?? item.queue,
    // Slurm's own view of the job (its messages on a kill); the command's output is the worker's.
    output: join(s.logDir, `slurm.${item.instanceId}.%j.log`),
    cwd: s.logDir,
    exportEnv: s.exportEnv,
    env: {
      ...Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
      // The worker leaves Slurm's signals (a time limit, a cancel) to accounting: see worker.ts.
      JOBMON_WORKER_UNDER: 'slurm',
    },
    script: `#!/bin/sh\nexec ${[s.node, s.workerBin, '--instance-id', String(item.instanceId), '--log-dir', s.logDir].map(shellQuote).join(' ')}\n`,
  };
  if (s.account !== undefined) spec.account = s.account;
  const cores = positive(r, 'cores');
  if (cores !== undefined) spec.cpusPerTask = Math.ceil(cores);
  const memory = positive(r, 'memory');
  if (memory !== undefined) spec.memoryMiB = Math.ceil(memory);
  const runtime = positive(r, 'runtime');
  if (runtime !== undefined) spec.timeMinutes = slurmMinutes(runtime);
  const constraint = r['constraints'];
  if (typeof constraint === 'string' && constraint) spec.constraint = constraint;
  return spec;
}
