// The Slurm lifecycle, workflow by workflow, on the real single-node cluster (scripts/slurm-local.sh:
// partition `debug`, 2 CPUs, cgroup v1 memory limits, slurmdbd accounting): real workflows from the
// TypeScript client, a real server (SQLite), real jobs running jobmon-worker. Each case asserts
// what every attempt ended as and why:
//  - a task over its memory: the cgroup OOM-kills it → RESOURCE_ERROR → rerun with more memory → DONE;
//  - a task over its time limit: TIMEOUT → RESOURCE_ERROR → rerun with more runtime → DONE;
//  - `scancel` from outside (the Gremlin) → infrastructure error → retried → DONE;
//  - one DAG mixing `local` and `slurm` tasks, one run, one distributor per cluster;
//  - slurmdbd stopped for 60 s mid-run: no false failure, the workflow finishes;
//  - a cold resume while the old run's jobs are pending and running: they are cancelled, their
//    attempts end killed (ERROR_FATAL, "cancelled by Jobmon"), the new run finishes.
// Not part of `npm test`: `bash scripts/slurm-local.sh`, then `npm run test:slurm`.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, startServer, type RunningServer } from '@jobmon/server';
import {
  Tool,
  connect,
  type Connection,
  type InstanceDetailT,
  type RunOptions,
  type Task,
  type TaskErrorT,
} from '@jobmon/client';
import { createTestDb, type TestDb } from '../../../test-support/db.js';
import { sleep, waitFor } from '../../../test-support/wait.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLUSTER = 'lane-slurm';
/** The same cluster through slurmrestd's unix socket (scripts/slurm-local.sh starts it). */
const REST_CLUSTER = 'lane-slurm-rest';
let db: TestDb;
let server: RunningServer;
let conn: Connection;
let seq = 0;

beforeAll(async () => {
  db = await createTestDb('slurm-lifecycle');
  server = await startServer({ db: db.target, logFile: join(db.dir, 'server.log') });
  // Workers heartbeat every 5 s, so an instance gives up after about 15 s without news: a job that
  // waits longer in Slurm's queue stays LAUNCHED only because the distributor vouches for it.
  conn = await connect({ url: server.url, config: { logDir: join(db.dir, 'logs'), instanceHeartbeatMs: 5_000 } });
  await conn.requester.put(`/clusters/${CLUSTER}`, {
    type: 'slurm',
    options: { pollMs: 1000, accountingWaitMs: 30_000 },
    queues: [{ name: 'debug', limits: { cores: [1, 2], memory: [1, 4096], runtime: [10, 86_400] } }],
  });
  await conn.requester.put(`/clusters/${REST_CLUSTER}`, {
    type: 'slurm',
    options: {
      pollMs: 1000,
      accountingWaitMs: 30_000,
      transport: 'rest',
      restUrl: 'unix:/run/slurmrestd/slurmrestd.sock',
    },
    queues: [{ name: 'debug', limits: { cores: [1, 2], memory: [1, 4096], runtime: [10, 86_400] } }],
  });
});

afterAll(async () => {
  for (const s of stoppers) s.abort();
  await sleep(stoppers.length > 0 ? 3_000 : 0);
  await conn?.close();
  await server?.close();
  await db?.drop();
});

/** A workflow of tasks `{key: command}` on the slurm cluster (unless `cluster` says otherwise). */
function workflow(tag: string) {
  const k = ++seq;
  const tool = new Tool(`slurm_lifecycle_${tag}_${k}_${process.pid}`);
  const tt = tool.getTaskTemplate({ name: 'sh', commandTemplate: '{cmd}', nodeArgs: ['key'], opArgs: ['cmd'] });
  const wf = tool.createWorkflow({ name: `slurm-lifecycle-${tag}-${k}`, defaultCluster: CLUSTER });
  return { tool, tt, wf, file: (name: string) => join(db.dir, `${tag}-${k}-${name}`) };
}

