// The `dummy` distributor plays a remote cluster on this machine: each instance is run by its own
// jobmon-worker process (the wrapper a real cluster job would run), which reports to the server
// directly; the runner learns outcomes from the event log. It exists to exercise the worker path
// — heartbeats, KILL_SELF, reports from another process — without a cluster.
//
// Trust: a process group is signalled only if this distributor's own worker announced it on its
// private pipe (fd 3) and it is provably still that process (pid and start time); never a group
// named by the API, which any client can write.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import type { Distributor, DistributorFactoryOptions, LaunchItem } from './contract.js';

/** The worker's bin, found through its package (an export path): a relative path into a sibling
 *  folder holds only inside this repository, not in an installed node_modules. */
const WORKER_BIN = createRequire(import.meta.url).resolve('@jobmon/worker/bin/jobmon-worker.js');

export class DummyDistributor implements Distributor {
  readonly cluster: string;
  readonly reportsViaServer = true;
  private readonly workers = new Map<number, ChildProcess>();
  /** Command process groups our workers announced, with the leader's start time (pid reuse guard). */
  private readonly groups = new Map<number, { pgid: number; start: string }>();
  /** Starts still waiting for the server's INSTANTIATED: a terminate waits for them. */
  private readonly starting = new Map<number, Promise<void>>();
  /** Terminated before their worker existed (they never start), or while it ran (we signalled it). */
  private readonly killed = new Set<number>();

  constructor(private readonly opts: DistributorFactoryOptions) {
    this.cluster = opts.cluster.name;
  }

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
    if (r?.status !== 'INSTANTIATED') return; // stopped meanwhile, or the report could not be sent
    if (this.killed.has(id)) {
      // Terminated while its submission was recorded: no worker may start after a stop.
      this.killed.delete(id);
      await host.report({ id, to: 'ERROR_FATAL', errorMessage: 'cancelled before launch: the run stopped' });
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [WORKER_BIN, '--instance-id', String(id), '--log-dir', host.logDir], {
        detached: true, // its own process group, as a cluster job would be
        stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
        env: { ...process.env, ...host.childEnv(item), JOBMON_WORKER_CONTROL_FD: '3' },
      });
    } catch (e) {
      void host.report({ id, to: 'NO_DISTRIBUTOR_ID', errorMessage: `could not submit: ${(e as Error).message}` });
      return;
    }
    if (child.pid === undefined) {
      child.once(
        'error',
        (e) => void host.report({ id, to: 'NO_DISTRIBUTOR_ID', errorMessage: `could not submit: ${e.message}` }),
      );
      return;
    }
    this.workers.set(id, child);
    const control = child.stdio[3];
    if (control && 'on' in control) {
      createInterface({ input: control as NodeJS.ReadableStream }).on('line', (line) => {
        const pgid = Number((JSON.parse(line) as { pgid?: unknown }).pgid);
        const start = startTime(pgid);
        if (Number.isInteger(pgid) && pgid > 1 && start !== null) this.groups.set(id, { pgid, start });
      });
    }
    child.once('exit', (_code, signal) => {
      this.workers.delete(id);
      // Our SIGTERM reached the worker before it could handle it (Node was still starting), so it
      // reported nothing and started no command: its end is ours to report.
      if (this.killed.delete(id) && signal !== null) {
        void host.report({
          id,
          to: 'ERROR_FATAL',
          via: ['KILL_SELF'],
          errorMessage: 'killed by Jobmon (stop or resume) before its worker started the command',
        });
      }
      host.capacityChanged();
    });
    void host.report({ id, to: 'LAUNCHED', distributorId: String(child.pid), nextReportMs: host.instanceReportByMs });
  }

  /** A worker process that still exists is alive (perhaps paused); one that is gone left its command behind. */
  async triage(instanceIds: number[]): Promise<void> {
    const { host } = this.opts;
    for (const id of instanceIds) {
      const w = this.workers.get(id);
      if (w && w.exitCode === null && w.signalCode === null) {
        void host.report({ id, to: 'RUNNING', nextReportMs: host.instanceReportByMs });
        continue;
      }
      // The wrapper died: kill the command it left running (its own process group), then report.
      const group = this.groups.get(id);
      this.groups.delete(id);
      const killed = group !== undefined && killOwnGroup(group.pgid, group.start);
      void host.report({
        id,
        to: 'UNKNOWN_ERROR',
        errorMessage: `its worker process is gone (${w ? `exit ${w.exitCode ?? w.signalCode}` : 'unknown to this runner'})${killed ? '; the command it left was killed' : ''}`,
      });
    }
  }

  async terminate(instanceIds: number[]): Promise<void> {
    const exits: Promise<unknown>[] = [];
    for (const id of instanceIds) {
      const w = this.workers.get(id);
      const starting = this.starting.get(id);
      if (!w && starting) {
        this.killed.add(id);
        exits.push(starting);
        continue;
      }
      if (!w || w.exitCode !== null) continue;
      this.killed.add(id);
      exits.push(new Promise((r) => w.once('exit', r)));
      w.kill('SIGTERM'); // the worker kills its command's group and reports ERROR_FATAL
    }
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 15_000).unref())]);
  }

  async stop(): Promise<void> {
    await this.terminate([...this.starting.keys(), ...this.workers.keys()]);
  }
}

/** Start time (clock ticks since boot) of a live, non-zombie process, or null. */
function startTime(pid: number): string | null {
  try {
    const rest = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = rest.slice(rest.lastIndexOf(')') + 2).split(' ');
    return f[0] === 'Z' || f[0] === 'X' ? null : (f[19] ?? null);
  } catch {
    return null;
  }
}

/** SIGKILL a process group we started, only while its leader is provably the process we recorded. */
function killOwnGroup(pgid: number, start: string): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1 || pgid === process.pid || startTime(pgid) !== start) return false;
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

export function createDummyDistributor(opts: DistributorFactoryOptions): Distributor {
  return new DummyDistributor(opts);
}
