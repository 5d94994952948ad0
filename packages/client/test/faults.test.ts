// Fault injection with real processes against a real server (SQLite, or PostgreSQL with
// JOBMON_TEST_DB=postgres), on short heartbeats and a fast reaper. Each case checks that the
// workflow ends DONE (after a resume where one is needed), that no task that reached DONE ran
// again, that no process is left behind, and that the event log agrees with the final states.

import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { Tool, connect, type Connection, type EventT, type InstanceDetailT } from '@jobmon/client';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { eventLogMismatches, liveGroupMembers } from '../../../test-support/processes.js';
import { sleep, waitFor, waitForEvent } from '../../../test-support/wait.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'packages/cli/bin/jobmon.js');
const FAST = { runHeartbeatMs: 300, instanceHeartbeatMs: 200, reportByFactor: 3 };
const REAPER = { intervalMs: 200, graceMs: 2_000 };

let db: TestDb;
let server: RunningServer;
let conn: Connection;
let n = 0;

beforeAll(async () => {
  db = await createTestDb('faults');
  server = await startServer({ db: db.target, reaper: REAPER });
  conn = await connect({ url: server.url, config: { logDir: join(db.dir, 'logs'), ...FAST } });
});
afterAll(async () => {
  await conn?.close();
  await server?.close();
  await db?.drop();
});

const groupAlive = (pgid: number) => liveGroupMembers(pgid).length > 0;

async function pgrep(pattern: string): Promise<string> {
  const r = await promisify(execFile)('sh', ['-c', `pgrep -f "${pattern}" || true`]);
  return r.stdout.trim();
}

async function instancesOf(c: Connection, taskId: number): Promise<InstanceDetailT[]> {
  return (await c.requester.get<{ instances: InstanceDetailT[] }>(`/tasks/${taskId}/instances`)).instances;
}

/** The event log agrees with the final states (see test-support/processes.ts); returns the events. */
async function expectEventsAgree(c: Connection, workflowId: number): Promise<EventT[]> {
  expect(await eventLogMismatches(server.db.kysely, workflowId)).toEqual([]);
  return (await c.requester.get<{ events: EventT[] }>(`/events?workflowId=${workflowId}&limit=10000`)).events;
}

/** Environment for a `jobmon` CLI child: this suite's server and its short heartbeats. */
function cliEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    JOBMON_URL: server.url,
    JOBMON_HOME: join(db.dir, 'home'),
    JOBMON_RUN_HEARTBEAT_MS: String(FAST.runHeartbeatMs),
    JOBMON_REPORT_BY_FACTOR: String(FAST.reportByFactor),
  };
}

function shellWorkflow(name: string, cluster?: string) {
  const tool = new Tool(`faults_tool_${++n}`);
  const tt = tool.getTaskTemplate({ name: 'sh', commandTemplate: '{cmd}', nodeArgs: ['key'], opArgs: ['cmd'] });
  const wf = tool.createWorkflow({ name: `${name}_${n}`, ...(cluster ? { defaultCluster: cluster } : {}) });
  return { tool, tt, wf };
}

/** A command that, on its first attempt only, records its pid and then hangs. */
function hangOnce(tag: string): { cmd: string; pidFile: string } {
  const dir = db.dir;
  const marker = join(dir, `${tag}.attempted`);
  const pidFile = join(dir, `${tag}.pid`);
  return {
    cmd: `if [ -e ${marker} ]; then echo second-attempt; else touch ${marker}; echo $$ > ${pidFile}; exec sleep 30; fi`,
    pidFile,
  };
}

