// GET /workflows/{id}/progress on a synthetic history whose estimate is known: template `fit` (10
// tasks; 4 finished in 10 s each), then `join` (1 task, asking for 30 s) after all of them.

import { describe, expect, it } from 'vitest';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { workflowProgress } from '../src/services/progress.js';
import { apiHelpers, hash, testApp } from './support.js';

const ctx = testApp('progress');
const { ok, call } = apiHelpers(() => ctx);

async function fitThenJoin(fitResources?: { runtime: number }, fitAttempts = 3) {
  const tool = await ok('POST', '/tools', { name: `progress_tool_${Date.now()}_${Math.random()}` });
  const { templates } = await ok('POST', '/task-templates', {
    toolVersionId: tool.toolVersionId,
    templates: [
      { name: 'fit', commandTemplate: 'fit {i}', nodeArgs: ['i'], taskArgs: [], opArgs: [] },
      { name: 'join', commandTemplate: 'join', nodeArgs: [], taskArgs: [], opArgs: [] },
    ],
  });
  const wf = await ok('POST', '/workflows', {
    toolVersionId: tool.toolVersionId,
    argsHash: hash(`p${Math.random()}`),
    taskHash: hash('pt'),
    dagHash: hash(`pd${Math.random()}`),
    workflowArgs: {},
    taskCount: 11,
    name: 'progress',
    description: '',
  });
  const run = await ok('POST', `/workflows/${wf.workflowId}/runs`, {
    user: 'tester',
    host: 'here',
    pid: process.pid,
    jobmonVersion: '0.1.0',
  });
  const body = [
    ...Array.from({ length: 10 }, (_, i) => ({
      nodeHash: hash(`pn${wf.workflowId}_${i}`),
      taskArgsHash: hash('noargs'),
      templateVersionId: templates[0].versionId,
      nodeArgs: { i },
      taskArgs: {},
      name: `fit_${i}`,
      command: `fit ${i}`,
      maxAttempts: fitAttempts,
      cluster: 'local',
      ...(fitResources ? { resources: fitResources } : {}),
    })),
    {
      nodeHash: hash(`pj${wf.workflowId}`),
      taskArgsHash: hash('noargs'),
      templateVersionId: templates[1].versionId,
      nodeArgs: {},
      taskArgs: {},
      name: 'join',
      command: 'join',
      maxAttempts: 3,
      cluster: 'local',
      resources: { runtime: 30 },
    },
  ];
  const bound = await ok('PUT', `/workflow-runs/${run.runId}/tasks`, { tasks: body });
  const nodes = bound.tasks.map((r: unknown[]) => r[0] as number);
  const tasks = bound.tasks.map((r: unknown[]) => r[1] as number);
  await ok('POST', `/workflow-runs/${run.runId}/edges`, {
    edges: nodes.slice(0, 10).map((u: number) => [u, nodes[10]]),
  });
  await ok('PUT', `/workflow-runs/${run.runId}/status`, { status: 'BOUND', taskCount: 11 });
  return { workflowId: wf.workflowId as number, runId: run.runId as number, tasks };
}

