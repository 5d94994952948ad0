import { describe, expect, it } from 'vitest';
import {
  ACTIVE_INSTANCE_STATES,
  ERROR_CLASS_OF,
  ERROR_CLASSES,
  INSTANCE_DEADLINE_TO,
  INSTANCE_PROGRESS_STATES,
  LAPSED_TO,
  LIVE_RUN_STATES,
  QUEUEABLE_TASK_STATES,
  TASK_ATTEMPT_OVER_STATES,
  isInstanceEnd,
  legalFrom,
  taskMachine,
  MACHINES,
  TASK_INSTANCE_STATES,
  WORKFLOW_FOR_RUN,
  WORKFLOW_RUN_STATES,
  WORKFLOW_STATES,
  taskInstanceMachine,
  workflowMachine,
  workflowRunMachine,
  type Actor,
  type Edge,
  type StateMachine,
  type TaskInstanceStatus,
  type WorkflowRunStatus,
  type WorkflowStatus,
} from './states.js';

const ACTORS: readonly Actor[] = ['client', 'swarm', 'distributor', 'worker', 'server', 'reaper', 'operator'];
const key = (e: { from: string; to: string }) => `${e.from}→${e.to}`;
const machines = MACHINES as readonly StateMachine<string>[];

/**
 * Legal edges out of terminal states, by design: each is a resume (a new run or an operator gives
 * the entity another go). Workflow FAILED, HALTED and ABORTED resume too, but the Workflow table
 * does not declare them terminal, so they do not appear here (see "sinks" below).
 */
const RESUME_EDGES_FROM_TERMINAL: Record<string, string[]> = {
  Workflow: ['DONE→REGISTERING'],
  WorkflowRun: [],
  Task: ['ERROR_FATAL→REGISTERING', 'DONE→REGISTERING', 'ERROR_FATAL→DONE'],
  TaskInstance: [],
};

describe.each(machines.map((m) => [m.name, m] as const))('%s machine', (_name, m) => {
  it('isLegal is true exactly for the edges and isUntimely exactly for the untimely list', () => {
    const legal = new Set(m.edges.map(key));
    const late = new Set(m.untimely.map(key));
    for (const from of m.states) {
      for (const to of m.states) {
        expect(m.isLegal(from, to), `isLegal(${from}, ${to})`).toBe(legal.has(`${from}→${to}`));
        expect(m.isUntimely(from, to), `isUntimely(${from}, ${to})`).toBe(late.has(`${from}→${to}`));
        expect(m.isLegal(from, to) && m.isUntimely(from, to), `${from}→${to} both legal and untimely`).toBe(false);
      }
    }
  });

  it('has no duplicate edges and names only its own states', () => {
    for (const list of [m.edges, m.untimely]) {
      expect(new Set(list.map(key)).size).toBe(list.length);
      for (const e of list) {
        expect(m.isState(e.from), e.from).toBe(true);
        expect(m.isState(e.to), e.to).toBe(true);
      }
    }
    expect(new Set(m.states).size).toBe(m.states.length);
    expect(m.isState(m.initial)).toBe(true);
    for (const t of m.terminal) expect(m.isState(t), t).toBe(true);
    expect(m.isState('NOT_A_STATE')).toBe(false);
    expect(m.isLegal('NOT_A_STATE', m.initial)).toBe(false);
  });

  it('gives every edge a reason and a known actor', () => {
    for (const e of [...m.edges, ...m.untimely] as Edge<string>[]) {
      expect(e.why.trim(), key(e)).not.toBe('');
      expect(ACTORS, key(e)).toContain(e.actor);
    }
  });

  it('reaches every state from the initial state by legal edges', () => {
    const seen = new Set([m.initial]);
    const queue = [m.initial];
    while (queue.length > 0) {
      const s = queue.shift()!;
      for (const e of m.edges) {
        if (e.from === s && !seen.has(e.to)) {
          seen.add(e.to);
          queue.push(e.to);
        }
      }
    }
    expect([...m.states].filter((s) => !seen.has(s))).toEqual([]);
  });

  it('leaves terminal states only by the documented resume edges', () => {
    const out = m.edges.filter((e) => m.terminal.includes(e.from)).map(key);
    expect(out).toEqual(RESUME_EDGES_FROM_TERMINAL[m.name]);
  });

  it('declares every sink (a state with no legal way out) terminal', () => {
    const sinks = m.states.filter((s) => !m.edges.some((e) => e.from === s));
    for (const s of sinks) expect(m.terminal, s).toContain(s);
  });
});

