// The distributor contract on a real Slurm cluster: the single-node one scripts/slurm-local.sh
// starts on this machine (partition `debug`, cgroup memory limits), so jobs run here, as this
// user, and see the test's files. Not part of `npm test`: `bash scripts/slurm-local.sh`, then
// `npm run test:slurm`.
//
// The whole suite runs twice: on the command-line transport (sbatch, squeue, sacct, scancel) and
// on the REST transport through slurmrestd's unix socket (local auth; that slurmrestd runs as root,
// so jobs run as root like sbatch's and can write the test's log folders). Then the REST transport
// over TCP with a JWT: its jobs run as the token's user `slurmrest`, who cannot write the suite's
// log folders (the test runs as root, folders 0755), so that part is checked at the transport:
// submit, follow, cancel and account jobs that write to a 1777 folder.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiClient, type Requester } from '@jobmon/core';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test-support/wait.js';
import { SlurmDistributor, createSlurmDistributor } from '../src/distributors/slurm/index.js';
import { RestTransport } from '../src/distributors/slurm/rest/index.js';
import type { AccountingRecord } from '../src/distributors/slurm/transport.js';
import { describeDistributorContract } from './distributor-contract.js';

/** Where scripts/slurm-local.sh starts slurmrestd. */
const REST_SOCKET = '/run/slurmrestd/slurmrestd.sock';
const REST_TCP = 'http://127.0.0.1:6820';
const REST_TOKEN_FILE = '/run/slurmrestd/token';
const REST_USER = 'slurmrest';

const TRANSPORTS = [
  { cluster: 'slurm-local', options: {} },
  { cluster: 'slurm-local-rest', options: { transport: 'rest', restUrl: `unix:${REST_SOCKET}` } },
];

/** The error message recorded for an instance. */
async function errorOf(api: Requester, workflowId: number, instanceId: number): Promise<string | undefined> {
  const { errors } = await createApiClient(api).getWorkflowErrors({
    id: workflowId,
    query: { all: true, limit: 10_000 },
  });
  return errors.find((e) => e.instanceId === instanceId)?.message;
}

