// The cost of the task writes of a workflow of N tasks, in-process (Fastify inject, no network) on
// SQLite and on PostgreSQL: the bind (PUT tasks), the queueing, one batch of N → RUNNING and one
// of N RUNNING → DONE transitions (the shape a distributor sends when many tasks end together),
// and N RUNNING → DONE reports sent one item each, 10 at a time (workers reporting at once, which
// contend for the same rows). Prints the median of each per database.
// Run after `npm run build`: `node bench/transitions.mjs`. Env: BENCH_N (default 2000),
// BENCH_REPS (default 5), BENCH_PG_URL (admin URL, default postgres://postgres@127.0.0.1:5432/test;
// BENCH_PG_URL=none skips PostgreSQL).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildApp, openDb } from '../packages/server/dist/index.js';

const N = Number(process.env.BENCH_N ?? 2000);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const PG_ADMIN = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function withDb(kind, fn) {
  const dir = mkdtempSync(join(tmpdir(), 'jobmon-bench-tr-'));
  let target = join(dir, 'jobmon.db');
  let name;
  if (kind === 'postgres') {
    name = `jobmon_bench_tr_${process.pid}_${Date.now().toString(36)}`;
    const a = new pg.Client({ connectionString: PG_ADMIN });
    await a.connect();
    await a.query(`create database ${name}`);
    await a.end();
    const u = new URL(PG_ADMIN);
    u.pathname = `/${name}`;
    target = u.toString();
  }
  const db = await openDb(target);
  const app = await buildApp({ db, logger: process.env.BENCH_LOG === '1' });
  try {
    return await fn(app);
  } finally {
    await app.close();
    await db.close();
    if (name) {
      const a = new pg.Client({ connectionString: PG_ADMIN });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

let seq = 0;
async function ok(app, method, url, payload) {
  const res = await app.inject({ method, url: `/api/v1${url}`, ...(payload === undefined ? {} : { payload }) });
  if (res.statusCode !== 200) throw new Error(`${method} ${url} → ${res.statusCode} ${res.body}`);
  return JSON.parse(res.body);
}

/** N running instances of a fresh workflow; `t` collects the time of each write step. */
async function running(app, t) {
  const k = ++seq;
  const h = (s) => s.padEnd(16, '0');
  const tool = await ok(app, 'POST', '/tools', { name: `bench_tool_${k}` });
  const { templates } = await ok(app, 'POST', '/task-templates', {
    toolVersionId: tool.toolVersionId,
    templates: [{ name: 'step', commandTemplate: 'echo {i}', nodeArgs: ['i'], taskArgs: [], opArgs: [] }],
  });
  const wf = await ok(app, 'POST', '/workflows', {
    toolVersionId: tool.toolVersionId,
    argsHash: h(`a${k}`),
    taskHash: h(`t${k}`),
    dagHash: h(`d${k}`),
    workflowArgs: { k },
    taskCount: N,
    name: `bench ${k}`,
    description: '',
  });
  const run = await ok(app, 'POST', `/workflows/${wf.workflowId}/runs`, {
    user: 'b',
    host: 'h',
    pid: process.pid,
    jobmonVersion: '0.1.0',
  });
  const tasks = Array.from({ length: N }, (_, i) => ({
    nodeHash: h(`n${k}x${i}x`),
    taskArgsHash: h('x'),
    templateVersionId: templates[0].versionId,
    nodeArgs: { i },
    taskArgs: {},
    name: `step_${i}`,
    command: `echo ${i}`,
    maxAttempts: 3,
    cluster: 'local',
  }));
  let t0 = performance.now();
  const bound = await ok(app, 'PUT', `/workflow-runs/${run.runId}/tasks`, { tasks });
  t.bind.push(performance.now() - t0);
  for (const status of ['BOUND', 'INSTANTIATED', 'LAUNCHED', 'RUNNING'])
    await ok(app, 'PUT', `/workflow-runs/${run.runId}/status`, { status, taskCount: N });
  t0 = performance.now();
  const q = await ok(app, 'POST', `/workflow-runs/${run.runId}/queue`, {
    tasks: bound.tasks.map((r) => ({ taskId: r[1] })),
  });
  t.queue.push(performance.now() - t0);
  const ids = q.instances.map((i) => i.instanceId);
  t0 = performance.now();
  await ok(app, 'POST', '/task-instances/transitions', {
    items: ids.map((id) => ({ id, to: 'RUNNING', via: ['INSTANTIATED', 'LAUNCHED'] })),
  });
  t.running.push(performance.now() - t0);
  return ids;
}

const applied = (res) => {
  if (res.results.some((x) => x.outcome !== 'applied')) throw new Error('not every item applied');
};

for (const kind of PG_ADMIN === 'none' ? ['sqlite'] : ['sqlite', 'postgres']) {
  const t = await withDb(kind, async (app) => {
    const t = { bind: [], queue: [], running: [], done: [], singles: [] };
    for (let r = 0; r < REPS; r++) {
      let ids = await running(app, t);
      let t0 = performance.now();
      applied(
        await ok(app, 'POST', '/task-instances/transitions', {
          items: ids.map((id) => ({ id, to: 'DONE', exitCode: 0, wallTimeMs: 5 })),
        }),
      );
      t.done.push(performance.now() - t0);
      ids = await running(app, { bind: [], queue: [], running: [] });
      t0 = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < ids.length) {
          const id = ids[next++];
          applied(await ok(app, 'POST', '/task-instances/transitions', { items: [{ id, to: 'DONE', wallTimeMs: 5 }] }));
        }
      };
      await Promise.all(Array.from({ length: 10 }, worker));
      t.singles.push(performance.now() - t0);
    }
    return t;
  });
  const f = (xs) => `${median(xs).toFixed(0)} ms (${xs.map((x) => x.toFixed(0)).join(', ')})`;
  console.log(`${kind}: N=${N}, median of ${REPS}
  bind ${N} tasks:                     ${f(t.bind)}
  queue ${N}:                          ${f(t.queue)}
  ${N} → RUNNING, one batch:           ${f(t.running)}
  ${N} → DONE, one batch:              ${f(t.done)}
  ${N} → DONE, single items, 10 at once: ${f(t.singles)}`);
}
