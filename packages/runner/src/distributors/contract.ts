// The distributor contract: what the swarm asks of a cluster plugin, and what the plugin may ask
// of the runner that hosts it. A distributor owns the lifecycle of task instances on one cluster;
// it reports their transitions either through the host (batched, for in-process distributors
// such as `local`) or through a worker that talks to the server itself (`dummy`, `slurm`), in
// which case the host follows the event log to learn the outcome.

import type { InstanceTransitionT, Requester, TransitionResultT } from '@jobmon/core';

/** One task instance to start: what the queue request returned for it. */
export interface LaunchItem {
  instanceId: number;
  taskId: number;
  name: string;
  command: string;
  cluster: string;
  queue: string;
  resources: Record<string, unknown>;
  /** The task's template, as an index the runner gives (the same for every task of a template). */
  template?: number;
  /** The template's concurrency limit, given only to a distributor that `throttlesTemplates`. */
  templateLimit?: number;
}

export interface DistributorHost {
  readonly serverUrl: string;
  /** For reads the distributor needs (e.g. the process groups its workers recorded). */
  readonly requester: Requester;
  readonly workflowId: number;
  readonly runId: number;
  /** Directory for this workflow's per-instance stdout/stderr files (exists). */
  readonly logDir: string;
  /** Deadline a worker-based distributor gives a LAUNCHED instance to report RUNNING (nextReportMs). */
  readonly instanceReportByMs: number;
  /** Most bytes kept of each instance's stdout and stderr; unset: the worker package's default. */
  readonly logCapBytes?: number;
  /** Report an instance transition; the host batches reports and sends them in order. The
   * promise resolves with the server's verdict, or undefined when the report could not be sent
   * (the host has dealt with that); it never rejects, so callers that need not wait may ignore it. */
  report(item: InstanceTransitionT): Promise<TransitionResultT | undefined>;
  /** Call when freeSlots() grew (a process ended), so the swarm can launch at once. */
  capacityChanged(): void;
  /** Variables to add to our own environment for processes the distributor starts (JOBMON_URL, ids). */
  childEnv(item: LaunchItem): NodeJS.ProcessEnv;
}

export interface Distributor {
  readonly cluster: string;
  /** True when workers report to the server directly; the host then follows the event log. */
  readonly reportsViaServer: boolean;
  /**
   * True when the distributor enforces each template's concurrency limit itself (Slurm: the job
   * array's throttle, %N): the swarm then hands it a template's ready tasks beyond the limit, with
   * the limit in each item (`templateLimit`), instead of holding them back.
   */
  readonly throttlesTemplates?: boolean;
  /** How many more instances it can take right now (Infinity for a cluster with its own queue). */
  freeSlots(): number;
  /** Start the instances; must not block. Each instance is reported at least to RUNNING or an error. */
  launch(items: LaunchItem[]): void;
  /**
   * The server moved these instances to TRIAGING (their heartbeats stopped). Say whether each
   * lives: report RUNNING (with a new deadline) or an error class (UNKNOWN_ERROR, RESOURCE_ERROR),
   * killing whatever is left of it. Only distributors whose instances have deadlines need it.
   */
  triage?(instanceIds: number[]): Promise<void>;
  /** Kill these instances' processes (a stop or resume). Reports their end. */
  terminate(instanceIds: number[]): Promise<void>;
  /** Kill everything still running and release resources. */
  stop(): Promise<void>;
}

/** The cluster a distributor serves, as the server holds it (GET /clusters). */
export interface ClusterConfig {
  name: string;
  /** Picks the factory (`local`, `sequential`, `dummy`, `slurm`, …). */
  type: string;
  /** The cluster's options, checked by the server per type (e.g. `local`: parallelism). */
  options: Record<string, unknown>;
  /** Limits are [min, max] per resource: cores, memory in MiB, runtime in seconds. */
  queues: { name: string; limits: Record<string, unknown> }[];
}

export interface DistributorFactoryOptions {
  host: DistributorHost;
  cluster: ClusterConfig;
  /** `local`: how many commands at once, for this run (default: the cluster's options.parallelism,
   *  else the number of cores). */
  parallelism?: number;
}

export type DistributorFactory = (opts: DistributorFactoryOptions) => Distributor;

/** Make a safe file-name fragment from a task name. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
}
