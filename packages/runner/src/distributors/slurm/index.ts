// The `slurm` distributor: task instances become Slurm batch jobs that run jobmon-worker, which
// reports to the server itself (reportsViaServer). Instances taken together whose jobs differ only
// in the instance (one template, the same resources and partition) go as ONE job array, in chunks
// of at most MaxArraySize; a template's concurrency limit becomes the arrays' throttle (%N), so
// the swarm hands this distributor all of a template's ready tasks (throttlesTemplates). A
// request the partition cannot satisfy (scontrol's limits) is refused before anything is submitted.
//
// Polling has a load budget: per cycle ONE queue read for all our jobs and ONE accounting read for
// those that left the queue, whatever their number. A job still pending is alive (its LAUNCHED
// deadline is pushed). A job that ended without its worker reporting an end (killed for memory or
// time, cancelled, a node failure) is reported from Slurm's final state (states.ts). Missing or
// not-yet-final accounting is never success: it is waited for within `accountingWaitMs`, then the
// instance is UNKNOWN_ERROR. A stop or resume cancels the jobs (one scancel; over REST, a DELETE each).
//
// Cluster options (docs/clusters.md): `partition`, `account`, `pollMs` (default 10000),
// `accountingWaitMs` (default 60000), `export` (ALL, NONE or variable names; default ALL);
// `transport`: 'cli' (default: Slurm's commands on this submit host) or 'rest' (slurmrestd at
// `restUrl`, `unix:/path.sock` or `http://host:port`; with JWT auth `restUser` and a token from
// `restTokenFile` or SLURM_JWT in the runner's environment).

import { createRequire } from 'node:module';
import {
  TASK_INSTANCE_STATES,
  ValidationError,
  createApiClient,
  isInstanceEnd,
  type TaskInstanceStatus,
} from '@jobmon/core';
import type { Distributor, DistributorFactoryOptions, LaunchItem } from '../contract.js';
import { CliTransport } from './cli-transport.js';
import { RestTransport } from './rest/index.js';
import { isFinalState, outcomeOf, type Outcome } from './states.js';
import { arraySpec, checkPartition, jobSpec, type SubmitSettings } from './submit.js';
import type { AccountingRecord, ClusterFacts, JobId, JobSpec, SlurmTransport } from './transport.js';

const WORKER_BIN = createRequire(import.meta.url).resolve('@jobmon/worker/bin/jobmon-worker.js');

export interface SlurmOptions {
  partition?: string;
  account?: string;
  pollMs: number;
  accountingWaitMs: number;
  /** Which of the runner's variables jobs get (sbatch --export): ALL, NONE or names. */
  exportEnv: 'ALL' | 'NONE' | string[];
  transport: 'cli' | 'rest';
  restUrl?: string;
  restUser?: string;
  restTokenFile?: string;
}

const SLURM_OPTIONS =
  'partition, account, pollMs, accountingWaitMs, export, transport, restUrl, restUser, restTokenFile';

/** The cluster's options, checked: an unknown key or a bad value throws a ValidationError naming it. */
export function slurmOptions(cluster: string, options: Record<string, unknown>): SlurmOptions {
  const out: SlurmOptions = { pollMs: 10_000, accountingWaitMs: 60_000, exportEnv: 'ALL', transport: 'cli' };
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
    } else if (k === 'export') {
      if (v === 'ALL' || v === 'NONE') out.exportEnv = v;
      else if (typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*$/.test(v))
        out.exportEnv = v.split(',');
      else throw bad(k, 'ALL, NONE or a comma-separated list of variable names');
    } else if (k === 'transport') {
      if (v !== 'cli' && v !== 'rest') throw bad(k, "'cli' or 'rest'");
      out[k] = v;
    } else if (k === 'restUrl') {
      if (typeof v !== 'string' || !/^(unix:\/\S+|http:\/\/[^\s/]+(\/\S*)?)$/.test(v))
        throw bad(k, 'unix:/path/to/slurmrestd.sock or http://host:port');
      out[k] = v;
    } else if (k === 'restUser') {
      if (typeof v !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(v)) throw bad(k, 'a user name');
      out[k] = v;
    } else if (k === 'restTokenFile') {
      if (typeof v !== 'string' || !v.startsWith('/')) throw bad(k, 'an absolute path');
      out[k] = v;
    } else {
      throw new ValidationError(
        `cluster '${cluster}': options.${k} is not an option of a slurm cluster (known: ${SLURM_OPTIONS})`,
        { cluster, option: k },
      );
    }
  }
  const restKey = (['restUrl', 'restUser', 'restTokenFile'] as const).find((k) => out[k] !== undefined);
  if (out.transport === 'cli' && restKey !== undefined)
    throw new ValidationError(`cluster '${cluster}': options.${restKey} needs options.transport 'rest'`, {
      cluster,
      option: restKey,
    });
  if (out.transport === 'rest' && out.restUrl === undefined)
    throw new ValidationError(`cluster '${cluster}': options.transport 'rest' needs options.restUrl`, {
      cluster,
      option: 'restUrl',
    });
  if (out.restTokenFile !== undefined && out.restUser === undefined)
    throw new ValidationError(`cluster '${cluster}': options.restTokenFile needs options.restUser (the token's user)`, {
      cluster,
      option: 'restUser',
    });
  return out;
}

