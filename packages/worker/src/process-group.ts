// Run one shell command in its own process group with stdout/stderr copied to files up to a cap
// (capped-log.ts), and measure it: exit code or signal, wall time, peak memory of the group
// (sampled from /proc), and the tails of both outputs. Used by the `local` distributor and
// by jobmon-worker alike. Optional limits (runtime, summed RSS of the group) are enforced here by
// killing the whole group; the result then says which limit was exceeded. When the command's
// shell exits, whatever it left running is ended (leftovers.ts) before the result is given.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { CappedLog, DEFAULT_LOG_CAP_BYTES } from './capped-log.js';
import { COOKIE_VAR, cookieEnv, endLeftovers, startTicks } from './leftovers.js';

export interface GroupResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  wallTimeMs: number;
  /** Largest sampled resident memory of the whole group; null if it ended before a sample. */
  peakMemoryBytes: number | null;
  stdoutTail: string;
  stderrTail: string;
  /** Set when the process could not be started at all. */
  spawnError?: string;
  /** Set when the group was killed for exceeding one of its limits. */
  limitExceeded?: LimitBreach;
  /** Set when processes the command left behind were killed after it exited: which ones. */
  cleanup?: string;
}

/** Limits enforced by killing the whole group (SIGKILL). */
export interface GroupLimits {
  /** Wall time from spawn. */
  runtimeMs?: number;
  /** Summed resident memory of the group's processes, as sampled. */
  memoryBytes?: number;
}

export interface LimitBreach {
  resource: 'runtime' | 'memory';
  /** Milliseconds run (runtime) or bytes in use when sampled (memory). */
  used: number;
  /** The limit in the same unit. */
  limit: number;
}

export interface GroupHandle {
  readonly pid: number | undefined;
  readonly done: Promise<GroupResult>;
  /** Signal the whole group; ignores a group that is already gone. */
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnGroupOptions {
  command: string;
  stdoutPath: string;
  stderrPath: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  tailBytes?: number;
  limits?: GroupLimits;
  /** Most bytes kept of each of stdout and stderr (default 1 GiB); the rest is dropped, with a note. */
  logCapBytes?: number;
}

const TAIL_BYTES = 10_000;
/** After the command and its leftovers are gone, how long its pipes may take to empty. */
const DRAIN_MS = 2000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export function spawnGroup(opts: SpawnGroupOptions): GroupHandle {
  const started = performance.now();
  const cap = opts.logCapBytes ?? DEFAULT_LOG_CAP_BYTES;
  const tailBytes = opts.tailBytes ?? TAIL_BYTES;
  const out = new CappedLog(opts.stdoutPath, cap, tailBytes);
  let err: CappedLog;
  try {
    err = new CappedLog(opts.stderrPath, cap, tailBytes);
  } catch (e) {
    out.abandon();
    throw e;
  }
  const env = opts.env ?? process.env;
  const { cookie, value } = cookieEnv(env[COOKIE_VAR]);
  // Output goes through pipes, not straight to the files, so that the cap can be kept.
  let child;
  try {
    child = spawn('/bin/sh', ['-c', opts.command], {
      detached: true, // own session and process group: killable as a whole, immune to our terminal's ^C
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env, [COOKIE_VAR]: value },
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
  } catch (e) {
    out.abandon();
    err.abandon();
    throw e;
  }
  if (child.stdout && child.stderr) {
    out.attach(child.stdout);
    err.attach(child.stderr);
  } else {
    out.abandon();
    err.abandon();
  }
  const pid = child.pid;
  // Read now, while the shell cannot have been reaped: its descendants started no earlier.
  const since = pid === undefined ? 0 : startTicks(pid);
  let settled = false;
  let breach: LimitBreach | undefined;
  let runtimeTimer: NodeJS.Timeout | undefined;
  /** We signalled the whole group (a limit, a stop): what is still in it then is dying, not left behind. */
  let groupSignalled = false;
  const killGroup = (signal: NodeJS.Signals) => {
    // Once the shell has exited its group id may be freed and reused: endLeftovers owns it then.
    if (pid === undefined || settled) return;
    groupSignalled = true;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const enforce = (b: LimitBreach) => {
    if (settled || breach !== undefined) return;
    breach = b;
    killGroup('SIGKILL');
  };
  const done = new Promise<GroupResult>((resolve) => {
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(runtimeTimer);
      if (pid !== undefined) groupSampler.remove(pid);
      const wallTimeMs = Math.round(performance.now() - started);
      // A group that exited on its own just as the limit struck is reported as it exited.
      const limitExceeded =
        breach === undefined || exitCode !== null
          ? undefined
          : breach.resource === 'runtime'
            ? { ...breach, used: wallTimeMs }
            : breach;
      const peakMemoryBytes = pid === undefined ? null : groupSampler.peakOf(pid);
      const measured = (cleanup: string | undefined): GroupResult => ({
        exitCode,
        signal,
        wallTimeMs,
        peakMemoryBytes,
        stdoutTail: out.tail(),
        stderrTail: err.tail(),
        ...(spawnError ? { spawnError } : {}),
        ...(limitExceeded ? { limitExceeded } : {}),
        ...(cleanup ? { cleanup } : {}),
      });
      // The task is its main process: once that has exited, nothing it started may run on.
      const leftovers =
        pid === undefined || spawnError !== undefined
          ? Promise.resolve(undefined)
          : endLeftovers({ pgid: pid, cookie, since }, groupSignalled);
      void leftovers.then(async (note) => {
        // The pipes close when the last holder is gone; one we could not end must not hold us.
        const drained = Promise.all([out.done, err.done]);
        const late = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
        }, DRAIN_MS);
        await drained;
        clearTimeout(late);
        resolve(measured(note));
      });
    };
    child.once('error', (e) => finish(null, null, e.message));
    child.once('exit', (code, signal) => finish(code, signal));
  });
  if (pid !== undefined) {
    const { runtimeMs, memoryBytes } = opts.limits ?? {};
    const checkMemory = (bytes: number) => {
      if (memoryBytes !== undefined && bytes > memoryBytes)
        enforce({ resource: 'memory', used: bytes, limit: memoryBytes });
    };
    groupSampler.add(pid, memoryBytes === undefined ? undefined : checkMemory);
    if (runtimeMs !== undefined) {
      // setTimeout fires at once past 2^31-1 ms (~24.8 days): re-arm until the deadline.
      const deadline = started + runtimeMs;
      const arm = () => {
        const left = deadline - performance.now();
        if (left <= 0) return enforce({ resource: 'runtime', used: runtimeMs, limit: runtimeMs });
        runtimeTimer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
        runtimeTimer.unref();
      };
      arm();
    }
  }
  return {
    pid,
    done,
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      killGroup(signal);
    },
  };
}

