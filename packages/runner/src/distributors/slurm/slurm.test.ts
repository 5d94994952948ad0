// The slurm distributor's pure parts, without a cluster: the batch script a task instance becomes,
// the cluster's options, and Slurm states → outcomes (never success from a non-final state).
// The distributor against a real cluster: packages/runner/test/slurm.slurm.test.ts.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { LaunchItem } from '../contract.js';
import { slurmOptions, usageOf } from './index.js';
import { outcomeOf } from './states.js';
import { parseDuration, parsePartitions, parseSacct, parseSize, sbatchArgs, scriptWithEnv } from './cli-transport.js';
import { arraySpec, checkPartition, jobSpec, partitionFor, slurmMinutes, type SubmitSettings } from './submit.js';

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
const settings: SubmitSettings = {
  node: '/usr/bin/node',
  workerBin: '/w/jobmon-worker.js',
  logDir: "/logs/o'k",
  exportEnv: 'ALL',
};

describe('slurm job spec and sbatch', () => {
  it('maps queue → partition, cores → --cpus-per-task, memory MiB → --mem, runtime s → --time minutes', () => {
    const spec = jobSpec(item(), { JOBMON_URL: 'http://h:1' }, settings);
    // The worker runs under Slurm: it leaves Slurm's signals to accounting.
    expect(spec.env).toEqual({ JOBMON_URL: 'http://h:1', JOBMON_WORKER_UNDER: 'slurm' });
    expect(sbatchArgs(spec)).toEqual([
      '--parsable',
      '--job-name=jobmon-7-fit_it_s_1',
      "--output=/logs/o'k/slurm.%j.log",
      "--chdir=/logs/o'k",
      '--partition=short',
      '--cpus-per-task=2',
      '--mem=1536M',
      '--time=63',
      '--export=ALL',
    ]);
    const bare = jobSpec(
      item({ resources: {} }),
      {},
      { ...settings, partition: 'p', account: 'lab', exportEnv: 'NONE' },
    );
    expect(sbatchArgs({ ...bare, array: { size: 200, throttle: 20 } })).toEqual([
      '--parsable',
      '--job-name=jobmon-7-fit_it_s_1',
      "--output=/logs/o'k/slurm.%j.log",
      "--chdir=/logs/o'k",
      '--partition=p',
      '--account=lab',
      '--array=0-199%20',
      '--export=NONE',
    ]);
    expect(slurmMinutes(59)).toBe(1);
    expect(slurmMinutes(61)).toBe(2);
    expect(slurmMinutes(86_400)).toBe(1440);
  });

  it('is a shell script that exports the environment and execs the worker, quoted', () => {
    const spec = jobSpec(item(), { JOBMON_URL: "http://h:1/x'y", 'BAD-NAME': 'skipped' }, settings);
    const script = scriptWithEnv(spec);
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).not.toContain('BAD-NAME');
    // Run it (minus the exec) in a real shell: the quoting survives.
    const body = script.replace(/^exec .*$/m, 'printf "%s\\n" "$JOBMON_URL"');
    const r = spawnSync('sh', ['-c', body], { encoding: 'utf8' });
    expect(r.stdout).toBe("http://h:1/x'y\n");
    const argv = spawnSync('sh', ['-c', script.replace(/^exec /m, 'printf "<%s>" ')], { encoding: 'utf8' }).stdout;
    expect(argv).toBe("</usr/bin/node></w/jobmon-worker.js><--instance-id><7><--log-dir></logs/o'k>");
  });
});

describe('slurm job arrays', () => {
  it('runs element k as the k-th instance, throttled, without the per-instance variables', () => {
    const items = [item({ instanceId: 7 }), item({ instanceId: 8 }), item({ instanceId: 12 })];
    const first = jobSpec(
      items[0]!,
      { JOBMON_URL: 'http://h:1', JOBMON_TASK_INSTANCE_ID: '7', JOBMON_TASK_ID: '3' },
      settings,
    );
    const spec = arraySpec(first, items, 2);
    expect(spec.array).toEqual({ size: 3, throttle: 2 });
    expect(spec.name).toBe('jobmon-7-array-fit_it_s_1');
    expect(spec.output).toBe("/logs/o'k/slurm.%A_%a.log");
    expect(spec.env).toEqual({ JOBMON_URL: 'http://h:1', JOBMON_WORKER_UNDER: 'slurm' });
    expect(sbatchArgs(spec)).toContain('--array=0-2%2');
    expect(arraySpec(first, items, Infinity).array).toEqual({ size: 3 });
    // Each element, in a real shell, execs the worker for its own instance.
    for (const [k, id] of [7, 8, 12].entries()) {
      const argv = spawnSync('sh', ['-c', scriptWithEnv(spec).replace(/^exec /m, 'printf "<%s>" ')], {
        encoding: 'utf8',
        env: { SLURM_ARRAY_TASK_ID: String(k) },
      }).stdout;
      expect(argv).toBe(`</usr/bin/node></w/jobmon-worker.js><--instance-id><${id}><--log-dir></logs/o'k>`);
    }
  });
});

