// Routes: workflow bind, list and reads (detail, tasks, errors), runs creation and resume.
import { ROUTES } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { bindWorkflow, createRun } from '../services/bind.js';
import {
  taskDetail,
  taskInstances,
  workflowDetail,
  workflowErrorGroups,
  workflowErrors,
  workflowTasks,
} from '../services/reports.js';
import { requestResume } from '../services/runs.js';
import { setConcurrency, workflowDag } from '../services/takeover.js';
import { listWorkflows } from '../services/workflow-list.js';
import { taskDeps } from '../services/deps.js';
import { taskWhy } from '../services/why.js';
import { workflowProgress } from '../services/progress.js';
import { resetWorkflow, updateTasks } from '../services/operator.js';
import { route, type Api } from './types.js';

export async function workflowRoutes(api: Api, ctx: AppContext): Promise<void> {
  route(api, ROUTES.bindWorkflow, async (req) => bindWorkflow(ctx.db, req.body));
  route(api, ROUTES.listWorkflows, async (req) => listWorkflows(ctx.db, req.query));
  route(api, ROUTES.getWorkflow, async (req) => workflowDetail(ctx.db, req.params.id));
  route(api, ROUTES.getWorkflowTasks, async (req) => workflowTasks(ctx.db, req.params.id, req.query));
  route(api, ROUTES.getWorkflowProgress, async (req) => workflowProgress(ctx.db, req.params.id));
  route(api, ROUTES.getWorkflowErrorGroups, async (req) => workflowErrorGroups(ctx.db, req.params.id, req.query));
  route(api, ROUTES.getTask, async (req) => taskDetail(ctx.db, req.params.id));
  route(api, ROUTES.setWorkflowConcurrency, async (req) =>
    setConcurrency(ctx.db, req.params.id, req.body.limit, req.body.template),
  );
  route(api, ROUTES.getWorkflowDag, async (req) =>
    workflowDag(ctx.db, req.params.id, req.query.after, req.query.limit),
  );
  route(api, ROUTES.getWorkflowErrors, async (req) => ({
    errors: await workflowErrors(ctx.db, req.params.id, !req.query.all, req.query.limit),
  }));
  route(api, ROUTES.createRun, async (req) =>
    createRun(ctx.db, req.params.id, req.body, req.body.nextReportMs ?? ctx.runReportByMs),
  );
  route(api, ROUTES.resumeWorkflow, async (req) => requestResume(ctx.db, req.params.id, req.body.mode));
  route(api, ROUTES.getTaskInstances, async (req) => taskInstances(ctx.db, req.params.id, req.query));
  route(api, ROUTES.getTaskDeps, async (req) => taskDeps(ctx.db, req.params.id, req.query.direction, req.query.depth));
  route(api, ROUTES.getTaskWhy, async (req) => taskWhy(ctx.db, req.params.id));
  route(api, ROUTES.resetWorkflow, async (req) => resetWorkflow(ctx.db, req.params.id, req.body));
  route(api, ROUTES.updateTasks, async (req) => updateTasks(ctx.db, req.body));
}
