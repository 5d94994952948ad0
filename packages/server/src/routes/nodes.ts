// Route: node health — which cluster nodes end jobs with infrastructure errors (DESIGN.md §3).
import { ROUTES } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { nodeHealth } from '../services/reports.js';
import { route, type Api } from './types.js';

export async function nodeRoutes(api: Api, ctx: AppContext): Promise<void> {
  route(api, ROUTES.nodeHealth, async (req) => ({
    nodes: await nodeHealth(ctx.db, Date.now() - (req.query.windowMs ?? 3_600_000)),
  }));
}
