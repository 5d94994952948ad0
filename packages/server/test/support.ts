// Shared helpers for the API-lane tests: inject requests into a built app, snapshot every table,
// and bind or start small workflows through the real routes.

import { sql } from 'kysely';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { afterAll, beforeAll } from 'vitest';
import { ROUTES, type RouteSpec } from '@jobmon/core';
import { buildApp, openDb, type Db, type JobmonApp } from '@jobmon/server';
import { createTestDb, type TestDb } from '../../../test-support/db.js';

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export const TABLES = [
  'tool',
  'tool_version',
  'task_template',
  'task_template_version',
  'node',
  'node_arg',
  'dag',
  'edge',
  'workflow',
  'workflow_attribute',
  'template_concurrency',
  'cluster',
  'queue',
  'task',
  'task_arg',
  'task_attribute',
  'workflow_run',
  'task_instance',
  'task_instance_error',
  'event',
] as const;

// Padded with '-', not a digit: 'node1_1' and 'node1_10' must stay distinct.
export const hash = (s: string) => `${s}`.padEnd(16, '-');

export interface Bound {
  toolVersionId: number;
  versionId: number;
  workflowId: number;
  runId: number;
  dagId: number;
  /** task ids in declaration order */
  tasks: number[];
  nodes: number[];
  /** The PUT /workflow-runs/:id/tasks body, for binding again under a new run (resume). */
  taskBody: unknown[];
}

let seq = 0;

// Every 2xx answer a test receives through call() is checked against its route's response schema
// in core's ROUTES: a missing or mistyped field, or a field the schema does not declare, fails the
// test that got it.
const ROUTE_CHECKS = (Object.values(ROUTES) as RouteSpec[]).map((spec) => ({
  spec,
  re: new RegExp(`^${spec.path.replace(/:[A-Za-z0-9_]+/g, '[^/]+')}$`),
  check: TypeCompiler.Compile(spec.response) as TypeCheck<TSchema>,
}));

/** Throw unless `body` is what the route of (method, url) declares it answers with 200. */
export function checkResponse(method: string, url: string, body: unknown): void {
  const path = url.split('?')[0]!;
  const route = ROUTE_CHECKS.find((r) => r.spec.method === method && r.re.test(path));
  if (!route) throw new Error(`${method} ${url}: no route of ROUTES matches`);
  if (route.spec.path === '/openapi.json') return;
  if (!route.check.Check(body)) {
    const e = route.check.Errors(body).First();
    throw new Error(
      `${method} ${url}: the answer does not match its schema at ${e?.path || '/'}: ${e?.message} (${JSON.stringify(e?.value)?.slice(0, 200)})`,
    );
  }
  // Value.Clean drops what the schema does not declare: an answer it changes had undeclared fields.
  const cleaned = Value.Clean(route.spec.response, structuredClone(body));
  if (JSON.stringify(cleaned) !== JSON.stringify(body)) {
    throw new Error(
      `${method} ${url}: the answer has fields its schema does not declare: ${JSON.stringify(body).slice(0, 300)}`,
    );
  }
}

/**
 * A fresh test database (SQLite file or PostgreSQL, per JOBMON_TEST_DB) and an app over it for
 * one test file: made before its tests, dropped after. Read `app` and `db` inside tests.
 */
export function testApp(label: string): { readonly app: JobmonApp; readonly db: Db } {
  let tdb: TestDb | undefined;
  let db: Db | undefined;
  let app: JobmonApp | undefined;
  beforeAll(async () => {
    tdb = await createTestDb(label);
    db = await openDb(tdb.target);
    app = await buildApp({ db });
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
    await tdb?.drop();
  });
  return {
    get app() {
      return app!;
    },
    get db() {
      return db!;
    },
  };
}