describe(`fault injection on ${TEST_DB_KIND}`, () => {
  it('kill -9 of a running command (local): an infrastructure error, retried without spending an attempt, then DONE', async () => {
    const { tt, wf } = shellWorkflow('gremlin');
    const h = hangOnce(`gremlin${n}`);
    const task = tt.createTask({ key: 'victim', cmd: h.cmd }, { maxAttempts: 1 });
    const other = tt.createTask({ key: 'bystander', cmd: 'echo fine' });
    wf.addTasks([task, other]);
    const running = wf.run({ connection: conn, handleSignals: false });
    const pid = await waitFor('the command to start', () =>
      existsSync(h.pidFile) ? Number(readFileSync(h.pidFile, 'utf8')) : undefined,
    );
    process.kill(pid, 'SIGKILL');
    const r = await running;
    expect(r.status).toBe('DONE');
    const inst = await instancesOf(conn, task.id!);
    expect(inst.map((i) => [i.status, i.errorClass])).toEqual([
      ['UNKNOWN_ERROR', 'infrastructure'],
      ['DONE', null],
    ]);
    expect(await instancesOf(conn, other.id!)).toHaveLength(1);
    expect(groupAlive(pid)).toBe(false);
    await expectEventsAgree(conn, r.workflowId);
  });

  it('an application error with maxAttempts 1 is fatal at once; its downstream never runs; other branches finish', async () => {
    const { tt, wf } = shellWorkflow('fatal');
    const root = tt.createTask({ key: 'root', cmd: 'true' });
    const bad = tt.createTask(
      { key: 'bad', cmd: 'echo "no such input" >&2; exit 4' },
      { upstream: [root], maxAttempts: 1 },
    );
    const after = tt.createTask({ key: 'after', cmd: 'true' }, { upstream: [bad] });
    const good = tt.createTask({ key: 'good', cmd: 'true' }, { upstream: [root] });
    const good2 = tt.createTask({ key: 'good2', cmd: 'true' }, { upstream: [good] });
    wf.addTasks([root, bad, after, good, good2]);
    const r = await wf.run({ connection: conn, handleSignals: false });
    expect(r.status).toBe('FAILED');
    expect(await instancesOf(conn, bad.id!)).toHaveLength(1);
    expect(await instancesOf(conn, after.id!)).toHaveLength(0);
    expect(r.tasks.find((t) => t.name === good2.name)!.status).toBe('DONE');
    expect(r.errors).toEqual([expect.objectContaining({ taskName: bad.name, errorClass: 'application', exitCode: 4 })]);
    await expectEventsAgree(conn, r.workflowId);
  });

  it('kill -9 of the worker wrapper (dummy cluster): TRIAGING, classified as gone, its command killed, retried, DONE', async () => {
    const { tt, wf } = shellWorkflow('wrapper', 'dummy');
    const h = hangOnce(`wrapper${n}`);
    const task = tt.createTask({ key: 'victim', cmd: h.cmd });
    wf.addTask(task);
    const running = wf.run({ connection: conn, handleSignals: false });
    const cmdPid = await waitFor('the command to start', () =>
      existsSync(h.pidFile) ? Number(readFileSync(h.pidFile, 'utf8')) : undefined,
    );
    const [first] = await instancesOf(conn, task.id!);
    const workerPid = Number(first!.distributorId);
    expect(workerPid).toBeGreaterThan(0);
    const killedAt = Date.now();
    process.kill(workerPid, 'SIGKILL');
    const r = await running;
    expect(r.status).toBe('DONE');
    const inst = await instancesOf(conn, task.id!);
    expect(inst.map((i) => [i.status, i.errorClass])).toEqual([
      ['UNKNOWN_ERROR', 'infrastructure'],
      ['DONE', null],
    ]);
    const events = await expectEventsAgree(conn, r.workflowId);
    const triaged = events.find((e) => e.entity === 'task_instance' && e.entityId === first!.id && e.to === 'TRIAGING');
    expect(triaged).toBeDefined();
    console.log(`[faults] killed worker detected (TRIAGING) after ${triaged!.at - killedAt} ms`);
    const errs = await server.db.kysely
      .selectFrom('task_instance_error')
      .select('message')
      .where('task_instance_id', '=', first!.id)
      .execute();
    expect(errs.map((e) => e.message).join(' ')).toContain('worker process is gone');
    expect(groupAlive(cmdPid)).toBe(false);
  });

  it('SIGSTOP a worker past its deadline, then SIGCONT: triaged as alive, a late report is not an error', async () => {
    const { tt, wf } = shellWorkflow('paused', 'dummy');
    const started = join(db.dir, `paused${n}.started`);
    const task = tt.createTask({ key: 'sleeper', cmd: `touch ${started}; sleep 1.5; echo finished` });
    wf.addTask(task);
    const running = wf.run({ connection: conn, handleSignals: false });
    await waitFor('the command to start', () => existsSync(started) || undefined);
    const [inst] = await instancesOf(conn, task.id!);
    const workerPid = Number(inst!.distributorId);
    process.kill(workerPid, 'SIGSTOP');
    try {
      await waitForEvent(
        conn.requester,
        `instance ${inst!.id} to be TRIAGING (the server noticing the silence)`,
        (e) => e.entity === 'task_instance' && e.entityId === inst!.id && e.to === 'TRIAGING',
        {
          workflowId: wf.id.value!,
          timeoutMs: 15_000,
        },
      );
      await sleep(1_500);
    } finally {
      process.kill(workerPid, 'SIGCONT');
    }
    const r = await running;
    expect(r.status).toBe('DONE');
    const all = await instancesOf(conn, task.id!);
    expect(all.map((i) => i.status)).toEqual(['DONE']);
    expect(all[0]!.stdoutTail).toBe('finished\n');
    const errs = await server.db.kysely
      .selectFrom('task_instance_error')
      .select('message')
      .where('task_instance_id', '=', inst!.id)
      .execute();
    expect(errs).toEqual([]);
    const events = await expectEventsAgree(conn, r.workflowId);
    const moves = events
      .filter((e) => e.entity === 'task_instance' && e.entityId === inst!.id)
      .map((e) => `${e.from}→${e.to}`);
    expect(moves).toContain('RUNNING→TRIAGING');
    expect(moves).toContain('TRIAGING→RUNNING');
  });

  it('kill -9 of the runner: the reaper ends its run, nothing is left running, a rerun finishes only what was left', async () => {
    const trace = join(db.dir, `runner-trace-${n}.txt`);
    const marker = `jobmon-runner-kill-${process.pid}-${n}`;
    const spec = (slow: boolean) => ({
      name: `runner_kill_${n}`,
      tasks: [
        ...['a1', 'a2', 'a3'].map((k) => ({ name: k, template: 'fast', command: `echo ${k} >> ${trace}` })),
        ...['b1', 'b2', 'b3', 'b4'].map((k) => ({
          name: k,
          template: 'slow',
          upstream: ['a1', 'a2', 'a3'],
          command: slow ? `echo ${k} >> ${trace}; sleep 30 # ${marker}` : `echo ${k} >> ${trace}`,
        })),
      ],
    });
    const file = join(db.dir, `runner-kill-${n}.json`);
    writeFileSync(file, JSON.stringify(spec(true)));
    const env = cliEnv();
    const runner = spawn(process.execPath, [CLI, 'run', file, '-p', '2', '--quiet'], { env, stdio: 'ignore' });
    await waitFor('two slow tasks to run', async () =>
      (await pgrep(`[s]leep 30 # ${marker}`)).split('\n').filter(Boolean).length === 2 ? true : undefined,
    );
    const wf = await server.db.kysely
      .selectFrom('workflow')
      .select(['id'])
      .where('name', '=', `runner_kill_${n}`)
      .executeTakeFirstOrThrow();
    const killedAt = Date.now();
    runner.kill('SIGKILL');
    // The runner's launchers see their pipe close and kill what they started.
    await waitFor(
      'orphaned commands to be killed',
      async () => ((await pgrep(`[s]leep 30 # ${marker}`)) === '' ? true : undefined),
      10_000,
    );
    const ended = await waitForEvent(
      conn.requester,
      'the reaper to end the run (ERROR)',
      (e) => e.entity === 'workflow_run' && e.to === 'ERROR',
      { workflowId: wf.id, timeoutMs: 20_000 },
    );
    console.log(`[faults] killed runner detected (run ERROR) after ${ended.at - killedAt} ms`);
    const active = await server.db.kysely
      .selectFrom('task_instance')
      .select(['id', 'status'])
      .where('workflow_id', '=', wf.id)
      .where('status', 'in', ['QUEUED', 'INSTANTIATED', 'LAUNCHED', 'RUNNING', 'TRIAGING', 'KILL_SELF'])
      .execute();
    await waitFor(
      'leftover instances to be closed',
      async () => {
        const left = await server.db.kysely
          .selectFrom('task_instance')
          .select('id')
          .where('workflow_id', '=', wf.id)
          .where('status', 'in', ['QUEUED', 'INSTANTIATED', 'LAUNCHED', 'RUNNING', 'TRIAGING', 'KILL_SELF'])
          .execute();
        return left.length === 0 ? true : undefined;
      },
      10_000,
    );
    expect(active.length).toBeLessThanOrEqual(4);

    // Fix the slow commands and run the same file again: the a-tasks are not run twice.
    writeFileSync(file, JSON.stringify(spec(false)));
    const rerun = await promisify(execFile)(process.execPath, [CLI, 'run', file, '-p', '2', '--json'], { env });
    const summary = JSON.parse(rerun.stdout.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ status: 'DONE', resumed: true });
    const lines = readFileSync(trace, 'utf8').trim().split('\n');
    for (const a of ['a1', 'a2', 'a3']) expect(lines.filter((l) => l === a)).toHaveLength(1);
    for (const b of ['b1', 'b2', 'b3', 'b4']) expect(lines.filter((l) => l === b).length).toBeGreaterThanOrEqual(1);
    await expectEventsAgree(conn, wf.id);
  });

  it('kill -9 of the runner, then the same file again at once: the dead holder on this host is taken over without waiting', async () => {
    const k = ++n;
    const trace = join(db.dir, `takeover-${k}.txt`);
    const marker = `jobmon-takeover-${process.pid}-${k}`;
    const spec = (slow: boolean) => ({
      name: `takeover_${k}`,
      tasks: [
        { name: 'a', template: 'fast', command: `echo a >> ${trace}` },
        ...['b1', 'b2'].map((b) => ({
          name: b,
          template: 'slow',
          upstream: ['a'],
          command: slow ? `sleep 30 # ${marker}` : `echo ${b} >> ${trace}`,
        })),
      ],
    });
    const file = join(db.dir, `takeover-${k}.json`);
    writeFileSync(file, JSON.stringify(spec(true)));
    // The default heartbeat: the reaper would free the workflow only after 93 s.
    const env = { ...process.env, JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') };
    const runner = spawn(process.execPath, [CLI, 'run', file, '-p', '2', '--quiet'], { env, stdio: 'ignore' });
    await waitFor('the slow tasks to run', async () =>
      (await pgrep(`[s]leep 30 # ${marker}`)).split('\n').filter(Boolean).length === 2 ? true : undefined,
    );
    runner.kill('SIGKILL');
    await waitFor(
      'its launchers to kill the commands',
      async () => ((await pgrep(`[s]leep 30 # ${marker}`)) === '' ? true : undefined),
      10_000,
    );
    writeFileSync(file, JSON.stringify(spec(false)));
    const t0 = Date.now();
    const rerun = await promisify(execFile)(process.execPath, [CLI, 'run', file, '-p', '2'], { env });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(rerun.stderr).toMatch(/its process \(pid \d+ on this host\) is gone; ended it, taking over/);
    expect(rerun.stdout).toMatch(/ended DONE/);
    expect(readFileSync(trace, 'utf8').trim().split('\n').sort()).toEqual(['a', 'b1', 'b2']);
    const wf = await server.db.kysely
      .selectFrom('workflow')
      .select('id')
      .where('name', '=', `takeover_${k}`)
      .executeTakeFirstOrThrow();
    const runs = await server.db.kysely
      .selectFrom('workflow_run')
      .select(['status', 'process_start'])
      .where('workflow_id', '=', wf.id)
      .orderBy('id')
      .execute();
    expect(runs.map((r) => r.status)).toEqual(['ERROR', 'DONE']);
    expect(runs[0]!.process_start).toMatch(/^[0-9a-f-]{36}:\d+$/);
    await expectEventsAgree(conn, wf.id);
  });

  it('a run held from another host is refused with the exact command that takes it over', async () => {
    const k = ++n;
    const file = join(db.dir, `elsewhere-${k}.json`);
    writeFileSync(
      file,
      JSON.stringify({ name: `elsewhere_${k}`, tasks: [{ name: 'x', template: 'x', command: 'true' }] }),
    );
    const env = { ...process.env, JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') };
    // A live run of this workflow, held by a runner on another machine.
    const { Tool: T } = await import('@jobmon/client');
    const tool = new T('jobmon-run');
    const wfDecl = tool.createWorkflow({ name: `elsewhere_${k}`, workflowArgs: { name: `elsewhere_${k}` } });
    wfDecl.addTask(
      tool
        .getTaskTemplate({ name: 'x', commandTemplate: '{command}', nodeArgs: ['name'], opArgs: ['command'] })
        .createTask({ name: 'x', command: 'true' }, { name: 'x' }),
    );
    const bound = await wfDecl.bind(conn);
    await server.db.kysely
      .updateTable('workflow_run')
      .set({ host: 'another-host', process_start: 'other-boot:1' })
      .where('id', '=', bound.runId!)
      .execute();
    const r = await promisify(execFile)(process.execPath, [CLI, 'run', file], { env }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`held by run ${bound.runId}`);
    expect(r.stderr).toContain('on another-host');
    expect(r.stderr).toContain(`jobmon run ${file} --resume cold`);
    expect(r.stderr).toContain(`jobmon run ${file} --resume hot`);
    // Not ended: only a provably dead process on this very host is.
    const run = await server.db.kysely
      .selectFrom('workflow_run')
      .select('status')
      .where('id', '=', bound.runId!)
      .executeTakeFirstOrThrow();
    expect(run.status).toBe('BOUND');
  });

  it('triage kills only the command group its own worker announced, never a pgid taken from the API', async () => {
    const { tt, wf } = shellWorkflow('pgid', 'dummy');
    const h = hangOnce(`pgid${n}`);
    const task = tt.createTask({ key: 'victim', cmd: h.cmd });
    wf.addTask(task);
    // An unrelated process group that a hostile client will name as this instance's.
    const bystander = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    onTestFinished(() => {
      try {
        process.kill(-bystander.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    });
    const running = wf.run({ connection: conn, handleSignals: false });
    const cmdPid = await waitFor('the command to start', () =>
      existsSync(h.pidFile) ? Number(readFileSync(h.pidFile, 'utf8')) : undefined,
    );
    const [first] = await instancesOf(conn, task.id!);
    const forged = await conn.requester.post<{ outcome: string }>(`/task-instances/${first!.id}/transition`, {
      to: 'RUNNING',
      pgid: bystander.pid,
    });
    expect(forged.outcome).toBe('applied');
    process.kill(Number(first!.distributorId), 'SIGKILL');
    const r = await running;
    expect(r.status).toBe('DONE');
    expect(groupAlive(bystander.pid!)).toBe(true);
    expect(groupAlive(cmdPid)).toBe(false);
  });

  for (const mode of ['hot', 'cold'] as const) {
    it(`a ${mode} stop that lands just before the last task ends is heard at once; the run ends, never stuck`, async () => {
      const k = ++n;
      const gate = join(db.dir, `gate-${k}`);
      const started = join(db.dir, `gate-${k}.started`);
      const file = join(db.dir, `late-stop-${k}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          name: `late_stop_${k}`,
          tasks: [
            { name: 'last', template: 'g', command: `touch ${started}; while [ ! -e ${gate} ]; do sleep 0.05; done` },
          ],
        }),
      );
      // The default 30 s heartbeat: only the event log can make the runner hear the stop in time.
      const env = { ...process.env, JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') };
      const a = spawn(process.execPath, [CLI, 'run', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      a.stdout.on('data', (d: Buffer) => (out += d.toString()));
      a.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exit = new Promise<number | null>((r) => a.once('exit', (code) => r(code)));
      onTestFinished(() => {
        if (a.exitCode === null) a.kill('SIGKILL');
      });
      await waitFor('the last task to run', () => existsSync(started) || undefined);
      const wf = await server.db.kysely
        .selectFrom('workflow')
        .select('id')
        .where('name', '=', `late_stop_${k}`)
        .executeTakeFirstOrThrow();
      const t0 = Date.now();
      await conn.requester.post(`/workflows/${wf.id}/resume`, { mode });
      if (mode === 'hot') writeFileSync(gate, ''); // the last task ends right after the stop
      const code = await exit;
      expect(Date.now() - t0, out).toBeLessThan(10_000);
      const runs = await server.db.kysely
        .selectFrom('workflow_run')
        .select('status')
        .where('workflow_id', '=', wf.id)
        .execute();
      const detail = await conn.requester.get<{ status: string }>(`/workflows/${wf.id}`);
      if (mode === 'hot') {
        // Drained: its task finished, so the run and the workflow are DONE.
        expect(code, out).toBe(0);
        expect(runs.map((r) => r.status)).toEqual(['DONE']);
        expect(detail.status).toBe('DONE');
      } else {
        expect(code, out).not.toBe(0);
        expect(runs.map((r) => r.status)).toEqual(['TERMINATED']);
        expect(detail.status).toBe('HALTED');
        // Not held: the same file runs again at once.
        writeFileSync(gate, '');
        const again = await promisify(execFile)(process.execPath, [CLI, 'run', file], { env });
        expect(again.stdout).toMatch(/ended DONE/);
      }
      await expectEventsAgree(conn, wf.id);
    });
  }

  it('a server restart mid-run: the runner retries, nothing is lost or run twice', async () => {
    // Its own database: the suite's server would otherwise keep reaping while this one is down.
    const ownDb = await createTestDb('restart');
    const own = await startServer({ db: ownDb.target, reaper: REAPER });
    const port = Number(new URL(own.url).port);
    const c = await connect({
      url: own.url,
      config: {
        logDir: join(db.dir, 'logs'),
        ...FAST,
        http: { timeoutMs: 5_000, retries: 40, backoffMs: 50, maxBackoffMs: 200 },
      },
    });
    const trace = join(db.dir, `restart-${n}.txt`);
    const { tt, wf } = shellWorkflow('restart');
    const tasks = Array.from({ length: 16 }, (_, i) =>
      tt.createTask({ key: `t${i}`, cmd: `echo t${i} >> ${trace}; sleep 0.2` }),
    );
    wf.addTasks(tasks);
    let restarted: RunningServer | undefined;
    try {
      const running = wf.run({ connection: c, handleSignals: false, parallelism: 2 });
      await waitFor('some tasks to finish', () =>
        existsSync(trace) && readFileSync(trace, 'utf8').split('\n').length > 4 ? true : undefined,
      );
      await own.close();
      await sleep(1_500);
      restarted = await startServer({ db: ownDb.target, port, reaper: REAPER });
      const r = await running;
      expect(r.status, JSON.stringify(r.errors)).toBe('DONE');
      const lines = readFileSync(trace, 'utf8').trim().split('\n');
      expect(lines.sort()).toEqual(tasks.map((_, i) => `t${i}`).sort());
      for (const t of tasks) expect((await instancesOf(c, t.id!)).map((i) => i.status)).toEqual(['DONE']);
      const events = await c.requester.get<{ events: EventT[] }>(
        `/events?workflowId=${r.workflowId}&entity=workflow_run`,
      );
      expect(events.events.map((e) => e.to)).not.toContain('ERROR');
    } finally {
      await c.close();
      await own.close();
      await restarted?.close();
      await ownDb.drop();
    }
  });

  for (const mode of ['cold', 'hot'] as const) {
    it(`a ${mode} resume from a second process while the first runner is alive`, async () => {
      const k = ++n;
      const trace = join(db.dir, `${mode}-trace-${k}.txt`);
      const marker = `jobmon-${mode}-resume-${process.pid}-${k}`;
      // Two long tasks hold runner A; with a hot resume they are short enough to drain.
      const longCmd = (name: string) => `echo ${name} >> ${trace}; sleep ${mode === 'cold' ? 30 : 2} # ${marker}`;
      const spec = (second: boolean) => ({
        name: `${mode}_resume_${k}`,
        tasks: [
          { name: 'a', template: 'fast', command: `echo a >> ${trace}` },
          ...['b1', 'b2'].map((b) => ({
            name: b,
            template: 'long',
            upstream: ['a'],
            command: second ? `echo ${b} >> ${trace}` : longCmd(b),
          })),
          { name: 'c', template: 'fast', upstream: ['b1', 'b2'], command: `echo c >> ${trace}` },
        ],
      });
      const file = join(db.dir, `${mode}-resume-${k}.json`);
      writeFileSync(file, JSON.stringify(spec(false)));
      const env = cliEnv();
      const a = spawn(process.execPath, [CLI, 'run', file, '-p', '2', '--quiet'], { env, stdio: 'ignore' });
      const aExit = new Promise<number | null>((r) => a.once('exit', (code) => r(code)));
      onTestFinished(() => {
        if (a.exitCode === null) a.kill('SIGKILL');
      });
      await waitFor('the long tasks to run', async () =>
        (await pgrep(`[s]leep .* # ${marker}`)).split('\n').filter(Boolean).length === 2 ? true : undefined,
      );
      writeFileSync(file, JSON.stringify(spec(true)));
      const b = await promisify(execFile)(process.execPath, [CLI, 'run', file, '-p', '2', '--json', '--resume', mode], {
        env,
      });
      const summary = JSON.parse(b.stdout.trim().split('\n').pop()!);
      expect(summary).toMatchObject({ status: 'DONE', resumed: true });
      expect(await aExit).not.toBe(0);
      expect(await pgrep(`[s]leep .* # ${marker}`)).toBe('');
      const wf = await server.db.kysely
        .selectFrom('workflow')
        .select(['id', 'status'])
        .where('name', '=', `${mode}_resume_${k}`)
        .executeTakeFirstOrThrow();
      expect(wf.status).toBe('DONE');
      const runs = await server.db.kysely
        .selectFrom('workflow_run')
        .select(['id', 'status'])
        .where('workflow_id', '=', wf.id)
        .orderBy('id')
        .execute();
      expect(runs.map((r) => r.status)).toEqual(['TERMINATED', 'DONE']);
      const lines = readFileSync(trace, 'utf8').trim().split('\n');
      expect(lines.filter((l) => l === 'a')).toHaveLength(1); // finished before the takeover: not run again
      const bTasks = await server.db.kysely
        .selectFrom('task')
        .select(['id', 'name'])
        .where('workflow_id', '=', wf.id)
        .where('name', 'in', ['b1', 'b2'])
        .execute();
      for (const t of bTasks) {
        const inst = await instancesOf(conn, t.id);
        if (mode === 'cold') {
          // Killed by the takeover, then run again by B.
          expect(inst.map((i) => [i.status, i.errorClass])).toEqual([
            ['ERROR_FATAL', 'killed'],
            ['DONE', null],
          ]);
        } else {
          // Drained: A let them finish; B had nothing left to do for them.
          expect(inst.map((i) => i.status)).toEqual(['DONE']);
        }
      }
      await expectEventsAgree(conn, wf.id);
    });
  }

  it('jobmon workflow stop: the live run kills its tasks and ends; the workflow is HALTED and resumable', async () => {
    const k = ++n;
    const marker = `jobmon-stop-${process.pid}-${k}`;
    const file = join(db.dir, `stop-${k}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        name: `stop_${k}`,
        tasks: [1, 2].map((i) => ({ name: `long${i}`, template: 'long', command: `sleep 30 # ${marker}` })),
      }),
    );
    const env = cliEnv();
    const a = spawn(process.execPath, [CLI, 'run', file, '-p', '2', '--quiet'], { env, stdio: 'ignore' });
    const aExit = new Promise<number | null>((r) => a.once('exit', (code) => r(code)));
    onTestFinished(() => {
      if (a.exitCode === null) a.kill('SIGKILL');
    });
    await waitFor('the tasks to run', async () =>
      (await pgrep(`[s]leep 30 # ${marker}`)).split('\n').filter(Boolean).length === 2 ? true : undefined,
    );
    const wf = await server.db.kysely
      .selectFrom('workflow')
      .select(['id'])
      .where('name', '=', `stop_${k}`)
      .executeTakeFirstOrThrow();
    const stop = await promisify(execFile)(process.execPath, [CLI, 'workflow', 'stop', String(wf.id)], { env });
    expect(stop.stdout).toContain('ended TERMINATED');
    expect(await aExit).not.toBe(0);
    expect(await pgrep(`[s]leep 30 # ${marker}`)).toBe('');
    const detail = await conn.requester.get<{ status: string }>(`/workflows/${wf.id}`);
    expect(detail.status).toBe('HALTED');
    const again = await promisify(execFile)(process.execPath, [CLI, 'workflow', 'stop', String(wf.id)], { env });
    expect(again.stdout).toContain('no live run');
    await expectEventsAgree(conn, wf.id);
  });
});