describe('slurm partitions', () => {
  const partitions = [
    { name: 'debug', isDefault: true, state: 'UP', maxCpusPerNode: 2, maxMemoryMiB: 4000 },
    { name: 'short', isDefault: false, state: 'UP', maxCpusPerNode: 2, maxMemoryMiB: 4000, maxTimeMinutes: 60 },
  ];
  it("maps the queue 'default' to Slurm's default partition unless one is named so; the cluster option wins", () => {
    expect(partitionFor('default', settings, partitions)).toBeUndefined();
    expect(partitionFor('default', settings, [...partitions, { name: 'default', isDefault: false, state: 'UP' }])).toBe(
      'default',
    );
    expect(partitionFor('short', settings, partitions)).toBe('short');
    expect(partitionFor('short', { ...settings, partition: 'gpu' }, partitions)).toBe('gpu');
  });

  it('refuses, naming the task, the resource and the limit, what the partition cannot run', () => {
    const check = (over: Partial<LaunchItem>) => {
      const it = item(over);
      return checkPartition(jobSpec(it, {}, settings, partitions), it, partitions);
    };
    expect(check({ queue: 'debug', resources: { cores: 2, memory: 4000, runtime: 86_400 } })).toBeUndefined();
    expect(check({ queue: 'default', resources: { cores: 1 } })).toBeUndefined();
    expect(check({ queue: 'debug', resources: { cores: 4 } })).toBe(
      "task 'fit it's/1' asks for 4 cores, but Slurm partition 'debug' allows at most 2",
    );
    expect(check({ queue: 'short', resources: { memory: 5000 } })).toMatch(
      /5000 MiB of memory, .*'short' allows at most 4000 MiB/,
    );
    expect(check({ queue: 'short', resources: { runtime: 7200 } })).toMatch(
      /120 minutes of run time, .*at most 60 minutes/,
    );
    expect(check({ queue: 'gpu' })).toBe("task 'fit it's/1': Slurm has no partition 'gpu' (partitions: debug, short)");
  });
});

describe('slurm command output', () => {
  it('sacct: state and exit code from the allocation, peak memory from the steps, who cancelled', () => {
    const out = [
      '41_0|COMPLETED|0:0|None||00:00:02|00:00.512|vm',
      '41_0.batch|COMPLETED|0:0||2048K|00:00:02|00:00.500|vm',
      '41_0.extern|COMPLETED|0:0||0|00:00:02|00:00:00|vm',
      '41_1|CANCELLED by 0|0:15|None||00:01:05|00:00:01|vm',
      '41_[2-9]|PENDING|0:0|JobArrayTaskLimit||00:00:00|00:00:00|None assigned',
      '42|OUT_OF_MEMORY|0:125|None||1-00:00:03|01:00:00|vm',
      '42.batch|OUT_OF_MEMORY|0:125||310M|1-00:00:03|01:00:00|vm',
    ].join('\n');
    const r = parseSacct(out);
    expect([...r.keys()]).toEqual(['41_0', '41_1', '42']);
    expect(r.get('41_0')).toEqual({
      jobId: '41_0',
      state: 'COMPLETED',
      exitCode: '0:0',
      elapsedSeconds: 2,
      cpuSeconds: 0.512,
      nodes: 'vm',
      maxRssBytes: 2048 * 1024,
    });
    expect(r.get('41_1')).toMatchObject({ state: 'CANCELLED', cancelledBy: 0, exitCode: '0:15' });
    expect(r.get('42')).toMatchObject({ state: 'OUT_OF_MEMORY', elapsedSeconds: 86_403, maxRssBytes: 310 * 1024 ** 2 });
    // An array cancelled before some elements ran: one line for them, each element's end.
    const cancelled = parseSacct(
      '50_0|COMPLETED|0:0|None||00:00:01|00:00.1|vm\n50_[1-2,4]|CANCELLED by 0|0:0|None||00:00:00|00:00:00|None assigned',
    );
    expect([...cancelled.values()].map((r) => [r.jobId, r.state, r.cancelledBy])).toEqual([
      ['50_0', 'COMPLETED', undefined],
      ['50_1', 'CANCELLED', 0],
      ['50_2', 'CANCELLED', 0],
      ['50_4', 'CANCELLED', 0],
    ]);
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseDuration('UNLIMITED')).toBeUndefined();
  });

  it("scontrol: partition limits are the smaller of the partition's and its biggest node's", () => {
    const parts = [
      'PartitionName=debug AllowGroups=ALL Default=YES MaxCPUsPerNode=UNLIMITED MaxMemPerNode=UNLIMITED MaxTime=UNLIMITED Nodes=vm State=UP',
      'PartitionName=short Default=NO MaxCPUsPerNode=1 MaxMemPerNode=1000 MaxTime=01:00:00 Nodes=vm State=UP',
      'PartitionName=long Default=NO MaxTime=2-00:00:00 Nodes=vm State=DOWN',
    ].join('\n');
    const nodes = 'NodeName=vm Arch=x86_64 CoresPerSocket=1 CPUAlloc=0 CPUTot=2 RealMemory=22899 State=IDLE';
    expect(parsePartitions(parts, nodes)).toEqual([
      { name: 'debug', isDefault: true, state: 'UP', maxCpusPerNode: 2, maxMemoryMiB: 22899 },
      { name: 'short', isDefault: false, state: 'UP', maxCpusPerNode: 1, maxMemoryMiB: 1000, maxTimeMinutes: 60 },
      { name: 'long', isDefault: false, state: 'DOWN', maxCpusPerNode: 2, maxMemoryMiB: 22899, maxTimeMinutes: 2880 },
    ]);
  });
});

