// GET /workflows on both databases: each filter, globs whose `%` and `_` must match literally,
// cursor pages that neither repeat nor miss a workflow while new ones are created between them,
// task counts per page, and bad filters answering 400 naming the field with nothing changed.

import { describe, expect, it, beforeAll } from 'vitest';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { apiHelpers, hash, testApp } from './support.js';

const ctx = testApp('wflist');
const { call, ok, snapshot, bindWorkflow } = apiHelpers(() => ctx);

let k = 0;
interface Made {
  id: number;
  name: string;
}
/** A workflow with the given identity, run by `user` (no run when user is null). */
async function make(o: {
  tool: string;
  name: string;
  user?: string | null;
  args?: Record<string, string | number | boolean>;
  attributes?: Record<string, string>;
  created?: string;
  status?: string;
}): Promise<Made> {
  const n = ++k;
  const tool = await ok('POST', '/tools', { name: o.tool });
  const wf = await ok('POST', '/workflows', {
    toolVersionId: tool.toolVersionId,
    argsHash: hash(`wl_args_${n}`),
    taskHash: hash(`wl_tasks_${n}`),
    dagHash: hash(`wl_dag_${n}`),
    workflowArgs: o.args ?? { n },
    taskCount: 0,
    name: o.name,
    description: '',
    ...(o.attributes ? { attributes: o.attributes } : {}),
  });
  if (o.user !== null)
    await ok('POST', `/workflows/${wf.workflowId}/runs`, {
      user: o.user ?? 'tester',
      host: 'here',
      pid: process.pid,
      jobmonVersion: '0.1.0',
    });
  const set: Record<string, unknown> = {};
  if (o.created) set['created_at'] = Date.parse(o.created);
  if (o.status) set['status'] = o.status;
  if (Object.keys(set).length > 0)
    await ctx.db.kysely.updateTable('workflow').set(set).where('id', '=', wf.workflowId).execute();
  return { id: wf.workflowId, name: o.name };
}

async function list(
  query: string,
): Promise<{ ids: number[]; body: { workflows: { id: number; name: string }[]; nextCursor?: string } }> {
  const body = await ok('GET', `/workflows?${query}`);
  return { ids: body.workflows.map((w: { id: number }) => w.id), body };
}

