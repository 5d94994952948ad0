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
        // Who reports depends on a race. Usually the worker outlives its command and reports the
        // kill by signal itself: UNKNOWN_ERROR, which the server keeps (KNOWN GAP: the worker has to
        // learn of the OOM kill, from its cgroup, to make that a RESOURCE_ERROR). When the worker
        // does not get to report, the distributor reports Slurm's OUT_OF_MEMORY: RESOURCE_ERROR.
        // (One full run of this file ended otherwise than UNKNOWN_ERROR here; the end was not
        // captured and 10 runs since did not repeat it: the message now shows the history.)
        const end = await kit.ended(id);
        const h = await kit.history(host.workflowId, id);
        expect(['UNKNOWN_ERROR', 'RESOURCE_ERROR'], h.join(' → ')).toContain(end);
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

    it('a submission Slurm refuses (a partition it does not have) ends NO_DISTRIBUTOR_ID', async () => {
      const { d, host, items } = await kit.setUp(['true']);
      d.launch(items.map((it) => ({ ...it, queue: 'no-such-partition' })));
      const id = items[0]!.instanceId;
      expect(await kit.ended(id)).toBe('NO_DISTRIBUTOR_ID');
      expect(await kit.history(host.workflowId, id)).not.toContain('RUNNING');
    });
  },
});
