// End to end on a real server (SQLite, or PostgreSQL with JOBMON_TEST_DB=postgres): real
// processes run real commands; assertions read the server's state and the commands' own traces.

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import {
  Tool,
  connect,
  CycleError,
  DuplicateTaskError,
  ServerUnreachableError,
  TemplateArgumentError,
  UnknownClusterError,
  InvalidResourcesError,
  WorkflowConflictError,
  type Connection,
  type InstanceDetailT,
  type EventT,
} from '@jobmon/client';
import { createTestDb, type TestDb } from '../../../test-support/db.js';

let db: TestDb;
let server: RunningServer;
let conn: Connection;
let seq = 0;

beforeAll(async () => {
  db = await createTestDb('e2e');
  server = await startServer({ db: db.target });
  conn = await connect({ url: server.url, config: { logDir: join(db.dir, 'logs') } });
});

afterAll(async () => {
  await conn?.close();
  await server?.close();
  await db?.drop();
});

/** A fresh tool per test keeps workflows apart. */
function tool(): Tool {
  return new Tool(`e2e_tool_${++seq}`);
}

function shellTemplate(t: Tool, name = 'sh') {
  return t.getTaskTemplate({ name, commandTemplate: '{cmd}', nodeArgs: ['key'], opArgs: ['cmd'] });
}

async function instancesOf(taskId: number): Promise<InstanceDetailT[]> {
  return (await conn.requester.get<{ instances: InstanceDetailT[] }>(`/tasks/${taskId}/instances`)).instances;
}

async function rowCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['workflow', 'workflow_run', 'task', 'task_instance', 'event', 'node', 'dag'] as const) {
    const r = await server.db.kysely
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    out[table] = Number(r.n);
  }
  return out;
}

