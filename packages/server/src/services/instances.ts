// Task-instance transitions, singly (worker) or in batches (distributors). Each item walks its
// path (via…, to) against the TaskInstance table; the task change it causes (see cascade.ts) is
// written in the same transaction. Untimely items are ignored; illegal ones are rejected with
// from/to; one whose compare-and-set misses (someone moved it first) is reported "moved". Either
// leaves that instance unchanged and the rest of the batch applies. A batch is planned in memory,
// then written set-based (casTasks, casInstances in db/queries/): one UPDATE for its tasks, one for
// its instances, one INSERT for its errors; a batch naming an instance or task twice goes item by item.

import {
  cleanText,
  ERROR_CLASS_OF,
  NotFoundError,
  taskInstanceMachine,
  type Actor,
  type InstanceTransitionT,
  type TaskInstanceStatus,
  type TaskStatus,
  type TransitionResultT,
} from '@jobmon/core';
import type { Db } from '../db/connect.js';
import { taskOutcome } from './cascade.js';
import { afterRead } from './test-hooks.js';
import { chunks, withTx, type PendingEvent, type Tx } from './tx.js';
import {
  casTask,
  casTasks,
  lockTasksForTransition,
  restoreTask,
  taskState,
  type TaskMove,
} from '../db/queries/task.js';
import {
  casInstance,
  casInstances,
  instanceStatus,
  latestInstanceOfTasks,
  lockInstances,
  setCleanupOnce,
  setInstanceReportBy,
  updateInstanceFacts,
  type InstanceFacts,
} from '../db/queries/task-instance.js';
import { insertInstanceError, insertInstanceErrors, type NewInstanceError } from '../db/queries/task-instance-error.js';

interface InstanceRow {
  id: number;
  status: TaskInstanceStatus;
  task_id: number;
  workflow_id: number;
  workflow_run_id: number;
}
interface TaskRow {
  id: number;
  status: TaskStatus;
  num_attempts: number;
  max_attempts: number;
  infra_failures: number;
  max_infra_failures: number;
  status_at: number;
  /** The task's newest instance id. */
  latest: number;
}

const TAIL = 10_000;
// Cleaned after cutting: the cut may split a surrogate pair, and a NUL from the task's output would
// make PostgreSQL refuse the whole batch (core/text.ts).
const tail = (s: string) => cleanText(s.length > TAIL ? s.slice(-TAIL) : s);

function fieldsFor(item: InstanceTransitionT, errorClass: string | undefined, now: number): InstanceFacts {
  const f: InstanceFacts = {};
  if (item.nextReportMs !== undefined) f.report_by = now + item.nextReportMs;
  if (item.distributorId !== undefined) f.distributor_id = item.distributorId;
  if (item.nodeName !== undefined) f.node_name = item.nodeName;
  if (item.pgid !== undefined) f.pgid = item.pgid;
  if (item.exitCode !== undefined) f.exit_code = item.exitCode;
  if (item.peakMemoryBytes !== undefined) f.peak_memory_bytes = item.peakMemoryBytes;
  if (item.wallTimeMs !== undefined) f.wall_time_ms = item.wallTimeMs;
  if (item.stdoutPath !== undefined) f.stdout_path = item.stdoutPath;
  if (item.stderrPath !== undefined) f.stderr_path = item.stderrPath;
  if (item.stdoutTail !== undefined) f.stdout_tail = tail(item.stdoutTail);
  if (item.stderrTail !== undefined) f.stderr_tail = tail(item.stderrTail);
  if (item.cleanup !== undefined) f.cleanup = cleanText(item.cleanup);
  if (errorClass !== undefined) f.error_class = errorClass;
  return f;
}

function defaultMessage(item: InstanceTransitionT, to: TaskInstanceStatus): string {
  if (item.errorMessage) return cleanText(item.errorMessage);
  if (to === 'ERROR' && item.exitCode !== undefined) {
    const t = (item.stderrTail ?? '').trim();
    return `command exited with code ${item.exitCode}${t ? `: ${cleanText(t.slice(-2000))}` : ''}`;
  }
  return `instance ended ${to}`;
}