for (const { cluster, options } of TRANSPORTS)
  describeDistributorContract(cluster, createSlurmDistributor, {
    // A job waits for a scheduling pass (about a second) and a free CPU (2 here).
    timeoutMs: 120_000,
    manyItems: 10,
    defineCluster: {
      type: 'slurm',
      options: { pollMs: 500, accountingWaitMs: 30_000, ...options },
      queues: [{ name: 'debug', limits: { cores: [1, 2], memory: [1, 4096], runtime: [60, 86_400] } }],
    },
    extraCases: (kit) => {
      it(
        'memory (MiB) becomes --mem, which the cluster enforces: a job over it is killed, OUT_OF_MEMORY',
        { timeout: 2 * kit.timeoutMs },
        async () => {
          // A command that only grows, until the job's cgroup (300 MiB) kills it.
          const grow = `exec ${process.execPath} -e "const a = []; for (;;) a.push(Buffer.alloc(1 << 24, 1))"`;
          const { d, host, items } = await kit.setUp([grow], { memory: 300 });
          d.launch(items);
          const id = items[0]!.instanceId;
          // Whoever reports, it is a resource error: the worker, which outlives its command, sees the
          // cgroup's OOM-kill count go up; or, when the worker does not get to report, the
          // distributor reads Slurm's OUT_OF_MEMORY.
          const end = await kit.ended(id);
          const h = await kit.history(host.workflowId, id);
          expect(end, h.join(' → ')).toBe('RESOURCE_ERROR');
          const { distributorId } = await kit.api.get<{ distributorId: string }>(`/task-instances/${id}`);
          const acct = await waitFor(
            `sacct to show job ${distributorId} ended`,
            () => {
              const r = spawnSync('sacct', ['-n', '-P', '-X', '-o', 'State,ExitCode', '-j', distributorId], {
                encoding: 'utf8',
              });
              const line = r.stdout.trim();
              // Accounting lags the job: wait for a final state (not running, pending or completing).
              return line && !/^(RUNNING|PENDING|COMPLETING|CONFIGURING|REQUEUED|RESIZING|SUSPENDED)/.test(line)
                ? line
                : undefined;
            },
            30_000,
            200,
          );
          expect(acct).toBe('OUT_OF_MEMORY|0:125');
        },
      );

      it(
        "a job whose worker dies (SIGKILL) ends UNKNOWN_ERROR from Slurm's accounting, and its command is gone",
        { timeout: 2 * kit.timeoutMs },
        async () => {
          const pidFile = join(tmpdir(), `slurm-worker-kill-${process.pid}.pid`);
          rmSync(pidFile, { force: true });
          const { d, host, items } = await kit.setUp([`echo $$ > ${pidFile}; exec sleep 60`]);
          d.launch(items);
          const id = items[0]!.instanceId;
          const pid = await waitFor(
            'the command to write its pid',
            () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim()) || undefined,
            kit.timeoutMs,
            50,
          );
          await waitFor('RUNNING', async () => (await kit.history(host.workflowId, id)).includes('RUNNING'), 30_000);
          // The command's parent is its worker (the job's batch script, exec'd).
          const worker = Number(readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[1]);
          expect(readFileSync(`/proc/${worker}/cmdline`, 'latin1')).toContain('jobmon-worker');
          process.kill(worker, 'SIGKILL');
          expect(await kit.ended(id)).toBe('UNKNOWN_ERROR');
          const h = await kit.history(host.workflowId, id);
          expect(h.slice(-2)).toEqual(['RUNNING', 'UNKNOWN_ERROR']);
          // Slurm ends the job, and with it every process of the job (soon after, not before).
          const live = () => {
            try {
              return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
            } catch {
              return false;
            }
          };
          await waitFor(`the command (pid ${pid}) to be gone`, () => !live(), 15_000, 50);
          rmSync(pidFile, { force: true });
        },
      );

      it(
        'the throttle holds: 4 tasks of a template limited to 1 never overlap',
        { timeout: 4 * kit.timeoutMs },
        async () => {
          const log = join(tmpdir(), `slurm-throttle-${process.pid}.log`);
          rmSync(log, { force: true });
          const cmd = (i: number) =>
            `echo "s ${i} $(date +%s%N)" >> ${log}; sleep 1; echo "e ${i} $(date +%s%N)" >> ${log}`;
          const { d, items } = await kit.setUp([0, 1, 2, 3].map(cmd));
          d.launch(items.map((it) => ({ ...it, template: 0, templateLimit: 1 })));
          for (const it of items) expect(await kit.ended(it.instanceId)).toBe('DONE');
          const events = readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((l) => l.split(' '))
            .sort((a, b) => Number(BigInt(a[2]!) - BigInt(b[2]!)));
          let running = 0;
          let peak = 0;
          for (const [kind] of events) {
            running += kind === 's' ? 1 : -1;
            peak = Math.max(peak, running);
          }
          expect(events).toHaveLength(8);
          expect(peak).toBe(1);
          rmSync(log, { force: true });
        },
      );

      it(
        'arrays are cut at MaxArraySize: 10 tasks with a limit of 4 go as 4 + 4 + 2',
        { timeout: 4 * kit.timeoutMs },
        async () => {
          const { d, items } = await kit.setUp(Array.from({ length: 10 }, () => 'true'));
          const t = (d as SlurmDistributor).transport;
          const real = t.facts.bind(t);
          // The cluster's real partitions, with its MaxArraySize read as 4.
          t.facts = async () => ({ ...(await real()), maxArraySize: 4 });
          d.launch(items);
          for (const it of items) expect(await kit.ended(it.instanceId)).toBe('DONE');
          const ids = await Promise.all(
            items.map(
              async (it) =>
                (await kit.api.get<{ distributorId: string }>(`/task-instances/${it.instanceId}`)).distributorId,
            ),
          );
          const arrays = [...new Set(ids.map((i) => i.split('_')[0]))];
          expect(arrays).toHaveLength(3);
          expect(ids.map((i) => i.split('_')[1])).toEqual(['0', '1', '2', '3', '0', '1', '2', '3', '0', '1']);
        },
      );

      it(
        "terminate() of instances another runner started cancels their jobs only when Slurm's job name is Jobmon's for them",
        { timeout: 2 * kit.timeoutMs },
        async () => {
          const { d, host, items } = await kit.setUp(['exec sleep 300', 'exec sleep 300']);
          const [a, b] = items.map((i) => i.instanceId) as [number, number];
          d.launch([items[0]!]);
          const ja = await waitFor(`instance ${a}'s job id`, async () => {
            const r = await kit.api.get<{ distributorId: string | null }>(`/task-instances/${a}`);
            return r.distributorId ?? undefined;
          });
          // The runner that submitted it is gone (as on a cold resume after it died): it no longer
          // reads the queue, so it cannot take the cancel for someone else's.
          (d as SlurmDistributor).transport.queue = () => Promise.reject(new Error('this runner is gone'));
          // Instance b's record names a job that is not Jobmon's for it: someone else's job.
          const other = spawnSync(
            'sbatch',
            ['--parsable', '-p', 'debug', '--job-name=not-jobmon', '-o', '/dev/null', '--wrap=sleep 300'],
            { encoding: 'utf8' },
          ).stdout.trim();
          expect(other).toMatch(/^\d+$/);
          const squeue = (j: string) =>
            spawnSync('squeue', ['-h', '-o', '%i', '-j', j], { encoding: 'utf8' }).stdout.trim();
          try {
            await kit.api.post('/task-instances/transitions', {
              items: [
                { id: b, to: 'INSTANTIATED' },
                { id: b, to: 'LAUNCHED', distributorId: other },
              ],
            });
            // A second distributor, as a new runner has after a resume: it started neither.
            const fresh = createSlurmDistributor({
              host,
              cluster: { name: cluster, type: 'slurm', options: { pollMs: 500, ...options }, queues: [] },
            });
            await fresh.terminate([a, b]);
            expect(await kit.ended(a)).toBe('ERROR_FATAL');
            expect((await kit.history(host.workflowId, a)).slice(-2)).toEqual(['KILL_SELF', 'ERROR_FATAL']);
            await waitFor(`job ${ja} to leave the queue`, () => squeue(ja) === '', 30_000, 200);
            // The job that is not Jobmon's for b runs on, and b is left as it was.
            expect(squeue(other)).toBe(other);
            expect((await kit.api.get<{ status: string }>(`/task-instances/${b}`)).status).toBe('LAUNCHED');
            await fresh.stop();
          } finally {
            spawnSync('scancel', [other]);
          }
        },
      );

      it('a partition Slurm does not have is refused before anything is submitted: ERROR_FATAL naming it', async () => {
        const { d, host, items } = await kit.setUp(['true']);
        const submits = (d as SlurmDistributor).transport.calls.submit;
        d.launch(items.map((it) => ({ ...it, queue: 'no-such-partition' })));
        const id = items[0]!.instanceId;
        expect(await kit.ended(id)).toBe('ERROR_FATAL');
        expect(await errorOf(kit.api, host.workflowId, id)).toMatch(
          /Slurm has no partition 'no-such-partition' \(partitions: debug\)/,
        );
        expect((d as SlurmDistributor).transport.calls.submit).toBe(submits);
        expect(await kit.history(host.workflowId, id)).not.toContain('LAUNCHED');
      });

      it("a submission Slurm refuses (a node feature no node has) ends NO_DISTRIBUTOR_ID with sbatch's words", async () => {
        const { d, host, items } = await kit.setUp(['true']);
        d.launch(items.map((it) => ({ ...it, resources: { ...it.resources, constraints: 'no_such_feature' } })));
        const id = items[0]!.instanceId;
        expect(await kit.ended(id)).toBe('NO_DISTRIBUTOR_ID');
        expect(await errorOf(kit.api, host.workflowId, id)).toMatch(/could not submit: .*feature/i);
      });

      // The heavy cases run on the command-line transport only (the REST one shares the distributor).
      if (cluster === 'slurm-local') {
        it(
          "200 tasks of one template go as ONE job array, the template's limit as its throttle; ids are 123_k",
          { timeout: 6 * kit.timeoutMs },
          async () => {
            const { d, host, items } = await kit.setUp(Array.from({ length: 200 }, () => 'true'));
            const slurm = d as SlurmDistributor;
            const submits = slurm.transport.calls.submit;
            d.launch(items.map((it) => ({ ...it, template: 0, templateLimit: 50 })));
            // While it runs, Slurm holds the throttle.
            const arrayId = await waitFor(
              'the array to be submitted',
              async () => {
                const i = await kit.api.get<{ distributorId: string | null }>(
                  `/task-instances/${items[0]!.instanceId}`,
                );
                return i.distributorId?.split('_')[0];
              },
              kit.timeoutMs,
              100,
            );
            const show = spawnSync('scontrol', ['show', 'job', arrayId], { encoding: 'utf8' }).stdout;
            if (show) expect(show).toMatch(/ArrayTaskThrottle=50/);
            for (const it of items) expect(await kit.ended(it.instanceId)).toBe('DONE');
            expect(slurm.transport.calls.submit - submits).toBe(1);
            const ids = await Promise.all(
              items.map(
                async (it) =>
                  (await kit.api.get<{ distributorId: string }>(`/task-instances/${it.instanceId}`)).distributorId,
              ),
            );
            expect(ids).toEqual(items.map((_, k) => `${arrayId}_${k}`));
            expect(host.refused).toEqual([]);
          },
        );

        it(
          'the polling budget: a 500-task run makes at most one squeue and one sacct per cycle',
          { timeout: 10 * kit.timeoutMs },
          async () => {
            // Count Slurm's commands as the distributor runs them: shims first on PATH log each call.
            const shims = join(tmpdir(), `slurm-shims-${process.pid}`);
            const calls = join(shims, 'calls.log');
            mkdirSync(shims, { recursive: true });
            for (const cmd of ['squeue', 'sacct']) {
              const real = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
              writeFileSync(join(shims, cmd), `#!/bin/sh\necho ${cmd} "$@" >> ${calls}\nexec ${real} "$@"\n`, {
                mode: 0o755,
              });
            }
            const path = process.env['PATH'];
            process.env['PATH'] = `${shims}:${path}`;
            try {
              const { d, items } = await kit.setUp(Array.from({ length: 500 }, () => 'true'));
              const slurm = d as SlurmDistributor;
              let triages = 0;
              const triage = slurm.triage.bind(slurm);
              slurm.triage = async (ids) => {
                triages++;
                await triage(ids);
              };
              d.launch(items);
              for (const it of items) expect(await kit.ended(it.instanceId)).toBe('DONE');
              // Only the calls about this run's jobs: a distributor of an earlier case may still be
              // winding down in this process, and its calls go through the shims too.
              const jobs = new Set(
                (
                  await Promise.all(
                    items.map(
                      async (it) =>
                        (await kit.api.get<{ distributorId: string }>(`/task-instances/${it.instanceId}`))
                          .distributorId,
                    ),
                  )
                ).map((id) => id.split('_')[0]!),
              );
              const ours = (line: string) => line.split(/[\s=,]/).some((w) => jobs.has(w.split('_')[0]!));
              const counted = readFileSync(calls, 'utf8').trim().split('\n').filter(ours);
              const squeues = counted.filter((c) => c.startsWith('squeue ')).length;
              const saccts = counted.filter((c) => c.startsWith('sacct ')).length;
              const cycles = slurm.cycles;
              process.stdout.write(
                `polling budget: 500 tasks, ${cycles} cycles, ${squeues} squeue, ${saccts} sacct, ${triages} triage calls (${(squeues / cycles).toFixed(2)} squeue and ${(saccts / cycles).toFixed(2)} sacct per cycle)\n`,
              );
              expect(cycles).toBeGreaterThan(0);
              expect(squeues).toBeLessThanOrEqual(cycles + triages);
              expect(saccts).toBeLessThanOrEqual(cycles);
              expect(slurm.transport.calls.queue).toBe(squeues);
              expect(slurm.transport.calls.accounting).toBe(saccts);
            } finally {
              process.env['PATH'] = path;
              rmSync(shims, { recursive: true, force: true });
            }
          },
        );
      }
    },
  });

