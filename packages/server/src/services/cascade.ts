// What a task does when one of its instances moves: the pure rules, kept apart from I/O so that
// the unit tests can check them against the state tables. The server applies the instance change
// and the task change this returns in one transaction (DESIGN.md §3).

import { ERROR_CLASS_OF, taskMachine, type ErrorClass, type TaskInstanceStatus, type TaskStatus } from '@jobmon/core';

export interface TaskCounters {
  status: TaskStatus;
  num_attempts: number;
  max_attempts: number;
  infra_failures: number;
  max_infra_failures: number;
}

export interface TaskOutcome {
  /** Task statuses to walk through, in order (each a legal edge from the previous). */
  path: TaskStatus[];
  num_attempts: number;
  infra_failures: number;
  errorClass?: ErrorClass;
}

/** The in-flight task states in the order an attempt passes them. */
const FORWARD: readonly TaskStatus[] = ['QUEUED', 'INSTANTIATING', 'LAUNCHED', 'RUNNING', 'DONE'];

/**
 * The legal task edges from `from` forward to `target`, taking the longest legal step each time, or
 * [] when there is no such walk. An instance told to die before it ran may still finish
 * (KILL_SELF → DONE): its task, still QUEUED or LAUNCHED, catches up through the edges it missed.
 */
function forward(from: TaskStatus, target: TaskStatus): TaskStatus[] {
  const end = FORWARD.indexOf(target);
  let at = FORWARD.indexOf(from);
  if (at < 0 || at >= end) return [];
  const path: TaskStatus[] = [];
  while (at < end) {
    let next = -1;
    for (let j = end; j > at; j--) {
      if (taskMachine.isLegal(FORWARD[at]!, FORWARD[j]!)) {
        next = j;
        break;
      }
    }
    if (next < 0) return [];
    path.push(FORWARD[next]!);
    at = next;
  }
  return path;
}

/**
 * The task path caused by an instance entering `to` (from `from`), or an empty path when the task
 * stays. An instance that Jobmon killed (a stop, a resume, its run ended) leaves its task waiting to
 * run again (REGISTERING, the attempt refunded): it runs on resume; only a cluster's verdict in
 * triage (TRIAGING → ERROR_FATAL) ends the task.
 */
export function taskOutcome(task: TaskCounters, to: TaskInstanceStatus, from?: TaskInstanceStatus): TaskOutcome {
  const same = { path: [] as TaskStatus[], num_attempts: task.num_attempts, infra_failures: task.infra_failures };
  const step = (target: TaskStatus): TaskOutcome =>
    taskMachine.isLegal(task.status, target) ? { ...same, path: [target] } : same;
  switch (to) {
    case 'INSTANTIATED':
      return step('INSTANTIATING');
    case 'LAUNCHED':
      return step('LAUNCHED');
    case 'RUNNING':
      return task.status === 'RUNNING' ? same : step('RUNNING');
    case 'DONE':
      return { ...same, path: forward(task.status, 'DONE') };
    case 'TRIAGING':
    case 'KILL_SELF':
    case 'QUEUED':
      return same;
    default:
      break;
  }
  const errorClass = ERROR_CLASS_OF[to];
  if (errorClass === undefined || !taskMachine.isLegal(task.status, 'ERROR_RECOVERABLE')) return same;
  let num = task.num_attempts;
  let infra = task.infra_failures;
  let next: TaskStatus;
  switch (errorClass) {
    case 'application':
      next = num >= task.max_attempts ? 'ERROR_FATAL' : 'REGISTERING';
      break;
    case 'resource':
      next = num >= task.max_attempts ? 'ERROR_FATAL' : 'ADJUSTING_RESOURCES';
      break;
    case 'infrastructure':
      // Infrastructure errors are not the user's fault: refund the attempt, spend the infra budget.
      num = Math.max(0, num - 1);
      infra += 1;
      next = infra >= task.max_infra_failures ? 'ERROR_FATAL' : 'REGISTERING';
      break;
    case 'killed':
      if (from === 'TRIAGING') {
        next = 'ERROR_FATAL';
      } else {
        num = Math.max(0, num - 1);
        next = 'REGISTERING';
      }
      break;
  }
  return { path: ['ERROR_RECOVERABLE', next], num_attempts: num, infra_failures: infra, errorClass };
}
