// The `slurm` distributor, command-line transport: each instance is one batch job (sbatch) that
// runs jobmon-worker, which reports to the server itself (reportsViaServer). The distributor
// follows its jobs with ONE squeue per poll for all of them and ONE batched sacct for those that
// left the queue; a job that ended without its worker reporting an end (killed for memory or
// time, cancelled, a node failure) is reported from Slurm's final state (states.ts). Missing or
// not-yet-final accounting is never success: it is waited for within `accountingWaitMs`, then the
// instance is UNKNOWN_ERROR. A stop or resume cancels the jobs with one scancel.
//
// Cluster options: `partition` (default: the task's queue name), `account`, `pollMs` (default
// 5000), `accountingWaitMs` (default 60000).

import { createRequire } from 'node:module';
import { ValidationError, isInstanceEnd, type TaskInstanceStatus } from '@jobmon/core';
import type { Distributor, DistributorFactoryOptions, LaunchItem } from '../contract.js';
import { CliTransport } from './cli-transport.js';
import { outcomeOf, type Outcome } from './states.js';
import { jobSpec, type SubmitSettings } from './submit.js';
import type { AccountingRecord, QueueEntry, SlurmTransport } from './transport.js';

const WORKER_BIN = createRequire(import.meta.url).resolve('@jobmon/worker/bin/jobmon-worker.js');

export interface SlurmOptions {
  partition?: string;
  account?: string;
  pollMs: number;
  accountingWaitMs: number;
}

/** The cluster's options, checked: an unknown key or a bad value throws a ValidationError naming it. */
export function slurmOptions(cluster: string, options: Record<string, unknown>): SlurmOptions {
  const out: SlurmOptions = { pollMs: 5_000, accountingWaitMs: 60_000 };
  const bad = (k: string, want: string) =>
    new ValidationError(`cluster '${cluster}': options.${k} must be ${want}, got ${JSON.stringify(options[k])}`, {
      cluster,
      option: k,
    });
  for (const [k, v] of Object.entries(options)) {
    if (k === 'partition' || k === 'account') {
      if (typeof v !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(v)) throw bad(k, 'a Slurm name');
      out[k] = v;
    } else if (k === 'pollMs' || k === 'accountingWaitMs') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 100 || v > 3_600_000)
        throw bad(k, 'a whole number of milliseconds from 100 to 3600000');
      out[k] = v;
    } else {
      throw new ValidationError(
        `cluster '${cluster}': options.${k} is not an option of a slurm cluster (known: partition, account, pollMs, accountingWaitMs)`,
        { cluster, option: k },
      );
    }
  }
  return out;
}

interface Job {
  jobId: string;
  instanceId: number;
  /** When it was first missing from squeue (accounting is waited for from then). */
  leftAt?: number;
  /** When its pending job was last vouched for to the server (its LAUNCHED deadline renewed). */
  aliveAt?: number;
  ended: Promise<void>;
  resolve: () => void;
}

export class SlurmDistributor implements Distributor {
  readonly cluster: string;
  readonly reportsViaServer = true;
  private readonly options: SlurmOptions;
  private readonly submit: SubmitSettings;
  readonly transport: SlurmTransport;
  /** Our jobs still followed, by Slurm job id. */
  private readonly jobs = new Map<string, Job>();
  private readonly jobOf = new Map<number, Job>();
  /** Submissions in progress (reporting INSTANTIATED, then sbatch), by instance id. */
  private readonly starting = new Map<number, Promise<void>>();
  /** Instances a stop or resume asked to kill. */
  private readonly killed = new Set<number>();
  private looping = false;
  private wake: (() => void) | undefined;

  constructor(private readonly opts: DistributorFactoryOptions) {
    this.cluster = opts.cluster.name;
    this.options = slurmOptions(opts.cluster.name, opts.cluster.options);
    this.submit = {
      node: process.execPath,
      workerBin: WORKER_BIN,
      logDir: opts.host.logDir,
      ...(this.options.partition !== undefined ? { partition: this.options.partition } : {}),
      ...(this.options.account !== undefined ? { account: this.options.account } : {}),
      exportEnv: 'ALL',
    };
    this.transport = new CliTransport();
  }

  /** Slurm queues the jobs itself. */
  freeSlots(): number {
    return Infinity;
  }

  launch(items: LaunchItem[]): void {
    for (const item of items) {
      const started = this.start(item).finally(() => this.starting.delete(item.instanceId));
      this.starting.set(item.instanceId, started);
    }
  }

