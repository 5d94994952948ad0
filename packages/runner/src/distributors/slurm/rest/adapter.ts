// What differs between slurmrestd's data-parser versions lives in one adapter per version (paths,
// the submit body, the names and units of the fields read back). RestTransport (transport.ts in
// this folder) only speaks through an adapter, chosen from the daemon's /openapi/v3 (version.ts).

import type { AccountingRecord, JobId, JobSpec, Partition, QueueEntry } from '../transport.js';

/** One element of the controller's job list (GET …/jobs), keyed like SlurmTransport.queue(). */
export interface ListedJob {
  /** `123` or `123_4` */
  key: JobId;
  /** The id the caller asked for that covers it: `123` (a single job, or array 123). */
  base: JobId;
  entry: QueueEntry;
  /** For a job that ended (the list keeps them for MinJobAge): its exit as `code:signal`. */
  exitCode?: string;
}

/** One accounting record (slurmdb), plus who cancelled it by name (the transport finds the uid). */
export interface DbJob {
  record: AccountingRecord;
  killRequestUser?: string;
}

export interface RestAdapter {
  /** `v0.0.38` */
  readonly version: string;
  readonly paths: {
    submit: string;
    jobs: string;
    /** DELETE: cancel one job or array element (`123`, `123_4`). */
    job(id: JobId): string;
    /** Accounting of these jobs (arrays included) in one request. */
    dbJobs(ids: JobId[]): string;
    partitions: string;
    nodes: string;
  };
  /** The submit request's body; `environment`: every variable the job gets. */
  submitBody(spec: JobSpec, environment: Record<string, string>): unknown;
  /** The submit answer (any status): the job id, or Slurm's refusal. */
  parseSubmit(status: number, json: unknown): { jobId: JobId } | { error: string };
  parseJobs(json: unknown): ListedJob[];
  parseDbJobs(json: unknown): DbJob[];
  parsePartitions(partitions: unknown, nodes: unknown): Partition[];
  /** The errors[] of any answer, one line each (empty when none). */
  errors(json: unknown): string[];
}

/** A raw wait status (what the controller's exit_code holds: 768 = exit 3, 9 = SIGKILL) → `code:signal`. */
export function waitStatusToExitCode(raw: number): string {
  const signal = raw & 0x7f;
  return signal !== 0 ? `0:${signal}` : `${(raw >> 8) & 0xff}:0`;
}

/**
 * An array's index expression as Slurm prints it (`0-3%1`, `1,3,5-7`, `0-9:2`) → its indices.
 * Throws on anything else (a bad answer must not silently drop jobs).
 */
export function expandIndices(expr: string): number[] {
  const body = expr.replace(/%\d+$/, '');
  const out: number[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) throw new Error(`cannot read the array index expression '${expr}' (part '${part}')`);
    const from = Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (to < from || step < 1 || to - from > 10_000_000)
      throw new Error(`cannot read the array index expression '${expr}' (part '${part}')`);
    for (let i = from; i <= to; i += step) out.push(i);
  }
  return out;
}
