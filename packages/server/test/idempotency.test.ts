// Idempotency-Key on SQLite and PostgreSQL: a replayed key answers the first attempt's stored
// answer and applies nothing; a key is bound to its method and url; requests without a key behave
// as before; and through a proxy that loses the first answer, the Requester's retry gets the
// original answer and the database holds one set of rows.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { Requester, type QueueResponseT } from '@jobmon/core';
import { buildApp, type JobmonApp } from '@jobmon/server';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { apiHelpers, testApp } from './support.js';

let seq = 0;
const ctx = testApp('idem');

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  replayed: boolean;
}

async function call(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  payload?: unknown,
  key?: string,
  on: JobmonApp = ctx.app,
): Promise<Reply> {
  const res = await on.inject({
    method,
    url: `/api/v1${url}`,
    ...(payload === undefined ? {} : { payload: payload as object }),
    ...(key === undefined ? {} : { headers: { 'idempotency-key': key } }),
  });
  return {
    status: res.statusCode,
    body: res.body ? JSON.parse(res.body) : undefined,
    replayed: res.headers['idempotent-replayed'] === 'true',
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function ok(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, key?: string): Promise<any> {
  const r = await call(method, url, payload, key);
  if (r.status !== 200) throw new Error(`${method} ${url} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const newKey = () => `test-${++seq}-${Math.random().toString(36).slice(2)}`;
const { bindWorkflow, startedWorkflow } = apiHelpers(() => ctx);

/** A workflow of `n` tasks whose run is BOUND, or (by default) moved on to RUNNING. */
const workflow = (n: number, running = true) => (running ? startedWorkflow(n) : bindWorkflow(n));

async function count(
  table: 'task_instance' | 'workflow_run' | 'tool_version' | 'event',
  column: 'workflow_run_id' | 'workflow_id' | 'tool_id',
  id: number,
): Promise<number> {
  const r = await sql<{
    n: number | string;
  }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(column)} = ${id}`.execute(ctx.db.kysely);
  return Number(r.rows[0]!.n);
}

async function logRow(key: string) {
  return ctx.db.kysely.selectFrom('request_log').selectAll().where('key', '=', key).executeTakeFirst();
}

describe(`Idempotency-Key on ${TEST_DB_KIND}`, () => {
  it('a replayed queue request answers the same instance ids and creates no instance', async () => {
    const w = await workflow(3);
    const key = newKey();
    const body = { tasks: w.tasks.map((taskId) => ({ taskId })) };
    const first = await call('POST', `/workflow-runs/${w.runId}/queue`, body, key);
    expect(first.status).toBe(200);
    expect(first.replayed).toBe(false);
    expect(first.body.instances).toHaveLength(3);
    expect(await count('task_instance', 'workflow_run_id', w.runId)).toBe(3);
    const again = await call('POST', `/workflow-runs/${w.runId}/queue`, body, key);
    expect(again).toEqual({ status: 200, body: first.body, replayed: true });
    expect(await count('task_instance', 'workflow_run_id', w.runId)).toBe(3);
    expect(await logRow(key)).toMatchObject({
      method: 'POST',
      url: `/api/v1/workflow-runs/${w.runId}/queue`,
      status: 200,
    });
    // Without a key the same request is applied again, as before: the tasks are QUEUED already.
    const bare = await ok('POST', `/workflow-runs/${w.runId}/queue`, body);
    expect(bare.instances).toEqual([]);
    expect(bare.skipped).toHaveLength(3);
  });

  it('a replayed run creation answers the same run id; without a key the workflow is held', async () => {
    const w = await workflow(1, false);
    await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: 'ERROR' });
    const key = newKey();
    const req = { user: 'u', host: 'h', pid: 7, jobmonVersion: '0.1.0' };
    const first = await ok('POST', `/workflows/${w.workflowId}/runs`, req, key);
    const runsBefore = await count('workflow_run', 'workflow_id', w.workflowId);
    const again = await call('POST', `/workflows/${w.workflowId}/runs`, req, key);
    expect(again).toEqual({ status: 200, body: first, replayed: true });
    expect(await count('workflow_run', 'workflow_id', w.workflowId)).toBe(runsBefore);
    const bare = await call('POST', `/workflows/${w.workflowId}/runs`, req);
    expect(bare.status).toBe(409);
    expect(bare.body.code).toBe('JM_NOT_RESUMABLE');
  });

  it('a replayed status move answers 200 with the same body; without a key it is illegal', async () => {
    const w = await workflow(1, false);
    const key = newKey();
    const first = await call('PUT', `/workflow-runs/${w.runId}/status`, { status: 'INSTANTIATED' }, key);
    expect(first).toMatchObject({ status: 200, body: { status: 'INSTANTIATED' }, replayed: false });
    const eventsBefore = await count('event', 'workflow_id', w.workflowId);
    const again = await call('PUT', `/workflow-runs/${w.runId}/status`, { status: 'INSTANTIATED' }, key);
    expect(again).toEqual({ status: 200, body: first.body, replayed: true });
    expect(await count('event', 'workflow_id', w.workflowId)).toBe(eventsBefore);
    const bare = await call('PUT', `/workflow-runs/${w.runId}/status`, { status: 'INSTANTIATED' });
    expect(bare.status).toBe(409);
  });

  it('a replayed new tool version answers the same version and adds one row', async () => {
    const name = `idem_versioned_${++seq}`;
    const base = await ok('POST', '/tools', { name });
    const key = newKey();
    const first = await ok('POST', '/tools', { name, newVersion: true }, key);
    expect(first.toolVersionId).not.toBe(base.toolVersionId);
    const again = await call('POST', '/tools', { name, newVersion: true }, key);
    expect(again).toEqual({ status: 200, body: first, replayed: true });
    expect(await count('tool_version', 'tool_id', base.toolId)).toBe(2);
  });

  it('refuses a key reused for another url with 422, applying nothing', async () => {
    const a = await workflow(1);
    const b = await workflow(1);
    const key = newKey();
    await ok('POST', `/workflow-runs/${a.runId}/queue`, { tasks: [{ taskId: a.tasks[0] }] }, key);
    const r = await call('POST', `/workflow-runs/${b.runId}/queue`, { tasks: [{ taskId: b.tasks[0] }] }, key);
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('JM_IDEMPOTENCY_KEY_REUSED');
    expect(r.body.message).toContain(`POST /api/v1/workflow-runs/${a.runId}/queue`);
    expect(await count('task_instance', 'workflow_run_id', b.runId)).toBe(0);
  });

  it('stores no failed answer: a refused request with a key can be applied by its retry', async () => {
    const w = await workflow(1, false);
    const key = newKey();
    const refused = await call('POST', `/workflow-runs/${w.runId}/queue`, { tasks: [{ taskId: w.tasks[0] }] }, key);
    expect(refused.status).toBe(409);
    expect(await logRow(key)).toBeUndefined();
    for (const s of ['INSTANTIATED', 'LAUNCHED', 'RUNNING'])
      await ok('PUT', `/workflow-runs/${w.runId}/status`, { status: s });
    const retried = await call('POST', `/workflow-runs/${w.runId}/queue`, { tasks: [{ taskId: w.tasks[0] }] }, key);
    expect(retried.status).toBe(200);
    expect(retried.body.instances).toHaveLength(1);
    expect(await logRow(key)).toMatchObject({ status: 200 });
  });

  it('answers 409 JM_REQUEST_IN_PROGRESS while a first attempt is pending, and takes over a stale one', async () => {
    const w = await workflow(2);
    const url = `/workflow-runs/${w.runId}/queue`;
    const busy = newKey();
    await ctx.db.kysely
      .insertInto('request_log')
      .values({ key: busy, method: 'POST', url: `/api/v1${url}`, status: 0, body: null, created_at: Date.now() })
      .execute();
    const r = await call('POST', url, { tasks: [{ taskId: w.tasks[0] }] }, busy);
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('JM_REQUEST_IN_PROGRESS');
    expect(await count('task_instance', 'workflow_run_id', w.runId)).toBe(0);
    // A pending row an hour old was left by a server that died: the retry applies the request.
    const stale = newKey();
    await ctx.db.kysely
      .insertInto('request_log')
      .values({
        key: stale,
        method: 'POST',
        url: `/api/v1${url}`,
        status: 0,
        body: null,
        created_at: Date.now() - 3_600_000,
      })
      .execute();
    const t = await call('POST', url, { tasks: [{ taskId: w.tasks[1] }] }, stale);
    expect(t.status).toBe(200);
    expect(t.body.instances).toHaveLength(1);
    expect(await logRow(stale)).toMatchObject({ status: 200 });
  });

  it('does not store naturally idempotent routes (transitions, heartbeats), and refuses a malformed key', async () => {
    const w = await workflow(1);
    const q = await ok('POST', `/workflow-runs/${w.runId}/queue`, { tasks: [{ taskId: w.tasks[0] }] });
    const key = newKey();
    await ok(
      'POST',
      '/task-instances/transitions',
      { items: [{ id: q.instances[0].instanceId, to: 'INSTANTIATED' }] },
      key,
    );
    await ok('POST', `/workflow-runs/${w.runId}/heartbeat`, { status: 'RUNNING' }, key);
    expect(await logRow(key)).toBeUndefined();
    const bad = await call('POST', '/tools', { name: 'x' }, 'k'.repeat(201));
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('Idempotency-Key');
  });

  it('prunes rows older than a day', async () => {
    const old = newKey();
    await ctx.db.kysely
      .insertInto('request_log')
      .values({
        key: old,
        method: 'POST',
        url: '/api/v1/tools',
        status: 200,
        body: '{}',
        created_at: Date.now() - 25 * 3_600_000,
      })
      .execute();
    const fresh = await buildApp({ db: ctx.db });
    try {
      const r = await call('POST', '/tools', { name: `idem_prune_${++seq}` }, newKey(), fresh);
      expect(r.status).toBe(200);
    } finally {
      await fresh.close(); // waits for the prune the first keyed request started
    }
    expect(await logRow(old)).toBeUndefined();
  });

  it('through a proxy that loses the first answer, the Requester’s retry gets the original answer and one set of rows', async () => {
    const w = await workflow(4);
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const upstream = ctx.app.server.address() as AddressInfo;
    const seen: { url: string; key: string | undefined }[] = [];
    let dropped = 0;
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', key: req.headers['idempotency-key'] as string | undefined });
        const up = http.request(
          { host: '127.0.0.1', port: upstream.port, path: req.url, method: req.method, headers: req.headers },
          (ur) => {
            const body: Buffer[] = [];
            ur.on('data', (c: Buffer) => body.push(c));
            ur.on('end', () => {
              // The server has answered (and committed): the first queue answer never reaches the client.
              if (req.url?.endsWith('/queue') && dropped === 0) {
                dropped++;
                req.socket.destroy();
                return;
              }
              res.writeHead(ur.statusCode ?? 502, ur.headers).end(Buffer.concat(body));
            });
          },
        );
        up.on('error', () => res.destroy());
        up.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const r = new Requester(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, {
        backoffMs: 1,
        maxBackoffMs: 2,
        timeoutMs: 10_000,
      });
      const answer = await r.post<QueueResponseT>(`/workflow-runs/${w.runId}/queue`, {
        tasks: w.tasks.map((taskId) => ({ taskId })),
      });
      expect(dropped).toBe(1);
      const attempts = seen.filter((s) => s.url.endsWith('/queue'));
      expect(attempts).toHaveLength(2);
      expect(attempts[0]!.key).toBeDefined();
      expect(attempts[1]!.key).toBe(attempts[0]!.key);
      expect(answer.skipped).toEqual([]);
      expect(answer.instances.map((i) => i.taskId).sort()).toEqual([...w.tasks].sort());
      const rows = await ctx.db.kysely
        .selectFrom('task_instance')
        .select(['id', 'task_id'])
        .where('workflow_run_id', '=', w.runId)
        .execute();
      expect(rows).toHaveLength(4);
      expect(answer.instances.map((i) => i.instanceId).sort()).toEqual(rows.map((x) => x.id).sort());
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
