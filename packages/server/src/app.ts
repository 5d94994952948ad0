// The Fastify application: /api/v1 routes validated by the wire schemas in core, an OpenAPI
// document at /api/v1/openapi.json, and one error handler that turns everything into
// {code, message, details} — never a stack trace.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { isCleanText, JobmonError, JOBMON_VERSION, ROUTES, wire } from '@jobmon/core';
import type { Db } from './db/connect.js';
import { definitionRoutes } from './routes/definitions.js';
import { clusterRoutes } from './routes/clusters.js';
import { workflowRoutes } from './routes/workflows.js';
import { runRoutes } from './routes/runs.js';
import { instanceRoutes } from './routes/instances.js';
import { eventRoutes } from './routes/events.js';
import { DEFAULT_EVENT_POLL_MS } from './services/events.js';
import { nodeRoutes } from './routes/nodes.js';
import { resourceRoutes } from './routes/resources.js';
import { accessRoutes } from './routes/access.js';
import { oidcRoutes } from './auth/oidc.js';
import { route } from './routes/types.js';
import { setAuth, type AuthConfig, type OperatorGroups } from './authz.js';
import { installIdempotency } from './services/idempotency.js';
import { webRoutes } from './web.js';
import {
  clientErrorHandler,
  describeValidation,
  frameworkErrorHandler,
  installStrictParams,
  trackMethods,
} from './http-guards.js';

export const INSECURE_HEADER = 'x-jobmon-warning';
export const INSECURE_WARNING =
  'no authentication (--insecure-no-auth): anyone who can reach this server may change any workflow';

export interface AppOptions {
  db: Db;
  /** Default deadline for a run's next heartbeat when the runner does not say. */
  runReportByMs?: number;
  /** How long a worker told KILL_SELF has to confirm (the reaper's grace), default 60 s. */
  reaperGraceMs?: number;
  bodyLimitBytes?: number;
  /** Where the server logs its errors and milestones (the system log); none by default. */
  logger?: FastifyBaseLogger;
  /** Called when a request failed because the database was unreachable (the reaper then waits). */
  onDbOutage?: () => void;
  /** How requests are authenticated (authz.ts); default `none`: everyone is an admin. */
  auth?: AuthConfig;
  /** Serving without authentication beyond this host (--insecure-no-auth): every answer says so, in
   * the X-Jobmon-Warning header, for every client and page to show. */
  insecure?: boolean;
  /** Operator groups by name: members may operate a workflow whose attribute operator_group names the group. */
  operatorGroups?: OperatorGroups;
  /** How often a waiting event follower reads anyway (default 250 ms; services/events.ts). */
  eventPollMs?: number;
  /** Whether this process's reaper runs, for /health (replicas: one 'holder', the rest 'standby'). */
  reaper?: () => { role: 'holder' | 'standby' | 'off'; passes: number };
}

export interface AppContext {
  db: Db;
  runReportByMs: number;
  reaperGraceMs: number;
  eventPollMs: number;
}

export type App = FastifyInstance & { withTypeProvider: () => FastifyInstance };