/** Runs started; a failing case's run is stopped (its jobs cancelled) when the file ends. */
const stoppers: AbortController[] = [];
const run = (wf: { run(o: RunOptions): Promise<{ status: string; workflowId: number }> }, o: RunOptions = {}) => {
  const stop = new AbortController();
  stoppers.push(stop);
  return wf.run({ connection: conn, handleSignals: false, signal: stop.signal, ...o });
};
/** Other people's jobs share the 2 CPUs: a job may wait minutes for one. */
const QUEUE_WAIT_MS = 360_000;

async function instances(task: Task): Promise<InstanceDetailT[]> {
  return (await conn.requester.get<{ instances: InstanceDetailT[] }>(`/tasks/${task.id!}/instances`)).instances.sort(
    (a, b) => a.id - b.id,
  );
}

async function errorsOf(workflowId: number): Promise<Map<number, TaskErrorT>> {
  // all: also the errors of tasks that went on to succeed (each task's latest error).
  const { errors } = await conn.requester.get<{ errors: TaskErrorT[] }>(
    `/workflows/${workflowId}/errors?all=true&limit=1000`,
  );
  return new Map(errors.map((e) => [e.instanceId, e]));
}

/** The workflow's instances' statuses, by instance id, as the event log tells them, in order. */
async function histories(workflowId: number): Promise<Map<number, string[]>> {
  const { events } = await conn.requester.get<{ events: { entityId: number; to: string }[] }>(
    `/events?workflowId=${workflowId}&entity=task_instance`,
  );
  const h = new Map<number, string[]>();
  for (const e of events) h.set(e.entityId, [...(h.get(e.entityId) ?? []), e.to]);
  return h;
}

/** Our job ids in Slurm's queue, with their state. */
function queueOf(jobIds: string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (jobIds.length === 0) return out;
  // --array: an array's pending elements one per line (123_4), not folded into 123_[4-7].
  const r = spawnSync('squeue', ['-h', '--array', '-o', '%i|%T', '-j', jobIds.join(',')], { encoding: 'utf8' });
  for (const line of r.stdout.split('\n')) {
    const [id, state] = line.trim().split('|');
    if (id && state) out.set(id, state);
  }
  return out;
}

/** A job's accounting field (sacct -X), once accounting has the job. */
function sacctField(jobId: string, field: string): string {
  return spawnSync('sacct', ['-n', '-P', '-X', '-o', field, '-j', jobId], { encoding: 'utf8' }).stdout.trim();
}

