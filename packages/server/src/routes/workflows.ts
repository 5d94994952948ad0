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
import { assertMayOperate, authModeOf, principalOf } from '../authz.js';
import { mintToken } from '../auth/tokens.js';
import { onDb } from '../db/connect.js';
import { findWorkflowByIdentity } from '../db/queries/workflow.js';

/** A run token's longest life; it ends sooner, with its run. */
const RUN_TOKEN_MS = 30 * 24 * 3600_000;

export async function workflowRoutes(api: Api, ctx: AppContext): Promise<void> {
  route(api, ROUTES.bindWorkflow, async (req) => {
    // Binding a workflow that exists changes it (attributes, limits): the operate rule applies.
    const existing = await findWorkflowByIdentity(onDb(ctx.db), req.body.toolVersionId, req.body.argsHash);
    if (existing) await assertMayOperate(req, existing.id);
    return bindWorkflow(ctx.db, req.body, principalOf(req).user);
  });
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
  route(api, ROUTES.createRun, async (req) => {
    // Who started the run is who authenticated, not what the body says.
    const p = principalOf(req);
    const info = p.user === null ? req.body : { ...req.body, user: p.user };
    const run = await createRun(ctx.db, req.params.id, info, req.body.nextReportMs ?? ctx.runReportByMs);
    if (authModeOf(req) !== 'token') return run;
    // The run's runner and workers report with a token good for this run only, while it lives.
    const { token } = await mintToken(ctx.db, {
      kind: 'run',
      user: p.user,
      scope: 'operate',
      runId: run.runId,
      expiresInMs: RUN_TOKEN_MS,
      createdBy: p.user ?? 'anonymous',
    });
    return { ...run, runToken: token };
  });
  route(api, ROUTES.resumeWorkflow, async (req) => requestResume(ctx.db, req.params.id, req.body.mode));
  route(api, ROUTES.getTaskInstances, async (req) => taskInstances(ctx.db, req.params.id, req.query));
  route(api, ROUTES.getTaskDeps, async (req) => taskDeps(ctx.db, req.params.id, req.query.direction, req.query.depth));
  route(api, ROUTES.getTaskWhy, async (req) => taskWhy(ctx.db, req.params.id));
  route(api, ROUTES.resetWorkflow, async (req) => resetWorkflow(ctx.db, req.params.id, req.body));
  route(api, ROUTES.updateTasks, async (req) => updateTasks(ctx.db, req.body));
}
