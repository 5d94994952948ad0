// Routes: a run's tasks and edges (while LINKING), its status and heartbeat, and queueing.
import { Type } from '@sinclair/typebox';
import { wire } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { bindEdges, bindTasks } from '../services/bind.js';
import { heartbeat, queueTasks, setRunStatus } from '../services/runs.js';
import { runInstances } from '../services/reports.js';
import { reapDeadRun } from '../services/reaper.js';
import type { Api } from './types.js';

const IdParams = Type.Object({ id: wire.IdSchema });

export async function runRoutes(api: Api, ctx: AppContext): Promise<void> {
  api.put('/workflow-runs/:id/tasks', { schema: { params: IdParams, body: wire.BindTasksRequest, response: { 200: wire.BindTasksResponse } } }, async (req) => ({
    tasks: await bindTasks(ctx.db, req.params.id, req.body.tasks),
  }));
  api.post(
    '/workflow-runs/:id/edges',
    { schema: { params: IdParams, body: wire.EdgesRequest, response: { 200: Type.Object({ inserted: Type.Integer() }) } } },
    async (req) => bindEdges(ctx.db, req.params.id, req.body.edges as [number, number][]),
  );
  api.put('/workflow-runs/:id/status', { schema: { params: IdParams, body: wire.RunStatusRequest, response: { 200: wire.RunStatusResponse } } }, async (req) =>
    setRunStatus(ctx.db, req.params.id, req.body.status, req.body.taskCount, req.body.status === 'BOUND' ? 'client' : 'swarm', req.body.nextReportMs ?? ctx.runReportByMs),
  );
  api.post('/workflow-runs/:id/heartbeat', { schema: { params: IdParams, body: wire.HeartbeatRequest, response: { 200: wire.RunStatusResponse } } }, async (req) =>
    heartbeat(ctx.db, req.params.id, req.body.status, req.body.nextReportMs ?? ctx.runReportByMs),
  );
  api.post('/workflow-runs/:id/reap', { schema: { params: IdParams, body: wire.ReapRunRequest, response: { 200: wire.ReapRunResponse } } }, async (req) =>
    reapDeadRun(ctx.db, req.params.id, req.body, ctx.reaperGraceMs),
  );
  api.post('/workflow-runs/:id/queue', { schema: { params: IdParams, body: wire.QueueRequest, response: { 200: wire.QueueResponse } } }, async (req) =>
    queueTasks(ctx.db, req.params.id, req.body.tasks),
  );
  api.get(
    '/workflow-runs/:id/instances',
    {
      schema: {
        params: IdParams,
        querystring: Type.Object({ status: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Z_,]*$' })) }),
      },
    },
    async (req) => ({ instances: await runInstances(ctx.db, req.params.id, req.query.status ? req.query.status.split(',') : []) }),
  );
}