/** Helpers bound to an app and its database (read lazily: both are created in beforeAll). */
export function apiHelpers(ctx: () => { app: JobmonApp; db: Db }) {
  const app = { inject: (...a: Parameters<JobmonApp['inject']>) => ctx().app.inject(...a) };
  const db = {
    get kysely() {
      return ctx().db.kysely;
    },
  };
  async function call(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, raw = false): Promise<Reply> {
    const res = await app.inject({
      method,
      url: `/api/v1${url}`,
      ...(payload === undefined
        ? {}
        : raw
          ? { payload: payload as string, headers: { 'content-type': 'application/json' } }
          : { payload: payload as object }),
    });
    const body = res.body ? JSON.parse(res.body) : undefined;
    if (res.statusCode >= 200 && res.statusCode < 300) checkResponse(method, url, body);
    return { status: res.statusCode, body };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function ok(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown): Promise<any> {
    const r = await call(method, url, payload);
    if (r.status !== 200) throw new Error(`${method} ${url} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Every row of every table, order-independent: the "nothing changed" witness. */
  async function snapshot(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const t of TABLES) {
      const rows = await sql<Record<string, unknown>>`select * from ${sql.table(t)}`.execute(db.kysely);
      out[t] = rows.rows.map((r) => JSON.stringify(r, Object.keys(r).sort())).sort();
    }
    return out;
  }

  /** Declare and bind a workflow of `n` tasks (task i depends on task i-1 when `chain`), run LINKING→BOUND. */
  async function bindWorkflow(
    n: number,
    opts: { chain?: boolean; maxAttempts?: number; bound?: boolean } = {},
  ): Promise<Bound> {
    const k = ++seq;
    const tool = await ok('POST', '/tools', { name: `api_tool_${k}` });
    const { templates } = await ok('POST', '/task-templates', {
      toolVersionId: tool.toolVersionId,
      templates: [{ name: 'step', commandTemplate: 'echo {i}', nodeArgs: ['i'], taskArgs: [], opArgs: [] }],
    });
    const wf = await ok('POST', '/workflows', {
      toolVersionId: tool.toolVersionId,
      argsHash: hash(`args${k}`),
      taskHash: hash(`tasks${k}`),
      dagHash: hash(`dag${k}`),
      workflowArgs: { k },
      taskCount: n,
      name: `wf ${k}`,
      description: '',
    });
    const run = await ok('POST', `/workflows/${wf.workflowId}/runs`, {
      user: 'tester',
      host: 'here',
      pid: process.pid,
      jobmonVersion: '0.1.0',
    });
    const body = Array.from({ length: n }, (_, i) => ({
      nodeHash: hash(`node${k}_${i}`),
      taskArgsHash: hash('noargs'),
      templateVersionId: templates[0].versionId,
      nodeArgs: { i },
      taskArgs: {},
      name: `step_${i}`,
      command: `echo ${i}`,
      maxAttempts: opts.maxAttempts ?? 3,
      cluster: 'local',
    }));
    const bound = await ok('PUT', `/workflow-runs/${run.runId}/tasks`, { tasks: body });
    const nodes = bound.tasks.map((r: unknown[]) => r[0] as number);
    if (opts.chain && n > 1) {
      await ok('POST', `/workflow-runs/${run.runId}/edges`, {
        edges: nodes.slice(1).map((d: number, i: number) => [nodes[i], d]),
      });
    }
    if (opts.bound !== false) await ok('PUT', `/workflow-runs/${run.runId}/status`, { status: 'BOUND', taskCount: n });
    return {
      toolVersionId: tool.toolVersionId,
      versionId: templates[0].versionId,
      workflowId: wf.workflowId,
      runId: run.runId,
      dagId: wf.dagId,
      tasks: bound.tasks.map((r: unknown[]) => r[1] as number),
      nodes,
      taskBody: body,
    };
  }

  /** Bind and move the run on to RUNNING; nothing queued yet. */
  async function startedWorkflow(n: number, opts: { maxAttempts?: number } = {}): Promise<Bound> {
    const b = await bindWorkflow(n, opts);
    for (const s of ['INSTANTIATED', 'LAUNCHED', 'RUNNING'])
      await ok('PUT', `/workflow-runs/${b.runId}/status`, { status: s });
    return b;
  }

  /** Bind, move the run to RUNNING and queue every task; returns instance ids by task order. */
  async function runningWorkflow(
    n: number,
    opts: { maxAttempts?: number } = {},
  ): Promise<Bound & { instances: number[] }> {
    const b = await startedWorkflow(n, opts);
    const q = await ok('POST', `/workflow-runs/${b.runId}/queue`, { tasks: b.tasks.map((taskId) => ({ taskId })) });
    const byTask = new Map<number, number>(
      q.instances.map((i: { taskId: number; instanceId: number }) => [i.taskId, i.instanceId]),
    );
    return { ...b, instances: b.tasks.map((t) => byTask.get(t)!) };
  }

  async function taskRow(id: number) {
    return db.kysely
      .selectFrom('task')
      .select(['status', 'num_attempts', 'infra_failures'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  }
  return {
    call,
    ok,
    snapshot,
    bindWorkflow,
    startedWorkflow,
    runningWorkflow,
    taskRow,
    get seq() {
      return seq;
    },
  };
}
