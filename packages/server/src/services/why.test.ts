// explainTask, the decision behind `jobmon task why`: one case per cause, and the order of causes
// when several hold (the blocking one first).

import { describe, expect, it } from 'vitest';
import { explainTask, WHY_UPSTREAM_SHOWN, ago, type WhyFacts } from './why.js';

const NOW = 1_800_000_000_000;

/** A REGISTERING task of a running workflow with room, no upstream and a queue that fits: READY. */
function facts(over: {
  task?: Partial<WhyFacts['task']>;
  latest?: Partial<NonNullable<WhyFacts['latest']>> | null;
  workflow?: Partial<WhyFacts['workflow']>;
  template?: WhyFacts['template'];
  liveRun?: WhyFacts['liveRun'];
  lastRun?: WhyFacts['lastRun'];
  upstream?: WhyFacts['upstream'];
  failedUpstream?: WhyFacts['failedUpstream'];
  queues?: WhyFacts['queues'];
}): WhyFacts {
  return {
    now: NOW,
    task: {
      id: 7,
      name: 'fit_7',
      status: 'REGISTERING',
      statusAt: NOW - 90_000,
      numAttempts: 0,
      maxAttempts: 3,
      infraFailures: 0,
      maxInfraFailures: 5,
      template: 'fit',
      cluster: 'hpc',
      queue: 'all.q',
      resources: { cores: 2, memory: 4096, runtime: 3600 },
      ...over.task,
    },
    latest:
      over.latest === null
        ? null
        : {
            id: 70,
            attempt: 1,
            status: 'QUEUED',
            createdAt: NOW - 60_000,
            statusAt: NOW - 60_000,
            nodeName: null,
            distributorId: null,
            errorClass: null,
            ...over.latest,
          },
    workflow: { id: 3, name: 'wf', status: 'RUNNING', maxConcurrentlyRunning: 100, active: 10, ...over.workflow },
    template: over.template ?? null,
    liveRun: over.liveRun === undefined ? { id: 9, status: 'RUNNING' } : over.liveRun,
    lastRun: over.lastRun === undefined ? { id: 9, status: 'RUNNING' } : over.lastRun,
    upstream: over.upstream ?? { notDone: [], notDoneCount: 0, total: 0 },
    failedUpstream: over.failedUpstream ?? { tasks: [], count: 0, complete: true },
    queues: over.queues ?? [
      { name: 'all.q', limits: { cores: [1, 64], memory: [1, 512 * 1024], runtime: [1, 86400] } },
    ],
  };
}

const reasons = (f: WhyFacts) => explainTask(f).map((c) => c.reason);
const one = (f: WhyFacts, i = 0) => explainTask(f)[i]!;

