// The swarm without HTTP: its port is backed by an in-memory server (tasks, attempts, the retry
// verdicts and resource scaling the real server applies) and a cluster that records what it is
// handed and ends instances when the test says so. Each case names the mechanism it guards.

import { describe, expect, it } from 'vitest';
import type { QueueResponseT, TaskStatus } from '@jobmon/core';
import type { Distributor, LaunchItem } from '../distributors/contract.js';
import { Swarm, type SwarmOptions } from './swarm.js';

type Outcome = 'DONE' | 'ERROR' | 'RESOURCE_ERROR' | 'KILLED';

interface FakeTask {
  status: TaskStatus;
  attempts: number;
  maxAttempts: number;
  memory: number;
}

/** The server side of the port: queueing creates instances; an instance's end yields the task's verdict. */
class FakeServer {
  readonly tasks = new Map<number, FakeTask>();
  readonly queued: number[][] = [];
  private nextInstance = 1000;
  readonly taskOf = new Map<number, number>();

  add(taskId: number, maxAttempts = 3, memory = 100): void {
    this.tasks.set(taskId, { status: 'REGISTERING', attempts: 0, maxAttempts, memory });
  }

  async queue(taskIds: number[]): Promise<QueueResponseT> {
    this.queued.push(taskIds);
    const out: QueueResponseT = { instances: [], skipped: [] };
    for (const taskId of taskIds) {
      const t = this.tasks.get(taskId)!;
      if (t.status !== 'REGISTERING' && t.status !== 'ADJUSTING_RESOURCES') {
        out.skipped.push({ taskId, status: t.status });
        continue;
      }
      t.status = 'QUEUED';
      t.attempts++;
      const instanceId = this.nextInstance++;
      this.taskOf.set(instanceId, taskId);
      out.instances.push({
        instanceId,
        taskId,
        name: `task_${taskId}`,
        command: 'true',
        cluster: 'c',
        queue: 'q',
        resources: { memory: t.memory },
      });
    }
    return out;
  }

  /** The task status after its instance ended so: what the real server answers the reporter. */
  end(instanceId: number, outcome: Outcome): TaskStatus {
    const t = this.tasks.get(this.taskOf.get(instanceId)!)!;
    if (outcome === 'DONE') t.status = 'DONE';
    else if (outcome === 'KILLED') t.status = 'REGISTERING';
    else if (t.attempts >= t.maxAttempts) t.status = 'ERROR_FATAL';
    else if (outcome === 'RESOURCE_ERROR') {
      t.status = 'ADJUSTING_RESOURCES';
      t.memory *= 2;
    } else t.status = 'REGISTERING';
    return t.status;
  }
}

/** A cluster with `slots` places: records every launch and the peak of what ran at once. */
class FakeCluster implements Distributor {
  readonly cluster = 'c';
  readonly reportsViaServer = false;
  readonly launched: LaunchItem[] = [];
  readonly running = new Map<number, LaunchItem>();
  readonly terminated: number[] = [];
  peak = 0;
  /** Called by terminate for each instance it kills (the test wires it to the swarm). */
  onKilled: (instanceId: number) => void = () => undefined;

  constructor(
    public slots = Infinity,
    readonly throttlesTemplates = false,
  ) {}

  freeSlots(): number {
    return this.slots - this.running.size;
  }
  launch(items: LaunchItem[]): void {
    for (const item of items) {
      this.launched.push(item);
      this.running.set(item.instanceId, item);
    }
    this.peak = Math.max(this.peak, this.running.size);
  }
  async terminate(ids: number[]): Promise<void> {
    for (const id of ids) {
      if (!this.running.has(id)) continue;
      this.terminated.push(id);
      this.onKilled(id);
    }
  }
  async stop(): Promise<void> {
    await this.terminate([...this.running.keys()]);
  }
}

/** Let the fake server's answers (promises) and the swarm's reactions to them run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

interface Setup {
  /** Upstream task indices per task. */
  upstream?: number[][];
  n?: number;
  templates?: number[];
  templateLimits?: number[];
  maxConcurrent?: number;
  slots?: number;
  /** The cluster enforces template limits itself (Slurm's array throttle). */
  throttles?: boolean;
  maxAttempts?: number;
  doneAtBind?: number[];
  /** Change the server's tasks after the swarm read their statuses (another run moved them). */
  afterBind?: (server: FakeServer, ids: number[]) => void;
}

