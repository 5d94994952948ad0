// The reaper: the server's loop for what nobody reports. Each tick, in this order:
//  1. live workflow runs whose runner missed its heartbeat deadline end (ERROR, ABORTED or
//     TERMINATED), so their workflow can be resumed — but only once the runner has had a whole
//     reporting window since this server came up or its database last failed (an outage must not
//     kill runs that could not report through it);
//  2. instances still active under a run that ended are closed: runner-held ones (no deadline of
//     their own — the `local` launchers kill their commands when the runner dies) end ERROR_FATAL;
//     worker-held ones are told KILL_SELF and given `graceMs` to confirm;
//  3. instances past their own deadline move on: LAUNCHED → NO_HEARTBEAT (never started: retried on
//     the infrastructure budget), RUNNING → TRIAGING (its distributor must say whether it lives),
//     TRIAGING → UNKNOWN_ERROR (nobody classified it), KILL_SELF → ERROR_FATAL (force cleanup).
// Every move is a compare-and-set through the same code as a reported transition, so a report that
// races the reaper wins or loses cleanly. tick(now) takes the clock as an argument for tests.
// Started with a lease (replicas over one PostgreSQL), the loop ticks only while this process holds
// the 'reaper' lease (services/lease.ts); the others stand by and renew their bid each beat.

import {
  INSTANCE_DEADLINE_TO,
  LAPSED_TO,
  NotFoundError,
  WorkflowNotResumableError,
  type WorkflowRunStatus,
  type InstanceTransitionT,
  type TaskInstanceStatus,
  type TransitionResultT,
} from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import { activeInstancesOfRun, orphanedInstances, overdueInstances } from '../db/queries/task-instance.js';
import { lockRunProcess } from '../db/queries/workflow-run.js';
import { applyInTx } from './instances.js';
import { moveRun, reapLapsedRuns } from './runs.js';
import { acquireLease, releaseLease } from './lease.js';
import { chunks, withTx } from './tx.js';

export interface ReaperOptions {
  /** How often tick() runs when started. */
  intervalMs: number;
  /** How long a TRIAGING or KILL_SELF instance may wait for an answer. */
  graceMs: number;
  onError?: (e: unknown) => void;
  /** When the server started (default: now). */
  upSince?: number;
  /** Tick only while holding the 'reaper' lease as `holder`, taken for `periodMs` at a time. */
  lease?: { holder: string; periodMs: number };
}

export type ReaperRole = 'holder' | 'standby' | 'off';

const LEASE = 'reaper';

export interface ReapReport {
  /** Runs ended because their runner stopped heartbeating. */
  runs: number[];
  /** Instance moves made, with the reason. */
  instances: { id: number; from: TaskInstanceStatus; to: TaskInstanceStatus; outcome: TransitionResultT['outcome'] }[];
}

const BATCH = 500;

export interface Orphan {
  id: number;
  status: string;
  report_by: number | null;
  run_id: number;
  run_status: string;
}

/**
 * How to close the active instances of a run that ended: runner-held ones (no deadline of their
 * own: the `local` launchers kill their commands when the runner dies) and ones that never reached
 * a worker end ERROR_FATAL at once; worker-held ones are told KILL_SELF and given `graceMs`.
 */
export function closeOrphans(orphans: readonly Orphan[], graceMs: number): InstanceTransitionT[] {
  const moves: InstanceTransitionT[] = [];
  for (const o of orphans) {
    const why = `its workflow run ${o.run_id} ended (${o.run_status})`;
    const status = o.status;
    if (o.report_by === null || status === 'QUEUED' || status === 'INSTANTIATED' || status === 'TRIAGING') {
      moves.push({
        id: o.id,
        to: 'ERROR_FATAL',
        ...(status === 'RUNNING' ? { via: ['KILL_SELF'] } : {}),
        errorMessage: `${why}; nothing will report for it`,
      });
    } else if (status === 'LAUNCHED' || status === 'RUNNING') {
      moves.push({ id: o.id, to: 'KILL_SELF', nextReportMs: graceMs, errorMessage: `${why}; told to stop` });
    }
  }
  return moves;
}

