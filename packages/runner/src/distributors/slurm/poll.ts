// Polling: ONE squeue per cycle for all our jobs still in the queue, ONE batched sacct for the
// jobs that left it (their final state comes from accounting).

import { describeFailure, runCommand } from './cli.js';

/** Job id → Slurm state (PENDING, RUNNING, COMPLETING, …) of our jobs squeue still lists. */
export async function squeue(jobIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (jobIds.length === 0) return out;
  const r = await runCommand('squeue', ['--noheader', '--format=%i|%T', `--jobs=${jobIds.join(',')}`]);
  // None of the ids is known any more: squeue says so and exits 1.
  if (r.code === 1 && /Invalid job id specified/i.test(r.stderr)) return out;
  if (r.code !== 0) throw new Error(describeFailure('squeue', r));
  for (const line of r.stdout.split('\n')) {
    const [id, state] = line.trim().split('|');
    if (id && state) out.set(id, state);
  }
  return out;
}

export interface AccountingRecord {
  /** First word of sacct's State (`CANCELLED by 0` → CANCELLED). */
  state: string;
  /** sacct's ExitCode, `code:signal`. */
  exitCode: string;
  reason: string;
}

/** Job id → accounting record, for the jobs sacct knows (a just-ended job may lag behind). */
export async function sacct(jobIds: string[]): Promise<Map<string, AccountingRecord>> {
  const out = new Map<string, AccountingRecord>();
  if (jobIds.length === 0) return out;
  const r = await runCommand('sacct', [
    '--noheader',
    '--parsable2',
    '--allocations',
    '--format=JobIDRaw,State,ExitCode,Reason',
    `--jobs=${jobIds.join(',')}`,
  ]);
  if (r.code !== 0) throw new Error(describeFailure('sacct', r));
  for (const line of r.stdout.split('\n')) {
    const [id, state, exitCode, reason] = line.trim().split('|');
    if (id && state) out.set(id, { state: state.split(' ')[0]!, exitCode: exitCode ?? '', reason: reason ?? '' });
  }
  return out;
}