async function load(
  tx: Tx,
  ids: number[],
): Promise<{ instances: Map<number, InstanceRow>; tasks: Map<number, TaskRow> }> {
  const instances = new Map<number, InstanceRow>();
  for (const part of chunks([...new Set(ids)], 500)) {
    for (const r of await lockInstances(tx, part)) instances.set(r.id, r);
  }
  const tasks = new Map<number, TaskRow>();
  const taskIds = [...new Set([...instances.values()].map((i) => i.task_id))];
  for (const part of chunks(taskIds, 500)) {
    for (const r of await lockTasksForTransition(tx, part)) tasks.set(r.id, { ...r, latest: 0 });
    // Only a task's newest instance may move it: a late report from an attempt that was given up
    // (a dead run's worker, a NO_HEARTBEAT launch) must not touch the attempt that replaced it.
    for (const r of await latestInstanceOfTasks(tx, part)) tasks.get(r.task_id)!.latest = Number(r.latest);
  }
  return { instances, tasks };
}

/** An item that walked its path in memory and now has rows to write. */
interface Plan {
  item: InstanceTransitionT;
  inst: InstanceRow;
  task: TaskRow;
  origInstance: TaskInstanceStatus;
  origTask: TaskRow;
  outcome: TransitionResultT['outcome'];
  message: string | undefined;
  errorClass: string | undefined;
  events: PendingEvent[];
}

async function applyOne(
  tx: Tx,
  item: InstanceTransitionT,
  inst: InstanceRow,
  task: TaskRow,
  actor: Actor,
): Promise<TransitionResultT> {
  const p = await planOne(tx, item, inst, task, actor);
  return 'id' in p ? p : writeOne(tx, p);
}

/** Walk an item's path against the table in memory: its result when nothing (or only facts) is to be
 * written, else its plan. */
async function planOne(
  tx: Tx,
  item: InstanceTransitionT,
  inst: InstanceRow,
  task: TaskRow,
  actor: Actor,
): Promise<TransitionResultT | Plan> {
  const origInstance = inst.status;
  const origTask = { ...task };
  const path = [...(item.via ?? []), item.to];
  let outcome: TransitionResultT['outcome'] = 'applied';
  let message: string | undefined;
  let errorClass: string | undefined;
  const events: PendingEvent[] = [];
  for (const step of path) {
    const from = inst.status;
    if (from === step && !taskInstanceMachine.isUntimely(from, step)) continue; // already there (retried request)
    if (taskInstanceMachine.isUntimely(from, step)) {
      if (step === item.to && events.length === 0) outcome = 'untimely';
      message = `${from}→${step} is untimely and was ignored`;
      break;
    }
    if (!taskInstanceMachine.isLegal(from, step)) {
      if (events.length === 0) {
        return {
          id: inst.id,
          outcome: 'rejected',
          status: from,
          taskId: task.id,
          taskStatus: task.status,
          message: `task instance ${inst.id} cannot move from ${from} to ${step}`,
        };
      }
      message = `stopped at ${from}: ${from}→${step} is not allowed`;
      break;
    }
    inst.status = step;
    events.push({ workflowId: inst.workflow_id, entity: 'task_instance', entityId: inst.id, from, to: step, actor });
    const cls = ERROR_CLASS_OF[step];
    if (cls !== undefined) errorClass = cls;
    if (inst.id !== task.latest) continue;
    const o = taskOutcome(task as TaskRow & { status: TaskStatus }, step, from);
    for (const t of o.path) {
      events.push({
        workflowId: inst.workflow_id,
        entity: 'task',
        entityId: task.id,
        from: task.status,
        to: t,
        actor: t === 'ERROR_RECOVERABLE' ? actor : 'server',
        context: { instanceId: inst.id, ...(o.errorClass ? { errorClass: o.errorClass } : {}) },
      });
      task.status = t;
    }
    task.num_attempts = o.num_attempts;
    task.infra_failures = o.infra_failures;
  }
  if (events.length === 0) {
    // A repeated report of the current state may carry new facts (the worker's process group).
    const f = fieldsFor(item, undefined, tx.now);
    if (item.to === inst.status && outcome === 'applied' && Object.keys(f).length > 0) {
      await updateInstanceFacts(tx, inst.id, inst.status, f);
    } else if (item.to === inst.status && item.cleanup !== undefined) {
      // An ended instance's record is fixed, but for one fact learned afterwards: the processes its
      // command left behind, killed by a cleanup pass after its outcome was reported. Written once.
      await setCleanupOnce(tx, inst.id, cleanText(item.cleanup));
    }
    return appliedResult({ inst, task, outcome, message });
  }
  return { item, inst, task, origInstance, origTask, outcome, message, errorClass, events };
}

