import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, createApiClient, fillPath, queryString } from './api.js';
import { Requester } from './requester.js';

// A server that answers every request with what it received, so the test sees the wire.
let server: http.Server;
let url = '';
beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, body: body === '' ? null : JSON.parse(body) }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('createApiClient', () => {
  it('fills path params (encoded), writes the query (arrays repeated, undefined left out) and sends the body', async () => {
    const api = createApiClient(new Requester(url, { retries: 0 }));
    const echo = (x: unknown) => x as unknown as { method: string; url: string; body: unknown };
    expect(echo(await api.getWorkflow({ id: 7 }))).toEqual({ method: 'GET', url: '/api/v1/workflows/7', body: null });
    expect(
      echo(await api.listWorkflows({ query: { name: 'a b*', arg: ['x=1', 'y=2'], cursor: undefined, limit: 5 } })),
    ).toMatchObject({
      url: '/api/v1/workflows?name=a+b*&arg=x%3D1&arg=y%3D2&limit=5',
    });
    expect(echo(await api.setRunStatus({ id: 3, body: { status: 'BOUND', taskCount: 2 } }))).toEqual({
      method: 'PUT',
      url: '/api/v1/workflow-runs/3/status',
      body: { status: 'BOUND', taskCount: 2 },
    });
    expect(echo(await api.health())).toMatchObject({ method: 'GET', url: '/api/v1/health' });
  });

  it('has a call for every route', () => {
    const api = createApiClient(new Requester(url));
    expect(Object.keys(api).sort()).toEqual(Object.keys(ROUTES).sort());
  });
});

describe('fillPath and queryString', () => {
  it('refuse a missing path param and encode what could break the path', () => {
    expect(fillPath('/workflows/:id/tasks', { id: 'a/b?c' })).toBe('/workflows/a%2Fb%3Fc/tasks');
    expect(() => fillPath('/workflows/:id', {})).toThrow(/'id' is missing/);
    expect(queryString(undefined)).toBe('');
    expect(queryString({ a: undefined })).toBe('');
    expect(queryString({ all: true, n: 0 })).toBe('?all=true&n=0');
  });
});
