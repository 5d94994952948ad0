// Route: follow the event log by sequence number (long-poll with waitMs).
import { Type } from '@sinclair/typebox';
import { wire } from '@jobmon/core';
import type { AppContext } from '../app.js';
import { followEvents } from '../services/events.js';
import type { Api } from './types.js';

export async function eventRoutes(api: Api, ctx: AppContext): Promise<void> {
  api.get('/events/latest', { schema: { response: { 200: Type.Object({ last: Type.Integer() }) } } }, async () => {
    const row = await ctx.db.kysely.selectFrom('event').select((eb) => eb.fn.max('seq').as('last')).executeTakeFirst();
    return { last: Number(row?.last ?? 0) };
  });
  api.get(
    '/events',
    {
      schema: {
        querystring: Type.Object({
          after: Type.Integer({ minimum: 0, maximum: wire.MAX_ID, default: 0 }),
          workflowId: Type.Optional(wire.IdSchema),
          entity: Type.Optional(Type.Union([Type.Literal('workflow'), Type.Literal('workflow_run'), Type.Literal('task'), Type.Literal('task_instance')])),
          limit: Type.Integer({ minimum: 1, maximum: 10000, default: 1000 }),
          waitMs: Type.Integer({ minimum: 0, maximum: 60000, default: 0 }),
        }),
        response: { 200: wire.EventsResponse },
      },
    },
    async (req) => {
      const ac = new AbortController();
      req.raw.on('close', () => ac.abort());
      const { after, workflowId, entity, limit, waitMs } = req.query;
      return followEvents(ctx.db, { after, limit, waitMs, pollMs: ctx.eventPollMs, ...(workflowId !== undefined ? { workflowId } : {}), ...(entity !== undefined ? { entity } : {}) }, ac.signal);
    },
  );
}
