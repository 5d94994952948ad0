// An estimate of when a workflow will be done, and how it was made. Pure: the inputs are per
// template (what remains, how long its tasks take) plus the template graph and the concurrency;
// db/queries/progress.ts gathers them.
//
// Per template, a task's runtime is the mean of its finished tasks in this workflow, else in
// earlier workflows, else its runtime request. With W the work that remains (task-seconds, the
// running tasks' remaining share included), c the concurrency and P the critical path of what
// remains (the longest chain of templates with work left, each counted one task long), any
// schedule that keeps c slots busy takes between max(P, W/c) and W/c + P (Graham's bound for list
// scheduling): those are `low` and `high`; `seconds` is the lower bound, which a wide DAG with
// steady concurrency comes close to.
//
// c is measured: the number of tasks running on average over the last minute of the live run (or
// now, if more: a limit just raised), capped by the workflow's limit; once nothing waits, the
// number running now. Not the count at this instant while tasks wait: short tasks spend part of
// each slot starting and reporting, so that count swings (3 or 4 of 4 slots in bench/eta.md) and
// W/c with it; and between two stages it can be 0. A limit of 0 (paused) gives no estimate.

import { formatDuration as formatSeconds } from '@jobmon/core';

export type RuntimeSource =
  'this workflow' | 'earlier workflows' | 'runtime request' | 'scaled runtime request' | 'unknown';

export interface TemplateWork {
  templateId: number;
  name: string;
  /** Tasks not started and not finished (PENDING and SCHEDULED in the CLI's words). */
  waiting: number;
  running: number;
  /** Mean seconds the running ones have run so far. */
  runningElapsedS: number;
  /** Mean runtime of one task, seconds, and where it came from. */
  runtimeS: number | undefined;
  source: RuntimeSource;
}

export interface EtaInput {
  templates: TemplateWork[];
  /** Template graph: [upstream template id, downstream template id]. */
  edges: [number, number][];
  /** Tasks running now (all templates). */
  runningNow: number;
  /** Tasks running on average over the recent window of the live run; absent if none ran in it. */
  recentRunning?: number;
  /** That window's length, seconds (for the method text). */
  recentWindowS?: number;
  /** The workflow's limit on tasks running at once. */
  maxConcurrentlyRunning: number;
  /** Is a run live? Without one, nothing advances: no estimate. */
  live: boolean;
}

export interface Eta {
  seconds: number;
  low: number;
  high: number;
  method: string;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The estimate, or null with the reason when none can be made. */
export function estimate(input: EtaInput): { eta: Eta | null; reason?: string } {
  const left = input.templates.filter((t) => t.waiting + t.running > 0);
  if (left.length === 0) return { eta: { seconds: 0, low: 0, high: 0, method: 'nothing is left to run' } };
  if (!input.live) return { eta: null, reason: 'no run is live: nothing advances until the workflow is resumed' };
  const unknown = left.filter((t) => t.runtimeS === undefined);
  // A template with no runtime to go by counts as the mean of the others (said in the method).
  const known = left.filter((t) => t.runtimeS !== undefined);
  if (known.length === 0)
    return { eta: null, reason: 'no task has finished yet, and no runtime was requested: no runtime to go by' };
  const fallback = known.reduce((a, t) => a + t.runtimeS!, 0) / known.length;
  const rt = (t: TemplateWork) => t.runtimeS ?? fallback;
  // A task running past its template's mean is not done: it counts a tenth of the mean (1 s at
  // least, the mean at most) so that the estimate never says 0 while something still runs.
  const remainingRunning = (t: TemplateWork) =>
    Math.max(rt(t) - t.runningElapsedS, Math.min(rt(t), Math.max(1, 0.1 * rt(t))));

  let work = 0;
  for (const t of left) work += t.waiting * rt(t) + t.running * remainingRunning(t);
  if (input.maxConcurrentlyRunning === 0 && left.some((t) => t.waiting > 0))
    return { eta: null, reason: 'the workflow is paused (concurrency limit 0): nothing new starts until it is raised' };
  // With nothing waiting, what runs now is all there is, and a limit (which only holds back new
  // starts) does not apply.
  const c = left.some((t) => t.waiting > 0)
    ? Math.max(1, Math.min(input.maxConcurrentlyRunning, Math.max(input.recentRunning ?? 0, input.runningNow)))
    : Math.max(1, input.runningNow);

  // Longest chain over the template graph, each template weighing one task's remaining runtime.
  const weight = new Map<number, number>();
  for (const t of left) weight.set(t.templateId, t.waiting > 0 ? rt(t) : remainingRunning(t));
  const down = new Map<number, number[]>();
  const indegree = new Map<number, number>();
  for (const id of weight.keys()) indegree.set(id, 0);
  for (const [u, d] of input.edges) {
    if (!weight.has(u) || !weight.has(d) || u === d) continue;
    down.set(u, [...(down.get(u) ?? []), d]);
    indegree.set(d, indegree.get(d)! + 1);
  }
  const longest = new Map<number, number>();
  const ready = [...indegree].filter(([, n]) => n === 0).map(([id]) => id);
  for (const id of ready) longest.set(id, weight.get(id)!);
  while (ready.length > 0) {
    const u = ready.pop()!;
    for (const d of down.get(u) ?? []) {
      longest.set(d, Math.max(longest.get(d) ?? 0, longest.get(u)! + weight.get(d)!));
      indegree.set(d, indegree.get(d)! - 1);
      if (indegree.get(d) === 0) ready.push(d);
    }
  }
  const path = Math.max(0, ...longest.values());

  const low = Math.max(path, work / c);
  const high = work / c + path;
  const sources = new Map<RuntimeSource, number>();
  for (const t of left) sources.set(t.source, (sources.get(t.source) ?? 0) + 1);
  const from = (['this workflow', 'earlier workflows', 'runtime request', 'scaled runtime request'] as const)
    .filter((s) => sources.has(s))
    .map((s) => `${s}: ${plural(sources.get(s)!, 'template')}`);
  if (unknown.length > 0) from.push(`no runtime known: ${plural(unknown.length, 'template')}, taken as the mean`);
  const recent =
    input.recentRunning !== undefined
      ? `${round1(input.recentRunning)} on average over the last ${formatSeconds(input.recentWindowS ?? 0)}, `
      : '';
  const method =
    `mean runtimes of finished tasks per template (${from.join('; ')}); ` +
    `${formatSeconds(work)} of work at concurrency ${round1(c)} (${recent}${input.runningNow} running now, ${input.maxConcurrentlyRunning >= 2_147_483_647 ? 'no limit' : `limit ${input.maxConcurrentlyRunning}`}); ` +
    `critical path of what remains ${formatSeconds(path)}; range: any schedule keeping ${round1(c)} busy`;
  // high ≥ 1 while anything is left: 0 … 0 reads as "all done" (the answer above when nothing is).
  return { eta: { seconds: Math.round(low), low: Math.round(low), high: Math.max(1, Math.round(high)), method } };
}
