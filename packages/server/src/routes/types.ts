// The route-registration type shared by the route modules, and route(): a handler registered from
// its entry in core's ROUTES table (method, path, schemas), typed by those schemas.
import type {
  FastifyInstance,
  FastifyBaseLogger,
  FastifyRequest,
  FastifyReply,
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
} from 'fastify';
import type { Static, TSchema } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RouteSpec } from '@jobmon/core';
import { authenticate, authorize, dbOf } from '../authz.js';
import { recordAudit } from '../auth/audit.js';

export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

type StaticOr<S, D> = S extends TSchema ? Static<S> : D;
export type RouteRequest<R extends RouteSpec> = FastifyRequest<{
  Params: StaticOr<R['params'], unknown>;
  Querystring: StaticOr<R['query'], unknown>;
  Body: StaticOr<R['body'], unknown>;
}>;

/** Register `spec`'s route: its schemas validate the request and document the 200 answer. Every
 *  route authenticates before its body is read, and is authorised by its `access` rule once the
 *  body is parsed, before anything else runs (authz.ts). */
export function route<R extends RouteSpec>(
  api: Api,
  spec: R,
  handler: (req: RouteRequest<R>) => Promise<Static<R['response']>>,
): void {
  api.route({
    method: spec.method,
    url: spec.path,
    schema: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { querystring: spec.query } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      response: { 200: spec.response },
      ...(spec.hide ? { hide: true } : {}),
    },
    onRequest: async (req: FastifyRequest) => authenticate(req, spec),
    preValidation: async (req: FastifyRequest) => authorize(req, spec),
    onResponse: async (req: FastifyRequest, reply: FastifyReply) => {
      await recordAudit(dbOf(req), spec, req, reply).catch((err: unknown) =>
        req.log.error({ err, route: spec.path }, 'audit log write failed'),
      );
    },
    handler: handler as (req: FastifyRequest) => Promise<unknown>,
  });
}
