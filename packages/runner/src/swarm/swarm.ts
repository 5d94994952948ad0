// The swarm: DAG traversal for one workflow run. It keeps per-task state in typed arrays, queues
// ready tasks with the server in batches (which creates their instances), hands instances to
// distributors as concurrency allows, and reacts to outcomes the moment they are known:
// a finished task's dependents are queued in the same tick.
//
// Local task states (not the server's): WAITING for upstreams → READY → QUEUEING (request in
// flight) → HELD (instance exists, waiting for a slot) → ACTIVE (handed to a distributor; its
// instance is launched, then reported running) → DONE | FAILED. Retries go back to READY at the
// front of the line. While the server is unreachable nothing new is queued or launched.
//
// Everything the swarm asks of the outside goes through a SwarmPort (the server's queue request,
// the distributor of a cluster): run.ts backs it with HTTP, unit tests with an in-memory server.
// Outcomes come in through instanceEnded/instanceRunning, called by whoever hears them.

import { downstreamOf, type QueueResponseT, type TaskStatus } from '@jobmon/core';
import type { Distributor, LaunchItem } from '../distributors/contract.js';

const WAITING = 0;
const READY = 1;
const QUEUEING = 2;
const HELD = 3;
const ACTIVE = 4;
const DONE = 5;
const FAILED = 6;

export interface SwarmTasks {
  /** Server task ids, by index. */
  ids: ArrayLike<number>;
  /** Server statuses at bind time; DONE tasks are skipped. */
  statuses: ArrayLike<TaskStatus>;
  /** Template index per task (into SwarmOptions.templateLimits). */
  templates: ArrayLike<number>;
  /** Upstream task indices per task. */
  upstream: readonly (readonly number[])[];
}

/** Tasks by where they are; every task is in exactly one count. */
export interface SwarmProgress {
  total: number;
  done: number;
  failed: number;
  /** Handed to a distributor and reported running. */
  running: number;
  /** Handed to a distributor, not yet reported running. */
  launched: number;
  /** Ready to run: being queued with the server, or queued and waiting for a free slot. */
  queued: number;
  /** Waiting for upstream tasks (or not started because the run stopped). */
  pending: number;
  /** Of the pending: stopped while they ran (a stop or a resume elsewhere killed them); they run on resume. */
  stopped: number;
}

/** What the swarm needs from outside: the server's queue request and the cluster plugins. */
export interface SwarmPort {
  /**
   * Create an instance for each task (the server's POST /workflow-runs/:id/queue). A task retried
   * after a resource error comes back with its scaled resources; a task that is not queueable
   * any more comes back in `skipped` with the state it is in. Rejects only when the server is
   * given up on: the swarm then fails.
   */
  queue(taskIds: number[]): Promise<QueueResponseT>;
  /** The distributor that runs a cluster's instances; undefined fails the swarm. */
  distributor(cluster: string): Distributor | undefined;
}

export interface SwarmOptions {
  port: SwarmPort;
  tasks: SwarmTasks;
  /** Most instances active at once per template (by SwarmTasks.templates); missing: no limit. */
  templateLimits: readonly number[];
  maxConcurrentlyRunning: number;
  onProgress?: (p: SwarmProgress) => void;
  onWarning?: (message: string) => void;
}

const QUEUE_BATCH = 1000;
/** Instances created ahead of free slots (bounded so a paused workflow does not queue everything). */
const QUEUE_AHEAD = 2000;

export class Swarm {
  private readonly n: number;
  private readonly state: Uint8Array;
  private readonly remaining: Int32Array;
  private readonly down: ReturnType<typeof downstreamOf>;
  private readonly indexOf = new Map<number, number>();
  private readonly ready: number[] = [];
  private readyHead = 0;
  private readonly urgent: number[] = [];
  private readonly held = new Map<number, LaunchItem[]>();
  private heldCount = 0;
  private queueing = 0;
  private queueInFlight = false;
  private readonly activeByTemplate: Int32Array;
  private active = 0;
  private readonly instanceTask = new Map<number, number>();
  private readonly instanceItem = new Map<number, LaunchItem>();
  private readonly runningInstances = new Set<number>();
  private stoppedCount = 0;
  private online = true;
  private doneCount = 0;
  private failedCount = 0;
  private stopping = false;
  private finished = false;
  private resolveFinished!: () => void;
  private rejectFinished!: (e: unknown) => void;
  readonly finishedPromise: Promise<void>;
  private maxConcurrent: number;
  private templateLimits: readonly number[];

