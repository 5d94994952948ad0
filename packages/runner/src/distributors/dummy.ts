// The `dummy` distributor plays a remote cluster on this machine: each instance is run by its own
// jobmon-worker process (the wrapper a real cluster job would run), which reports to the server
// directly; the runner learns outcomes from the event log. It exists to exercise the worker path
// — heartbeats, KILL_SELF, reports from another process — without a cluster.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Distributor, DistributorFactoryOptions, LaunchItem } from './contract.js';

/** The worker's bin, from the runner's dist/ or src/ (tests) alike. */
const WORKER_BIN = fileURLToPath(new URL('../../../worker/bin/jobmon-worker.js', import.meta.url));

export class DummyDistributor implements Distributor {
  readonly cluster = 'dummy';
  readonly reportsViaServer = true;
  private readonly workers = new Map<number, ChildProcess>();

  constructor(private readonly opts: DistributorFactoryOptions) {}

  freeSlots(): number {
    return Infinity;
  }

  launch(items: LaunchItem[]): void {
    for (const item of items) void this.start(item);
  }

  private async start(item: LaunchItem): Promise<void> {
    const { host } = this.opts;
    const id = item.instanceId;
    const r = await host.report({ id, to: 'INSTANTIATED' });
    if (r.status !== 'INSTANTIATED') return; // stopped meanwhile
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [WORKER_BIN, '--instance-id', String(id), '--log-dir', host.logDir], {
        detached: true, // its own process group, as a cluster job would be
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, ...host.childEnv(item) },
      });
    } catch (e) {
      void host.report({ id, to: 'NO_DISTRIBUTOR_ID', errorMessage: `could not submit: ${(e as Error).message}` });
      return;
    }
    if (child.pid === undefined) {
      child.once('error', (e) => void host.report({ id, to: 'NO_DISTRIBUTOR_ID', errorMessage: `could not submit: ${e.message}` }));
      return;
    }
    this.workers.set(id, child);
    child.once('exit', () => {
      this.workers.delete(id);
      host.capacityChanged();
    });
    void host.report({ id, to: 'LAUNCHED', distributorId: String(child.pid), nextReportMs: host.instanceReportByMs });
  }

  /** A worker process that still exists is alive (perhaps paused); one that is gone left its command behind. */
  async triage(instanceIds: number[]): Promise<void> {
    const { host } = this.opts;
    let pgids: Map<number, number | null> | undefined;
    for (const id of instanceIds) {
      const w = this.workers.get(id);
      if (w && w.exitCode === null && w.signalCode === null) {
        void host.report({ id, to: 'RUNNING', nextReportMs: host.instanceReportByMs });
        continue;
      }
      // The wrapper died: kill the command it left running (its own process group), then report.
      pgids ??= await this.commandGroups();
      const pgid = pgids.get(id);
      if (pgid) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      void host.report({ id, to: 'UNKNOWN_ERROR', errorMessage: `its worker process is gone (${w ? `exit ${w.exitCode ?? w.signalCode}` : 'unknown to this runner'}); the command was killed` });
    }
  }

  private async commandGroups(): Promise<Map<number, number | null>> {
    const { host } = this.opts;
    const r = await host.requester.get<{ instances: { id: number; pgid: number | null }[] }>(`/workflow-runs/${host.runId}/instances?status=TRIAGING`);
    return new Map(r.instances.map((i) => [i.id, i.pgid]));
  }

  async terminate(instanceIds: number[]): Promise<void> {
    const exits: Promise<unknown>[] = [];
    for (const id of instanceIds) {
      const w = this.workers.get(id);
      if (!w || w.exitCode !== null) continue;
      exits.push(new Promise((r) => w.once('exit', r)));
      w.kill('SIGTERM'); // the worker kills its command's group and reports ERROR_FATAL
    }
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 15_000).unref())]);
  }

  async stop(): Promise<void> {
    await this.terminate([...this.workers.keys()]);
  }
}

export function createDummyDistributor(opts: DistributorFactoryOptions): Distributor {
  return new DummyDistributor(opts);
}
