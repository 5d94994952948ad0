// The `local` distributor: runs up to N commands at once on this machine, each started directly
// (/bin/sh -c, no per-task wrapper) in its own process group with stdout/stderr going to
// per-instance files. Spawning happens in one small long-lived launcher process (see
// @jobmon/worker launcher.ts; two of them when N ≥ 2) so fork() stays cheap and off the
// runner's thread; if the runner dies, a launcher kills what it started. `sequential` is the same
// with N = 1. Timeouts are the distributor's (DESIGN.md §3): the launcher kills a group that
// outlives its `runtime` or whose summed RSS exceeds its `memory`, and the instance ends
// RESOURCE_ERROR saying which limit and by how much.

import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LAUNCHER_PATH } from '@jobmon/worker';
import { safeName, type Distributor, type DistributorFactoryOptions, type LaunchItem } from './contract.js';

const NODE_NAME = hostname();

interface ExitMsg {
  t: 'x';
  id: number;
  code: number | null;
  sig: string | null;
  wall: number;
  mem: number | null;
  out: string;
  err: string;
  /** Present when the launcher killed the group for a limit. */
  why?: { r: 'runtime' | 'memory'; used: number; lim: number };
  /** Present when processes the command left behind were killed after it exited. */
  cl?: string;
}
type LauncherMsg =
  { t: 'r'; id: number; pid: number } | ExitMsg | { t: 'f'; id: number; msg: string } | { t: 'c'; id: number };

/** Commands handed to the launcher beyond its parallelism, so it never waits for us. */
const LAUNCHER_BUFFER = 8;

export class LocalDistributor implements Distributor {
  readonly reportsViaServer = false;
  private readonly running = new Map<number, { pid?: number; exited?: () => void; done: Promise<void> }>();
  private readonly killedByUs = new Set<number>();
  /** Launchers and how many of our instances each holds; lanes are split between them. */
  private launchers: { child: ChildProcess; inFlight: number; outBuf: string[]; flushScheduled: boolean }[] = [];
  private readonly launcherOf = new Map<number, number>();
  private launcherDied: string | undefined;

  constructor(
    readonly cluster: string,
    private readonly opts: DistributorFactoryOptions,
    private readonly parallelism: number,
  ) {}

  freeSlots(): number {
    return this.parallelism + LAUNCHER_BUFFER - this.running.size;
  }

  /**
   * Forking costs about 2 ms of a launcher's CPU; with two launchers (when N ≥ 2) forks happen
   * on both cores. Each launcher runs its share of the N lanes.
   */
  private ensureLaunchers(): void {
    if (this.launchers.length > 0) return;
    const count = Math.min(2, this.parallelism);
    for (let k = 0; k < count; k++) {
      const share = Math.floor(this.parallelism / count) + (k < this.parallelism % count ? 1 : 0);
      const cap = this.opts.host.logCapBytes === undefined ? [] : ['--log-cap', String(this.opts.host.logCapBytes)];
      const child = spawn(process.execPath, [LAUNCHER_PATH, '--parallelism', String(share), ...cap], {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: process.env,
      });
      const rl = createInterface({ input: child.stdout!, crlfDelay: Infinity });
      rl.on('line', (line) => this.onMessage(JSON.parse(line) as LauncherMsg));
      child.on('exit', (code, signal) => {
        this.launcherDied = `the local launcher exited (${signal ?? code})`;
        // Anything it was running is lost to us: report it as an infrastructure error.
        for (const [id, l] of [...this.launcherOf]) {
          if (l === k)
            this.finish(id, { t: 'x', id, code: null, sig: 'LAUNCHER_EXIT', wall: 0, mem: null, out: '', err: '' });
        }
      });
      child.stdin!.on('error', () => undefined);
      this.launchers.push({ child, inFlight: 0, outBuf: [], flushScheduled: false });
    }
  }

  private send(k: number, msg: object): void {
    const l = this.launchers[k]!;
    l.outBuf.push(JSON.stringify(msg));
    if (!l.flushScheduled) {
      l.flushScheduled = true;
      queueMicrotask(() => {
        l.flushScheduled = false;
        const text = l.outBuf.join('\n') + '\n';
        l.outBuf = [];
        l.child.stdin!.write(text);
      });
    }
  }

  launch(items: LaunchItem[]): void {
    const { host } = this.opts;
    for (const item of items) {
      const base = join(host.logDir, `${safeName(item.name)}.${item.instanceId}`);
      let exited!: () => void;
      const done = new Promise<void>((r) => (exited = r));
      this.running.set(item.instanceId, { exited, done });
      if (this.launcherDied) {
        this.failStart(item.instanceId, this.launcherDied);
        continue;
      }
      this.paths.set(item.instanceId, [`${base}.out`, `${base}.err`]);
      this.ensureLaunchers();
      let k = 0;
      for (let j = 1; j < this.launchers.length; j++)
        if (this.launchers[j]!.inFlight < this.launchers[k]!.inFlight) k = j;
      this.launchers[k]!.inFlight++;
      this.launcherOf.set(item.instanceId, k);
      this.send(k, {
        t: 's',
        id: item.instanceId,
        c: item.command,
        o: `${base}.out`,
        e: `${base}.err`,
        v: envExtras(host.childEnv(item)),
        ...limitsOf(item.resources),
      });
    }
  }

  private readonly paths = new Map<number, [string, string]>();

