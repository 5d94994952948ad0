// Routes: a run's tasks and edges (while LINKING), its status and heartbeat, and queueing.
import { ROUTES } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { bindEdges, bindTasks } from '../services/bind.js';
import { heartbeat, queueTasks, setRunStatus } from '../services/runs.js';
import { runInstances } from '../services/reports.js';
import { rebindRun } from '../services/takeover.js';
import { reapDeadRun } from '../services/reaper.js';
import { route, type Api } from './types.js';

export async function runRoutes(api: Api, ctx: AppContext): Promise<void> {
  route(api, ROUTES.bindTasks, async (req) => ({ tasks: await bindTasks(ctx.db, req.params.id, req.body.tasks) }));
  route(api, ROUTES.bindEdges, async (req) => bindEdges(ctx.db, req.params.id, req.body.edges as [number, number][]));
  route(api, ROUTES.rebindRun, async (req) => rebindRun(ctx.db, req.params.id, req.body.keepResources ?? false));
  route(api, ROUTES.setRunStatus, async (req) =>
    setRunStatus(
      ctx.db,
      req.params.id,
      req.body.status,
      req.body.taskCount,
      req.body.status === 'BOUND' ? 'client' : 'swarm',
      req.body.nextReportMs ?? ctx.runReportByMs,
    ),
  );
  route(api, ROUTES.runHeartbeat, async (req) =>
    heartbeat(ctx.db, req.params.id, req.body.status, req.body.nextReportMs ?? ctx.runReportByMs),
  );
  route(api, ROUTES.reapRun, async (req) => reapDeadRun(ctx.db, req.params.id, req.body, ctx.reaperGraceMs));
  route(api, ROUTES.queueTasks, async (req) => queueTasks(ctx.db, req.params.id, req.body.tasks));
  route(api, ROUTES.getRunInstances, async (req) =>
    runInstances(ctx.db, req.params.id, req.query.status ? req.query.status.split(',') : [], req.query),
  );
}
