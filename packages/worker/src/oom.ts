// How many processes the kernel's OOM killer has killed in this process's memory cgroup and the
// cgroups above it up to its Slurm job's: a command that died of SIGKILL while this count went up was killed for memory
// (a Slurm job's cgroup limit, --mem), not by someone. cgroup v1: /proc/self/cgroup's `memory`
// line → /sys/fs/cgroup/memory/<path>/memory.oom_control (`oom_kill N`); v2: the `0::<path>` line
// → /sys/fs/cgroup/<path>/memory.events (`oom_kill N`). memory.failcnt is not used: it counts
// the times the limit was reached, which the kernel often survives by reclaiming.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CgroupPaths {
  /** Where cgroups are mounted (default /sys/fs/cgroup). */
  root?: string;
  /** The text of /proc/self/cgroup (default: read it). */
  procCgroup?: string;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The `oom_kill N` counter of one cgroup file's text; undefined when it has none. */
export function oomKillOf(text: string | undefined): number | undefined {
  const m = text === undefined ? null : /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The files to read: this process's memory cgroup and those above it up to its job's (Slurm). */
export function oomFiles(procCgroup: string, root: string): string[] {
  const lines = procCgroup.split('\n').map((l) => l.split(':'));
  const v1 = lines.find((p) => p.length >= 3 && p[1]!.split(',').includes('memory'));
  const v2 = lines.find((p) => p.length >= 3 && p[0] === '0' && p[1] === '');
  const [base, path, file] = v1
    ? [join(root, 'memory'), v1.slice(2).join(':'), 'memory.oom_control']
    : v2
      ? [root, v2.slice(2).join(':'), 'memory.events']
      : [undefined, undefined, undefined];
  if (base === undefined || path === undefined || !path.startsWith('/')) return [];
  const parts = path.split('/').filter((p) => p && p !== '..' && p !== '.');
  // Up to the job's own cgroup (Slurm: …/job_<id>/…), never above: a parent holds other jobs'
  // kills too. Outside a job: this cgroup only.
  const job = parts.findIndex((p) => /^job_\d+$/.test(p));
  const top = job >= 0 ? job + 1 : parts.length;
  const out: string[] = [];
  for (let n = parts.length; n >= top && n >= 1; n--) out.push(join(base, ...parts.slice(0, n), file));
  return out;
}

/**
 * The OOM kills counted in this process's memory cgroup and those above it (summed); undefined
 * when no such counter can be read (no memory cgroup, an old kernel, another OS).
 */
export function oomKills(paths: CgroupPaths = {}): number | undefined {
  const proc = paths.procCgroup ?? read('/proc/self/cgroup');
  if (proc === undefined) return undefined;
  let total: number | undefined;
  for (const f of oomFiles(proc, paths.root ?? '/sys/fs/cgroup')) {
    const n = oomKillOf(read(f));
    if (n !== undefined) total = (total ?? 0) + n;
  }
  return total;
}