describe('the Slurm lifecycle, workflow by workflow', () => {
  for (const [transport, cluster] of [
    ['the command line', CLUSTER],
    ['REST', REST_CLUSTER],
  ] as const)
    it.concurrent(
      `a fork/join workflow to DONE through ${transport}: the fork goes as one job array, the join after it`,
      { timeout: 900_000 },
      async () => {
        const { tt, wf, file } = workflow(`forkjoin-${cluster}`);
        const dir = file('parts');
        const split = tt.createTask({ key: 'split', cmd: `mkdir -p ${dir}` }, { cluster });
        const parts = Array.from({ length: 6 }, (_, i) =>
          tt.createTask(
            { key: `part${i}`, cmd: `echo ${i * i} > ${dir}/${i}` },
            { cluster, upstream: [split], computeResources: { queue: 'debug', cores: 1, memory: 100, runtime: 120 } },
          ),
        );
        const join = tt.createTask(
          { key: 'join', cmd: `s=0; for f in ${dir}/*; do s=$((s + $(cat $f))); done; echo $s` },
          { cluster, upstream: parts },
        );
        wf.addTasks([split, ...parts, join]);
        const r = await run(wf);
        expect(r.status).toBe('DONE');
        const [j] = await instances(join);
        expect(j!.stdoutTail).toBe('55\n');
        // The six parts: one array (ids 123_0 … 123_5), each element once.
        const ids = (await Promise.all(parts.map(instances))).map((l) => l[0]!.distributorId!);
        expect(new Set(ids.map((i) => i.split('_')[0])).size).toBe(1);
        expect(ids.map((i) => i.split('_')[1]).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
      },
    );

  it.concurrent(
    "a shared server in token mode: the Slurm job's worker reports on its run's token, and the run ends DONE",
    { timeout: 900_000 },
    async () => {
      const tdb = await createTestDb('slurm-token');
      const s = await startServer({ db: tdb.target, auth: { mode: 'token' }, logFile: join(tdb.dir, 'server.log') });
      try {
        const { token } = await mintToken(s.db, {
          kind: 'personal',
          user: 'alice',
          scope: 'admin',
          expiresInMs: 3_600_000,
          createdBy: 'slurm lane',
        });
        const c = await connect({
          url: s.url,
          token,
          config: { logDir: join(tdb.dir, 'logs'), instanceHeartbeatMs: 5_000 },
        });
        try {
          await c.requester.put(`/clusters/${CLUSTER}`, {
            type: 'slurm',
            options: { pollMs: 1000, accountingWaitMs: 30_000 },
            queues: [{ name: 'debug', limits: { cores: [1, 2], memory: [1, 4096], runtime: [10, 86_400] } }],
          });
          const { tt, wf } = workflow('token');
          // The job sees its run's token, not alice's: print its public id.
          const task = tt.createTask({ key: 'who', cmd: 'echo "$JOBMON_TOKEN" | cut -c4-15' });
          wf.addTasks([task]);
          const stop = new AbortController();
          stoppers.push(stop);
          const r = await wf.run({ connection: c, handleSignals: false, signal: stop.signal });
          expect(r.status).toBe('DONE');
          const [i] = (await c.requester.get<{ instances: InstanceDetailT[] }>(`/tasks/${task.id!}/instances`))
            .instances;
          expect(i!.distributorId).toMatch(/^\d+$/);
          const runTokens = await s.db.kysely
            .selectFrom('auth_token')
            .select(['id', 'workflow_run_id'])
            .where('kind', '=', 'run')
            .execute();
          expect(runTokens).toHaveLength(1);
          expect(i!.stdoutTail).toBe(`${runTokens[0]!.id}\n`);
          expect(i!.stdoutTail).not.toContain(token.slice(3, 15));
        } finally {
          await c.close();
        }
      } finally {
        await s.close();
        await tdb.drop();
      }
    },
  );

  it.concurrent(
    'a task over its memory: the cgroup OOM-kills it → RESOURCE_ERROR (the worker saw the kill) → rerun with 50 % more memory → DONE',
    { timeout: 900_000 },
    async () => {
      const { tt, wf } = workflow('oom');
      // 340 MiB touched: over 300 MiB, under 450 MiB.
      const cmd = `exec ${process.execPath} -e "const b = Buffer.alloc(340 * 2 ** 20, 1); setTimeout(() => console.log(b.length), 300)"`;
      const task = tt.createTask(
        { key: 'grow', cmd },
        { computeResources: { memory: 300, runtime: 600, queue: 'debug' } },
      );
      wf.addTasks([task]);
      const r = await run(wf);
      expect(r.status).toBe('DONE');
      const [first, second, ...more] = await instances(task);
      expect(more).toEqual([]);
      expect(first!.status).toBe('RESOURCE_ERROR');
      expect((await errorsOf(r.workflowId)).get(first!.id)?.message).toBe(
        "killed for memory (the job's cgroup OOM-killed it)",
      );
      expect(first!.resources['memory']).toBe(300);
      expect(second!.status).toBe('DONE');
      expect(second!.resources['memory']).toBe(450);
      // Slurm agrees on both: the first job OUT_OF_MEMORY under --mem=300M, the second 450M.
      const acct = await waitFor(
        'accounting of both jobs',
        () => {
          // Only this job's record (a job id of an older cluster may answer until accounting has it).
          const a = [first!, second!].map((i) =>
            sacctField(i.distributorId!, 'JobName,State,ReqMem').replace(/^jobmon-[^|]*\|/, ''),
          );
          return a.every((x) => /^(OUT_OF_MEMORY|COMPLETED)\|/.test(x)) ? a : undefined;
        },
        30_000,
        500,
      );
      expect(acct).toEqual(['OUT_OF_MEMORY|300M', 'COMPLETED|450M']);
    },
  );

  it.concurrent(
    "a task over its time limit: Slurm's TIMEOUT → RESOURCE_ERROR from accounting (the worker reports nothing) → rerun with more runtime → DONE",
    { timeout: 900_000 },
    async () => {
      const { tt, wf, file } = workflow('timeout');
      // The first attempt outlives its minute; the second finds the mark and is done at once.
      const mark = file('mark');
      const cmd = `if [ -e ${mark} ]; then echo second; exit 0; fi; touch ${mark}; exec sleep 600`;
      const task = tt.createTask({ key: 'slow', cmd }, { computeResources: { runtime: 60, queue: 'debug' } });
      wf.addTasks([task]);
      const r = await run(wf);
      expect(r.status).toBe('DONE');
      const [first, second, ...more] = await instances(task);
      expect(more).toEqual([]);
      expect(first!.status).toBe('RESOURCE_ERROR');
      expect((await errorsOf(r.workflowId)).get(first!.id)?.message).toMatch(
        new RegExp(
          `^Slurm job ${first!.distributorId} ended TIMEOUT \\(exit code 0:\\d+\\): it exceeded its time limit \\(--time\\)$`,
        ),
      );
      // Reported from accounting: with the job's elapsed time (over its minute) and node.
      expect(first!.wallTimeMs).toBeGreaterThanOrEqual(60_000);
      expect(first!.nodeName).toBe('vm');
      // (Its worker may report RUNNING before the launch is recorded; TRIAGING may come between
      // RUNNING and the end: the worker stopped heartbeating before accounting answered.)
      const h = (await histories(r.workflowId)).get(first!.id)!;
      expect(h).toContain('RUNNING');
      expect(h.at(-1)).toBe('RESOURCE_ERROR');
      expect(h).not.toContain('ERROR_FATAL');
      expect(second!.status).toBe('DONE');
      expect(second!.resources['runtime']).toBe(90);
      // Accounting lags the job's end (the run may end first: the worker reported DONE).
      const limit = await waitFor(
        `accounting of job ${second!.distributorId}`,
        () => /^jobmon-[^|]*\|(.*)$/.exec(sacctField(second!.distributorId!, 'JobName,Timelimit'))?.[1],
        30_000,
        500,
      );
      expect(limit).toBe('00:02:00');
    },
  );

  it.concurrent(
    '`scancel` from outside (the Gremlin): CANCELLED → infrastructure error (UNKNOWN_ERROR, not a Jobmon kill) → retried → DONE',
    { timeout: 900_000 },
    async () => {
      const { tt, wf, file } = workflow('gremlin');
      const mark = file('mark');
      const cmd = `if [ -e ${mark} ]; then echo second; exit 0; fi; touch ${mark}; exec sleep 600`;
      const task = tt.createTask({ key: 'victim', cmd }, { maxAttempts: 1, computeResources: { queue: 'debug' } });
      wf.addTasks([task]);
      const done = run(wf);
      const jobId = await waitFor(
        'the first attempt to run',
        async () => {
          if (task.id === undefined || !existsSync(mark)) return undefined;
          const [i] = await instances(task);
          return i?.status === 'RUNNING' ? i.distributorId : undefined;
        },
        QUEUE_WAIT_MS,
        200,
      );
      expect(spawnSync('scancel', [jobId!]).status).toBe(0);
      const r = await done;
      expect(r.status).toBe('DONE');
      const [first, second, ...more] = await instances(task);
      expect(more).toEqual([]);
      // An infrastructure error: it does not use up maxAttempts (1).
      expect(first!.status).toBe('UNKNOWN_ERROR');
      expect(first!.errorClass).toBe('infrastructure');
      expect((await errorsOf(r.workflowId)).get(first!.id)?.message).toMatch(
        new RegExp(
          `^Slurm job ${jobId} ended CANCELLED \\(exit code 0:\\d+\\): cancelled outside Jobmon \\(by uid \\d+\\)$`,
        ),
      );
      expect(first!.nodeName).toBe('vm');
      expect(second!.status).toBe('DONE');
      expect(second!.stdoutTail).toBe('second\n');
    },
  );

  it.concurrent(
    'one DAG mixing local and slurm tasks runs in one run: upload on local, compute on slurm, summary on local',
    { timeout: 900_000 },
    async () => {
      const { tt, wf, file } = workflow('mixed');
      const data = file('data');
      const upload = tt.createTask({ key: 'upload', cmd: `echo 21 > ${data}` }, { cluster: 'local' });
      const compute = tt.createTask(
        { key: 'compute', cmd: `echo $(( $(cat ${data}) * 2 )) > ${data}.out; hostname` },
        { upstream: [upload], computeResources: { queue: 'debug', cores: 1, memory: 200 } },
      );
      const summary = tt.createTask(
        { key: 'summary', cmd: `cat ${data}.out` },
        { cluster: 'local', upstream: [compute] },
      );
      wf.addTasks([upload, compute, summary]);
      const r = await run(wf);
      expect(r.status).toBe('DONE');
      expect(readFileSync(`${data}.out`, 'utf8').trim()).toBe('42');
      const [c] = await instances(compute);
      const [u] = await instances(upload);
      const [s] = await instances(summary);
      // The slurm task ran as a Slurm job (a job id, its worker's report); the local ones did not.
      expect(c!.distributorId).toMatch(/^\d+$/);
      const jobName = await waitFor(
        `accounting of job ${c!.distributorId}`,
        // (Job ids restart with a new cluster: until accounting has this job, it may show an older one.)
        () => /^jobmon-/.exec(sacctField(c!.distributorId!, 'JobName'))?.input,
        30_000,
        500,
      );
      expect(jobName).toMatch(new RegExp(`^jobmon-${c!.id}-`));
      for (const local of [u!, s!])
        expect(sacctField(local.distributorId ?? '0', 'JobName')).not.toMatch(new RegExp(`^jobmon-${local.id}-`));
      expect(s!.stdoutTail).toBe('42\n');
      const { events } = await conn.requester.get<{ events: { entityId: number; to: string; actor: string }[] }>(
        `/events?workflowId=${r.workflowId}&entity=task_instance`,
      );
      const runningBy = (id: number) => events.find((e) => e.entityId === id && e.to === 'RUNNING')?.actor;
      expect(runningBy(c!.id)).toBe('worker');
      expect(runningBy(u!.id)).not.toBe('worker');
    },
  );
});

describe('the Slurm lifecycle, with the cluster disturbed (one case at a time)', () => {
  it(
    'slurmdbd stopped for 60 s mid-run: accounting is waited for, no attempt fails, the workflow finishes',
    { timeout: 900_000 },
    async () => {
      const { tt, wf, file } = workflow('dbd');
      const started = file('started');
      const a = tt.createTask(
        { key: 'a', cmd: `touch ${started}; sleep 15` },
        { computeResources: { queue: 'debug' } },
      );
      const b = tt.createTask({ key: 'b', cmd: 'sleep 10' }, { computeResources: { queue: 'debug' } });
      const c = tt.createTask({ key: 'c', cmd: 'echo after' }, { upstream: [a], computeResources: { queue: 'debug' } });
      wf.addTasks([a, b, c]);
      const done = run(wf);
      let restarted = false;
      const restart = () => {
        if (restarted) return;
        restarted = true;
        const r = spawnSync('bash', [join(ROOT, 'scripts/slurm-local.sh')], { encoding: 'utf8', timeout: 120_000 });
        if (r.status !== 0) throw new Error(`slurm-local.sh failed: ${r.stderr.slice(-2000)}`);
      };
      try {
        await waitFor('task a to start', () => existsSync(started), QUEUE_WAIT_MS, 200);
        const stop = spawnSync('bash', [join(ROOT, 'scripts/slurm-local-stop.sh'), '--slurmdbd-only'], {
          encoding: 'utf8',
        });
        expect(stop.status, stop.stderr).toBe(0);
        // Accounting is down: sacct fails, and the jobs (a, b, then c) end meanwhile.
        expect(spawnSync('sacct', ['-n', '-X']).status).not.toBe(0);
        await sleep(60_000);
        restart();
      } finally {
        restart();
      }
      const r = await done;
      expect(r.status).toBe('DONE');
      for (const t of [a, b, c]) {
        const is = await instances(t);
        expect(
          is.map((i) => i.status),
          `task ${t.name}`,
        ).toEqual(['DONE']);
      }
      expect([...(await errorsOf(r.workflowId)).values()]).toEqual([]);
    },
  );

  it(
    'a cold resume while the old run has jobs pending and running: they are scancelled, each attempt ends killed (ERROR_FATAL, cancelled by Jobmon), the new run finishes',
    { timeout: 900_000 },
    async () => {
      const { tool, tt, wf } = workflow('resume');
      // Four 1-core tasks on a 2-CPU node (shared with other people's jobs): some run, some pend.
      const keys = ['p', 'q', 'r', 's'];
      const tasks = keys.map((key) =>
        tt.createTask({ key, cmd: 'exec sleep 600' }, { computeResources: { queue: 'debug', cores: 1 } }),
      );
      wf.addTasks(tasks);
      const first = run(wf);
      const jobs = await waitFor(
        'one job running and the others pending',
        async () => {
          if (tasks.some((t) => t.id === undefined)) return undefined;
          const ids = (await Promise.all(tasks.map(instances))).flatMap((is) =>
            is.flatMap((i) => (i.distributorId ? [i.distributorId] : [])),
          );
          if (ids.length < tasks.length) return undefined;
          const q = queueOf(ids);
          const states = [...q.values()];
          return states.includes('RUNNING') && states.includes('PENDING') && q.size === ids.length ? q : undefined;
        },
        QUEUE_WAIT_MS,
        300,
      );
      // Make sure the running one's worker has started its command (RUNNING on the server).
      const running = [...jobs].filter(([, s]) => s === 'RUNNING').map(([j]) => j);
      const pending = [...jobs].filter(([, s]) => s === 'PENDING').map(([j]) => j);
      // The same workflow again, with quick commands: it takes over, killing what runs.
      const again = tool.createWorkflow({ name: wf.name, defaultCluster: CLUSTER });
      const quick = keys.map((key) =>
        tt.createTask({ key, cmd: `echo resumed-${key}` }, { computeResources: { queue: 'debug', cores: 1 } }),
      );
      again.addTasks(quick);
      const second = await run(again, { resume: 'cold' });
      const old = await first;
      expect(old.status).toBe('HALTED');
      expect(second.status).toBe('DONE');
      // None of the old run's jobs is left in Slurm's queue.
      expect(queueOf([...jobs.keys()])).toEqual(new Map());
      const errs = await errorsOf(second.workflowId);
      for (const t of quick) {
        const is = await instances(t);
        expect(is.at(-1)!.status).toBe('DONE');
        expect(is.at(-1)!.stdoutTail).toMatch(/^resumed-[pqrs]\n$/);
        const killed = is.slice(0, -1);
        expect(killed.length, `task ${t.id}`).toBe(1);
        const hist = (await histories(second.workflowId)).get(killed[0]!.id) ?? [];
        expect(killed[0]!.status, `${killed[0]!.distributorId}: ${hist.join(' → ')}`).toBe('ERROR_FATAL');
        const jobId = killed[0]!.distributorId!;
        expect([...running, ...pending]).toContain(jobId);
        // From accounting (the worker heard Slurm's SIGTERM first), or from the worker (it heard
        // KILL_SELF in a heartbeat answer first): either way a kill by Jobmon.
        expect(errs.get(killed[0]!.id)?.message ?? '', `job ${jobId}`).toMatch(
          new RegExp(
            `^Slurm job ${jobId} ended CANCELLED .*: cancelled by Jobmon \\(a stop\\)$|^killed: told to stop \\(KILL_SELF\\)$`,
          ),
        );
      }
    },
  );
});
