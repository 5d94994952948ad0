// The four state machines, as plain data. The server judges every transition against these
// tables, the tests walk every (from, to) pair, and docs/state-machines.md is generated from them.
// Each edge carries the actor that may drive it and why it exists; "untimely" edges are known
// races that are logged and ignored, never errors.

export type Actor = 'client' | 'swarm' | 'distributor' | 'worker' | 'server' | 'reaper' | 'operator';

export interface Edge<S extends string> {
  readonly from: S;
  readonly to: S;
  readonly actor: Actor;
  readonly why: string;
}

export interface StateMachine<S extends string> {
  readonly name: string;
  readonly states: readonly S[];
  readonly initial: S;
  readonly terminal: readonly S[];
  readonly edges: readonly Edge<S>[];
  readonly untimely: readonly Edge<S>[];
  /** Pure lookup: is from→to a legal edge? */
  isLegal(from: S, to: S): boolean;
  /** Is from→to a known race to be ignored? */
  isUntimely(from: S, to: S): boolean;
  isState(value: string): value is S;
}

type Row<S extends string> = readonly [S, S, Actor, string];

function machine<S extends string>(
  name: string,
  states: readonly S[],
  initial: S,
  terminal: readonly S[],
  rows: readonly Row<S>[],
  untimelyRows: readonly Row<S>[],
): StateMachine<S> {
  const toEdge = ([from, to, actor, why]: Row<S>): Edge<S> => ({ from, to, actor, why });
  const edges = rows.map(toEdge);
  const untimely = untimelyRows.map(toEdge);
  const legal = new Set<string>();
  const late = new Set<string>();
  const known = new Set<string>(states);
  for (const [set, list, kind] of [
    [legal, edges, 'edge'],
    [late, untimely, 'untimely edge'],
  ] as const) {
    for (const e of list) {
      if (!known.has(e.from) || !known.has(e.to)) {
        throw new Error(`${name}: ${kind} ${e.from}→${e.to} names an unknown state`);
      }
      const key = `${e.from}>${e.to}`;
      if (set.has(key)) throw new Error(`${name}: duplicate ${kind} ${e.from}→${e.to}`);
      set.add(key);
    }
  }
  for (const key of late) {
    if (legal.has(key)) throw new Error(`${name}: ${key} is both legal and untimely`);
  }
  return {
    name,
    states,
    initial,
    terminal,
    edges,
    untimely,
    isLegal: (from, to) => legal.has(`${from}>${to}`),
    isUntimely: (from, to) => late.has(`${from}>${to}`),
    isState: (value): value is S => known.has(value),
  };
}

// ---------------------------------------------------------------------------------------------
// Workflow: moves only when its workflow run moves (see WORKFLOW_FOR_RUN).

export const WORKFLOW_STATES = [
  'REGISTERING',
  'QUEUED',
  'ABORTED',
  'INSTANTIATING',
  'LAUNCHED',
  'RUNNING',
  'DONE',
  'HALTED',
  'FAILED',
] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATES)[number];

