// The authorisation matrix (docs/auth.md): every route of ROUTES × every kind of principal, on a
// server in token mode. The expectation is computed here from each route's `access` rule, written
// independently of the server's check, so a new route is in the matrix the day it is added and a
// rule the server gets wrong fails here. Every refusal is 401 or 403 and leaves every table as it was.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, fillPath, type Access, type RouteSpec } from '@jobmon/core';
import { buildApp, mintToken, openDb, revokeToken, type Db, type JobmonApp } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { apiHelpers, type Bound } from './support.js';

let tdb: TestDb;
let db: Db;
let open: JobmonApp;
let app: JobmonApp;
const h = apiHelpers(() => ({ app: open, db }));

type Who =
  | 'owner'
  | 'other user'
  | 'operator-group member'
  | 'admin'
  | 'read scope'
  | 'anonymous'
  | 'share link of this workflow'
  | 'share link of another workflow'
  | 'run token of this run'
  | 'run token of another run'
  | 'expired token'
  | 'revoked token';
const WHO: Who[] = [
  'owner',
  'other user',
  'operator-group member',
  'admin',
  'read scope',
  'anonymous',
  'share link of this workflow',
  'share link of another workflow',
  'run token of this run',
  'run token of another run',
  'expired token',
  'revoked token',
];
const token = new Map<Who, string>();
const tokenIds = new Map<Who, string>();
/** The token the revoke route is called on (an allowed call revokes it). */
let victim = '';
let mine: Bound & { instances: number[] };
let theirs: Bound & { instances: number[] };

beforeAll(async () => {
  tdb = await createTestDb('authz');
  db = await openDb(tdb.target);
  // The fixtures are made through an open app, then judged by a token-mode app on the same database.
  open = await buildApp({ db });
  app = await buildApp({ db, auth: { mode: 'token', failuresPerMinute: 100_000 }, operatorGroups: { ops: ['olga'] } });
  mine = await h.runningWorkflow(2);
  theirs = await h.runningWorkflow(2);
  await db.kysely.updateTable('workflow').set({ owner: 'alice' }).where('id', '=', mine.workflowId).execute();
  await db.kysely.updateTable('workflow').set({ owner: 'bob' }).where('id', '=', theirs.workflowId).execute();
  await db.kysely
    .insertInto('workflow_attribute')
    .values({ workflow_id: mine.workflowId, name: 'operator_group', value: 'ops' })
    .execute();
  const day = 86_400_000;
  const mint = async (
    who: Who,
    r: {
      kind?: 'personal' | 'run' | 'share';
      user?: string | null;
      scope?: 'read' | 'operate' | 'admin';
      runId?: number;
      workflowId?: number;
      ms?: number;
    },
  ) => {
    const t = await mintToken(db, {
      kind: r.kind ?? 'personal',
      user: r.user === undefined ? null : r.user,
      scope: r.scope ?? 'operate',
      ...(r.runId ? { runId: r.runId } : {}),
      ...(r.workflowId ? { workflowId: r.workflowId } : {}),
      expiresInMs: r.ms ?? day,
      createdBy: 'test',
    });
    token.set(who, t.token);
    tokenIds.set(who, t.id);
    return t;
  };
  await mint('owner', { user: 'alice' });
  await mint('other user', { user: 'bob' });
  await mint('operator-group member', { user: 'olga' });
  await mint('admin', { user: 'root', scope: 'admin' });
  await mint('read scope', { user: 'rita', scope: 'read' });
  await mint('share link of this workflow', { kind: 'share', scope: 'read', workflowId: mine.workflowId });
  await mint('share link of another workflow', { kind: 'share', scope: 'read', workflowId: theirs.workflowId });
  await mint('run token of this run', { kind: 'run', user: 'alice', runId: mine.runId });
  await mint('run token of another run', { kind: 'run', user: 'bob', runId: theirs.runId });
  await mint('expired token', { user: 'alice', ms: 1 });
  victim = (
    await mintToken(db, { kind: 'personal', user: 'victor', scope: 'read', expiresInMs: day, createdBy: 'test' })
  ).id;
  const revoked = await mint('revoked token', { user: 'alice' });
  await revokeToken(db, revoked.id);
  await new Promise((r) => setTimeout(r, 5));
});
afterAll(async () => {
  await app?.close();
  await open?.close();
  await db?.close();
  await tdb?.drop();
});

