// Ends what a command left running after its main process exited: the rest of its process group
// (`sleep 1000 &`), and descendants that left the group (`setsid …`, a double fork). Cgroups are
// not available everywhere we run, so escaped descendants are recognised by a secret: each
// command gets a random cookie in its environment (JOBMON_TASK_COOKIE), inherited by everything
// it starts, and a process is ours only if its /proc/<pid>/environ carries that cookie or it is
// still in the command's (non-empty, hence not reused) process group. Nothing else is signalled.
// A descendant that both clears its environment and leaves the group is beyond this (see
// docs/failures.md).

import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';

export const COOKIE_VAR = 'JOBMON_TASK_COOKIE';

/** Leftovers get SIGTERM to clean up after themselves, then SIGKILL; the outcome report waits. */
const GRACE_MS = 1000;
const POLL_MS = 25;
/** The cleanup note is stored in a 4096-character field: name this many processes at most. */
const NAMED_MAX = 40;

/** A fresh cookie, appended to an inherited one so a nested runner's tasks still belong to ours. */
export function cookieEnv(inherited: string | undefined): { cookie: string; value: string } {
  const cookie = randomBytes(16).toString('hex');
  return { cookie, value: inherited ? `${inherited},${cookie}` : cookie };
}

export interface Task {
  /** The command's process group (the pid of its shell). */
  pgid: number;
  cookie: string;
  /** Start time of the shell in clock ticks since boot: nothing older can be its descendant. */
  since: number;
}

interface Found {
  pid: number;
  name: string;
  inGroup: boolean;
}

const buf = Buffer.alloc(64 * 1024);

/**
 * A /proc file, or null if it is gone or not ours. Read into one reused buffer (valid until the
 * next call): thousands of these per scan must not each allocate.
 */
function readProc(path: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const n = readSync(fd, buf, 0, buf.length, 0);
    return n < buf.length ? buf.subarray(0, n) : readFileSync(path); // a huge environment
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Start time (clock ticks since boot) of a process, or 0 if it cannot be read. */
export function startTicks(pid: number): number {
  const stat = readProc(`/proc/${pid}/stat`)?.toString('latin1');
  return stat === undefined ? 0 : Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]) || 0;
}

/**
 * Start times of the processes the last scan saw. Most processes are older than any task and stay
 * so; not re-reading their stat files is most of what a scan would cost (a launcher ending hundreds
 * of tasks a second scans as often). A pid that died and was reused between two scans would be
 * skipped as old: that needs the pid space to wrap meanwhile, so the memory is dropped when older
 * than KNOWN_MS; and the cost would be a leftover missed, never a wrong process signalled.
 */
let known = new Map<number, number>();
let knownAt = 0;
const KNOWN_MS = 5000;

/** One pass over /proc finding the live leftovers of each task. */
function scan(tasks: Task[]): Map<Task, Found[]> {
  const seen = new Map<number, number>();
  if (performance.now() - knownAt > KNOWN_MS) known = new Map();
  const out = new Map<Task, Found[]>(tasks.map((t) => [t, []]));
  const byGroup = new Map(tasks.map((t) => [t.pgid, t]));
  const oldest = Math.min(...tasks.map((t) => t.since));
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const old = known.get(pid);
    if (old !== undefined && old < oldest) {
      seen.set(pid, old);
      continue;
    }
    const stat = readProc(`/proc/${name}/stat`)?.toString('latin1');
    if (stat === undefined) continue; // exited while we looked
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' ');
    // Zombies are dead already (their parent, perhaps PID 1 in a container, has not reaped them).
    if (f[0] === 'Z' || f[0] === 'X') continue;
    const started = Number(f[19]);
    seen.set(pid, started);
    if (started < oldest) continue; // older than every task
    const found = (t: Task, inGroup: boolean) =>
      out.get(t)!.push({ pid, name: stat.slice(stat.indexOf('(') + 1, close), inGroup });
    const member = byGroup.get(Number(f[2]));
    if (member && started >= member.since) {
      found(member, true);
      continue;
    }
    // null: another user's process, or gone.
    const environ = readProc(`/proc/${name}/environ`);
    if (environ === null) continue;
    for (const t of tasks) if (started >= t.since && environ.includes(t.cookie)) found(t, false);
  }
  known = seen;
  knownAt = performance.now();
  return out;
}

/** Tasks whose leftovers are wanted on the next pass: exits close together share one /proc scan. */
let queued: { task: Task; resolve: (f: Found[]) => void }[] = [];

function scanSoon(task: Task): Promise<Found[]> {
  return new Promise((resolve) => {
    if (queued.length === 0) {
      setImmediate(() => {
        const batch = queued;
        queued = [];
        const found = scan(batch.map((b) => b.task));
        for (const b of batch) b.resolve(found.get(b.task)!);
      });
    }
    queued.push({ task, resolve });
  });
}

function signal(task: Task, procs: Found[], sig: NodeJS.Signals): void {
  // The whole group at once (members forking meanwhile included); the group is non-empty, so its
  // id cannot have been reused. Escaped processes one by one.
  const targets = procs.some((p) => p.inGroup) ? [-task.pgid] : [];
  for (const p of procs) if (!p.inGroup) targets.push(p.pid);
  for (const t of targets) {
    try {
      process.kill(t, sig);
    } catch {
      // already gone
    }
  }
}

/**
 * Ends the task's leftovers (SIGTERM, then SIGKILL after a short grace) and returns a note for the
 * instance's record, or undefined when nothing was left.
 */
export async function endLeftovers(task: Task, groupSignalled = false): Promise<string | undefined> {
  const look = async (): Promise<Found[]> => {
    const found = await scanSoon(task);
    if (!groupSignalled) return found;
    // We signalled the group ourselves: its members got that signal and are on their way out (a
    // busy machine may show one for a moment). Make sure with SIGKILL, but they are the command
    // being killed, not something it left behind: neither named nor waited for here.
    const dying = found.filter((p) => p.inGroup);
    if (dying.length > 0) signal(task, dying, 'SIGKILL');
    return found.filter((p) => !p.inGroup);
  };
  const first = await look();
  if (first.length === 0) return undefined;
  signal(task, first, 'SIGTERM');
  let left = first;
  const deadline = performance.now() + GRACE_MS;
  while (left.length > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    left = await look();
  }
  // A few rounds: something that forked while being terminated is found by the next scan.
  for (let round = 0; round < 3 && left.length > 0; round++) {
    signal(task, left, 'SIGKILL');
    await new Promise((r) => setTimeout(r, POLL_MS));
    left = await look();
  }
  const named = first.slice(0, NAMED_MAX).map((p) => `${p.pid} ${p.name}${p.inGroup ? '' : ' (left the group)'}`);
  const more = first.length > NAMED_MAX ? `, and ${first.length - NAMED_MAX} more` : '';
  const still = left.length > 0 ? `; ${left.length} could not be killed` : '';
  return `killed ${first.length} leftover process${first.length === 1 ? '' : 'es'}: ${named.join(', ')}${more}${still}`;
}