describe(`GET /workflows on ${TEST_DB_KIND}`, () => {
  const w: Record<string, Made> = {};
  beforeAll(async () => {
    w['a'] = await make({
      tool: 'wl_alpha',
      name: 'daily_run_1',
      user: 'ann',
      args: { region: 'us', year: 2024 },
      attributes: { team: 'epi' },
      created: '2024-01-10T00:00:00Z',
    });
    w['b'] = await make({
      tool: 'wl_alpha',
      name: 'daily_run_2',
      user: 'bob',
      args: { region: 'eu', year: 2024, flag: true },
      attributes: { team: 'cod' },
      created: '2024-02-10T00:00:00Z',
      status: 'FAILED',
    });
    w['c'] = await make({
      tool: 'wl_beta',
      name: '100%_done',
      user: 'ann',
      created: '2024-03-10T00:00:00Z',
      status: 'DONE',
    });
    w['d'] = await make({ tool: 'wl_beta', name: '100x_done', user: 'carl', created: '2024-03-11T00:00:00Z' });
    w['e'] = await make({ tool: 'wl_gamma', name: 'A_b', user: null, created: '2024-04-01T12:00:00Z' });
    w['f'] = await make({ tool: 'wl_gamma', name: 'axb', user: 'dee', created: '2024-04-02T12:00:00Z' });
  });
  const ids = (...keys: string[]) => keys.map((key) => w[key]!.id);

  it('lists newest first, each with its tool, latest user, status and times', async () => {
    const { body } = await list('tool=wl_alpha');
    expect(body.workflows).toEqual([
      expect.objectContaining({
        id: w['b']!.id,
        name: 'daily_run_2',
        tool: 'wl_alpha',
        user: 'bob',
        status: 'FAILED',
        createdAt: Date.parse('2024-02-10T00:00:00Z'),
        counts: {},
      }),
      expect.objectContaining({
        id: w['a']!.id,
        name: 'daily_run_1',
        tool: 'wl_alpha',
        user: 'ann',
        status: 'REGISTERING',
      }),
    ]);
    expect(body.nextCursor).toBeUndefined();
    expect((await list('tool=wl_gamma')).body.workflows.find((x) => x.id === w['e']!.id)).toMatchObject({ user: null });
  });

  it('filters by tool, user, status (one or several) and created range', async () => {
    expect((await list('tool=wl_beta')).ids).toEqual(ids('d', 'c'));
    expect((await list('tool=nope')).ids).toEqual([]);
    expect((await list('user=ann')).ids).toEqual(ids('c', 'a'));
    expect((await list('status=FAILED')).ids).toEqual(ids('b'));
    expect((await list('status=FAILED,DONE')).ids).toEqual(ids('c', 'b'));
    expect((await list('createdAfter=2024-02-10&createdBefore=2024-03-11')).ids).toEqual(ids('c', 'b'));
    expect((await list('createdAfter=2024-03-10T00:00:01Z&createdBefore=2024-04-02T12:00:00%2B00:00')).ids).toEqual(
      ids('e', 'd'),
    );
    expect((await list('createdBefore=2024-01-10T00:00:00.001Z')).ids).toEqual(ids('a'));
  });

  it('filters by workflow args and attributes, key=value, all of them', async () => {
    expect((await list('arg=region%3Dus')).ids).toEqual(ids('a'));
    expect((await list('arg=year%3D2024')).ids).toEqual(ids('b', 'a'));
    expect((await list('arg=year%3D2024&arg=region%3Deu')).ids).toEqual(ids('b'));
    expect((await list('arg=flag%3Dtrue')).ids).toEqual(ids('b'));
    expect((await list('arg=region%3DUS')).ids).toEqual([]);
    expect((await list('attribute=team%3Depi')).ids).toEqual(ids('a'));
    expect((await list('attribute=team%3Depi&tool=wl_beta')).ids).toEqual([]);
  });

  it('matches names by glob: * and ? are wildcards, % and _ only themselves', async () => {
    expect((await list('name=daily_run_%3F')).ids).toEqual(ids('b', 'a'));
    expect((await list('name=daily*')).ids).toEqual(ids('b', 'a'));
    expect((await list('name=100%25_*')).ids).toEqual(ids('c'));
    expect((await list('name=100%25*')).ids).toEqual(ids('c'));
    expect((await list('name=100%3F_done')).ids).toEqual(ids('d', 'c'));
    expect((await list('name=a_b')).ids).toEqual(ids('e'));
    expect((await list('name=a%3Fb')).ids).toEqual(ids('f', 'e'));
    expect((await list('name=%25')).ids).toEqual([]);
    expect((await list('name=_')).ids).toEqual([]);
  });

  it('counts tasks per status for each workflow of the page', async () => {
    const b = await bindWorkflow(3);
    const { body } = await list('user=tester&limit=1');
    expect(body.workflows).toEqual([
      expect.objectContaining({ id: b.workflowId, taskCount: 3, counts: { REGISTERING: 3 }, user: 'tester' }),
    ]);
  });

  it('pages by cursor with no repeats or misses while new workflows are created between pages', async () => {
    const first: number[] = [];
    for (let i = 0; i < 23; i++) first.push((await make({ tool: 'wl_page', name: `page_${i}` })).id);
    // Ties on created_at are ordered by id: half share one millisecond.
    await ctx.db.kysely
      .updateTable('workflow')
      .set({ created_at: Date.parse('2024-06-01T00:00:00Z') })
      .where('id', 'in', first.slice(0, 12))
      .execute();
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { ids: got, body } = await list(`tool=wl_page&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...got);
      cursor = body.nextCursor;
      pages++;
      // Created after the listing began: newer than the cursor, so never on a later page.
      await make({ tool: 'wl_page', name: `late_${pages}` });
    } while (cursor !== undefined);
    expect(pages).toBe(5);
    expect(seen).toEqual(
      [...first].sort((x, y) => {
        const tied = (id: number) => first.slice(0, 12).includes(id);
        if (tied(x) !== tied(y)) return tied(x) ? 1 : -1;
        return y - x;
      }),
    );
    expect(new Set(seen).size).toBe(23);
    // The late ones are all there on a fresh listing, newest first.
    const fresh = await list('tool=wl_page&name=late_*&limit=1000');
    expect(fresh.ids).toHaveLength(5);
    expect(fresh.ids).toEqual([...fresh.ids].sort((x, y) => y - x));
  });

  it('answers 400 naming the field for a bad filter, and changes nothing', async () => {
    const snap = await snapshot();
    const cases: [string, string][] = [
      ['createdAfter=2024-13-01', 'createdAfter'],
      ['createdAfter=2024-02-30', 'createdAfter'],
      ['createdBefore=yesterday', 'createdBefore'],
      ['createdBefore=2024-01-01T25:00:00Z', 'createdBefore'],
      ['cursor=garbage!', 'cursor'],
      [`cursor=${Buffer.from('{"a":1}').toString('base64url')}`, 'cursor'],
      [`cursor=${Buffer.from('[1.5,2]').toString('base64url')}`, 'cursor'],
      ['status=RUNNING,NOPE', 'status'],
      ['arg=region', 'arg'],
      ['arg=%3Dus', 'arg'],
      ['attribute=team', 'attribute'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['stauts=DONE', 'stauts'],
      ['name=a%00b', 'name'],
    ];
    for (const [q, field] of cases) {
      const r = await call('GET', `/workflows?${q}`);
      expect({ q, status: r.status, code: r.body.code }).toEqual({ q, status: 400, code: 'JM_VALIDATION' });
      expect(r.body.message, q).toContain(field);
    }
    expect(await snapshot()).toEqual(snap);
  });
});
