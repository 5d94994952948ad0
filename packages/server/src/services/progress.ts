// GET /workflows/{id}/progress: the workflow's tasks counted per template in five groups (PENDING,
// SCHEDULED, RUNNING, DONE, FATAL), each template's runtime and where it came from, the elapsed
// time of the live run, and the estimate of completion (eta.ts) with how it was made.

import {
  LIVE_RUN_STATES,
  NotFoundError,
  PROGRESS_GROUP_OF,
  type ProgressGroup,
  type TaskStatus,
  type WorkflowProgressT,
} from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import {
  earlierRuntimes,
  requestedResources,
  runIdsOf,
  templateCounts,
  recentBusy,
  templateDoneRuntimes,
  templateRunning,
} from '../db/queries/progress.js';
import { templateEdges } from '../db/queries/template-edges.js';
import { findWorkflow } from '../db/queries/workflow.js';
import { neighbourNodes, tasksOnNodes } from '../db/queries/dag.js';
import type { Q } from '../db/conn.js';
import { latestRun } from '../db/queries/workflow-run.js';
import { estimate, type RuntimeSource, type TemplateWork } from './eta.js';

/** How many recent finished instances of other workflows are read for a template with no history here. */
const EARLIER_WINDOW = 10_000;

/**
 * The window over which the concurrency is measured: the last minute of the live run. Shorter than
 * 10 s (a run's first seconds), it would measure the ramp-up: the count at this instant is used.
 */
const RECENT_WINDOW_MS = 60_000;
const MIN_WINDOW_MS = 10_000;

/** The lower weighted median of values sorted ascending: the first whose votes reach half. */
function weightedMedian(xs: readonly { r: number; votes: number }[]): number | undefined {
  const total = xs.reduce((a, x) => a + x.votes, 0);
  let seen = 0;
  for (const x of xs) if ((seen += x.votes) * 2 >= total) return x.r;
  return undefined;
}