describe('running workflows', () => {
  it('runs one task and records its exit, output tail, wall time and node', async () => {
    const t = tool();
    const wf = t.createWorkflow({ name: 'one' });
    const task = shellTemplate(t).createTask({ key: 1, cmd: 'echo hello-from-jobmon; echo oops >&2' });
    wf.addTask(task);
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('DONE');
    expect(r.runStatus).toBe('DONE');
    expect(r.tasks).toEqual([{ name: task.name, id: task.id, status: 'DONE' }]);
    const [inst] = await instancesOf(task.id!);
    expect(inst!.status).toBe('DONE');
    expect(inst!.exitCode).toBe(0);
    expect(inst!.stdoutTail).toContain('hello-from-jobmon');
    expect(inst!.stderrTail).toContain('oops');
    expect(inst!.wallTimeMs).toBeGreaterThanOrEqual(0);
    expect(inst!.nodeName).toBeTruthy();
    expect(readFileSync(inst!.stdoutPath!, 'utf8')).toContain('hello-from-jobmon');
  });

  it('runs a linear chain in order', async () => {
    const t = tool();
    const trace = join(db.dir, `chain-${seq}.txt`);
    const tt = shellTemplate(t);
    const a = tt.createTask({ key: 'a', cmd: `echo a >> ${trace}` });
    const b = tt.createTask({ key: 'b', cmd: `echo b >> ${trace}` }, { upstream: [a] });
    const c = tt.createTask({ key: 'c', cmd: `echo c >> ${trace}` }, { upstream: [b] });
    const wf = t.createWorkflow({ name: 'chain' });
    wf.addTasks([c, a, b]);
    const r = await wf.run({ connection: conn, parallelism: 4 });
    expect(r.status).toBe('DONE');
    expect(readFileSync(trace, 'utf8')).toBe('a\nb\nc\n');
  });

  it('runs a fork/join: a → b[3] → c[3] → d', async () => {
    const t = tool();
    const trace = join(db.dir, `fork-${seq}.txt`);
    const tt = shellTemplate(t);
    const a = tt.createTask({ key: 'a', cmd: `echo a >> ${trace}` });
    const bs = [0, 1, 2].map((i) => tt.createTask({ key: `b${i}`, cmd: `echo b >> ${trace}` }, { upstream: [a] }));
    const cs = bs.map((b, i) => tt.createTask({ key: `c${i}`, cmd: `echo c >> ${trace}` }, { upstream: [b] }));
    const d = tt.createTask({ key: 'd', cmd: `echo d >> ${trace}` }, { upstream: cs });
    const wf = t.createWorkflow({ name: 'forkjoin' });
    wf.addTasks([a, ...bs, ...cs, d]);
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('DONE');
    expect(r.done).toBe(8);
    const lines = readFileSync(trace, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('a');
    expect(lines[7]).toBe('d');
    expect(lines.filter((l) => l === 'b')).toHaveLength(3);
  });

  it('a task that always fails: its downstream never runs, other branches finish, the run ends in error', async () => {
    const t = tool();
    const tt = shellTemplate(t);
    const a = tt.createTask({ key: 'a', cmd: 'true' });
    const bs = [0, 1, 2].map((i) => tt.createTask({ key: `b${i}`, cmd: 'true' }, { upstream: [a] }));
    const cs = bs.map((b, i) =>
      tt.createTask(
        { key: `c${i}`, cmd: i === 1 ? 'echo "model diverged" >&2; exit 7' : 'true' },
        { upstream: [b], maxAttempts: 2 },
      ),
    );
    const d = tt.createTask({ key: 'd', cmd: 'true' }, { upstream: cs });
    const wf = t.createWorkflow({ name: 'fails' });
    wf.addTasks([a, ...bs, ...cs, d]);
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('FAILED');
    expect(r.runStatus).toBe('ERROR');
    expect(r.done).toBe(6);
    expect(r.failed).toBe(1);
    expect(r.tasks.find((x) => x.name === d.name)!.status).toBe('NOT_RUN');
    expect(r.tasks.find((x) => x.name === cs[1]!.name)!.status).toBe('ERROR_FATAL');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.taskName).toBe(cs[1]!.name);
    expect(r.errors[0]!.errorClass).toBe('application');
    expect(r.errors[0]!.exitCode).toBe(7);
    expect(r.errors[0]!.message).toContain('model diverged');
    expect(await instancesOf(cs[1]!.id!)).toHaveLength(2);
    expect(await instancesOf(d.id!)).toHaveLength(0);
  });

  it('a task that fails once succeeds on retry', async () => {
    const t = tool();
    const mark = join(db.dir, `mark-${seq}`);
    const task = shellTemplate(t).createTask({ key: 'flaky', cmd: `test -f ${mark} || { touch ${mark}; exit 1; }` });
    const wf = t.createWorkflow({ name: 'flaky' });
    wf.addTask(task);
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('DONE');
    const inst = await instancesOf(task.id!);
    expect(inst.map((i) => i.status)).toEqual(['ERROR', 'DONE']);
    expect(inst[0]!.errorClass).toBe('application');
  });

  it('resume after a failed run finishes only what was left', async () => {
    const build = (flag: string) => {
      const t = new Tool('e2e_resume_tool');
      const tt = shellTemplate(t);
      const prep = tt.createTask({ key: 'prep', cmd: 'true' });
      const locs = [0, 1, 2, 3].map((i) =>
        tt.createTask(
          { key: `loc${i}`, cmd: i === 2 ? `test -f ${flag}` : 'true' },
          { upstream: [prep], maxAttempts: 1 },
        ),
      );
      const sum = tt.createTask({ key: 'sum', cmd: 'true' }, { upstream: locs });
      const wf = t.createWorkflow({ name: 'resumable', workflowArgs: { case: 'resume' } });
      wf.addTasks([prep, ...locs, sum]);
      return { wf, prep, locs, sum };
    };
    const flag = join(db.dir, 'resume-flag');
    const first = build(flag);
    const r1 = await first.wf.run({ connection: conn });
    expect(r1.status).toBe('FAILED');
    expect(r1.done).toBe(4);
    expect(r1.errors.map((e) => e.taskName)).toEqual([first.locs[2]!.name]);

    writeFileSync(flag, 'fixed');
    const second = build(flag);
    const r2 = await second.wf.run({ connection: conn });
    expect(r2.workflowId).toBe(r1.workflowId);
    expect(r2.resumed).toBe(true);
    expect(r2.status).toBe('DONE');
    // DONE tasks did not run again; the failed task and its downstream ran once more.
    expect(await instancesOf(second.prep.id!)).toHaveLength(1);
    for (const i of [0, 1, 3]) expect(await instancesOf(second.locs[i]!.id!)).toHaveLength(1);
    expect((await instancesOf(second.locs[2]!.id!)).map((i) => i.status)).toEqual(['ERROR', 'DONE']);
    expect(await instancesOf(second.sum.id!)).toHaveLength(1);

    const third = build(flag);
    const r3 = await third.wf.run({ connection: conn });
    expect(r3.alreadyDone).toBe(true);
    expect(r3.runId).toBeNull();
  });

  it('holds the workflow concurrency limit at every moment', async () => {
    const t = tool();
    const trace = join(db.dir, `conc-${seq}.txt`);
    const tt = shellTemplate(t);
    const cmd = `echo "s $(date +%s%N)" >> ${trace}; sleep 0.3; echo "e $(date +%s%N)" >> ${trace}`;
    const tasks = Array.from({ length: 8 }, (_, i) => tt.createTask({ key: i, cmd }));
    const wf = t.createWorkflow({ name: 'limited', maxConcurrentlyRunning: 2 });
    wf.addTasks(tasks);
    const r = await wf.run({ connection: conn, parallelism: 6 });
    expect(r.status).toBe('DONE');
    expect(maxConcurrent(trace)).toBe(2);
  });

  it('holds a per-template concurrency limit while other templates run freely', async () => {
    const t = tool();
    const traceA = join(db.dir, `concA-${seq}.txt`);
    const traceB = join(db.dir, `concB-${seq}.txt`);
    const cmd = (f: string) => `echo "s $(date +%s%N)" >> ${f}; sleep 0.3; echo "e $(date +%s%N)" >> ${f}`;
    const a = shellTemplate(t, 'limited_one');
    const b = shellTemplate(t, 'free_one');
    const wf = t.createWorkflow({ name: 'template-limited' });
    wf.addTasks(Array.from({ length: 4 }, (_, i) => a.createTask({ key: i, cmd: cmd(traceA) })));
    wf.addTasks(Array.from({ length: 4 }, (_, i) => b.createTask({ key: i, cmd: cmd(traceB) })));
    wf.setTemplateConcurrency('limited_one', 1);
    const r = await wf.run({ connection: conn, parallelism: 6 });
    expect(r.status).toBe('DONE');
    expect(maxConcurrent(traceA)).toBe(1);
    expect(maxConcurrent(traceB)).toBeGreaterThan(1);
  });

  it('runs one task at a time on the sequential cluster', async () => {
    const t = tool();
    const trace = join(db.dir, `seq-${seq}.txt`);
    const tt = shellTemplate(t);
    const cmd = `echo "s $(date +%s%N)" >> ${trace}; sleep 0.1; echo "e $(date +%s%N)" >> ${trace}`;
    const wf = t.createWorkflow({ name: 'sequential', defaultCluster: 'sequential' });
    wf.addTasks(Array.from({ length: 4 }, (_, i) => tt.createTask({ key: i, cmd })));
    const r = await wf.run({ connection: conn, parallelism: 4 });
    expect(r.status).toBe('DONE');
    expect(maxConcurrent(trace)).toBe(1);
  });

  it('runs one DAG across two clusters, each task on its own', async () => {
    const t = tool();
    const tt = shellTemplate(t);
    const a = tt.createTask({ key: 'a', cmd: 'echo $JOBMON_CLUSTER' }, { cluster: 'sequential' });
    const b = tt.createTask({ key: 'b', cmd: 'echo $JOBMON_CLUSTER' }, { upstream: [a], cluster: 'local' });
    const wf = t.createWorkflow({ name: 'two-clusters' });
    wf.addTasks([a, b]);
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('DONE');
    expect((await instancesOf(a.id!))[0]!.stdoutTail).toBe('sequential\n');
    expect((await instancesOf(b.id!))[0]!.stdoutTail).toBe('local\n');
  });

  it('a stop kills running commands, ends the run STOPPED, and a rerun resumes', async () => {
    const build = (cmd: string) => {
      const t = new Tool('e2e_stop_tool');
      const tt = shellTemplate(t);
      const a = tt.createTask({ key: 'a', cmd: 'true' });
      const bs = [1, 2].map((i) => tt.createTask({ key: `b${i}`, cmd }, { upstream: [a] }));
      const wf = t.createWorkflow({ name: 'stoppable' });
      wf.addTasks([a, ...bs]);
      return { wf, a, bs };
    };
    const marker = `jobmon-stop-test-${process.pid}`;
    const first = build(`sleep 30 # ${marker}`);
    const ac = new AbortController();
    const running = first.wf.run({
      connection: conn,
      signal: ac.signal,
      handleSignals: false,
      onProgress: (p) => {
        if (p.running === 2) ac.abort();
      },
    });
    const r1 = await running;
    expect(r1.runStatus).toBe('STOPPED');
    // Stopped, not failed: the workflow is HALTED (resumable), the killed tasks wait for a resume.
    expect(r1.status).toBe('HALTED');
    expect(r1).toMatchObject({ done: 1, failed: 0, notRun: 2, stopped: 2, errors: [] });
    const killed = await instancesOf(first.bs[0]!.id!);
    expect(killed[0]!.status).toBe('ERROR_FATAL');
    expect(killed[0]!.errorClass).toBe('killed');
    const detail = await conn.requester.get<{ status: string; counts: Record<string, number> }>(
      `/workflows/${r1.workflowId}`,
    );
    expect(detail.status).toBe('HALTED');
    expect(detail.counts).toEqual({ DONE: 1, REGISTERING: 2 });
    const { execSync } = await import('node:child_process');
    expect(execSync(`pgrep -f "[s]leep 30 # ${marker}" || true`).toString().trim()).toBe('');

    const second = build('true');
    const r2 = await second.wf.run({ connection: conn });
    expect(r2.status).toBe('DONE');
    expect(await instancesOf(second.a.id!)).toHaveLength(1);
    expect(await instancesOf(second.bs[0]!.id!)).toHaveLength(2);
  });

  it('counts each task in one place: never more running than the parallelism, launched and queued apart', async () => {
    const t = tool();
    const tt = shellTemplate(t);
    const wf = t.createWorkflow({ name: 'progress-counts' });
    wf.addTasks(Array.from({ length: 30 }, (_, i) => tt.createTask({ key: i, cmd: 'sleep 0.05' })));
    const seen: { running: number; launched: number; sum: number }[] = [];
    const r = await wf.run({
      connection: conn,
      parallelism: 2,
      onProgress: (p) =>
        seen.push({
          running: p.running,
          launched: p.launched,
          sum: p.done + p.failed + p.running + p.launched + p.queued + p.pending - p.total,
        }),
    });
    expect(r.status).toBe('DONE');
    expect(seen.length).toBeGreaterThan(3);
    expect(Math.max(...seen.map((x) => x.running))).toBeLessThanOrEqual(2);
    expect(Math.max(...seen.map((x) => x.running))).toBeGreaterThan(0);
    expect(seen.every((x) => x.sum === 0)).toBe(true);
  });

  it('keeps the logs of two databases apart, even for the same workflow id, and never truncates one', async () => {
    // Two fresh databases: each numbers its first workflow 1.
    const dbs = [await createTestDb('e2e-logs-a'), await createTestDb('e2e-logs-b')];
    const servers = [await startServer({ db: dbs[0]!.target }), await startServer({ db: dbs[1]!.target })];
    const logRoot = join(db.dir, 'shared-logs');
    const conns = [
      await connect({ url: servers[0]!.url, config: { logDir: logRoot } }),
      await connect({ url: servers[1]!.url, config: { logDir: logRoot } }),
    ];
    try {
      const results = [];
      for (const [k, c] of conns.entries()) {
        const t = new Tool('e2e_logs_apart');
        const wf = t.createWorkflow({ name: `logs-apart-${seq}` });
        const task = shellTemplate(t).createTask({ key: 'x', cmd: `echo from-database-${k}` });
        wf.addTask(task);
        const r = await wf.run({ connection: c });
        expect(r.status).toBe('DONE');
        const [inst] = (await c.requester.get<{ instances: InstanceDetailT[] }>(`/tasks/${task.id}/instances`))
          .instances;
        expect(r.workflowId).toBe(1);
        results.push({ logDir: r.logDir!, out: inst!.stdoutPath! });
      }
      expect(results[0]!.logDir).not.toBe(results[1]!.logDir);
      expect(results[0]!.out).not.toBe(results[1]!.out);
      expect(readFileSync(results[0]!.out, 'utf8')).toBe('from-database-0\n');
      expect(readFileSync(results[1]!.out, 'utf8')).toBe('from-database-1\n');
    } finally {
      for (const c of conns) await c.close();
      for (const x of servers) await x.close();
      for (const d of dbs) await d.drop();
    }
  });

  it("a NUL byte in a task's output loses nothing: both tasks finish and the tail is stored safely", async () => {
    const t = tool();
    const tt = shellTemplate(t);
    const nul = tt.createTask({ key: 'nul', cmd: "printf 'hello\\000world\\n'; printf 'e\\000rr\\n' >&2" });
    const plain = tt.createTask({ key: 'plain', cmd: 'echo plain' });
    const wf = t.createWorkflow({ name: 'nul-output' });
    wf.addTasks([nul, plain]);
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('DONE');
    const [inst] = await instancesOf(nul.id!);
    expect(inst!.stdoutTail).toMatch(/^hello.world\n$/);
    expect(inst!.stdoutTail).not.toContain('\u0000');
    expect((await instancesOf(plain.id!))[0]!.stdoutTail).toBe('plain\n');
  });

  it('heartbeats its run while it works', async () => {
    const fast = await connect({ url: server.url, config: { logDir: join(db.dir, 'logs'), runHeartbeatMs: 50 } });
    try {
      const t = tool();
      const wf = t.createWorkflow({ name: 'heartbeat' });
      wf.addTask(shellTemplate(t).createTask({ key: 1, cmd: 'sleep 0.5' }));
      const r = await wf.run({ connection: fast });
      expect(r.status).toBe('DONE');
      const run = await server.db.kysely
        .selectFrom('workflow_run')
        .selectAll()
        .where('id', '=', r.runId!)
        .executeTakeFirstOrThrow();
      // Heartbeats moved heartbeat_at past the run's creation and kept its deadline ahead of it.
      expect(run.heartbeat_at - run.created_at).toBeGreaterThanOrEqual(200);
      expect(run.report_by).toBeGreaterThan(run.heartbeat_at);
    } finally {
      await fast.close();
    }
  });

  it('follows a finished task with its dependents within milliseconds (event driven)', async () => {
    const t = tool();
    const tt = shellTemplate(t);
    // A chain: every edge is one "upstream DONE → dependent launched" step to time.
    const chain = [tt.createTask({ key: 'c0', cmd: 'true' })];
    for (let k = 1; k < 6; k++) chain.push(tt.createTask({ key: `c${k}`, cmd: 'true' }, { upstream: [chain[k - 1]!] }));
    const wf = t.createWorkflow({ name: 'latency' });
    wf.addTasks(chain);
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('DONE');
    const events = await conn.requester.get<{ events: EventT[] }>(
      `/events?workflowId=${r.workflowId}&entity=task_instance`,
    );
    const at = (id: number, to: string) => events.events.find((e) => e.entityId === id && e.to === to)!.at;
    const insts = await Promise.all(chain.map(async (c) => (await instancesOf(c.id!))[0]!));
    // Per edge: the upstream instance's DONE (the server's clock) to the dependent's launch.
    const lag = insts.slice(1).map((d, k) => at(d.id, 'LAUNCHED') - at(insts[k]!.id, 'DONE'));
    const sorted = [...lag].sort((a, b) => a - b);
    console.log(`[e2e] dependent launched after its upstream's DONE: ${lag.join(', ')} ms`);
    // Event driven, a step takes a few to some tens of milliseconds; any poll period or delay in
    // the path (700 ms, say) puts every step above the bound, a loaded machine only some.
    expect(sorted[Math.floor(sorted.length / 2)], `per-edge lags ${lag.join(', ')} ms`).toBeLessThan(350);
  });
});

