// Who asks, and whether they may (docs/auth.md). Every route of ROUTES runs two checks, registered
// by route() (routes/types.ts) so that no route can leave them out:
// - authenticate() first, before the body is read: who the principal is, from the server's mode
//   (`none`, `local`, `token`); no or bad credentials are 401;
// - authorize() once the body is parsed (it may name the instances or tasks acted on), before the
//   idempotency replay and the handler: the route's `access` rule (core's api.ts) judged against the
//   workflow or run it acts on; a refusal is 403 and names what is wrong.

import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError, type Access, type RouteSpec } from '@jobmon/core';
import { onDb, type Db } from './db/connect.js';
import { verifyToken, type Scope } from './auth/tokens.js';
import { CSRF_HEADER, sessionUser, type OidcSettings } from './auth/oidc.js';

/** How the server authenticates (`jobmon server --auth`). */
export type AuthConfig =
  /** No authentication: everyone is an admin. Only with --insecure-no-auth, or in-process. */
  | { mode: 'none' }
  /** One user, the server's OS user; only requests from this host (loopback) are answered. */
  | { mode: 'local'; user: string }
  /** Personal access tokens, run tokens and share links (auth/tokens.ts). Past `failuresPerMinute`
   * failed authentications (default 20) an address is refused for the rest of the minute (429). */
  | { mode: 'token'; failuresPerMinute?: number }
  /** Behind a reverse proxy that authenticated the user: the user is `header`'s value, believed only
   * from the `proxies` addresses (anything else is ignored and logged). Tokens work beside it (the
   * CLI, runners and workers reach the server directly); `admins` get the admin scope, the rest operate. */
  | {
      mode: 'trusted-header';
      header: string;
      proxies: readonly string[];
      admins?: readonly string[];
      failuresPerMinute?: number;
    }
  /** Browsers sign in with an OpenID Connect provider (auth/oidc.ts) and hold a session; tokens beside it. */
  | { mode: 'oidc'; oidc: OidcSettings; admins?: readonly string[]; failuresPerMinute?: number };

/** Operator groups: a workflow whose attribute `operator_group` names a group here may be operated by its members. */
export type OperatorGroups = Readonly<Record<string, readonly string[]>>;

/** Who asks. */
export interface Principal {
  /** null when nobody is authenticated (mode none) or for a share link. */
  user: string | null;
  scope: Scope;
  via: 'none' | 'local' | 'personal' | 'run' | 'share' | 'header' | 'session' | 'anonymous';
  /** A run token's run. */
  runId?: number;
  /** A share link's workflow. */
  workflowId?: number;
  /** The token's public id, for the audit log. */
  tokenId?: string;
  /** The address the request came from. */
  address: string;
}

const PRINCIPAL = Symbol('jobmon.principal');
const SETTINGS = Symbol('jobmon.auth');

interface Settings {
  db: Db;
  auth: AuthConfig;
  groups: OperatorGroups;
  /** Failed authentications per address, their times (this app's). */
  failures?: Map<string, number[]>;
}

/** Install the authentication settings on the app (buildApp does). */
export function setAuth(app: object, s: Settings): void {
  (app as Record<symbol, Settings>)[SETTINGS] = s;
}

function settingsOf(req: FastifyRequest): Settings {
  const s = (req.server as unknown as Record<symbol, Settings | undefined>)[SETTINGS];
  if (!s) throw new Error('authentication is not configured on this app');
  return s;
}

const TARGET_WORKFLOW = Symbol('jobmon.targetWorkflow');

/** The workflow the request acted on, when the check had to find it (for the audit log). */
export function targetWorkflowOf(req: FastifyRequest): number | null {
  return (req as unknown as Record<symbol, number | undefined>)[TARGET_WORKFLOW] ?? null;
}

/** The principal, or null when the request never got as far as authentication. */
export function principalOrNull(req: FastifyRequest): Principal | null {
  return (req as unknown as Record<symbol, Principal | undefined>)[PRINCIPAL] ?? null;
}

/** The database of the app serving `req`. */
export function dbOf(req: FastifyRequest): Db {
  return settingsOf(req).db;
}

/** The principal authenticate() found for this request. */
export function principalOf(req: FastifyRequest): Principal {
  const p = (req as unknown as Record<symbol, Principal | undefined>)[PRINCIPAL];
  if (!p) throw new Error('request not authenticated');
  return p;
}

export function isLoopback(address: string): boolean {
  if (address === '::1' || address.startsWith('127.')) return true;
  // IPv4 mapped into IPv6.
  const m = /^::ffff:(.*)$/i.exec(address);
  return m !== null && isIP(m[1]!) === 4 && m[1]!.startsWith('127.');
}

