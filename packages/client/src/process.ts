// Who runs a workflow run, precisely enough to prove later that it is gone: the boot and the start
// time of a process (Linux: /proc/sys/kernel/random/boot_id and field 22 of /proc/<pid>/stat). A
// pid alone is not enough — pids are reused — but a pid with its start time in one boot names one
// process for ever.

import { readFileSync } from 'node:fs';

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** `<boot id>:<start time in clock ticks>` of a live process, or null (gone, a zombie, or not Linux). */
export function processStart(pid: number): string | null {
  const boot = bootId();
  if (boot === null || !Number.isInteger(pid) || pid < 1) return null;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return null;
  return `${boot}:${rest[19]}`;
}

/**
 * True only when it is certain that the process recorded as `recorded` (see processStart) no longer
 * runs on this machine: this boot has no such process (the pid is free, a zombie, or reused by a
 * later process), or the machine has rebooted since. Unknown (not Linux, nothing recorded) is false.
 */
export function provablyGone(pid: number, recorded: string | null | undefined): boolean {
  if (!recorded) return false;
  const boot = bootId();
  if (boot === null) return false;
  if (!recorded.startsWith(`${boot}:`)) return true; // recorded in an earlier boot
  return processStart(pid) !== recorded;
}