const taskChanged = (p: Plan) => p.task.status !== p.origTask.status || p.task.num_attempts !== p.origTask.num_attempts;

/** Write one plan. Compare-and-set, task first: a miss on either means someone moved it between our
 * read and our write (pg-boss's 0 rows). That item is reported "moved" with what it found, nothing
 * of it is written, and the rest of the batch applies. */
async function writeOne(tx: Tx, p: Plan): Promise<TransitionResultT> {
  const { item, inst, task, origInstance, origTask, errorClass } = p;
  if (taskChanged(p)) {
    const applied = await casTask(tx, taskMove(p), tx.now);
    if (!applied) return moved(tx, item, inst, task, origInstance, 'task');
  }
  const f = fieldsFor(item, errorClass, tx.now);
  if (!(await casInstance(tx, inst.id, origInstance, inst.status, tx.now, f))) {
    if (taskChanged(p)) await restoreTask(tx, origTask);
    return moved(tx, item, inst, task, origInstance, 'task instance');
  }
  if (errorClass !== undefined) {
    await insertInstanceError(tx, {
      instanceId: inst.id,
      workflowId: inst.workflow_id,
      taskId: inst.task_id,
      at: tx.now,
      errorClass,
      message: defaultMessage(item, inst.status),
    });
  }
  for (const e of p.events) tx.event(e);
  return appliedResult(p);
}

function appliedResult(p: Pick<Plan, 'inst' | 'task' | 'outcome' | 'message'>): TransitionResultT {
  const { inst, task, outcome, message } = p;
  return {
    id: inst.id,
    outcome,
    status: inst.status,
    taskId: task.id,
    taskStatus: task.status,
    ...(message ? { message } : {}),
  };
}

const taskMove = (p: Plan): TaskMove => ({
  id: p.task.id,
  from: p.origTask.status,
  to: p.task.status,
  numAttempts: p.task.num_attempts,
  infraFailures: p.task.infra_failures,
});

/**
 * Write many plans with set-based statements: one compare-and-set UPDATE for their tasks, one for
 * their instances, one INSERT for their errors. Plans must touch distinct instances and tasks.
 */
async function writeMany(tx: Tx, plans: Plan[]): Promise<Map<Plan, TransitionResultT>> {
  const results = new Map<Plan, TransitionResultT>();
  const withTask = plans.filter(taskChanged);
  const tasksMoved = await casTasks(tx, withTask.map(taskMove), tx.now);
  for (const p of withTask) {
    if (!tasksMoved.has(p.task.id)) results.set(p, await moved(tx, p.item, p.inst, p.task, p.origInstance, 'task'));
  }
  const rest = plans.filter((p) => !results.has(p));
  const instancesMoved = await casInstances(
    tx,
    rest.map((p) => ({
      id: p.inst.id,
      from: p.origInstance,
      to: p.inst.status,
      facts: fieldsFor(p.item, p.errorClass, tx.now),
    })),
    tx.now,
  );
  const errors: NewInstanceError[] = [];
  for (const p of rest) {
    if (!instancesMoved.has(p.inst.id)) {
      if (taskChanged(p)) await restoreTask(tx, p.origTask);
      results.set(p, await moved(tx, p.item, p.inst, p.task, p.origInstance, 'task instance'));
      continue;
    }
    if (p.errorClass !== undefined)
      errors.push({
        instanceId: p.inst.id,
        workflowId: p.inst.workflow_id,
        taskId: p.inst.task_id,
        at: tx.now,
        errorClass: p.errorClass,
        message: defaultMessage(p.item, p.inst.status),
      });
    results.set(p, appliedResult(p));
  }
  await insertInstanceErrors(tx, errors);
  return results;
}

