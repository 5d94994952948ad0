// The route table in core (ROUTES) is the API: the server registers every route from it and
// nothing beside it, and the answers the tests see are held to its response schemas (support.ts).

import { describe, expect, it } from 'vitest';
import { ROUTES, type RouteSpec } from '@jobmon/core';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { apiHelpers, checkResponse, testApp } from './support.js';

const ctx = testApp('routes');
const { ok } = apiHelpers(() => ctx);

const specs = Object.values(ROUTES) as RouteSpec[];
const openApiPath = (path: string) => `/api/v1${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;

describe(`route table on ${TEST_DB_KIND}`, () => {
  it('has one entry per method and path', () => {
    const keys = specs.map((s) => `${s.method} ${s.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('is every route the server registered, and the server registered all of it', async () => {
    for (const s of specs)
      expect(ctx.app.hasRoute({ method: s.method, url: `/api/v1${s.path}` }), `${s.method} ${s.path}`).toBe(true);
    const doc = (await ok('GET', '/openapi.json')) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const declared = specs.filter((s) => !s.hide).map((s) => `${s.method} ${openApiPath(s.path)}`);
    expect(documented.sort()).toEqual(declared.sort());
    // Hidden routes are not in the document: count every route Fastify knows instead (HEAD is
    // Fastify's own companion of each GET), beside the GUI's two, GET / and GET /* (web.ts).
    const tree = ctx.app.printRoutes({ commonPrefix: false, includeHooks: false });
    const methods = [...tree.matchAll(/\(([A-Z, ]+)\)/g)].flatMap((m) => m[1]!.split(', ')).filter((m) => m !== 'HEAD');
    expect(methods.length).toBe(specs.length + 2);
    expect(ctx.app.hasRoute({ method: 'GET', url: '/' }) && ctx.app.hasRoute({ method: 'GET', url: '/*' })).toBe(true);
  });

  it('documents a 200 answer for every route', async () => {
    const doc = (await ok('GET', '/openapi.json')) as {
      paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    };
    for (const s of specs.filter((x) => !x.hide)) {
      expect(
        doc.paths[openApiPath(s.path)]?.[s.method.toLowerCase()]?.responses?.['200'],
        `${s.method} ${s.path}`,
      ).toBeDefined();
    }
  });

  it('checks answers against the schema: a wrong type, a missing field and an undeclared one all fail', () => {
    const good = { events: [], last: 3 };
    expect(() => checkResponse('GET', '/events?after=1', good)).not.toThrow();
    expect(() => checkResponse('GET', '/events', { events: [], last: 'three' })).toThrow(/\/last/);
    expect(() => checkResponse('GET', '/events', { events: [] })).toThrow(/\/last/);
    expect(() => checkResponse('GET', '/events', { ...good, extra: 1 })).toThrow(/does not declare/);
    expect(() => checkResponse('GET', '/workflows/7', {})).toThrow(/GET \/workflows\/7/);
    expect(() => checkResponse('DELETE', '/workflows/7', {})).toThrow(/no route/);
  });
});
