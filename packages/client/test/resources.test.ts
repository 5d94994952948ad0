// Resource limits and scaling end to end (SQLite, or PostgreSQL with JOBMON_TEST_DB=postgres):
// the local and sequential distributors kill a group that exceeds its memory or runtime, the
// instance ends RESOURCE_ERROR, and the server queues the retry with scaled resources (or on a
// fallback queue), recording on each instance what that attempt asked for.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import {
  Tool,
  connect,
  InvalidResourcesError,
  UnknownQueueError,
  type Connection,
  type InstanceDetailT,
} from '@jobmon/client';
import { createTestDb, type TestDb } from '../../../test-support/db.js';
import { eventLogMismatches, liveGroupMembers } from '../../../test-support/processes.js';

const MIB = 1024 * 1024;
let db: TestDb;
let server: RunningServer;
let conn: Connection;
let seq = 0;

beforeAll(async () => {
  db = await createTestDb('resources');
  server = await startServer({ db: db.target });
  conn = await connect({ url: server.url, config: { logDir: join(db.dir, 'logs') } });
});

afterAll(async () => {
  await conn?.close();
  await server?.close();
  await db?.drop();
});

function tool(): Tool {
  return new Tool(`res_tool_${++seq}`);
}

function shellTemplate(
  t: Tool,
  spec: { resourceScales?: Record<string, number | (number | string)[]>; fallbackQueues?: string[] } = {},
) {
  return t.getTaskTemplate({ name: 'sh', commandTemplate: '{cmd}', nodeArgs: ['key'], opArgs: ['cmd'], ...spec });
}

/** Allocates `mb` MiB (touched, so resident) and holds it for `secs` seconds. */
function allocate(mb: number | string, secs: number | string): string {
  return `python3 -c "import sys, time; x = b'x' * (int(sys.argv[1]) * 1048576); time.sleep(float(sys.argv[2]))" ${mb} ${secs}`;
}

async function instancesOf(taskId: number): Promise<InstanceDetailT[]> {
  return (await conn.requester.get<{ instances: InstanceDetailT[] }>(`/tasks/${taskId}/instances`)).instances;
}

async function instanceRows(taskId: number) {
  return server.db.kysely.selectFrom('task_instance').selectAll().where('task_id', '=', taskId).orderBy('id').execute();
}

async function errorMessages(instanceId: number): Promise<string[]> {
  const rows = await server.db.kysely
    .selectFrom('task_instance_error')
    .select(['message'])
    .where('task_instance_id', '=', instanceId)
    .execute();
  return rows.map((r) => r.message);
}

async function rowCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['workflow', 'workflow_run', 'task', 'task_instance'] as const) {
    const r = await server.db.kysely
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(r.n);
  }
  return out;
}

describe('limits enforced by the local distributors', () => {
  it('kills a task over its memory request (RESOURCE_ERROR), retries it with 50 % more memory, and it succeeds', async () => {
    const t = tool();
    const mark = join(db.dir, `mem-${seq}`);
    // First attempt: 300 MiB against a 100 MiB request. Once the marker exists: 20 MiB, at once.
    const cmd = `if [ -f ${mark} ]; then ${allocate(20, 0)}; else touch ${mark}; ${allocate(300, 10)}; fi`;
    const task = shellTemplate(t).createTask({ key: 'mem', cmd }, { computeResources: { memory: '100M' } });
    const wf = t.createWorkflow({ name: 'memory' });
    wf.addTask(task);
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('DONE');
    expect(await eventLogMismatches(server.db.kysely, r.workflowId)).toEqual([]);

    const [first, second, ...more] = await instancesOf(task.id!);
    expect(more).toHaveLength(0);
    expect(first!.status).toBe('RESOURCE_ERROR');
    expect(first!.errorClass).toBe('resource');
    expect(first!.resources['memory']).toBe(100);
    expect(first!.peakMemoryBytes).toBeGreaterThan(100 * MIB);
    expect(first!.wallTimeMs).toBeLessThan(10_000); // killed, not finished
    const [message] = await errorMessages(first!.id);
    expect(message).toMatch(/^memory exceeded: \d+ MB used, limit 100 MB$/);
    expect(Number(/(\d+) MB used/.exec(message!)![1])).toBeGreaterThan(100);

    expect(second!.status).toBe('DONE');
    expect(second!.resources['memory']).toBe(150);
    const taskRow = await server.db.kysely
      .selectFrom('task')
      .select(['resources'])
      .where('id', '=', task.id!)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(taskRow.resources)).toEqual({ memory: 150 });
  });

  it('kills a task past its runtime on the sequential cluster, leaves no process behind, and retries with more runtime', async () => {
    const t = tool();
    const mark = join(db.dir, `rt-${seq}`);
    // The shell forks sleep (echo follows it), so the group has two processes to kill.
    const cmd = `if [ -f ${mark} ]; then echo second; else touch ${mark}; sleep 3; echo slept; fi`;
    const task = shellTemplate(t).createTask(
      { key: 'slow', cmd },
      { computeResources: { runtime: 1 }, cluster: 'sequential' },
    );
    const wf = t.createWorkflow({ name: 'runtime' });
    wf.addTask(task);
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('DONE');
    expect(await eventLogMismatches(server.db.kysely, r.workflowId)).toEqual([]);

    const [first, second] = await instancesOf(task.id!);
    expect(first!.status).toBe('RESOURCE_ERROR');
    expect(first!.errorClass).toBe('resource');
    expect(first!.resources['runtime']).toBe(1);
    expect(first!.wallTimeMs).toBeGreaterThanOrEqual(1000);
    expect(first!.wallTimeMs).toBeLessThan(3000);
    expect(first!.stdoutTail).not.toContain('slept');
    expect(await errorMessages(first!.id)).toEqual([
      expect.stringMatching(/^runtime exceeded: ran 1\.\d s, limit 1 s$/),
    ]);
    const [row] = await instanceRows(task.id!);
    expect(row!.pgid).toBeGreaterThan(0);
    expect(liveGroupMembers(row!.pgid!)).toEqual([]);

    expect(second!.status).toBe('DONE');
    expect(second!.stdoutTail).toBe('second\n');
    expect(second!.resources['runtime']).toBe(2); // ceil(1 × 1.5)
  });

  it('maxAttempts still bounds scaling: a task that always exceeds ends ERROR_FATAL after its attempts', async () => {
    const t = tool();
    const task = shellTemplate(t).createTask(
      { key: 'hog', cmd: allocate(300, 10) },
      { computeResources: { memory: 100 }, maxAttempts: 2 },
    );
    const wf = t.createWorkflow({ name: 'always-over' });
    wf.addTask(task);
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('FAILED');
    expect(await eventLogMismatches(server.db.kysely, r.workflowId)).toEqual([]);
    expect(r.tasks[0]!.status).toBe('ERROR_FATAL');
    const inst = await instancesOf(task.id!);
    expect(inst.map((i) => [i.status, i.errorClass, i.resources['memory']])).toEqual([
      ['RESOURCE_ERROR', 'resource', 100],
      ['RESOURCE_ERROR', 'resource', 150],
    ]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.errorClass).toBe('resource');
    expect(r.errors[0]!.message).toMatch(/memory exceeded: \d+ MB used, limit 150 MB/);
  });
});