export const workflowMachine = machine<WorkflowStatus>(
  'Workflow',
  WORKFLOW_STATES,
  'REGISTERING',
  ['DONE'],
  [
    // from,          to,              actor,    why
    ['REGISTERING', 'QUEUED', 'client', 'its new run finished binding and is ready to start'],
    ['REGISTERING', 'ABORTED', 'reaper', 'its run died while linking; the workflow can be bound again'],
    ['ABORTED', 'REGISTERING', 'client', 'a new run links to a workflow whose last bind was aborted'],
    ['FAILED', 'REGISTERING', 'client', 'a new run resumes a failed workflow'],
    ['HALTED', 'REGISTERING', 'client', 'a new run resumes a halted (stopped or resumed-away) workflow'],
    ['QUEUED', 'INSTANTIATING', 'swarm', 'the runner is starting its distributors'],
    ['QUEUED', 'FAILED', 'swarm', 'the run failed before its distributors started'],
    ['QUEUED', 'HALTED', 'server', 'a resume was requested before the run started'],
    ['QUEUED', 'DONE', 'swarm', 'its run, asked to stop before it started, found every task DONE'],
    ['INSTANTIATING', 'LAUNCHED', 'swarm', 'the distributors are up'],
    ['INSTANTIATING', 'FAILED', 'swarm', 'a distributor failed to start'],
    ['LAUNCHED', 'FAILED', 'swarm', 'the run failed before scheduling began'],
    ['LAUNCHED', 'RUNNING', 'swarm', 'the swarm began scheduling tasks'],
    ['RUNNING', 'HALTED', 'server', 'the run was stopped (Ctrl-C, an operator, a resume elsewhere); resumable'],
    ['RUNNING', 'DONE', 'swarm', 'every task is DONE'],
    ['RUNNING', 'FAILED', 'swarm', 'the run ended with tasks that could not finish'],
    [
      'DONE',
      'REGISTERING',
      'operator',
      'an operator reset it or set some of its tasks back to REGISTERING (no run live); a resume runs them',
    ],
  ],
  [['REGISTERING', 'REGISTERING', 'client', 'a second link attempt while the first is in progress']],
);

// ---------------------------------------------------------------------------------------------
// WorkflowRun: one attempt at running a workflow, owned by one runner.

export const WORKFLOW_RUN_STATES = [
  'REGISTERED',
  'LINKING',
  'BOUND',
  'ABORTED',
  'INSTANTIATED',
  'LAUNCHED',
  'RUNNING',
  'DONE',
  'STOPPED',
  'ERROR',
  'COLD_RESUME',
  'HOT_RESUME',
  'TERMINATED',
] as const;
export type WorkflowRunStatus = (typeof WORKFLOW_RUN_STATES)[number];

export const workflowRunMachine = machine<WorkflowRunStatus>(
  'WorkflowRun',
  WORKFLOW_RUN_STATES,
  'REGISTERED',
  ['DONE', 'STOPPED', 'ERROR', 'TERMINATED', 'ABORTED'],
  [
    ['REGISTERED', 'LINKING', 'client', 'the run claims its workflow; no other live run may hold it'],
    ['LINKING', 'BOUND', 'client', 'tasks are bound and reset for this run'],
    ['LINKING', 'ABORTED', 'reaper', 'the client died while binding'],
    ['BOUND', 'INSTANTIATED', 'swarm', 'the runner is starting its distributors'],
    ['INSTANTIATED', 'LAUNCHED', 'swarm', 'every distributor the DAG needs is up'],
    ['LAUNCHED', 'RUNNING', 'swarm', 'the swarm began scheduling'],
    ['INSTANTIATED', 'ERROR', 'swarm', 'a distributor failed to start'],
    ['LAUNCHED', 'ERROR', 'swarm', 'the swarm failed before scheduling'],
    ['BOUND', 'ERROR', 'swarm', 'the runner failed before starting distributors'],
    ['BOUND', 'COLD_RESUME', 'server', 'a cold resume was requested before the run started'],
    ['BOUND', 'HOT_RESUME', 'server', 'a hot resume was requested before the run started'],
    ['RUNNING', 'DONE', 'swarm', 'every task is DONE'],
    ['RUNNING', 'STOPPED', 'swarm', 'the user interrupted the run (Ctrl-C) or asked it to stop'],
    ['RUNNING', 'COLD_RESUME', 'server', 'another process asked to resume, killing what runs'],
    ['RUNNING', 'HOT_RESUME', 'server', 'another process asked to resume, letting running tasks finish'],
    ['RUNNING', 'ERROR', 'swarm', 'the run ended with tasks that could not finish, or the runner died (reaper)'],
    ['COLD_RESUME', 'TERMINATED', 'swarm', 'the old runner killed its instances and stepped aside'],
    ['HOT_RESUME', 'TERMINATED', 'swarm', 'the old runner drained and stepped aside'],
    ['COLD_RESUME', 'DONE', 'swarm', 'every task finished before the stop took effect'],
    ['HOT_RESUME', 'DONE', 'swarm', 'every task finished while the run drained'],
  ],
  [
    ['RUNNING', 'RUNNING', 'swarm', 'a heartbeat repeats the current status'],
    ['LINKING', 'LINKING', 'client', 'a retried link request'],
  ],
);

