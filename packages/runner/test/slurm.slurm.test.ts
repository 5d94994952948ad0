// The distributor contract on a real Slurm cluster: the single-node one scripts/slurm-local.sh
// starts on this machine (partition `debug`, cgroup memory limits), so jobs run here, as this
// user, and see the test's files. Not part of `npm test`: `bash scripts/slurm-local.sh`, then
// `npm run test:slurm`.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { waitFor } from '../../../test-support/wait.js';
import { createSlurmDistributor } from '../src/distributors/slurm/index.js';
import { describeDistributorContract } from './distributor-contract.js';

describeDistributorContract('slurm-local', createSlurmDistributor, {
  // A job waits for a scheduling pass (about a second) and a free CPU (2 here).
  timeoutMs: 120_000,
  manyItems: 10,
  defineCluster: {
    type: 'slurm',
    options: { pollMs: 500, accountingWaitMs: 30_000 },
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
            cluster: { name: 'slurm-local', type: 'slurm', options: { pollMs: 500 }, queues: [] },
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

    it('a submission Slurm refuses (a partition it does not have) ends NO_DISTRIBUTOR_ID', async () => {
      const { d, host, items } = await kit.setUp(['true']);
      d.launch(items.map((it) => ({ ...it, queue: 'no-such-partition' })));
      const id = items[0]!.instanceId;
      expect(await kit.ended(id)).toBe('NO_DISTRIBUTOR_ID');
      expect(await kit.history(host.workflowId, id)).not.toContain('RUNNING');
    });
  },
});
