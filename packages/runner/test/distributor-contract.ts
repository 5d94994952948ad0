// One contract for every distributor (DESIGN.md: one suite per plug-in point). distributors.test.ts
// runs it for local, sequential and dummy; a Slurm distributor calls describeDistributorContract
// with its factory and longer timeouts, and must pass the same cases.
//
// Every case runs real commands for real task instances: a real server (startServer over the test
// database, reaper off) holds a bound workflow whose tasks are queued, and the queue's answer is
// what the distributor is handed, as the swarm would. The test host records every report() and
// capacityChanged() and forwards reports to the server through the runner's own Reporter.
//
// How outcomes are observed, so that server-reporting distributors (reportsViaServer: dummy,
// slurm, whose workers report to the server themselves) pass the same cases: every case reads
// the instance's status and its transitions from the server (GET /task-instances/:id and the event
// log), which in-process distributors reach through the host. For in-process distributors
// (reportsViaServer false) the launch case also checks the host saw RUNNING, then the end, in order.
// Processes are watched through a pid file each command writes (`echo $$ > f; exec sleep 30`): the
// pid is the command's own, wherever its wrapper runs it, so "really gone" reads /proc. (A Slurm
// lane therefore needs its jobs on this machine, e.g. a one-node cluster, and the test folder on
// a file system they share.)

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Requester,
  createApiClient,
  isInstanceEnd,
  type EventT,
  type InstanceTransitionT,
  type QueueResponseT,
  type TransitionResultT,
} from '@jobmon/core';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, type TestDb } from '../../../test-support/db.js';
import { waitFor } from '../../../test-support/wait.js';
import type {
  ClusterConfig,
  Distributor,
  DistributorFactoryOptions,
  DistributorHost,
  LaunchItem,
} from '../src/distributors/contract.js';
import { Reporter } from '../src/reporter.js';

export interface ContractOptions {
  /** Longest wait for one outcome (an instance reaching RUNNING or its end). Default 30 s; Slurm needs minutes. */
  timeoutMs?: number;
  /** How many items the "launch never blocks" case hands over in one call (capped by freeSlots()). Default 20. */
  manyItems?: number;
  /** Longest a launch() of manyItems may take. Default 1 s: it must only hand work over. */
  launchBudgetMs?: number;
  /** Define the cluster on the test server first (PUT /clusters/<name>): for a type the database
   *  does not start with (`slurm`). Default: use the cluster the database already has. */
  defineCluster?: { type: string; options: Record<string, unknown>; queues: ClusterConfig['queues'] };
  /** Cases only this distributor can pass (e.g. a cluster's memory kill), given the suite's helpers. */
  extraCases?: (kit: ContractKit) => void;
}

/** The suite's helpers, for a distributor's own cases. */
export interface ContractKit {
  /** A workflow whose tasks run these commands (with these resources), queued; a distributor for them. */
  setUp(
    commands: string[],
    resources?: Record<string, unknown>,
  ): Promise<{ d: Distributor; host: DistributorHost & { workflowId: number }; items: LaunchItem[] }>;
  /** Wait (up to timeoutMs) for the instance's end state on the server. */
  ended(id: number): Promise<string>;
  /** The instance's statuses in the event log, in order. */
  history(workflowId: number, id: number): Promise<string[]>;
  /** The test server's API (once the suite's beforeAll has run). */
  readonly api: Requester;
  timeoutMs: number;
}

/** The factory under test; it gets the contract's host (and nothing else). */
export type MakeDistributor = (opts: DistributorFactoryOptions) => Distributor;

/** A host that records what the distributor asks of it and forwards reports to the server. */
class RecordingHost implements DistributorHost {
  readonly reports: InstanceTransitionT[] = [];
  /** Reports the server refused: a distributor sending malformed or illegal transitions. */
  readonly refused: string[] = [];
  capacityChanges = 0;
  private readonly reporter: Reporter;