/** How a workflow follows its run. Run states missing here leave the workflow where it is. */
export const WORKFLOW_FOR_RUN: Partial<Record<WorkflowRunStatus, WorkflowStatus>> = {
  LINKING: 'REGISTERING',
  BOUND: 'QUEUED',
  ABORTED: 'ABORTED',
  INSTANTIATED: 'INSTANTIATING',
  LAUNCHED: 'LAUNCHED',
  RUNNING: 'RUNNING',
  DONE: 'DONE',
  TERMINATED: 'HALTED',
  STOPPED: 'HALTED',
  ERROR: 'FAILED',
};

/** Where a live run goes when its runner is gone (missed its deadline, or proven dead on its host). */
export const LAPSED_TO: Partial<Record<WorkflowRunStatus, WorkflowRunStatus>> = {
  LINKING: 'ABORTED',
  BOUND: 'ERROR',
  INSTANTIATED: 'ERROR',
  LAUNCHED: 'ERROR',
  RUNNING: 'ERROR',
  COLD_RESUME: 'TERMINATED',
  HOT_RESUME: 'TERMINATED',
};

/** A run in one of these states holds its workflow: no other run may link. */
export const LIVE_RUN_STATES: readonly WorkflowRunStatus[] = [
  'LINKING',
  'BOUND',
  'INSTANTIATED',
  'LAUNCHED',
  'RUNNING',
  'COLD_RESUME',
  'HOT_RESUME',
];

// ---------------------------------------------------------------------------------------------
// Task: owned by the swarm; error outcomes are applied by the server together with the instance.

export const TASK_STATES = [
  'REGISTERING',
  'QUEUED',
  'INSTANTIATING',
  'LAUNCHED',
  'RUNNING',
  'DONE',
  'ERROR_RECOVERABLE',
  'ADJUSTING_RESOURCES',
  'ERROR_FATAL',
] as const;
export type TaskStatus = (typeof TASK_STATES)[number];

/** The five groups tasks are counted in for people (`workflow status`, the GUI's bars, GET /workflows/{id}/progress). */
export const PROGRESS_GROUPS = ['PENDING', 'SCHEDULED', 'RUNNING', 'DONE', 'FATAL'] as const;
export type ProgressGroup = (typeof PROGRESS_GROUPS)[number];

/** Each task status's group. */
export const PROGRESS_GROUP_OF: Readonly<Record<TaskStatus, ProgressGroup>> = {
  REGISTERING: 'PENDING',
  ERROR_RECOVERABLE: 'PENDING',
  ADJUSTING_RESOURCES: 'PENDING',
  QUEUED: 'SCHEDULED',
  INSTANTIATING: 'SCHEDULED',
  LAUNCHED: 'SCHEDULED',
  RUNNING: 'RUNNING',
  DONE: 'DONE',
  ERROR_FATAL: 'FATAL',
};