/** How often groups with a memory limit are sampled, at most: a limit must catch fast growth. */
const LIMIT_SAMPLE_MS = 250;

/**
 * Samples the resident memory of every tracked process group from /proc, on one timer for all
 * groups. A group's memory is the sum of its members' RSS; its peak is the largest sum seen.
 * While any group has a memory limit the timer runs at least every LIMIT_SAMPLE_MS, and each
 * sample is handed to that group's check (which may kill it).
 */
class GroupSampler {
  private readonly peaks = new Map<number, number | null>();
  private readonly checks = new Map<number, (bytes: number) => void>();
  private timer: NodeJS.Timeout | undefined;
  private period = 0;
  intervalMs = Number(process.env['JOBMON_MEMORY_SAMPLE_MS'] ?? 1000);
  private readonly pageSize = 4096;

  add(pgid: number, check?: (bytes: number) => void): void {
    this.peaks.set(pgid, null);
    if (check) this.checks.set(pgid, check);
    this.schedule();
  }
  remove(pgid: number): void {
    // Keep the peak until read by peakOf; drop afterwards.
    this.checks.delete(pgid);
    if (this.peaks.size <= 1) this.stop();
    else this.schedule();
  }
  peakOf(pgid: number): number | null {
    const v = this.peaks.get(pgid) ?? null;
    this.peaks.delete(pgid);
    return v;
  }
  private wantedPeriod(): number {
    const base = this.intervalMs > 0 ? this.intervalMs : Infinity;
    const p = this.checks.size > 0 ? Math.min(base, LIMIT_SAMPLE_MS) : base;
    return Number.isFinite(p) ? p : 0;
  }
  private schedule(): void {
    const p = this.wantedPeriod();
    if (p === this.period && (this.timer !== undefined || p === 0)) return;
    this.stop();
    if (p === 0) return;
    this.period = p;
    this.timer = setInterval(() => this.sample(), p);
    this.timer.unref();
  }
  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.period = 0;
  }
  /** Current memory of each tracked group, in bytes. */
  sample(): Map<number, number> {
    const totals = new Map<number, number>();
    if (this.peaks.size === 0) return totals;
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      return totals;
    }
    for (const name of entries) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      } catch {
        continue;
      }
      // Fields after the parenthesised command: state ppid pgrp ... rss is field 24 (1-based).
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pgrp = Number(rest[2]);
      if (!this.peaks.has(pgrp)) continue;
      const rssPages = Number(rest[21]);
      totals.set(pgrp, (totals.get(pgrp) ?? 0) + rssPages * this.pageSize);
    }
    for (const [pgid, bytes] of totals) {
      const prev = this.peaks.get(pgid) ?? 0;
      if (bytes > prev) this.peaks.set(pgid, bytes);
    }
    for (const [pgid, bytes] of totals) this.checks.get(pgid)?.(bytes);
    return totals;
  }
}

export const groupSampler = new GroupSampler();
