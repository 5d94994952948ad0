// What one task instance (or one array of them) becomes in Slurm: a JobSpec. Resources map to
// Slurm's options: queue → partition (unless the cluster's `partition` option names one), cores →
// cpus per task, memory (MiB) → memory, runtime (s) → time limit in whole minutes (rounded up).
// The job runs jobmon-worker (JOBMON_WORKER_UNDER=slurm), which starts the command, heartbeats and
// reports the outcome, except a stop by Slurm's signal, which the distributor reports from accounting.

import { dirname, join } from 'node:path';
import { safeName, type LaunchItem } from '../contract.js';
import { shellQuote } from './cli-transport.js';
import type { JobSpec, Partition } from './transport.js';

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

/** The queue that means "Slurm's default partition" (the seeded `slurm` cluster's only queue). */
export const DEFAULT_QUEUE = 'default';

/**
 * The partition a task's job goes to: the cluster's `partition` option, else the task's queue;
 * none (Slurm's default partition) for the queue `default` unless a partition has that name.
 */
export function partitionFor(queue: string, s: SubmitSettings, partitions?: Partition[]): string | undefined {
  if (s.partition !== undefined) return s.partition;
  if (queue === DEFAULT_QUEUE && !partitions?.some((p) => p.name === DEFAULT_QUEUE)) return undefined;
  return queue;
}

/**
 * The spec of one instance's job; its environment: the host's variables for the worker. Slurm's
 * own log of the job (its messages on a kill; the command's output is the worker's) is
 * `slurm.<distributor id>.log` in the log directory: `slurm.123.log`, `slurm.123_4.log`.
 */
export function jobSpec(
  item: LaunchItem,
  env: NodeJS.ProcessEnv,
  s: SubmitSettings,
  partitions?: Partition[],
): JobSpec {
  const r = item.resources;
  const partition = partitionFor(item.queue, s, partitions);
  const spec: JobSpec = {
    name: `jobmon-${item.instanceId}-${safeName(item.name).slice(0, 60)}`,
    ...(partition !== undefined ? { partition } : {}),
    output: join(s.logDir, 'slurm.%j.log'),
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

/** Per-instance variables: an array's elements learn their own instance id in the script. */
const PER_INSTANCE = new Set(['JOBMON_TASK_INSTANCE_ID', 'JOBMON_TASK_ID']);

/**
 * One array for instances whose jobs differ only in instance: element k runs the k-th instance
 * (the script maps SLURM_ARRAY_TASK_ID to it), at most `throttle` at once.
 */
export function arraySpec(first: JobSpec, items: LaunchItem[], throttle: number): JobSpec {
  const exec = /^exec .*$/m.exec(first.script)![0];
  const worker = exec.replace(/'--instance-id' '\d+'/, `'--instance-id' "$1"`);
  return {
    ...first,
    name: `jobmon-${items[0]!.instanceId}-array-${safeName(items[0]!.name).slice(0, 50)}`,
    output: join(dirname(first.output), 'slurm.%A_%a.log'),
    array: { size: items.length, ...(Number.isFinite(throttle) ? { throttle } : {}) },
    env: Object.fromEntries(Object.entries(first.env).filter(([k]) => !PER_INSTANCE.has(k))),
    script: [
      '#!/bin/sh',
      `set -- ${items.map((i) => i.instanceId).join(' ')}`,
      'shift "$SLURM_ARRAY_TASK_ID"',
      'export JOBMON_TASK_INSTANCE_ID="$1"',
      worker,
      '',
    ].join('\n'),
  };
}

/** Why the partition cannot run this job, naming the task and the limit; undefined when it can. */
export function checkPartition(spec: JobSpec, item: LaunchItem, partitions: Partition[]): string | undefined {
  const p =
    spec.partition === undefined
      ? partitions.find((x) => x.isDefault)
      : partitions.find((x) => x.name === spec.partition);
  const task = `task '${item.name}'`;
  if (!p) {
    const known = partitions.map((x) => x.name).join(', ') || 'none';
    return spec.partition === undefined
      ? `${task}: the Slurm cluster has no default partition (partitions: ${known}); give the task a queue`
      : `${task}: Slurm has no partition '${spec.partition}' (partitions: ${known})`;
  }
  const over = (what: string, asked: number, most: number | undefined, unit: string) =>
    most !== undefined && asked > most
      ? `${task} asks for ${asked}${unit} ${what}, but Slurm partition '${p.name}' allows at most ${most}${unit}`
      : undefined;
  return (
    over('cores', spec.cpusPerTask ?? 1, p.maxCpusPerNode, '') ??
    over('of memory', spec.memoryMiB ?? 0, p.maxMemoryMiB, ' MiB') ??
    over('of run time', spec.timeMinutes ?? 0, p.maxTimeMinutes, ' minutes')
  );
}
