// Cancelling: one scancel for all the given jobs. Slurm signals every process of a job (SIGTERM,
// then SIGKILL after KillWait); the worker, on SIGTERM, kills its command and reports ERROR_FATAL.

import { describeFailure, runCommand } from './cli.js';

export async function scancel(jobIds: string[]): Promise<void> {
  if (jobIds.length === 0) return;
  const r = await runCommand('scancel', jobIds);
  // A job that already ended is no failure of the cancel ("Job/step already completing or completed").
  if (r.code !== 0 && !/already complet|Invalid job id/i.test(r.stderr)) throw new Error(describeFailure('scancel', r));
}
