// Clusters as data, on both databases (JOBMON_TEST_DB): PUT /clusters/:name creates or updates a
// cluster (type, options, queues with limits), GET lists or reads them, a refused definition
// changes nothing, a cluster's type cannot change under bound tasks, a user's queue limits are
// enforced at bind, and a server started with clusters (a config file's) has them.

import { describe, expect, it } from 'vitest';
import { openDb, startServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND } from '../../../test-support/db.js';
import { apiHelpers, hash, testApp } from './support.js';

const ctx = testApp('clusters');
const { call, ok, snapshot } = apiHelpers(() => ctx);

const GPU = {
  type: 'local',
  options: { parallelism: 2 },
  queues: [
    { name: 'small.q', limits: { cores: [1, 2], memory: [1, 4096], runtime: [1, 3600] } },
    { name: 'big.q', limits: { cores: [1, 64] } },
  ],
};

let k = 0;
/** Declare a workflow and bind one task to `cluster`/`queue` with `resources`; answers the bind's reply. */
async function bindOne(cluster: string, queue: string | undefined, resources: Record<string, unknown>) {
  const n = ++k;
  const tool = await ok('POST', '/tools', { name: `cluster_tool_${n}` });
  const { templates } = await ok('POST', '/task-templates', {
    toolVersionId: tool.toolVersionId,
    templates: [{ name: 'step', commandTemplate: 'echo {i}', nodeArgs: ['i'], taskArgs: [], opArgs: [] }],
  });
  const wf = await ok('POST', '/workflows', {
    toolVersionId: tool.toolVersionId,
    argsHash: hash(`cargs${n}`),
    taskHash: hash(`ctasks${n}`),
    dagHash: hash(`cdag${n}`),
    workflowArgs: { n },
    taskCount: 1,
    name: `cluster wf ${n}`,
    description: '',
  });
  const run = await ok('POST', `/workflows/${wf.workflowId}/runs`, {
    user: 'tester',
    host: 'here',
    pid: process.pid,
    jobmonVersion: '0.1.0',
  });
  return call('PUT', `/workflow-runs/${run.runId}/tasks`, {
    tasks: [
      {
        nodeHash: hash(`cnode${n}`),
        taskArgsHash: hash('noargs'),
        templateVersionId: templates[0].versionId,
        nodeArgs: { i: n },
        taskArgs: {},
        name: `step_${n}`,
        command: `echo ${n}`,
        maxAttempts: 1,
        cluster,
        ...(queue === undefined ? {} : { queue }),
        resources,
      },
    ],
  });
}