describe('explainTask: where the task is now', () => {
  it('DONE: alone, and it will not run again even on resume', () => {
    const f = facts({
      task: { status: 'DONE', statusAt: NOW - 5000, numAttempts: 1 },
      liveRun: null,
      upstream: { notDone: [{ id: 1, name: 'x', status: 'ERROR_FATAL' }], notDoneCount: 1, total: 1 },
    });
    expect(reasons(f)).toEqual(['DONE']);
    expect(one(f).message).toBe('the task is DONE (since 5 s ago); it will not run again, not even on resume');
  });

  it('RUNNING: which attempt, since when, on which node', () => {
    const f = facts({
      task: { status: 'RUNNING', statusAt: NOW - 125_000, numAttempts: 2 },
      latest: { id: 71, attempt: 2, status: 'RUNNING', nodeName: 'node-12', distributorId: '4411' },
    });
    expect(reasons(f)).toEqual(['RUNNING']);
    expect(one(f).message).toBe(
      'the task is running now: attempt 2 (instance 71) on node node-12, started 2 min 5 s ago',
    );
    expect(one(f).details).toMatchObject({ attempt: 2, instanceId: 71, node: 'node-12', distributorId: '4411' });
  });

  it('LAUNCHED (and INSTANTIATING): waiting for the cluster, for how long', () => {
    const f = facts({
      task: { status: 'LAUNCHED', statusAt: NOW - 3_600_000 },
      latest: { status: 'LAUNCHED', distributorId: '998' },
    });
    expect(reasons(f)).toEqual(['LAUNCHED']);
    expect(one(f).message).toBe(
      "attempt 1 (instance 70) was submitted to cluster 'hpc' (distributor id 998) 1 h 0 min ago and waits for the cluster to start it (queue 'all.q')",
    );
    expect(one(f).details).toMatchObject({ waitingMs: 3_600_000, distributorId: '998' });
    expect(reasons(facts({ task: { status: 'INSTANTIATING' } }))).toEqual(['LAUNCHED']);
  });

  it('QUEUED with room: waiting on its distributor, for how long', () => {
    const f = facts({ task: { status: 'QUEUED', statusAt: NOW - 42_000 } });
    expect(reasons(f)).toEqual(['QUEUED']);
    expect(one(f).message).toBe(
      "attempt 1 (instance 70) was queued 42 s ago and waits for its distributor (cluster 'hpc') to take it",
    );
    expect(one(f).details).toMatchObject({ held: false, waitingMs: 42_000 });
  });

  it('an in-flight status left by a dead run says nothing watches it', () => {
    const queued = facts({ task: { status: 'QUEUED' }, workflow: { status: 'FAILED' }, liveRun: null });
    expect(reasons(queued)).toEqual(['QUEUED', 'NO_LIVE_RUN']);
    expect(one(queued).message).toMatch(/by a run that is no longer live; no distributor will take it$/);
    const launched = facts({ task: { status: 'LAUNCHED' }, workflow: { status: 'FAILED' }, liveRun: null });
    expect(one(launched).message).toMatch(/; no live run watches it any more$/);
  });

  it('QUEUED at a limit: held by the runner, the limit named first', () => {
    const f = facts({ task: { status: 'QUEUED' }, workflow: { maxConcurrentlyRunning: 10, active: 10 } });
    expect(reasons(f)).toEqual(['WORKFLOW_LIMIT', 'QUEUED']);
    expect(one(f, 1).details).toMatchObject({ held: true });
  });
});

describe('explainTask: why a task failed for good', () => {
  it('ATTEMPTS_SPENT: n of max, and with no live run what resume would do', () => {
    const f = facts({
      task: { status: 'ERROR_FATAL', numAttempts: 3, maxAttempts: 3 },
      latest: { status: 'ERROR', errorClass: 'application' },
      workflow: { status: 'FAILED' },
      liveRun: null,
      lastRun: { id: 9, status: 'ERROR' },
    });
    expect(reasons(f)).toEqual(['ATTEMPTS_SPENT', 'NO_LIVE_RUN']);
    expect(one(f).message).toBe('the task failed for good: 3 of 3 attempts spent, the last with an application error');
    expect(one(f, 1).message).toBe(
      'workflow 3 is FAILED and no run is running it (its last run 9 is ERROR), so nothing of it runs; ' +
        '`jobmon workflow resume` would run it again with a fresh set of 3 attempts, with the resources its first ' +
        'attempt asked for (--keep-resources: as its last attempt left them)',
    );
    expect(one(f, 1).details).toMatchObject({ onResume: 'rerun', freshAttempts: 3, workflowStatus: 'FAILED' });
  });

  it('a fatal task of a live run: that run will not retry it, a resume would', () => {
    const f = facts({ task: { status: 'ERROR_FATAL', numAttempts: 1, maxAttempts: 1 } });
    expect(reasons(f)).toEqual(['ATTEMPTS_SPENT']);
    expect(one(f).message).toBe(
      'the task failed for good: 1 of 1 attempt spent; run 9 will not retry it: a resume would run it again with a fresh set of 1 attempt',
    );
  });

  it('INFRA_BUDGET_SPENT: the infrastructure failures allowed were spent', () => {
    const f = facts({
      task: { status: 'ERROR_FATAL', numAttempts: 0, infraFailures: 5, maxInfraFailures: 5 },
      latest: { status: 'NO_HEARTBEAT', errorClass: 'infrastructure' },
    });
    expect(reasons(f)).toEqual(['INFRA_BUDGET_SPENT']);
    expect(one(f).message).toMatch(/5 of 5 infrastructure failures allowed were spent/);
    expect(one(f).details).toMatchObject({ infraFailures: 5, maxInfraFailures: 5 });
  });

  it('FATAL: failed for good with attempts left (a cluster verdict)', () => {
    const f = facts({
      task: { status: 'ERROR_FATAL', numAttempts: 1, maxAttempts: 3 },
      latest: { status: 'ERROR_FATAL', errorClass: 'killed' },
    });
    expect(reasons(f)).toEqual(['FATAL']);
    expect(one(f).message).toBe(
      'the task failed for good with attempts left (1 of 3): its last attempt ended ERROR_FATAL (killed), which is not retried; ' +
        'run 9 will not retry it: a resume would run it again with a fresh set of 3 attempts',
    );
  });
});

