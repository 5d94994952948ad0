import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  IllegalTransitionError,
  InternalError,
  NotFoundError,
  ServerUnreachableError,
  ValidationError,
} from './errors.js';
import { Requester, checkServerUrl } from './requester.js';

type Handler = (req: http.IncomingMessage, body: string, n: number) => [number, unknown];

const counts = new Map<string, number>();
const routes = new Map<string, Handler>();
const json = (status: number, body: unknown): [number, unknown] => [status, body];

routes.set('GET /api/v1/flaky', (_req, _b, n) => (n <= 2 ? [503, 'busy'] : json(200, { ok: true, n })));
routes.set('POST /api/v1/echo', (req, body) =>
  json(200, { method: req.method, type: req.headers['content-type'], body: JSON.parse(body) }),
);
routes.set('POST /api/v1/bad', () => json(400, { code: 'JM_VALIDATION', message: "task 'x': missing arg 'year'" }));
routes.set('GET /api/v1/missing', () => json(404, { code: 'JM_NOT_FOUND', message: 'workflow 9 does not exist' }));
routes.set('PUT /api/v1/move', () =>
  json(409, {
    code: 'JM_ILLEGAL_TRANSITION',
    message: 'task 4 cannot move from DONE to QUEUED',
    details: { entity: 'task', id: 4, from: 'DONE', to: 'QUEUED' },
  }),
);
routes.set('GET /api/v1/bug', () => json(500, { code: 'JM_INTERNAL', message: 'boom' }));
routes.set('GET /api/v1/html', () => [502, '<html>bad gateway</html>']);
routes.set('GET /api/v1/empty', () => [204, undefined]);
const keysSeen: (string | undefined)[] = [];
const keyOf = (req: http.IncomingMessage) => req.headers['idempotency-key'] as string | undefined;
routes.set('POST /api/v1/keyed', (req, _b, n) => {
  keysSeen.push(keyOf(req));
  return n <= 2 ? [503, 'busy'] : json(200, { key: keyOf(req) });
});
routes.set('GET /api/v1/keyed', (req) => json(200, { key: keyOf(req) ?? null }));
routes.set('PUT /api/v1/in-progress', (_req, _b, n) =>
  n <= 2
    ? json(409, { code: 'JM_REQUEST_IN_PROGRESS', message: 'an earlier attempt is still running; retry' })
    : json(200, { n }),
);

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const route = `${req.method} ${req.url}`;
      const n = (counts.get(route) ?? 0) + 1;
      counts.set(route, n);
      const handler = routes.get(route);
      const [status, body] = handler ? handler(req, Buffer.concat(chunks).toString('utf8'), n) : [404, 'no route'];
      if (body === undefined) res.writeHead(status).end();
      else if (typeof body === 'string') res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  counts.clear();
  keysSeen.length = 0;
});

const fast = { backoffMs: 1, maxBackoffMs: 2, timeoutMs: 5_000 };

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  return expect.unreachable('expected the request to fail');
}

