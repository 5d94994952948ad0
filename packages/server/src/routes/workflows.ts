// Routes: workflow bind and reads (detail, tasks, errors), runs creation, DAG edges.
import { Type } from '@sinclair/typebox';
import { wire } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { bindWorkflow, createRun } from '../services/bind.js';
import { workflowDetail, workflowErrors, workflowTasks, taskInstances } from '../services/reports.js';
import { requestResume } from '../services/runs.js';
import type { Api } from './types.js';

const Id = wire.IdSchema;
const IdParams = Type.Object({ id: Id });

export async function workflowRoutes(api: Api, ctx: AppContext): Promise<void> {
  api.post('/workflows', { schema: { body: wire.WorkflowRequest, response: { 200: wire.WorkflowResponse } } }, async (req) =>
    bindWorkflow(ctx.db, req.body),
  );
  api.get('/workflows/:id', { schema: { params: IdParams, response: { 200: wire.WorkflowDetail } } }, async (req) =>
    workflowDetail(ctx.db, req.params.id),
  );
  api.get(
    '/workflows/:id/tasks',
    {
      schema: {
        params: IdParams,
        querystring: Type.Object({
          status: Type.Optional(wire.TaskStatusSchema),
          limit: Type.Integer({ minimum: 1, maximum: 100000, default: 1000 }),
          offset: Type.Integer({ minimum: 0, maximum: wire.MAX_ID, default: 0 }),
        }),
        response: { 200: Type.Object({ tasks: Type.Array(wire.TaskSummary) }) },
      },
    },
    async (req) => {
      await workflowDetail(ctx.db, req.params.id);
      return { tasks: await workflowTasks(ctx.db, req.params.id, req.query.status, req.query.limit, req.query.offset) };
    },
  );
  api.get(
    '/workflows/:id/errors',
    {
      schema: {
        params: IdParams,
        querystring: Type.Object({
          all: Type.Boolean({ default: false }),
          limit: Type.Integer({ minimum: 1, maximum: 10000, default: 100 }),
        }),
        response: { 200: wire.TaskErrorsResponse },
      },
    },
    async (req) => {
      await workflowDetail(ctx.db, req.params.id);
      return { errors: await workflowErrors(ctx.db, req.params.id, !req.query.all, req.query.limit) };
    },
  );
  api.post('/workflows/:id/runs', { schema: { params: IdParams, body: wire.RunRequest, response: { 200: wire.RunResponse } } }, async (req) =>
    createRun(ctx.db, req.params.id, req.body, req.body.nextReportMs ?? ctx.runReportByMs),
  );
  api.post(
    '/workflows/:id/resume',
    {
      schema: {
        params: IdParams,
        body: Type.Object({ mode: Type.Union([Type.Literal('cold'), Type.Literal('hot')]) }, { additionalProperties: false }),
        response: { 200: Type.Object({ runId: Type.Union([Id, Type.Null()]), status: Type.Union([wire.WorkflowRunStatusSchema, Type.Null()]) }) },
      },
    },
    async (req) => requestResume(ctx.db, req.params.id, req.body.mode),
  );
  api.get('/tasks/:id/instances', { schema: { params: IdParams, response: { 200: wire.InstancesResponse } } }, async (req) => ({
    instances: await taskInstances(ctx.db, req.params.id),
  }));
}