describe('slurm cluster options', () => {
  it('takes partition, account, pollMs, accountingWaitMs, export, transport; refuses anything else, naming it', () => {
    expect(slurmOptions('farm', {})).toEqual({
      pollMs: 10_000,
      accountingWaitMs: 60_000,
      exportEnv: 'ALL',
      transport: 'cli',
    });
    expect(slurmOptions('farm', { export: 'PATH,CONDA_PREFIX' }).exportEnv).toEqual(['PATH', 'CONDA_PREFIX']);
    expect(() => slurmOptions('farm', { export: 'A B' })).toThrow(/options\.export must be ALL, NONE or/);
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
    expect(outcomeOf('9', 'CANCELLED', '0:15', false)?.errorMessage).toMatch(/cancelled outside Jobmon/);
    expect(outcomeOf('9', 'CANCELLED', '0:15', false, 1234)?.errorMessage).toBe(
      'Slurm job 9 ended CANCELLED (exit code 0:15): cancelled outside Jobmon (by uid 1234)',
    );
    expect(outcomeOf('9', 'CANCELLED', '0:15', true)).toMatchObject({ to: 'ERROR_FATAL', via: ['KILL_SELF'] });
    expect(outcomeOf('9', 'OUT_OF_MEMORY', '0:125', true)?.to).toBe('RESOURCE_ERROR');
    expect(outcomeOf('9', 'TIMEOUT', '0:15', true)?.to).toBe('RESOURCE_ERROR');
  });

  it('FAILED with an exit code is an application error carrying that code; FAILED by a signal is infrastructure', () => {
    expect(outcomeOf('9', 'FAILED', '3:0', false)).toEqual({
      to: 'ERROR',
      via: ['RUNNING'],
      exitCode: 3,
      errorMessage: 'Slurm job 9 ended FAILED (exit code 3:0): the job exited with code 3',
    });
    expect(outcomeOf('9', 'FAILED', '0:9', false)).toEqual({
      to: 'UNKNOWN_ERROR',
      errorMessage: 'Slurm job 9 ended FAILED (exit code 0:9): killed by signal 9',
    });
    expect(outcomeOf('9', 'FAILED', '', false)?.to).toBe('UNKNOWN_ERROR');
  });

  it('node failures, boot failures and preemption are infrastructure errors, each saying why', () => {
    expect(outcomeOf('9', 'NODE_FAIL', '0:0', false)).toEqual({
      to: 'UNKNOWN_ERROR',
      errorMessage: 'Slurm job 9 ended NODE_FAIL (exit code 0:0): its node failed',
    });
    expect(outcomeOf('9', 'BOOT_FAIL', '0:0', false)?.errorMessage).toMatch(/: its node failed to boot$/);
    expect(outcomeOf('9', 'PREEMPTED', '0:15', false)?.errorMessage).toMatch(/: it was preempted$/);
    for (const s of ['NODE_FAIL', 'BOOT_FAIL', 'PREEMPTED', 'DEADLINE', 'REVOKED'])
      expect(outcomeOf('9', s, '0:0', false)?.to, s).toBe('UNKNOWN_ERROR');
  });
});

describe("a job's usage from accounting, as an instance's fields", () => {
  it('MaxRSS → peakMemoryBytes, elapsed → wallTimeMs, nodes → nodeName; what accounting lacks is left out', () => {
    const [rec] = [
      ...parseSacct(
        '41|TIMEOUT|0:15|None||00:01:01|00:00.2|vm\n41.batch|CANCELLED|0:15||69744K|00:01:01|00:00.2|vm\n',
      ).values(),
    ];
    expect(usageOf(rec)).toEqual({ peakMemoryBytes: 69744 * 1024, wallTimeMs: 61_000, nodeName: 'vm' });
    expect(usageOf({ jobId: '1', state: 'FAILED', exitCode: '1:0' })).toEqual({});
    expect(usageOf(undefined)).toEqual({});
  });
});
