// The worker under Slurm (JOBMON_WORKER_UNDER=slurm) and its reading of the cgroup's OOM-kill
// count. Real worker processes and real commands against a stand-in server that records what the
// worker reports (the Slurm lane, packages/runner/test/slurm-lifecycle.slurm.test.ts, runs the
// same paths on the real cluster: a time limit, a scancel, a cgroup OOM kill).

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test-support/wait.js';
import { oomFiles, oomKillOf, oomKills } from '../src/oom.js';
import { runWorker } from '../src/worker.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const WORKER_BIN = join(ROOT, 'packages/worker/bin/jobmon-worker.js');

interface Body {
  to?: string;
  via?: string[];
  errorMessage?: string;
  exitCode?: number;
}

/** A stand-in server: RUNNING answers with `command`; every transition body is recorded. */
async function standIn(command: string) {
  const bodies: Body[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Body;
      const json = (o: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(o));
      if (req.url?.includes('heartbeat')) return json({ status: 'RUNNING' });
      bodies.push(body);
      json({
        status: body.to,
        taskStatus: 'RUNNING',
        outcome: 'applied',
        command,
        name: 'probe',
        taskId: 1,
        workflowId: 1,
        workflowRunId: 1,
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    ends: () => bodies.map((b) => b.to).filter((t) => t !== 'RUNNING'),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jobmon-slurm-mode-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the OOM-kill count of a memory cgroup', () => {
  it('reads cgroup v1 (memory.oom_control) from this cgroup up to its Slurm job, never above', () => {
    const proc = '4:memory:/slurm_vm/uid_0/job_23/step_batch/task_0\n3:cpuset:/slurm_vm\n0::/\n';
    expect(oomFiles(proc, '/sys/fs/cgroup')).toEqual([
      '/sys/fs/cgroup/memory/slurm_vm/uid_0/job_23/step_batch/task_0/memory.oom_control',
      '/sys/fs/cgroup/memory/slurm_vm/uid_0/job_23/step_batch/memory.oom_control',
      '/sys/fs/cgroup/memory/slurm_vm/uid_0/job_23/memory.oom_control',
    ]);
    // A controller line listing several controllers; outside a job: this cgroup only.
    expect(oomFiles('7:cpu,memory:/user.slice\n', '/r')).toEqual(['/r/memory/user.slice/memory.oom_control']);
  });

  it('reads cgroup v2 (memory.events) when no v1 memory controller is listed', () => {
    expect(oomFiles('0::/system.slice/slurmstepd.scope/job_7/step_batch/user/task_0\n', '/sys/fs/cgroup')).toEqual([
      '/sys/fs/cgroup/system.slice/slurmstepd.scope/job_7/step_batch/user/task_0/memory.events',
      '/sys/fs/cgroup/system.slice/slurmstepd.scope/job_7/step_batch/user/memory.events',
      '/sys/fs/cgroup/system.slice/slurmstepd.scope/job_7/step_batch/memory.events',
      '/sys/fs/cgroup/system.slice/slurmstepd.scope/job_7/memory.events',
    ]);
  });

  it('is undefined when there is no memory cgroup or no counter, and sums the counters it finds', () => {
    expect(oomFiles('', '/r')).toEqual([]);
    expect(oomFiles('1:cpu:/x\n', '/r')).toEqual([]);
    expect(oomKillOf('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n')).toBe(3);
    expect(oomKillOf('low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n')).toBe(2);
    expect(oomKillOf('oom_kill_disable 0\n')).toBeUndefined();
    const root = join(dir, 'v1');
    const proc = '4:memory:/job_5/step_batch\n';
    expect(oomKills({ root, procCgroup: proc })).toBeUndefined();
    mkdirSync(join(root, 'memory/job_5/step_batch'), { recursive: true });
    writeFileSync(join(root, 'memory/job_5/step_batch/memory.oom_control'), 'oom_kill 1\n');
    writeFileSync(join(root, 'memory/job_5/memory.oom_control'), 'oom_kill 2\n');
    expect(oomKills({ root, procCgroup: proc })).toBe(3);
  });
});

describe('a command killed by SIGKILL', () => {
  const cgroup = () => {
    const root = join(dir, `cg-${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(root, 'memory/job_1/step_batch'), { recursive: true });
    const file = join(root, 'memory/job_1/step_batch/memory.oom_control');
    writeFileSync(file, 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n');
    return { root, procCgroup: '4:memory:/job_1/step_batch\n', file };
  };

  it('while the OOM-kill count went up is RESOURCE_ERROR, killed for memory (whether under Slurm or not)', async () => {
    for (const under of ['slurm', undefined] as const) {
      const cg = cgroup();
      // The kernel's part, played by the command: count an OOM kill, then die of SIGKILL.
      const s = await standIn(`printf 'oom_kill 1\\n' > ${cg.file}; kill -9 $$`);
      try {
        const code = await runWorker({
          instanceId: 7,
          url: s.url,
          logDir: dir,
          heartbeatMs: 60_000,
          killGraceMs: 1_000,
          cgroup: { root: cg.root, procCgroup: cg.procCgroup },
          log: () => undefined,
          ...(under ? { under } : {}),
        });
        expect(code).toBe(0);
        const end = s.bodies.at(-1)!;
        expect(end).toMatchObject({ to: 'RESOURCE_ERROR', via: ['RUNNING'] });
        expect(end.errorMessage).toBe("killed for memory (the job's cgroup OOM-killed it)");
      } finally {
        await s.close();
      }
    }
  });

  it('while the count stayed is UNKNOWN_ERROR, killed by a signal not Jobmon’s; a shell’s 137 stays ERROR', async () => {
    const cg = cgroup();
    const s = await standIn('kill -9 $$');
    const t = await standIn(`sh -c 'kill -9 $$'; exit $?`); // the shell reports its child's SIGKILL as 137
    try {
      for (const [server, to] of [
        [s, 'UNKNOWN_ERROR'],
        [t, 'ERROR'],
      ] as const) {
        const code = await runWorker({
          instanceId: 7,
          url: server.url,
          logDir: dir,
          heartbeatMs: 60_000,
          killGraceMs: 1_000,
          under: 'slurm',
          cgroup: { root: cg.root, procCgroup: cg.procCgroup },
          log: () => undefined,
        });
        expect(code).toBe(0);
        expect(server.bodies.at(-1)!.to).toBe(to);
      }
      expect(s.bodies.at(-1)!.errorMessage).toBe('killed by signal SIGKILL (not by Jobmon)');
      expect(t.bodies.at(-1)!.exitCode).toBe(137);
    } finally {
      await s.close();
      await t.close();
    }
  });

  it('under Slurm, when the count cannot be read, is left to accounting: no end reported, exit 137', async () => {
    const s = await standIn('kill -9 $$');
    try {
      const code = await runWorker({
        instanceId: 7,
        url: s.url,
        logDir: dir,
        heartbeatMs: 60_000,
        killGraceMs: 1_000,
        under: 'slurm',
        cgroup: { root: join(dir, 'nowhere'), procCgroup: '4:memory:/job_1\n' },
        log: () => undefined,
      });
      expect(code).toBe(137);
      expect(s.ends()).toEqual([]);
    } finally {
      await s.close();
    }
  });
});

describe('SIGTERM to the worker', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  async function workerGetsSigterm(under: string | undefined) {
    const pidFile = join(dir, `cmd-${Math.random().toString(36).slice(2)}.pid`);
    const s = await standIn(`echo $$ > ${pidFile}; exec sleep 30`);
    const child = spawn(process.execPath, [WORKER_BIN, '--instance-id', '7', '--url', s.url, '--log-dir', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, JOBMON_WORKER_UNDER: under ?? '' },
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const { existsSync, readFileSync } = await import('node:fs');
      const pid = Number(
        await waitFor(
          'the command to start',
          () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim()) || undefined,
          10_000,
          20,
        ),
      );
      child.kill('SIGTERM');
      const code = await exited;
      const gone = (() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      })();
      return { code, ends: s.ends(), bodies: s.bodies, stderr, commandGone: gone };
    } finally {
      await s.close();
    }
  }

  it('under Slurm: kills the command, reports no end (accounting says why), exits 143', async () => {
    const r = await workerGetsSigterm('slurm');
    expect(r.code).toBe(143);
    expect(r.ends).toEqual([]);
    expect(r.commandGone).toBe(true);
    expect(r.stderr).toMatch(/the worker received SIGTERM\); Slurm's accounting has the verdict/);
  });

  it('elsewhere: kills the command and reports ERROR_FATAL via KILL_SELF, as before', async () => {
    const r = await workerGetsSigterm(undefined);
    expect(r.code).toBe(0);
    expect(r.ends).toEqual(['ERROR_FATAL']);
    expect(r.bodies.at(-1)!.via).toEqual(['KILL_SELF']);
    expect(r.commandGone).toBe(true);
  });

  it('refuses an unknown --under, naming it', async () => {
    const child = spawn(process.execPath, [WORKER_BIN, '--instance-id', '7', '--url', 'http://x', '--under', 'pbs'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(stderr).toContain("--under (JOBMON_WORKER_UNDER) must be 'slurm', got 'pbs'");
  });
});
