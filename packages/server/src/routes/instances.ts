// Routes: task-instance transitions (batch for distributors, single for workers), heartbeats, reads.
import { IllegalTransitionError, ROUTES } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { applyTransitions, instanceHeartbeat } from '../services/instances.js';
import { getInstance } from '../services/reports.js';
import { route, type Api } from './types.js';

export async function instanceRoutes(api: Api, ctx: AppContext): Promise<void> {
  route(api, ROUTES.transitionInstances, async (req) => ({
    results: await applyTransitions(ctx.db, req.body.items, 'distributor'),
  }));
  route(api, ROUTES.transitionInstance, async (req) => {
    const [r] = await applyTransitions(ctx.db, [{ id: req.params.id, ...req.body }], 'worker');
    if (!r || r.outcome === 'rejected' || r.outcome === 'moved') {
      throw new IllegalTransitionError(r?.message ?? `task instance ${req.params.id}: illegal transition`, {
        entity: 'task_instance',
        id: req.params.id,
        from: r?.status,
        to: req.body.to,
      });
    }
    const detail = await getInstance(ctx.db, req.params.id);
    return {
      status: r.status,
      taskStatus: r.taskStatus,
      outcome: r.outcome,
      taskId: r.taskId,
      workflowId: detail.workflowId,
      workflowRunId: detail.workflowRunId,
      ...(req.body.to === 'RUNNING' ? { command: detail.command, name: detail.taskName } : {}),
    };
  });
  route(api, ROUTES.instanceHeartbeat, async (req) => instanceHeartbeat(ctx.db, req.params.id, req.body.nextReportMs));
  route(api, ROUTES.getInstance, async (req) => getInstance(ctx.db, req.params.id));
}
