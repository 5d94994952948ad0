// The command-line transport: sbatch, squeue, sacct, scancel and scontrol on a submit host. Each
// method is one child process (facts: three), so the distributor's polling budget — one queue
// and one accounting call per cycle — is one squeue and one sacct.

import { describeFailure, runCommand } from './cli.js';
import { expandIndices } from './rest/adapter.js';
import { isFinalState } from './states.js';
import {
  DEFAULT_MAX_ARRAY_SIZE,
  newCalls,
  type AccountingRecord,
  type ClusterFacts,
  type JobId,
  type JobSpec,
  type Partition,
  type QueueEntry,
  type SlurmTransport,
} from './transport.js';

/** Quote for a POSIX shell: one single-quoted word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** sbatch's options for a spec, in a stable order (the script comes on stdin). */
export function sbatchArgs(spec: JobSpec): string[] {
  const a = ['--parsable', `--job-name=${spec.name}`, `--output=${spec.output}`, `--chdir=${spec.cwd}`];
  if (spec.partition !== undefined) a.push(`--partition=${spec.partition}`);
  if (spec.account !== undefined) a.push(`--account=${spec.account}`);
  if (spec.cpusPerTask !== undefined) a.push(`--cpus-per-task=${spec.cpusPerTask}`);
  if (spec.memoryMiB !== undefined) a.push(`--mem=${spec.memoryMiB}M`);
  if (spec.timeMinutes !== undefined) a.push(`--time=${spec.timeMinutes}`);
  if (spec.constraint !== undefined) a.push(`--constraint=${spec.constraint}`);
  if (spec.array !== undefined) {
    const { size, throttle } = spec.array;
    a.push(`--array=0-${size - 1}${throttle !== undefined ? `%${throttle}` : ''}`);
  }
  a.push(`--export=${Array.isArray(spec.exportEnv) ? spec.exportEnv.join(',') || 'NONE' : spec.exportEnv}`);
  return a;
}

/** The script sbatch reads: the spec's script with its variables exported right after the #! line. */
export function scriptWithEnv(spec: JobSpec): string {
  const [first, ...rest] = spec.script.split('\n');
  const exports = Object.entries(spec.env)
    .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  return [first, ...exports, ...rest].join('\n');
}

/** `2-03:04:05`, `03:04:05`, `04:05`, `4:05.123` → seconds. */
export function parseDuration(s: string): number | undefined {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(s.trim());
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 86_400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** sacct's MaxRSS (`1234K`, `56M`, `2G`, or bytes) → bytes. */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGTP]?)$/i.exec(s.trim());
  if (!m) return undefined;
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5 }[m[2]!.toUpperCase()]!;
  return Math.round(Number(m[1]) * unit);
}

/** `scontrol --oneliner show …` lines → one key=value record per line. */
function records(stdout: string): Record<string, string>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const r: Record<string, string> = {};
      for (const w of l.trim().split(/\s+/)) {
        const i = w.indexOf('=');
        if (i > 0) r[w.slice(0, i)] = w.slice(i + 1);
      }
      return r;
    });
}

const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);

/** Partitions from `scontrol show partition` and `scontrol show node` (both --oneliner). */
export function parsePartitions(partitions: string, nodes: string): Partition[] {
  const nodeFacts = new Map(records(nodes).map((n) => [n['NodeName']!, n]));
  return records(partitions).map((p) => {
    // The nodes it holds, when the list names them one by one (else: the biggest node anywhere).
    const names = (p['Nodes'] ?? '').split(',').filter((n) => nodeFacts.has(n));
    const ns = names.length > 0 ? names.map((n) => nodeFacts.get(n)!) : [...nodeFacts.values()];
    const maxOf = (k: string) => Math.max(0, ...ns.map((n) => num(n[k]) ?? 0)) || undefined;
    const minDefined = (...v: (number | undefined)[]) => {
      const d = v.filter((x): x is number => x !== undefined);
      return d.length ? Math.min(...d) : undefined;
    };
    const maxTime = p['MaxTime'];
    const minutes = maxTime === undefined || maxTime === 'UNLIMITED' ? undefined : parseDuration(`${maxTime}`);
    const out: Partition = {
      name: p['PartitionName']!,
      isDefault: p['Default'] === 'YES',
      state: p['State'] ?? 'UNKNOWN',
    };
    const cpus = minDefined(num(p['MaxCPUsPerNode']), maxOf('CPUTot'));
    if (cpus !== undefined) out.maxCpusPerNode = cpus;
    const mem = minDefined(num(p['MaxMemPerNode']), maxOf('RealMemory'));
    if (mem !== undefined) out.maxMemoryMiB = mem;
    if (minutes !== undefined) out.maxTimeMinutes = Math.floor(minutes / 60);
    return out;
  });
}

export class CliTransport implements SlurmTransport {
  readonly kind = 'cli' as const;
  readonly calls = newCalls();

  async submit(spec: JobSpec): Promise<{ jobId: JobId } | { error: string }> {
    this.calls.submit++;
    const r = await runCommand('sbatch', sbatchArgs(spec), { input: scriptWithEnv(spec), timeoutMs: 60_000 });
    const id = /^(\d+)/.exec(r.stdout.trim())?.[1];
    if (r.code !== 0 || id === undefined) return { error: describeFailure('sbatch', r) };
    return { jobId: id };
  }