  private async start(item: LaunchItem): Promise<void> {
    const { host } = this.opts;
    const id = item.instanceId;
    const r = await host.report({ id, to: 'INSTANTIATED' });
    if (r?.status !== 'INSTANTIATED') return;
    if (this.killed.has(id)) {
      await host.report({
        id,
        to: 'ERROR_FATAL',
        via: ['KILL_SELF'],
        errorMessage: 'cancelled before submission: the run stopped',
      });
      return;
    }
    const s = await this.transport.submit(jobSpec(item, host.childEnv(item), this.submit));
    if ('error' in s) {
      await host.report({ id, to: 'NO_DISTRIBUTOR_ID', errorMessage: `could not submit: ${s.error}` });
      host.capacityChanged();
      return;
    }
    let resolve!: () => void;
    const ended = new Promise<void>((r) => (resolve = r));
    const job: Job = { jobId: s.jobId, instanceId: id, ended, resolve };
    this.jobs.set(s.jobId, job);
    this.jobOf.set(id, job);
    void host.report({ id, to: 'LAUNCHED', distributorId: s.jobId, nextReportMs: host.instanceReportByMs });
    // A stop that arrived during sbatch: the job must not run.
    if (this.killed.has(id)) await this.transport.cancel([s.jobId]).catch(() => undefined);
    this.ensurePolling();
  }

  private ensurePolling(): void {
    if (this.looping) return;
    this.looping = true;
    void this.loop();
  }