  constructor(private readonly opts: SwarmOptions) {
    const { tasks } = opts;
    this.n = tasks.ids.length;
    this.state = new Uint8Array(this.n);
    this.remaining = new Int32Array(this.n);
    this.down = downstreamOf(tasks.upstream);
    let templateCount = opts.templateLimits.length;
    for (let i = 0; i < this.n; i++) templateCount = Math.max(templateCount, tasks.templates[i]! + 1);
    this.activeByTemplate = new Int32Array(templateCount);
    this.maxConcurrent = opts.maxConcurrentlyRunning;
    this.templateLimits = [...opts.templateLimits];
    this.finishedPromise = new Promise((resolve, reject) => {
      this.resolveFinished = resolve;
      this.rejectFinished = reject;
    });
    for (let i = 0; i < this.n; i++) this.indexOf.set(tasks.ids[i]!, i);
    for (let i = 0; i < this.n; i++) {
      if (tasks.statuses[i] === 'DONE') {
        this.state[i] = DONE;
        this.doneCount++;
      }
    }
    for (let i = 0; i < this.n; i++) {
      if (this.state[i] === DONE) continue;
      let r = 0;
      for (const u of tasks.upstream[i]!) if (this.state[u] !== DONE) r++;
      this.remaining[i] = r;
    }
  }

  progress(): SwarmProgress {
    const queued = this.stopping ? 0 : this.heldCount + this.queueing + this.readyCount();
    const running = this.runningInstances.size;
    return {
      total: this.n,
      done: this.doneCount,
      failed: this.failedCount,
      running,
      launched: this.active - running,
      queued,
      pending: this.n - this.doneCount - this.failedCount - this.active - queued,
      stopped: this.stoppedCount,
    };
  }

  /** The server stopped answering (false) or answers again (true): launch nothing new meanwhile. */
  setOnline(online: boolean): void {
    this.online = online;
    if (online) this.pump();
  }

  /** An active instance was reported running (progress only). */
  instanceRunning(instanceId: number): void {
    if (!this.instanceTask.has(instanceId) || this.runningInstances.has(instanceId)) return;
    this.runningInstances.add(instanceId);
    this.opts.onProgress?.(this.progress());
  }

  /** Final task status by index: DONE, ERROR_FATAL, or null for tasks that did not finish. */
  finalStatuses(): (TaskStatus | null)[] {
    return Array.from(this.state, (s) => (s === DONE ? 'DONE' : s === FAILED ? 'ERROR_FATAL' : null));
  }

  get allDone(): boolean {
    return this.doneCount === this.n;
  }

  start(): void {
    for (let i = 0; i < this.n; i++) {
      if (this.state[i] === WAITING && this.remaining[i] === 0) this.makeReady(i, false);
    }
    this.pump();
  }

  /** Stop launching; what is active keeps running (the caller may terminate it). */
  drain(): void {
    this.stopping = true;
    this.checkFinished();
  }

  /** Remove every held (queued, not launched) instance and return their ids, for cancelling. */
  takeHeld(): number[] {
    const ids: number[] = [];
    for (const list of this.held.values()) for (const item of list.splice(0)) ids.push(item.instanceId);
    this.heldCount = 0;
    return ids;
  }

  /** The cluster an active instance was launched on. */
  clusterOfInstance(instanceId: number): string | undefined {
    return this.instanceItem.get(instanceId)?.cluster;
  }

  /**
   * Stop now (a stop, a resume elsewhere, or giving up on the server): launch nothing new and
   * terminate every active instance on the distributor that runs it. Their ends arrive as usual.
   */
  async stop(): Promise<void> {
    this.drain();
    const byDist = new Map<Distributor, number[]>();
    for (const [id, item] of this.instanceItem) {
      const dist = this.opts.port.distributor(item.cluster);
      if (!dist) continue;
      let ids = byDist.get(dist);
      if (!ids) byDist.set(dist, (ids = []));
      ids.push(id);
    }
    await Promise.all([...byDist].map(([dist, ids]) => dist.terminate(ids)));
  }

  fail(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.rejectFinished(error);
  }

  private readyCount(): number {
    return this.ready.length - this.readyHead + this.urgent.length;
  }

  private makeReady(i: number, front: boolean): void {
    this.state[i] = READY;
    (front ? this.urgent : this.ready).push(i);
  }

  private takeReady(): number | undefined {
    if (this.urgent.length > 0) return this.urgent.shift();
    if (this.readyHead < this.ready.length) {
      const i = this.ready[this.readyHead++]!;
      if (this.readyHead > 4096 && this.readyHead * 2 > this.ready.length) {
        this.ready.splice(0, this.readyHead);
        this.readyHead = 0;
      }
      return i;
    }
    return undefined;
  }

  /** Queue what is ready, launch what is held: called after every change. */
  pump(): void {
    if (this.finished) return;
    if (!this.stopping && this.online) {
      this.launchHeld();
      this.queueReady();
    }
    this.checkFinished();
    this.opts.onProgress?.(this.progress());
  }