describe('Workflow terminal set', () => {
  it('resumes FAILED, HALTED and ABORTED workflows, which are therefore not terminal', () => {
    expect(workflowMachine.terminal).toEqual(['DONE']);
    for (const s of ['FAILED', 'HALTED', 'ABORTED'] as const) {
      expect(workflowMachine.isLegal(s, 'REGISTERING'), s).toBe(true);
    }
    // A DONE workflow goes back only by an operator's reset or task update, never by a run.
    expect(workflowMachine.edges.filter((e) => e.from === 'DONE').map((e) => [e.to, e.actor])).toEqual([
      ['REGISTERING', 'operator'],
    ]);
  });
});

describe('WORKFLOW_FOR_RUN', () => {
  const mapped = Object.entries(WORKFLOW_FOR_RUN) as [WorkflowRunStatus, WorkflowStatus][];

  it('maps run states to workflow states', () => {
    for (const [run, wf] of mapped) {
      expect(WORKFLOW_RUN_STATES, run).toContain(run);
      expect(WORKFLOW_STATES, wf).toContain(wf);
    }
  });

  it('maps every run edge between mapped states to a legal or identical workflow edge', () => {
    const bad: string[] = [];
    for (const e of workflowRunMachine.edges) {
      const a = WORKFLOW_FOR_RUN[e.from];
      const b = WORKFLOW_FOR_RUN[e.to];
      if (a === undefined || b === undefined) continue;
      if (a !== b && !workflowMachine.isLegal(a, b)) bad.push(`${key(e)} ⇒ ${a}→${b}`);
    }
    expect(bad).toEqual([]);
  });

  // The stronger check: walk run and workflow together, as moveRun does (a workflow follows its run
  // to WORKFLOW_FOR_RUN[to], or stays when the run state is unmapped). A new run may link to a new
  // workflow or to one that an earlier run left ABORTED, FAILED or HALTED.
  it('moves the workflow only by legal edges on every run path', () => {
    const start: WorkflowStatus[] = ['REGISTERING', 'ABORTED', 'FAILED', 'HALTED'];
    const seen = new Set<string>();
    const queue: [WorkflowRunStatus, WorkflowStatus][] = start.map((w) => [workflowRunMachine.initial, w]);
    const bad: string[] = [];
    const used = new Set<string>();
    while (queue.length > 0) {
      const [run, wf] = queue.shift()!;
      const k = `${run}/${wf}`;
      if (seen.has(k)) continue;
      seen.add(k);
      for (const e of workflowRunMachine.edges.filter((x) => x.from === run)) {
        const target = WORKFLOW_FOR_RUN[e.to] ?? wf;
        if (target !== wf) {
          if (workflowMachine.isLegal(wf, target)) used.add(`${wf}→${target}`);
          else bad.push(`run ${key(e)} with workflow ${wf} ⇒ ${wf}→${target}`);
        }
        queue.push([e.to, workflowMachine.isLegal(wf, target) ? target : wf]);
      }
    }
    expect(bad).toEqual([]);
    // Every workflow edge is driven by some run edge, except an operator's (reset, task update, which
    // move it while no run is live): the Workflow table has no dead rows.
    expect(
      workflowMachine.edges
        .filter((e) => e.actor !== 'operator')
        .map(key)
        .filter((e) => !used.has(e)),
    ).toEqual([]);
  });

  it('holds the workflow with every live (non-terminal, started) run state', () => {
    const live = workflowRunMachine.states.filter(
      (s) => s !== workflowRunMachine.initial && !workflowRunMachine.terminal.includes(s),
    );
    expect([...LIVE_RUN_STATES].sort()).toEqual([...live].sort());
  });
});

describe('ERROR_CLASS_OF', () => {
  it('classifies exactly the six error states of a task instance', () => {
    expect(Object.keys(ERROR_CLASS_OF).sort()).toEqual(
      ['ERROR', 'RESOURCE_ERROR', 'UNKNOWN_ERROR', 'NO_HEARTBEAT', 'NO_DISTRIBUTOR_ID', 'ERROR_FATAL'].sort(),
    );
    expect(ERROR_CLASS_OF).toEqual({
      ERROR: 'application',
      RESOURCE_ERROR: 'resource',
      UNKNOWN_ERROR: 'infrastructure',
      NO_HEARTBEAT: 'infrastructure',
      NO_DISTRIBUTOR_ID: 'infrastructure',
      ERROR_FATAL: 'killed',
    });
    for (const cls of Object.values(ERROR_CLASS_OF)) expect(ERROR_CLASSES).toContain(cls);
  });

  it('classifies only terminal instance states, and every terminal state but DONE', () => {
    const errorStates = Object.keys(ERROR_CLASS_OF);
    for (const s of errorStates) expect(taskInstanceMachine.terminal, s).toContain(s);
    expect(taskInstanceMachine.terminal.filter((s) => !errorStates.includes(s))).toEqual(['DONE']);
  });

  it('counts every non-terminal instance state as active', () => {
    const active = TASK_INSTANCE_STATES.filter((s) => !taskInstanceMachine.terminal.includes(s));
    expect([...ACTIVE_INSTANCE_STATES].sort()).toEqual([...active].sort());
  });
});