const tokensNow = async () =>
  (await db.kysely.selectFrom('auth_token').select(['id', 'revoked_at']).orderBy('id').execute()).map(
    (r) => `${r.id}:${r.revoked_at}`,
  );

/** The rule, from docs/auth.md: whether `who` may call a route with access `a` on `mine`. */
function allowed(a: Access, who: Who): boolean {
  if (a === 'public') return true;
  if (who === 'anonymous' || who === 'expired token' || who === 'revoked token') return false;
  const [rule, target] = a.split(':');
  if (who === 'admin') return true;
  if (rule === 'admin') return false;
  if (who === 'share link of this workflow') return rule === 'read' && target !== undefined;
  if (who === 'share link of another workflow') return false;
  if (rule === 'read') return true;
  if (who === 'read scope') return false;
  if (rule === 'declare') return who === 'owner' || who === 'other user' || who === 'operator-group member';
  if (who === 'run token of this run') return rule === 'run';
  if (who === 'run token of another run') return false;
  return who === 'owner' || who === 'operator-group member';
}

/** A request to `spec` acting on `mine`, with a body that would change something if it were let through. */
function request(spec: RouteSpec) {
  const url = `/api/v1${fillPath(spec.path, { id: idFor(spec), name: 'local', tokenId: victim })}`;
  const bodies: Record<string, unknown> = {
    '/workflows/:id/concurrency': { limit: 1 },
    '/workflows/:id/resume': { mode: 'cold' },
    '/workflows/:id/reset': { partial: false, dryRun: false },
    '/tasks/status': { taskIds: [mine.tasks[0]], status: 'DONE' },
    '/task-instances/transitions': { items: [{ id: mine.instances[0], to: 'INSTANTIATED' }] },
    '/task-instances/:id/transition': { to: 'INSTANTIATED' },
    '/workflow-runs/:id/status': { status: 'ERROR' },
    '/clusters/:name': { type: 'local', queues: { q: {} } },
    '/tools': { name: 'authz_tool' },
    '/workflows/:id/share': { expiresInHours: 1 },
    '/tokens': { user: 'mallory', scope: 'admin', expiresInHours: 1 },
    '/workflows/:id/runs': { user: 'x', host: 'y', pid: 1, jobmonVersion: '0.1.0' },
  };
  return { method: spec.method, url, body: spec.method === 'GET' ? undefined : (bodies[spec.path] ?? {}) };
}

function idFor(spec: RouteSpec): number {
  if (spec.path.startsWith('/workflows/')) return mine.workflowId;
  if (spec.path.startsWith('/tasks/')) return mine.tasks[0]!;
  if (spec.path.startsWith('/workflow-runs/')) return mine.runId;
  if (spec.path.startsWith('/task-instances/')) return mine.instances[0]!;
  return 1;
}

const routes = Object.entries(ROUTES) as [string, RouteSpec][];

