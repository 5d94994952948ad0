// The reporter against a stand-in HTTP server whose answers we script: a batch the server refuses
// loses only the item at fault; reports made while the server is down are kept and sent after.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Requester, type InstanceTransitionT, type TransitionResultT } from '@jobmon/core';
import { Reporter } from './reporter.js';

let server: http.Server;
let base: string;
let down = 0; // answer 503 to this many more requests
let requests: number[][] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (down > 0) {
        down--;
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'JM_INTERNAL', message: 'the database is unavailable' }));
        return;
      }
      const { items } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { items: InstanceTransitionT[] };
      requests.push(items.map((i) => i.id));
      if (items.some((i) => i.id === 13)) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'JM_VALIDATION', message: 'items/… has a bad byte' }));
        return;
      }
      const results: TransitionResultT[] = items.map((i) => ({
        id: i.id,
        outcome: 'applied',
        status: i.to,
        taskId: i.id,
        taskStatus: 'DONE',
      }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  down = 0;
  requests = [];
});

function reporter(req: Requester) {
  const got = { results: [] as number[], failed: [] as number[], fatal: [] as unknown[] };
  const r = new Reporter(req, {
    onResult: (res) => got.results.push(res.id),
    onItemFailed: (item) => got.failed.push(item.id),
    onFatal: (e) => got.fatal.push(e),
  });
  return { r, got };
}

const items = (n: number): InstanceTransitionT[] => Array.from({ length: n }, (_, i) => ({ id: i + 1, to: 'DONE' }));

describe('Reporter', () => {
  it('isolates an item the server refuses: the other 39 are applied, only that one is given up', async () => {
    const { r, got } = reporter(new Requester(base, { backoffMs: 1, maxBackoffMs: 2 }));
    // Fire and forget, as the distributors do: nothing may reject unhandled (that crashed the runner).
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const verdicts = items(40).map((i) => r.report(i));
    await r.idle();
    await new Promise((res) => setTimeout(res, 50));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
    expect(got.failed).toEqual([13]);
    expect(got.results.sort((a, b) => a - b)).toEqual(
      items(40)
        .map((i) => i.id)
        .filter((id) => id !== 13),
    );
    const settled = await Promise.all(verdicts);
    expect(settled.map((v, i) => (v === undefined ? i + 1 : 0)).filter(Boolean)).toEqual([13]);
    expect(got.fatal).toEqual([]);
    // Found by halving, not one request per item.
    expect(requests.length).toBeLessThanOrEqual(20);
  });

  it('keeps reports made while the server does not answer and sends them when it is back', async () => {
    down = 6;
    const { r, got } = reporter(
      new Requester(base, { backoffMs: 5, maxBackoffMs: 20, retries: Infinity, retryForMs: 10_000 }),
    );
    const done = Promise.all(items(10).map((i) => r.report(i)));
    await done;
    await r.idle();
    expect(got.results.sort((a, b) => a - b)).toEqual(items(10).map((i) => i.id));
    expect(got.failed).toEqual([]);
    expect(got.fatal).toEqual([]);
  });

  it('fails as a whole only when the server stays away past the requester’s budget', async () => {
    down = 1_000_000;
    const { r, got } = reporter(
      new Requester(base, { backoffMs: 5, maxBackoffMs: 10, retries: Infinity, retryForMs: 200 }),
    );
    const settled = await Promise.all(items(3).map((i) => r.report(i)));
    expect(settled).toEqual([undefined, undefined, undefined]);
    expect(got.fatal).toHaveLength(1);
    expect(got.fatal[0]).toBeInstanceOf(Error);
    expect(await r.report({ id: 99, to: 'DONE' })).toBeUndefined();
    expect((got.fatal[0] as { status?: number }).status).toBe(503); // the last answer: the database is unavailable
  });
});