/** Failed authentications per address: past the limit within FAIL_WINDOW_MS, the address waits. */
const FAIL_WINDOW_MS = 60_000;

function recentFailures(failures: Map<string, number[]>, address: string, now: number): number[] {
  const list = (failures.get(address) ?? []).filter((t) => now - t < FAIL_WINDOW_MS);
  if (list.length === 0) failures.delete(address);
  else failures.set(address, list);
  return list;
}

/** An address that failed too often lately is refused before its token is even looked at (429). */
function throttle(s: Settings, address: string): void {
  const now = Date.now();
  const list = recentFailures((s.failures ??= new Map()), address, now);
  const limit = s.auth.mode === 'local' || s.auth.mode === 'none' ? Infinity : (s.auth.failuresPerMinute ?? 20);
  if (list.length >= limit) {
    const wait = Math.ceil((FAIL_WINDOW_MS - (now - list[0]!)) / 1000);
    throw new TooManyRequestsError(`too many failed authentications from ${address}: wait ${wait} s`, {
      address,
      retryAfterS: wait,
    });
  }
}

function failedAttempt(s: Settings, req: FastifyRequest, address: string, reason: string): void {
  const now = Date.now();
  const failures = (s.failures ??= new Map());
  const list = recentFailures(failures, address, now);
  list.push(now);
  failures.set(address, list);
  if (failures.size > 10_000) failures.delete(failures.keys().next().value!);
  // Never the token: its public id at most.
  const id = /^Bearer +jm_([A-Za-z0-9]{12})_/i.exec(String(req.headers.authorization ?? ''))?.[1];
  req.log.warn(
    { address, reason, ...(id ? { tokenId: id } : {}), route: req.routeOptions.url },
    'authentication failed',
  );
}

const USER_NAME = /^[A-Za-z0-9._@-]{1,255}$/;

/** The user a trusted proxy names in its header; undefined when the request did not come through one. */
function fromProxy(req: FastifyRequest, auth: Extract<AuthConfig, { mode: 'trusted-header' }>): Principal | undefined {
  const value = req.headers[auth.header.toLowerCase()];
  if (value === undefined) return undefined;
  if (!auth.proxies.includes(req.ip)) {
    req.log.warn(
      { address: req.ip, header: auth.header },
      'user header from an address that is not a trusted proxy: ignored',
    );
    return undefined;
  }
  const user = Array.isArray(value) ? value[0] : value;
  if (user === undefined || !USER_NAME.test(user))
    throw new UnauthorizedError(`the proxy's ${auth.header} header does not hold a user name`, { header: auth.header });
  return { user, scope: auth.admins?.includes(user) ? 'admin' : 'operate', via: 'header', address: req.ip };
}

/** The user of a browser's session cookie (auth oidc); a change must carry the CSRF header. */
async function fromSession(
  req: FastifyRequest,
  auth: Extract<AuthConfig, { mode: 'oidc' }>,
  db: Db,
): Promise<Principal | undefined> {
  const user = await sessionUser(db, req);
  if (user === undefined) return undefined;
  if (req.method !== 'GET' && req.headers[CSRF_HEADER] === undefined)
    throw new ForbiddenError(`a change made from a browser session must carry the ${CSRF_HEADER} header`, {
      route: req.routeOptions.url,
    });
  return { user, scope: auth.admins?.includes(user) ? 'admin' : 'operate', via: 'session', address: req.ip };
}

const ENDED_RUN_STATES: readonly string[] = ['DONE', 'ERROR', 'STOPPED', 'TERMINATED', 'ABORTED'];
const HELP_TOKEN = 'give a token: `jobmon login`, or JOBMON_TOKEN';

