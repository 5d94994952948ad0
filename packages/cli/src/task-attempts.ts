// What the task commands share: the attempt a user means (--attempt N or the newest), where Slurm
// wrote its own log for an attempt, and the resources as one line.

import { dirname, join } from 'node:path';
import { NotFoundError, type TaskAttemptT, type TaskDetailT } from '@jobmon/core';
import { formatDuration } from '@jobmon/core';
import { bytes } from './table.js';

/**
 * Slurm's own log of an attempt the slurm distributor ran: `slurm.<distributor id>.log` in the log
 * directory (`slurm.123.log`, `slurm.123_4.log` for an array task), the directory of the worker's
 * stdout file (packages/runner/src/distributors/slurm/submit.ts names it). Null for other
 * distributors, or before Slurm gave a job id or the worker recorded its files.
 */
export function slurmLogPath(a: TaskAttemptT): string | null {
  if (a.clusterType !== 'slurm' || a.distributorId === null || a.stdoutPath === null) return null;
  return join(dirname(a.stdoutPath), `slurm.${a.distributorId}.log`);
}

/** Attempt `n` (1-based), or the newest when `n` is undefined; not found (exit 3) when there is none. */
export function pickAttempt(task: TaskDetailT, n: number | undefined): TaskAttemptT {
  if (task.attempts.length === 0)
    throw new NotFoundError(`task ${task.id} has no attempts yet (it is ${task.status})`, { taskId: task.id });
  if (n === undefined) return task.attempts[task.attempts.length - 1]!;
  const a = task.attempts.find((x) => x.attempt === n);
  if (!a) {
    const have = task.attempts.map((x) => x.attempt);
    throw new NotFoundError(
      `task ${task.id} has no attempt ${n} (its attempts are ${have[0]}–${have[have.length - 1]})`,
      { taskId: task.id, attempt: n },
    );
  }
  return a;
}

/** `{cores: 2, memory: 1536, runtime: 600}` → "cores 2, memory 1.5 GiB, runtime 10m 00s"; "-" when empty.
 *  Memory is stored in MiB and runtime in seconds (core's resources.ts); other keys as they are. */
export function resourcesLine(r: Record<string, unknown>): string {
  const parts = Object.entries(r).map(([k, v]) => {
    if (k === 'memory' && typeof v === 'number') return `memory ${bytes(v * 1024 * 1024)}`;
    if (k === 'runtime' && typeof v === 'number') return `runtime ${formatDuration(v)}`;
    return `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`;
  });
  return parts.length === 0 ? '-' : parts.join(', ');
}