export async function workflowProgress(db: Db, id: number, now = Date.now()): Promise<WorkflowProgressT> {
  const q = onDb(db);
  const wf = await findWorkflow(q, id);
  if (!wf) throw new NotFoundError(`workflow ${id} does not exist`, { workflowId: id });
  const zero = (): Record<ProgressGroup, number> => ({ PENDING: 0, SCHEDULED: 0, RUNNING: 0, DONE: 0, FATAL: 0 });
  const templates = new Map<number, { name: string; counts: Record<ProgressGroup, number> }>();
  for (const r of await templateCounts(q, id)) {
    const t = templates.get(Number(r.template_id)) ?? { name: r.name, counts: zero() };
    t.counts[PROGRESS_GROUP_OF[r.status as TaskStatus] ?? 'PENDING'] += Number(r.n);
    templates.set(Number(r.template_id), t);
  }
  const run = await latestRun(q, id);
  const live = run !== undefined && LIVE_RUN_STATES.includes(run.status);
  const since = Math.max(now - RECENT_WINDOW_MS, Number(run?.created_at ?? now));
  const runtime = new Map<number, { s: number; source: RuntimeSource }>();
  const running = new Map<number, { n: number; meanStart: number }>();
  const finished = new Map<number, number>();
  const runIds = await runIdsOf(q, id);
  for (const r of await templateDoneRuntimes(q, runIds)) {
    const t = Number(r.template_id);
    runtime.set(t, { s: Number(r.wall_ms) / Number(r.n_timed) / 1000, source: 'this workflow' });
    finished.set(t, Number(r.n_timed));
  }
  for (const r of await templateRunning(q, runIds))
    running.set(Number(r.template_id), { n: Number(r.n), meanStart: Number(r.mean_status_at) });
  // Command time within the window, from the instances that ran in it (queries/progress.ts).
  const busy = live ? await recentBusy(q, runIds, since, now) : { busyMs: 0, firstStart: null };
  const busyMs = busy.busyMs;
  const firstStart = busy.firstStart ?? Infinity;
  // Tasks running on average since the window opened: the later of a minute ago, the live run's
  // start and its first command's start (binding and launching are not idle slots).
  const windowMs = now - Math.max(since, firstStart);
  const recent =
    live && busyMs > 0 && windowMs >= MIN_WINDOW_MS
      ? { running: busyMs / windowMs, windowS: windowMs / 1000 }
      : undefined;
  let missing = [...templates.keys()].filter((t) => !runtime.has(t));
  if (missing.length > 0)
    for (const r of await earlierRuntimes(q, id, missing, EARLIER_WINDOW))
      if (r.mean_wall_ms !== null)
        runtime.set(Number(r.template_id), { s: Number(r.mean_wall_ms) / 1000, source: 'earlier workflows' });
  missing = missing.filter((t) => !runtime.has(t));
  if (missing.length > 0) {
    // Runtime requests are padded, often many times over. Where templates of this workflow have
    // both a measured runtime and a request, a request without history is scaled by the median
    // of their used/asked ratios over finished tasks: the padding this pipeline's author tends to
    // add. Each finished task here is one vote (a template known from earlier workflows, one):
    // a one-task template asked for the default 1 m must not outvote 150 tasks of another
    // (bench/eta.md, where it cut the estimate of a 3 s template to 0.25 s).
    const asked = new Map<number, number>();
    for (const r of await requestedResources(q, id, [...templates.keys()])) {
      const v = (JSON.parse(r.resources) as { runtime?: unknown }).runtime;
      if (typeof v === 'number' && v > 0) asked.set(Number(r.template_id), v);
    }
    const ratios = [...runtime]
      .filter(([t]) => asked.has(t))
      .map(([t, rt]) => ({ r: rt.s / asked.get(t)!, votes: finished.get(t) ?? 1 }))
      .sort((a, b) => a.r - b.r);
    const ratio = weightedMedian(ratios);
    for (const t of missing) {
      const v = asked.get(t);
      if (v === undefined) continue;
      runtime.set(
        t,
        ratio === undefined || ratio >= 1
          ? { s: v, source: 'runtime request' }
          : { s: v * ratio, source: 'scaled runtime request' },
      );
    }
  }

  // Written once at bind (dag_template_edge): a read of a few rows, nothing to cache in memory,
  // where a cache would also keep the graph of a DAG read while it was still binding.
  const edges = await templateEdges(q, wf.dag_id);
  // Tasks downstream of a task failed for good never run in this run: not work left, but a FAILED end.
  const fatal = [...templates.values()].reduce((a, t) => a + t.counts.FATAL, 0);
  const doomed = live && fatal > 0 ? await blockedByFatal(q, id, wf.dag_id) : undefined;
  const work: TemplateWork[] = [...templates].map(([templateId, t]) => {
    const rt = runtime.get(templateId);
    const r = running.get(templateId);
    return {
      templateId,
      name: t.name,
      waiting: Math.max(0, t.counts.PENDING + t.counts.SCHEDULED - (doomed?.byTemplate.get(t.name) ?? 0)),
      running: t.counts.RUNNING,
      runningElapsedS: r ? Math.max(0, (now - r.meanStart) / 1000) : 0,
      runtimeS: rt?.s,
      source: rt?.source ?? 'unknown',
    };
  });
  const runningNow = work.reduce((a, t) => a + t.running, 0);
  const { eta, reason } = estimate({
    templates: work,
    edges,
    runningNow,
    ...(recent ? { recentRunning: recent.running, recentWindowS: recent.windowS } : {}),
    maxConcurrentlyRunning: wf.max_concurrently_running,
    live,
  });
  return {
    id: wf.id,
    name: wf.name,
    status: wf.status,
    // A live run's time so far; an ended one's, from its start to its end.
    elapsedMs: run ? (live ? now : run.status_at) - run.created_at : null,
    templates: [...templates].map(([templateId, t]) => ({
      id: templateId,
      name: t.name,
      counts: t.counts,
      runtimeSeconds: runtime.get(templateId)?.s ?? null,
      runtimeSource: runtime.get(templateId)?.source ?? 'unknown',
    })),
    eta: eta && fatal > 0 && live ? { ...eta, method: `${eta.method}; ${failingEnd(fatal, doomed)}` } : eta,
    ...(reason !== undefined ? { etaReason: reason } : {}),
  };
}