/** Who asks: from the mode and the request's credentials. Throws UnauthorizedError (401). */
export async function authenticate(req: FastifyRequest, spec: RouteSpec): Promise<void> {
  const settings = settingsOf(req);
  const { db, auth } = settings;
  const address = req.ip;
  let p: Principal | undefined;
  // Public routes (health, the API document) take no credentials, and judge none.
  if (spec.access === 'public') p = { user: null, scope: 'read', via: 'anonymous', address };
  else if (auth.mode === 'none') p = { user: null, scope: 'admin', via: 'none', address };
  else if (auth.mode === 'local') {
    if (!isLoopback(address))
      throw new UnauthorizedError(`this server (auth local) answers only its own host, not ${address}`, { address });
    p = { user: auth.user, scope: 'admin', via: 'local', address };
  } else if (auth.mode === 'trusted-header' && (p = fromProxy(req, auth)) !== undefined) {
    // the proxy vouched for the user
  } else if (
    auth.mode === 'oidc' &&
    req.headers.authorization === undefined &&
    (p = await fromSession(req, auth, db)) !== undefined
  ) {
    // a browser's session
  } else {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer +(\S+)$/i.exec(header) : null;
    throttle(settings, address);
    if (!m) throw new UnauthorizedError(`authentication required: ${HELP_TOKEN}`, { route: spec.path });
    else {
      const g = await verifyToken(db, m[1]!);
      if (typeof g === 'string') {
        failedAttempt(settings, req, address, g);
        const id = /^jm_([A-Za-z0-9]{12})_/.exec(m[1]!)?.[1];
        const which = id ? `token ${id}` : 'the token given';
        const why = {
          malformed: 'is not a Jobmon token',
          unknown: 'is not known to this server',
          expired: 'has expired',
          revoked: 'was revoked',
        }[g];
        throw new UnauthorizedError(`${which} ${why}: ${HELP_TOKEN}`, { reason: g, ...(id ? { tokenId: id } : {}) });
      }
      if (g.kind === 'run' && g.runId !== null) {
        // A run token lives as long as its run.
        const run = await onDb(db)
          .db.selectFrom('workflow_run')
          .select('status')
          .where('id', '=', g.runId)
          .executeTakeFirst();
        if (!run || ENDED_RUN_STATES.includes(run.status))
          throw new UnauthorizedError(`token ${g.id} was for run ${g.runId}, which has ended`, {
            reason: 'expired',
            tokenId: g.id,
          });
      }
      p = {
        user: g.user,
        scope: g.scope,
        via: g.kind === 'personal' ? 'personal' : g.kind,
        tokenId: g.id,
        address,
        ...(g.runId !== null ? { runId: g.runId } : {}),
        ...(g.workflowId !== null ? { workflowId: g.workflowId } : {}),
      };
    }
  }
  (req as unknown as Record<symbol, Principal>)[PRINCIPAL] = p!;
}

/** What a request acts on: the workflows (with owner and operator group) and runs. Empty when its ids do not exist. */
interface Target {
  workflows: { id: number; owner: string | null; group: string | null }[];
  runs: number[];
}

const ints = (xs: unknown): number[] =>
  Array.isArray(xs) ? xs.filter((x): x is number => Number.isSafeInteger(x) && (x as number) > 0).slice(0, 10_000) : [];

async function resolveTarget(db: Db, kind: string, req: FastifyRequest): Promise<Target> {
  const t = await findTarget(
    db,
    kind,
    (req.params ?? {}) as Record<string, unknown>,
    (req.body ?? {}) as Record<string, unknown>,
  );
  if (t.workflows.length === 1) (req as unknown as Record<symbol, number>)[TARGET_WORKFLOW] = t.workflows[0]!.id;
  return t;
}

/** The workflows and runs a request's params (its :id) or body (instance or task ids) name. */
async function findTarget(
  db: Db,
  kind: string,
  params: Record<string, unknown>,
  body: Record<string, unknown>,
): Promise<Target> {
  const q = onDb(db).db;
  const id = Number(params['id']);
  let workflowIds: number[] = [];
  let runs: number[] = [];
  if (kind === 'workflow') workflowIds = [id];
  else if (kind === 'task') {
    const t = await q.selectFrom('task').select('workflow_id').where('id', '=', id).executeTakeFirst();
    workflowIds = t ? [t.workflow_id] : [];
  } else if (kind === 'run') {
    const r = await q.selectFrom('workflow_run').select('workflow_id').where('id', '=', id).executeTakeFirst();
    if (r) [workflowIds, runs] = [[r.workflow_id], [id]];
  } else if (kind === 'instance' || kind === 'instances') {
    const ids =
      kind === 'instance'
        ? [id]
        : ints(Array.isArray(body['items']) ? (body['items'] as { id?: unknown }[]).map((i) => i?.id) : []);
    if (ids.length > 0) {
      const rows = await q
        .selectFrom('task_instance')
        .select(['workflow_id', 'workflow_run_id'])
        .distinct()
        .where('id', 'in', ids)
        .execute();
      workflowIds = [...new Set(rows.map((r) => r.workflow_id))];
      runs = [...new Set(rows.map((r) => r.workflow_run_id))];
    }
  } else if (kind === 'tasks') {
    const ids = ints(body['taskIds']);
    if (ids.length > 0) {
      const rows = await q.selectFrom('task').select('workflow_id').distinct().where('id', 'in', ids).execute();
      workflowIds = rows.map((r) => r.workflow_id);
    }
    const w = Number(body['workflowId']);
    if (Number.isSafeInteger(w) && w > 0) workflowIds.push(w);
  }
  workflowIds = [...new Set(workflowIds)].filter((w) => Number.isSafeInteger(w) && w > 0);
  if (workflowIds.length === 0) return { workflows: [], runs };
  const ws = await q
    .selectFrom('workflow as w')
    .leftJoin('workflow_attribute as a', (j) =>
      j.onRef('a.workflow_id', '=', 'w.id').on('a.name', '=', 'operator_group'),
    )
    .select(['w.id', 'w.owner', 'a.value as group'])
    .where('w.id', 'in', workflowIds)
    .execute();
  return { workflows: ws.map((w) => ({ id: w.id, owner: w.owner, group: w.group ?? null })), runs };
}

