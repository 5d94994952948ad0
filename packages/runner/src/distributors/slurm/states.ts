// Slurm job states → our instance outcomes, for a job that left the queue while its worker had not
// reported an end (the worker reports DONE/ERROR itself; this is for the deaths it cannot report:
// a kill for memory or time, a node failure, a cancel). A state that is not final (a job still
// RUNNING in accounting, UNKNOWN, or no record at all) is never taken as success: the caller waits
// for the record within a bounded budget, then reports UNKNOWN_ERROR.

import type { InstanceTransitionT } from '@jobmon/core';

export type Outcome = Pick<InstanceTransitionT, 'to' | 'via' | 'errorMessage'>;

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

export function isFinalState(state: string): boolean {
  return FINAL.has(state);
}

/**
 * The outcome to report for a job that ended in `state` while its instance had not ended;
 * undefined while the state is not final. `cancelledByUs`: Jobmon scancelled it (a stop).
 */
export function outcomeOf(jobId: string, state: string, exitCode: string, cancelledByUs: boolean): Outcome | undefined {
  if (!isFinalState(state)) return undefined;
  const what = `Slurm job ${jobId} ended ${state} (exit code ${exitCode || '?'})`;
  if (state === 'OUT_OF_MEMORY')
    return { to: 'RESOURCE_ERROR', errorMessage: `${what}: it exceeded its memory (--mem)` };
  if (state === 'TIMEOUT')
    return { to: 'RESOURCE_ERROR', errorMessage: `${what}: it exceeded its time limit (--time)` };
  if (cancelledByUs)
    return { to: 'ERROR_FATAL', via: ['KILL_SELF'], errorMessage: `${what}: cancelled by Jobmon (a stop)` };
  if (state === 'CANCELLED') return { to: 'UNKNOWN_ERROR', errorMessage: `${what}: cancelled outside Jobmon` };
  if (state === 'COMPLETED')
    return { to: 'UNKNOWN_ERROR', errorMessage: `${what}, but its worker reported no outcome` };
  return { to: 'UNKNOWN_ERROR', errorMessage: what };
}