interface Job {
  /** The element's id: `123` for a single job, `123_4` for element 4 of array 123. */
  jobId: JobId;
  instanceId: number;
  submission: Submission;
  /** When it was first missing from squeue (accounting is waited for from then). */
  leftAt?: number;
  /** When the server gives the LAUNCHED instance up unless told it is still pending. */
  reportBy: number;
  /** Another runner's job, taken over to be cancelled (terminate of instances it did not start). */
  adopted?: boolean;
  ended: Promise<void>;
  resolve: () => void;
}

/** One sbatch: a single job or an array. */
interface Submission {
  id: JobId;
  template: number | undefined;
  /** At most this many of its elements run at once (Slurm's %N), Infinity when unthrottled. */
  throttle: number;
  /** Elements not yet ended. */
  unfinished: number;
}

/** An instance taken for submission (INSTANTIATED), waiting for its sbatch. */
interface Ready {
  item: LaunchItem;
  /** Its job, as a single job; set when it is checked against the partitions. */
  spec?: JobSpec;
  done: () => void;
}

export class SlurmDistributor implements Distributor {
  readonly cluster: string;
  readonly reportsViaServer = true;
  readonly throttlesTemplates = true;
  private readonly options: SlurmOptions;
  private readonly submit: SubmitSettings;
  readonly transport: SlurmTransport;
  /** Our jobs still followed, by element id. */
  private readonly jobs = new Map<JobId, Job>();
  private readonly jobOf = new Map<number, Job>();
  /** Submissions with elements not yet ended (their throttles count against their template's limit). */
  private readonly submissions = new Set<Submission>();
  /** Launches in progress (reporting INSTANTIATED, then waiting for sbatch), by instance id. */
  private readonly starting = new Map<number, Promise<void>>();
  /** Taken for submission; submitted together, grouped into arrays. */
  private ready: Ready[] = [];
  private submitting: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** The cluster's MaxArraySize and partitions, read once. */
  private facts: Promise<ClusterFacts> | undefined;
  /** Instances a stop or resume asked to kill. */
  private readonly killed = new Set<number>();
  private looping = false;
  /** Polling cycles run so far (the load budget is per cycle). */
  cycles = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly opts: DistributorFactoryOptions,
    transport?: SlurmTransport,
  ) {
    this.cluster = opts.cluster.name;
    this.options = slurmOptions(opts.cluster.name, opts.cluster.options);
    this.submit = {
      node: process.execPath,
      workerBin: WORKER_BIN,
      logDir: opts.host.logDir,
      ...(this.options.partition !== undefined ? { partition: this.options.partition } : {}),
      ...(this.options.account !== undefined ? { account: this.options.account } : {}),
      exportEnv: this.options.exportEnv,
    };
    this.transport =
      transport ?? (this.options.transport === 'rest' ? restTransport(this.cluster, this.options) : new CliTransport());
  }

  /** Slurm queues the jobs itself. */
  freeSlots(): number {
    return Infinity;
  }

  launch(items: LaunchItem[]): void {
    for (const item of items) {
      let done!: () => void;
      const submitted = new Promise<void>((r) => (done = r));
      const started = this.take(item, done)
        .then(() => submitted)
        .finally(() => this.starting.delete(item.instanceId));
      this.starting.set(item.instanceId, started);
    }
  }

  /** Report INSTANTIATED, then wait (briefly) for the others of the batch: they are submitted together. */
  private async take(item: LaunchItem, done: () => void): Promise<void> {
    const r = await this.opts.host.report({ id: item.instanceId, to: 'INSTANTIATED' });
    if (r?.status !== 'INSTANTIATED') {
      done();
      return;
    }
    this.ready.push({ item, done });
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, 20);
  }

  /** Submit what is ready, one pass at a time; a pass that runs asks for another when it ends. */
  private flush(): void {
    if (this.submitting) return;
    this.submitting = this.submitReady()
      .catch((e: Error) => {
        process.stderr.write(`jobmon slurm distributor (${this.cluster}): ${e.message}\n`);
      })
      .finally(() => {
        this.submitting = undefined;
        if (this.ready.some((r) => this.capacity(r.item) > 0)) this.flush();
      });
  }

  /** How many more of the item's template may be submitted to run now (its limit minus the running share). */
  private capacity(item: LaunchItem): number {
    if (item.templateLimit === undefined) return Infinity;
    let used = 0;
    for (const s of this.submissions) if (s.template === item.template) used += Math.min(s.throttle, s.unfinished);
    return item.templateLimit - used;
  }

  private async submitReady(): Promise<void> {
    const { host } = this.opts;
    const taken = this.ready;
    this.ready = [];
    const fail = async (r: Ready, to: 'NO_DISTRIBUTOR_ID' | 'ERROR_FATAL', errorMessage: string) => {
      await host.report({ id: r.item.instanceId, to, errorMessage });
      r.done();
      host.capacityChanged();
    };
    let facts: ClusterFacts;
    try {
      this.facts ??= this.transport.facts();
      facts = await this.facts;
    } catch (e) {
      this.facts = undefined; // ask again next time
      for (const r of taken)
        await fail(r, 'NO_DISTRIBUTOR_ID', `could not read the cluster's partitions: ${(e as Error).message}`);
      return;
    }
    // Checked against the partition first: what it cannot run is refused before anything is submitted.
    const groups = new Map<string, { spec: JobSpec; list: Ready[] }>();
    for (const r of taken) {
      if (this.killed.has(r.item.instanceId)) {
        await host.report({
          id: r.item.instanceId,
          to: 'ERROR_FATAL',
          via: ['KILL_SELF'],
          errorMessage: 'cancelled before submission: the run stopped',
        });
        r.done();
        continue;
      }
      const spec = jobSpec(r.item, host.childEnv(r.item), this.submit, facts.partitions);
      r.spec = spec;
      const refusal = checkPartition(spec, r.item, facts.partitions);
      if (refusal !== undefined) {
        await fail(r, 'ERROR_FATAL', refusal);
        continue;
      }
      const key = JSON.stringify([r.item.template, r.item.templateLimit, { ...spec, name: '', env: {}, script: '' }]);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { spec, list: [] }));
      g.list.push(r);
    }
    for (const { list } of groups.values()) {
      let rest = list;
      while (rest.length > 0) {
        const cap = this.capacity(rest[0]!.item);
        if (cap <= 0) {
          // The template's limit is taken by arrays still running: wait for them to end.
          this.ready.push(...rest);
          break;
        }
        const chunk = rest.slice(0, Math.min(facts.maxArraySize, rest.length));
        rest = rest.slice(chunk.length);
        await this.submitChunk(chunk, cap);
      }
    }
  }

  /** One sbatch for the chunk: a single job, or an array throttled to the template's capacity. */
  private async submitChunk(chunk: Ready[], capacity: number): Promise<void> {
    const { host } = this.opts;
    const first = chunk[0]!.item;
    const throttle = capacity < chunk.length ? capacity : Infinity;
    const spec =
      chunk.length === 1
        ? chunk[0]!.spec!
        : arraySpec(
            chunk[0]!.spec!,
            chunk.map((r) => r.item),
            throttle,
          );
    const s = await this.transport.submit(spec);
    if ('error' in s) {
      for (const r of chunk) {
        void host.report({
          id: r.item.instanceId,
          to: 'NO_DISTRIBUTOR_ID',
          errorMessage: `could not submit: ${s.error}`,
        });
        r.done();
      }
      host.capacityChanged();
      return;
    }
    const submission: Submission = {
      id: s.jobId,
      template: first.templateLimit === undefined ? undefined : first.template,
      throttle: chunk.length === 1 ? 1 : throttle,
      unfinished: chunk.length,
    };
    this.submissions.add(submission);
    const reportBy = Date.now() + host.instanceReportByMs;
    const cancel: JobId[] = [];
    for (const [k, r] of chunk.entries()) {
      const id = r.item.instanceId;
      const jobId = chunk.length === 1 ? s.jobId : `${s.jobId}_${k}`;
      let resolve!: () => void;
      const ended = new Promise<void>((res) => (resolve = res));
      const job: Job = { jobId, instanceId: id, submission, reportBy, ended, resolve };
      this.jobs.set(jobId, job);
      this.jobOf.set(id, job);
      void host.report({ id, to: 'LAUNCHED', distributorId: jobId, nextReportMs: host.instanceReportByMs });
      // A stop that arrived during sbatch: the job must not run.
      if (this.killed.has(id)) cancel.push(jobId);
      r.done();
    }
    if (cancel.length > 0) await this.transport.cancel(cancel).catch(() => undefined);
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

  /** One cycle: ONE queue read for all our jobs; ONE accounting read for those that left the queue. */
  private async pollOnce(): Promise<void> {
    const { host } = this.opts;
    this.cycles++;
    const submitted = [...new Set([...this.jobs.values()].map((j) => j.submission.id))];
    const queued = await this.transport.queue(submitted);
    const now = Date.now();
    // A job still pending in Slurm's queue is alive: push its LAUNCHED deadline before it passes
    // (a heartbeat: it moves the deadline of a LAUNCHED or RUNNING instance and nothing else).
    const due: Job[] = [];
    for (const [jobId, q] of queued) {
      const job = this.jobs.get(jobId);
      // Renewed at half its term (or 3 cycles before it ends, if sooner): the answer also says
      // whether a stop or resume asked the instance to die meanwhile (KILL_SELF), which a job
      // that has not started cannot hear itself.
      if (!job || q.state !== 'PENDING') continue;
      if (now < job.reportBy - Math.max(3 * this.options.pollMs, host.instanceReportByMs / 2)) continue;
      job.reportBy = now + host.instanceReportByMs;
      due.push(job);
    }
    void this.stillPending(due);
    const left = [...this.jobs.keys()].filter((j) => !queued.has(j));
    if (left.length === 0) return;
    // An array's elements that never started are one record under the array's own id (`123`):
    // ask for it too, and take it for an element without a record of its own.
    const arrays = [...new Set(left.filter((j) => j.includes('_')).map((j) => j.split('_')[0]!))];
    const records = await this.transport.accounting([...left, ...arrays]);
    for (const jobId of left) {
      const job = this.jobs.get(jobId);
      if (!job) continue;
      job.leftAt ??= now;
      const rest = jobId.includes('_') ? records.get(jobId.split('_')[0]!) : undefined;
      const rec = records.get(jobId) ?? (rest && isFinalState(rest.state) ? { ...rest, jobId } : undefined);
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

  /** Heartbeats for jobs Slurm still holds pending, a few at a time; a failed one is retried next cycle. */
  private async stillPending(jobs: Job[]): Promise<void> {
    const api = createApiClient(this.opts.host.requester);
    const body = { nextReportMs: this.opts.host.instanceReportByMs };
    for (let i = 0; i < jobs.length; i += 8) {
      await Promise.all(
        jobs.slice(i, i + 8).map((j) =>
          api.instanceHeartbeat({ id: j.instanceId, body }).then(
            (r) => {
              // Told to die while it waits in the queue: cancel it; the poll reports the kill.
              if (r.status === 'KILL_SELF' && !this.killed.has(j.instanceId)) {
                this.killed.add(j.instanceId);
                void this.transport.cancel([j.jobId]).then(
                  () => this.pollNow(),
                  (e: Error) => process.stderr.write(`jobmon slurm (${this.cluster}): ${e.message}\n`),
                );
              }
            },
            () => {
              j.reportBy = 0;
            },
          ),
        ),
      );
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
    if (--job.submission.unfinished === 0) this.submissions.delete(job.submission);
    if (this.ready.length > 0) this.flush(); // a template's limit may have room again
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
    // Those waiting for their template's limit are never submitted.
    const waiting = this.ready.filter((r) => this.killed.has(r.item.instanceId));
    this.ready = this.ready.filter((r) => !this.killed.has(r.item.instanceId));
    for (const r of waiting) {
      await this.opts.host.report({
        id: r.item.instanceId,
        to: 'ERROR_FATAL',
        via: ['KILL_SELF'],
        errorMessage: 'cancelled before submission: the run stopped',
      });
      r.done();
    }
    // Submissions in progress cancel their own job once sbatch answers.
    await Promise.all(instanceIds.map((id) => this.starting.get(id)));
    // Instances this runner did not start (another runner's, e.g. a dead run's on resume).
    const foreign = instanceIds.filter((id) => !this.jobOf.has(id));
    if (foreign.length > 0)
      await this.adopt(foreign).catch((e: Error) =>
        process.stderr.write(`jobmon slurm (${this.cluster}): cannot look up jobs to cancel: ${e.message}\n`),
      );
    let jobs = instanceIds.flatMap((id) => {
      const j = this.jobOf.get(id);
      return j ? [j] : [];
    });
    // A job whose worker already reported its end is finishing on its own (still in the queue for
    // a moment): cancelling it would make Slurm's accounting say CANCELLED for a task that was DONE.
    const live = await this.liveOfRun();
    if (live) jobs = jobs.filter((j) => j.adopted || live.has(j.instanceId));
    for (const id of instanceIds) if (!jobs.some((j) => j.instanceId === id)) this.killed.delete(id);
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

  /** This run's instances that have not ended (read page by page); undefined when the server cannot say. */
  private async liveOfRun(): Promise<Set<number> | undefined> {
    const api = createApiClient(this.opts.host.requester);
    const status = TASK_INSTANCE_STATES.filter((st) => !isInstanceEnd(st)).join(',');
    const live = new Set<number>();
    try {
      let after: number | undefined = 0;
      while (after !== undefined) {
        const page: { instances: { id: number }[]; nextAfter?: number } = await api.getRunInstances({
          id: this.opts.host.runId,
          query: { status, after, limit: 10_000 },
        });
        for (const i of page.instances) live.add(i.id);
        after = page.nextAfter;
      }
      return live;
    } catch {
      return undefined;
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
      const submission: Submission = { id: jobId.split('_')[0]!, template: undefined, throttle: 1, unfinished: 1 };
      const reportBy = Date.now() + this.opts.host.instanceReportByMs;
      const job: Job = { jobId, instanceId: id, submission, reportBy, ended, resolve, adopted: true };
      this.jobs.set(jobId, job);
      this.jobOf.set(id, job);
    }
    this.ensurePolling();
  }

  async stop(): Promise<void> {
    await this.terminate([...new Set([...this.starting.keys(), ...this.jobOf.keys()])]);
  }
}

/** The REST transport for checked options; JWT auth takes the token from restTokenFile or SLURM_JWT. */
function restTransport(cluster: string, o: SlurmOptions): RestTransport {
  const url = o.restUrl!;
  if (o.restUser === undefined) return new RestTransport({ url });
  if (o.restTokenFile !== undefined) return new RestTransport({ url, user: o.restUser, tokenFile: o.restTokenFile });
  const token = process.env['SLURM_JWT'];
  if (!token)
    throw new ValidationError(
      `cluster '${cluster}': options.restUser is set but there is no token: give options.restTokenFile or set SLURM_JWT`,
      { cluster, option: 'restTokenFile' },
    );
  return new RestTransport({ url, user: o.restUser, token: token.replace(/^SLURM_JWT=/, '') });
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
