// How the slurm distributor talks to Slurm: one interface, two transports (the command line on a
// submit host: cli-transport.ts; slurmrestd: rest/). The distributor decides what to submit and
// when to poll; a transport only turns these calls into Slurm's commands or requests and parses
// the answers. Every transport counts its calls, so the polling budget can be checked.

/** One batch job, or one job array, as Slurm is asked to run it. */
export interface JobSpec {
  /** Job name (Slurm's --job-name): `jobmon-<first instance id>-<template or task>`. */
  name: string;
  partition?: string;
  account?: string;
  /** --cpus-per-task */
  cpusPerTask?: number;
  /** --mem, in MiB */
  memoryMiB?: number;
  /** --time, in whole minutes (Slurm's unit; rounded up by the caller) */
  timeMinutes?: number;
  /** --constraint (node features) */
  constraint?: string;
  /** Slurm's own log of the job (--output; --error goes to the same file). May hold %j, %A, %a. */
  output: string;
  /** Working directory of the job. */
  cwd: string;
  /** An array of `size` elements, indices 0 … size-1, at most `throttle` running at once (%N). */
  array?: { size: number; throttle?: number };
  /**
   * Which of the submitting process's variables the job gets (--export): 'ALL' (the default: a
   * conda or module environment carries over), 'NONE', or the names listed. `env` is set on top.
   */
  exportEnv: 'ALL' | 'NONE' | string[];
  /** Variables the job must have (JOBMON_URL, …): set in the job whatever exportEnv says. */
  env: Record<string, string>;
  /** The batch script (starts with #!/bin/sh; no #SBATCH lines: options come from this spec). */
  script: string;
}

/** Job id as Slurm prints it: `123` for a single job, `123_4` for element 4 of array 123. */
export type JobId = string;

/** One of our jobs as the queue shows it. */
export interface QueueEntry {
  /** PENDING, RUNNING, COMPLETING, CONFIGURING, SUSPENDED, … */
  state: string;
  /** Slurm's reason (pending) or node list (running), for messages. */
  reason?: string;
  /** The job's name (`jobmon-<instance>-…`): who may cancel it checks it is Jobmon's. */
  name?: string;
}

/** One job's accounting record (sacct / slurmdbd). */
export interface AccountingRecord {
  /** `123` or `123_4` (JobID, not JobIDRaw). */
  jobId: JobId;
  /** First word of the state (`CANCELLED by 0` → CANCELLED). */
  state: string;
  /** `code:signal`, as sacct prints ExitCode. */
  exitCode: string;
  /** The uid that cancelled the job, when state is CANCELLED and Slurm says who (`CANCELLED by 0`). */
  cancelledBy?: number;
  reason?: string;
  /** Peak resident memory of the job's steps, bytes (MaxRSS). */
  maxRssBytes?: number;
  elapsedSeconds?: number;
  /** Total CPU time, seconds. */
  cpuSeconds?: number;
  /** Node(s) it ran on. */
  nodes?: string;
}

/** A partition's limits, as the cluster reports them (scontrol show partition / REST partitions). */
export interface Partition {
  name: string;
  isDefault: boolean;
  /** UP, DOWN, DRAIN, INACTIVE */
  state: string;
  /** Most CPUs one job may have on one node: min(MaxCPUsPerNode, the biggest node's CPUs). */
  maxCpusPerNode?: number;
  /** Most memory per node, MiB: min(MaxMemPerNode, the biggest node's RealMemory). */
  maxMemoryMiB?: number;
  /** MaxTime in minutes; undefined: UNLIMITED. */
  maxTimeMinutes?: number;
}

export interface ClusterFacts {
  /** MaxArraySize from the configuration: array indices must be below it. */
  maxArraySize: number;
  partitions: Partition[];
}

export interface TransportCalls {
  submit: number;
  queue: number;
  accounting: number;
  cancel: number;
  facts: number;
}

export interface SlurmTransport {
  readonly kind: 'cli' | 'rest';
  /** Submit one job or array: its id (`123`), or Slurm's refusal as one line. */
  submit(spec: JobSpec): Promise<{ jobId: JobId } | { error: string }>;
  /**
   * ONE call: the given jobs (ids `123`, whole arrays included) that are still in the queue,
   * keyed by element: `123` for a single job, `123_4` for each array element (pending ranges
   * expanded). Throws when the queue cannot be read (the controller is down): callers keep
   * their jobs unchanged then.
   */
  queue(jobIds: JobId[]): Promise<Map<JobId, QueueEntry>>;
  /**
   * ONE call: accounting records of the given jobs (`123` covers all of array 123's elements),
   * keyed like queue(). A job accounting does not know yet is simply missing. Throws when
   * accounting cannot be read (slurmdbd down).
   */
  accounting(jobIds: JobId[]): Promise<Map<JobId, AccountingRecord>>;
  /** Cancel jobs or array elements; a job that already ended is no failure. */
  cancel(jobIds: JobId[]): Promise<void>;
  /** MaxArraySize and the partitions' limits. */
  facts(): Promise<ClusterFacts>;
  /** Calls made so far, by kind. */
  readonly calls: TransportCalls;
}

export function newCalls(): TransportCalls {
  return { submit: 0, queue: 0, accounting: 0, cancel: 0, facts: 0 };
}

/** Slurm's MaxArraySize when the configuration does not say. */
export const DEFAULT_MAX_ARRAY_SIZE = 1001;
