// Shared checks for the end-to-end and fault-injection tests: live members of a process group, and
// whether the event log agrees with the states the database holds.

import { readdirSync, readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';

/**
 * Processes of a group that are still alive. Zombies do not count: a killed command's children
 * are reparented to PID 1, which in some containers never reaps them, so process.kill(-pgid, 0)
 * would still succeed for a group whose every process is dead.
 */
export function liveGroupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // exited while we looked
    }
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') out.push(Number(name));
  }
  return out;
}

/**
 * For every task and instance of the workflow, the last event names the status the database holds
 * (a task with no event never left the REGISTERING it was bound in). Returns the mismatches.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function eventLogMismatches(db: Kysely<any>, workflowId: number): Promise<string[]> {
  const events = await db
    .selectFrom('event')
    .select(['entity', 'entity_id', 'to_status'])
    .where('workflow_id', '=', workflowId)
    .orderBy('seq')
    .execute();
  const last = new Map<string, string>();
  for (const e of events) last.set(`${e.entity}:${e.entity_id}`, e.to_status);
  const out: string[] = [];
  const tasks = await db.selectFrom('task').select(['id', 'status']).where('workflow_id', '=', workflowId).execute();
  for (const t of tasks) {
    const seen = last.get(`task:${t.id}`) ?? 'REGISTERING';
    if (seen !== t.status) out.push(`task ${t.id}: log says ${seen}, database ${t.status}`);
  }
  const insts = await db
    .selectFrom('task_instance')
    .select(['id', 'status'])
    .where('workflow_id', '=', workflowId)
    .execute();
  for (const i of insts) {
    const seen = last.get(`task_instance:${i.id}`);
    if (seen !== i.status) out.push(`instance ${i.id}: log says ${seen}, database ${i.status}`);
  }
  if (tasks.length === 0) out.push(`workflow ${workflowId} has no tasks`);
  return out;
}

/** Live (non-zombie) processes whose command line contains `marker`, e.g. a unique argument. */
export function liveWithArg(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const state = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (/^\S+ \(.*\) [ZX]/.test(state)) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(marker)) out.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** SIGKILL whatever liveWithArg finds: a failing test must not leak the processes it made. */
export function killWithArg(marker: string): void {
  for (const pid of liveWithArg(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