/** A person (a personal token, or a user a trusted proxy named), as opposed to a run or a link. */
const isPerson = (p: Principal) => p.via === 'personal' || p.via === 'header' || p.via === 'session';

const who = (p: Principal) => (p.user === null ? 'anonymous' : p.user);

/** The route's access rule, judged for the authenticated principal. Throws ForbiddenError (403). */
export async function authorize(req: FastifyRequest, spec: RouteSpec): Promise<void> {
  const access: Access = spec.access;
  if (access === 'public') return;
  const p = principalOf(req);
  if (p.via === 'none' || p.via === 'local') return;
  const { db, groups } = settingsOf(req);
  const [rule, kind] = access.split(':') as [string, string | undefined];
  const what = `${spec.method} ${spec.path}`;
  const refuse = (message: string): never => {
    throw new ForbiddenError(message, { route: spec.path, method: spec.method });
  };
  if (rule === 'admin') {
    if (p.scope !== 'admin')
      refuse(`${what} needs the admin scope; ${who(p)} has ${isPerson(p) ? p.scope : `a ${p.via} token`}`);
    return;
  }
  if (p.via === 'share') {
    if (rule !== 'read' || kind === undefined) refuse(`a share link reads one workflow only, not ${what}`);
    const t = await resolveTarget(db, kind!, req);
    if (t.workflows.some((w) => w.id !== p.workflowId))
      refuse(`a share link of workflow ${p.workflowId} reads that workflow only`);
    return;
  }
  if (rule === 'read') return;
  if (rule === 'declare') {
    if (!isPerson(p) || p.scope === 'read')
      refuse(`${what} needs the operate scope; ${who(p)} has ${isPerson(p) ? p.scope : `a ${p.via} token`}`);
    return;
  }
  // operate or run: judged by what the request acts on.
  const t = await resolveTarget(db, kind!, req);
  if (p.via === 'run') {
    if (rule !== 'run') refuse(`a run token may only report on its run, not ${what}`);
    const other = t.runs.find((r) => r !== p.runId);
    if (other !== undefined || (t.runs.length === 0 && t.workflows.length > 0))
      refuse(`this run token is for run ${p.runId}, not run ${other ?? '(none)'}`);
    return;
  }
  if (p.scope === 'read') refuse(`${what} needs the operate scope; ${who(p)} has read`);
  judgeOwnership(p, t.workflows, groups, refuse);
}

/** The operate rule on workflows: an admin, each workflow's owner, or a member of its operator group. */
function judgeOwnership(
  p: Principal,
  workflows: Target['workflows'],
  groups: OperatorGroups,
  refuse: (m: string) => never,
): void {
  if (p.scope === 'admin') return;
  for (const w of workflows) {
    if (w.owner !== null && w.owner === p.user) continue;
    if (w.group !== null && p.user !== null && (groups[w.group] ?? []).includes(p.user)) continue;
    refuse(
      `workflow ${w.id} is owned by ${w.owner ?? 'nobody known'}${w.group ? ` (operator group ${w.group})` : ''}; you are ${who(p)}`,
    );
  }
}

/** For a handler that finds the workflow itself (binding a workflow that exists already): the operate rule on it. */
export async function assertMayOperate(req: FastifyRequest, workflowId: number): Promise<void> {
  const p = principalOf(req);
  if (p.via === 'none' || p.via === 'local') return;
  const { db, groups } = settingsOf(req);
  const t = await findTarget(db, 'workflow', { id: workflowId }, {});
  judgeOwnership(p, t.workflows, groups, (message) => {
    throw new ForbiddenError(message, { workflowId });
  });
}

/** The server's authentication mode. */
export function authModeOf(req: FastifyRequest): AuthConfig['mode'] {
  return settingsOf(req).auth.mode;
}
