// Route: node health — which cluster nodes end jobs with infrastructure errors (DESIGN.md §3).
import { wire } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { nodeHealth } from '../services/reports.js';
import type { Api } from './types.js';

export async function nodeRoutes(api: Api, ctx: AppContext): Promise<void> {
  api.get(
    '/nodes/health',
    { schema: { querystring: wire.NodeHealthQuery, response: { 200: wire.NodeHealthResponse } } },
    async (req) => ({ nodes: await nodeHealth(ctx.db, Date.now() - (req.query.windowMs ?? 3_600_000)) }),
  );
}