  async queue(jobIds: JobId[]): Promise<Map<JobId, QueueEntry>> {
    const out = new Map<JobId, QueueEntry>();
    if (jobIds.length === 0) return out;
    this.calls.queue++;
    const r = await runCommand('squeue', [
      '--noheader',
      '--array',
      '--format=%i|%T|%r|%j',
      `--jobs=${jobIds.join(',')}`,
    ]);
    // None of the ids is known any more: squeue says so and exits 1.
    if (r.code === 1 && /Invalid job id specified/i.test(r.stderr)) return out;
    if (r.code !== 0) throw new Error(describeFailure('squeue', r));
    for (const line of r.stdout.split('\n')) {
      const [id, state, reason, ...name] = line.trim().split('|');
      if (id && state)
        out.set(id, { state, ...(reason ? { reason } : {}), ...(name.length > 0 ? { name: name.join('|') } : {}) });
    }
    return out;
  }

  async accounting(jobIds: JobId[]): Promise<Map<JobId, AccountingRecord>> {
    const out = new Map<JobId, AccountingRecord>();
    if (jobIds.length === 0) return out;
    this.calls.accounting++;
    const r = await runCommand('sacct', [
      '--noheader',
      '--parsable2',
      '--format=JobID,State,ExitCode,Reason,MaxRSS,Elapsed,TotalCPU,NodeList',
      `--jobs=${jobIds.join(',')}`,
    ]);
    if (r.code !== 0) throw new Error(describeFailure('sacct', r));
    return parseSacct(r.stdout);
  }

  async cancel(jobIds: JobId[]): Promise<void> {
    if (jobIds.length === 0) return;
    this.calls.cancel++;
    const r = await runCommand('scancel', jobIds);
    // A job that already ended is no failure ("Job/step already completing or completed").
    if (r.code !== 0 && !/already complet|Invalid job id/i.test(r.stderr))
      throw new Error(describeFailure('scancel', r));
  }

  async facts(): Promise<ClusterFacts> {
    this.calls.facts++;
    const [config, partitions, nodes] = await Promise.all([
      runCommand('scontrol', ['show', 'config']),
      runCommand('scontrol', ['--oneliner', 'show', 'partition']),
      runCommand('scontrol', ['--oneliner', 'show', 'node']),
    ]);
    for (const [what, r] of [
      ['scontrol show config', config],
      ['scontrol show partition', partitions],
      ['scontrol show node', nodes],
    ] as const)
      if (r.code !== 0) throw new Error(describeFailure(what, r));
    const max = /^MaxArraySize\s*=\s*(\d+)/m.exec(config.stdout)?.[1];
    return {
      maxArraySize: max !== undefined ? Number(max) : DEFAULT_MAX_ARRAY_SIZE,
      partitions: parsePartitions(partitions.stdout, nodes.stdout),
    };
  }
}

/**
 * sacct --parsable2 lines (JobID,State,ExitCode,Reason,MaxRSS,Elapsed,TotalCPU,NodeList), one per
 * allocation and one per step (`123_4.batch`): the allocation gives state, exit code, elapsed, CPU
 * time and nodes; the steps give the peak memory. Pending array ranges (`123_[5-9]`) are skipped.
 */
export function parseSacct(stdout: string): Map<JobId, AccountingRecord> {
  const out = new Map<JobId, AccountingRecord>();
  const rss = new Map<JobId, number>();
  for (const line of stdout.split('\n')) {
    const [id, state, exitCode, reason, maxRss, elapsed, totalCpu, nodes] = line.trim().split('|');
    if (!id || !state) continue;
    const range = /^(\d+)_\[([^\]]+)\]$/.exec(id);
    if (range) {
      // Elements that never started, as one line (`123_[4-7]`): pending ones are not news, but a
      // final state (an array cancelled before they ran) is each element's end.
      const first = state.split(' ')[0]!;
      if (!isFinalState(first)) continue;
      let indices: number[] = [];
      try {
        indices = expandIndices(range[2]!);
      } catch {
        continue; // not an index list we know: those elements wait for accounting's own lines
      }
      for (const k of indices) {
        const [, by, uid] = state.split(' ');
        const rec: AccountingRecord = { jobId: `${range[1]}_${k}`, state: first, exitCode: exitCode ?? '' };
        if (by === 'by' && num(uid) !== undefined) rec.cancelledBy = num(uid)!;
        out.set(rec.jobId, rec);
      }
      continue;
    }
    const dot = id.indexOf('.');
    if (dot >= 0) {
      const bytes = parseSize(maxRss ?? '');
      const job = id.slice(0, dot);
      if (bytes !== undefined) rss.set(job, Math.max(rss.get(job) ?? 0, bytes));
      continue;
    }
    const [first, by, uid] = state.split(' ');
    const rec: AccountingRecord = { jobId: id, state: first!, exitCode: exitCode ?? '' };
    if (by === 'by' && num(uid) !== undefined) rec.cancelledBy = num(uid)!;
    if (reason && reason !== 'None') rec.reason = reason;
    const e = parseDuration(elapsed ?? '');
    if (e !== undefined) rec.elapsedSeconds = e;
    const c = parseDuration(totalCpu ?? '');
    if (c !== undefined) rec.cpuSeconds = c;
    if (nodes && nodes !== 'None assigned') rec.nodes = nodes;
    out.set(id, rec);
  }
  for (const [id, bytes] of rss) {
    const rec = out.get(id);
    if (rec) rec.maxRssBytes = bytes;
  }
  return out;
}