describe('retry budgets', () => {
  it('take the task, then template, then workflow, then tool setting; defaults 3 attempts and 5 infrastructure failures', async () => {
    const t = tool();
    t.setDefaultMaxAttempts(6).setDefaultMaxInfraFailures(7);
    const plain = t.getTaskTemplate({ name: 'plain', commandTemplate: '{cmd}', nodeArgs: ['key'], opArgs: ['cmd'] });
    const strict = t.getTaskTemplate({
      name: 'strict',
      commandTemplate: '{cmd}',
      nodeArgs: ['key'],
      opArgs: ['cmd'],
      maxAttempts: 2,
      maxInfraFailures: 3,
    });
    const wf = t.createWorkflow({ name: 'budgets', maxInfraFailures: 9 });
    const a = plain.createTask({ key: 'a', cmd: 'true' });
    const b = strict.createTask({ key: 'b', cmd: 'true' });
    const c = strict.createTask({ key: 'c', cmd: 'true' }, { maxAttempts: 4, maxInfraFailures: 8 });
    wf.addTasks([a, b, c]);
    await wf.bind(conn);
    const rows = await server.db.kysely
      .selectFrom('task')
      .select(['id', 'max_attempts', 'max_infra_failures'])
      .where('id', 'in', [a.id!, b.id!, c.id!])
      .execute();
    const byId = new Map(rows.map((r) => [r.id, [r.max_attempts, r.max_infra_failures]]));
    expect(byId.get(a.id!)).toEqual([6, 9]); // tool attempts, workflow infra
    expect(byId.get(b.id!)).toEqual([2, 3]); // template
    expect(byId.get(c.id!)).toEqual([4, 8]); // task
    const t2 = tool();
    const wf2 = t2.createWorkflow({ name: 'budget-defaults' });
    const d = shellTemplate(t2).createTask({ key: 'd', cmd: 'true' });
    wf2.addTask(d);
    await wf2.bind(conn);
    const row = await server.db.kysely
      .selectFrom('task')
      .select(['max_attempts', 'max_infra_failures'])
      .where('id', '=', d.id!)
      .executeTakeFirstOrThrow();
    expect([row.max_attempts, row.max_infra_failures]).toEqual([3, 5]);
    expect(() => shellTemplate(t2, 'sh2').createTask({ key: 'e', cmd: 'true' }, { maxInfraFailures: 0 })).toThrow(
      /maxInfraFailures must be a whole number/,
    );
  });
});