// machine() is not exported, so its load-time checks (duplicate edges, unknown states, an edge both
// legal and untimely) cannot be called with bad tables here without exporting it. The tests above
// assert the same invariants on the real tables instead.

// The lists other packages act on must agree with the tables: one judge.
describe('derived lists', () => {
  it('LAPSED_TO ends every live run, and only by a legal edge the reaper may drive', () => {
    expect(Object.keys(LAPSED_TO).sort()).toEqual([...LIVE_RUN_STATES].sort());
    for (const [from, to] of Object.entries(LAPSED_TO) as [WorkflowRunStatus, WorkflowRunStatus][]) {
      expect(workflowRunMachine.isLegal(from, to), `${from}→${to}`).toBe(true);
      expect(workflowRunMachine.terminal, to).toContain(to);
    }
  });

  it('INSTANCE_DEADLINE_TO moves only active instances that have a deadline, by legal edges', () => {
    for (const [from, to] of Object.entries(INSTANCE_DEADLINE_TO) as [TaskInstanceStatus, TaskInstanceStatus][]) {
      expect(taskInstanceMachine.isLegal(from, to), `${from}→${to}`).toBe(true);
      expect(ACTIVE_INSTANCE_STATES, from).toContain(from);
    }
    // QUEUED and INSTANTIATED belong to the runner, which has no deadline of its own per instance.
    expect(Object.keys(INSTANCE_DEADLINE_TO).sort()).toEqual(['KILL_SELF', 'LAUNCHED', 'RUNNING', 'TRIAGING']);
  });

  it('isInstanceEnd is true exactly for the instance states with no legal way out', () => {
    for (const s of TASK_INSTANCE_STATES) {
      const sink = !taskInstanceMachine.edges.some((e) => e.from === s);
      expect(isInstanceEnd(s), s).toBe(sink);
    }
  });

  it('INSTANCE_PROGRESS_STATES are the reports between taking an instance and its end', () => {
    const expected = TASK_INSTANCE_STATES.filter((s) => s !== taskInstanceMachine.initial && !isInstanceEnd(s));
    expect([...INSTANCE_PROGRESS_STATES].sort()).toEqual([...expected].sort());
    expect(INSTANCE_PROGRESS_STATES).toEqual(['INSTANTIATED', 'LAUNCHED', 'RUNNING', 'TRIAGING', 'KILL_SELF']);
  });

  it("TASK_ATTEMPT_OVER_STATES are where a task rests after its instance's end: DONE or the server's error verdicts", () => {
    const verdicts = taskMachine.edges
      .filter((e) => e.from === 'ERROR_RECOVERABLE' && e.actor === 'server')
      .map((e) => e.to);
    const fromRunning = taskMachine.edges
      .filter((e) => e.from === 'RUNNING' && e.actor === 'worker' && e.to !== 'ERROR_RECOVERABLE')
      .map((e) => e.to);
    expect([...TASK_ATTEMPT_OVER_STATES].sort()).toEqual([...new Set([...verdicts, ...fromRunning])].sort());
    expect([...TASK_ATTEMPT_OVER_STATES].sort()).toEqual(['ADJUSTING_RESOURCES', 'DONE', 'ERROR_FATAL', 'REGISTERING']);
  });

  it('QUEUEABLE_TASK_STATES are the states with a swarm edge to QUEUED', () => {
    expect([...QUEUEABLE_TASK_STATES].sort()).toEqual(['ADJUSTING_RESOURCES', 'ERROR_RECOVERABLE', 'REGISTERING']);
    for (const s of QUEUEABLE_TASK_STATES) expect(taskMachine.isLegal(s, 'QUEUED'), s).toBe(true);
  });

  it('legalFrom lists exactly the states with a legal edge to the target', () => {
    for (const m of machines) {
      for (const to of m.states) {
        expect([...legalFrom(m, to)].sort(), `${m.name} →${to}`).toEqual(
          m.states.filter((s) => m.isLegal(s, to)).sort(),
        );
      }
    }
  });
});
