// The API lane: every route through Fastify's inject against a real database (a SQLite file, or a
// fresh PostgreSQL database with JOBMON_TEST_DB=postgres). Bad input must answer 4xx with a code
// and a message naming the offending thing, and leave every table exactly as it was.

import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '@jobmon/server';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { waitFor } from '../../../test-support/wait.js';
import { eventBus } from '../src/services/tx.js';
import { apiHelpers, hash, type Bound, testApp } from './support.js';

const ctx = testApp('api');

const helpers = apiHelpers(() => ctx);
const { call, ok, snapshot, bindWorkflow, runningWorkflow, taskRow } = helpers;

describe(`API on ${TEST_DB_KIND}`, () => {
  it('serves a health check and an OpenAPI document listing every route', async () => {
    const health = await ok('GET', '/health');
    expect(health).toMatchObject({ ok: true, db: TEST_DB_KIND });
    const doc = await ok('GET', '/openapi.json');
    expect(doc.openapi).toBe('3.0.3');
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api/v1/tools',
      '/api/v1/task-templates',
      '/api/v1/clusters',
      '/api/v1/clusters/{name}',
      '/api/v1/workflows',
      '/api/v1/workflows/{id}',
      '/api/v1/workflows/{id}/tasks',
      '/api/v1/workflows/{id}/errors',
      '/api/v1/workflows/{id}/runs',
      '/api/v1/workflow-runs/{id}/tasks',
      '/api/v1/workflow-runs/{id}/edges',
      '/api/v1/workflow-runs/{id}/status',
      '/api/v1/workflow-runs/{id}/heartbeat',
      '/api/v1/workflow-runs/{id}/queue',
      '/api/v1/task-instances/transitions',
      '/api/v1/task-instances/{id}/transition',
      '/api/v1/task-instances/{id}/heartbeat',
      '/api/v1/events',
    ]) {
      expect(paths, p).toContain(p);
    }
    // Request bodies are documented from the same schemas the server validates with.
    const bindBody = doc.paths['/api/v1/workflow-runs/{id}/tasks'].put.requestBody.content['application/json'].schema;
    expect(bindBody.properties.tasks.maxItems).toBe(20000);
  });

  it('lists the seeded clusters and their queues', async () => {
    const { clusters } = await ok('GET', '/clusters');
    const names = clusters.map((c: { name: string }) => c.name).sort();
    expect(names).toEqual(['dummy', 'local', 'sequential', 'slurm']);
    expect(
      clusters.find((c: { name: string }) => c.name === 'dummy').queues.map((q: { name: string }) => q.name),
    ).toContain('null.q');
  });

  it('binds a workflow: tasks, edges, run LINKING→BOUND, workflow QUEUED, each change in the event log', async () => {
    const before = (await ok('GET', '/events/latest')).last;
    const b = await bindWorkflow(3, { chain: true });
    expect(b.tasks).toHaveLength(3);
    const edges = await ctx.db.kysely.selectFrom('edge').selectAll().where('dag_id', '=', b.dagId).execute();
    expect(edges).toHaveLength(2);
    const wf = await ok('GET', `/workflows/${b.workflowId}`);
    expect(wf).toMatchObject({ status: 'QUEUED', taskCount: 3, lastRun: { id: b.runId, status: 'BOUND' } });
    expect(wf.counts).toMatchObject({ REGISTERING: 3 });
    const { events } = await ok('GET', `/events?after=${before}&workflowId=${b.workflowId}`);
    const moves = events.map(
      (e: { entity: string; from: string | null; to: string }) => `${e.entity}:${e.from}→${e.to}`,
    );
    expect(moves).toEqual(
      expect.arrayContaining([
        'workflow_run:REGISTERED→LINKING',
        'workflow_run:LINKING→BOUND',
        'workflow:REGISTERING→QUEUED',
      ]),
    );
  });

  it('rebinding the same identity returns the same workflow; re-sending a task chunk is idempotent', async () => {
    const b = await bindWorkflow(2, { bound: false });
    const wfRow = await ctx.db.kysely
      .selectFrom('workflow')
      .selectAll()
      .where('id', '=', b.workflowId)
      .executeTakeFirstOrThrow();
    const again = await ok('POST', '/workflows', {
      toolVersionId: b.toolVersionId,
      argsHash: wfRow.args_hash,
      taskHash: wfRow.task_hash,
      dagHash: hash(`dag${helpers.seq}`),
      workflowArgs: { k: helpers.seq },
      taskCount: 2,
      name: wfRow.name,
      description: '',
    });
    expect(again).toMatchObject({ workflowId: b.workflowId, created: false });
    const tasksBefore = await ctx.db.kysely
      .selectFrom('task')
      .select('id')
      .where('workflow_id', '=', b.workflowId)
      .execute();
    const body = [0, 1].map((i) => ({
      nodeHash: hash(`node${helpers.seq}_${i}`),
      taskArgsHash: hash('noargs'),
      templateVersionId: b.versionId,
      nodeArgs: { i },
      taskArgs: {},
      name: `step_${i}`,
      command: `echo ${i}`,
      maxAttempts: 3,
      cluster: 'local',
    }));
    const res = await ok('PUT', `/workflow-runs/${b.runId}/tasks`, { tasks: body });
    expect(res.tasks.map((r: unknown[]) => r[1])).toEqual(b.tasks);
    const tasksAfter = await ctx.db.kysely
      .selectFrom('task')
      .select('id')
      .where('workflow_id', '=', b.workflowId)
      .execute();
    expect(tasksAfter).toHaveLength(tasksBefore.length);
  });

  it('refuses a workflow that exists with other tasks (409 naming it) and writes nothing', async () => {
    const b = await bindWorkflow(2);
    const wfRow = await ctx.db.kysely
      .selectFrom('workflow')
      .selectAll()
      .where('id', '=', b.workflowId)
      .executeTakeFirstOrThrow();
    const snap = await snapshot();
    const r = await call('POST', '/workflows', {
      toolVersionId: b.toolVersionId,
      argsHash: wfRow.args_hash,
      taskHash: hash('other-tasks'),
      dagHash: hash('other-dag'),
      workflowArgs: {},
      taskCount: 5,
      name: 'changed',
      description: '',
    });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('JM_WORKFLOW_CONFLICT');
    expect(r.body.message).toContain(`workflow ${b.workflowId}`);
    expect(r.body.details).toMatchObject({ workflowId: b.workflowId, storedTaskCount: 2, declaredTaskCount: 5 });
    expect(await snapshot()).toEqual(snap);
  });

  it('refuses BOUND until every declared task is bound', async () => {
    const b = await bindWorkflow(2, { bound: false });
    await ctx.db.kysely.deleteFrom('task').where('id', '=', b.tasks[1]!).execute();
    const snap = await snapshot();
    const r = await call('PUT', `/workflow-runs/${b.runId}/status`, { status: 'BOUND', taskCount: 2 });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'JM_VALIDATION', details: { field: 'taskCount', bound: 1, declared: 2 } });
    expect(await snapshot()).toEqual(snap);
  });

  it('refuses a second live run of a workflow, naming the run that holds it', async () => {
    const b = await bindWorkflow(1);
    const snap = await snapshot();
    const r = await call('POST', `/workflows/${b.workflowId}/runs`, {
      user: 'u',
      host: 'h',
      pid: 1,
      jobmonVersion: '0.1.0',
    });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('JM_NOT_RESUMABLE');
    expect(r.body.message).toContain(`held by run ${b.runId}`);
    expect(await snapshot()).toEqual(snap);
  });

  it('answers an illegal run transition with 409 and its from/to, and changes nothing', async () => {
    const b = await bindWorkflow(1);
    const snap = await snapshot();
    const r = await call('PUT', `/workflow-runs/${b.runId}/status`, { status: 'DONE' });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'JM_ILLEGAL_TRANSITION', details: { from: 'BOUND', to: 'DONE' } });
    expect(r.body.message).toContain(`workflow run ${b.runId}`);
    expect(await snapshot()).toEqual(snap);
    // Binding tasks is only possible while LINKING.
    const t = await call('POST', `/workflow-runs/${b.runId}/edges`, { edges: [[b.nodes[0], b.nodes[0]]] });
    expect(t.status).toBe(409);
    expect(t.body.details).toMatchObject({ from: 'BOUND' });
    expect(await snapshot()).toEqual(snap);
  });

  it('moves an instance and its task together, through a via path, to DONE; the workflow run follows', async () => {
    const w = await runningWorkflow(1);
    const [inst] = w.instances;
    const r = await ok('POST', `/task-instances/${inst}/transition`, {
      to: 'RUNNING',
      via: ['INSTANTIATED', 'LAUNCHED'],
      pgid: 4242,
      nodeName: 'n1',
    });
    expect(r).toMatchObject({
      status: 'RUNNING',
      taskStatus: 'RUNNING',
      outcome: 'applied',
      command: 'echo 0',
      workflowRunId: w.runId,
    });
    expect((await taskRow(w.tasks[0]!)).status).toBe('RUNNING');
    const d = await ok('POST', `/task-instances/${inst}/transition`, {
      to: 'DONE',
      exitCode: 0,
      wallTimeMs: 12,
      stdoutTail: 'hello\n',
    });
    expect(d).toMatchObject({ status: 'DONE', taskStatus: 'DONE' });
    const detail = await ok('GET', `/task-instances/${inst}`);
    expect(detail).toMatchObject({
      status: 'DONE',
      exitCode: 0,
      wallTimeMs: 12,
      stdoutTail: 'hello\n',
      nodeName: 'n1',
    });
    // A retried DONE report is untimely, not an error.
    const again = await ok('POST', '/task-instances/transitions', { items: [{ id: inst, to: 'DONE' }] });
    expect(again.results[0]).toMatchObject({ outcome: 'untimely', status: 'DONE' });
    await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: 'DONE' });
    expect((await ok('GET', `/workflows/${w.workflowId}`)).status).toBe('DONE');
    // A DONE workflow has nothing to run.
    const snap = await snapshot();
    const rerun = await call('POST', `/workflows/${w.workflowId}/runs`, {
      user: 'u',
      host: 'h',
      pid: 1,
      jobmonVersion: '0.1.0',
    });
    expect(rerun.status).toBe(409);
    expect(rerun.body).toMatchObject({ code: 'JM_NOT_RESUMABLE', details: { status: 'DONE' } });
    expect(rerun.body.message).toContain('already DONE');
    expect(await snapshot()).toEqual(snap);
  });

  it('answers an illegal instance transition with 409 (single) or "rejected" (batch), changing nothing', async () => {
    const w = await runningWorkflow(2);
    const snap = await snapshot();
    const single = await call('POST', `/task-instances/${w.instances[0]}/transition`, { to: 'DONE' });
    expect(single.status).toBe(409);
    expect(single.body).toMatchObject({
      code: 'JM_ILLEGAL_TRANSITION',
      details: { entity: 'task_instance', id: w.instances[0], from: 'QUEUED', to: 'DONE' },
    });
    const batch = await ok('POST', '/task-instances/transitions', { items: [{ id: w.instances[1], to: 'TRIAGING' }] });
    expect(batch.results[0]).toMatchObject({ outcome: 'rejected', status: 'QUEUED' });
    expect(batch.results[0].message).toContain('QUEUED to TRIAGING');
    expect(await snapshot()).toEqual(snap);
  });

  it('records a cleanup learned after the outcome once, and nothing else of a late report', async () => {
    const w = await runningWorkflow(1);
    const id = w.instances[0]!;
    await ok('POST', `/task-instances/${id}/transition`, {
      to: 'DONE',
      via: ['INSTANTIATED', 'LAUNCHED', 'RUNNING'],
      exitCode: 0,
      stdoutTail: 'out\n',
    });
    const late = await ok('POST', '/task-instances/transitions', {
      items: [
        { id, to: 'DONE', cleanup: 'killed 1 process left behind: 4242 sleep (own session)', stdoutTail: 'forged\n' },
      ],
    });
    expect(late.results[0]).toMatchObject({ outcome: 'untimely', status: 'DONE' });
    const again = await ok('POST', '/task-instances/transitions', {
      items: [{ id, to: 'DONE', cleanup: 'a second note' }],
    });
    expect(again.results[0]).toMatchObject({ outcome: 'untimely' });
    expect(await ok('GET', `/task-instances/${id}`)).toMatchObject({
      stdoutTail: 'out\n',
      cleanup: 'killed 1 process left behind: 4242 sleep (own session)',
    });
  });

  it('stores report text from a task with NUL and unpaired surrogates replaced by U+FFFD, losing nothing of the batch', async () => {
    const w = await runningWorkflow(2);
    const [a, b] = w.instances as [number, number];
    const dirty = 'hello\u0000world \uD800 \uDE00 pair \uD83D\uDE00\n';
    const clean = 'hello\uFFFDworld \uFFFD \uFFFD pair \uD83D\uDE00\n';
    const via = ['INSTANTIATED', 'LAUNCHED', 'RUNNING'];
    const r = await ok('POST', '/task-instances/transitions', {
      items: [
        { id: a, to: 'ERROR', via, exitCode: 1, stdoutTail: dirty, stderrTail: dirty, cleanup: dirty },
        { id: b, to: 'ERROR', via, exitCode: 2, errorMessage: dirty },
      ],
    });
    expect(r.results.map((x: { outcome: string }) => x.outcome)).toEqual(['applied', 'applied']);
    expect(await ok('GET', `/task-instances/${a}`)).toMatchObject({
      stdoutTail: clean,
      stderrTail: clean,
      cleanup: clean,
    });
    const messages = await ctx.db.kysely
      .selectFrom('task_instance_error')
      .select(['task_instance_id', 'message'])
      .where('task_instance_id', 'in', [a, b])
      .execute();
    const byId = new Map(messages.map((m) => [m.task_instance_id, m.message]));
    expect(byId.get(a)).toBe(`command exited with code 1: ${clean.trim()}`);
    expect(byId.get(b)).toBe(clean);
  });

  it('ignores an untimely report (a launch after running) and keeps the newer state', async () => {
    const w = await runningWorkflow(1);
    await ok('POST', `/task-instances/${w.instances[0]}/transition`, { to: 'RUNNING', via: ['INSTANTIATED'] });
    const snap = await snapshot();
    const r = await ok('POST', '/task-instances/transitions', {
      items: [{ id: w.instances[0], to: 'LAUNCHED', distributorId: 'late' }],
    });
    expect(r.results[0]).toMatchObject({ outcome: 'untimely', status: 'RUNNING', taskStatus: 'RUNNING' });
    expect(await snapshot()).toEqual(snap);
  });

  it('classifies errors and spends separate budgets: application, resource, infrastructure', async () => {
    const w = await runningWorkflow(3, { maxAttempts: 2 });
    const [app1, res1, infra1] = w.instances as [number, number, number];
    const [appTask, resTask, infraTask] = w.tasks as [number, number, number];
    for (const i of w.instances)
      await ok('POST', `/task-instances/${i}/transition`, { to: 'RUNNING', via: ['INSTANTIATED', 'LAUNCHED'] });

    // Application error with an attempt left: retried, one attempt spent.
    const a = await ok('POST', `/task-instances/${app1}/transition`, {
      to: 'ERROR',
      exitCode: 3,
      stderrTail: 'boom\n',
    });
    expect(a).toMatchObject({ status: 'ERROR', taskStatus: 'REGISTERING' });
    expect(await taskRow(appTask)).toMatchObject({ status: 'REGISTERING', num_attempts: 1, infra_failures: 0 });

    // Resource error: the task waits for new resources.
    const r = await ok('POST', '/task-instances/transitions', {
      items: [{ id: res1, to: 'RESOURCE_ERROR', errorMessage: 'oom-killed' }],
    });
    expect(r.results[0]).toMatchObject({ status: 'RESOURCE_ERROR', taskStatus: 'ADJUSTING_RESOURCES' });

    // Infrastructure error: the attempt is refunded, the infrastructure budget pays.
    const f = await ok('POST', '/task-instances/transitions', { items: [{ id: infra1, to: 'UNKNOWN_ERROR' }] });
    expect(f.results[0]).toMatchObject({ status: 'UNKNOWN_ERROR', taskStatus: 'REGISTERING' });
    expect(await taskRow(infraTask)).toMatchObject({ status: 'REGISTERING', num_attempts: 0, infra_failures: 1 });

    // The second application error exhausts the attempts: fatal.
    const q = await ok('POST', `/workflow-runs/${w.runId}/queue`, { tasks: [{ taskId: appTask }] });
    const app2 = q.instances[0].instanceId;
    await ok('POST', `/task-instances/${app2}/transition`, { to: 'RUNNING', via: ['INSTANTIATED', 'LAUNCHED'] });
    const a2 = await ok('POST', `/task-instances/${app2}/transition`, { to: 'ERROR', exitCode: 1 });
    expect(a2.taskStatus).toBe('ERROR_FATAL');
    expect(await taskRow(appTask)).toMatchObject({ status: 'ERROR_FATAL', num_attempts: 2 });

    const all = await ok('GET', `/workflows/${w.workflowId}/errors?all=true`);
    const classes = all.errors.map((e: { taskId: number; errorClass: string }) => `${e.taskId}:${e.errorClass}`).sort();
    // The latest error of each task; the task's instances keep the whole history.
    expect(classes).toEqual([`${appTask}:application`, `${infraTask}:infrastructure`, `${resTask}:resource`].sort());
    const history = await ok('GET', `/tasks/${appTask}/instances`);
    expect(history.instances.map((i: { status: string; errorClass: string }) => `${i.status}:${i.errorClass}`)).toEqual(
      ['ERROR:application', 'ERROR:application'],
    );
    expect(history.nextAfter).toBeUndefined();
    // Paged: one at a time, each page naming where the next starts, the last naming none.
    const first = await ok('GET', `/tasks/${appTask}/instances?limit=1`);
    expect(first.instances.map((i: { id: number }) => i.id)).toEqual([app1]);
    expect(first.nextAfter).toBe(app1);
    const second = await ok('GET', `/tasks/${appTask}/instances?limit=1&after=${first.nextAfter}`);
    expect(second.instances.map((i: { id: number }) => i.id)).toEqual([app2]);
    const none = await ok('GET', `/tasks/${appTask}/instances?limit=1&after=${app2}`);
    expect(none).toEqual({ instances: [] });
    // A run's instances, the same way: all three first attempts and the retry, in id order, by two.
    const p1 = await ok('GET', `/workflow-runs/${w.runId}/instances?limit=2`);
    const p2 = await ok('GET', `/workflow-runs/${w.runId}/instances?limit=2&after=${p1.nextAfter}`);
    expect([...p1.instances, ...p2.instances].map((i: { id: number }) => i.id)).toEqual([app1, res1, infra1, app2]);
    const live = await ok('GET', `/workflow-runs/${w.runId}/instances?status=RUNNING,QUEUED`);
    expect(live.instances).toEqual([]);
    const fatal = await ok('GET', `/workflows/${w.workflowId}/errors`);
    expect(fatal.errors.map((e: { taskId: number }) => e.taskId)).toEqual([appTask]);
    expect(fatal.errors[0]).toMatchObject({ exitCode: 1, errorClass: 'application' });
  });

  it('queues only queueable tasks and refuses tasks of another workflow', async () => {
    const w = await runningWorkflow(1);
    const again = await ok('POST', `/workflow-runs/${w.runId}/queue`, { tasks: [{ taskId: w.tasks[0] }] });
    expect(again).toMatchObject({ instances: [], skipped: [{ taskId: w.tasks[0], status: 'QUEUED' }] });
    const other = await bindWorkflow(1);
    const snap = await snapshot();
    const r = await call('POST', `/workflow-runs/${w.runId}/queue`, { tasks: [{ taskId: other.tasks[0] }] });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain(`task ${other.tasks[0]} is not part of workflow ${w.workflowId}`);
    expect(await snapshot()).toEqual(snap);
  });

  it('long-polls the event log: a waiting follower wakes on the next change', async () => {
    // A follower on an app whose fallback re-read comes only every 5 s: waking within a second
    // proves the commit woke it (the fallback alone would take 5 s).
    const slowPoll = await buildApp({ db: ctx.db, eventPollMs: 5_000 });
    try {
      const w = await runningWorkflow(1);
      const { last } = await slowPoll.inject({ method: 'GET', url: '/api/v1/events/latest' }).then((r) => r.json());
      const listening = eventBus.listenerCount('committed');
      const follow = slowPoll.inject({
        method: 'GET',
        url: `/api/v1/events?after=${last}&workflowId=${w.workflowId}&waitMs=10000`,
      });
      // Change the state only once the follower has read an empty log and is waiting.
      await waitFor(
        'the follower to wait for a commit',
        () => eventBus.listenerCount('committed') > listening,
        5_000,
        5,
      );
      await ok('POST', `/task-instances/${w.instances[0]}/transition`, { to: 'INSTANTIATED' });
      const committed = Date.now();
      const got = await follow;
      const wokeAfterMs = Date.now() - committed;
      expect(got.statusCode).toBe(200);
      expect(wokeAfterMs, 'the follower woke by the fallback re-read, not by the commit').toBeLessThan(1_000);
      const body = got.json();
      expect(body.events[0]).toMatchObject({
        entity: 'task_instance',
        entityId: w.instances[0],
        from: 'QUEUED',
        to: 'INSTANTIATED',
      });
      expect(body.last).toBeGreaterThan(last);
      // Nothing new: the poll returns empty after its wait.
      const empty = await ok('GET', `/events?after=${body.last}&workflowId=${w.workflowId}&waitMs=100`);
      expect(empty.events).toEqual([]);
    } finally {
      await slowPoll.close();
    }
  });

  it('answers a worker heartbeat with the current status, and an unknown instance with 404', async () => {
    const w = await runningWorkflow(1);
    await ok('POST', `/task-instances/${w.instances[0]}/transition`, {
      to: 'RUNNING',
      via: ['INSTANTIATED', 'LAUNCHED'],
    });
    expect(await ok('POST', `/task-instances/${w.instances[0]}/heartbeat`, { nextReportMs: 5000 })).toEqual({
      status: 'RUNNING',
    });
    const r = await call('POST', '/task-instances/999999999/heartbeat', { nextReportMs: 5000 });
    expect(r.status).toBe(404);
    expect(r.body.message).toContain('task instance 999999999');
  });
});

