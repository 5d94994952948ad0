// Renders docs/state-machines.md from the state tables in packages/core/src/states.ts. Pure: the
// generator (gen-state-docs.ts) writes the text, and a test diffs it against the committed file.

import {
  ERROR_CLASS_OF,
  INSTANCE_DEADLINE_TO,
  LAPSED_TO,
  LIVE_RUN_STATES,
  MACHINES,
  WORKFLOW_FOR_RUN,
  workflowRunMachine,
  type Edge,
  type ErrorClass,
  type StateMachine,
} from '../packages/core/src/index.ts';

export const DOCS_PATH = 'docs/state-machines.md';

/** What each error class costs the task; the rules themselves live in server/services/cascade.ts. */
const BUDGET: Record<ErrorClass, string> = {
  application: "spends one of the task's attempts (`maxAttempts`); retried while attempts remain",
  resource: 'spends an attempt; retried with scaled resources (ADJUSTING_RESOURCES) while attempts remain',
  infrastructure: 'refunds the attempt and spends the infrastructure budget (`maxInfraFailures`) instead',
  killed: 'the task ends ERROR_FATAL (a stop or resume killed it); a resume gives it fresh attempts',
};

const code = (s: string) => `\`${s}\``;
const cell = (s: string) => s.replace(/\|/g, '\\|');

function edgeTable(edges: readonly Edge<string>[]): string[] {
  return [
    '| from | to | actor | why |',
    '| --- | --- | --- | --- |',
    ...edges.map((e) => `| ${code(e.from)} | ${code(e.to)} | ${e.actor} | ${cell(e.why)} |`),
  ];
}

function diagram(m: StateMachine<string>): string[] {
  return [
    '```mermaid',
    'stateDiagram-v2',
    `    [*] --> ${m.initial}`,
    ...m.edges.map((e) => `    ${e.from} --> ${e.to} : ${e.actor}`),
    ...m.terminal.map((s) => `    ${s} --> [*]`),
    '```',
  ];
}

function section(m: StateMachine<string>): string[] {
  const lines = [
    `## ${m.name}`,
    '',
    `States: ${m.states.map(code).join(', ')}.`,
    '',
    `Initial: ${code(m.initial)}. Terminal: ${m.terminal.map(code).join(', ')}.`,
    '',
    ...diagram(m),
    '',
    `### ${m.name} transitions`,
    '',
    ...edgeTable(m.edges),
    '',
    `### ${m.name} untimely transitions`,
    '',
  ];
  if (m.untimely.length === 0) lines.push('None.');
  else {
    lines.push('Known races: the server logs them and leaves the state as it is.', '', ...edgeTable(m.untimely));
  }
  return [...lines, ''];
}

export function render(): string {
  const unmapped = workflowRunMachine.states.filter((s) => WORKFLOW_FOR_RUN[s] === undefined);
  const lines = [
    '<!-- Generated from packages/core/src/states.ts by scripts/gen-state-docs.ts (npm run docs:states). Do not edit. -->',
    '',
    '# State machines',
    '',
    'Four machines, each a table of edges (from, to, actor, why) in `packages/core/src/states.ts`. The server',
    'accepts a transition only if it is an edge of its table; an *untimely* transition is a known race that is',
    'logged and ignored; anything else is rejected with `JM_ILLEGAL_TRANSITION`. Diagrams show the legal edges',
    'labelled with the actor that drives them.',
    '',
    'In a batch of task-instance transitions each item gets its own result: `applied`, `untimely`, `rejected`',
    "(not an edge from where it is) or `moved` (someone moved the instance or its task between the server's read",
    'and its write: a compare-and-set miss; nothing of that item was written). One item never fails the batch.',
    '',
    ...MACHINES.flatMap((m) => section(m as StateMachine<string>)),
    '## How a workflow follows its run',
    '',
    'When a workflow run enters a state below, its workflow moves to the state beside it (if that is a legal',
    'workflow edge; otherwise it stays).',
    '',
    '| run status | workflow status |',
    '| --- | --- |',
    ...Object.entries(WORKFLOW_FOR_RUN).map(([run, wf]) => `| ${code(run)} | ${code(wf)} |`),
    '',
    `Run states that leave the workflow where it is: ${unmapped.map(code).join(', ')}.`,
    '',
    `A run in one of these states holds its workflow (no other run may link): ${LIVE_RUN_STATES.map(code).join(', ')}.`,
    '',
    '## Deadlines (the reaper)',
    '',
    'A live run whose runner missed its deadline ends:',
    '',
    '| run status | becomes |',
    '| --- | --- |',
    ...Object.entries(LAPSED_TO).map(([from, to]) => `| ${code(from)} | ${code(to)} |`),
    '',
    'A task instance past its own deadline (`report_by`) moves on:',
    '',
    '| instance status | becomes |',
    '| --- | --- |',
    ...Object.entries(INSTANCE_DEADLINE_TO).map(([from, to]) => `| ${code(from)} | ${code(to)} |`),
    '',
    '## Error classes',
    '',
    'Each failed task-instance state has a class; the class decides which budget the retry spends.',
    '',
    '| instance status | class | effect on the task |',
    '| --- | --- | --- |',
    ...Object.entries(ERROR_CLASS_OF).map(([s, cls]) => `| ${code(s)} | ${cls} | ${BUDGET[cls]} |`),
    '',
    '## Operator changes (reset, task update)',
    '',
    '`jobmon workflow reset` and `jobmon task update` move tasks only while no run of the workflow is live',
    '(a live run is refused, named with its state). A reset takes tasks back to `REGISTERING` by any edge of',
    "the Task table (the resume edges, and the operator's from `DONE`); a task update uses only the edges an",
    'operator or a resume (client) drives: `DONE` on a task an ended run left in flight is refused by name',
    '(set it `REGISTERING`, or resume). Each status group moves in one guarded statement; one workflow event',
    '(actor `operator`) records the operation.',
    `Operator edges: ${MACHINES.flatMap((m) => m.edges.filter((e) => e.actor === 'operator').map((e) => `${m.name} ${code(e.from)} → ${code(e.to)}`)).join(', ')}.`,
    '',
  ];
  return lines.join('\n');
}
