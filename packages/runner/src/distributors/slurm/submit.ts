// Submission: the batch script of one task instance and `sbatch` for it. The job runs
// jobmon-worker (as the dummy distributor does, one worker per instance), which starts the
// command, heartbeats and reports the outcome to the server itself. Resources map to sbatch
// options: queue → --partition (unless the cluster's `partition` option names one), cores →
// --cpus-per-task, memory (MiB) → --mem, runtime (s) → --time.

import { join } from 'node:path';
import { safeName, type LaunchItem } from '../contract.js';
import { describeFailure, runCommand } from './cli.js';

export interface SubmitSettings {
  /** Node, and the worker's bin, as the job runs them (the same paths on a shared file system). */
  node: string;
  workerBin: string;
  logDir: string;
  partition?: string;
  account?: string;
}

/** Quote for a POSIX shell: one single-quoted word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Seconds as Slurm's --time H:MM:SS (Slurm rounds up to whole minutes). */
export function slurmTime(seconds: number): string {
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function positive(resources: Record<string, unknown>, key: string): number | undefined {
  const v = resources[key];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

/** The #SBATCH options of one instance, in a stable order. */
export function sbatchOptions(item: LaunchItem, s: SubmitSettings): string[] {
  const r = item.resources;
  const opts = [
    `--job-name=jobmon-${item.instanceId}-${safeName(item.name).slice(0, 60)}`,
    `--partition=${s.partition ?? item.queue}`,
    // Slurm's own view of the job (its messages on a kill); the command's output is the worker's.
    `--output=${join(s.logDir, `slurm.${item.instanceId}.%j.log`)}`,
  ];
  if (s.account !== undefined) opts.push(`--account=${s.account}`);
  const cores = positive(r, 'cores');
  if (cores !== undefined) opts.push(`--cpus-per-task=${Math.ceil(cores)}`);
  const memory = positive(r, 'memory');
  if (memory !== undefined) opts.push(`--mem=${Math.ceil(memory)}M`);
  const runtime = positive(r, 'runtime');
  if (runtime !== undefined) opts.push(`--time=${slurmTime(runtime)}`);
  return opts;
}

/** The batch script: options, the worker's environment (explicit, whatever sbatch exports), exec the worker. */
export function batchScript(item: LaunchItem, env: NodeJS.ProcessEnv, s: SubmitSettings): string {
  const lines = ['#!/bin/sh', ...sbatchOptions(item, s).map((o) => `#SBATCH ${shellQuote(o)}`)];
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) lines.push(`export ${k}=${shellQuote(v)}`);
  }
  lines.push(
    `exec ${[s.node, s.workerBin, '--instance-id', String(item.instanceId), '--log-dir', s.logDir].map(shellQuote).join(' ')}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Submit one batch script; the job id, or an error naming sbatch's complaint. */
export async function sbatch(script: string): Promise<{ jobId: string } | { error: string }> {
  const r = await runCommand('sbatch', ['--parsable'], { input: script, timeoutMs: 60_000 });
  const id = /^(\d+)/.exec(r.stdout.trim())?.[1];
  if (r.code !== 0 || id === undefined) return { error: describeFailure('sbatch', r) };
  return { jobId: id };
}