describe('REST transport over TCP with a JWT (jobs run as slurmrest)', () => {
  const t = new RestTransport({ url: REST_TCP, user: REST_USER, tokenFile: REST_TOKEN_FILE });
  const dir = mkdtempSync(join(tmpdir(), 'slurm-rest-jwt-'));
  chmodSync(dir, 0o1777);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const job = (name: string, script: string) => ({
    name: `jobmon-test-${name}`,
    partition: 'debug',
    memoryMiB: 50,
    timeMinutes: 2,
    output: join(dir, '%x-%j.out'),
    cwd: dir,
    exportEnv: ['PATH'],
    env: { GREETING: 'hello' },
    script,
  });
  /** Poll the queue until the job left it (other people's jobs may hold both CPUs for minutes),
   *  then accounting until a final record. */
  async function followToEnd(jobId: string): Promise<AccountingRecord> {
    await waitFor(`job ${jobId} to leave the queue`, async () => !(await t.queue([jobId])).has(jobId), 240_000, 500);
    return waitFor(
      `a final accounting record of job ${jobId}`,
      async () => {
        const r = (await t.accounting([jobId])).get(jobId);
        return r && !['PENDING', 'RUNNING', 'COMPLETING'].includes(r.state) ? r : undefined;
      },
      30_000,
      300,
    );
  }

  it('submits, follows and accounts a job; its environment and exit code arrive', { timeout: 600_000 }, async () => {
    const s = await t.submit(job('jwt', '#!/bin/sh\necho "$GREETING from $(id -un)"\nexit 3'));
    if ('error' in s) throw new Error(s.error);
    const rec = await followToEnd(s.jobId);
    expect(rec).toMatchObject({ jobId: s.jobId, state: 'FAILED', exitCode: '3:0', nodes: expect.any(String) });
    expect(readFileSync(join(dir, `jobmon-test-jwt-${s.jobId}.out`), 'utf8')).toBe('hello from slurmrest\n');
  });

  it('cancels a running job; accounting says who cancelled', { timeout: 600_000 }, async () => {
    const s = await t.submit(job('jwt-cancel', '#!/bin/sh\nexec sleep 120'));
    if ('error' in s) throw new Error(s.error);
    await waitFor('RUNNING', async () => (await t.queue([s.jobId])).get(s.jobId)?.state === 'RUNNING', 240_000, 500);
    await t.cancel([s.jobId]);
    const rec = await followToEnd(s.jobId);
    const uid = Number(spawnSync('id', ['-u', REST_USER], { encoding: 'utf8' }).stdout.trim());
    expect(rec).toMatchObject({ state: 'CANCELLED', cancelledBy: uid });
    await t.cancel([s.jobId]); // ended: no failure
  });

  // (slurmrestd passes the token on: slurmctld's refusal comes back as HTTP 500, not 401)
  it('reads the partitions; a wrong token is refused with a message naming the user', async () => {
    const facts = await t.facts();
    expect(facts.partitions.find((p) => p.name === 'debug')).toMatchObject({ isDefault: true, state: 'UP' });
    const bad = new RestTransport({ url: REST_TCP, user: REST_USER, token: 'not-a-token' });
    await expect(bad.queue(['1'])).rejects.toThrow(
      /HTTP 500: Unspecified error: Failed while looking for jobs.*invalid or expired token for user slurmrest/,
    );
  });
});