  private queueReady(): void {
    if (this.queueInFlight || this.readyCount() === 0) return;
    // Refill in bulk: only when few instances are left to launch (a low-water mark), so a long
    // ready list costs a few large requests rather than one request per launch.
    if (this.heldCount > QUEUE_AHEAD / 4) return;
    const room = QUEUE_AHEAD - this.heldCount;
    const batch: number[] = [];
    while (batch.length < Math.min(room, QUEUE_BATCH)) {
      const i = this.takeReady();
      if (i === undefined) break;
      this.state[i] = QUEUEING;
      batch.push(i);
    }
    if (batch.length === 0) return;
    this.queueInFlight = true;
    this.queueing = batch.length;
    // A task retried after a resource error gets its scaled resources from the server.
    this.opts.port
      .queue(batch.map((i) => this.opts.tasks.ids[i]!))
      .then((res) => {
        this.queueInFlight = false;
        this.queueing = 0;
        for (const inst of res.instances) {
          const i = this.indexOf.get(inst.taskId)!;
          this.state[i] = HELD;
          const t = this.opts.tasks.templates[i]!;
          let list = this.held.get(t);
          if (!list) this.held.set(t, (list = []));
          list.push({ ...inst });
          this.heldCount++;
        }
        for (const s of res.skipped) {
          const i = this.indexOf.get(s.taskId)!;
          if (s.status === 'DONE') this.markDone(i);
          else {
            this.opts.onWarning?.(`task ${s.taskId} was ${s.status} when queued; it is left alone`);
            this.state[i] = FAILED;
            this.failedCount++;
          }
        }
        this.pump();
      })
      .catch((e: unknown) => this.fail(e));
  }

  /** New limits while running (`jobmon workflow concurrency`): the workflow's (0 pauses: nothing
   *  new starts) and per template index. What runs goes on; the next pump applies them. */
  setLimits(maxConcurrentlyRunning: number, templateLimits: readonly number[]): void {
    this.maxConcurrent = maxConcurrentlyRunning;
    this.templateLimits = [...templateLimits];
    this.pump();
  }

  private launchHeld(): void {
    if (this.heldCount === 0) return;
    const batches = new Map<Distributor, LaunchItem[]>();
    for (const [t, list] of this.held) {
      const limit = this.templateLimits[t] ?? Infinity;
      while (list.length > 0 && this.active < this.maxConcurrent) {
        const item = list[0]!;
        const dist = this.opts.port.distributor(item.cluster);
        if (!dist) {
          this.fail(new Error(`no distributor for cluster '${item.cluster}'`));
          return;
        }
        // A distributor that throttles templates itself gets them all, with the limit to apply.
        if (dist.throttlesTemplates) {
          item.template = t;
          if (limit !== Infinity) item.templateLimit = limit;
        } else if (this.activeByTemplate[t]! >= limit) break;
        const pendingForDist = batches.get(dist)?.length ?? 0;
        if (dist.freeSlots() - pendingForDist <= 0) break;
        list.shift();
        this.heldCount--;
        const i = this.indexOf.get(item.taskId)!;
        this.state[i] = ACTIVE;
        this.active++;
        this.activeByTemplate[t]!++;
        this.instanceTask.set(item.instanceId, i);
        this.instanceItem.set(item.instanceId, item);
        let b = batches.get(dist);
        if (!b) batches.set(dist, (b = []));
        b.push(item);
      }
      if (this.active >= this.maxConcurrent) break;
    }
    for (const [dist, items] of batches) dist.launch(items);
  }

  /**
   * An instance's task reached `taskStatus` as the consequence of that instance ending.
   * Called once per instance (later calls for the same instance are ignored).
   */
  instanceEnded(instanceId: number, taskStatus: TaskStatus): void {
    const i = this.instanceTask.get(instanceId);
    if (i === undefined) return;
    this.instanceTask.delete(instanceId);
    this.instanceItem.delete(instanceId);
    this.runningInstances.delete(instanceId);
    this.active--;
    this.activeByTemplate[this.opts.tasks.templates[i]!]!--;
    switch (taskStatus) {
      case 'DONE':
        this.markDone(i);
        break;
      case 'REGISTERING':
      case 'ADJUSTING_RESOURCES':
        if (this.stopping) {
          // Killed by the stop (or failed while it drained): it runs again on resume.
          this.state[i] = WAITING;
          this.stoppedCount++;
        } else this.makeReady(i, true);
        break;
      default:
        this.state[i] = FAILED;
        this.failedCount++;
    }
    this.pump();
  }

  private markDone(i: number): void {
    this.state[i] = DONE;
    this.doneCount++;
    const { offsets, targets } = this.down;
    for (let k = offsets[i]!; k < offsets[i + 1]!; k++) {
      const d = targets[k]!;
      if (--this.remaining[d]! === 0 && this.state[d] === WAITING) this.makeReady(d, false);
    }
  }

  private checkFinished(): void {
    if (this.finished) return;
    const idle = this.active === 0 && !this.queueInFlight;
    if (!idle) return;
    if (this.stopping || (this.heldCount === 0 && this.readyCount() === 0)) {
      this.finished = true;
      this.resolveFinished();
    }
  }
}