describe(`the authorisation matrix on ${TEST_DB_KIND}: every route × every principal`, () => {
  it('every route names its rule, and docs/auth.md lists each with that rule', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../../docs/auth.md'), 'utf8');
    const listed = new Map(
      [...doc.matchAll(/^\| `([A-Z]+ \S+)` +\| `([a-z:]+)` +\|$/gm)].map((m) => [m[1]!, m[2]!] as const),
    );
    for (const [name, spec] of routes) {
      expect(spec.access, name).toMatch(/^(public|read|declare|admin|operate:|run:|read:)/);
      expect(listed.get(`${spec.method} ${spec.path}`), `docs/auth.md: ${spec.method} ${spec.path}`).toBe(spec.access);
    }
    expect(listed.size).toBe(routes.length);
    expect(routes.length).toBeGreaterThan(40);
  });

  it('refuses with 401 (no or bad credentials) or 403 (not allowed), naming why, and changes nothing', async () => {
    const before = await h.snapshot();
    const tokensBefore = await tokensNow();
    const refusals: string[] = [];
    for (const [name, spec] of routes)
      for (const who of WHO) {
        if (allowed(spec.access, who)) continue;
        const r = request(spec);
        const t = token.get(who);
        const res = await app.inject({
          method: r.method,
          url: r.url,
          ...(r.body === undefined ? {} : { payload: r.body as object }),
          ...(t ? { headers: { authorization: `Bearer ${t}` } } : {}),
        });
        const expected = t === undefined || who === 'expired token' || who === 'revoked token' ? 401 : 403;
        expect(res.statusCode, `${name} (${spec.access}) as ${who}: ${res.body}`).toBe(expected);
        const body = res.json<{ code: string; message: string }>();
        expect(body.code).toBe(expected === 401 ? 'JM_UNAUTHORIZED' : 'JM_FORBIDDEN');
        // A token's secret never comes back.
        if (t) expect(res.body).not.toContain(t.slice('jm_123456789012_'.length));
        refusals.push(`${name}/${who}`);
      }
    expect(refusals.length).toBeGreaterThan(200);
    expect(await h.snapshot()).toEqual(before);
    // No token was minted or revoked by a refused request.
    expect(await tokensNow()).toEqual(tokensBefore);
  });

  it('lets the allowed through to the route itself (its own answer, never 401/403)', async () => {
    for (const [name, spec] of routes)
      for (const who of WHO) {
        if (!allowed(spec.access, who)) continue;
        const r = request(spec);
        const t = token.get(who);
        // An unknown field makes the route refuse the body after the check (400): nothing changes.
        const res = await app.inject({
          method: r.method,
          url: r.url,
          ...(r.body === undefined ? {} : { payload: { ...(r.body as object), matrixProbe: true } }),
          ...(t ? { headers: { authorization: `Bearer ${t}` } } : {}),
        });
        expect([401, 403], `${name} (${spec.access}) as ${who}: ${res.statusCode} ${res.body}`).not.toContain(
          res.statusCode,
        );
      }
  });

  it('names the owner and the caller when it refuses an operation', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: `/api/v1/workflows/${mine.workflowId}/concurrency`,
      payload: { limit: 1 },
      headers: { authorization: `Bearer ${token.get('other user')}` },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json<{ message: string }>().message).toBe(
      `workflow ${mine.workflowId} is owned by alice (operator group ops); you are bob`,
    );
  });

  it('rate-limits failed authentications per address: past the limit even a good token waits (429)', async () => {
    const strict = await buildApp({ db, auth: { mode: 'token', failuresPerMinute: 3 } });
    try {
      const as = (t: string) =>
        strict.inject({ method: 'GET', url: '/api/v1/workflows', headers: { authorization: `Bearer ${t}` } });
      expect((await as(token.get('owner')!)).statusCode).toBe(200);
      for (let i = 0; i < 3; i++) expect((await as(`jm_guessguess${i}0_${'x'.repeat(43)}`)).statusCode).toBe(401);
      const blocked = await as(token.get('owner')!);
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json<{ message: string }>().message).toMatch(
        /^too many failed authentications from 127\.0\.0\.1: wait \d+ s$/,
      );
      // Another server's count is its own.
      expect(
        (
          await app.inject({
            method: 'GET',
            url: '/api/v1/workflows',
            headers: { authorization: `Bearer ${token.get('owner')}` },
          })
        ).statusCode,
      ).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('records who changed what in the audit log, refusals included', async () => {
    const as = (who: Who) => ({ authorization: `Bearer ${token.get(who)}` });
    await app.inject({
      method: 'PUT',
      url: `/api/v1/workflows/${mine.workflowId}/concurrency`,
      payload: { limit: 3 },
      headers: as('owner'),
    });
    await app.inject({
      method: 'PUT',
      url: `/api/v1/workflows/${mine.workflowId}/concurrency`,
      payload: { limit: 4 },
      headers: as('other user'),
    });
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/audit?workflowId=${mine.workflowId}&limit=2`,
      headers: as('read scope'),
    });
    expect(res.statusCode, res.body).toBe(200);
    const [bob, alice] = res.json<{
      entries: {
        user: string;
        via: string;
        tokenId: string;
        method: string;
        route: string;
        status: number;
        workflowId: number;
      }[];
    }>().entries;
    expect(bob).toMatchObject({
      user: 'bob',
      via: 'personal',
      tokenId: tokenIds.get('other user'),
      method: 'PUT',
      route: '/workflows/:id/concurrency',
      status: 403,
      workflowId: mine.workflowId,
    });
    expect(alice).toMatchObject({ user: 'alice', via: 'personal', status: 200, workflowId: mine.workflowId });
  });

  it('says why a token is refused, by its public id only', async () => {
    const t = token.get('expired token')!;
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/workflows',
      headers: { authorization: `Bearer ${t}` },
    });
    expect(res.statusCode).toBe(401);
    const id = t.split('_')[1]!;
    expect(res.json<{ message: string }>().message).toBe(
      `token ${id} has expired: give a token: \`jobmon login\`, or JOBMON_TOKEN`,
    );
  });
});

