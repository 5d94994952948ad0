// The /api/v1 route table: every route's method, path and schemas (from wire.ts), in one place.
// The server registers its routes from it and nothing else, and createApiClient() derives a typed
// call per route from it, so the server and its callers cannot drift apart.

import type { Static, TSchema } from '@sinclair/typebox';
import type { Method, Requester } from './requester.js';
import * as wire from './wire.js';

export interface RouteSpec {
  readonly method: Method;
  /** Fastify's form: `/workflows/:id`. */
  readonly path: string;
  readonly params?: TSchema;
  readonly query?: TSchema;
  readonly body?: TSchema;
  /** The 200 answer. */
  readonly response: TSchema;
  /** Left out of the OpenAPI document. */
  readonly hide?: boolean;
  /** Who may call it (docs/auth.md): every route says, so none can skip the check. */
  readonly access: Access;
}

/**
 * The rule a route follows, and what it acts on (how the server finds the workflow or run to judge by).
 * - `public`: anyone, unauthenticated (health, the API document);
 * - `read`: any authenticated principal; `read:<target>` also a share link of the target's workflow;
 * - `declare`: the `operate` scope (binding tools, templates and workflows);
 * - `operate:<target>`: the target workflow's owner, a member of its operator group, or an admin;
 * - `run:<target>`: the run token of the target's run, or as `operate`;
 * - `admin`: the `admin` scope.
 * Targets: `workflow` (the :id), `task`, `run`, `instance` (their :id), `instances` (the body's
 * items[].id), `tasks` (the body's taskIds or workflowId).
 */
export type Access =
  | 'public'
  | 'read'
  | 'declare'
  | 'admin'
  | `read:${'workflow' | 'task' | 'run' | 'instance'}`
  | `operate:${'workflow' | 'run' | 'tasks'}`
  | `run:${'run' | 'instance' | 'instances'}`;

