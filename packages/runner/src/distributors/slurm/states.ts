// Slurm job states → our instance outcomes, for a job that left the queue while its worker had not
// reported an end (the worker reports DONE, ERROR and an OOM kill itself; under Slurm it leaves
// Slurm's signals — a time limit, a cancel — to accounting). A state that is not final (a job
// still RUNNING in accounting, UNKNOWN, or no record at all) is never taken as success: the caller
// waits for the record within a bounded budget, then reports UNKNOWN_ERROR.
//
//   OUT_OF_MEMORY, TIMEOUT                   → RESOURCE_ERROR (retried with more memory/runtime)
//   cancelled by Jobmon (a stop, a resume)   → ERROR_FATAL via KILL_SELF
//   CANCELLED by anyone else                 → UNKNOWN_ERROR (infrastructure)
//   NODE_FAIL, BOOT_FAIL, PREEMPTED, …       → UNKNOWN_ERROR (infrastructure)
//   FAILED with an exit code                 → ERROR (application), with that exit code
//   COMPLETED without the worker's report    → UNKNOWN_ERROR

import type { InstanceTransitionT } from '@jobmon/core';

export type Outcome = Pick<InstanceTransitionT, 'to' | 'via' | 'errorMessage' | 'exitCode'>;

/** Final states of a job (sacct); anything else (PENDING, RUNNING, REQUEUED, UNKNOWN, …) is not final. */
const FINAL = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'BOOT_FAIL',
  'PREEMPTED',
  'DEADLINE',
  'REVOKED',
]);

/** Why the cluster, not the command, ended a job in this state. */
const INFRASTRUCTURE: Record<string, string> = {
  NODE_FAIL: 'its node failed',
  BOOT_FAIL: 'its node failed to boot',
  PREEMPTED: 'it was preempted',
  DEADLINE: 'it reached its deadline before it could run',
  REVOKED: 'it was revoked (it ran on another cluster)',
};

export function isFinalState(state: string): boolean {
  return FINAL.has(state);
}

/** sacct's ExitCode `code:signal` → its two numbers (undefined where not a number). */
export function parseExitCode(exitCode: string): { code?: number; signal?: number } {
  const [c, s] = exitCode.split(':');
  const out: { code?: number; signal?: number } = {};
  if (c !== undefined && /^\d+$/.test(c)) out.code = Number(c);
  if (s !== undefined && /^\d+$/.test(s)) out.signal = Number(s);
  return out;
}

/**
 * The outcome to report for a job that ended in `state` while its instance had not ended;
 * undefined while the state is not final. `cancelledByUs`: Jobmon scancelled it (a stop, a
 * resume); `cancelledBy`: the uid accounting names for a CANCELLED job, for the message.
 */
export function outcomeOf(
  jobId: string,
  state: string,
  exitCode: string,
  cancelledByUs: boolean,
  cancelledBy?: number,
): Outcome | undefined {
  if (!isFinalState(state)) return undefined;
  const what = `Slurm job ${jobId} ended ${state} (exit code ${exitCode || '?'})`;
  if (state === 'OUT_OF_MEMORY')
    return { to: 'RESOURCE_ERROR', errorMessage: `${what}: it exceeded its memory (--mem)` };
  if (state === 'TIMEOUT')
    return { to: 'RESOURCE_ERROR', errorMessage: `${what}: it exceeded its time limit (--time)` };
  if (cancelledByUs)
    return { to: 'ERROR_FATAL', via: ['KILL_SELF'], errorMessage: `${what}: cancelled by Jobmon (a stop)` };
  if (state === 'CANCELLED') {
    const by = cancelledBy === undefined ? '' : ` (by uid ${cancelledBy})`;
    return { to: 'UNKNOWN_ERROR', errorMessage: `${what}: cancelled outside Jobmon${by}` };
  }
  const infra = INFRASTRUCTURE[state];
  if (infra !== undefined) return { to: 'UNKNOWN_ERROR', errorMessage: `${what}: ${infra}` };
  if (state === 'FAILED') {
    const { code, signal } = parseExitCode(exitCode);
    if (code !== undefined && code !== 0)
      return {
        to: 'ERROR',
        via: ['RUNNING'],
        exitCode: code,
        errorMessage: `${what}: the job exited with code ${code}`,
      };
    return { to: 'UNKNOWN_ERROR', errorMessage: `${what}: killed by signal ${signal ?? '?'}` };
  }
  return { to: 'UNKNOWN_ERROR', errorMessage: `${what}, but its worker reported no outcome` };
}
