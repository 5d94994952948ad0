// Batches instance transitions to the server: at most one request in flight; everything reported
// meanwhile goes in the next request, in order. Under load this turns thousands of reports per
// second into a few requests; when idle a report leaves at once.
//
// Nothing reported is dropped for a failure elsewhere: while the server is unreachable the
// requester keeps retrying (the runner gives it a long budget) and reports pile up here to be sent
// when it is back. A batch the server refuses (a 4xx, or a 500 that persists) is split in halves and
// retried until the item at fault is alone; only that item is given up (onItemFailed), the others
// go through. Only the requester giving up altogether (the outage outlasted the runner's
// tolerance, or the run was cancelled) fails the reporter (onFatal).

import {
  INSTANCE_PROGRESS_STATES,
  JobmonError,
  ServerUnreachableError,
  createApiClient,
  type ApiClient,
  type InstanceTransitionT,
  type Requester,
  type TransitionResultT,
} from '@jobmon/core';

/** The requester gave up on the server itself (no answer, or 502/503/504 to the end), or was cancelled. */
export function isOutage(e: unknown): boolean {
  if (e instanceof ServerUnreachableError) return true;
  if (e instanceof JobmonError && (e.status === 502 || e.status === 503 || e.status === 504)) return true;
  return e instanceof Error && / aborted$/.test(e.message);
}

interface Pending {
  item: InstanceTransitionT;
  /** The server's verdict, or undefined when the report could not be sent (the hooks said why). */
  settle: (r: TransitionResultT | undefined) => void;
}

const MAX_BATCH = 2000;
/**
 * How long a report may wait for company before it is sent. Outcomes unblock dependents, so they
 * wait little; progress reports (RUNNING, LAUNCHED…) usually ride along with the outcome that
 * follows them, and otherwise leave within PROGRESS_LINGER_MS.
 */
const OUTCOME_LINGER_MS = 10;
const PROGRESS_LINGER_MS = 50;
const PROGRESS_STATES = new Set<string>(INSTANCE_PROGRESS_STATES);

export interface ReporterHooks {
  /** Every result, in order, for the swarm. */
  onResult(r: TransitionResultT, item: InstanceTransitionT): void;
  /** One report the server refused even alone: it is given up (the others were sent). */
  onItemFailed(item: InstanceTransitionT, error: unknown): void;
  /** The server could not be reached within the requester's budget, or the run was cancelled. */
  onFatal(error: unknown): void;
}

export class Reporter {
  private queue: Pending[] = [];
  private inFlight = false;
  private failure: unknown;
  private idleWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Largest batch to send next: halved while isolating an item the server refuses. */
  private batchSize = MAX_BATCH;
  private timerDue = Infinity;

  private readonly api: ApiClient;

  constructor(
    requester: Requester,
    private readonly hooks: ReporterHooks,
  ) {
    this.api = createApiClient(requester);
  }

  /** Reports waiting to be sent (e.g. while the server is unreachable). */
  get backlog(): number {
    return this.queue.length + (this.inFlight ? 1 : 0);
  }

  /**
   * Queue a report. Never rejects: a report that could not be sent settles with undefined, and its
   * failure goes to the hooks, so a caller that does not wait cannot crash the runner.
   */
  report(item: InstanceTransitionT): Promise<TransitionResultT | undefined> {
    return new Promise((settle) => {
      if (this.failure !== undefined) return settle(undefined);
      this.queue.push({ item, settle });
      if (!this.inFlight) this.schedule(PROGRESS_STATES.has(item.to) ? PROGRESS_LINGER_MS : OUTCOME_LINGER_MS);
    });
  }

  private schedule(lingerMs: number): void {
    const due = Date.now() + lingerMs;
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      void this.flush();
    }, lingerMs);
  }

  /** Resolves when nothing is queued or in flight (or the reporter failed). */
  idle(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    }
    if ((!this.inFlight && this.queue.length === 0) || this.failure !== undefined) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0 || this.failure !== undefined) return;
    this.inFlight = true;
    const batch = this.queue.splice(0, this.batchSize);
    try {
      const res = await this.api.transitionInstances({ body: { items: batch.map((p) => p.item) } });
      res.results.forEach((r, i) => {
        const p = batch[i]!;
        this.hooks.onResult(r, p.item);
        p.settle(r);
      });
      this.batchSize = Math.min(MAX_BATCH, this.batchSize * 2);
    } catch (e) {
      if (isOutage(e)) {
        this.failure = e;
        for (const p of [...batch, ...this.queue.splice(0)]) p.settle(undefined);
        this.hooks.onFatal(e);
      } else if (batch.length > 1) {
        // Refused as a whole: find the item at fault by halves; the rest go through.
        this.queue.unshift(...batch);
        this.batchSize = Math.ceil(batch.length / 2);
      } else {
        const p = batch[0]!;
        this.hooks.onItemFailed(p.item, e);
        p.settle(undefined);
      }
    } finally {
      this.inFlight = false;
    }
    if (this.failure === undefined && this.queue.length > 0) {
      const urgent = this.queue.some((p) => !PROGRESS_STATES.has(p.item.to));
      this.schedule(urgent ? 0 : PROGRESS_LINGER_MS);
    } else for (const w of this.idleWaiters.splice(0)) w();
  }
}
