import { describe, expect, it } from 'vitest';
import {
  ERROR_CLASS_OF,
  TASK_INSTANCE_STATES,
  TASK_STATES,
  taskInstanceMachine,
  taskMachine,
  type TaskInstanceStatus,
  type TaskStatus,
} from '@jobmon/core';
import { taskOutcome, type TaskCounters } from './cascade.js';

const task = (status: TaskStatus, over: Partial<TaskCounters> = {}): TaskCounters => ({
  status,
  num_attempts: 1,
  max_attempts: 3,
  infra_failures: 0,
  max_infra_failures: 5,
  ...over,
});

/** Task statuses from which an instance failure can be recorded. */
const IN_FLIGHT = TASK_STATES.filter((s) => taskMachine.isLegal(s, 'ERROR_RECOVERABLE'));
const INFRA: TaskInstanceStatus[] = ['UNKNOWN_ERROR', 'NO_HEARTBEAT', 'NO_DISTRIBUTOR_ID'];

describe('taskOutcome', () => {
  it('walks only legal task edges, for every task status × instance status', () => {
    for (const status of TASK_STATES) {
      for (const to of TASK_INSTANCE_STATES) {
        for (const num_attempts of [0, 1, 2, 3, 4]) {
          for (const infra_failures of [0, 4, 5]) {
            const o = taskOutcome(task(status, { num_attempts, infra_failures }), to);
            let at: TaskStatus = status;
            for (const next of o.path) {
              expect(taskMachine.isLegal(at, next), `${status} + instance ${to}: ${at}→${next}`).toBe(true);
              at = next;
            }
            expect(o.num_attempts).toBeGreaterThanOrEqual(0);
            if (o.path.length === 0) {
              expect(o).toMatchObject({ num_attempts, infra_failures });
              expect(o.errorClass).toBeUndefined();
            }
          }
        }
      }
    }
  });

  it('follows an instance forward through the in-flight states', () => {
    expect(taskOutcome(task('QUEUED'), 'INSTANTIATED').path).toEqual(['INSTANTIATING']);
    expect(taskOutcome(task('INSTANTIATING'), 'LAUNCHED').path).toEqual(['LAUNCHED']);
    expect(taskOutcome(task('LAUNCHED'), 'RUNNING').path).toEqual(['RUNNING']);
    expect(taskOutcome(task('INSTANTIATING'), 'RUNNING').path).toEqual(['RUNNING']);
    expect(taskOutcome(task('RUNNING'), 'RUNNING').path).toEqual([]);
    expect(taskOutcome(task('RUNNING'), 'DONE').path).toEqual(['DONE']);
    for (const to of ['QUEUED', 'TRIAGING', 'KILL_SELF'] as const) {
      expect(taskOutcome(task('RUNNING'), to).path, to).toEqual([]);
    }
  });

  it('leaves a task that is not in flight where it is, whatever the instance says', () => {
    for (const status of TASK_STATES.filter((s) => !IN_FLIGHT.includes(s))) {
      for (const to of Object.keys(ERROR_CLASS_OF) as TaskInstanceStatus[]) {
        expect(taskOutcome(task(status), to).path, `${status} + ${to}`).toEqual([]);
      }
    }
  });

  it('spends an attempt on an application error: retry while attempts remain, then ERROR_FATAL', () => {
    for (const status of IN_FLIGHT) {
      for (let n = 0; n <= 4; n++) {
        const o = taskOutcome(task(status, { num_attempts: n, max_attempts: 3 }), 'ERROR');
        expect(o.path, `${status} attempt ${n}`).toEqual(['ERROR_RECOVERABLE', n < 3 ? 'REGISTERING' : 'ERROR_FATAL']);
        expect(o).toMatchObject({ num_attempts: n, infra_failures: 0, errorClass: 'application' });
      }
    }
    // maxAttempts 1: "don't retry my bugs".
    expect(taskOutcome(task('RUNNING', { num_attempts: 1, max_attempts: 1 }), 'ERROR').path).toEqual([
      'ERROR_RECOVERABLE',
      'ERROR_FATAL',
    ]);
  });

  it('scales resources after a resource error while attempts remain, then ERROR_FATAL', () => {
    for (const status of IN_FLIGHT) {
      for (let n = 0; n <= 4; n++) {
        const o = taskOutcome(task(status, { num_attempts: n, max_attempts: 3 }), 'RESOURCE_ERROR');
        expect(o.path, `${status} attempt ${n}`).toEqual([
          'ERROR_RECOVERABLE',
          n < 3 ? 'ADJUSTING_RESOURCES' : 'ERROR_FATAL',
        ]);
        expect(o).toMatchObject({ num_attempts: n, infra_failures: 0, errorClass: 'resource' });
      }
    }
  });

  it('refunds the attempt on an infrastructure error and spends the infrastructure budget', () => {
    for (const to of INFRA) {
      for (const status of IN_FLIGHT) {
        for (let n = 0; n <= 3; n++) {
          for (let infra = 0; infra <= 5; infra++) {
            // Attempts are exhausted, yet the infrastructure budget alone decides.
            const o = taskOutcome(
              task(status, { num_attempts: n, max_attempts: 1, infra_failures: infra, max_infra_failures: 5 }),
              to,
            );
            const label = `${to} from ${status}, attempts ${n}, infra ${infra}`;
            expect(o.num_attempts, label).toBe(Math.max(0, n - 1));
            expect(o.infra_failures, label).toBe(infra + 1);
            expect(o.errorClass, label).toBe('infrastructure');
            expect(o.path, label).toEqual(['ERROR_RECOVERABLE', infra + 1 >= 5 ? 'ERROR_FATAL' : 'REGISTERING']);
          }
        }
      }
    }
  });

  it('returns a task whose instance Jobmon killed to REGISTERING, refunding the attempt; a fatal triage verdict ends it', () => {
    for (const status of IN_FLIGHT) {
      for (const from of ['QUEUED', 'INSTANTIATED', 'LAUNCHED', 'KILL_SELF'] as const) {
        const o = taskOutcome(task(status, { num_attempts: 1, max_attempts: 1 }), 'ERROR_FATAL', from);
        expect(o.path, `${status} from ${from}`).toEqual(['ERROR_RECOVERABLE', 'REGISTERING']);
        expect(o).toMatchObject({ num_attempts: 0, infra_failures: 0, errorClass: 'killed' });
      }
      const fatal = taskOutcome(task(status, { num_attempts: 1, max_attempts: 3 }), 'ERROR_FATAL', 'TRIAGING');
      expect(fatal.path, status).toEqual(['ERROR_RECOVERABLE', 'ERROR_FATAL']);
    }
  });

  // The task state an instance in each state implies. After a legal instance edge, the task should
  // agree with the instance's new state; the exceptions are listed (and reported) below.
  const TASK_FOR_INSTANCE: Record<TaskInstanceStatus, readonly TaskStatus[]> = {
    QUEUED: ['QUEUED'],
    INSTANTIATED: ['INSTANTIATING'],
    LAUNCHED: ['LAUNCHED'],
    RUNNING: ['RUNNING'],
    TRIAGING: ['RUNNING'],
    KILL_SELF: ['QUEUED', 'INSTANTIATING', 'LAUNCHED', 'RUNNING'],
    DONE: ['DONE'],
    ERROR: ['REGISTERING', 'ERROR_FATAL'],
    RESOURCE_ERROR: ['ADJUSTING_RESOURCES', 'ERROR_FATAL'],
    UNKNOWN_ERROR: ['REGISTERING', 'ERROR_FATAL'],
    NO_HEARTBEAT: ['REGISTERING', 'ERROR_FATAL'],
    NO_DISTRIBUTOR_ID: ['REGISTERING', 'ERROR_FATAL'],
    ERROR_FATAL: ['REGISTERING', 'ERROR_FATAL'],
  };
  it('keeps the task in step with its instance on every legal instance edge', () => {
    const found: string[] = [];
    for (const e of taskInstanceMachine.edges) {
      for (const status of TASK_FOR_INSTANCE[e.from]) {
        const o = taskOutcome(task(status), e.to, e.from);
        const end = o.path.at(-1) ?? status;
        if (!TASK_FOR_INSTANCE[e.to].includes(end)) {
          found.push(`${e.from}→${e.to} with task ${status} leaves it ${end}`);
        }
      }
    }
    expect(found).toEqual([]);
  });

  it('finishes the task of an instance that finished before its kill arrived (KILL_SELF → DONE)', () => {
    // The instance ran, so the task walks the in-flight edges it missed on its way to DONE.
    expect(taskOutcome(task('QUEUED'), 'DONE', 'KILL_SELF').path).toEqual(['INSTANTIATING', 'RUNNING', 'DONE']);
    expect(taskOutcome(task('INSTANTIATING'), 'DONE', 'KILL_SELF').path).toEqual(['RUNNING', 'DONE']);
    expect(taskOutcome(task('LAUNCHED'), 'DONE', 'KILL_SELF').path).toEqual(['RUNNING', 'DONE']);
    expect(taskOutcome(task('RUNNING'), 'DONE', 'KILL_SELF').path).toEqual(['DONE']);
    // A task a resume already reset is not this attempt's any more.
    expect(taskOutcome(task('REGISTERING'), 'DONE', 'KILL_SELF').path).toEqual([]);
  });
});