async function start(s: Setup) {
  const n = s.upstream?.length ?? s.n ?? 1;
  const server = new FakeServer();
  const cluster = new FakeCluster(s.slots, s.throttles ?? false);
  const ids = Array.from({ length: n }, (_, i) => 100 + i);
  for (const id of ids) server.add(id, s.maxAttempts);
  for (const i of s.doneAtBind ?? []) server.tasks.get(ids[i]!)!.status = 'DONE';
  const warnings: string[] = [];
  const opts: SwarmOptions = {
    port: { queue: (taskIds) => server.queue(taskIds), distributor: (name) => (name === 'c' ? cluster : undefined) },
    tasks: {
      ids,
      statuses: ids.map((id) => server.tasks.get(id)!.status),
      templates: s.templates ?? ids.map(() => 0),
      upstream: s.upstream ?? ids.map(() => []),
    },
    templateLimits: s.templateLimits ?? [Infinity, Infinity],
    maxConcurrentlyRunning: s.maxConcurrent ?? Infinity,
    onWarning: (m) => warnings.push(m),
  };
  const swarm = new Swarm(opts);
  s.afterBind?.(server, ids);
  let finished = false;
  let failure: unknown;
  swarm.finishedPromise.then(
    () => (finished = true),
    (e: unknown) => (failure = e),
  );
  /** End an instance on the cluster, tell the server, hand its verdict to the swarm. */
  const end = async (instanceId: number, outcome: Outcome) => {
    if (!cluster.running.delete(instanceId)) throw new Error(`instance ${instanceId} is not running`);
    swarm.instanceEnded(instanceId, server.end(instanceId, outcome));
    await settle();
  };
  cluster.onKilled = (id) => {
    cluster.running.delete(id);
    swarm.instanceEnded(id, server.end(id, 'KILLED'));
  };
  /** Task indices running now, sorted. */
  const runningTasks = () => [...cluster.running.values()].map((it) => ids.indexOf(it.taskId)).sort((a, b) => a - b);
  /** The instance running task index i. */
  const instanceOf = (i: number) => [...cluster.running.values()].find((it) => it.taskId === ids[i])!.instanceId;
  swarm.start();
  await settle();
  return {
    swarm,
    server,
    cluster,
    ids,
    end,
    settle,
    runningTasks,
    instanceOf,
    warnings,
    isFinished: () => finished,
    failure: () => failure,
  };
}

