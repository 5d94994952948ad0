// Batches instance transitions to the server: at most one request in flight; everything reported
// meanwhile goes in the next request, in order. Under load this turns thousands of reports per
// second into a few requests; when idle a report leaves at once.

import type { InstanceTransitionT, Requester, TransitionResultT } from '@jobmon/core';

interface Pending {
  item: InstanceTransitionT;
  resolve: (r: TransitionResultT) => void;
  reject: (e: unknown) => void;
}

const MAX_BATCH = 2000;
/**
 * How long a report may wait for company before it is sent. Outcomes unblock dependents, so they
 * wait little; progress reports (RUNNING, LAUNCHED…) usually ride along with the outcome that
 * follows them, and otherwise leave within PROGRESS_LINGER_MS.
 */
const OUTCOME_LINGER_MS = 10;
const PROGRESS_LINGER_MS = 50;
const PROGRESS_STATES = new Set(['INSTANTIATED', 'LAUNCHED', 'RUNNING', 'TRIAGING', 'KILL_SELF']);

export class Reporter {
  private queue: Pending[] = [];
  private inFlight = false;
  private failure: unknown;
  private idleWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly requester: Requester,
    /** Every result, in order, for the swarm. */
    private readonly onResult: (r: TransitionResultT, item: InstanceTransitionT) => void,
    private readonly onFatal: (e: unknown) => void,
  ) {}

  report(item: InstanceTransitionT): Promise<TransitionResultT> {
    return new Promise((resolve, reject) => {
      if (this.failure !== undefined) return reject(this.failure);
      this.queue.push({ item, resolve, reject });
      if (!this.inFlight) this.schedule(PROGRESS_STATES.has(item.to) ? PROGRESS_LINGER_MS : OUTCOME_LINGER_MS);
    });
  }

  private timerDue = Infinity;

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

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    }
    if (!this.inFlight && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    const batch = this.queue.splice(0, MAX_BATCH);
    try {
      const res = await this.requester.post<{ results: TransitionResultT[] }>('/task-instances/transitions', {
        items: batch.map((p) => p.item),
      });
      res.results.forEach((r, i) => {
        const p = batch[i]!;
        this.onResult(r, p.item);
        p.resolve(r);
      });
    } catch (e) {
      this.failure = e;
      for (const p of [...batch, ...this.queue.splice(0)]) p.reject(e);
      this.onFatal(e);
    } finally {
      this.inFlight = false;
    }
    if (this.queue.length > 0) {
      const urgent = this.queue.some((p) => !PROGRESS_STATES.has(p.item.to));
      this.schedule(urgent ? 0 : PROGRESS_LINGER_MS);
    } else for (const w of this.idleWaiters.splice(0)) w();
  }
}