export const ROUTES = {
  health: { method: 'GET', path: '/health', access: 'public', response: wire.HealthResponse },
  openApi: { method: 'GET', path: '/openapi.json', access: 'public', response: wire.OpenApiResponse, hide: true },

  bindTool: { method: 'POST', path: '/tools', access: 'declare', body: wire.ToolRequest, response: wire.ToolResponse },
  bindTemplates: {
    method: 'POST',
    path: '/task-templates',
    access: 'declare',
    body: wire.TemplatesRequest,
    response: wire.TemplatesResponse,
  },
  listClusters: { method: 'GET', path: '/clusters', access: 'read', response: wire.ClustersResponse },
  getCluster: {
    method: 'GET',
    path: '/clusters/:name',
    access: 'read',
    params: wire.ClusterParams,
    response: wire.ClusterInfo,
  },
  putCluster: {
    method: 'PUT',
    path: '/clusters/:name',
    access: 'admin',
    params: wire.ClusterParams,
    body: wire.ClusterPutRequest,
    response: wire.ClusterPutResponse,
  },

  bindWorkflow: {
    method: 'POST',
    path: '/workflows',
    access: 'declare',
    body: wire.WorkflowRequest,
    response: wire.WorkflowResponse,
  },
  listWorkflows: {
    method: 'GET',
    path: '/workflows',
    access: 'read',
    query: wire.WorkflowListQuery,
    response: wire.WorkflowListResponse,
  },
  getWorkflow: {
    method: 'GET',
    path: '/workflows/:id',
    access: 'read:workflow',
    params: wire.IdParams,
    response: wire.WorkflowDetail,
  },
  getWorkflowTasks: {
    method: 'GET',
    path: '/workflows/:id/tasks',
    access: 'read:workflow',
    params: wire.IdParams,
    query: wire.WorkflowTasksQuery,
    response: wire.WorkflowTasksResponse,
  },
  getWorkflowProgress: {
    method: 'GET',
    path: '/workflows/:id/progress',
    access: 'read:workflow',
    params: wire.IdParams,
    response: wire.WorkflowProgress,
  },
  setWorkflowConcurrency: {
    method: 'PUT',
    path: '/workflows/:id/concurrency',
    access: 'operate:workflow',
    params: wire.IdParams,
    body: wire.ConcurrencyRequest,
    response: wire.ConcurrencyResponse,
  },
  getWorkflowDag: {
    method: 'GET',
    path: '/workflows/:id/dag',
    access: 'read:workflow',
    params: wire.IdParams,
    query: wire.WorkflowDagQuery,
    response: wire.WorkflowDagResponse,
  },
  getWorkflowErrors: {
    method: 'GET',
    path: '/workflows/:id/errors',
    access: 'read:workflow',
    params: wire.IdParams,
    query: wire.WorkflowErrorsQuery,
    response: wire.TaskErrorsResponse,
  },
  createRun: {
    method: 'POST',
    path: '/workflows/:id/runs',
    access: 'operate:workflow',
    params: wire.IdParams,
    body: wire.RunRequest,
    response: wire.RunResponse,
  },
  resumeWorkflow: {
    method: 'POST',
    path: '/workflows/:id/resume',
    access: 'operate:workflow',
    params: wire.IdParams,
    body: wire.ResumeRequest,
    response: wire.ResumeResponse,
  },
  getWorkflowErrorGroups: {
    method: 'GET',
    path: '/workflows/:id/error-groups',
    access: 'read:workflow',
    params: wire.IdParams,
    query: wire.ErrorGroupsQuery,
    response: wire.ErrorGroupsResponse,
  },
  getTask: { method: 'GET', path: '/tasks/:id', access: 'read:task', params: wire.IdParams, response: wire.TaskDetail },
  getTaskInstances: {
    method: 'GET',
    path: '/tasks/:id/instances',
    access: 'read:task',
    params: wire.IdParams,
    query: wire.InstancePageQuery,
    response: wire.InstancesResponse,
  },
  getTaskDeps: {
    method: 'GET',
    path: '/tasks/:id/deps',
    access: 'read:task',
    params: wire.IdParams,
    query: wire.TaskDepsQuery,
    response: wire.TaskDepsResponse,
  },
  getTaskWhy: {
    method: 'GET',
    path: '/tasks/:id/why',
    access: 'read:task',
    params: wire.IdParams,
    response: wire.TaskWhyResponse,
  },

  bindTasks: {
    method: 'PUT',
    path: '/workflow-runs/:id/tasks',
    access: 'run:run',
    params: wire.IdParams,
    body: wire.BindTasksRequest,
    response: wire.BindTasksResponse,
  },
  bindEdges: {
    method: 'POST',
    path: '/workflow-runs/:id/edges',
    access: 'run:run',
    params: wire.IdParams,
    body: wire.EdgesRequest,
    response: wire.EdgesResponse,
  },
  rebindRun: {
    method: 'POST',
    path: '/workflow-runs/:id/rebind',
    access: 'run:run',
    params: wire.IdParams,
    body: wire.RebindRequest,
    response: wire.RebindResponse,
  },
  setRunStatus: {
    method: 'PUT',
    path: '/workflow-runs/:id/status',
    access: 'run:run',
    params: wire.IdParams,
    body: wire.RunStatusRequest,
    response: wire.RunStatusResponse,
  },
  runHeartbeat: {
    method: 'POST',
    path: '/workflow-runs/:id/heartbeat',
    access: 'run:run',
    params: wire.IdParams,
    body: wire.HeartbeatRequest,
    response: wire.RunStatusResponse,
  },
  reapRun: {
    method: 'POST',
    path: '/workflow-runs/:id/reap',
    access: 'operate:run',
    params: wire.IdParams,
    body: wire.ReapRunRequest,
    response: wire.ReapRunResponse,
  },
  queueTasks: {
    method: 'POST',
    path: '/workflow-runs/:id/queue',
    access: 'run:run',
    params: wire.IdParams,
    body: wire.QueueRequest,
    response: wire.QueueResponse,
  },
  getRunInstances: {
    method: 'GET',
    path: '/workflow-runs/:id/instances',
    access: 'read:run',
    params: wire.IdParams,
    query: wire.RunInstancesQuery,
    response: wire.RunInstancesResponse,
  },

  transitionInstances: {
    method: 'POST',
    path: '/task-instances/transitions',
    access: 'run:instances',
    body: wire.TransitionsRequest,
    response: wire.TransitionsResponse,
  },
  transitionInstance: {
    method: 'POST',
    path: '/task-instances/:id/transition',
    access: 'run:instance',
    params: wire.IdParams,
    body: wire.SingleTransitionRequest,
    response: wire.SingleTransitionResponse,
  },
  instanceHeartbeat: {
    method: 'POST',
    path: '/task-instances/:id/heartbeat',
    access: 'run:instance',
    params: wire.IdParams,
    body: wire.InstanceHeartbeatRequest,
    response: wire.InstanceHeartbeatResponse,
  },
  getInstance: {
    method: 'GET',
    path: '/task-instances/:id',
    access: 'read:instance',
    params: wire.IdParams,
    response: wire.InstanceWithTask,
  },

  latestEvent: { method: 'GET', path: '/events/latest', access: 'read', response: wire.LatestEventResponse },
  followEvents: {
    method: 'GET',
    path: '/events',
    access: 'read',
    query: wire.EventsQuery,
    response: wire.EventsResponse,
  },

  nodeHealth: {
    method: 'GET',
    path: '/nodes/health',
    access: 'read',
    query: wire.NodeHealthQuery,
    response: wire.NodeHealthResponse,
  },
  resourceUsage: {
    method: 'GET',
    path: '/resources/usage',
    access: 'read',
    query: wire.ResourceUsageQuery,
    response: wire.ResourceUsageResponse,
  },
  resourceSuggestions: {
    method: 'GET',
    path: '/workflows/:id/resource-suggestions',
    access: 'read:workflow',
    params: wire.IdParams,
    query: wire.ResourceSuggestQuery,
    response: wire.ResourceSuggestResponse,
  },
  listNodes: { method: 'GET', path: '/nodes', access: 'read', query: wire.NodesQuery, response: wire.NodesResponse },

  resetWorkflow: {
    method: 'POST',
    path: '/workflows/:id/reset',
    access: 'operate:workflow',
    params: wire.IdParams,
    body: wire.ResetRequest,
    response: wire.ResetResponse,
  },
  updateTasks: {
    method: 'POST',
    path: '/tasks/status',
    access: 'operate:tasks',
    body: wire.TaskUpdateRequest,
    response: wire.TaskUpdateResponse,
  },

  shareWorkflow: {
    method: 'POST',
    path: '/workflows/:id/share',
    access: 'operate:workflow',
    params: wire.IdParams,
    body: wire.ShareRequest,
    response: wire.ShareResponse,
  },
  unshareWorkflow: {
    method: 'POST',
    path: '/workflows/:id/unshare',
    access: 'operate:workflow',
    params: wire.IdParams,
    response: wire.UnshareResponse,
  },
  createToken: {
    method: 'POST',
    path: '/tokens',
    access: 'admin',
    body: wire.TokenCreateRequest,
    response: wire.TokenCreateResponse,
  },
  listTokens: {
    method: 'GET',
    path: '/tokens',
    access: 'admin',
    query: wire.TokenListQuery,
    response: wire.TokenListResponse,
  },
  revokeToken: {
    method: 'POST',
    path: '/tokens/:tokenId/revoke',
    access: 'admin',
    params: wire.TokenParams,
    response: wire.TokenRevokeResponse,
  },
  getAudit: { method: 'GET', path: '/audit', access: 'read', query: wire.AuditQuery, response: wire.AuditResponse },
} as const satisfies Record<string, RouteSpec>;

