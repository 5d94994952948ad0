// The slurm distributor's pure parts, without a cluster: the batch script a task instance becomes,
// the cluster's options, and Slurm states → outcomes (never success from a non-final state).
// The distributor against a real cluster: packages/runner/test/slurm.slurm.test.ts.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { LaunchItem } from '../contract.js';
import { slurmOptions } from './index.js';
import { outcomeOf } from './states.js';
import { batchScript, sbatchOptions, slurmTime } from './submit.js';

const item = (over: Partial<LaunchItem> = {}): LaunchItem => ({
  instanceId: 7,
  taskId: 3,
  name: "fit it's/1",
  command: 'echo hi',
  cluster: 'farm',
  queue: 'short',
  resources: { cores: 2, memory: 1536, runtime: 3_725 },
  ...over,
});
const settings = { node: '/usr/bin/node', workerBin: '/w/jobmon-worker.js', logDir: "/logs/o'k" };

describe('slurm batch script', () => {
  it('maps queue → partition, cores → --cpus-per-task, memory MiB → --mem, runtime s → --time', () => {
    expect(sbatchOptions(item(), settings)).toEqual([
      '--job-name=jobmon-7-fit_it_s_1',
      '--partition=short',
      "--output=/logs/o'k/slurm.7.%j.log",
      '--cpus-per-task=2',
      '--mem=1536M',
      '--time=1:02:05',
    ]);
    expect(sbatchOptions(item({ resources: {} }), { ...settings, partition: 'p', account: 'lab' })).toEqual([
      '--job-name=jobmon-7-fit_it_s_1',
      '--partition=p',
      "--output=/logs/o'k/slurm.7.%j.log",
      '--account=lab',
    ]);
    expect(slurmTime(59)).toBe('0:00:59');
    expect(slurmTime(86_400)).toBe('24:00:00');
  });

  it('is a shell script that exports the environment and execs the worker, quoted', () => {
    const script = batchScript(item(), { JOBMON_URL: "http://h:1/x'y", 'BAD-NAME': 'skipped' }, settings);
    expect(script.startsWith('#!/bin/sh\n#SBATCH ')).toBe(true);
    expect(script).not.toContain('BAD-NAME');
    // Run it (minus the exec) in a real shell: the quoting survives.
    const body = script.replace(/^exec .*$/m, 'printf "%s\\n" "$JOBMON_URL"');
    const r = spawnSync('sh', ['-c', body], { encoding: 'utf8' });
    expect(r.stdout).toBe("http://h:1/x'y\n");
    const argv = spawnSync('sh', ['-c', script.replace(/^exec /m, 'printf "<%s>" ')], { encoding: 'utf8' }).stdout;
    expect(argv).toBe("</usr/bin/node></w/jobmon-worker.js><--instance-id><7><--log-dir></logs/o'k>");
  });
});

describe('slurm cluster options', () => {
  it('takes partition, account, pollMs, accountingWaitMs; refuses anything else, naming it', () => {
    expect(slurmOptions('farm', {})).toEqual({ pollMs: 5_000, accountingWaitMs: 60_000 });
    expect(slurmOptions('farm', { partition: 'gpu', account: 'lab', pollMs: 500 })).toMatchObject({
      partition: 'gpu',
      account: 'lab',
      pollMs: 500,
    });
    expect(() => slurmOptions('farm', { partiton: 'x' })).toThrow(
      /options\.partiton is not an option of a slurm cluster/,
    );
    expect(() => slurmOptions('farm', { pollMs: 5 })).toThrow(/cluster 'farm': options\.pollMs must be/);
    expect(() => slurmOptions('farm', { account: 'a b;rm' })).toThrow(/options\.account must be a Slurm name/);
  });
});

describe('Slurm states → outcomes', () => {
  it('is undefined (wait) for every state that is not final: never success from UNKNOWN or a running job', () => {
    for (const s of ['PENDING', 'RUNNING', 'COMPLETING', 'REQUEUED', 'SUSPENDED', 'UNKNOWN', '', 'WHATEVER'])
      expect(outcomeOf('1', s, '0:0', false), s).toBeUndefined();
  });

  it('maps final states; a COMPLETED job whose worker reported nothing is an error, not DONE', () => {
    expect(outcomeOf('9', 'OUT_OF_MEMORY', '0:125', false)?.to).toBe('RESOURCE_ERROR');
    expect(outcomeOf('9', 'TIMEOUT', '0:0', false)?.to).toBe('RESOURCE_ERROR');
    expect(outcomeOf('9', 'COMPLETED', '0:0', false)?.to).toBe('UNKNOWN_ERROR');
    expect(outcomeOf('9', 'FAILED', '1:0', false)).toEqual({
      to: 'UNKNOWN_ERROR',
      errorMessage: 'Slurm job 9 ended FAILED (exit code 1:0)',
    });
    expect(outcomeOf('9', 'NODE_FAIL', '0:0', false)?.to).toBe('UNKNOWN_ERROR');
    expect(outcomeOf('9', 'CANCELLED', '0:15', false)?.errorMessage).toMatch(/cancelled outside Jobmon/);
    expect(outcomeOf('9', 'CANCELLED', '0:15', true)).toMatchObject({ to: 'ERROR_FATAL', via: ['KILL_SELF'] });
    expect(outcomeOf('9', 'OUT_OF_MEMORY', '0:125', true)?.to).toBe('RESOURCE_ERROR');
  });
});
