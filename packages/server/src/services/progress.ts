// GET /workflows/{id}/progress: the workflow's tasks counted per template in five groups (PENDING,
// SCHEDULED, RUNNING, DONE, FATAL), each template's runtime and where it came from, the elapsed
// time of the live run, and the estimate of completion (eta.ts) with how it was made.

import { LIVE_RUN_STATES, NotFoundError, type TaskStatus, type WorkflowProgressT } from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import {
  earlierRuntimes,
  requestedResources,
  runIdsOf,
  templateCounts,
  templateDoneRuntimes,
  templateRunning,
} from '../db/queries/progress.js';
import { templateEdges } from '../db/queries/template-edges.js';
import { findWorkflow } from '../db/queries/workflow.js';
import { latestRun } from '../db/queries/workflow-run.js';
import { estimate, type RuntimeSource, type TemplateWork } from './eta.js';

export const PROGRESS_GROUPS = ['PENDING', 'SCHEDULED', 'RUNNING', 'DONE', 'FATAL'] as const;
type Group = (typeof PROGRESS_GROUPS)[number];

const GROUP_OF: Record<TaskStatus, Group> = {
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

/** How many recent finished instances of other workflows are read for a template with no history here. */
const EARLIER_WINDOW = 10_000;

export async function workflowProgress(db: Db, id: number, now = Date.now()): Promise<WorkflowProgressT> {
  const q = onDb(db);
  const wf = await findWorkflow(q, id);
  if (!wf) throw new NotFoundError(`workflow ${id} does not exist`, { workflowId: id });
  const zero = (): Record<Group, number> => ({ PENDING: 0, SCHEDULED: 0, RUNNING: 0, DONE: 0, FATAL: 0 });
  const templates = new Map<number, { name: string; counts: Record<Group, number> }>();
  for (const r of await templateCounts(q, id)) {
    const t = templates.get(Number(r.template_id)) ?? { name: r.name, counts: zero() };
    t.counts[GROUP_OF[r.status as TaskStatus] ?? 'PENDING'] += Number(r.n);
    templates.set(Number(r.template_id), t);
  }
  const runtime = new Map<number, { s: number; source: RuntimeSource }>();
  const running = new Map<number, { n: number; meanStart: number }>();
  const runIds = await runIdsOf(q, id);
  for (const r of await templateDoneRuntimes(q, runIds))
    runtime.set(Number(r.template_id), { s: Number(r.wall_ms) / Number(r.n_timed) / 1000, source: 'this workflow' });
  for (const r of await templateRunning(q, runIds))
    running.set(Number(r.template_id), { n: Number(r.n), meanStart: Number(r.mean_status_at) });
  let missing = [...templates.keys()].filter((t) => !runtime.has(t));
  if (missing.length > 0)
    for (const r of await earlierRuntimes(q, id, missing, EARLIER_WINDOW))
      if (r.mean_wall_ms !== null)
        runtime.set(Number(r.template_id), { s: Number(r.mean_wall_ms) / 1000, source: 'earlier workflows' });
  missing = missing.filter((t) => !runtime.has(t));
  if (missing.length > 0) {
    // Runtime requests are padded, often many times over. Where templates of this workflow have
    // both a measured runtime and a request, a request without history is scaled by the median
    // of their used/asked ratios: the padding this pipeline's author tends to add.
    const asked = new Map<number, number>();
    for (const r of await requestedResources(q, id, [...templates.keys()])) {
      const v = (JSON.parse(r.resources) as { runtime?: unknown }).runtime;
      if (typeof v === 'number' && v > 0) asked.set(Number(r.template_id), v);
    }
    const ratios = [...runtime]
      .filter(([t]) => asked.has(t))
      .map(([t, rt]) => rt.s / asked.get(t)!)
      .sort((a, b) => a - b);
    const ratio = ratios.length === 0 ? undefined : ratios[Math.floor((ratios.length - 1) / 2)]!;
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

  const run = await latestRun(q, id);
  const live = run !== undefined && LIVE_RUN_STATES.includes(run.status);
  // Written once at bind (dag_template_edge): a read of a few rows, nothing to cache in memory,
  // where a cache would also keep the graph of a DAG read while it was still binding.
  const edges = await templateEdges(q, wf.dag_id);
  const work: TemplateWork[] = [...templates].map(([templateId, t]) => {
    const rt = runtime.get(templateId);
    const r = running.get(templateId);
    return {
      templateId,
      name: t.name,
      waiting: t.counts.PENDING + t.counts.SCHEDULED,
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
    eta,
    ...(reason !== undefined ? { etaReason: reason } : {}),
  };
}