  constructor(
    readonly serverUrl: string,
    readonly requester: Requester,
    readonly workflowId: number,
    readonly runId: number,
    readonly logDir: string,
    readonly instanceReportByMs: number,
  ) {
    this.reporter = new Reporter(requester, {
      onResult: (r) => {
        if (r.outcome === 'rejected') this.refused.push(`instance ${r.id}: ${r.message ?? 'rejected'}`);
      },
      onItemFailed: (item, e) => this.refused.push(`instance ${item.id} ${item.to}: ${(e as Error).message}`),
      onFatal: (e) => this.refused.push(`reporter gave up: ${(e as Error).message}`),
    });
  }

  report(item: InstanceTransitionT): Promise<TransitionResultT | undefined> {
    this.reports.push(item);
    return this.reporter.report(item);
  }

  capacityChanged(): void {
    this.capacityChanges++;
  }

  childEnv(item: LaunchItem): NodeJS.ProcessEnv {
    // As run.ts gives them: what a worker needs to find the server and its instance.
    return {
      JOBMON_URL: this.serverUrl,
      JOBMON_LOG_DIR: this.logDir,
      JOBMON_CLUSTER: item.cluster,
      JOBMON_TASK_INSTANCE_ID: String(item.instanceId),
      JOBMON_TASK_ID: String(item.taskId),
      JOBMON_WORKFLOW_ID: String(this.workflowId),
      JOBMON_WORKFLOW_RUN_ID: String(this.runId),
      JOBMON_INSTANCE_HEARTBEAT_MS: String(Math.round(this.instanceReportByMs / 3)),
      JOBMON_REPORT_BY_FACTOR: '3',
    };
  }

  /** Reports sent to the server, for one instance, in order. */
  reportsOf(id: number): string[] {
    return this.reports.filter((r) => r.id === id).map((r) => r.to);
  }

  idle(): Promise<void> {
    return this.reporter.idle();
  }
}

