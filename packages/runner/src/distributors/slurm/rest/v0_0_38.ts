// The v0.0.38 data parser (Slurm 22.05): paths /slurm/v0.0.38/… and /slurmdb/v0.0.38/…. Its quirks,
// all seen on the cluster scripts/slurm-local.sh starts (answers recorded in
// packages/runner/test/fixtures/slurmrest-v0.0.38/):
// * submit: `environment` is an object, `time_limit` minutes, `memory_per_node` MB, `array` a string;
//   a refused submit is HTTP 500 with errors[].error ("Invalid partition name specified").
// * the job list (GET /slurm/v0.0.38/jobs) takes no filter but update_time: it holds every job the
//   controller knows, finished ones too (for MinJobAge); `exit_code` is the raw wait status. Array
//   elements not started yet are ONE entry: array_task_id null, array_task_string `4-9%2`.
// * slurmdb (GET /slurmdb/v0.0.38/jobs?step=1,2): `step` is sacct's -j list (the comma must be
//   URL-encoded, or: "Unable to parse query."). Its `exit_code` says SUCCESS/0 for a job that
//   exited 3 (22.05.8); signals are right. The transport corrects it from the job list.
//   MaxRSS is in steps[].tres.requested.max (type mem, bytes); kill_request_user is a user name.
// * partitions: -1 means unlimited (maximum_cpus_per_node, max_time_limit); nodes: real_memory MB.

import { isFinalState } from '../states.js';
import type { AccountingRecord, JobId, JobSpec, Partition } from '../transport.js';
import { expandIndices, waitStatusToExitCode, type DbJob, type ListedJob, type RestAdapter } from './adapter.js';
import { Reader } from './check.js';

const V = 'v0.0.38';

function errorsOf(json: unknown): string[] {
  if (typeof json !== 'object' || json === null) return [];
  const errs = (json as Record<string, unknown>)['errors'];
  if (!Array.isArray(errs)) return [];
  return errs.map((e) => {
    if (typeof e !== 'object' || e === null) return JSON.stringify(e);
    const r = e as Record<string, unknown>;
    const parts = [r['error'], r['description']].filter((x): x is string => typeof x === 'string' && x !== '');
    const code = r['error_number'] ?? r['error_code'];
    return `${parts.join(': ') || 'error'}${typeof code === 'number' ? ` (${code})` : ''}`;
  });
}

