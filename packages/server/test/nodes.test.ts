// Node health on SQLite and PostgreSQL: per node name, instances created in the window and their
// infrastructure-class errors, most errors first; application errors do not count.

import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { apiHelpers, testApp } from './support.js';

const ctx = testApp('nodes');

const { call, ok, runningWorkflow } = apiHelpers(() => ctx);

describe(`node health on ${TEST_DB_KIND}`, () => {
  let inst: number[];
  beforeAll(async () => {
    inst = (await runningWorkflow(7)).instances;
    const on = (ids: number[], nodeName: string) =>
      ids.map((id) => ({ id, to: 'RUNNING', via: ['INSTANTIATED', 'LAUNCHED'], nodeName }));
    await ok('POST', '/task-instances/transitions', {
      items: [
        ...on([inst[0]!, inst[1]!, inst[2]!], 'bad-node'),
        ...on([inst[3]!, inst[4]!], 'good-node'),
        ...on([inst[5]!], 'app-node'),
      ],
    });
    const r = await ok('POST', '/task-instances/transitions', {
      items: [
        { id: inst[0], to: 'UNKNOWN_ERROR', errorMessage: 'job vanished' },
        { id: inst[1], to: 'UNKNOWN_ERROR' },
        { id: inst[3], to: 'DONE', exitCode: 0 },
        { id: inst[5], to: 'ERROR', exitCode: 1 },
      ],
    });
    expect(r.results.map((x: { outcome: string }) => x.outcome)).toEqual(['applied', 'applied', 'applied', 'applied']);
  });

  it('counts instances and infrastructure errors per node, most errors first; nameless instances are left out', async () => {
    const started = Date.now();
    const { nodes } = await ok('GET', '/nodes/health?windowMs=3600000');
    expect(nodes).toEqual([
      { nodeName: 'bad-node', infrastructureErrors: 2, instances: 3, lastErrorAt: expect.any(Number) },
      { nodeName: 'good-node', infrastructureErrors: 0, instances: 2, lastErrorAt: null },
      { nodeName: 'app-node', infrastructureErrors: 0, instances: 1, lastErrorAt: null },
    ]);
    expect(nodes[0].lastErrorAt).toBeGreaterThan(started - 60_000);
    expect(nodes[0].lastErrorAt).toBeLessThanOrEqual(Date.now());
    // The window defaults to an hour.
    expect((await ok('GET', '/nodes/health')).nodes).toEqual(nodes);
  });

  it('counts only instances created within the window', async () => {
    await ctx.db.kysely
      .updateTable('task_instance')
      .set({ created_at: Date.now() - 2 * 3_600_000 })
      .where('id', 'in', [inst[0]!, inst[4]!])
      .execute();
    const hour = (await ok('GET', '/nodes/health?windowMs=3600000')).nodes;
    expect(hour).toEqual([
      { nodeName: 'bad-node', infrastructureErrors: 1, instances: 2, lastErrorAt: expect.any(Number) },
      { nodeName: 'app-node', infrastructureErrors: 0, instances: 1, lastErrorAt: null },
      { nodeName: 'good-node', infrastructureErrors: 0, instances: 1, lastErrorAt: null },
    ]);
    const day = (await ok('GET', `/nodes/health?windowMs=${86_400_000}`)).nodes;
    expect(
      day.map((n: { nodeName: string; instances: number; infrastructureErrors: number }) => [
        n.nodeName,
        n.instances,
        n.infrastructureErrors,
      ]),
    ).toEqual([
      ['bad-node', 3, 2],
      ['good-node', 2, 0],
      ['app-node', 1, 0],
    ]);
    expect((await ok('GET', '/nodes/health?windowMs=1')).nodes).toEqual([]);
  });

  it.each([
    ['0', 'windowMs'],
    [String(30 * 86_400_000 + 1), 'windowMs'],
    ['1.5', 'windowMs'],
    ['soon', 'windowMs'],
  ])('refuses windowMs=%s with 400 naming the field', async (value, field) => {
    const r = await call('GET', `/nodes/health?windowMs=${value}`);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('JM_VALIDATION');
    expect(r.body.message).toContain(field);
  });
});