describe(`workflow progress on ${TEST_DB_KIND}`, () => {
  it('counts per template in five groups and estimates from finished runtimes, the request and the DAG', async () => {
    const w = await fitThenJoin();
    for (const s of ['INSTANTIATED', 'LAUNCHED', 'RUNNING'])
      await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: s });
    const q = await ok('POST', `/workflow-runs/${w.runId}/queue`, {
      tasks: w.tasks.slice(0, 5).map((taskId) => ({ taskId })),
    });
    const ids = q.instances.map((i: { instanceId: number }) => i.instanceId);
    for (const id of ids.slice(0, 4))
      await ok('POST', `/task-instances/${id}/transition`, {
        to: 'DONE',
        via: ['INSTANTIATED', 'LAUNCHED', 'RUNNING'],
        exitCode: 0,
        wallTimeMs: 10_000,
      });
    const p = await ok('GET', `/workflows/${w.workflowId}/progress`);
    expect(p.templates).toEqual([
      {
        id: expect.any(Number),
        name: 'fit',
        counts: { PENDING: 5, SCHEDULED: 1, RUNNING: 0, DONE: 4, FATAL: 0 },
        runtimeSeconds: 10,
        runtimeSource: 'this workflow',
      },
      {
        id: expect.any(Number),
        name: 'join',
        counts: { PENDING: 1, SCHEDULED: 0, RUNNING: 0, DONE: 0, FATAL: 0 },
        runtimeSeconds: 30,
        runtimeSource: 'runtime request',
      },
    ]);
    // Left: 6 fit × 10 s + join 30 s = 90 s of work; nothing runs now, so concurrency 1; the
    // critical path is fit then join, 40 s. Estimate max(40, 90) = 90, range up to 90 + 40.
    expect(p.eta).toMatchObject({ seconds: 90, low: 90, high: 130 });
    expect(p.eta.method).toMatch(/this workflow: 1 template; runtime request: 1 template/);
    expect(p.eta.method).toMatch(/critical path of what remains 40s/);
    expect(p.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it('a task failed for good: what waits on it is not work left, and the estimate says the run will end FAILED', async () => {
    const w = await fitThenJoin(undefined, 1);
    for (const s of ['INSTANTIATED', 'LAUNCHED', 'RUNNING'])
      await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: s });
    const q = await ok('POST', `/workflow-runs/${w.runId}/queue`, {
      tasks: w.tasks.slice(0, 10).map((taskId) => ({ taskId })),
    });
    const ids = q.instances.map((i: { instanceId: number }) => i.instanceId);
    // One attempt allowed: its error leaves the task failed for good.
    await ok('POST', `/task-instances/${ids[0]}/transition`, {
      to: 'ERROR',
      via: ['INSTANTIATED', 'LAUNCHED', 'RUNNING'],
      exitCode: 1,
      errorMessage: 'broken for good',
    });
    for (const id of ids.slice(1, 5))
      await ok('POST', `/task-instances/${id}/transition`, {
        to: 'DONE',
        via: ['INSTANTIATED', 'LAUNCHED', 'RUNNING'],
        exitCode: 0,
        wallTimeMs: 10_000,
      });
    const p = await ok('GET', `/workflows/${w.workflowId}/progress`);
    expect(p.templates[0].counts).toMatchObject({ FATAL: 1, DONE: 4 });
    // Left: 5 fit × 10 s; join waits on the failed fit_0 and never runs, so it is not work left.
    expect(p.eta).toMatchObject({ seconds: 50 });
    expect(p.eta.method).toContain(
      `will end FAILED: 1 task waits on 1 task failed for good (${w.tasks[0]}) and will not run; the estimate is for the rest`,
    );
  });

  it('scales a runtime request without history by how much of their request other templates used', async () => {
    const w = await fitThenJoin({ runtime: 100 });
    for (const s of ['INSTANTIATED', 'LAUNCHED', 'RUNNING'])
      await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: s });
    const q = await ok('POST', `/workflow-runs/${w.runId}/queue`, { tasks: [{ taskId: w.tasks[0] }] });
    await ok('POST', `/task-instances/${q.instances[0].instanceId}/transition`, {
      to: 'DONE',
      via: ['INSTANTIATED', 'LAUNCHED', 'RUNNING'],
      exitCode: 0,
      wallTimeMs: 10_000,
    });
    const p = await ok('GET', `/workflows/${w.workflowId}/progress`);
    // fit asked 100 s and used 10 s: join's request of 30 s is read as 3 s.
    expect(p.templates[1]).toMatchObject({ name: 'join', runtimeSeconds: 3, runtimeSource: 'scaled runtime request' });
    // Left: 9 fit × 10 s + 3 s = 93 s at concurrency 1 (no limit set).
    expect(p.eta).toMatchObject({ seconds: 93 });
    expect(p.eta.method).toMatch(/scaled runtime request: 1 template/);
    expect(p.eta.method).toMatch(/0 running now, no limit/);
  });

  it('scales by the median over finished tasks: a one-task template asked for 1 m does not outvote the rest', async () => {
    const tool = await ok('POST', '/tools', { name: `progress_votes_${Date.now()}_${Math.random()}` });
    const { templates } = await ok('POST', '/task-templates', {
      toolVersionId: tool.toolVersionId,
      templates: ['prep', 'fit', 'join'].map((name) => ({
        name,
        commandTemplate: `${name} {i}`,
        nodeArgs: ['i'],
        taskArgs: [],
        opArgs: [],
      })),
    });
    const wf = await ok('POST', '/workflows', {
      toolVersionId: tool.toolVersionId,
      argsHash: hash(`v${Math.random()}`),
      taskHash: hash('vt'),
      dagHash: hash(`vd${Math.random()}`),
      workflowArgs: {},
      taskCount: 6,
      name: 'progress_votes',
      description: '',
    });
    const run = await ok('POST', `/workflows/${wf.workflowId}/runs`, {
      user: 'tester',
      host: 'here',
      pid: process.pid,
      jobmonVersion: '0.1.0',
    });
    // prep asks 60 s, fit 10 s, join 30 s: one prep task, four fit tasks, one join.
    const spec = [
      [0, 60],
      [1, 10],
      [1, 10],
      [1, 10],
      [1, 10],
      [2, 30],
    ] as const;
    const bound = await ok('PUT', `/workflow-runs/${run.runId}/tasks`, {
      tasks: spec.map(([tpl, runtime], i) => ({
        nodeHash: hash(`vn${wf.workflowId}_${i}`),
        taskArgsHash: hash('noargs'),
        templateVersionId: templates[tpl].versionId,
        nodeArgs: { i },
        taskArgs: {},
        name: `task_${i}`,
        command: `task ${i}`,
        maxAttempts: 3,
        cluster: 'local',
        resources: { runtime },
      })),
    });
    const tasks: number[] = bound.tasks.map((r: unknown[]) => r[1] as number);
    await ok('PUT', `/workflow-runs/${run.runId}/status`, { status: 'BOUND', taskCount: 6 });
    for (const s of ['INSTANTIATED', 'LAUNCHED', 'RUNNING'])
      await ok('PUT', `/workflow-runs/${run.runId}/status`, { status: s });
    const q = await ok('POST', `/workflow-runs/${run.runId}/queue`, {
      tasks: tasks.slice(0, 4).map((taskId) => ({ taskId })),
    });
    // prep used 0.5 s of 60 (1 %); three fit tasks 1 s of 10 each (10 %).
    for (const [k, inst] of q.instances.entries())
      await ok('POST', `/task-instances/${inst.instanceId}/transition`, {
        to: 'DONE',
        via: ['INSTANTIATED', 'LAUNCHED', 'RUNNING'],
        exitCode: 0,
        wallTimeMs: k === 0 ? 500 : 1000,
      });
    const p = await ok('GET', `/workflows/${wf.workflowId}/progress`);
    // Four votes: 1 % once, 10 % three times: join's 30 s reads as 3 s. A vote per template would
    // split 1 %–10 % and its lower median would read it as 0.25 s.
    expect(p.templates[2]).toMatchObject({ name: 'join', runtimeSeconds: 3, runtimeSource: 'scaled runtime request' });
    // Left: 1 fit × 1 s + join 3 s = 4 s at concurrency 1 (no edges were bound: the path is 3 s).
    expect(p.eta).toMatchObject({ seconds: 4 });
  });

  it('measures the concurrency over the last minute: nothing running this instant is not one slot', async () => {
    const w = await fitThenJoin();
    for (const s of ['INSTANTIATED', 'LAUNCHED', 'RUNNING'])
      await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: s });
    const q = await ok('POST', `/workflow-runs/${w.runId}/queue`, {
      tasks: w.tasks.slice(0, 4).map((taskId) => ({ taskId })),
    });
    const ids: number[] = q.instances.map((i: { instanceId: number }) => i.instanceId);
    for (const id of ids)
      await ok('POST', `/task-instances/${id}/transition`, {
        to: 'DONE',
        via: ['INSTANTIATED', 'LAUNCHED', 'RUNNING'],
        exitCode: 0,
        wallTimeMs: 30_000,
      });
    // A history on an injected clock: the run started 100 s ago; two 30 s commands ended 45 s ago
    // (so 15 s of each lies in the last minute), two ended 5 s ago. Over the last minute
    // 2 × 15 + 2 × 30 = 90 s of commands ran: 1.5 at a time on average.
    const now = Date.now();
    const k = ctx.db.kysely;
    await k
      .updateTable('workflow_run')
      .set({ created_at: now - 100_000 })
      .where('id', '=', w.runId)
      .execute();
    await k
      .updateTable('task_instance')
      .set({ status_at: now - 45_000 })
      .where('id', 'in', ids.slice(0, 2))
      .execute();
    await k
      .updateTable('task_instance')
      .set({ status_at: now - 5_000 })
      .where('id', 'in', ids.slice(2))
      .execute();
    const p = await workflowProgress(ctx.db, w.workflowId, now);
    // Left: 6 fit × 30 s + join 30 s = 210 s of work at 1.5 = 140 s; the path is 30 + 30 = 60 s.
    // The count at this instant (0 running) would say one slot: 210 s.
    expect(p.eta).toMatchObject({ seconds: 140, low: 140, high: 200 });
    expect(p.eta!.method).toMatch(/concurrency 1\.5 \(1\.5 on average over the last 1m 00s, 0 running now, no limit\)/);
    // Eight seconds into a run, the window is too short to say anything: the count now (0) → 1 slot.
    await k
      .updateTable('workflow_run')
      .set({ created_at: now - 8_000 })
      .where('id', '=', w.runId)
      .execute();
    await k
      .updateTable('task_instance')
      .set({ status_at: now - 2_000 })
      .where('id', 'in', ids)
      .execute();
    const early = await workflowProgress(ctx.db, w.workflowId, now);
    expect(early.eta).toMatchObject({ seconds: 210 });
  });

  it('says why there is no estimate when no run is live, and 404 names an unknown workflow', async () => {
    const w = await fitThenJoin();
    await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: 'ERROR' });
    const p = await ok('GET', `/workflows/${w.workflowId}/progress`);
    expect(p.eta).toBeNull();
    expect(p.etaReason).toMatch(/no run is live/);
    const r = await call('GET', '/workflows/99999999/progress');
    expect(r.status).toBe(404);
    expect(r.body.message).toMatch(/workflow 99999999 does not exist/);
  });
});
