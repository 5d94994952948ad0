// jobmon-worker through the `dummy` distributor, which launches one worker process per instance as
// a remote cluster would: real worker processes reporting to a real server (SQLite or PostgreSQL).

import { execFile, spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { Tool, connect, type Connection, type InstanceDetailT } from '@jobmon/client';
import { createTestDb, type TestDb } from '../../../test-support/db.js';
import { killWithArg, liveWithArg } from '../../../test-support/processes.js';
import { waitFor } from '../../../test-support/wait.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const WORKER_BIN = join(ROOT, 'packages/worker/bin/jobmon-worker.js');
let db: TestDb;
let server: RunningServer;
let conn: Connection;
let n = 0;

beforeAll(async () => {
  db = await createTestDb('worker');
  server = await startServer({ db: db.target });
  conn = await connect({ url: server.url, config: { logDir: join(db.dir, 'logs') } });
});
afterAll(async () => {
  await conn?.close();
  await server?.close();
  await db?.drop();
});

function dummyWorkflow(
  commands: Record<string, string>,
  opts: { maxAttempts?: number; chain?: boolean; cluster?: string } = {},
) {
  const tool = new Tool(`worker_tool_${++n}`);
  const tt = tool.getTaskTemplate({ name: 'w', commandTemplate: '{cmd}', nodeArgs: ['key'], opArgs: ['cmd'] });
  const wf = tool.createWorkflow({ name: `worker_${n}`, defaultCluster: opts.cluster ?? 'dummy' });
  let prev: ReturnType<typeof tt.createTask> | undefined;
  const tasks = Object.entries(commands).map(([key, cmd]) => {
    const t = tt.createTask(
      { key, cmd },
      {
        ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
        ...(opts.chain && prev ? { upstream: [prev] } : {}),
      },
    );
    prev = t;
    return t;
  });
  wf.addTasks(tasks);
  return { wf, tasks };
}

async function instancesOf(taskId: number): Promise<InstanceDetailT[]> {
  return (await conn.requester.get<{ instances: InstanceDetailT[] }>(`/tasks/${taskId}/instances`)).instances;
}

describe('jobmon-worker via the dummy cluster', () => {
  it('runs commands in worker processes that report running, output and exit', async () => {
    const { wf, tasks } = dummyWorkflow(
      { first: 'echo worker-out; echo worker-err >&2', second: 'echo "$JOBMON_TASK_ID"' },
      { chain: true },
    );
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('DONE');
    const [a] = await instancesOf(tasks[0]!.id!);
    expect(a).toMatchObject({ status: 'DONE', exitCode: 0, errorClass: null });
    expect(a!.stdoutTail).toBe('worker-out\n');
    expect(a!.stderrTail).toBe('worker-err\n');
    expect(Number(a!.distributorId)).toBeGreaterThan(0);
    expect(readFileSync(a!.stdoutPath!, 'utf8')).toBe('worker-out\n');
    const [b] = await instancesOf(tasks[1]!.id!);
    expect(b!.stdoutTail).toBe(`${tasks[1]!.id}\n`);
  });

  it('reports a failing command as an application error with its exit code, then retries it', async () => {
    const { wf, tasks } = dummyWorkflow({ bad: 'echo "bad input" >&2; exit 5' }, { maxAttempts: 2 });
    const r = await wf.run({ connection: conn });
    expect(r.status).toBe('FAILED');
    const inst = await instancesOf(tasks[0]!.id!);
    expect(inst.map((i) => [i.status, i.exitCode, i.errorClass])).toEqual([
      ['ERROR', 5, 'application'],
      ['ERROR', 5, 'application'],
    ]);
    expect(r.errors[0]!.message).toContain('bad input');
  });

  it('heartbeats while the command runs', async () => {
    const conn2 = await connect({ url: server.url, config: { logDir: join(db.dir, 'logs') } });
    process.env['JOBMON_INSTANCE_HEARTBEAT_MS'] = '100';
    try {
      const { wf, tasks } = dummyWorkflow({ slow: 'sleep 0.6' });
      expect((await wf.run({ connection: conn2 })).status).toBe('DONE');
      const row = await server.db.kysely
        .selectFrom('task_instance')
        .select(['report_by', 'created_at'])
        .where('task_id', '=', tasks[0]!.id!)
        .executeTakeFirstOrThrow();
      expect(row.report_by).not.toBeNull();
      expect(row.report_by! - row.created_at).toBeGreaterThan(300);
    } finally {
      delete process.env['JOBMON_INSTANCE_HEARTBEAT_MS'];
      await conn2.close();
    }
  });

  it('a stop makes workers kill their commands and report ERROR_FATAL; nothing is left running', async () => {
    const marker = `jobmon-worker-kill-${process.pid}`;
    const { wf, tasks } = dummyWorkflow({ long1: `sleep 40 # ${marker}`, long2: `sleep 40 # ${marker}` });
    const ac = new AbortController();
    const running = wf.run({
      connection: conn,
      signal: ac.signal,
      handleSignals: false,
      onProgress: () => undefined,
    });
    // Stop once both commands are really running.
    await waitFor('both commands to run', async () => liveWithArg(`sleep 40 # ${marker}`).length === 2, 10_000);
    ac.abort();
    const r = await running;
    expect(r.runStatus).toBe('STOPPED');
    for (const t of tasks) {
      const [inst] = await instancesOf(t.id!);
      expect(inst!.status).toBe('ERROR_FATAL');
      expect(inst!.errorClass).toBe('killed');
    }
    const left = await promisify(execFile)('sh', ['-c', `pgrep -f "[s]leep 40 # ${marker}" || true`]);
    expect(left.stdout.trim()).toBe('');
  });

  it('does not run an instance that is not waiting to run, and says why', async () => {
    const { wf, tasks } = dummyWorkflow({ once: 'true' });
    expect((await wf.run({ connection: conn })).status).toBe('DONE');
    const [inst] = await instancesOf(tasks[0]!.id!);
    const r = await promisify(execFile)(process.execPath, [
      WORKER_BIN,
      '--instance-id',
      String(inst!.id),
      '--url',
      server.url,
      '--log-dir',
      db.dir,
    ]);
    expect(r.stderr).toMatch(/not running: .*cannot move from DONE to RUNNING/);
    expect((await instancesOf(tasks[0]!.id!)).map((i) => i.status)).toEqual(['DONE']);
  });

  it('rejects bad arguments with exit code 2', async () => {
    const r = await promisify(execFile)(process.execPath, [WORKER_BIN, '--instance-id', 'abc']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((r as { code: number }).code).toBe(2);
    expect((r as { stderr: string }).stderr).toContain('--instance-id must be a whole number');
  });
});

describe('processes a command leaves behind', () => {
  // A unique sleep length marks this file's leftovers (sleep accepts a fraction).
  const marker = `1000.${process.pid}`;
  afterEach(() => killWithArg(marker));

  // dummy: jobmon-worker runs the command; sequential: the local launcher does.
  it.each(['dummy', 'sequential'])(
    'are killed when it exits, in its group or not, and the instance says so (%s)',
    async (cluster) => {
      // The command waits until all three have exec'd sleep (setsid has left the group by then).
      const cmd =
        `sleep ${marker} & setsid sleep ${marker} & nohup sleep ${marker} >/dev/null 2>&1 & disown; ` +
        `until [ "$(pgrep -cxf 'sleep ${marker}')" -ge 3 ]; do :; done; echo done`;
      const { wf, tasks } = dummyWorkflow({ bg: cmd }, { cluster });
      expect((await wf.run({ connection: conn })).status).toBe('DONE');
      expect(liveWithArg(marker)).toEqual([]);
      const [inst] = await instancesOf(tasks[0]!.id!);
      expect(inst!.stdoutTail).toBe('done\n');
      const one = String.raw`\d+ sleep( \(left the group\))?`;
      expect(inst!.cleanup).toMatch(new RegExp(`^killed 3 leftover processes: ${one}, ${one}, ${one}$`));
      expect(inst!.cleanup!.match(/\(left the group\)/g)).toHaveLength(1);
    },
  );

  it('are killed also when Jobmon kills the command, here for its runtime (sequential)', async () => {
    const tool = new Tool(`worker_tool_${++n}`);
    const tt = tool.getTaskTemplate({ name: 'w', commandTemplate: '{cmd}', nodeArgs: ['key'], opArgs: ['cmd'] });
    const cmd = `setsid sleep ${marker} & until [ "$(pgrep -cxf 'sleep ${marker}')" -ge 1 ]; do :; done; sleep 30`;
    const task = tt.createTask(
      { key: 'slow', cmd },
      { computeResources: { runtime: 1 }, cluster: 'sequential', maxAttempts: 1 },
    );
    const wf = tool.createWorkflow({ name: `worker_${n}` });
    wf.addTask(task);
    expect((await wf.run({ connection: conn })).status).toBe('FAILED');
    expect(liveWithArg(marker)).toEqual([]);
    const [inst] = await instancesOf(task.id!);
    expect(inst!.status).toBe('RESOURCE_ERROR');
    expect(inst!.cleanup).toMatch(/^killed 1 leftover process: \d+ sleep \(left the group\)$/);
  });
});

describe('JOBMON_LOG_CAP_BYTES', () => {
  it.each(['dummy', 'sequential'])(
    'caps what a task may write to its log, and the log says where it was cut (%s)',
    async (cluster) => {
      process.env['JOBMON_LOG_CAP_BYTES'] = '100000';
      const conn2 = await connect({ url: server.url, config: { logDir: join(db.dir, 'logs') } });
      try {
        const { wf, tasks } = dummyWorkflow(
          { flood: `head -c 5000000 /dev/zero | tr '\\0' x; echo; echo the-end` },
          { cluster },
        );
        expect((await wf.run({ connection: conn2 })).status).toBe('DONE');
        const [inst] = await instancesOf(tasks[0]!.id!);
        expect(statSync(inst!.stdoutPath!).size).toBeLessThan(100_000 + 200);
        expect(readFileSync(inst!.stdoutPath!, 'latin1').slice(100_000)).toMatch(
          /^\n\[jobmon: log cut at 100000 bytes \(JOBMON_LOG_CAP_BYTES\); 4900009 more bytes were not kept\]\n$/,
        );
        expect(inst!.stdoutTail!.endsWith('\nthe-end\n')).toBe(true);
      } finally {
        delete process.env['JOBMON_LOG_CAP_BYTES'];
        await conn2.close();
      }
    },
  );
});

describe('the worker import graph', () => {
  it('excludes server code', () => {
    const seen = new Set<string>();
    const external = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]|import\(['"]([^'"]+)['"]\)/g)) {
        const spec = m[1] ?? m[2]!;
        if (spec.startsWith('.')) visit(resolve(file, '..', spec));
        else if (spec === '@jobmon/core') visit(join(ROOT, 'packages/core/dist/index.js'));
        else external.add(spec);
      }
    };
    visit(join(ROOT, 'packages/worker/dist/cli.js'));
    expect(seen.size).toBeGreaterThan(3);
    const forbidden = [...external].filter((s) =>
      /^(@jobmon\/(server|client|runner|cli)|fastify|kysely|better-sqlite3|pg)$/.test(
        s
          .split('/')
          .slice(0, s.startsWith('@') ? 2 : 1)
          .join('/'),
      ),
    );
    expect(forbidden).toEqual([]);
    expect([...seen].some((f) => f.includes('/server/'))).toBe(false);
    expect(readdirSync(join(ROOT, 'packages/worker/dist')).length).toBeGreaterThan(0);
  });
});