describe(`behind an authenticating proxy (trusted-header) on ${TEST_DB_KIND}`, () => {
  let proxied: JobmonApp;
  beforeAll(async () => {
    proxied = await buildApp({
      db,
      auth: { mode: 'trusted-header', header: 'X-Remote-User', proxies: ['10.0.0.5'], admins: ['root'] },
    });
  });
  afterAll(async () => {
    await proxied?.close();
  });
  const concurrency = (headers: Record<string, string>, remoteAddress: string) =>
    proxied.inject({
      method: 'PUT',
      url: `/api/v1/workflows/${mine.workflowId}/concurrency`,
      payload: { limit: 2 },
      headers,
      remoteAddress,
    });

  it("takes the user from the proxy's header, and judges them like anyone else", async () => {
    expect((await concurrency({ 'x-remote-user': 'alice' }, '10.0.0.5')).statusCode).toBe(200);
    const bob = await concurrency({ 'x-remote-user': 'bob' }, '10.0.0.5');
    expect(bob.statusCode).toBe(403);
    expect(bob.json<{ message: string }>().message).toContain('you are bob');
    expect((await concurrency({ 'x-remote-user': 'root' }, '10.0.0.5')).statusCode).toBe(200);
  });

  it('believes the header from the proxy only: from anywhere else it is ignored (401 without a token)', async () => {
    const forged = await concurrency({ 'x-remote-user': 'alice' }, '10.0.0.99');
    expect(forged.statusCode).toBe(401);
    expect(forged.json<{ message: string }>().message).toContain('authentication required');
  });

  it('takes tokens beside it: the CLI and runners reach the server directly', async () => {
    const res = await concurrency({ authorization: `Bearer ${token.get('owner')}` }, '10.0.0.99');
    expect(res.statusCode).toBe(200);
    const run = await proxied.inject({
      method: 'POST',
      url: `/api/v1/workflow-runs/${mine.runId}/heartbeat`,
      payload: { status: 'RUNNING' },
      headers: { authorization: `Bearer ${token.get('run token of this run')}` },
      remoteAddress: '10.0.0.99',
    });
    expect([401, 403]).not.toContain(run.statusCode);
  });

  it('refuses a header that is not a user name', async () => {
    expect((await concurrency({ 'x-remote-user': 'alice bob' }, '10.0.0.5')).statusCode).toBe(401);
  });
});