/** A live (non-zombie) process. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

export function describeDistributorContract(
  name: string,
  makeDistributor: MakeDistributor,
  opts: ContractOptions = {},
): void {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const manyItems = opts.manyItems ?? 20;
  const launchBudgetMs = opts.launchBudgetMs ?? 1_000;
  const testTimeout = 4 * timeoutMs;

  describe(`distributor contract: ${name}`, () => {
    let db: TestDb;
    let server: RunningServer;
    let api: Requester;
    let cluster: ClusterConfig;
    let seq = 0;
    let fileSeq = 0;
    /** This test's distributor, host and pid files, for cleanup. */
    let current: { d: Distributor; host: RecordingHost; pidFiles: string[] } | undefined;

    beforeAll(async () => {
      db = await createTestDb(`contract-${name}`);
      server = await startServer({ db: db.target, reaper: false, logFile: join(db.dir, 'server.log') });
      api = new Requester(server.url);
      if (opts.defineCluster) await api.put(`/clusters/${name}`, opts.defineCluster);
      // The suite's name is the cluster's: its type, options and queues come from the server.
      const c = await createApiClient(api).getCluster({ name });
      cluster = {
        name: c.name,
        type: c.type,
        options: c.options,
        queues: c.queues.map((q) => ({ name: q.name, limits: q.limits })),
      };
    });

    afterEach(async () => {
      if (!current) return;
      const { d, host, pidFiles } = current;
      current = undefined;
      await d.stop();
      await host.idle();
      // A failing case must not leave its commands behind.
      for (const f of pidFiles) {
        const pid = existsSync(f) ? Number(readFileSync(f, 'utf8')) : NaN;
        if (pid > 1 && alive(pid)) process.kill(pid, 'SIGKILL');
      }
    });

    afterAll(async () => {
      await server?.close();
      await db?.drop();
    });

    /**
     * A workflow whose tasks run these commands (one attempt each), its run RUNNING, every task
     * queued; a distributor from the factory with a recording host. Returns the launch items.
     */
    async function setUp(
      commands: string[],
      resources?: Record<string, unknown>,
    ): Promise<{ d: Distributor; host: RecordingHost; items: LaunchItem[] }> {
      const k = ++seq;
      const logDir = join(db.dir, `case-${k}`, 'logs');
      mkdirSync(logDir, { recursive: true });
      const tool = await api.post<{ toolVersionId: number }>('/tools', { name: `contract_${name}_${k}` });
      const { templates } = await api.post<{ templates: { versionId: number }[] }>('/task-templates', {
        toolVersionId: tool.toolVersionId,
        templates: [{ name: 'sh', commandTemplate: '{cmd}', nodeArgs: ['i'], taskArgs: [], opArgs: ['cmd'] }],
      });
      const hash = (s: string) => s.padEnd(16, '0');
      const wf = await api.post<{ workflowId: number }>('/workflows', {
        toolVersionId: tool.toolVersionId,
        argsHash: hash(`a${k}_`),
        taskHash: hash(`t${k}_`),
        dagHash: hash(`d${k}_`),
        workflowArgs: { k },
        taskCount: commands.length,
        name: `contract ${name} ${k}`,
        description: '',
      });
      const run = await api.post<{ runId: number }>(`/workflows/${wf.workflowId}/runs`, {
        user: 'tester',
        host: 'here',
        pid: process.pid,
        jobmonVersion: '0.1.0',
      });
      // The distributor says which cluster its tasks are bound to.
      const { cluster: boundTo } = await probe();
      const bound = await api.put<{ tasks: number[][] }>(`/workflow-runs/${run.runId}/tasks`, {
        tasks: commands.map((command, i) => ({
          nodeHash: hash(`n${k}_${i}_`),
          taskArgsHash: hash('noargs'),
          templateVersionId: templates[0]!.versionId,
          nodeArgs: { i },
          taskArgs: {},
          name: `c${k}_${i}`,
          command,
          maxAttempts: 1,
          cluster: boundTo,
          ...(resources ? { resources } : {}),
        })),
      });
      for (const status of ['BOUND', 'INSTANTIATED', 'LAUNCHED', 'RUNNING']) {
        await api.put(`/workflow-runs/${run.runId}/status`, {
          status,
          ...(status === 'BOUND' ? { taskCount: commands.length } : {}),
          nextReportMs: 600_000,
        });
      }
      const taskIds = bound.tasks.map((r) => r[1]!);
      const q = await api.post<QueueResponseT>(`/workflow-runs/${run.runId}/queue`, {
        tasks: taskIds.map((taskId) => ({ taskId })),
      });
      expect(q.skipped).toEqual([]);
      const byTask = new Map(q.instances.map((i) => [i.taskId, i]));
      const items = taskIds.map((t) => ({ ...byTask.get(t)! }));
      const host = new RecordingHost(server.url, api, wf.workflowId, run.runId, logDir, 60_000);
      const d = makeDistributor({ host, cluster });
      current = { d, host, pidFiles: [] };
      return { d, host, items };
    }

    /** n tasks that wait for a gate file (none can finish before open()), then exit 0. */
    async function setUpGated(n: number) {
      const gate = join(db.dir, `gate-${++fileSeq}`);
      const command = `while [ ! -e ${gate} ]; do sleep 0.05; done; echo passed`;
      const s = await setUp(Array.from({ length: n }, () => command));
      return { ...s, open: () => writeFileSync(gate, '') };
    }

    /** A fresh distributor's cluster and free slots (it is stopped again at once). */
    async function probe(): Promise<{ cluster: string; freeSlots: number }> {
      const d = makeDistributor({ host: new RecordingHost(server.url, api, 0, 0, db.dir, 60_000), cluster });
      const out = { cluster: d.cluster, freeSlots: d.freeSlots() };
      await d.stop();
      return out;
    }

    /** A command that writes its own pid to a file, then sleeps 30 s (so only a kill ends it soon). */
    function sleeper(tag: string): { command: string; pidFile: string } {
      const pidFile = join(db.dir, `${tag}-${++fileSeq}.pid`);
      return { command: `echo $$ > ${pidFile}; exec sleep 30`, pidFile };
    }

    async function status(id: number): Promise<string> {
      return (await api.get<{ status: string }>(`/task-instances/${id}`)).status;
    }

    /** Wait until the server holds the instance in one of `wanted`; returns that status. */
    function reaches(id: number, wanted: (s: string) => boolean, what: string): Promise<string> {
      return waitFor(
        `instance ${id} to reach ${what}`,
        async () => {
          const s = await status(id);
          return wanted(s) ? s : undefined;
        },
        timeoutMs,
        50,
      );
    }
    const ended = (id: number) => reaches(id, (s) => isInstanceEnd(s as never), 'an end state');

    /** The instance's statuses in the event log, in order. */
    async function history(workflowId: number, id: number): Promise<string[]> {
      const r = await api.get<{ events: EventT[] }>(
        `/events?after=0&workflowId=${workflowId}&entity=task_instance&limit=5000`,
      );
      return r.events.filter((e) => e.entityId === id).map((e) => e.to);
    }

    async function pidOf(pidFile: string): Promise<number> {
      return waitFor(
        `the command to write ${pidFile}`,
        () => {
          const text = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
          return text === '' ? undefined : Number(text);
        },
        timeoutMs,
        50,
      );
    }

    it(
      'runs each command: RUNNING, then DONE for exit 0 and ERROR for a non-zero exit',
      { timeout: testTimeout },
      async () => {
        const { d, host, items } = await setUp(['true', 'exit 3', 'echo hello']);
        d.launch(items);
        const finals = await Promise.all(items.map((it) => ended(it.instanceId)));
        expect(finals).toEqual(['DONE', 'ERROR', 'DONE']);
        const wf = host.workflowId;
        for (const [k, it] of items.entries()) {
          const h = await history(wf, it.instanceId);
          expect(h.indexOf('RUNNING'), `instance ${it.instanceId}: ${h.join(' → ')}`).toBeGreaterThanOrEqual(0);
          expect(h.at(-1)).toBe(finals[k]);
          if (!d.reportsViaServer) expect(host.reportsOf(it.instanceId)).toEqual(['RUNNING', finals[k]]);
        }
        await host.idle();
        expect(host.refused).toEqual([]);
      },
    );

    it(
      'freeSlots() drops by each launched item and comes back; capacityChanged() is called when they end',
      { timeout: testTimeout },
      async () => {
        const { d, host, items, open } = await setUpGated(2);
        const before = d.freeSlots();
        expect(before).toBeGreaterThanOrEqual(2);
        d.launch(items);
        // Infinity: a cluster with its own queue never runs out of slots.
        expect(d.freeSlots()).toBe(before - 2);
        open();
        for (const it of items) expect(await ended(it.instanceId)).toBe('DONE');
        await waitFor('capacityChanged() once per ended item', () => host.capacityChanges >= 2, timeoutMs);
        expect(d.freeSlots()).toBe(before);
      },
    );

    it(
      'launch() never blocks: many items are handed over at once, while none can finish',
      { timeout: testTimeout },
      async () => {
        const n = Math.min(manyItems, (await probe()).freeSlots);
        const { d, items, open } = await setUpGated(n);
        const t0 = performance.now();
        d.launch(items);
        const took = performance.now() - t0;
        expect(took).toBeLessThan(launchBudgetMs);
        open();
        const finals = await Promise.all(items.map((it) => ended(it.instanceId)));
        expect(finals).toEqual(items.map(() => 'DONE'));
      },
    );

    it(
      'terminate() kills a running command, the process is gone, and its end is reported',
      { timeout: testTimeout },
      async () => {
        const s = sleeper('term');
        const { d, items } = await setUp([s.command]);
        current!.pidFiles.push(s.pidFile);
        d.launch(items);
        const id = items[0]!.instanceId;
        await reaches(id, (x) => x === 'RUNNING', 'RUNNING');
        const pid = await pidOf(s.pidFile);
        expect(alive(pid)).toBe(true);
        const t0 = Date.now();
        await d.terminate([id]);
        expect(Date.now() - t0).toBeLessThan(25_000); // killed, not waited for
        await waitFor(`the command (pid ${pid}) to be gone`, () => !alive(pid), 5_000, 20);
        expect(await ended(id)).toBe('ERROR_FATAL');
        expect(await history(current!.host.workflowId, id)).toContain('RUNNING');
      },
    );

    it('stop() kills everything it runs and ends every instance it was handed', { timeout: testTimeout }, async () => {
      const sleepers = [0, 1, 2].map(() => sleeper('stop'));
      const { d, items } = await setUp(sleepers.map((x) => x.command));
      for (const x of sleepers) current!.pidFiles.push(x.pidFile);
      d.launch(items);
      // Whichever runs first: a cluster with its own queue (Slurm) need not start them in order.
      const first = await waitFor(
        'one of the instances to be RUNNING',
        async () => {
          for (let i = 0; i < items.length; i++) if ((await status(items[i]!.instanceId)) === 'RUNNING') return i + 1;
          return undefined;
        },
        timeoutMs,
      );
      const pid0 = await pidOf(sleepers[first - 1]!.pidFile);
      await d.stop();
      const finals = await Promise.all(items.map((it) => ended(it.instanceId)));
      expect(finals).toEqual(items.map(() => 'ERROR_FATAL'));
      expect(alive(pid0)).toBe(false);
      for (const x of sleepers) {
        if (!existsSync(x.pidFile)) continue; // never started (a sequential cluster runs one at a time)
        const pid = Number(readFileSync(x.pidFile, 'utf8'));
        expect(alive(pid), `command pid ${pid}`).toBe(false);
      }
    });

    it(
      'stop() right after launch(), before anything runs, still ends every instance and starts no command',
      { timeout: testTimeout },
      async () => {
        const sleepers = [0, 1, 2].map(() => sleeper('early'));
        const { d, items } = await setUp(sleepers.map((x) => x.command));
        for (const x of sleepers) current!.pidFiles.push(x.pidFile);
        d.launch(items);
        await d.stop();
        const finals = await Promise.all(items.map((it) => ended(it.instanceId)));
        expect(finals).toEqual(items.map(() => 'ERROR_FATAL'));
        // A command that started anyway (a submission that finished after the stop) would still run.
        for (const x of sleepers) {
          if (!existsSync(x.pidFile)) continue;
          const pid = Number(readFileSync(x.pidFile, 'utf8'));
          expect(alive(pid), `command pid ${pid}`).toBe(false);
        }
      },
    );

    it("writes each command's stdout and stderr under the host's logDir", { timeout: testTimeout }, async () => {
      const marker = `m${process.pid}x${seq + 1}`;
      const { d, host, items } = await setUp([`echo out-${marker}; echo err-${marker} >&2`]);
      d.launch(items);
      expect(await ended(items[0]!.instanceId)).toBe('DONE');
      const files = filesUnder(host.logDir).map((f) => ({ f, text: readFileSync(f, 'utf8') }));
      const out = files.filter((x) => x.text.includes(`out-${marker}`)).map((x) => x.f);
      const err = files.filter((x) => x.text.includes(`err-${marker}`)).map((x) => x.f);
      expect(out).toHaveLength(1);
      expect(err).toHaveLength(1);
      expect(out[0]).not.toBe(err[0]);
    });

    opts.extraCases?.({
      setUp,
      ended,
      history,
      get api() {
        return api;
      },
      timeoutMs,
    });
  });
}