describe(`clusters on ${TEST_DB_KIND}`, () => {
  it('lists the built-in clusters with their options and queues', async () => {
    const { clusters } = await ok('GET', '/clusters');
    expect(clusters.map((c: { name: string; type: string }) => [c.name, c.type])).toEqual([
      ['sequential', 'sequential'],
      ['local', 'local'],
      ['dummy', 'dummy'],
      ['slurm', 'slurm'],
    ]);
    for (const c of clusters) {
      expect(c.options).toEqual({});
      // Slurm's one queue is its default partition.
      expect(c.queues.map((q: { name: string }) => q.name)).toEqual([c.name === 'slurm' ? 'default' : 'null.q']);
    }
    expect(await ok('GET', '/clusters/local')).toMatchObject({
      name: 'local',
      type: 'local',
      options: {},
      queues: [{ name: 'null.q' }],
    });
  });

  it('adds a cluster, reads it back by name and in the list, and applying it again changes nothing', async () => {
    const put = await ok('PUT', '/clusters/gpu', GPU);
    expect(put.created).toBe(true);
    expect(put.cluster).toMatchObject({ name: 'gpu', type: 'local', options: { parallelism: 2 } });
    expect(put.cluster.queues.map((q: { name: string; limits: unknown }) => [q.name, q.limits])).toEqual([
      ['small.q', { cores: [1, 2], memory: [1, 4096], runtime: [1, 3600] }],
      ['big.q', { cores: [1, 64] }],
    ]);
    expect(await ok('GET', '/clusters/gpu')).toEqual(put.cluster);
    const { clusters } = await ok('GET', '/clusters');
    expect(clusters.find((c: { name: string }) => c.name === 'gpu')).toEqual(put.cluster);

    const before = await snapshot();
    const again = await ok('PUT', '/clusters/gpu', GPU);
    expect(again).toEqual({ created: false, cluster: put.cluster });
    expect(await snapshot()).toEqual(before);
  });

  it('updates options and queue limits, adds new queues and keeps the unlisted ones', async () => {
    await ok('PUT', '/clusters/upd', {
      type: 'local',
      queues: [
        { name: 'a.q', limits: { cores: [1, 4] } },
        { name: 'b.q', limits: {} },
      ],
    });
    const r = await ok('PUT', '/clusters/upd', {
      type: 'local',
      options: { parallelism: 3 },
      queues: [
        { name: 'a.q', limits: { cores: [2, 8] } },
        { name: 'c.q', limits: {} },
      ],
    });
    expect(r.created).toBe(false);
    expect(r.cluster.options).toEqual({ parallelism: 3 });
    expect(r.cluster.queues.map((q: { name: string; limits: unknown }) => [q.name, q.limits])).toEqual([
      ['a.q', { cores: [2, 8] }],
      ['b.q', {}],
      ['c.q', {}],
    ]);
  });

  it('answers 404 naming a cluster that does not exist', async () => {
    const r = await call('GET', '/clusters/mars');
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('JM_NOT_FOUND');
    expect(r.body.message).toMatch(/cluster 'mars' does not exist \(known: sequential, local, dummy/);
  });

  const q = (limits: unknown, name = 'x.q') => [{ name, limits }];
  it.each([
    [
      'an unknown type',
      'bad1',
      { type: 'slurmm', queues: q({}) },
      /type "slurmm" is not a known cluster type \(known: sequential, local, dummy, slurm\)/,
    ],
    [
      'min above max',
      'bad2',
      { type: 'local', queues: q({ cores: [8, 2] }) },
      /queue 'x\.q' limits\.cores has min 8 greater than max 2/,
    ],
    [
      'an unknown resource',
      'bad3',
      { type: 'local', queues: q({ gpus: [1, 2] }) },
      /queue 'x\.q' limits\.gpus is not a resource a queue limits \(known: cores, memory, runtime\)/,
    ],
    [
      'a negative limit',
      'bad4',
      { type: 'local', queues: q({ memory: [-1, 2] }) },
      /limits\.memory must be \[min, max\]/,
    ],
    ['a limit that is not a pair', 'bad5', { type: 'local', queues: q({ cores: [1, 2, 3] }) }, /limits\/cores/],
    [
      'a misspelt option',
      'bad6',
      { type: 'local', options: { paralelism: 2 }, queues: q({}) },
      /options\.paralelism is not an option of a local cluster \(known: parallelism\)/,
    ],
    [
      'a bad option value',
      'bad7',
      { type: 'local', options: { parallelism: 0 }, queues: q({}) },
      /options\.parallelism must be a whole number/,
    ],
    [
      'an option a type does not have',
      'bad8',
      { type: 'dummy', options: { parallelism: 2 }, queues: q({}) },
      /not an option of a dummy cluster \(it has none\)/,
    ],
    ['an unsafe queue name', 'bad9', { type: 'local', queues: q({}, 'a q;rm') }, /queues\/0\/name/],
    [
      'a queue named twice',
      'bad10',
      { type: 'local', queues: [...q({}), ...q({})] },
      /queues\[1\]\.name 'x\.q' appears twice/,
    ],
    [
      'a new cluster without queues',
      'bad11',
      { type: 'local' },
      /cluster 'bad11': queues must list at least one queue/,
    ],
    ['an unknown setting', 'bad12', { type: 'local', queues: q({}), colour: 'red' }, /colour/],
    ['an unsafe cluster name', 'bad%20name', { type: 'local', queues: q({}) }, /params\/name/],
  ])('refuses %s with 400 naming it, and changes nothing', async (_label, name, body, message) => {
    const before = await snapshot();
    const r = await call('PUT', `/clusters/${name}`, body);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('JM_VALIDATION');
    expect(r.body.message).toMatch(message);
    expect(await snapshot()).toEqual(before);
  });

  it("changes a cluster's type only while no task is bound to it (409 otherwise, nothing changed)", async () => {
    await ok('PUT', '/clusters/flip', { type: 'local', queues: q({}) });
    expect((await ok('PUT', '/clusters/flip', { type: 'sequential', queues: [] })).cluster.type).toBe('sequential');
    expect((await bindOne('flip', undefined, {})).status).toBe(200);
    const before = await snapshot();
    const r = await call('PUT', '/clusters/flip', { type: 'dummy', queues: [] });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('JM_CLUSTER_IN_USE');
    expect(r.body.message).toMatch(
      /cluster 'flip' is of type 'sequential' and has tasks bound to it; its type cannot change to 'dummy'/,
    );
    expect(await snapshot()).toEqual(before);
    // The rest may still change under bound tasks.
    const same = await ok('PUT', '/clusters/flip', { type: 'sequential', queues: [{ name: 'more.q', limits: {} }] });
    expect(same.cluster.queues.map((x: { name: string }) => x.name)).toEqual(['x.q', 'more.q']);
  });

  it("enforces a user-added queue's limits at bind", async () => {
    await ok('PUT', '/clusters/limited', {
      type: 'local',
      queues: [
        { name: 'tiny.q', limits: { cores: [1, 2], memory: [1, 1024] } },
        { name: 'wide.q', limits: { cores: [1, 32] } },
      ],
    });
    const before = await snapshot();
    const tooMany = await bindOne('limited', 'tiny.q', { cores: 4 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(/cores 4 is outside queue 'tiny\.q' limits \[1, 2\]/);
    // The default queue is the first: the same request without a queue is refused alike.
    const byDefault = await bindOne('limited', undefined, { memory: '2G' });
    expect(byDefault.status).toBe(400);
    expect(byDefault.body.message).toMatch(/memory 2048 is outside queue 'tiny\.q' limits \[1, 1024\]/);
    const tables = await snapshot();
    // Only the declarations made on the way (tool, template, workflow, run) were written.
    for (const t of ['task', 'task_instance', 'cluster', 'queue'] as const) expect(tables[t]).toEqual(before[t]);
    expect((await bindOne('limited', 'tiny.q', { cores: 2 })).status).toBe(200);
    expect((await bindOne('limited', 'wide.q', { cores: 16 })).status).toBe(200);
  });
});

describe(`clusters from a configuration at server start, on ${TEST_DB_KIND}`, () => {
  it('a server started with clusters has them; one that cannot be applied stops the start, naming where it came from', async () => {
    const tdb = await createTestDb('clusters-start');
    try {
      const clusters = {
        farm: {
          type: 'local' as const,
          options: { parallelism: 1 },
          queues: [{ name: 'all.q', limits: { cores: [1, 8] as [number, number] } }],
        },
      };
      const server = await startServer({
        db: tdb.target,
        reaper: false,
        clusters,
        clustersOrigin: 'config file /etc/jm.json',
      });
      try {
        const r = await fetch(`${server.url}/api/v1/clusters/farm`);
        expect(await r.json()).toMatchObject({
          name: 'farm',
          type: 'local',
          options: { parallelism: 1 },
          queues: [{ name: 'all.q', limits: { cores: [1, 8] } }],
        });
        // Built-in clusters are still there.
        const all = (await (await fetch(`${server.url}/api/v1/clusters`)).json()) as { clusters: { name: string }[] };
        expect(all.clusters.map((c) => c.name)).toEqual(['sequential', 'local', 'dummy', 'slurm', 'farm']);
      } finally {
        await server.close();
      }
      // A definition that cannot be applied (here one that skipped loadConfig's check) stops the
      // start, names its origin, and leaves the cluster as it was.
      await expect(
        startServer({
          db: tdb.target,
          reaper: false,
          clusters: { farm: { type: 'local', options: { parallelism: -1 }, queues: [] } },
          clustersOrigin: 'config file /etc/jm.json',
        }),
      ).rejects.toThrow(/^config file \/etc\/jm\.json: cluster 'farm': options\.parallelism must be a whole number/);
      const db = await openDb(tdb.target);
      try {
        expect(
          await db.kysely.selectFrom('cluster').select(['type', 'options']).where('name', '=', 'farm').execute(),
        ).toEqual([{ type: 'local', options: '{"parallelism":1}' }]);
      } finally {
        await db.close();
      }
    } finally {
      await tdb.drop();
    }
  });
});
