// Route: follow the event log by sequence number (long-poll with waitMs).
import { ROUTES } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { followEvents, latestEventSeq } from '../services/events.js';
import { route, type Api } from './types.js';

export async function eventRoutes(api: Api, ctx: AppContext): Promise<void> {
  route(api, ROUTES.latestEvent, async () => ({ last: await latestEventSeq(ctx.db) }));
  route(api, ROUTES.followEvents, async (req) => {
    const ac = new AbortController();
    req.raw.on('close', () => ac.abort());
    const { after, workflowId, entity, limit, waitMs } = req.query;
    return followEvents(
      ctx.db,
      {
        after,
        limit,
        waitMs,
        pollMs: ctx.eventPollMs,
        ...(workflowId !== undefined ? { workflowId } : {}),
        ...(entity !== undefined ? { entity } : {}),
      },
      ac.signal,
    );
  });
}
