// One authorisation check for everything that changes state: every route of ROUTES whose method is
// not GET consults the app's policy before its body is read, and a refusal is 403 JM_FORBIDDEN
// naming the route; reads never ask. The default policy admits everyone.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, fillPath, type RouteSpec } from '@jobmon/core';
import { buildApp, openDb, type Action, type JobmonApp } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';

let tdb: TestDb;
let db: Awaited<ReturnType<typeof openDb>>;
let app: JobmonApp;
const asked: Action[] = [];

beforeAll(async () => {
  tdb = await createTestDb('authz');
  db = await openDb(tdb.target);
  app = await buildApp({
    db,
    authorize: (_who, action) => {
      asked.push(action);
      return false;
    },
  });
});
afterAll(async () => {
  await app?.close();
  await db?.close();
  await tdb?.drop();
});

const specs = Object.values(ROUTES) as RouteSpec[];

describe(`the authorisation check on ${TEST_DB_KIND}`, () => {
  it('is consulted by every mutating route, which a refusal stops with 403 naming it', async () => {
    const mutating = specs.filter((s) => s.method !== 'GET');
    expect(mutating.length).toBeGreaterThan(10);
    for (const s of mutating) {
      const url = `/api/v1${fillPath(s.path, { id: 1, name: 'local' })}`;
      const res = await app.inject({ method: s.method, url, payload: { nothing: 'valid' } });
      expect(res.statusCode, `${s.method} ${s.path}`).toBe(403);
      const body = res.json<{ code: string; message: string; details: { route: string } }>();
      expect(body.code).toBe('JM_FORBIDDEN');
      expect(body.details.route).toBe(s.path);
      expect(body.message).toContain(s.path);
    }
    expect(asked.map((a) => `${a.method} ${a.route}`).sort()).toEqual(
      mutating.map((s) => `${s.method} ${s.path}`).sort(),
    );
  });

  it('is not asked for reads', async () => {
    const before = asked.length;
    expect((await app.inject({ method: 'GET', url: '/api/v1/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/clusters' })).statusCode).toBe(200);
    expect(asked.length).toBe(before);
  });

  it('admits everyone by default', async () => {
    const open = await buildApp({ db });
    try {
      const res = await open.inject({ method: 'PUT', url: '/api/v1/clusters/authz-test', payload: { type: 'local' } });
      // Past the check, to the route's own: a new cluster needs a queue.
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json<{ code: string }>().code).toBe('JM_VALIDATION');
    } finally {
      await open.close();
    }
  });
});