describe('Requester', () => {
  it('retries 503 with backoff and succeeds', async () => {
    const retries: number[] = [];
    const r = new Requester(base, { ...fast, onRetry: (i) => retries.push(i.attempt) });
    await expect(r.get('/flaky')).resolves.toEqual({ ok: true, n: 3 });
    expect(counts.get('GET /api/v1/flaky')).toBe(3);
    expect(retries).toEqual([1, 2]);
  });

  it('sends a JSON body and parses a JSON answer; an empty answer is undefined', async () => {
    const r = new Requester(base, fast);
    await expect(r.post('/echo', { a: [1, 2] })).resolves.toEqual({
      method: 'POST',
      type: 'application/json',
      body: { a: [1, 2] },
    });
    await expect(r.get('/empty')).resolves.toBeUndefined();
  });

  it('throws a 400 at once as the server’s ValidationError', async () => {
    const e = await rejection(new Requester(base, fast).post('/bad', {}));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.message).toBe("task 'x': missing arg 'year'");
    expect(counts.get('POST /api/v1/bad')).toBe(1);
  });

  it('throws a 404 at once as NotFoundError', async () => {
    const e = await rejection(new Requester(base, fast).get('/missing'));
    expect(e).toBeInstanceOf(NotFoundError);
    expect(counts.get('GET /api/v1/missing')).toBe(1);
  });

  it('throws a 409 at once as IllegalTransitionError with its details', async () => {
    const e = await rejection(new Requester(base, fast).put('/move', { to: 'QUEUED' }));
    expect(e).toBeInstanceOf(IllegalTransitionError);
    expect((e as IllegalTransitionError).details).toEqual({ entity: 'task', id: 4, from: 'DONE', to: 'QUEUED' });
    expect((e as IllegalTransitionError).status).toBe(409);
    expect(counts.get('PUT /api/v1/move')).toBe(1);
  });

  it('retries a 500 only twice, then throws the server’s error', async () => {
    const e = await rejection(new Requester(base, { ...fast, retries: 8 }).get('/bug'));
    expect(e).toBeInstanceOf(InternalError);
    expect(e.message).toBe('boom');
    expect(counts.get('GET /api/v1/bug')).toBe(3);
  });

  it('gives up on a transient status after its retries, with the last answer as the error', async () => {
    const e = await rejection(new Requester(base, { ...fast, retries: 2 }).get('/html'));
    expect(e).toBeInstanceOf(InternalError);
    expect(e.message).toContain('GET /html answered HTTP 502');
    expect(counts.get('GET /api/v1/html')).toBe(3);
  });

  it('sends one Idempotency-Key on every attempt of a non-GET request, a new one per call, none on GET', async () => {
    const r = new Requester(base, fast);
    const first = await r.post<{ key: string }>('/keyed', {});
    expect(keysSeen).toHaveLength(3);
    expect(new Set(keysSeen).size).toBe(1);
    expect(first.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(keysSeen[0]).toBe(first.key);
    counts.clear();
    const second = await r.post<{ key: string }>('/keyed', {});
    expect(second.key).not.toBe(first.key);
    await expect(r.get('/keyed')).resolves.toEqual({ key: null });
  });

  it('retries 409 JM_REQUEST_IN_PROGRESS (an earlier attempt still running) but no other 409', async () => {
    await expect(new Requester(base, fast).put('/in-progress', {})).resolves.toEqual({ n: 3 });
    expect(counts.get('PUT /api/v1/in-progress')).toBe(3);
  });

  it('throws ServerUnreachableError naming the URL when nothing listens', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}`;
    const e = await rejection(new Requester(url, { ...fast, retries: 2 }).get('/anything'));
    expect(e).toBeInstanceOf(ServerUnreachableError);
    expect(e.message).toContain(url);
    expect(e.message).toContain('GET /anything');
    expect(e.message).toContain('3 attempts');
    expect((e as ServerUnreachableError).details).toMatchObject({ url });
  });

  it('removes its abort listener when a request ends, so one signal serves any number of requests', async () => {
    const r = new Requester(base, fast);
    const ac = new AbortController();
    for (let i = 0; i < 20; i++) await r.request('GET', '/empty', undefined, undefined, ac.signal);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('refuses a malformed URL at once, naming where it came from', () => {
    expect(() => new Requester('localhost:7101', { source: 'JOBMON_URL' })).toThrow(ValidationError);
    expect(() => new Requester('localhost:7101', { source: 'JOBMON_URL' })).toThrow(
      /JOBMON_URL="localhost:7101" is not a server URL/,
    );
    expect(() => checkServerUrl('ftp://h:1')).toThrow(/not a server URL/);
    expect(() => checkServerUrl('http://')).toThrow(/not a server URL/);
    expect(checkServerUrl('http://127.0.0.1:7070/')).toBe('http://127.0.0.1:7070');
  });

  it('retries by time when given a budget, says whether the server is reachable, and names the URL source', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const seen: boolean[] = [];
    const retries: { elapsedMs: number; unreachable: boolean }[] = [];
    const r = new Requester(`http://127.0.0.1:${port}`, {
      ...fast,
      retries: Infinity,
      retryForMs: 300,
      source: 'JOBMON_URL',
      onReachable: (up) => seen.push(up),
      onRetry: (i) => retries.push(i),
    });
    const t0 = Date.now();
    const e = await rejection(r.get('/anything'));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(e).toBeInstanceOf(ServerUnreachableError);
    expect(e.message).toContain(`JOBMON_URL=http://127.0.0.1:${port}`);
    expect(retries.length).toBeGreaterThan(3);
    expect(retries.every((x) => x.unreachable)).toBe(true);
    expect(seen).toEqual([false]);
    // The same requester reports the server back when it answers again.
    const back = r.with({ retries: 0 });
    expect(back.baseUrl).toBe(r.baseUrl);
  });
});