export const taskMachine = machine<TaskStatus>(
  'Task',
  TASK_STATES,
  'REGISTERING',
  ['DONE', 'ERROR_FATAL'],
  [
    ['REGISTERING', 'QUEUED', 'swarm', 'its upstreams are DONE; an instance is created (one attempt)'],
    ['ADJUSTING_RESOURCES', 'QUEUED', 'swarm', 'resources were scaled after a resource error; retry'],
    ['QUEUED', 'INSTANTIATING', 'distributor', 'the distributor took the instance'],
    ['QUEUED', 'ERROR_RECOVERABLE', 'server', 'its instance was cancelled before submission'],
    ['INSTANTIATING', 'LAUNCHED', 'distributor', 'the instance was submitted to its cluster'],
    ['INSTANTIATING', 'ERROR_RECOVERABLE', 'distributor', 'submission failed'],
    ['INSTANTIATING', 'RUNNING', 'worker', 'the worker reported running before the launch was recorded'],
    ['LAUNCHED', 'RUNNING', 'worker', 'the command started'],
    ['LAUNCHED', 'ERROR_RECOVERABLE', 'distributor', 'the instance failed before or while starting'],
    ['RUNNING', 'DONE', 'worker', 'the command exited 0'],
    ['RUNNING', 'ERROR_RECOVERABLE', 'worker', 'the instance failed; the server decides what follows'],
    ['ERROR_RECOVERABLE', 'ADJUSTING_RESOURCES', 'server', 'a resource error with attempts left: scale, then retry'],
    [
      'ERROR_RECOVERABLE',
      'REGISTERING',
      'server',
      'an error with attempts left, or Jobmon killed it (a stop): it runs again',
    ],
    ['ERROR_RECOVERABLE', 'ERROR_FATAL', 'server', 'no attempts left, or its cluster says it cannot be retried'],
    ['QUEUED', 'REGISTERING', 'client', 'resume: a queued task of a dead run is reset'],
    ['INSTANTIATING', 'REGISTERING', 'client', 'resume: an instantiating task of a dead run is reset'],
    ['LAUNCHED', 'REGISTERING', 'client', 'resume: a launched task of a dead run is reset (its instance is killed)'],
    ['RUNNING', 'REGISTERING', 'client', 'cold resume: a running task of a dead run is reset (its instance is killed)'],
    ['ERROR_FATAL', 'REGISTERING', 'client', 'resume: a failed task gets a fresh set of attempts'],
    ['ADJUSTING_RESOURCES', 'REGISTERING', 'client', 'resume: a task awaiting new resources starts over'],
    ['ERROR_RECOVERABLE', 'QUEUED', 'swarm', 'retry directly (kept for symmetry with Jobmon)'],
    ['DONE', 'REGISTERING', 'operator', 'reset or task update (no run live): it runs again on resume, fresh attempts'],
    [
      'REGISTERING',
      'DONE',
      'operator',
      'task update (no run live): the operator vouches for its output; it is skipped',
    ],
    ['ERROR_FATAL', 'DONE', 'operator', 'task update (no run live): a failed task is accepted as done by hand'],
    ['ADJUSTING_RESOURCES', 'DONE', 'operator', 'task update (no run live): accepted as done before its retry'],
  ],
  [['DONE', 'DONE', 'worker', 'a retried done report']],
);

// ---------------------------------------------------------------------------------------------
// TaskInstance: one attempt at a task, owned by its distributor and its worker.

export const TASK_INSTANCE_STATES = [
  'QUEUED',
  'INSTANTIATED',
  'LAUNCHED',
  'RUNNING',
  'TRIAGING',
  'NO_HEARTBEAT',
  'DONE',
  'ERROR',
  'RESOURCE_ERROR',
  'UNKNOWN_ERROR',
  'NO_DISTRIBUTOR_ID',
  'KILL_SELF',
  'ERROR_FATAL',
] as const;
export type TaskInstanceStatus = (typeof TASK_INSTANCE_STATES)[number];