/** The result for an item whose compare-and-set missed; the rows in memory take what is there now. */
async function moved(
  tx: Tx,
  item: InstanceTransitionT,
  inst: InstanceRow,
  task: TaskRow,
  from: string,
  who: string,
): Promise<TransitionResultT> {
  inst.status = (await instanceStatus(tx, inst.id))!;
  Object.assign(task, await taskState(tx, task.id));
  return {
    id: inst.id,
    outcome: 'moved',
    status: inst.status,
    taskId: task.id,
    taskStatus: task.status,
    message: `task instance ${inst.id}: its ${who} was moved by someone else (now ${inst.status}, task ${task.status}) before ${from}→${item.to} could apply; nothing of this report was written`,
  };
}

export async function applyTransitions(
  db: Db,
  items: InstanceTransitionT[],
  actor: Actor,
): Promise<TransitionResultT[]> {
  return withTx(db, (tx) => applyInTx(tx, items, actor));
}

/** Apply transitions inside the caller's transaction (the reaper's). */
export async function applyInTx(tx: Tx, items: InstanceTransitionT[], actor: Actor): Promise<TransitionResultT[]> {
  const { instances, tasks } = await load(
    tx,
    items.map((i) => i.id),
  );
  await afterRead('instances', tx);
  for (const item of items) {
    if (!instances.has(item.id))
      throw new NotFoundError(`task instance ${item.id} does not exist`, { field: 'id', id: item.id });
  }
  // A later item that touches an instance or task an earlier one moved must see that move: such a
  // batch goes item by item. The usual one (each instance once) is planned in memory and written
  // with one statement per kind.
  const seenTasks = new Set<number>();
  const repeats = items.some((item) => {
    const t = instances.get(item.id)!.task_id;
    return seenTasks.size === seenTasks.add(t).size;
  });
  if (repeats) {
    const results: TransitionResultT[] = [];
    for (const item of items) {
      const inst = instances.get(item.id)!;
      results.push(await applyOne(tx, item, inst, tasks.get(inst.task_id)!, actor));
    }
    return results;
  }
  const planned: (TransitionResultT | Plan)[] = [];
  for (const item of items) {
    const inst = instances.get(item.id)!;
    planned.push(await planOne(tx, item, inst, tasks.get(inst.task_id)!, actor));
  }
  const written = await writeMany(
    tx,
    planned.filter((p): p is Plan => !('id' in p)),
  );
  return planned.map((p) => {
    if ('id' in p) return p;
    const r = written.get(p)!;
    if (r.outcome !== 'moved') for (const e of p.events) tx.event(e);
    return r;
  });
}

/** A worker's heartbeat: pushes the deadline and answers the current status (KILL_SELF means stop). */
export async function instanceHeartbeat(
  db: Db,
  id: number,
  nextReportMs: number,
): Promise<{ status: TaskInstanceStatus }> {
  return withTx(db, async (tx) => {
    const status = await instanceStatus(tx, id);
    if (status === undefined) throw new NotFoundError(`task instance ${id} does not exist`, { id });
    if (status === 'RUNNING' || status === 'LAUNCHED') {
      await setInstanceReportBy(tx, id, tx.now + nextReportMs);
    } else if (status === 'TRIAGING') {
      // A late heartbeat is proof of life: the worker was only slow (paused, swapped, a busy node).
      const { instances, tasks } = await load(tx, [id]);
      const inst = instances.get(id)!;
      const r = await applyOne(tx, { id, to: 'RUNNING', nextReportMs }, inst, tasks.get(inst.task_id)!, 'worker');
      return { status: r.status };
    }
    return { status };
  });
}