  private onMessage(m: LauncherMsg): void {
    const { host } = this.opts;
    if (m.t === 'r') {
      const entry = this.running.get(m.id);
      if (entry) entry.pid = m.pid;
      const [stdoutPath, stderrPath] = this.paths.get(m.id) ?? [undefined, undefined];
      void host.report({
        id: m.id,
        to: 'RUNNING',
        via: ['INSTANTIATED', 'LAUNCHED'],
        distributorId: String(m.pid),
        pgid: m.pid,
        nodeName: NODE_NAME,
        ...(stdoutPath ? { stdoutPath } : {}),
        ...(stderrPath ? { stderrPath } : {}),
      });
    } else if (m.t === 'f') {
      this.failStart(m.id, m.msg);
    } else if (m.t === 'c') {
      const entry = this.running.get(m.id);
      this.release(m.id);
      this.running.delete(m.id);
      this.paths.delete(m.id);
      this.killedByUs.delete(m.id);
      void host.report({ id: m.id, to: 'ERROR_FATAL', errorMessage: 'cancelled before it started: the run stopped' });
      entry?.exited?.();
    } else {
      this.finish(m.id, m);
    }
  }

  private release(id: number): void {
    const k = this.launcherOf.get(id);
    if (k !== undefined) {
      this.launcherOf.delete(id);
      this.launchers[k]!.inFlight--;
    }
  }

  private failStart(id: number, why: string): void {
    const entry = this.running.get(id);
    this.release(id);
    this.running.delete(id);
    this.paths.delete(id);
    void this.opts.host.report({
      id,
      to: 'NO_DISTRIBUTOR_ID',
      via: ['INSTANTIATED'],
      errorMessage: `could not start: ${why}`,
    });
    entry?.exited?.();
    this.opts.host.capacityChanged();
  }

  private finish(id: number, m: ExitMsg): void {
    const entry = this.running.get(id);
    if (!entry) return;
    this.release(id);
    this.running.delete(id);
    this.paths.delete(id);
    const { host } = this.opts;
    const measured = {
      wallTimeMs: m.wall,
      stdoutTail: m.out,
      stderrTail: m.err,
      ...(m.mem === null ? {} : { peakMemoryBytes: m.mem }),
      ...(m.cl === undefined ? {} : { cleanup: m.cl }),
    };
    if (this.killedByUs.delete(id)) {
      void host.report({
        id,
        to: 'ERROR_FATAL',
        via: ['KILL_SELF'],
        ...measured,
        errorMessage: 'killed by Jobmon (stop or resume)',
      });
    } else if (m.why !== undefined) {
      void host.report({ id, to: 'RESOURCE_ERROR', ...measured, errorMessage: limitMessage(m.why) });
    } else if (m.code === 0) {
      void host.report({ id, to: 'DONE', exitCode: 0, ...measured });
    } else if (m.code !== null) {
      void host.report({ id, to: 'ERROR', exitCode: m.code, ...measured });
    } else if (m.sig === 'LAUNCHER_EXIT') {
      void host.report({
        id,
        to: 'UNKNOWN_ERROR',
        ...measured,
        errorMessage: this.launcherDied ?? 'the local launcher exited',
      });
    } else {
      void host.report({
        id,
        to: 'UNKNOWN_ERROR',
        ...measured,
        errorMessage: `killed by signal ${m.sig ?? 'unknown'} (not by Jobmon)`,
      });
    }
    entry.exited?.();
    host.capacityChanged();
  }

  async terminate(instanceIds: number[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const id of instanceIds) {
      const entry = this.running.get(id);
      if (!entry) continue;
      this.killedByUs.add(id);
      const k = this.launcherOf.get(id);
      if (k !== undefined) this.send(k, { t: 'k', id, s: 'SIGKILL' });
      waits.push(entry.done);
    }
    await Promise.all(waits);
  }

  async stop(): Promise<void> {
    await this.terminate([...this.running.keys()]);
    await Promise.all(
      this.launchers.map(({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        const exited = new Promise((r) => child.once('exit', r));
        child.stdin!.end();
        return exited;
      }),
    );
  }
}

const MIB = 1024 * 1024;

/** The launcher's limits for an instance: runtime (seconds) and memory (MiB), as normalised by core. */
function limitsOf(resources: Record<string, unknown>): { rl?: number; ml?: number } {
  const { runtime, memory } = resources;
  return {
    ...(typeof runtime === 'number' && runtime > 0 ? { rl: Math.round(runtime * 1000) } : {}),
    ...(typeof memory === 'number' && memory > 0 ? { ml: Math.round(memory * MIB) } : {}),
  };
}

/** "runtime exceeded: ran 2.0 s, limit 1 s" / "memory exceeded: 300 MB used, limit 200 MB" (MB = MiB). */
function limitMessage(why: NonNullable<ExitMsg['why']>): string {
  if (why.r === 'runtime')
    return `runtime exceeded: ran ${(why.used / 1000).toFixed(1)} s, limit ${Number((why.lim / 1000).toFixed(1))} s`;
  return `memory exceeded: ${Math.round(why.used / MIB)} MB used, limit ${Math.round(why.lim / MIB)} MB`;
}

/** Only what differs from our own environment crosses the pipe. */
function envExtras(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (k.startsWith('JOBMON_') && v !== undefined && process.env[k] !== v) out[k] = v;
  return out;
}

/** The run's parallelism, else the cluster's options.parallelism (checked by the server), else the cores. */
export function createLocalDistributor(opts: DistributorFactoryOptions): Distributor {
  const configured = opts.cluster.options['parallelism'];
  const fallback =
    typeof configured === 'number' && Number.isInteger(configured) && configured >= 1
      ? configured
      : availableParallelism();
  return new LocalDistributor(opts.cluster.name, opts, Math.max(1, opts.parallelism ?? fallback));
}

export function createSequentialDistributor(opts: DistributorFactoryOptions): Distributor {
  return new LocalDistributor(opts.cluster.name, opts, 1);
}