export const taskInstanceMachine = machine<TaskInstanceStatus>(
  'TaskInstance',
  TASK_INSTANCE_STATES,
  'QUEUED',
  ['DONE', 'ERROR', 'RESOURCE_ERROR', 'UNKNOWN_ERROR', 'NO_DISTRIBUTOR_ID', 'NO_HEARTBEAT', 'ERROR_FATAL'],
  [
    ['QUEUED', 'INSTANTIATED', 'distributor', 'the distributor took it for submission'],
    ['QUEUED', 'KILL_SELF', 'server', 'a stop or resume arrived before submission'],
    ['QUEUED', 'ERROR_FATAL', 'server', 'a stop or resume arrived before submission; no process exists'],
    ['INSTANTIATED', 'LAUNCHED', 'distributor', 'submitted; the cluster gave it an id'],
    ['INSTANTIATED', 'NO_DISTRIBUTOR_ID', 'distributor', 'submission failed'],
    ['INSTANTIATED', 'KILL_SELF', 'server', 'a stop or resume arrived during submission'],
    ['INSTANTIATED', 'ERROR_FATAL', 'server', 'a stop arrived during submission; no process exists'],
    ['INSTANTIATED', 'RUNNING', 'worker', 'the worker started before the launch was recorded'],
    ['LAUNCHED', 'RUNNING', 'worker', 'the command started'],
    ['LAUNCHED', 'UNKNOWN_ERROR', 'distributor', 'the job vanished from the cluster before starting'],
    ['LAUNCHED', 'NO_HEARTBEAT', 'server', 'it never reported running before its deadline'],
    ['LAUNCHED', 'RESOURCE_ERROR', 'distributor', 'the cluster killed it for resources before it started'],
    ['LAUNCHED', 'KILL_SELF', 'server', 'a stop or resume asks it to die'],
    ['LAUNCHED', 'ERROR_FATAL', 'distributor', 'killed by the distributor during a stop'],
    ['RUNNING', 'TRIAGING', 'server', 'no heartbeat before report_by; the distributor must classify it'],
    [
      'RUNNING',
      'ERROR',
      'worker',
      'the command exited non-zero: an application error (or Slurm says the job FAILED with an exit code)',
    ],
    ['RUNNING', 'UNKNOWN_ERROR', 'distributor', 'it died for a reason nobody reported'],
    [
      'RUNNING',
      'RESOURCE_ERROR',
      'distributor',
      'killed for exceeding its memory or runtime (or its worker saw the cgroup OOM-kill)',
    ],
    ['RUNNING', 'KILL_SELF', 'server', 'a stop or cold resume asks it to die'],
    ['RUNNING', 'DONE', 'worker', 'the command exited 0'],
    ['TRIAGING', 'RUNNING', 'distributor', 'the process is still alive; only its heartbeat was late'],
    ['TRIAGING', 'RESOURCE_ERROR', 'distributor', 'the cluster says it was killed for resources'],
    ['TRIAGING', 'UNKNOWN_ERROR', 'distributor', 'the process is gone and nobody knows why'],
    ['TRIAGING', 'ERROR_FATAL', 'distributor', 'the cluster says it cannot be retried'],
    ['KILL_SELF', 'ERROR_FATAL', 'worker', 'it obeyed the kill and is gone'],
    ['KILL_SELF', 'DONE', 'worker', 'it finished before the kill arrived'],
  ],
  [
    ['RUNNING', 'LAUNCHED', 'distributor', 'a launch report arriving after the worker said running'],
    ['ERROR', 'LAUNCHED', 'distributor', 'a launch report arriving after the instance already failed'],
    ['ERROR', 'UNKNOWN_ERROR', 'distributor', 'triage after the worker already reported the error'],
    ['ERROR', 'ERROR', 'worker', 'a retried error report'],
    ['UNKNOWN_ERROR', 'DONE', 'worker', 'the worker finished after triage gave it up'],
    ['UNKNOWN_ERROR', 'ERROR', 'worker', 'the worker reported after triage gave it up'],
    ['UNKNOWN_ERROR', 'RESOURCE_ERROR', 'distributor', 'a second triage result'],
    ['RESOURCE_ERROR', 'UNKNOWN_ERROR', 'distributor', 'a second triage result'],
    ['DONE', 'UNKNOWN_ERROR', 'distributor', 'triage after the worker already finished'],
    ['DONE', 'DONE', 'worker', 'a retried done report'],
    ['KILL_SELF', 'ERROR', 'worker', 'the command failed while being killed'],
    ['KILL_SELF', 'RESOURCE_ERROR', 'distributor', 'a resource kill raced the stop'],
    ['KILL_SELF', 'UNKNOWN_ERROR', 'distributor', 'triage raced the stop'],
    ['NO_HEARTBEAT', 'RUNNING', 'worker', 'the worker started after it was given up on'],
    ['ERROR_FATAL', 'ERROR_FATAL', 'worker', 'a retried kill report'],
    ['ERROR_FATAL', 'DONE', 'worker', 'a killed instance reporting a late finish'],
  ],
);

