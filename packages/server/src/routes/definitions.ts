// Routes: tools, task templates (clusters: routes/clusters.ts).
import { ROUTES } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { bindTemplates, bindTool } from '../services/definitions.js';
import { route, type Api } from './types.js';

export async function definitionRoutes(api: Api, ctx: AppContext): Promise<void> {
  route(api, ROUTES.bindTool, async (req) => bindTool(ctx.db, req.body.name, req.body.newVersion ?? false));
  route(api, ROUTES.bindTemplates, async (req) => ({
    templates: await bindTemplates(ctx.db, req.body.toolVersionId, req.body.templates),
  }));
}
