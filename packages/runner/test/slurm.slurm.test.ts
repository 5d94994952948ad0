// The distributor contract on a real Slurm cluster: the single-node one scripts/slurm-local.sh
// starts on this machine (partition `debug`, cgroup memory limits), so jobs run here, as this
// user, and see the test's files. Not part of `npm test`: `bash scripts/slurm-local.sh`, then
// `npm run test:slurm`.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiClient, type Requester } from '@jobmon/core';
import { expect, it } from 'vitest';
import { waitFor } from '../../../test-support/wait.js';
import { CliTransport } from '../src/distributors/slurm/cli-transport.js';
import { SlurmDistributor, createSlurmDistributor } from '../src/distributors/slurm/index.js';
import { describeDistributorContract } from './distributor-contract.js';

/** The error message recorded for an instance. */
async function errorOf(api: Requester, workflowId: number, instanceId: number): Promise<string | undefined> {
  const { errors } = await createApiClient(api).getWorkflowErrors({
    id: workflowId,
    query: { all: true, limit: 10_000 },
  });
  return errors.find((e) => e.instanceId === instanceId)?.message;
}

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
            const i = await kit.api.get<{ distributorId: string | null }>(`/task-instances/${items[0]!.instanceId}`);
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
        const t = (d as SlurmDistributor).transport as CliTransport;
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
      'the polling budget: a 500-task run makes at most one squeue and one sacct per cycle',
      { timeout: 10 * kit.timeoutMs },
      async () => {
        // Count Slurm's commands as the distributor runs them: shims first on PATH log each call.
        const shims = join(tmpdir(), `slurm-shims-${process.pid}`);
        const calls = join(shims, 'calls.log');
        mkdirSync(shims, { recursive: true });
        for (const cmd of ['squeue', 'sacct']) {
          const real = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
          writeFileSync(join(shims, cmd), `#!/bin/sh\necho ${cmd} >> ${calls}\nexec ${real} "$@"\n`, { mode: 0o755 });
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
          const counted = readFileSync(calls, 'utf8').trim().split('\n');
          const squeues = counted.filter((c) => c === 'squeue').length;
          const saccts = counted.filter((c) => c === 'sacct').length;
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
      expect(await errorOf(kit.api, host.workflowId, id)).toMatch(/could not submit: sbatch exited 1: .*feature/i);
    });
  },
});