export type Routes = typeof ROUTES;
export type RouteName = keyof Routes;

type StaticOf<S> = S extends TSchema ? Static<S> : never;
/** What a route answers with 200. */
export type ApiResponse<K extends RouteName> = Static<Routes[K]['response']>;
/** Path params, flat (`{ id }`), then `query` (every key optional: the server fills defaults) and `body`. */
export type ApiInput<K extends RouteName> = (Routes[K] extends { params: infer P } ? StaticOf<P> : unknown) &
  (Routes[K] extends { query: infer Q } ? { query?: Partial<StaticOf<Q>> } : unknown) &
  (Routes[K] extends { body: infer B } ? { body: StaticOf<B> } : unknown);

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Input optional for routes that need none. */
type Call<K extends RouteName> = keyof ApiInput<K> extends never
  ? (input?: ApiInput<K>, opts?: CallOptions) => Promise<ApiResponse<K>>
  : (input: ApiInput<K>, opts?: CallOptions) => Promise<ApiResponse<K>>;

export type ApiClient = { readonly [K in RouteName]: Call<K> };

/** `/workflows/:id` with `{ id: 7 }` → `/workflows/7` (each value URI-encoded). */
export function fillPath(path: string, params: Record<string, unknown>): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined || v === null) throw new Error(`${path}: path parameter '${name}' is missing`);
    return encodeURIComponent(String(v));
  });
}

/** `{ a: 1, tag: ['x', 'y'], skip: undefined }` → `?a=1&tag=x&tag=y`; '' when nothing is set. */
export function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
  }
  const s = qs.toString();
  return s === '' ? '' : `?${s}`;
}

/** What createApiClient calls: Requester's request(), or a browser's fetch-based stand-in (packages/web). */
export type RequestSender = Pick<Requester, 'request'>;

/** One typed call per route of ROUTES, over a Requester (its retries, idempotency keys and errors). */
export function createApiClient(requester: RequestSender): ApiClient {
  const client: Record<string, (input?: Record<string, unknown>, opts?: CallOptions) => Promise<unknown>> = {};
  for (const [name, spec] of Object.entries(ROUTES) as [RouteName, RouteSpec][]) {
    client[name] = (input = {}, opts = {}) => {
      const path = fillPath(spec.path, input) + queryString(input['query'] as Record<string, unknown> | undefined);
      return requester.request(spec.method, path, input['body'], opts.timeoutMs, opts.signal);
    };
  }
  return client as unknown as ApiClient;
}