describe('explainTask: what a waiting task waits for', () => {
  it('UPSTREAM_NOT_DONE: lists up to 20 with their states, and counts the rest', () => {
    const notDone = Array.from({ length: WHY_UPSTREAM_SHOWN }, (_, i) => ({
      id: 100 + i,
      name: `up_${i}`,
      status: i === 0 ? ('ERROR_FATAL' as const) : ('RUNNING' as const),
    }));
    const f = facts({ upstream: { notDone, notDoneCount: 25, total: 30 } });
    expect(reasons(f)).toEqual(['UPSTREAM_NOT_DONE']);
    expect(one(f).message).toMatch(
      /^25 of its 30 upstream tasks are not DONE \(1 of those listed failed for good\): 100 'up_0' ERROR_FATAL, 101 'up_1' RUNNING, .* 119 'up_19' RUNNING and 5 more$/,
    );
    expect(one(f).details).toEqual({ upstream: notDone, count: 25, total: 30 });
  });

  it('UPSTREAM_FAILED: tasks failed for good anywhere upstream, nearest first, counted; after UPSTREAM_NOT_DONE', () => {
    const f = facts({
      upstream: { notDone: [{ id: 14, name: 'fit_coast', status: 'REGISTERING' }], notDoneCount: 1, total: 8 },
      failedUpstream: {
        tasks: [{ id: 6, name: 'fetch_coast', status: 'ERROR_FATAL', depth: 2 }],
        count: 1,
        complete: true,
      },
      liveRun: null,
      lastRun: { id: 1, status: 'ERROR' },
      workflow: { status: 'FAILED' },
    });
    expect(reasons(f)).toEqual(['UPSTREAM_NOT_DONE', 'UPSTREAM_FAILED', 'NO_LIVE_RUN']);
    expect(one(f, 1).message).toBe(
      "1 task upstream of it failed for good, so it will not run until that is fixed and the workflow resumed: 6 'fetch_coast' (2 edges up); see `jobmon task why 6` and `jobmon task logs 6`",
    );
    expect(one(f, 1).details).toEqual({
      failed: [{ id: 6, name: 'fetch_coast', status: 'ERROR_FATAL', depth: 2 }],
      count: 1,
      complete: true,
    });
    // The walk was cut: the count is a lower bound, and the ones not listed are counted.
    const many = facts({
      upstream: { notDone: [{ id: 14, name: 'fit', status: 'REGISTERING' }], notDoneCount: 1, total: 1 },
      failedUpstream: {
        tasks: Array.from({ length: 10 }, (_, i) => ({
          id: i + 1,
          name: `f${i}`,
          status: 'ERROR_FATAL' as const,
          depth: 1,
        })),
        count: 12,
        complete: false,
      },
    });
    expect(one(many, 1).message).toMatch(
      /^at least 12 tasks upstream of it failed for good, so it will not run until they are fixed and the workflow resumed: 1 'f0' \(directly upstream\), .* 10 'f9' \(directly upstream\) and 2 more; see `jobmon task why 1`/,
    );
    // A running task is not held by them (they were DONE when it started, or it was set by hand).
    expect(
      reasons(facts({ ...{ task: { status: 'RUNNING' } }, failedUpstream: { tasks: [], count: 3, complete: true } })),
    ).not.toContain('UPSTREAM_FAILED');
  });

  it('NO_QUEUE_FITS: only when no queue of the cluster holds the request; names the queue and limit', () => {
    const small = { name: 'small.q', limits: { memory: [1, 1024] as const } };
    const big = { name: 'big.q', limits: { memory: [1, 8192] as const, cores: [1, 1] as const } };
    const f = facts({ task: { queue: 'small.q' }, queues: [small, big] });
    expect(reasons(f)).toEqual(['NO_QUEUE_FITS']);
    expect(one(f).message).toBe(
      "its resource request fits no queue of cluster 'hpc': on its queue 'small.q' 4096 MiB memory is outside [1, 1024] " +
        "(and 1 other queue does not fit either); change the request or the queue's limits (`jobmon cluster add`)",
    );
    expect(one(f).details['queues']).toEqual([
      { queue: 'small.q', outside: [{ resource: 'memory', asked: 4096, range: [1, 1024] }] },
      { queue: 'big.q', outside: [{ resource: 'cores', asked: 2, range: [1, 1] }] },
    ]);
    // Another queue of the cluster fits: not a cause (the server places retries on a fallback queue).
    const roomy = { name: 'roomy.q', limits: { memory: [1, 8192] as const } };
    expect(reasons(facts({ task: { queue: 'small.q' }, queues: [small, roomy] }))).toEqual(['READY']);
    // A running task already got its place.
    expect(reasons(facts({ task: { status: 'RUNNING' }, queues: [small] }))).toEqual(['RUNNING']);
  });

  it('WORKFLOW_STOPPED: halted, no run; what resume would do with a task that never ran', () => {
    const f = facts({
      workflow: { status: 'HALTED' },
      liveRun: null,
      lastRun: { id: 9, status: 'STOPPED' },
      latest: null,
    });
    expect(reasons(f)).toEqual(['WORKFLOW_STOPPED']);
    expect(one(f).message).toBe(
      'workflow 3 is HALTED and no run is running it (its last run 9 is STOPPED), so nothing of it runs; ' +
        '`jobmon workflow resume` would run it (a fresh set of 3 attempts) once its upstream tasks are DONE',
    );
  });

  it('NO_LIVE_RUN: a workflow that never ran, and a stale in-flight task of a dead run', () => {
    expect(one(facts({ workflow: { status: 'REGISTERING' }, liveRun: null, lastRun: null })).message).toMatch(
      /^workflow 3 is REGISTERING and no run is running it \(it has never run\)/,
    );
    const stale = facts({ task: { status: 'RUNNING' }, workflow: { status: 'FAILED' }, liveRun: null });
    expect(reasons(stale)).toEqual(['RUNNING', 'NO_LIVE_RUN']);
    expect(one(stale, 1).message).toMatch(/would reset it to REGISTERING and run it with a fresh set of 3 attempts/);
  });

  it('WORKFLOW_STOPPED: a live run stepping aside for a resume; limits then hold nothing', () => {
    const f = facts({
      liveRun: { id: 9, status: 'COLD_RESUME' },
      workflow: { maxConcurrentlyRunning: 0 },
      task: { status: 'ERROR_FATAL', numAttempts: 3 },
    });
    expect(reasons(f)).toEqual(['ATTEMPTS_SPENT', 'WORKFLOW_STOPPED']);
    expect(one(f, 1).message).toBe(
      'run 9 of workflow 3 is stepping aside for a resume (COLD_RESUME): nothing new starts, what runs is killed; ' +
        'then the new run takes the workflow over and would run it again with a fresh set of 3 attempts, with the ' +
        'resources its first attempt asked for (--keep-resources: as its last attempt left them)',
    );
    expect(one(f, 1).details).toMatchObject({ runStatus: 'COLD_RESUME', onResume: 'rerun' });
    expect(one(facts({ liveRun: { id: 9, status: 'HOT_RESUME' } })).message).toMatch(/what runs may finish/);
  });

  it('WORKFLOW_PAUSED and TEMPLATE_PAUSED: a limit of 0', () => {
    const f = facts({ workflow: { maxConcurrentlyRunning: 0, active: 2 } });
    expect(reasons(f)).toEqual(['WORKFLOW_PAUSED']);
    expect(one(f).message).toBe(
      'workflow 3 is paused (its concurrency limit is 0): nothing new starts until `jobmon workflow concurrency 3 <n>`',
    );
    expect(one(f).details).toMatchObject({ limit: 0, running: 2, runId: 9 });
    const t = facts({ template: { limit: 0, active: 0 } });
    expect(reasons(t)).toEqual(['TEMPLATE_PAUSED']);
    expect(one(t).message).toMatch(/template 'fit' is paused in workflow 3 .*--template fit <n>/);
  });

  it('WORKFLOW_LIMIT and TEMPLATE_LIMIT: the limit and the running count, both when both hold', () => {
    const f = facts({ workflow: { maxConcurrentlyRunning: 10, active: 10 }, template: { limit: 4, active: 4 } });
    expect(reasons(f)).toEqual(['WORKFLOW_LIMIT', 'TEMPLATE_LIMIT']);
    expect(one(f).message).toBe('workflow 3 is at its concurrency limit: 10 running of at most 10');
    expect(one(f, 1).message).toBe("template 'fit' is at its concurrency limit in workflow 3: 4 running of at most 4");
    expect(one(f, 1).details).toMatchObject({ template: 'fit', limit: 4, running: 4 });
    expect(reasons(facts({ template: { limit: 4, active: 3 } }))).toEqual(['READY']);
  });

  it('ADJUSTING_RESOURCES and RETRY_PENDING: transient waits after a failed attempt', () => {
    const adj = facts({
      task: { status: 'ADJUSTING_RESOURCES', numAttempts: 1 },
      latest: { errorClass: 'resource', status: 'RESOURCE_ERROR' },
    });
    expect(reasons(adj)).toEqual(['ADJUSTING_RESOURCES']);
    expect(one(adj).message).toMatch(/hit a resource limit 1 min 30 s ago; it waits for its resources to be scaled up/);
    expect(reasons(facts({ task: { status: 'ERROR_RECOVERABLE', numAttempts: 1 } }))).toEqual(['RETRY_PENDING']);
  });

  it('READY: nothing holds it', () => {
    const f = facts({});
    expect(reasons(f)).toEqual(['READY']);
    expect(one(f).message).toBe(
      'nothing holds it: its upstream tasks are DONE and run 9 has room; the runner queues it at its next pass',
    );
  });

  it('lists every cause that holds, the blocking one first', () => {
    const f = facts({
      task: { queue: 'small.q' },
      upstream: { notDone: [{ id: 1, name: 'a', status: 'REGISTERING' }], notDoneCount: 1, total: 2 },
      queues: [{ name: 'small.q', limits: { cores: [1, 1] } }],
      workflow: { maxConcurrentlyRunning: 0 },
    });
    expect(reasons(f)).toEqual(['UPSTREAM_NOT_DONE', 'NO_QUEUE_FITS', 'WORKFLOW_PAUSED']);
    const dead = facts({
      upstream: { notDone: [{ id: 1, name: 'a', status: 'ERROR_FATAL' }], notDoneCount: 1, total: 1 },
      workflow: { status: 'FAILED', maxConcurrentlyRunning: 0 },
      liveRun: null,
    });
    // Without a live run, limits hold nothing: only the run's absence is said.
    expect(reasons(dead)).toEqual(['UPSTREAM_NOT_DONE', 'NO_LIVE_RUN']);
  });
});

describe('ago', () => {
  it('says a duration the way a person reads it', () => {
    expect([0, 59_999, 60_000, 3_599_000, 3_600_000, 49 * 3_600_000].map(ago)).toEqual([
      '0 s',
      '59 s',
      '1 min 0 s',
      '59 min 59 s',
      '1 h 0 min',
      '2 d 1 h',
    ]);
  });
});