export class Reaper {
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<ReapReport> | undefined;
  /** When this server came up, or its database last failed: runs are not judged on deadlines that
   * fell while nobody could reach us. */
  private upSince: number;
  private busyBeat: Promise<void> | undefined;
  private holding = false;
  private lastPass = -Infinity;
  private beatMs: number;
  /** Passes made by start()'s loop: a replica that never held the lease made none. */
  passes = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: ReaperOptions,
  ) {
    this.upSince = opts.upSince ?? Date.now();
    // A third of the lease period leaves two beats' slack for a slow database before it lapses.
    this.beatMs = opts.lease ? Math.min(opts.intervalMs, opts.lease.periodMs / 3) : opts.intervalMs;
  }

  /** Tick now, then every intervalMs (with a lease: beat often enough to renew it, tick while held). */
  start(): void {
    if (this.timer) return;
    const beat = () => {
      this.busyBeat ??= this.beat()
        .catch((e: unknown) => this.opts.onError?.(e))
        .finally(() => (this.busyBeat = undefined));
    };
    beat();
    this.timer = setInterval(beat, this.beatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const lease = this.opts.lease;
    if (lease) {
      const held = this.holding;
      try {
        this.holding = await acquireLease(this.db, LEASE, lease.holder, lease.periodMs);
      } catch (e) {
        // Unsure whether the renewal landed: stand by rather than risk two reapers. The database
        // failed, as a failed pass would say: runners get a fresh window.
        this.holding = false;
        this.noteOutage();
        throw e;
      }
      if (!this.holding) return;
      // Taking over from a replica that died: runners that reported to it may be finding their
      // way to another, so they get a whole window, as after a server restart.
      if (!held) this.noteOutage();
    }
    // Half a beat of tolerance: timers fire a little early or late, and a pass skipped for a
    // millisecond would double the period. A pass still running is not joined: the lease is
    // renewed on the next beat while it goes on.
    const now = Date.now();
    if (this.busy || now - this.lastPass < this.opts.intervalMs - this.beatMs / 2) return;
    this.lastPass = now;
    this.passes++;
    this.tick(now).catch((e: unknown) => this.opts.onError?.(e));
  }

  /** Whether start()'s loop reaps here: 'off' when not started, 'standby' while another holds the lease. */
  get role(): ReaperRole {
    if (!this.timer) return 'off';
    return !this.opts.lease || this.holding ? 'holder' : 'standby';
  }

  /** Stop the loop and hand the lease back, so a standby takes over at its next beat. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.busyBeat;
    await this.busy?.catch(() => undefined);
    if (this.opts.lease && this.holding) {
      this.holding = false;
      await releaseLease(this.db, LEASE, this.opts.lease.holder).catch((e: unknown) => this.opts.onError?.(e));
    }
  }

  /** The database (or the server) was unreachable just now: give every runner a fresh window. */
  noteOutage(now = Date.now()): void {
    this.upSince = Math.max(this.upSince, now);
  }

  /** One pass. Concurrent calls share the pass in progress. */
  tick(now = Date.now()): Promise<ReapReport> {
    this.busy ??= this.pass(now)
      .catch((e: unknown) => {
        this.noteOutage();
        throw e;
      })
      .finally(() => (this.busy = undefined));
    return this.busy;
  }

  private async pass(now: number): Promise<ReapReport> {
    const report: ReapReport = { runs: [], instances: [] };
    report.runs = await withTx(this.db, (tx) => reapLapsedRuns(tx, undefined, this.upSince), now);

    // 2. Active instances whose run has ended.
    const orphans = await orphanedInstances(onDb(this.db), 10_000);
    const orphanMoves = closeOrphans(orphans, this.opts.graceMs);
    await this.apply(orphanMoves, new Map(orphans.map((o) => [o.id, o.status])), now, report);

    // 3. Instances past their own deadline.
    const lapsed = await overdueInstances(
      onDb(this.db),
      Object.keys(INSTANCE_DEADLINE_TO) as TaskInstanceStatus[],
      now,
      10_000,
    );
    const moves: InstanceTransitionT[] = lapsed.map((l) => {
      const from = l.status;
      const to = INSTANCE_DEADLINE_TO[from]!;
      const errorMessage =
        {
          LAUNCHED: 'launched but never reported running before its deadline',
          RUNNING: 'missed its heartbeat deadline',
          TRIAGING: `missed its heartbeat deadline and nobody said whether it lives within ${this.opts.graceMs} ms`,
        }[from as string] ?? `told to stop, but its worker never confirmed within ${this.opts.graceMs} ms; given up`;
      return { id: l.id, to, errorMessage, ...(to === 'TRIAGING' ? { nextReportMs: this.opts.graceMs } : {}) };
    });
    await this.apply(moves, new Map(lapsed.map((l) => [l.id, l.status])), now, report);
    return report;
  }

  /** Apply the moves in batches; `seen` is each instance's status when it was selected. */
  private async apply(
    items: InstanceTransitionT[],
    seen: Map<number, TaskInstanceStatus>,
    now: number,
    report: ReapReport,
  ): Promise<void> {
    for (const part of chunks(items, BATCH)) {
      const results = await withTx(this.db, (tx) => applyInTx(tx, part, 'reaper'), now);
      for (const r of results) {
        const from = seen.get(r.id)!;
        if (r.outcome === 'applied' && from !== r.status)
          report.instances.push({ id: r.id, from, to: r.status, outcome: r.outcome });
      }
    }
  }
}

/**
 * A live run whose runner is proven gone on its own host (no process with that pid and start time):
 * end it now as the reaper would after its deadline — the run lapses, its active instances are
 * closed — so the workflow can be run again at once. The caller must name the run's host, pid and
 * process start exactly as the run recorded them; a run that recorded no process start cannot be
 * proven dead and waits for its deadline.
 */
export async function reapDeadRun(
  db: Db,
  runId: number,
  claim: { host: string; pid: number; processStart: string },
  graceMs: number,
): Promise<{ runId: number; status: WorkflowRunStatus }> {
  return withTx(db, async (tx) => {
    const run = await lockRunProcess(tx, runId);
    if (!run) throw new NotFoundError(`workflow run ${runId} does not exist`, { runId });
    const to = LAPSED_TO[run.status];
    if (to === undefined) return { runId, status: run.status }; // already ended
    if (
      run.process_start === null ||
      run.host !== claim.host ||
      run.pid !== claim.pid ||
      run.process_start !== claim.processStart
    ) {
      throw new WorkflowNotResumableError(
        `workflow run ${runId} was not run by pid ${claim.pid} on ${claim.host} started at ${claim.processStart}; it cannot be ended as dead`,
        { runId, field: 'processStart' },
      );
    }
    await moveRun(tx, run, to, 'reaper');
    const orphans = await activeInstancesOfRun(tx, runId);
    const moves = closeOrphans(
      orphans.map((o) => ({ ...o, run_id: runId, run_status: to })),
      graceMs,
    );
    for (const part of chunks(moves, BATCH)) await applyInTx(tx, part, 'reaper');
    return { runId, status: to };
  });
}