describe('scaling rules', () => {
  it('follows an explicit list of values and moves to a fallback queue when the next value exceeds its queue', async () => {
    const local = await server.db.kysely
      .selectFrom('cluster')
      .select(['id'])
      .where('name', '=', 'local')
      .executeTakeFirstOrThrow();
    const limits = (maxMemory: number) =>
      JSON.stringify({ cores: [1, 64], memory: [1, maxMemory], runtime: [1, 86400] });
    await server.db.kysely
      .insertInto('queue')
      .values([
        { cluster_id: local.id, name: 'small.q', limits: limits(120) },
        { cluster_id: local.id, name: 'big.q', limits: limits(4096) },
      ])
      .execute();
    const queues = await server.db.kysely
      .selectFrom('queue')
      .select(['id', 'name'])
      .where('cluster_id', '=', local.id)
      .execute();
    const idOf = (name: string) => queues.find((q) => q.name === name)!.id;

    const t = tool();
    // Always 150 MiB: over the first request (100), under the second (200, from the list).
    const mark = join(db.dir, `list-${seq}`);
    const cmd = `if [ -f ${mark} ]; then S=0; else touch ${mark}; S=10; fi; ${allocate(150, '$S')}`;
    const tt = shellTemplate(t, { resourceScales: { memory: ['200M', '1G'] }, fallbackQueues: ['big.q'] });
    const task = tt.createTask({ key: 'listed', cmd }, { computeResources: { memory: 100, queue: 'small.q' } });
    const wf = t.createWorkflow({ name: 'fallback' });
    wf.addTask(task);
    const r = await wf.run({ connection: conn });

    const inst = await instancesOf(task.id!);
    expect(inst.map((i) => [i.status, i.resources['memory']])).toEqual([
      ['RESOURCE_ERROR', 100],
      ['DONE', 200],
    ]);
    expect(r.status).toBe('DONE');
    expect(await eventLogMismatches(server.db.kysely, r.workflowId)).toEqual([]);
    expect((await instanceRows(task.id!)).map((i) => i.queue_id)).toEqual([idOf('small.q'), idOf('big.q')]);
    const taskRow = await server.db.kysely
      .selectFrom('task')
      .select(['queue_id', 'resources'])
      .where('id', '=', task.id!)
      .executeTakeFirstOrThrow();
    expect(taskRow.queue_id).toBe(idOf('big.q'));
    expect(JSON.parse(taskRow.resources)).toEqual({ memory: 200 });
  });

  it('refuses an unknown fallback queue and a negative scale before anything is written', async () => {
    const t = tool();
    const before = await rowCounts();
    const wf = t.createWorkflow({ name: 'bad-fallback' });
    wf.addTask(shellTemplate(t).createTask({ key: 1, cmd: 'true' }, { name: 'picky', fallbackQueues: ['no-such.q'] }));
    await expect(wf.run({ connection: conn })).rejects.toThrow(UnknownQueueError);
    await expect(wf.run({ connection: conn })).rejects.toThrow(/picky.*fallback queue 'no-such\.q'.*cluster 'local'/);

    expect(() =>
      shellTemplate(t).createTask({ key: 2, cmd: 'true' }, { name: 'shrinking', resourceScales: { memory: -0.5 } }),
    ).toThrow(InvalidResourcesError);
    expect(() =>
      shellTemplate(t).createTask({ key: 2, cmd: 'true' }, { name: 'shrinking', resourceScales: { memory: -0.5 } }),
    ).toThrow(/shrinking.*memory/);
    expect(() =>
      new Tool('res_bad_template').getTaskTemplate({
        name: 'x',
        commandTemplate: 'true',
        resourceScales: { runtime: [] },
      }),
    ).toThrow(InvalidResourcesError);
    expect(await rowCounts()).toEqual(before);
  });
});