describe('bad declarations change nothing', () => {
  it('names the tasks of a cycle', async () => {
    const t = tool();
    const tt = shellTemplate(t);
    const a = tt.createTask({ key: 'a', cmd: 'true' });
    const b = tt.createTask({ key: 'b', cmd: 'true' }, { upstream: [a] });
    a.addUpstream(b);
    const wf = t.createWorkflow({ name: 'cyclic' });
    wf.addTasks([a, b]);
    const before = await rowCounts();
    await expect(wf.run({ connection: conn })).rejects.toThrow(CycleError);
    await expect(wf.run({ connection: conn })).rejects.toThrow(/sh_key-a.*sh_key-b|sh_key-b.*sh_key-a/);
    expect(await rowCounts()).toEqual(before);
  });

  it('rejects a duplicate task, a missing or extra argument, an unknown cluster and invalid resources', async () => {
    const t = tool();
    const tt = shellTemplate(t);
    const before = await rowCounts();
    const dup = t.createWorkflow({ name: 'dup' });
    dup.addTasks([tt.createTask({ key: 1, cmd: 'true' }), tt.createTask({ key: 1, cmd: 'false' })]);
    await expect(dup.run({ connection: conn })).rejects.toThrow(DuplicateTaskError);

    expect(() => tt.createTask({ key: 1 })).toThrow(TemplateArgumentError);
    expect(() => tt.createTask({ key: 1 })).toThrow(/needs argument 'cmd'/);
    expect(() => tt.createTask({ key: 1, cmd: 'true', year: 2020 })).toThrow(/has no argument 'year'/);
    expect(() => t.getTaskTemplate({ name: 'bad', commandTemplate: 'run {year}', nodeArgs: ['loc'] })).toThrow(
      /\{year\}/,
    );

    const unknown = t.createWorkflow({ name: 'unknown-cluster' });
    unknown.addTask(tt.createTask({ key: 2, cmd: 'true' }, { cluster: 'no-such-cluster', name: 'needs_cluster' }));
    await expect(unknown.run({ connection: conn })).rejects.toThrow(UnknownClusterError);
    await expect(unknown.run({ connection: conn })).rejects.toThrow(/needs_cluster.*no-such-cluster/);

    const badRes = t.createWorkflow({ name: 'bad-resources' });
    badRes.addTask(tt.createTask({ key: 3, cmd: 'true' }, { computeResources: { memory: 'lots' }, name: 'hungry' }));
    await expect(badRes.run({ connection: conn })).rejects.toThrow(InvalidResourcesError);
    await expect(badRes.run({ connection: conn })).rejects.toThrow(/hungry.*memory/);
    expect(await rowCounts()).toEqual(before);
  });

  it('refuses a NUL in a task name or node arg before any write, so the corrected declaration runs', async () => {
    const t = new Tool('e2e_nul_tool');
    const tt = shellTemplate(t);
    const before = await rowCounts();
    const badName = t.createWorkflow({ name: 'nul-decl', workflowArgs: { v: 1 } });
    badName.addTasks([
      tt.createTask({ key: 'a', cmd: 'true' }),
      tt.createTask({ key: 'b', cmd: 'true' }, { name: 'b\u0000' }),
    ]);
    await expect(badName.run({ connection: conn })).rejects.toThrow(/task 'b.*': \/name must not contain NUL/);
    const badArg = t.createWorkflow({ name: 'nul-decl', workflowArgs: { v: 1 } });
    badArg.addTasks([tt.createTask({ key: 'a', cmd: 'true' }), tt.createTask({ key: 'b\u0000', cmd: 'true' })]);
    await expect(badArg.run({ connection: conn })).rejects.toThrow(/\/nodeArgs\/key must not contain NUL/);
    expect(await rowCounts()).toEqual(before);
    const fixed = t.createWorkflow({ name: 'nul-decl', workflowArgs: { v: 1 } });
    fixed.addTasks([tt.createTask({ key: 'a', cmd: 'true' }), tt.createTask({ key: 'b', cmd: 'true' })]);
    expect((await fixed.run({ connection: conn })).status).toBe('DONE');
  });

  it('refuses the same workflow args with a different task set, changing nothing', async () => {
    const t = new Tool('e2e_conflict_tool');
    const tt = shellTemplate(t);
    const wf1 = t.createWorkflow({ name: 'conflict', workflowArgs: { v: 1 } });
    wf1.addTask(tt.createTask({ key: 'x', cmd: 'true' }));
    expect((await wf1.run({ connection: conn })).status).toBe('DONE');
    const before = await rowCounts();
    const wf2 = t.createWorkflow({ name: 'conflict', workflowArgs: { v: 1 } });
    wf2.addTasks([tt.createTask({ key: 'x', cmd: 'true' }), tt.createTask({ key: 'y', cmd: 'true' })]);
    await expect(wf2.run({ connection: conn })).rejects.toThrow(WorkflowConflictError);
    await expect(wf2.run({ connection: conn })).rejects.toThrow(/different set of tasks/);
    expect(await rowCounts()).toEqual(before);
  });

  it('reports an unreachable server clearly after its retries', async () => {
    const dead = await connect({
      url: 'http://127.0.0.1:9',
      config: { http: { retries: 2, backoffMs: 10, timeoutMs: 1000, maxBackoffMs: 20 } },
    });
    const t = tool();
    const wf = t.createWorkflow({ name: 'nowhere' });
    wf.addTask(shellTemplate(t).createTask({ key: 1, cmd: 'true' }));
    const err = await wf.run({ connection: dead }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerUnreachableError);
    expect((err as Error).message).toMatch(
      /cannot reach the Jobmon server at http:\/\/127\.0\.0\.1:9.*after 3 attempts/,
    );
  });
});

/** Largest number of overlapping [s, e] intervals recorded by the commands themselves. */
function maxConcurrent(traceFile: string): number {
  expect(existsSync(traceFile)).toBe(true);
  const events = readFileSync(traceFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [kind, ns] = l.split(' ');
      return { t: BigInt(ns!), d: kind === 's' ? 1 : -1 };
    })
    .sort((x, y) => (x.t === y.t ? x.d - y.d : x.t < y.t ? -1 : 1));
  let cur = 0;
  let max = 0;
  for (const e of events) {
    cur += e.d;
    max = Math.max(max, cur);
  }
  return max;
}
