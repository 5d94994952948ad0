// Start-up timing of jobmon-worker, for bench/worker-startup.mjs: only when JOBMON_WORKER_TIMING
// names a file, one JSON line is appended to it once the first report (RUNNING) is answered. All
// times are ms since the epoch: the process's start (the kernel's, 10 ms resolution: under Slurm
// the batch script's, which execs node), node's time origin, the start and end of module loading,
// the RUNNING request sent and answered. cli.ts imports this module first, so `modulesStart` is
// taken before the worker's own modules load. Off, it costs one environment lookup.

import { appendFileSync, readFileSync } from 'node:fs';

const FILE = process.env['JOBMON_WORKER_TIMING'];
const marks: Record<string, number> = {};

/** Record now under `name` (ms since the epoch, sub-millisecond). */
export function mark(name: string): void {
  if (FILE) marks[name] = performance.timeOrigin + performance.now();
}
mark('modulesStart');

/** When this process started, from /proc (ms since the epoch); undefined off Linux. */
function processStart(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces), which ends at the last ')'.
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    // In clock ticks since boot; USER_HZ is 100 on Linux (what node cannot ask sysconf for).
    const uptimeS = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const now = Date.now();
    return now - (uptimeS - startTicks / 100) * 1000;
  } catch {
    return undefined;
  }
}

/** Append the marks (and `extra`) as one JSON line; never fails the worker. */
export function writeTiming(extra: Record<string, unknown>): void {
  if (!FILE) return;
  try {
    const line = {
      ...extra,
      slurmJobId: process.env['SLURM_JOB_ID'] ?? null,
      processStart: processStart() ?? null,
      nodeStart: performance.timeOrigin,
      ...marks,
    };
    appendFileSync(FILE, `${JSON.stringify(line)}\n`);
  } catch {
    // a timing file that cannot be written is not the task's problem
  }
}