describe(`bad input on ${TEST_DB_KIND}: 4xx with a named field, never 5xx, nothing written`, () => {
  let w: Bound & { instances: number[] };
  let linking: Bound;
  beforeAll(async () => {
    w = await runningWorkflow(2);
    linking = await bindWorkflow(1, { bound: false });
  });

  const goodTask = () => ({
    nodeHash: hash('badnode'),
    taskArgsHash: hash('noargs'),
    templateVersionId: linking.versionId,
    nodeArgs: { i: 'x' },
    taskArgs: {},
    name: 'bad',
    command: 'true',
    maxAttempts: 1,
    cluster: 'local',
  });

  type Case = [string, 'GET' | 'POST' | 'PUT', () => string, () => unknown, number?, string?, boolean?];
  const cases: Case[] = [
    ['tool: missing name', 'POST', () => '/tools', () => ({}), 400, 'name'],
    ['tool: name of wrong type', 'POST', () => '/tools', () => ({ name: { a: 1 } }), 400, 'name'],
    ['tool: empty name', 'POST', () => '/tools', () => ({ name: '' }), 400, 'name'],
    ['tool: unknown property', 'POST', () => '/tools', () => ({ name: 'x', colour: 'red' }), 400, 'colour'],
    ['tool: body not JSON', 'POST', () => '/tools', () => '{"name": ', 400, undefined, true],
    ['tool: body is an array', 'POST', () => '/tools', () => '[1,2]', 400, undefined, true],
    [
      'templates: unknown tool version',
      'POST',
      () => '/task-templates',
      () => ({
        toolVersionId: 999999,
        templates: [{ name: 't', commandTemplate: 'x', nodeArgs: [], taskArgs: [], opArgs: [] }],
      }),
      404,
      'tool version 999999',
    ],
    [
      'templates: none',
      'POST',
      () => '/task-templates',
      () => ({ toolVersionId: linking.toolVersionId, templates: [] }),
      400,
      'templates',
    ],
    [
      'templates: argument twice',
      'POST',
      () => '/task-templates',
      () => ({
        toolVersionId: linking.toolVersionId,
        templates: [{ name: 'dup', commandTemplate: '{a}', nodeArgs: ['a'], taskArgs: ['a'], opArgs: [] }],
      }),
      400,
      "'a'",
    ],
    [
      'templates: command not a string',
      'POST',
      () => '/task-templates',
      () => ({
        toolVersionId: linking.toolVersionId,
        templates: [{ name: 't', commandTemplate: ['x'], nodeArgs: [], taskArgs: [], opArgs: [] }],
      }),
      400,
      'commandTemplate',
    ],
    [
      'workflow: short hash',
      'POST',
      () => '/workflows',
      () => ({
        toolVersionId: linking.toolVersionId,
        argsHash: 'x',
        taskHash: hash('t'),
        dagHash: hash('d'),
        workflowArgs: {},
        taskCount: 1,
        name: 'n',
        description: '',
      }),
      400,
      'argsHash',
    ],
    [
      'workflow: negative task count',
      'POST',
      () => '/workflows',
      () => ({
        toolVersionId: linking.toolVersionId,
        argsHash: hash('a'),
        taskHash: hash('t'),
        dagHash: hash('d'),
        workflowArgs: {},
        taskCount: -1,
        name: 'n',
        description: '',
      }),
      400,
      'taskCount',
    ],
    [
      'workflow: unknown tool version',
      'POST',
      () => '/workflows',
      () => ({
        toolVersionId: 999999,
        argsHash: hash('a'),
        taskHash: hash('t'),
        dagHash: hash('d'),
        workflowArgs: {},
        taskCount: 1,
        name: 'n',
        description: '',
      }),
      404,
      'tool version 999999',
    ],
    [
      'workflow: unknown template in concurrency limits',
      'POST',
      () => '/workflows',
      () => ({
        toolVersionId: linking.toolVersionId,
        argsHash: hash('newargs'),
        taskHash: hash('t'),
        dagHash: hash('d'),
        workflowArgs: {},
        taskCount: 1,
        name: 'n',
        description: '',
        templateConcurrency: { nosuch: 2 },
      }),
      400,
      'nosuch',
    ],
    [
      'workflow: args of wrong type',
      'POST',
      () => '/workflows',
      () => ({
        toolVersionId: linking.toolVersionId,
        argsHash: hash('a'),
        taskHash: hash('t'),
        dagHash: hash('d'),
        workflowArgs: { a: [1] },
        taskCount: 1,
        name: 'n',
        description: '',
      }),
      400,
      'workflowArgs',
    ],
    ['workflow: id not a number', 'GET', () => '/workflows/abc', () => undefined, 400, 'id'],
    ['workflow: id zero', 'GET', () => '/workflows/0', () => undefined, 400, 'id'],
    ['workflow: unknown', 'GET', () => '/workflows/999999', () => undefined, 404, 'workflow 999999'],
    [
      'workflow tasks: bad status filter',
      'GET',
      () => `/workflows/${w.workflowId}/tasks?status=SLEEPING`,
      () => undefined,
      400,
      'status',
    ],
    [
      'workflow tasks: limit too large',
      'GET',
      () => `/workflows/${w.workflowId}/tasks?limit=1000000`,
      () => undefined,
      400,
      'limit',
    ],
    [
      'workflow errors: unknown workflow',
      'GET',
      () => '/workflows/999999/errors',
      () => undefined,
      404,
      'workflow 999999',
    ],
    [
      'run: unknown workflow',
      'POST',
      () => '/workflows/999999/runs',
      () => ({ user: 'u', host: 'h', pid: 1, jobmonVersion: '0' }),
      404,
      'workflow 999999',
    ],
    [
      'run: negative pid',
      'POST',
      () => `/workflows/${w.workflowId}/runs`,
      () => ({ user: 'u', host: 'h', pid: -5, jobmonVersion: '0' }),
      400,
      'pid',
    ],
    ['bind tasks: no tasks', 'PUT', () => `/workflow-runs/${linking.runId}/tasks`, () => ({ tasks: [] }), 400, 'tasks'],
    [
      'bind tasks: unknown cluster',
      'PUT',
      () => `/workflow-runs/${linking.runId}/tasks`,
      () => ({ tasks: [{ ...goodTask(), cluster: 'mars' }] }),
      400,
      'mars',
    ],
    [
      'bind tasks: unknown queue',
      'PUT',
      () => `/workflow-runs/${linking.runId}/tasks`,
      () => ({ tasks: [{ ...goodTask(), cluster: 'dummy', queue: 'fast.q' }] }),
      400,
      'fast.q',
    ],
    [
      'bind tasks: invalid resources',
      'PUT',
      () => `/workflow-runs/${linking.runId}/tasks`,
      () => ({ tasks: [{ ...goodTask(), resources: { cores: -2 } }] }),
      400,
      'cores',
    ],
    [
      'bind tasks: unknown template version',
      'PUT',
      () => `/workflow-runs/${linking.runId}/tasks`,
      () => ({ tasks: [{ ...goodTask(), templateVersionId: 999999 }] }),
      400,
      '999999',
    ],
    [
      'bind tasks: two tasks on one node',
      'PUT',
      () => `/workflow-runs/${linking.runId}/tasks`,
      () => ({ tasks: [goodTask(), { ...goodTask(), name: 'twin' }] }),
      400,
      "task 'twin' has the node of task 'bad'",
    ],
    [
      'bind tasks: max attempts zero',
      'PUT',
      () => `/workflow-runs/${linking.runId}/tasks`,
      () => ({ tasks: [{ ...goodTask(), maxAttempts: 0 }] }),
      400,
      'maxAttempts',
    ],
    [
      'bind tasks: command missing',
      'PUT',
      () => `/workflow-runs/${linking.runId}/tasks`,
      () => ({ tasks: [{ ...goodTask(), command: undefined }] }),
      400,
      'command',
    ],
    [
      'bind tasks: too many in one request',
      'PUT',
      () => `/workflow-runs/${linking.runId}/tasks`,
      () => ({ tasks: Array.from({ length: 20001 }, () => ({})) }),
      400,
      'tasks',
    ],
    [
      'bind tasks: run not LINKING',
      'PUT',
      () => `/workflow-runs/${w.runId}/tasks`,
      () => ({ tasks: [goodTask()] }),
      409,
      'LINKING',
    ],
    [
      'bind tasks: unknown run',
      'PUT',
      () => '/workflow-runs/999999/tasks',
      () => ({ tasks: [goodTask()] }),
      404,
      'workflow run 999999',
    ],
    [
      'edges: not pairs',
      'POST',
      () => `/workflow-runs/${linking.runId}/edges`,
      () => ({ edges: [[1, 2, 3]] }),
      400,
      'edges',
    ],
    [
      'edges: ids of wrong type',
      'POST',
      () => `/workflow-runs/${linking.runId}/edges`,
      () => ({ edges: [['a', 'b']] }),
      400,
      'edges',
    ],
    [
      'run status: unknown status',
      'PUT',
      () => `/workflow-runs/${w.runId}/status`,
      () => ({ status: 'SLEEPING' }),
      400,
      'status',
    ],
    [
      'run status: illegal move',
      'PUT',
      () => `/workflow-runs/${w.runId}/status`,
      () => ({ status: 'LINKING' }),
      409,
      'RUNNING',
    ],
    [
      'run status: unknown run',
      'PUT',
      () => '/workflow-runs/999999/status',
      () => ({ status: 'DONE' }),
      404,
      'workflow run 999999',
    ],
    ['heartbeat: missing status', 'POST', () => `/workflow-runs/${w.runId}/heartbeat`, () => ({}), 400, 'status'],
    [
      'queue: duplicate task',
      'POST',
      () => `/workflow-runs/${w.runId}/queue`,
      () => ({ tasks: [{ taskId: w.tasks[0] }, { taskId: w.tasks[0] }] }),
      400,
      'twice',
    ],
    [
      'queue: unknown task',
      'POST',
      () => `/workflow-runs/${w.runId}/queue`,
      () => ({ tasks: [{ taskId: 999999 }] }),
      400,
      'task 999999',
    ],
    [
      'queue: run not RUNNING',
      'POST',
      () => `/workflow-runs/${linking.runId}/queue`,
      () => ({ tasks: [{ taskId: linking.tasks[0] }] }),
      409,
      'RUNNING',
    ],
    [
      "queue: override above the queue's memory limit",
      'POST',
      () => `/workflow-runs/${w.runId}/queue`,
      () => ({ tasks: [{ taskId: w.tasks[0], resources: { memory: 2 ** 63 } }] }),
      400,
      'memory',
    ],
    [
      "queue: override above the queue's cores limit",
      'POST',
      () => `/workflow-runs/${w.runId}/queue`,
      () => ({ tasks: [{ taskId: w.tasks[1], resources: { cores: 5000 } }] }),
      400,
      "queue 'null.q' limits",
    ],
    [
      'bind tasks: NUL in a task name',
      'PUT',
      () => `/workflow-runs/${linking.runId}/tasks`,
      () => ({ tasks: [{ ...goodTask(), name: 'a\u0000b' }] }),
      400,
      'body/tasks/0/name',
    ],
    [
      'bind tasks: unpaired surrogate in a command',
      'PUT',
      () => `/workflow-runs/${linking.runId}/tasks`,
      () => ({ tasks: [{ ...goodTask(), command: 'echo \uD800' }] }),
      400,
      'body/tasks/0/command',
    ],
    [
      'bind tasks: NUL in a node arg name',
      'PUT',
      () => `/workflow-runs/${linking.runId}/tasks`,
      () => ({ tasks: [{ ...goodTask(), nodeArgs: { 'i\u0000': 'x' } }] }),
      400,
      'nodeArgs key',
    ],
    [
      'workflow: NUL in the description',
      'POST',
      () => '/workflows',
      () => ({
        toolVersionId: linking.toolVersionId,
        argsHash: hash('nul'),
        taskHash: hash('t'),
        dagHash: hash('d'),
        workflowArgs: {},
        taskCount: 1,
        name: 'n',
        description: 'a\u0000',
      }),
      400,
      'description',
    ],
    ['workflow: id 0x10 is not 16', 'GET', () => '/workflows/0x10', () => undefined, 400, 'params/id'],
    [
      "tool: true is not a version flag's 1",
      'POST',
      () => '/tools',
      () => ({ name: 'x', newVersion: 1 }),
      400,
      'newVersion',
    ],
    [
      'queue: invalid resource override',
      'POST',
      () => `/workflow-runs/${w.runId}/queue`,
      () => ({ tasks: [{ taskId: w.tasks[0], resources: { memory: 'lots' } }] }),
      400,
      'memory',
    ],
    [
      'transitions: unknown state',
      'POST',
      () => '/task-instances/transitions',
      () => ({ items: [{ id: 1, to: 'ASLEEP' }] }),
      400,
      'to',
    ],
    [
      'transitions: unknown instance',
      'POST',
      () => '/task-instances/transitions',
      () => ({ items: [{ id: 999999, to: 'RUNNING' }] }),
      404,
      'task instance 999999',
    ],
    ['transitions: empty', 'POST', () => '/task-instances/transitions', () => ({ items: [] }), 400, 'items'],
    [
      'transitions: exit code of wrong type',
      'POST',
      () => '/task-instances/transitions',
      () => ({ items: [{ id: 1, to: 'DONE', exitCode: 'zero' }] }),
      400,
      'exitCode',
    ],
    [
      'transition: via too long',
      'POST',
      () => `/task-instances/${w.instances[0]}/transition`,
      () => ({ to: 'DONE', via: ['QUEUED', 'QUEUED', 'QUEUED', 'QUEUED', 'QUEUED'] }),
      400,
      'via',
    ],
    [
      'transition: unknown instance',
      'POST',
      () => '/task-instances/999999/transition',
      () => ({ to: 'RUNNING' }),
      404,
      'task instance 999999',
    ],
    [
      'instance heartbeat: missing deadline',
      'POST',
      () => `/task-instances/${w.instances[0]}/heartbeat`,
      () => ({}),
      400,
      'nextReportMs',
    ],
    ['instance: unknown', 'GET', () => '/task-instances/999999', () => undefined, 404, 'task instance 999999'],
    ['task instances: unknown task', 'GET', () => '/tasks/999999/instances', () => undefined, 404, 'task 999999'],
    ['events: negative cursor', 'GET', () => '/events?after=-1', () => undefined, 400, 'after'],
    ['events: unknown entity', 'GET', () => '/events?entity=planet', () => undefined, 400, 'entity'],
    ['events: wait too long', 'GET', () => '/events?waitMs=600000', () => undefined, 400, 'waitMs'],
    ['resume: unknown mode', 'POST', () => `/workflows/${w.workflowId}/resume`, () => ({ mode: 'warm' }), 400, 'mode'],
    [
      'resume: unknown workflow',
      'POST',
      () => '/workflows/999999/resume',
      () => ({ mode: 'cold' }),
      404,
      'workflow 999999',
    ],
    [
      'resume: run not RUNNING yet',
      'POST',
      () => `/workflows/${linking.workflowId}/resume`,
      () => ({ mode: 'hot' }),
      409,
      'LINKING',
    ],
    ['node health: window of wrong type', 'GET', () => '/nodes/health?windowMs=soon', () => undefined, 400, 'windowMs'],
    [
      'node health: window too long',
      'GET',
      () => '/nodes/health?windowMs=99999999999',
      () => undefined,
      400,
      'windowMs',
    ],
    ['no such route', 'GET', () => '/nowhere', () => undefined, 404, '/nowhere'],
  ];

  it.each(cases)('%s', async (_label, method, url, payload, status = 400, names, raw) => {
    const snap = await snapshot();
    const r = await call(method, url(), payload(), raw ?? false);
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(typeof r.body.code).toBe('string');
    expect(r.body.code).toMatch(/^JM_/);
    expect(typeof r.body.message).toBe('string');
    if (names) expect(r.body.message).toContain(names);
    expect(await snapshot()).toEqual(snap);
  });

  it('a body over the size limit is refused with 413 before it is parsed, nothing written', async () => {
    const small = await buildApp({ db: ctx.db, bodyLimitBytes: 1024 });
    try {
      const snap = await snapshot();
      const res = await small.inject({
        method: 'POST',
        url: '/api/v1/tools',
        payload: { name: 'x'.repeat(200), pad: 'y'.repeat(4096) },
      });
      expect(res.statusCode).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'JM_PAYLOAD_TOO_LARGE' });
      expect(await snapshot()).toEqual(snap);
    } finally {
      await small.close();
    }
  });
});

