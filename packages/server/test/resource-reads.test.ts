// The reads behind `jobmon resources usage|suggest` and `jobmon nodes`, on SQLite and PostgreSQL:
// answers held to their schemas, the 10,000-instance bound (figures over the newest, `sampled` said),
// bad input refused with the field named, and (SQLite) the plans going through migration 0011's indexes.

import { beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { onDb } from '../src/db/connect.js';
import { finishedUsageQuery, nodeFailuresQuery } from '../src/db/queries/resources.js';
import { apiHelpers, testApp, type Bound } from './support.js';

const ctx = testApp('resource-reads');
const { call, ok, runningWorkflow } = apiHelpers(() => ctx);

const EXTRA = 10_050;

describe(`resource reads on ${TEST_DB_KIND}`, () => {
  let w: Bound & { instances: number[] };
  beforeAll(async () => {
    w = await runningWorkflow(2);
    const row = await ctx.db.kysely
      .selectFrom('task_instance')
      .selectAll()
      .where('id', '=', w.instances[0]!)
      .executeTakeFirstOrThrow();
    const { id: _id, ...base } = row;
    // 10,050 finished instances of the first task: wall time k ms, peak memory k KiB, k = 1…10,050.
    for (let from = 1; from <= EXTRA; from += 500) {
      const rows = [];
      for (let k = from; k < Math.min(from + 500, EXTRA + 1); k++)
        rows.push({
          ...base,
          status: 'DONE' as const,
          wall_time_ms: k,
          peak_memory_bytes: k * 1024,
          resources: JSON.stringify({ runtime: 100, memory: 1, cores: 3 }),
          node_name: 'n1',
        });
      await ctx.db.kysely.insertInto('task_instance').values(rows).execute();
    }
  }, 120_000);

  it('usage covers the newest 10,000 finished instances and says so', async () => {
    const u = await ok('GET', `/resources/usage?template=step&workflowId=${w.workflowId}`);
    expect(u).toMatchObject({ finished: EXTRA, sampled: 10_000 });
    // The newest 10,000 are k = 51…10,050: median the 5,000th, p90 the 9,000th.
    expect(u.runtimeMs).toEqual({ count: 10_000, min: 51, median: 5050, p90: 9050, max: EXTRA });
    expect(u.memoryBytes.max).toBe(EXTRA * 1024);
    // 9.05 s of 100 s; 9,050 KiB of 1 MiB.
    expect(u.utilisation.runtime.p90).toBeCloseTo(0.091, 3);
    expect(u.utilisation.memory.p90).toBeCloseTo(8.838, 3);
    const across = await ok('GET', '/resources/usage?template=step&nodeArg=i%3D0');
    expect(across).toMatchObject({ workflowId: null, finished: EXTRA, nodeArgs: { i: '0' } });
    expect((await ok('GET', '/resources/usage?template=step&nodeArg=i%3D1')).finished).toBe(0);
  });

  it('suggestions keep cores as asked and list templates without finished instances apart', async () => {
    const s = await ok('GET', `/workflows/${w.workflowId}/resource-suggestions?strategy=max&headroom=0`);
    expect(s.templates).toEqual([
      {
        template: 'step',
        finished: EXTRA,
        sampled: 10_000,
        memory: { statBytes: EXTRA * 1024, suggestedMiB: 64 },
        runtime: { statMs: EXTRA, suggestedSeconds: 60 },
        cores: 3,
      },
    ]);
    expect(s.unfinished).toEqual([]);
  });

  it('nodes: one row per node name, failures counted from the instance error class', async () => {
    const n = await ok('GET', '/nodes?windowMs=3600000');
    expect(n.nodes).toEqual([
      expect.objectContaining({ nodeName: 'n1', instances: EXTRA, infrastructureFailures: 0, suspicious: false }),
    ]);
  });

  it('refuses bad input, naming the field, and unknown things with 404', async () => {
    const badArg = await call('GET', '/resources/usage?template=step&nodeArg=i');
    expect(badArg.status).toBe(400);
    expect(badArg.body.message).toContain('querystring/nodeArg must be key=value');
    const noTemplate = await call('GET', '/resources/usage');
    expect(noTemplate.status).toBe(400);
    expect(noTemplate.body.message).toContain('querystring/template is required');
    const nul = await call('GET', '/resources/usage?template=step&nodeArg=i%3D0%00');
    expect(nul.status).toBe(400);
    expect(nul.body.message).toContain('querystring/nodeArg must not contain NUL');
    expect((await call('GET', `/workflows/${w.workflowId}/resource-suggestions?headroom=1.5`)).status).toBe(400);
    expect((await call('GET', '/resources/usage?template=nosuch')).status).toBe(404);
    expect((await call('GET', '/resources/usage?template=step&workflowId=99999')).status).toBe(404);
    const strategy = await call('GET', `/workflows/${w.workflowId}/resource-suggestions?strategy=p50`);
    expect(strategy.status).toBe(400);
    expect(strategy.body.message).toContain('strategy');
    expect((await call('GET', `/workflows/${w.workflowId}/resource-suggestions?headroom=-1`)).status).toBe(400);
    expect((await call('GET', '/workflows/99999/resource-suggestions')).status).toBe(404);
    const win = await call('GET', '/nodes?windowMs=99999999999');
    expect(win.status).toBe(400);
    expect(win.body.message).toContain('windowMs');
  });

  it.runIf(TEST_DB_KIND === 'sqlite')('reads through the indexes of migration 0011', async () => {
    const q = onDb(ctx.db);
    const plan = async (c: { sql: string; parameters: readonly unknown[] }) =>
      (await sql.raw<{ detail: string }>(`explain query plan ${inline(c)}`).execute(ctx.db.kysely)).rows
        .map((r) => r.detail)
        .join('\n');
    const inline = (c: { sql: string; parameters: readonly unknown[] }) => {
      let i = 0;
      return c.sql.replace(/\?/g, () => JSON.stringify(c.parameters[i++]).replace(/^"|"$/g, "'"));
    };
    const across = await plan(finishedUsageQuery(q, { templateIds: [1], nodeArgs: [] }, 10_000).compile());
    expect(across).toContain('task_ttv_ix');
    expect(across).toContain('task_instance_task_ix');
    const inWf = await plan(finishedUsageQuery(q, { templateIds: [1], workflowId: 1, nodeArgs: [] }, 10_000).compile());
    expect(inWf).toContain('task_ttv_ix');
    expect(inWf).toContain('task_instance_task_ix');
    expect(await plan(nodeFailuresQuery(q, 0).compile())).toContain('task_instance_created_ix');
    expect(await plan({ sql: "select id from task_template where name = 'step'", parameters: [] })).toContain(
      'task_template_name_ix',
    );
  });

  it.runIf(TEST_DB_KIND === 'postgres')('PostgreSQL can serve each read from indexes, without a scan', async () => {
    const q = onDb(ctx.db);
    // The test tables are small, so the planner would rightly scan them: forbid that, and see that
    // an index path exists for each read.
    const plan = (c: { sql: string; parameters: readonly unknown[] }) =>
      ctx.db.kysely.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        const rows = await sql.raw<{ 'QUERY PLAN': string }>(`explain ${inlinePg(c)}`).execute(trx);
        return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
      });
    const inlinePg = (c: { sql: string; parameters: readonly unknown[] }) =>
      c.sql.replace(/\$(\d+)/g, (_, n: string) => {
        const v = c.parameters[Number(n) - 1];
        return typeof v === 'string' ? `'${v}'` : String(v);
      });
    for (const f of [
      { templateIds: [1], workflowId: 1, nodeArgs: [] },
      { templateIds: [1], nodeArgs: [['i', '0']] as [string, string][] },
    ]) {
      const p = await plan(finishedUsageQuery(q, f, 10_000).compile());
      expect(p).not.toContain('Seq Scan');
      expect(p).toContain('task_instance_task_ix');
    }
    const nodes = await plan(nodeFailuresQuery(q, 0).compile());
    expect(nodes).not.toContain('Seq Scan');
    expect(nodes).toContain('task_instance_created_ix');
  });
});
