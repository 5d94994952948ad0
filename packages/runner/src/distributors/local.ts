// The `local` distributor: runs up to N commands at once on this machine, each spawned directly
// (no wrapper process) in its own process group, stdout/stderr to per-instance files. `sequential`
// is the same with N = 1. Outcomes are reported through the host, in batches.

import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import { spawnGroup, type GroupHandle } from '@jobmon/worker';
import { safeName, type Distributor, type DistributorFactoryOptions, type LaunchItem } from './contract.js';

const NODE_NAME = hostname();

export class LocalDistributor implements Distributor {
  readonly reportsViaServer = false;
  private readonly running = new Map<number, GroupHandle>();
  private readonly killedByUs = new Set<number>();

  constructor(
    readonly cluster: string,
    private readonly opts: DistributorFactoryOptions,
    private readonly parallelism: number,
  ) {}

  freeSlots(): number {
    return this.parallelism - this.running.size;
  }

  launch(items: LaunchItem[]): void {
    for (const item of items) this.start(item);
  }

  private start(item: LaunchItem): void {
    const { host } = this.opts;
    const base = join(host.logDir, `${safeName(item.name)}.${item.instanceId}`);
    const stdoutPath = `${base}.out`;
    const stderrPath = `${base}.err`;
    let handle: GroupHandle;
    try {
      handle = spawnGroup({ command: item.command, stdoutPath, stderrPath, env: host.childEnv(item) });
    } catch (e) {
      void host.report({ id: item.instanceId, to: 'NO_DISTRIBUTOR_ID', via: ['INSTANTIATED'], errorMessage: `could not start: ${(e as Error).message}` });
      return;
    }
    const id = item.instanceId;
    if (handle.pid === undefined) {
      // spawn failed asynchronously (e.g. EAGAIN); the 'error' result arrives through done.
      this.running.set(id, handle);
      void handle.done.then((r) => {
        this.running.delete(id);
        void host.report({ id, to: 'NO_DISTRIBUTOR_ID', via: ['INSTANTIATED'], errorMessage: `could not start: ${r.spawnError ?? 'unknown error'}` });
      });
      return;
    }
    this.running.set(id, handle);
    void host.report({
      id,
      to: 'RUNNING',
      via: ['INSTANTIATED', 'LAUNCHED'],
      distributorId: String(handle.pid),
      pgid: handle.pid,
      nodeName: NODE_NAME,
      stdoutPath,
      stderrPath,
    });
    void handle.done.then((r) => {
      this.running.delete(id);
      const measured = {
        wallTimeMs: r.wallTimeMs,
        stdoutTail: r.stdoutTail,
        stderrTail: r.stderrTail,
        ...(r.peakMemoryBytes === null ? {} : { peakMemoryBytes: r.peakMemoryBytes }),
      };
      if (this.killedByUs.delete(id)) {
        void host.report({ id, to: 'ERROR_FATAL', via: ['KILL_SELF'], ...measured, errorMessage: 'killed by Jobmon (stop or resume)' });
      } else if (r.exitCode === 0) {
        void host.report({ id, to: 'DONE', exitCode: 0, ...measured });
      } else if (r.exitCode !== null) {
        void host.report({ id, to: 'ERROR', exitCode: r.exitCode, ...measured });
      } else {
        void host.report({ id, to: 'UNKNOWN_ERROR', ...measured, errorMessage: `killed by signal ${r.signal ?? 'unknown'} (not by Jobmon)` });
      }
    });
  }

  async terminate(instanceIds: number[]): Promise<void> {
    const waits: Promise<unknown>[] = [];
    for (const id of instanceIds) {
      const h = this.running.get(id);
      if (!h) continue;
      this.killedByUs.add(id);
      h.kill('SIGKILL');
      waits.push(h.done);
    }
    await Promise.all(waits);
  }

  async stop(): Promise<void> {
    await this.terminate([...this.running.keys()]);
  }
}

export function createLocalDistributor(opts: DistributorFactoryOptions): Distributor {
  return new LocalDistributor('local', opts, Math.max(1, opts.parallelism ?? availableParallelism()));
}

export function createSequentialDistributor(opts: DistributorFactoryOptions): Distributor {
  return new LocalDistributor('sequential', opts, 1);
}