describe('a stop before the command starts', () => {
  it(
    'SIGTERM while RUNNING is being reported: the report is cut short, the end is reported, the worker exits 0',
    { timeout: 20_000 },
    async () => {
      // A stand-in server that never answers the RUNNING report, so the signal lands exactly then:
      // the worker must neither die of the signal (reporting nothing) nor wait for the server.
      const bodies: { to: string; via?: string[] }[] = [];
      let held = false;
      const stand = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { to: string; via?: string[] };
          bodies.push(body);
          if (body.to === 'RUNNING') held = true;
          else
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 7, status: body.to }));
        });
      });
      await new Promise<void>((r) => stand.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(stand.address() as AddressInfo).port}`;
      const child = spawn(process.execPath, [WORKER_BIN, '--instance-id', '7', '--url', url, '--log-dir', db.dir], {
        stdio: 'ignore',
      });
      try {
        const exited = new Promise<[number | null, string | null]>((r) =>
          child.once('exit', (code, sig) => r([code, sig])),
        );
        await waitFor('the worker to report RUNNING', () => held, 10_000);
        child.kill('SIGTERM');
        expect(await exited).toEqual([0, null]);
        expect(bodies.map((b) => b.to)).toEqual(['RUNNING', 'ERROR_FATAL']);
        expect(bodies[1]!.via).toEqual(['KILL_SELF']);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // a failing case leaves no worker
        stand.closeAllConnections();
        await new Promise((r) => stand.close(r));
      }
    },
  );
});