/** How the run will end when tasks failed for good: said with the estimate. */
function failingEnd(fatal: number, doomed: Blocked | undefined): string {
  const tasks = (n: number) => `${n} task${n === 1 ? '' : 's'}`;
  if (!doomed)
    return `${tasks(fatal)} failed for good, so the run will end FAILED (the tasks waiting on them, too many to count here, are counted as work left)`;
  const on =
    doomed.sample.length > 0 ? ` (${doomed.sample.join(', ')}${fatal > doomed.sample.length ? ', …' : ''})` : '';
  return doomed.total === 0
    ? `${tasks(fatal)} failed for good${on}: the run will end FAILED once the rest is done`
    : `will end FAILED: ${tasks(doomed.total)} ${doomed.total === 1 ? 'waits' : 'wait'} on ${tasks(fatal)} failed for good${on} and will not run; the estimate is for the rest`;
}

interface Blocked {
  /** Waiting tasks downstream of a FATAL task, per template name. */
  byTemplate: Map<string, number>;
  total: number;
  /** A few of the FATAL tasks' ids. */
  sample: number[];
}

/** Most FATAL tasks, and most downstream nodes, walked to count what they block (beyond: not counted). */
const BLOCKED_FATAL_MAX = 1000;
const BLOCKED_NODES_MAX = 100_000;

/** The waiting tasks downstream of the workflow's FATAL tasks, walked by index level by level; undefined past the caps. */
async function blockedByFatal(q: Q, workflowId: number, dagId: number): Promise<Blocked | undefined> {
  const fatal = await q.db
    .selectFrom('task')
    .select(['id', 'node_id'])
    .where('workflow_id', '=', workflowId)
    .where('status', '=', 'ERROR_FATAL')
    .orderBy('id')
    .limit(BLOCKED_FATAL_MAX + 1)
    .execute();
  if (fatal.length > BLOCKED_FATAL_MAX) return undefined;
  // What waits on a set of failed tasks does not change while that set stands (those tasks never
  // run in this run): walked once per set, not on every poll of a page that follows the workflow.
  const key = fatal.map((f) => f.id).join(',');
  const known = blockedCache.get(workflowId);
  if (known?.key === key) return known.blocked;
  const seen = new Set<number>(fatal.map((f) => Number(f.node_id)));
  let frontier = [...seen];
  const below: number[] = [];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (let i = 0; i < frontier.length; i += 1000) {
      for (const n of await neighbourNodes(q, dagId, frontier.slice(i, i + 1000), 'down', BLOCKED_NODES_MAX + 1)) {
        if (seen.has(n)) continue;
        seen.add(n);
        next.push(n);
        below.push(n);
      }
      if (below.length > BLOCKED_NODES_MAX) return undefined;
    }
    frontier = next;
  }
  const byTemplate = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < below.length; i += 1000)
    for (const t of await tasksOnNodes(q, workflowId, below.slice(i, i + 1000))) {
      if (t.status === 'DONE' || t.status === 'ERROR_FATAL' || t.status === 'RUNNING') continue;
      byTemplate.set(t.template, (byTemplate.get(t.template) ?? 0) + 1);
      total++;
    }
  const blocked = { byTemplate, total, sample: fatal.slice(0, 3).map((f) => Number(f.id)) };
  if (blockedCache.size >= 100) blockedCache.delete(blockedCache.keys().next().value!);
  blockedCache.set(workflowId, { key, blocked });
  return blocked;
}

/** The last walk per workflow, by the ids of the failed tasks it started from. */
const blockedCache = new Map<number, { key: string; blocked: Blocked }>();