// The sweep: every route and every field of the OpenAPI document (so a new route cannot skip it)
// gets hostile values — numbers past what the databases hold, non-decimal and non-finite numbers,
// booleans for numbers, NUL and unpaired surrogates, 10,000 levels of nesting — and must answer
// 400 naming the field, never 5xx, writing nothing. Report text from a task is the one exception:
// it is stored cleaned (core/text.ts), so a NUL there only has to stay clear of 5xx.
describe(`hostile input sweep on ${TEST_DB_KIND}: every route and field from the OpenAPI document`, () => {
  type S = {
    type?: string;
    anyOf?: S[];
    enum?: unknown[];
    properties?: Record<string, S>;
    required?: string[];
    items?: S | S[];
    additionalProperties?: S | boolean;
    minimum?: number;
    maximum?: number;
    minLength?: number;
    minItems?: number;
    format?: string;
    pattern?: string;
  };
  type Op = {
    parameters?: { in: string; name: string; schema: S }[];
    requestBody?: { content: Record<string, { schema: S }> };
  };
  const MAX_ID = Number.MAX_SAFE_INTEGER;
  const CLEANED = new Set(['stdoutTail', 'stderrTail', 'errorMessage', 'cleanup']);
  const DEEP = '['.repeat(10_000) + ']'.repeat(10_000);
  // A hostile value: its JSON text (raw, so 1e400 stays 1e400) and whether a schema branch would accept it.
  type Hostile = { label: string; raw: string; accepts: (b: S) => boolean };
  const inRange = (n: number) => (b: S) =>
    (b.type === 'integer' || b.type === 'number') &&
    Number.isFinite(n) &&
    (b.minimum ?? -Infinity) <= n &&
    n <= (b.maximum ?? Infinity);
  /** A string schema that takes `v`: any text, or text matching its pattern (a name may be 'Infinity'). */
  const freeString = (v: string) => (b: S) =>
    b.type === 'string' && !b.enum && (!b.pattern || new RegExp(b.pattern).test(v));
  const never = () => false;
  const bodyHostiles = (s: S): Hostile[] => [
    { label: '2^63', raw: '9223372036854775808', accepts: inRange(2 ** 63) },
    { label: '2^53', raw: '9007199254740992', accepts: inRange(2 ** 53) },
    { label: '2^31', raw: '2147483648', accepts: inRange(2 ** 31) },
    { label: '-1', raw: '-1', accepts: inRange(-1) },
    { label: 'max+1', raw: String((s.maximum ?? 2 ** 63) + 1), accepts: inRange((s.maximum ?? 2 ** 63) + 1) },
    { label: '1e400', raw: '1e400', accepts: never },
    { label: "'Infinity'", raw: '"Infinity"', accepts: freeString('Infinity') },
    { label: "'0x10'", raw: '"0x10"', accepts: freeString('0x10') },
    { label: 'true', raw: 'true', accepts: (b) => b.type === 'boolean' },
    { label: '1', raw: '1', accepts: inRange(1) },
    { label: 'NUL', raw: JSON.stringify('a\u0000b'), accepts: never },
    { label: 'lone surrogate', raw: JSON.stringify('a\uD800b'), accepts: never },
    { label: 'deep nesting', raw: DEEP, accepts: never },
  ];
  const branches = (s: S): S[] => (s.anyOf ? s.anyOf.flatMap(branches) : [s]);
  const numeric = (s: S) => branches(s).some((b) => b.type === 'integer' || b.type === 'number');

  function sample(s: S): unknown {
    if (s.anyOf) return sample(s.anyOf[0]!);
    if (s.enum) return s.enum[0];
    switch (s.type) {
      case 'object':
        return Object.fromEntries((s.required ?? []).map((k) => [k, sample(s.properties![k]!)]));
      case 'array':
        return Array.isArray(s.items)
          ? s.items.map(sample)
          : Array.from({ length: s.minItems ?? 0 }, () => sample(s.items as S));
      // The largest id names nothing, so a request that passes validation finds nothing to change.
      case 'integer':
      case 'number':
        return s.maximum ?? s.minimum ?? 0;
      case 'boolean':
        return false;
      default:
        return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    }
  }

  // Every place a value can go: [path in the body, schema, field name to expect in the message]; `key` marks a record's key.
  type Slot = { path: (string | number)[]; schema: S; name: string; key?: boolean };
  function slots(s: S, path: (string | number)[], name: string, out: Slot[] = []): Slot[] {
    if (s.type === 'object' && s.properties) {
      for (const [k, v] of Object.entries(s.properties)) slots(v, [...path, k], k, out);
    } else if (
      s.type === 'object' &&
      (s.additionalProperties === undefined || typeof s.additionalProperties === 'object')
    ) {
      out.push({ path: [...path, '__KEY__'], schema: { type: 'string' }, name, key: true });
      slots(typeof s.additionalProperties === 'object' ? s.additionalProperties : {}, [...path, 'k'], name, out);
    } else if (s.type === 'array' && s.items) {
      if (Array.isArray(s.items)) s.items.forEach((it, i) => slots(it, [...path, i], name, out));
      else slots(s.items, [...path, 0], name, out);
    } else out.push({ path, schema: s, name });
    return out;
  }
  /** The schema at a path of slots(): a property, an array item (or tuple element), a record's value. */
  function schemaAt(s: S | undefined, p: string | number): S | undefined {
    if (s === undefined) return undefined;
    if (s.anyOf)
      return schemaAt(
        s.anyOf.find((b) => b.type === (typeof p === 'number' ? 'array' : 'object')),
        p,
      );
    if (s.type === 'array') return Array.isArray(s.items) ? s.items[p as number] : s.items;
    return s.properties?.[p] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
  }
  function setAt(base: unknown, path: (string | number)[], value: unknown, schema?: S): unknown {
    const root = structuredClone(base) as Record<string | number, unknown>;
    let cur = root;
    let s = schema;
    for (const [i, p] of path.entries()) {
      if (i === path.length - 1) {
        if (p === '__KEY__') cur['__HOSTILE_KEY__'] = 'x';
        else cur[p] = value;
      } else {
        s = schemaAt(s, p);
        // A container the base body left out (an optional list of objects) is made from its schema's
        // sample, so that the hostile value is the only thing wrong with the body.
        if (cur[p] === undefined || typeof cur[p] !== 'object') {
          const made = s === undefined ? undefined : sample(s);
          cur[p] = typeof made === 'object' && made !== null ? made : typeof path[i + 1] === 'number' ? [] : {};
        }
        cur = cur[p] as Record<string | number, unknown>;
      }
    }
    return root;
  }

  let doc: { paths: Record<string, Record<string, Op>> };
  beforeAll(async () => {
    doc = await ok('GET', '/openapi.json');
  });

  const send = async (method: string, url: string, body?: string) => {
    const res = await ctx.app.inject({
      method: method as 'GET',
      url,
      ...(body === undefined ? {} : { payload: body, headers: { 'content-type': 'application/json' } }),
    });
    return {
      status: res.statusCode,
      body: res.body ? (JSON.parse(res.body) as { code?: string; message?: string }) : {},
    };
  };

  it('bounds every integer of every request: a minimum, and a maximum the databases hold', () => {
    const unbounded: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const body = op.requestBody?.content['application/json']?.schema;
        const all = [
          ...(op.parameters ?? []).map((p) => ({ name: p.name, schema: p.schema })),
          ...(body ? slots(body, [], 'body') : []),
        ];
        for (const { name, schema } of all) {
          for (const b of branches(schema)) {
            if (
              (b.type === 'integer' || b.type === 'number') &&
              !(b.maximum !== undefined && b.maximum <= MAX_ID && b.minimum !== undefined)
            )
              unbounded.push(`${method.toUpperCase()} ${path} ${name}`);
          }
        }
      }
    }
    expect(unbounded).toEqual([]);
  });

  it('answers 400 naming the field for every hostile value in every field, never 5xx, and writes nothing', async () => {
    const snap = await snapshot();
    const failures: string[] = [];
    let fivexx = 0;
    let cases = 0;
    const check = (
      what: string,
      r: { status: number; body: { code?: string; message?: string } },
      name: string | undefined,
      lenient: boolean,
    ) => {
      cases++;
      if (r.status >= 500) fivexx++;
      const good = lenient
        ? r.status < 500
        : r.status === 400 &&
          r.body.code === 'JM_VALIDATION' &&
          (name === undefined || (r.body.message ?? '').includes(name));
      if (!good) failures.push(`${what} → ${r.status} ${(r.body.message ?? '').slice(0, 120)}`);
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const M = method.toUpperCase();
        const params = op.parameters ?? [];
        const url = (over: Record<string, string> = {}) => {
          let u = path;
          const q: string[] = [];
          for (const p of params) {
            const v = over[p.name] ?? (p.in === 'path' ? String(sample(p.schema)) : undefined);
            if (p.in === 'path') u = u.replace(`{${p.name}}`, v!);
            else if (v !== undefined) q.push(`${p.name}=${v}`);
          }
          return q.length ? `${u}?${q.join('&')}` : u;
        };
        const bodySchema = op.requestBody?.content['application/json']?.schema;
        const base = bodySchema ? JSON.stringify(sample(bodySchema)) : undefined;
        // Path and query strings: only decimal digits are numbers, only true/false booleans.
        for (const p of params) {
          const b = branches(p.schema);
          const values = numeric(p.schema)
            ? [
                '9223372036854775808',
                '9007199254740992',
                '1e400',
                'Infinity',
                '0x10',
                'true',
                '1.5',
                '%00',
                '1%00',
                '%201',
                '-1',
                '0',
              ].filter((v) => !((v === '-1' && b.some(inRange(-1))) || (v === '0' && b.some(inRange(0)))))
            : b.some((x) => x.type === 'boolean')
              ? ['1', '0', 'yes', 'TRUE', '%00']
              : ['%00', 'A%00B', '%ED%A0%80'];
          for (const v of values) {
            const r = await send(M, url({ [p.name]: v }), base);
            // Bytes that are not UTF-8 cannot be a string at all: any 400 will do.
            check(`${M} ${path} ${p.in} ${p.name}=${v}`, r, v === '%ED%A0%80' ? undefined : p.name, false);
          }
        }
        if (!bodySchema) continue;
        for (const slot of slots(bodySchema, [], 'body')) {
          if (slot.key) {
            for (const key of ['', 'k\u0000', 'k\uD800']) {
              const text = JSON.stringify(setAt(JSON.parse(base!), slot.path, 'x', bodySchema)).replace(
                '"__HOSTILE_KEY__"',
                JSON.stringify(key),
              );
              check(
                `${M} ${path} key of ${slot.path.slice(0, -1).join('.')}=${JSON.stringify(key)}`,
                await send(M, url(), text),
                slot.name,
                false,
              );
            }
            continue;
          }
          for (const h of bodyHostiles(slot.schema)) {
            if (branches(slot.schema).some(h.accepts)) continue;
            const text = JSON.stringify(setAt(JSON.parse(base!), slot.path, '__HOSTILE__', bodySchema)).replace(
              '"__HOSTILE__"',
              h.raw,
            );
            const lenient = CLEANED.has(slot.name) && (h.label === 'NUL' || h.label === 'lone surrogate');
            check(`${M} ${path} ${slot.path.join('.')}=${h.label}`, await send(M, url(), text), slot.name, lenient);
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(500);
    expect({ fivexx, failures }).toEqual({ fivexx: 0, failures: [] });
    expect(await snapshot()).toEqual(snap);
  });

  it('answers an unknown method on every known path with 405, an Allow header and the API error body', async () => {
    const wrong: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      const documented = Object.keys(ops).map((m) => m.toUpperCase());
      const method = ['DELETE', 'PATCH', 'PUT', 'POST'].find((m) => !documented.includes(m))!;
      const res = await ctx.app.inject({ method: method as 'DELETE', url: path.replace(/\{[^}]+\}/g, '7') });
      const body = JSON.parse(res.body) as { code?: string; message?: string; details?: unknown };
      const allow = String(res.headers['allow'] ?? '').split(/,\s*/);
      if (
        res.statusCode !== 405 ||
        body.code !== 'JM_METHOD_NOT_ALLOWED' ||
        typeof body.message !== 'string' ||
        !documented.every((m) => allow.includes(m))
      ) {
        wrong.push(`${method} ${path} → ${res.statusCode} allow=${allow.join(',')} ${res.body.slice(0, 80)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
