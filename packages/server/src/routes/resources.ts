// Routes: resource usage of finished tasks, suggested resources per template, node failure rates.
import { ROUTES } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { listNodes, resourceSuggestions, resourceUsage } from '../services/resources.js';
import { route, type Api } from './types.js';

export async function resourceRoutes(api: Api, ctx: AppContext): Promise<void> {
  route(api, ROUTES.resourceUsage, async (req) => resourceUsage(ctx.db, req.query));
  route(api, ROUTES.resourceSuggestions, async (req) => resourceSuggestions(ctx.db, req.params.id, req.query));
  route(api, ROUTES.listNodes, async (req) => listNodes(ctx.db, req.query.windowMs));
}
