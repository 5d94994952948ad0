// Idempotency-Key: a state-changing request retried after a timeout answers what its first attempt
// answered instead of applying twice (DESIGN.md §7). The requester sends one key per logical
// request on every attempt; this module keeps (key, method, url, status, body) in `request_log`.
//
// Modes of a keyed, non-GET request on a stored route (every route but NATURALLY_IDEMPOTENT):
// - new key: a 'pending' row (status 0) is inserted first — the key is the primary key, so of two
//   concurrent attempts exactly one wins — then the route runs; a 2xx answer is written to the
//   row before the reply leaves, any other answer deletes the row (the change rolled back, so a
//   retry may apply it afresh).
// - key answered: the stored status and body are replayed (header `Idempotent-Replayed: true`).
// - key pending: 409 JM_REQUEST_IN_PROGRESS; the requester backs off and retries. A pending row
//   older than STALE_PENDING_MS that this process is not running is taken over (compare-and-set
//   on created_at) and the route runs again.
// - same key, other method or url: 422 JM_IDEMPOTENCY_KEY_REUSED, nothing applied.
//
// The window: the answer is stored after the route's transaction commits, not inside it (the
// services open their own transactions and know nothing of HTTP). If the server dies between that
// commit and the answer's write, the row stays pending; retries get 409 until it is stale and then
// apply again, which is what a request without a key does today (queue answers `skipped`, a status
// move 409). Storing inside the transaction would close it at the cost of threading the key through
// every service; the window is one UPDATE wide.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, RequestInProgressError, IdempotencyKeyReusedError } from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import {
  dropPending,
  findRequest,
  insertPending,
  pruneRequests,
  storeAnswer,
  takeOverPending,
} from '../db/queries/request-log.js';
import type { Api } from '../routes/types.js';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';
/**
 * A pending row older than this, not running in this process, is presumed abandoned (its server
 * died). Longer than the requester's 20 s timeout, so a slow attempt on another replica is not run
 * twice; a client retrying after a crash inside the window may give up before it passes.
 */
export const STALE_PENDING_MS = 30_000;
const KEEP_MS = 24 * 3_600_000;
const PRUNE_EVERY_MS = 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * Routes whose repeat is harmless by construction: storing their answers would only cost
 * throughput (transitions and heartbeats arrive by the thousand per second) or space.
 */
export const NATURALLY_IDEMPOTENT: ReadonlyMap<string, string> = new Map([
  ['POST /api/v1/task-instances/transitions', 'compare-and-set per item: a repeated report answers untimely'],
  ['POST /api/v1/task-instances/:id/transition', 'compare-and-set: a repeated report answers untimely'],
  ['POST /api/v1/task-instances/:id/heartbeat', 'only moves the report deadline'],
  ['POST /api/v1/workflow-runs/:id/heartbeat', 'only moves the report deadline'],
  ['PUT /api/v1/workflow-runs/:id/tasks', 'binding answers the rows that exist; answers run to megabytes'],
  ['POST /api/v1/workflow-runs/:id/edges', 'INSERT … ON CONFLICT DO NOTHING'],
]);

type Claim = { kind: 'run' } | { kind: 'replay'; status: number; body: string | null };

async function claim(
  db: Db,
  key: string,
  method: string,
  url: string,
  now: number,
  running: ReadonlySet<string>,
): Promise<Claim> {
  const c = onDb(db);
  // Three rounds cover a row deleted (failed first attempt) or taken over between our reads.
  for (let round = 0; round < 3; round++) {
    if (await insertPending(c, key, method, url, now)) return { kind: 'run' };
    const row = await findRequest(c, key);
    if (!row) continue;
    if (row.method !== method || row.url !== url) {
      throw new IdempotencyKeyReusedError(
        `${method} ${url}: Idempotency-Key '${key}' was already used for ${row.method} ${row.url}; send a new key for a new request`,
        { key, method: row.method, url: row.url },
      );
    }
    if (row.status !== 0) return { kind: 'replay', status: row.status, body: row.body };
    if (running.has(key) || now - Number(row.created_at) < STALE_PENDING_MS) {
      throw new RequestInProgressError(
        `${method} ${url}: an earlier attempt with Idempotency-Key '${key}' is still running; retry`,
        { key },
      );
    }
    if (await takeOverPending(c, key, row.created_at, now)) return { kind: 'run' };
  }
  throw new RequestInProgressError(`${method} ${url}: Idempotency-Key '${key}' is contended; retry`, { key });
}

/** Install the hooks on the root app, before the routes are registered. */
export function installIdempotency(app: Api, db: Db): void {
  const owned = new WeakMap<FastifyRequest, string>();
  const running = new Set<string>();
  let lastPrune = 0;
  let pruning: Promise<void> = Promise.resolve();

  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
    const header = req.headers[IDEMPOTENCY_HEADER];
    if (header === undefined) return;
    const pattern = req.routeOptions.url;
    if (pattern === undefined || NATURALLY_IDEMPOTENT.has(`${req.method} ${pattern}`)) return;
    const key = Array.isArray(header) ? header[0] : header;
    if (key === undefined || !KEY_PATTERN.test(key)) {
      throw new ValidationError(
        `${req.method} ${req.url}: header Idempotency-Key must be 1 to 200 visible ASCII characters`,
        {
          field: 'Idempotency-Key',
          route: req.url,
        },
      );
    }
    const now = Date.now();
    if (now - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now;
      pruning = pruneRequests(onDb(db), now - KEEP_MS).then(
        () => undefined,
        (err: unknown) => req.log.warn({ err }, 'pruning the request log failed'),
      );
    }
    const got = await claim(db, key, req.method, req.url, now, running);
    if (got.kind === 'replay') {
      return reply
        .code(got.status)
        .header('content-type', 'application/json; charset=utf-8')
        .header(REPLAYED_HEADER, 'true')
        .send(got.body ?? '');
    }
    owned.set(req, key);
    running.add(key);
  });

  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const key = owned.get(req);
    if (key === undefined) return payload;
    try {
      if (
        reply.statusCode >= 200 &&
        reply.statusCode < 300 &&
        (typeof payload === 'string' || payload === undefined || payload === null)
      ) {
        await storeAnswer(onDb(db), key, reply.statusCode, (payload as string | null | undefined) ?? '');
      } else {
        await dropPending(onDb(db), key);
      }
    } catch (err) {
      // The change is committed; failing the reply now would only turn a success into a retry.
      req.log.error({ err, key }, 'storing the answer of an idempotent request failed');
    } finally {
      running.delete(key);
    }
    return payload;
  });
  app.addHook('onClose', async () => {
    await pruning;
  });
}