export async function buildApp(opts: AppOptions) {
  const app = Fastify({
    // Errors and milestones only: a line per request would flood a bounded file.
    ...(opts.logger
      ? { loggerInstance: opts.logger, logController: new LogController({ disableRequestLogging: true }) }
      : { logger: false }),
    bodyLimit: opts.bodyLimitBytes ?? 64 * 1024 * 1024,
    // No coercion: `true` is not 1 and "1e400" is not a number (params and querystrings are parsed
    // strictly in http-guards.ts before validation).
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        allErrors: false,
        formats: { [wire.CLEAN_TEXT_FORMAT]: isCleanText },
      },
    },
    forceCloseConnections: true,
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Response schemas document the API (OpenAPI); serialising with JSON.stringify spares the
  // start-up cost of compiling a serializer per route, which dominated `jobmon run` on a DONE workflow.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Jobmon API',
        version: JOBMON_VERSION,
        description: 'Jobmon for TypeScript: workflow state server',
      },
    },
  });

  app.setErrorHandler((err: FastifyError | JobmonError, req, reply) => {
    if (err instanceof JobmonError) {
      return reply.status(err.status).send(err.toBody());
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const { field, problem } = describeValidation(fe);
      return reply.status(400).send({
        code: 'JM_VALIDATION',
        message: `${req.method} ${req.routeOptions.url ?? req.url}: ${field} ${problem}`,
        details: { field, route: req.routeOptions.url ?? req.url },
      });
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({
        code: 'JM_PAYLOAD_TOO_LARGE',
        message: `${req.method} ${req.url}: request body is larger than the server's limit`,
        details: { route: req.url },
      });
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(400).send({
        code: 'JM_VALIDATION',
        message: `${req.method} ${req.url}: ${fe.message}`,
        details: { route: req.url },
      });
    }
    // The driver's text stays in the server's log: it may quote the request's data or the schema.
    req.log.error({ err, route: req.routeOptions.url ?? req.url }, 'internal error');
    // Lock contention and a database that went away are worth retrying; the client backs off on 503.
    const transient = opts.db.dialect.classifyError(err) !== 'other';
    if (transient) opts.onDbOutage?.();
    return reply.status(transient ? 503 : 500).send({
      code: 'JM_INTERNAL',
      message: `${req.method} ${req.routeOptions.url ?? req.url}: ${transient ? 'the database is unavailable, retry' : 'internal error (see the server log)'}`,
      details: { route: req.routeOptions.url ?? req.url },
    });
  });
  const methodsOf = trackMethods(app);
  installStrictParams(app);
  app.setNotFoundHandler((req, reply) => {
    const allow = methodsOf(req.url);
    if (allow.length > 0) {
      return reply
        .status(405)
        .header('allow', allow.join(', '))
        .send({
          code: 'JM_METHOD_NOT_ALLOWED',
          message: `${req.method} is not allowed on ${req.url.split('?')[0]}; allowed: ${allow.join(', ')}`,
          details: { route: req.url, allow },
        });
    }
    return reply
      .status(404)
      .send({ code: 'JM_NOT_FOUND', message: `no route ${req.method} ${req.url}`, details: { route: req.url } });
  });

  // Idempotency-Key: a retried request answers what its first attempt answered (services/idempotency.ts).
  installIdempotency(app, opts.db);

  setAuth(app, { db: opts.db, auth: opts.auth ?? { mode: 'none' }, groups: opts.operatorGroups ?? {} });
  if (opts.auth?.mode === 'oidc') oidcRoutes(app, opts.db, opts.auth.oidc);
  if (opts.insecure)
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header(INSECURE_HEADER, INSECURE_WARNING);
      return payload;
    });
  const ctx: AppContext = {
    db: opts.db,
    runReportByMs: opts.runReportByMs ?? 93_000,
    reaperGraceMs: opts.reaperGraceMs ?? 60_000,
    eventPollMs: opts.eventPollMs ?? DEFAULT_EVENT_POLL_MS,
  };
  await app.register(
    async (api) => {
      route(api, ROUTES.openApi, async () => app.swagger() as unknown as Record<string, unknown>);
      route(api, ROUTES.health, async () => ({
        ok: true,
        version: JOBMON_VERSION,
        db: opts.db.dialect.name,
        databaseId: opts.db.id,
        ...(opts.reaper ? { reaper: opts.reaper() } : {}),
      }));
      await definitionRoutes(api, ctx);
      await clusterRoutes(api, ctx);
      await workflowRoutes(api, ctx);
      await runRoutes(api, ctx);
      await instanceRoutes(api, ctx);
      await eventRoutes(api, ctx);
      await nodeRoutes(api, ctx);
      await resourceRoutes(api, ctx);
      await accessRoutes(api, ctx);
    },
    { prefix: '/api/v1' },
  );
  webRoutes(app);
  await app.ready();
  return app;
}

export type JobmonApp = Awaited<ReturnType<typeof buildApp>>;