export const v0_0_38: RestAdapter = {
  version: V,
  paths: {
    submit: `/slurm/${V}/job/submit`,
    jobs: `/slurm/${V}/jobs`,
    job: (id) => `/slurm/${V}/job/${encodeURIComponent(id)}`,
    dbJobs: (ids) => `/slurmdb/${V}/jobs?step=${encodeURIComponent(ids.join(','))}`,
    partitions: `/slurm/${V}/partitions`,
    nodes: `/slurm/${V}/nodes`,
  },

  submitBody(spec: JobSpec, environment: Record<string, string>): unknown {
    const job: Record<string, unknown> = {
      name: spec.name,
      current_working_directory: spec.cwd,
      standard_output: spec.output,
      standard_error: spec.output,
      environment,
    };
    if (spec.partition !== undefined) job['partition'] = spec.partition;
    if (spec.account !== undefined) job['account'] = spec.account;
    if (spec.cpusPerTask !== undefined) job['cpus_per_task'] = spec.cpusPerTask;
    if (spec.memoryMiB !== undefined) job['memory_per_node'] = spec.memoryMiB;
    if (spec.timeMinutes !== undefined) job['time_limit'] = spec.timeMinutes;
    if (spec.constraint !== undefined) job['constraints'] = spec.constraint;
    if (spec.array !== undefined) {
      const { size, throttle } = spec.array;
      job['array'] = `0-${size - 1}${throttle !== undefined ? `%${throttle}` : ''}`;
    }
    return { job, script: spec.script };
  },

  parseSubmit(status: number, json: unknown) {
    const errs = errorsOf(json);
    const r = new Reader('POST job/submit');
    if (status !== 200 || errs.length > 0)
      return { error: `slurmrestd refused the job (HTTP ${status}): ${errs.join('; ') || 'no reason given'}` };
    const id = r.int(r.obj(json, '(answer)')['job_id'], 'job_id');
    return { jobId: String(id) };
  },

  parseJobs(json: unknown): ListedJob[] {
    const r = new Reader(`GET ${v0_0_38.paths.jobs}`);
    const jobs = r.arr(r.obj(json, '(answer)')['jobs'], 'jobs');
    const out: ListedJob[] = [];
    jobs.forEach((j, i) => {
      const p = `jobs[${i}]`;
      const o = r.obj(j, p);
      const jobId = r.int(o['job_id'], `${p}.job_id`);
      const state = r.str(o['job_state'], `${p}.job_state`);
      const arrayJob = r.optInt(o['array_job_id'], `${p}.array_job_id`) ?? 0;
      const task = r.intOrNull(o['array_task_id'] ?? null, `${p}.array_task_id`);
      const reason = r.optStr(o['state_reason'], `${p}.state_reason`);
      const name = r.optStr(o['name'], `${p}.name`);
      const entry = { state, ...(reason && reason !== 'None' ? { reason } : {}), ...(name ? { name } : {}) };
      const exitCode = isFinalState(state) ? waitStatusToExitCode(r.int(o['exit_code'], `${p}.exit_code`)) : undefined;
      const add = (key: JobId, base: JobId) =>
        out.push({ key, base, entry, ...(exitCode !== undefined ? { exitCode } : {}) });
      if (arrayJob === 0) {
        add(String(jobId), String(jobId));
      } else if (task !== null) {
        add(`${arrayJob}_${task}`, String(arrayJob));
      } else {
        // The array's elements not started yet, as one entry: expand them.
        const expr = r.str(o['array_task_string'], `${p}.array_task_string`);
        if (expr === '') add(String(arrayJob), String(arrayJob));
        else {
          let indices: number[] = [];
          try {
            indices = expandIndices(expr);
          } catch (e) {
            r.fail(`${p}.array_task_string`, `an index expression (${(e as Error).message})`, expr);
          }
          for (const k of indices) add(`${arrayJob}_${k}`, String(arrayJob));
        }
      }
    });
    return out;
  },

  parseDbJobs(json: unknown): DbJob[] {
    const r = new Reader('GET /slurmdb/v0.0.38/jobs');
    const jobs = r.arr(r.obj(json, '(answer)')['jobs'], 'jobs');
    const out: DbJob[] = [];
    jobs.forEach((j, i) => {
      const p = `jobs[${i}]`;
      const o = r.obj(j, p);
      const jobId = r.int(o['job_id'], `${p}.job_id`);
      const array = r.obj(o['array'], `${p}.array`);
      const arrayJob = r.optInt(array['job_id'], `${p}.array.job_id`) ?? 0;
      const task = r.intOrNull(array['task_id'] ?? null, `${p}.array.task_id`);
      // An array's elements not started yet (one record, no task id): nothing to account yet.
      if (arrayJob !== 0 && task === null) return;
      const key = arrayJob !== 0 ? `${arrayJob}_${task}` : String(jobId);
      const st = r.obj(o['state'], `${p}.state`);
      const state = r.str(st['current'], `${p}.state.current`);
      const reason = r.optStr(st['reason'], `${p}.state.reason`);
      const record: AccountingRecord = {
        jobId: key,
        state: state.split(' ')[0]!,
        exitCode: exitOf(r, o['exit_code'], `${p}.exit_code`),
      };
      if (reason && reason !== 'None') record.reason = reason;
      const time = r.obj(o['time'], `${p}.time`);
      const elapsed = r.optInt(time['elapsed'], `${p}.time.elapsed`);
      if (elapsed !== undefined) record.elapsedSeconds = elapsed;
      // CPU time: the job's own total is 0 in 22.05; sacct's TotalCPU is the sum over its steps.
      const jobCpu = seconds(r, time['total'], `${p}.time.total`);
      let stepsCpu: number | undefined;
      const nodes = r.optStr(o['nodes'], `${p}.nodes`);
      if (nodes && nodes !== 'None assigned') record.nodes = nodes;
      let rss: number | undefined;
      r.arr(o['steps'] ?? [], `${p}.steps`).forEach((s, k) => {
        const sp = `${p}.steps[${k}]`;
        const stepTime = r.obj(r.obj(s, sp)['time'] ?? {}, `${sp}.time`);
        const stepCpu = seconds(r, stepTime['total'], `${sp}.time.total`);
        if (stepCpu !== undefined) stepsCpu = (stepsCpu ?? 0) + stepCpu;
        const tres = r.obj(r.obj(s, sp)['tres'] ?? {}, `${sp}.tres`);
        const requested = r.obj(tres['requested'] ?? {}, `${sp}.tres.requested`);
        r.arr(requested['max'] ?? [], `${sp}.tres.requested.max`).forEach((t, m) => {
          const tp = `${sp}.tres.requested.max[${m}]`;
          const to = r.obj(t, tp);
          if (to['type'] !== 'mem') return;
          const count = r.optInt(to['count'], `${tp}.count`);
          if (count !== undefined) rss = Math.max(rss ?? 0, count);
        });
      });
      if (rss !== undefined) record.maxRssBytes = rss;
      const cpu = stepsCpu ?? jobCpu;
      if (cpu !== undefined) record.cpuSeconds = cpu;
      const killer = r.optStr(o['kill_request_user'], `${p}.kill_request_user`);
      out.push({ record, ...(killer ? { killRequestUser: killer } : {}) });
    });
    return out;
  },

  parsePartitions(partitions: unknown, nodes: unknown): Partition[] {
    const r = new Reader(`GET ${v0_0_38.paths.partitions} and ${v0_0_38.paths.nodes}`);
    const nodeFacts = new Map<string, { cpus: number; mem: number }>();
    r.arr(r.obj(nodes, '(nodes answer)')['nodes'], 'nodes').forEach((n, i) => {
      const o = r.obj(n, `nodes[${i}]`);
      nodeFacts.set(r.str(o['name'], `nodes[${i}].name`), {
        cpus: r.int(o['cpus'], `nodes[${i}].cpus`),
        mem: r.int(o['real_memory'], `nodes[${i}].real_memory`),
      });
    });
    const limit = (v: number | undefined) => (v === undefined || v < 0 ? undefined : v);
    return r.arr(r.obj(partitions, '(partitions answer)')['partitions'], 'partitions').map((pt, i) => {
      const p = `partitions[${i}]`;
      const o = r.obj(pt, p);
      const flags = r.arr(o['flags'] ?? [], `${p}.flags`);
      const names = (r.optStr(o['nodes'], `${p}.nodes`) ?? '').split(',').filter((n) => nodeFacts.has(n));
      const ns = names.length > 0 ? names.map((n) => nodeFacts.get(n)!) : [...nodeFacts.values()];
      const biggest = (k: 'cpus' | 'mem') => Math.max(0, ...ns.map((n) => n[k])) || undefined;
      const min = (...v: (number | undefined)[]) => {
        const d = v.filter((x): x is number => x !== undefined);
        return d.length ? Math.min(...d) : undefined;
      };
      const out: Partition = {
        name: r.str(o['name'], `${p}.name`),
        isDefault: flags.includes('default'),
        state: r.optStr(o['state'], `${p}.state`) ?? 'UNKNOWN',
      };
      const cpus = min(limit(r.optInt(o['maximum_cpus_per_node'], `${p}.maximum_cpus_per_node`)), biggest('cpus'));
      if (cpus !== undefined) out.maxCpusPerNode = cpus;
      const mem = min(limit(r.optInt(o['maximum_memory_per_node'], `${p}.maximum_memory_per_node`)), biggest('mem'));
      if (mem !== undefined) out.maxMemoryMiB = mem;
      const time = limit(r.optInt(o['max_time_limit'], `${p}.max_time_limit`));
      if (time !== undefined) out.maxTimeMinutes = time;
      return out;
    });
  },

  errors: errorsOf,
};

/** slurmdb's exit_code object → `code:signal` (SIGNALED: `0:<signal>`). */
function exitOf(r: Reader, v: unknown, path: string): string {
  const o = r.obj(v, path);
  const status = r.str(o['status'], `${path}.status`);
  if (status === 'SIGNALED') {
    const sig = r.obj(o['signal'], `${path}.signal`);
    return `0:${r.int(sig['signal_id'], `${path}.signal.signal_id`)}`;
  }
  return `${r.optInt(o['return_code'], `${path}.return_code`) ?? 0}:0`;
}

/** A {seconds, microseconds} time → seconds (undefined when absent). */
function seconds(r: Reader, v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const o = r.obj(v, path);
  return (
    (r.optInt(o['seconds'], `${path}.seconds`) ?? 0) + (r.optInt(o['microseconds'], `${path}.microseconds`) ?? 0) / 1e6
  );
}