// ---------------------------------------------------------------------------------------------
// Error classes (DESIGN.md §3): which instance outcomes are whose fault, and which budget pays.

export const ERROR_CLASSES = ['application', 'resource', 'infrastructure', 'killed'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

export const ERROR_CLASS_OF: Partial<Record<TaskInstanceStatus, ErrorClass>> = {
  ERROR: 'application',
  RESOURCE_ERROR: 'resource',
  UNKNOWN_ERROR: 'infrastructure',
  NO_HEARTBEAT: 'infrastructure',
  NO_DISTRIBUTOR_ID: 'infrastructure',
  ERROR_FATAL: 'killed',
};

/** Instance states in which the process is (or may be) alive. */
export const ACTIVE_INSTANCE_STATES: readonly TaskInstanceStatus[] = [
  'QUEUED',
  'INSTANTIATED',
  'LAUNCHED',
  'RUNNING',
  'TRIAGING',
  'KILL_SELF',
];

/** Task states in which an instance is in flight. */
export const ACTIVE_TASK_STATES: readonly TaskStatus[] = ['QUEUED', 'INSTANTIATING', 'LAUNCHED', 'RUNNING'];

export const MACHINES = [workflowMachine, workflowRunMachine, taskMachine, taskInstanceMachine] as const;

// ---------------------------------------------------------------------------------------------
// Lists other packages act on, derived from the tables above so that the tables stay the only
// judge (states.test.ts checks each against them).

/** Instance states a distributor or worker reports on the way (not an outcome): may wait for company. */
export const INSTANCE_PROGRESS_STATES: readonly TaskInstanceStatus[] = ACTIVE_INSTANCE_STATES.filter(
  (s) => s !== taskInstanceMachine.initial,
);

/** Has an instance that entered `to` ended (its process's part is over, whatever the task makes of it)? */
export function isInstanceEnd(to: TaskInstanceStatus): boolean {
  return taskInstanceMachine.terminal.includes(to);
}

/**
 * Task states in which an instance's attempt is over: DONE, or where the server's cascade leaves
 * it after an error (another try, new resources, or given up). ERROR_RECOVERABLE only passes
 * within a transaction; the rest have an instance in flight.
 */
export const TASK_ATTEMPT_OVER_STATES: readonly TaskStatus[] = TASK_STATES.filter(
  (s) => !ACTIVE_TASK_STATES.includes(s) && s !== 'ERROR_RECOVERABLE',
);

/** Task states the swarm may queue (an edge to QUEUED it drives). */
export const QUEUEABLE_TASK_STATES: readonly TaskStatus[] = taskMachine.edges
  .filter((e) => e.to === 'QUEUED' && e.actor === 'swarm')
  .map((e) => e.from);

/**
 * Where an instance goes when its own deadline (report_by) passes without a report; the reaper
 * drives these edges. LAUNCHED never started (retried on the infrastructure budget); RUNNING must be
 * triaged by its distributor; TRIAGING nobody classified; KILL_SELF never confirmed (force cleanup).
 */
export const INSTANCE_DEADLINE_TO: Partial<Record<TaskInstanceStatus, TaskInstanceStatus>> = {
  LAUNCHED: 'NO_HEARTBEAT',
  RUNNING: 'TRIAGING',
  TRIAGING: 'UNKNOWN_ERROR',
  KILL_SELF: 'ERROR_FATAL',
};

/** The set-based form of a machine's check: the states from which `to` is a legal edge. */
export function legalFrom<S extends string>(m: StateMachine<S>, to: S): S[] {
  return m.edges.filter((e) => e.to === to).map((e) => e.from);
}
