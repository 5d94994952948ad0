// Routes: task-instance transitions (batch for distributors, single for workers), heartbeats, reads.
import { Type } from '@sinclair/typebox';
import { IllegalTransitionError, wire } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { applyTransitions, instanceHeartbeat } from '../services/instances.js';
import { getInstance } from '../services/reports.js';
import type { Api } from './types.js';

const IdParams = Type.Object({ id: wire.IdSchema });

export async function instanceRoutes(api: Api, ctx: AppContext): Promise<void> {
  api.post('/task-instances/transitions', { schema: { body: wire.TransitionsRequest, response: { 200: wire.TransitionsResponse } } }, async (req) => ({
    results: await applyTransitions(ctx.db, req.body.items, 'distributor'),
  }));
  api.post(
    '/task-instances/:id/transition',
    { schema: { params: IdParams, body: wire.SingleTransitionRequest, response: { 200: wire.SingleTransitionResponse } } },
    async (req) => {
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
    },
  );
  api.post(
    '/task-instances/:id/heartbeat',
    { schema: { params: IdParams, body: wire.InstanceHeartbeatRequest, response: { 200: Type.Object({ status: wire.TaskInstanceStatusSchema }) } } },
    async (req) => instanceHeartbeat(ctx.db, req.params.id, req.body.nextReportMs),
  );
  api.get('/task-instances/:id', { schema: { params: IdParams } }, async (req) => getInstance(ctx.db, req.params.id));
}