describe('swarm', { timeout: 5_000 }, () => {
  it('launches a task only after all its upstreams are DONE (diamond a → b, c → d)', async () => {
    const t = await start({ upstream: [[], [0], [0], [1, 2]] });
    expect(t.runningTasks()).toEqual([0]);
    await t.end(t.instanceOf(0), 'DONE');
    expect(t.runningTasks()).toEqual([1, 2]);
    await t.end(t.instanceOf(1), 'DONE');
    expect(t.runningTasks()).toEqual([2]); // d still waits for c
    await t.end(t.instanceOf(2), 'DONE');
    expect(t.runningTasks()).toEqual([3]);
    // The server was never asked to queue a task before its upstreams were done.
    expect(t.server.queued).toEqual([[t.ids[0]], [t.ids[1], t.ids[2]], [t.ids[3]]]);
    expect(t.isFinished()).toBe(false);
    await t.end(t.instanceOf(3), 'DONE');
    expect(t.isFinished()).toBe(true);
    expect(t.swarm.allDone).toBe(true);
    expect(t.swarm.finalStatuses()).toEqual(['DONE', 'DONE', 'DONE', 'DONE']);
  });

  it('skips tasks DONE at bind time: their dependents start at once, the rest wait', async () => {
    const t = await start({ upstream: [[], [0], [1]], doneAtBind: [0] });
    expect(t.runningTasks()).toEqual([1]);
    expect(t.swarm.progress()).toMatchObject({ total: 3, done: 1, launched: 1, pending: 1 });
  });

  it('never has more than maxConcurrentlyRunning instances active, and refills as they end', async () => {
    const t = await start({ n: 10, maxConcurrent: 3 });
    expect(t.runningTasks()).toEqual([0, 1, 2]);
    await t.end(t.instanceOf(1), 'DONE');
    expect(t.runningTasks()).toEqual([0, 2, 3]);
    while (t.cluster.running.size > 0) await t.end([...t.cluster.running.keys()][0]!, 'DONE');
    expect(t.cluster.launched).toHaveLength(10);
    expect(t.cluster.peak).toBe(3);
    expect(t.isFinished()).toBe(true);
  });

  it('honours each template’s concurrency limit alongside the workflow’s', async () => {
    const t = await start({ templates: [0, 0, 0, 1, 1, 1, 1], n: 7, templateLimits: [1, 2], maxConcurrent: 10 });
    expect(t.runningTasks()).toEqual([0, 3, 4]);
    let peak0 = 0;
    let peak1 = 0;
    while (t.cluster.running.size > 0) {
      const byTemplate = t.runningTasks().map((i) => (i < 3 ? 0 : 1));
      peak0 = Math.max(peak0, byTemplate.filter((x) => x === 0).length);
      peak1 = Math.max(peak1, byTemplate.filter((x) => x === 1).length);
      await t.end([...t.cluster.running.keys()][0]!, 'DONE');
    }
    expect([peak0, peak1]).toEqual([1, 2]);
    expect(t.cluster.launched).toHaveLength(7);
    expect(t.swarm.allDone).toBe(true);
  });

  it('hands a distributor that throttles templates all their ready tasks, each with its limit to apply', async () => {
    const t = await start({
      templates: [0, 0, 0, 1, 1],
      n: 5,
      templateLimits: [2],
      maxConcurrent: 4,
      throttles: true,
    });
    // The workflow's limit (4) still holds; the template's (2) is the distributor's to apply.
    expect(t.runningTasks()).toEqual([0, 1, 2, 3]);
    expect(t.cluster.launched.map((it) => [it.template, it.templateLimit])).toEqual([
      [0, 2],
      [0, 2],
      [0, 2],
      [1, undefined],
    ]);
  });

  it('launches no more than the distributor has free slots, and more once it says capacity grew', async () => {
    const t = await start({ n: 5, slots: 2 });
    expect(t.runningTasks()).toEqual([0, 1]);
    expect(t.swarm.progress()).toMatchObject({ launched: 2, queued: 3 });
    t.cluster.slots = 4; // e.g. another user's jobs left the cluster: the host calls pump()
    t.swarm.pump();
    expect(t.runningTasks()).toEqual([0, 1, 2, 3]);
  });

  it('retries a task that errs until the server says its attempts are spent, then fails it and not its dependents', async () => {
    const t = await start({ upstream: [[], [0]], maxAttempts: 3 });
    const attempts: number[] = [];
    for (let k = 0; k < 3; k++) {
      expect(t.runningTasks()).toEqual([0]);
      attempts.push(t.instanceOf(0));
      await t.end(t.instanceOf(0), 'ERROR');
    }
    expect(new Set(attempts).size).toBe(3); // a new instance each time
    expect(t.cluster.running.size).toBe(0);
    expect(t.isFinished()).toBe(true);
    expect(t.swarm.finalStatuses()).toEqual(['ERROR_FATAL', null]);
    expect(t.swarm.progress()).toMatchObject({ failed: 1, pending: 1, done: 0 });
  });

  it('a retried task that then succeeds releases its dependents', async () => {
    const t = await start({ upstream: [[], [0]], maxAttempts: 3 });
    await t.end(t.instanceOf(0), 'ERROR');
    await t.end(t.instanceOf(0), 'DONE');
    expect(t.runningTasks()).toEqual([1]);
  });

  it('re-queues a task after a resource error; the new instance carries the resources the server scaled', async () => {
    const t = await start({ n: 1, maxAttempts: 3 });
    expect(t.cluster.launched[0]!.resources).toEqual({ memory: 100 });
    await t.end(t.instanceOf(0), 'RESOURCE_ERROR');
    expect(t.cluster.launched.map((it) => it.resources)).toEqual([{ memory: 100 }, { memory: 200 }]);
    await t.end(t.instanceOf(0), 'DONE');
    expect(t.swarm.allDone).toBe(true);
  });

  it('stop() terminates every active instance, launches nothing more, and finishes with the killed tasks pending', async () => {
    const t = await start({ n: 5, maxConcurrent: 3 });
    const active = [...t.cluster.running.keys()];
    expect(active).toHaveLength(3);
    await t.swarm.stop();
    await t.settle();
    expect(t.cluster.terminated.sort()).toEqual(active.sort());
    expect(t.cluster.running.size).toBe(0);
    expect(t.cluster.launched).toHaveLength(3); // the held two were not launched in the freed slots
    expect(t.isFinished()).toBe(true);
    expect(t.swarm.progress()).toMatchObject({
      done: 0,
      failed: 0,
      running: 0,
      launched: 0,
      queued: 0,
      pending: 5,
      stopped: 3,
    });
    expect(t.swarm.takeHeld()).toHaveLength(2); // for the runner to cancel
  });

  it('while the server is unreachable nothing new is queued or launched; when it is back the run goes on', async () => {
    const t = await start({ upstream: [[], [0]] });
    t.swarm.setOnline(false);
    await t.end(t.instanceOf(0), 'DONE');
    expect(t.runningTasks()).toEqual([]);
    expect(t.server.queued).toHaveLength(1);
    t.swarm.setOnline(true);
    await t.settle();
    expect(t.runningTasks()).toEqual([1]);
  });

  it('a task the server will not queue is left alone: DONE elsewhere counts as done, another state fails it with a warning', async () => {
    const t = await start({
      upstream: [[], [], [0]],
      afterBind: (server, ids) => {
        server.tasks.get(ids[0]!)!.status = 'DONE'; // finished by another run meanwhile
        server.tasks.get(ids[1]!)!.status = 'ERROR_FATAL';
      },
    });
    expect(t.runningTasks()).toEqual([2]);
    expect(t.swarm.finalStatuses()).toEqual(['DONE', 'ERROR_FATAL', null]);
    expect(t.warnings).toEqual([`task ${t.ids[1]} was ERROR_FATAL when queued; it is left alone`]);
  });

  it('fails, naming the cluster, when an instance is for a cluster without a distributor', async () => {
    const server = new FakeServer();
    server.add(1);
    const swarm = new Swarm({
      port: { queue: (ids) => server.queue(ids), distributor: () => undefined },
      tasks: { ids: [1], statuses: ['REGISTERING'], templates: [0], upstream: [[]] },
      templateLimits: [], // no limits given: a template without one is unlimited
      maxConcurrentlyRunning: 10,
    });
    swarm.start();
    await expect(swarm.finishedPromise).rejects.toThrow("no distributor for cluster 'c'");
  });
});