  private pollNow(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    try {
      while (this.jobs.size > 0) {
        try {
          await this.pollOnce();
        } catch (e) {
          // Slurm's commands failed (controller down?): the jobs are unchanged; try again next time.
          process.stderr.write(`jobmon slurm distributor (${this.cluster}): ${(e as Error).message}\n`);
        }
        if (this.jobs.size === 0) break;
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.options.pollMs);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
      }
    } finally {
      this.looping = false;
    }
  }

  /** One cycle: squeue for all our jobs; sacct for those that left the queue; end what ended. */
  private async pollOnce(): Promise<void> {
    const ids = [...this.jobs.keys()];
    const queued = await this.transport.queue(ids);
    this.vouchForPending(queued);
    const left = ids.filter((j) => !queued.has(j));
    if (left.length === 0) return;
    const now = Date.now();
    const records = await this.transport.accounting(left);
    for (const jobId of left) {
      const job = this.jobs.get(jobId);
      if (!job) continue;
      job.leftAt ??= now;
      const rec = records.get(jobId);
      let outcome = rec && outcomeOf(jobId, rec.state, rec.exitCode, this.killed.has(job.instanceId), rec.cancelledBy);
      if (!outcome) {
        if (now - job.leftAt < this.options.accountingWaitMs) continue; // accounting lags: wait
        outcome = {
          to: 'UNKNOWN_ERROR',
          errorMessage: `Slurm job ${jobId} left the queue, and accounting gave no final state within ${this.options.accountingWaitMs} ms (${rec ? `last: ${rec.state}` : 'no record'})`,
        };
      }
      await this.finish(job, outcome, rec).catch((e: Error) =>
        process.stderr.write(
          `jobmon slurm distributor (${this.cluster}): job ${jobId} ended, not yet recorded: ${e.message}\n`,
        ),
      );
    }
  }

  /**
   * A job Slurm still holds is alive: while it waits in the queue its worker cannot report, so its
   * instance's LAUNCHED deadline is renewed (else the server gives it up as NO_HEARTBEAT and
   * launches another attempt beside it), at most every third of that deadline.
   */
  private vouchForPending(queued: Map<string, QueueEntry>): void {
    const { host } = this.opts;
    const now = Date.now();
    for (const [jobId, entry] of queued) {
      const job = this.jobs.get(jobId);
      if (!job || (entry.state !== 'PENDING' && entry.state !== 'CONFIGURING')) continue;
      job.aliveAt ??= now;
      if (now - job.aliveAt < host.instanceReportByMs / 3) continue;
      job.aliveAt = now;
      void host.report({ id: job.instanceId, to: 'LAUNCHED', nextReportMs: host.instanceReportByMs });
    }
  }

  /** The job is over: report its outcome unless the worker already reported an end; stop following it.
   *  If the server cannot be read, the job stays followed and the next poll tries again. */
  private async finish(job: Job, outcome: Outcome, rec?: AccountingRecord): Promise<void> {
    const { host } = this.opts;
    const { status } = await host.requester.get<{ status: TaskInstanceStatus }>(`/task-instances/${job.instanceId}`);
    // The worker reported the end (DONE, ERROR, a kill for memory it saw in its cgroup), unless it
    // could not or should not: killed, never started, or stopped by Slurm's signal (a time limit,
    // a cancel), which under Slurm it leaves to accounting. Then Slurm's word is the outcome, with
    // the job's usage from accounting.
    if (!isInstanceEnd(status)) await host.report({ id: job.instanceId, ...outcome, ...usageOf(rec) });
    this.jobs.delete(job.jobId);
    this.jobOf.delete(job.instanceId);
    this.killed.delete(job.instanceId);
    job.resolve();
    host.capacityChanged();
  }

  /** Heartbeats stopped: a job Slurm still holds is alive; one it no longer holds is ended by the poll. */
  async triage(instanceIds: number[]): Promise<void> {
    const { host } = this.opts;
    const jobs = instanceIds.map((id) => this.jobOf.get(id));
    const queued = await this.transport.queue(jobs.flatMap((j) => (j ? [j.jobId] : [])));
    for (const [k, id] of instanceIds.entries()) {
      const job = jobs[k];
      if (job && queued.has(job.jobId)) {
        void host.report({ id, to: 'RUNNING', nextReportMs: host.instanceReportByMs });
      } else if (!job) {
        void host.report({ id, to: 'UNKNOWN_ERROR', errorMessage: 'no Slurm job of this runner runs it' });
      }
    }
    this.pollNow();
  }

  async terminate(instanceIds: number[]): Promise<void> {
    for (const id of instanceIds) this.killed.add(id);
    // Submissions in progress cancel their own job once sbatch answers.
    await Promise.all(instanceIds.map((id) => this.starting.get(id)));
    // Instances this runner did not start (another runner's, e.g. a dead run's on resume).
    const foreign = instanceIds.filter((id) => !this.jobOf.has(id));
    if (foreign.length > 0)
      await this.adopt(foreign).catch((e: Error) =>
        process.stderr.write(`jobmon slurm (${this.cluster}): cannot look up jobs to cancel: ${e.message}\n`),
      );
    const jobs = instanceIds.flatMap((id) => {
      const j = this.jobOf.get(id);
      return j ? [j] : [];
    });
    for (const id of instanceIds) if (!this.jobOf.has(id)) this.killed.delete(id);
    if (jobs.length === 0) return;
    await this.transport
      .cancel(jobs.map((j) => j.jobId))
      .catch((e: Error) => process.stderr.write(`jobmon slurm: ${e.message}\n`));
    this.pollNow();
    // The jobs end (SIGTERM, SIGKILL after KillWait) and leave the queue; their ends get reported.
    const wait = setInterval(() => this.pollNow(), 500);
    try {
      await Promise.race([Promise.all(jobs.map((j) => j.ended)), new Promise((r) => setTimeout(r, 20_000).unref())]);
    } finally {
      clearInterval(wait);
    }
  }

  /**
   * Follow the jobs of instances another runner started, so they can be cancelled and their ends
   * reported: only a job the database names for the instance (its distributor id) that Slurm's
   * queue shows under Jobmon's name for it — `jobmon-<instance>-…`, or for an array element
   * (`123_4`), the name of the array's first instance, which the database shows as an element of
   * the same array in the same run. Anything else is left alone.
   */
  private async adopt(instanceIds: number[]): Promise<void> {
    type Detail = { status: TaskInstanceStatus; distributorId: string | null; workflowRunId: number };
    const detail = (id: number) => this.opts.host.requester.get<Detail>(`/task-instances/${id}`).catch(() => undefined);
    const wanted = new Map<string, { id: number; d: Detail }>();
    for (const id of instanceIds) {
      const d = await detail(id);
      const jobId = d?.distributorId;
      if (!d || isInstanceEnd(d.status) || !jobId || !/^\d+(_\d+)?$/.test(jobId) || this.jobs.has(jobId)) continue;
      wanted.set(jobId, { id, d });
    }
    if (wanted.size === 0) return;
    const queued = await this.transport.queue([...new Set([...wanted.keys()].map((j) => j.split('_')[0]!))]);
    for (const [jobId, { id, d }] of wanted) {
      const name = queued.get(jobId)?.name;
      const first = name === undefined ? undefined : /^jobmon-(\d+)-/.exec(name)?.[1];
      if (first === undefined) continue; // not in the queue, or not a Jobmon job name
      let ours = Number(first) === id;
      if (!ours && jobId.includes('_')) {
        const f = await detail(Number(first));
        ours =
          f !== undefined &&
          f.workflowRunId === d.workflowRunId &&
          (f.distributorId ?? '').startsWith(`${jobId.split('_')[0]}_`);
      }
      if (!ours) {
        process.stderr.write(
          `jobmon slurm (${this.cluster}): not cancelling Slurm job ${jobId} for instance ${id}: its name '${name}' is not Jobmon's for it\n`,
        );
        continue;
      }
      let resolve!: () => void;
      const ended = new Promise<void>((r) => (resolve = r));
      const job: Job = { jobId, instanceId: id, ended, resolve };
      this.jobs.set(jobId, job);
      this.jobOf.set(id, job);
    }
    this.ensurePolling();
  }

  async stop(): Promise<void> {
    await this.terminate([...new Set([...this.starting.keys(), ...this.jobOf.keys()])]);
  }
}

/** What accounting says the job used, as an instance's fields: MaxRSS, elapsed time, node. */
export function usageOf(rec: AccountingRecord | undefined): {
  peakMemoryBytes?: number;
  wallTimeMs?: number;
  nodeName?: string;
} {
  if (!rec) return {};
  return {
    ...(rec.maxRssBytes !== undefined ? { peakMemoryBytes: rec.maxRssBytes } : {}),
    ...(rec.elapsedSeconds !== undefined ? { wallTimeMs: Math.round(rec.elapsedSeconds * 1000) } : {}),
    ...(rec.nodes !== undefined ? { nodeName: rec.nodes.slice(0, 255) } : {}),
  };
}

export function createSlurmDistributor(opts: DistributorFactoryOptions): Distributor {
  return new SlurmDistributor(opts);
}
