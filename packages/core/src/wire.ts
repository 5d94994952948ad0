// Request and response shapes of the /api/v1 routes. The server validates bodies with these
// schemas and the OpenAPI document is generated from them; clients use the Static types.

import {
  FormatRegistry,
  Type,
  type Static,
  type TSchema,
  type TLiteral,
  type TRecord,
  type TString,
  type TUnion,
  type TUnknown,
} from '@sinclair/typebox';
import { TASK_INSTANCE_STATES, TASK_STATES, WORKFLOW_RUN_STATES, WORKFLOW_STATES, ERROR_CLASSES } from './states.js';
import { isCleanText } from './text.js';
import { CLUSTER_NAME_PATTERN } from './clusters.js';

// Nothing from the API is trusted: every number has bounds the database can hold, and every string
// that names or identifies something must be storable as given (no NUL, no unpaired surrogate;
// see text.ts), so it is refused rather than rewritten. Free-form objects hold scalars only, so no
// recursive code ever walks a request nested 10,000 levels deep.

/** Strings in this format are refused when they hold NUL or an unpaired surrogate (servers register it with AJV). */
export const CLEAN_TEXT_FORMAT = 'clean-text';
FormatRegistry.Set(CLEAN_TEXT_FORMAT, isCleanText);

/** Largest id or count: JavaScript numbers are exact up to here, and both databases' bigint hold it. */
export const MAX_ID = Number.MAX_SAFE_INTEGER;
/** Bounds of an `integer` column (pid, pgid, exit codes, counts kept in int32 columns). */
export const INT32_MIN = -2_147_483_648;
export const INT32_MAX = 2_147_483_647;
/** Longest deadline a runner or worker may promise: 30 days. */
export const MAX_REPORT_MS = 30 * 86_400_000;

const Id = Type.Integer({ minimum: 1, maximum: MAX_ID });
const Count = Type.Integer({ minimum: 0, maximum: MAX_ID });
const Int32Count = Type.Integer({ minimum: 0, maximum: INT32_MAX });
const ReportMs = Type.Integer({ minimum: 1, maximum: MAX_REPORT_MS });
const Name = Type.String({ minLength: 1, maxLength: 255, format: CLEAN_TEXT_FORMAT });
/** Text that identifies or describes something declared by a user: refused when not clean. */
const Text = (max: number) => Type.String({ maxLength: max, format: CLEAN_TEXT_FORMAT });
/** Text captured from a running task (its output, its error): the server stores it cleaned (text.ts). */
const ReportText = (max: number) => Type.String({ maxLength: max });
const Hash = Type.String({ minLength: 8, maxLength: 128, format: CLEAN_TEXT_FORMAT });
/** A string-keyed object whose keys are names. */
const NamedRecord = <T extends TSchema>(value: T, maxProperties = 10_000) =>
  Type.Record(Type.String(), value, { propertyNames: Name, maxProperties });
type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };
const union = <T extends readonly string[]>(values: T): TUnion<Literals<T>> =>
  Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<Literals<T>>;
const FiniteNumber = Type.Number({ minimum: -MAX_ID, maximum: MAX_ID });
const ArgValue = Type.Union([
  Type.String({ maxLength: 2048, format: CLEAN_TEXT_FORMAT }),
  FiniteNumber,
  Type.Boolean(),
]);
const Args = NamedRecord(ArgValue);
// Resources are free-form (a cluster may define its own), but flat: scalars, or a list of scalars
// (resource scales list the values to try). Their sizes are checked against the queue's limits.
const ResourceScalar = Type.Union([
  Type.String({ maxLength: 1024, format: CLEAN_TEXT_FORMAT }),
  FiniteNumber,
  Type.Boolean(),
  Type.Null(),
]);
// Typed as before (unknown values) so that callers keep passing what normaliseResources accepts.
const Resources = NamedRecord(
  Type.Union([ResourceScalar, Type.Array(ResourceScalar, { maxItems: 1000 })]),
  256,
) as unknown as TRecord<TString, TUnknown>;

/** Schemas for route params and querystrings, shared so that every route bounds them alike. */
export const IdSchema = Id;
export const CountSchema = Count;

export const TaskInstanceStatusSchema = union(TASK_INSTANCE_STATES);
export const TaskStatusSchema = union(TASK_STATES);
export const WorkflowStatusSchema = union(WORKFLOW_STATES);
export const WorkflowRunStatusSchema = union(WORKFLOW_RUN_STATES);
export const ErrorClassSchema = union(ERROR_CLASSES);

export const ErrorResponse = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

/** GET /health: the server is up; which database it serves (its id keys log folders). */
export const HealthResponse = Type.Object({
  ok: Type.Boolean(),
  version: Type.String(),
  db: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
  databaseId: Type.String(),
  /** This process's reaper: 'holder' runs it; 'standby' waits for another replica's lease to lapse. */
  reaper: Type.Optional(
    Type.Object({
      role: Type.Union([Type.Literal('holder'), Type.Literal('standby'), Type.Literal('off')]),
      passes: Type.Integer({ minimum: 0 }),
    }),
  ),
});
export type HealthResponseT = Static<typeof HealthResponse>;

// --- definitions ------------------------------------------------------------------------------

export const ToolRequest = Type.Object(
  { name: Name, newVersion: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export const ToolResponse = Type.Object({ toolId: Id, toolVersionId: Id });

export const TemplateSpec = Type.Object(
  {
    name: Name,
    commandTemplate: Type.String({ minLength: 1, maxLength: 65536, format: CLEAN_TEXT_FORMAT }),
    nodeArgs: Type.Array(Name, { maxItems: 256 }),
    taskArgs: Type.Array(Name, { maxItems: 256 }),
    opArgs: Type.Array(Name, { maxItems: 256 }),
    defaultResources: Type.Optional(NamedRecord(Resources, 256)),
  },
  { additionalProperties: false },
);
export const TemplatesRequest = Type.Object(
  { toolVersionId: Id, templates: Type.Array(TemplateSpec, { minItems: 1, maxItems: 10000 }) },
  { additionalProperties: false },
);
export const TemplatesResponse = Type.Object({
  templates: Type.Array(Type.Object({ name: Type.String(), taskTemplateId: Id, versionId: Id })),
});

// --- workflows and binding --------------------------------------------------------------------

export const WorkflowRequest = Type.Object(
  {
    toolVersionId: Id,
    argsHash: Hash,
    taskHash: Hash,
    dagHash: Hash,
    workflowArgs: Args,
    taskCount: Int32Count,
    name: Text(255),
    description: Text(65536),
    attributes: Type.Optional(NamedRecord(Text(2048))),
    maxConcurrentlyRunning: Type.Optional(Int32Count),
    templateConcurrency: Type.Optional(NamedRecord(Int32Count)),
  },
  { additionalProperties: false },
);
export const WorkflowResponse = Type.Object({
  workflowId: Id,
  dagId: Id,
  dagBound: Type.Boolean(),
  status: WorkflowStatusSchema,
  created: Type.Boolean(),
});

export const RunRequest = Type.Object(
  {
    user: Text(255),
    host: Text(255),
    pid: Int32Count,
    jobmonVersion: Text(64),
    nextReportMs: Type.Optional(ReportMs),
    /** `<boot id>:<start time>` of the runner process, so its host can prove later that it is gone. */
    processStart: Type.Optional(Text(128)),
    /** The runner's working directory: `jobmon workflow resume <id>` runs the commands there again. */
    cwd: Type.Optional(Text(4096)),
  },
  { additionalProperties: false },
);
/** POST /workflow-runs/{id}/reap: the process that ran this run is gone (checked on its host). */
export const ReapRunRequest = Type.Object(
  {
    host: Text(255),
    pid: Int32Count,
    processStart: Type.String({ minLength: 1, maxLength: 128, format: CLEAN_TEXT_FORMAT }),
  },
  { additionalProperties: false },
);
export const ReapRunResponse = Type.Object({ runId: Id, status: WorkflowRunStatusSchema });
export const RunResponse = Type.Object({
  runId: Id,
  status: WorkflowRunStatusSchema,
  /** On a server with authentication: the run token for this run's runner and workers (docs/auth.md). */
  runToken: Type.Optional(Type.String()),
});

export const BindTask = Type.Object(
  {
    nodeHash: Hash,
    taskArgsHash: Hash,
    templateVersionId: Id,
    nodeArgs: Args,
    taskArgs: Args,
    name: Name,
    command: Type.String({ minLength: 1, maxLength: 1_000_000, format: CLEAN_TEXT_FORMAT }),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 1000 }),
    maxInfraFailures: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    cluster: Name,
    queue: Type.Optional(Name),
    resources: Type.Optional(Resources),
    resourceScales: Type.Optional(Resources),
    fallbackQueues: Type.Optional(Type.Array(Name, { maxItems: 256 })),
    attributes: Type.Optional(NamedRecord(Text(2048))),
  },
  { additionalProperties: false },
);
export const BindTasksRequest = Type.Object(
  { tasks: Type.Array(BindTask, { minItems: 1, maxItems: 20000 }) },
  { additionalProperties: false },
);
/** One row per bound task, in request order: [nodeId, taskId, status]. */
export const BindTasksResponse = Type.Object({
  tasks: Type.Array(Type.Tuple([Id, Id, TaskStatusSchema])),
});
export const EdgesRequest = Type.Object(
  { edges: Type.Array(Type.Tuple([Id, Id]), { minItems: 1, maxItems: 200000 }) },
  { additionalProperties: false },
);

export const RunStatusRequest = Type.Object(
  {
    status: WorkflowRunStatusSchema,
    taskCount: Type.Optional(Int32Count),
    nextReportMs: Type.Optional(ReportMs),
  },
  { additionalProperties: false },
);
export const RunStatusResponse = Type.Object({
  status: WorkflowRunStatusSchema,
  /** The heartbeat's answer carries the workflow's current limits, so a change made while it runs
   *  (`jobmon workflow concurrency`) reaches the runner at its next beat. */
  limits: Type.Optional(
    Type.Object({
      maxConcurrentlyRunning: Type.Integer({ minimum: 0 }),
      templateConcurrency: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
    }),
  ),
});
/** PUT /workflows/{id}/concurrency: the limit of the workflow, or of one of its templates. */
export const ConcurrencyRequest = Type.Object(
  { limit: Int32Count, template: Type.Optional(Name) },
  { additionalProperties: false },
);
export const ConcurrencyResponse = Type.Object({
  workflowId: Id,
  template: Type.Union([Type.String(), Type.Null()]),
  limit: Type.Integer(),
  /** The limit before. */
  previous: Type.Integer(),
});
export const HeartbeatRequest = Type.Object(
  { status: WorkflowRunStatusSchema, nextReportMs: Type.Optional(ReportMs) },
  { additionalProperties: false },
);
export const InstanceHeartbeatRequest = Type.Object({ nextReportMs: ReportMs }, { additionalProperties: false });

// --- scheduling -------------------------------------------------------------------------------

export const QueueRequest = Type.Object(
  {
    tasks: Type.Array(
      Type.Object(
        { taskId: Id, resources: Type.Optional(Resources), queue: Type.Optional(Name) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 5000 },
    ),
  },
  { additionalProperties: false },
);
export const QueuedInstance = Type.Object({
  instanceId: Id,
  taskId: Id,
  name: Type.String(),
  command: Type.String(),
  cluster: Type.String(),
  queue: Type.String(),
  resources: Resources,
});
export const QueueResponse = Type.Object({
  instances: Type.Array(QueuedInstance),
  /** Tasks that were not in a queueable state, with the state they were in. */
  skipped: Type.Array(Type.Object({ taskId: Id, status: TaskStatusSchema })),
});

export const InstanceFields = {
  distributorId: Type.Optional(Text(255)),
  nodeName: Type.Optional(Text(255)),
  /** A process group the runner may signal: a real one, never 0 or negative (kill(-pgid) semantics). */
  pgid: Type.Optional(Type.Integer({ minimum: 1, maximum: INT32_MAX })),
  exitCode: Type.Optional(Type.Integer({ minimum: INT32_MIN, maximum: INT32_MAX })),
  peakMemoryBytes: Type.Optional(Count),
  wallTimeMs: Type.Optional(Count),
  stdoutPath: Type.Optional(Text(4096)),
  stderrPath: Type.Optional(Text(4096)),
  stdoutTail: Type.Optional(ReportText(20000)),
  stderrTail: Type.Optional(ReportText(20000)),
  errorMessage: Type.Optional(ReportText(20000)),
  /** Processes the command left behind that were killed when it ended (its group, escaped descendants). */
  cleanup: Type.Optional(ReportText(4096)),
  /** Deadline for this instance's next report, from now (a worker's or a launch's promise to call back). */
  nextReportMs: Type.Optional(ReportMs),
};
export const InstanceTransition = Type.Object(
  {
    id: Id,
    to: TaskInstanceStatusSchema,
    via: Type.Optional(Type.Array(TaskInstanceStatusSchema, { maxItems: 4 })),
    ...InstanceFields,
  },
  { additionalProperties: false },
);
export const TransitionsRequest = Type.Object(
  { items: Type.Array(InstanceTransition, { minItems: 1, maxItems: 5000 }) },
  { additionalProperties: false },
);
export const TransitionResult = Type.Object({
  id: Id,
  /** rejected: not a legal edge from where it is; moved: someone moved it (or its task) between the
   * server's read and its write (a compare-and-set miss): nothing of the item was written. */
  outcome: union(['applied', 'untimely', 'rejected', 'moved'] as const),
  status: TaskInstanceStatusSchema,
  taskId: Id,
  taskStatus: TaskStatusSchema,
  message: Type.Optional(Type.String()),
});
export const TransitionsResponse = Type.Object({ results: Type.Array(TransitionResult) });
export const SingleTransitionRequest = Type.Object(
  {
    to: TaskInstanceStatusSchema,
    via: Type.Optional(Type.Array(TaskInstanceStatusSchema, { maxItems: 4 })),
    ...InstanceFields,
  },
  { additionalProperties: false },
);
export const SingleTransitionResponse = Type.Object({
  status: TaskInstanceStatusSchema,
  taskStatus: TaskStatusSchema,
  outcome: union(['applied', 'untimely'] as const),
  command: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  taskId: Id,
  workflowId: Id,
  workflowRunId: Id,
});

// --- reading ----------------------------------------------------------------------------------

export const TaskSummary = Type.Object({
  id: Id,
  name: Type.String(),
  status: TaskStatusSchema,
  numAttempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  infraFailures: Type.Integer(),
});
export const WorkflowDetail = Type.Object({
  id: Id,
  name: Type.String(),
  description: Type.String(),
  status: WorkflowStatusSchema,
  workflowArgs: Type.Record(Type.String(), Type.Unknown()),
  /** Who may operate it with its operator group and admins (docs/auth.md); null when unknown. */
  owner: Type.Union([Type.String(), Type.Null()]),
  taskCount: Type.Integer(),
  counts: Type.Record(Type.String(), Type.Integer()),
  maxConcurrentlyRunning: Type.Integer(),
  lastRun: Type.Union([
    Type.Null(),
    Type.Object({ id: Id, status: WorkflowRunStatusSchema, heartbeatAt: Type.Integer() }),
  ]),
  createdAt: Type.Integer(),
  statusAt: Type.Integer(),
});
const ProgressCounts = Type.Object({
  PENDING: Type.Integer(),
  SCHEDULED: Type.Integer(),
  RUNNING: Type.Integer(),
  DONE: Type.Integer(),
  FATAL: Type.Integer(),
});
/** GET /workflows/{id}/progress: counts per template and the estimate of completion. */
export const WorkflowProgress = Type.Object({
  id: Id,
  name: Type.String(),
  status: WorkflowStatusSchema,
  /** Since the latest run started; null before any run. */
  elapsedMs: Type.Union([Type.Integer(), Type.Null()]),
  templates: Type.Array(
    Type.Object({
      id: Id,
      name: Type.String(),
      counts: ProgressCounts,
      /** Mean runtime of one task, seconds; null when unknown. */
      runtimeSeconds: Type.Union([Type.Number(), Type.Null()]),
      runtimeSource: union([
        'this workflow',
        'earlier workflows',
        'runtime request',
        'scaled runtime request',
        'unknown',
      ] as const),
    }),
  ),
  /** Seconds from now; low/high bracket it; method says how it was made. Null: see etaReason. */
  eta: Type.Union([
    Type.Null(),
    Type.Object({ seconds: Type.Integer(), low: Type.Integer(), high: Type.Integer(), method: Type.String() }),
  ]),
  etaReason: Type.Optional(Type.String()),
});
export type WorkflowProgressT = Static<typeof WorkflowProgress>;
export const TaskError = Type.Object({
  taskId: Id,
  taskName: Type.String(),
  taskStatus: TaskStatusSchema,
  instanceId: Id,
  instanceStatus: TaskInstanceStatusSchema,
  errorClass: ErrorClassSchema,
  message: Type.String(),
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  stderrTail: Type.Union([Type.String(), Type.Null()]),
  at: Type.Integer(),
});
export const TaskErrorsResponse = Type.Object({ errors: Type.Array(TaskError) });
export const InstanceDetail = Type.Object({
  id: Id,
  taskId: Id,
  workflowRunId: Id,
  status: TaskInstanceStatusSchema,
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  peakMemoryBytes: Type.Union([Type.Integer(), Type.Null()]),
  wallTimeMs: Type.Union([Type.Integer(), Type.Null()]),
  nodeName: Type.Union([Type.String(), Type.Null()]),
  distributorId: Type.Union([Type.String(), Type.Null()]),
  stdoutPath: Type.Union([Type.String(), Type.Null()]),
  stderrPath: Type.Union([Type.String(), Type.Null()]),
  stdoutTail: Type.Union([Type.String(), Type.Null()]),
  stderrTail: Type.Union([Type.String(), Type.Null()]),
  resources: Resources,
  errorClass: Type.Union([ErrorClassSchema, Type.Null()]),
  cleanup: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer(),
  statusAt: Type.Integer(),
});
/** A page of instances in id order: those after `after`, at most `limit` (10,000 at most). */
export const InstancePageQuery = Type.Object({
  after: Type.Integer({ minimum: 0, maximum: MAX_ID, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: 10000, default: 10000 }),
});
/** `nextAfter`, when present, is the `after` of the next page. */
export const InstancesResponse = Type.Object({
  instances: Type.Array(InstanceDetail),
  nextAfter: Type.Optional(Type.Integer()),
});

export const Event = Type.Object({
  seq: Type.Integer(),
  at: Type.Integer(),
  workflowId: Type.Union([Type.Integer(), Type.Null()]),
  entity: Type.String(),
  entityId: Type.Integer(),
  from: Type.Union([Type.String(), Type.Null()]),
  to: Type.String(),
  actor: Type.String(),
  context: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
export const EventsResponse = Type.Object({ events: Type.Array(Event), last: Type.Integer() });

export type Wire<T extends TSchema> = Static<T>;
export type ToolResponseT = Static<typeof ToolResponse>;
export type TemplateSpecT = Static<typeof TemplateSpec>;
export type TemplatesResponseT = Static<typeof TemplatesResponse>;
export type WorkflowRequestT = Static<typeof WorkflowRequest>;
export type WorkflowResponseT = Static<typeof WorkflowResponse>;
export type RunResponseT = Static<typeof RunResponse>;
export type BindTaskT = Static<typeof BindTask>;
export type BindTasksResponseT = Static<typeof BindTasksResponse>;
export type QueueResponseT = Static<typeof QueueResponse>;
export type QueuedInstanceT = Static<typeof QueuedInstance>;
export type InstanceTransitionT = Static<typeof InstanceTransition>;
export type TransitionResultT = Static<typeof TransitionResult>;
export type SingleTransitionRequestT = Static<typeof SingleTransitionRequest>;
export type SingleTransitionResponseT = Static<typeof SingleTransitionResponse>;
export type WorkflowDetailT = Static<typeof WorkflowDetail>;
export type TaskErrorT = Static<typeof TaskError>;
export type TaskSummaryT = Static<typeof TaskSummary>;
export type InstanceDetailT = Static<typeof InstanceDetail>;
export type EventT = Static<typeof Event>;

// --- node health ------------------------------------------------------------------------------

/** Longest window the node-health view looks back over: 30 days. */
export const NODE_HEALTH_MAX_WINDOW_MS = MAX_REPORT_MS;
export const NodeHealthQuery = Type.Object(
  { windowMs: Type.Optional(Type.Integer({ minimum: 1, maximum: NODE_HEALTH_MAX_WINDOW_MS, default: 3_600_000 })) },
  { additionalProperties: false },
);
export const NodeHealth = Type.Object({
  nodeName: Type.String(),
  /** Infrastructure-class errors (UNKNOWN_ERROR, NO_HEARTBEAT, …) of the instances below. */
  infrastructureErrors: Type.Integer(),
  /** Instances created on this node within the window. */
  instances: Type.Integer(),
  lastErrorAt: Type.Union([Type.Integer(), Type.Null()]),
});
export const NodeHealthResponse = Type.Object({ nodes: Type.Array(NodeHealth) });
export type NodeHealthT = Static<typeof NodeHealth>;

// --- params, queries and small answers of the routes (core/src/api.ts pairs them with paths) ----

export const IdParams = Type.Object({ id: Id });
export const OpenApiResponse = Type.Record(Type.String(), Type.Unknown());

export const EdgesResponse = Type.Object({ inserted: Type.Integer() });
export const InstanceHeartbeatResponse = Type.Object({ status: TaskInstanceStatusSchema });

/** Most rows any read route answers with in one page. */
export const PAGE_MAX = 10_000;
export const WorkflowTasksQuery = Type.Object(
  {
    /** One task status, or several separated by commas. */
    status: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Z_]+(,[A-Z_]+)*$' })),
    /** The task template's name, exact. */
    template: Type.Optional(Name),
    limit: Type.Integer({ minimum: 1, maximum: PAGE_MAX, default: 1000 }),
    /** The previous page's nextCursor (tasks come in id order). */
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: '^[1-9][0-9]*$' })),
  },
  { additionalProperties: false },
);
export const WorkflowTask = Type.Composite([TaskSummary, Type.Object({ template: Type.String() })]);
export const WorkflowTasksResponse = Type.Object({
  tasks: Type.Array(WorkflowTask),
  /** Present when the page is full: pass it as `cursor` for the next page. */
  nextCursor: Type.Optional(Type.String()),
});
export type WorkflowTaskT = Static<typeof WorkflowTask>;
export type WorkflowTasksResponseT = Static<typeof WorkflowTasksResponse>;

/** GET /tasks/{id}: one attempt (task instance) as `jobmon task show` prints it. */
export const TaskAttempt = Type.Composite([
  InstanceDetail,
  Type.Object({
    /** 1 for the first instance of the task, in creation order. */
    attempt: Type.Integer({ minimum: 1 }),
    cluster: Type.String(),
    clusterType: Type.String(),
    queue: Type.String(),
    /** The newest error recorded for this attempt, null when it has none. */
    errorMessage: Type.Union([Type.String(), Type.Null()]),
  }),
]);
export const TaskDetail = Type.Object({
  id: Id,
  name: Type.String(),
  status: TaskStatusSchema,
  workflowId: Id,
  workflowName: Type.String(),
  template: Type.String(),
  command: Type.String(),
  numAttempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  infraFailures: Type.Integer(),
  statusAt: Type.Integer(),
  /** Oldest first; at most PAGE_MAX (the newest ones when there are more). */
  attempts: Type.Array(TaskAttempt),
});
export type TaskAttemptT = Static<typeof TaskAttempt>;
export type TaskDetailT = Static<typeof TaskDetail>;

/** GET /workflows/{id}/error-groups: the workflow's failures grouped by their normalised message. */
export const ErrorGroupsQuery = Type.Object(
  {
    template: Type.Optional(Name),
    /** At most this many groups, the largest first. */
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);
export const ErrorGroup = Type.Object({
  /** The message with numbers, hex, paths, ids and quoted values replaced by placeholders. */
  pattern: Type.String(),
  errorClass: ErrorClassSchema,
  count: Type.Integer(),
  /** One message of the group, as recorded (the newest). */
  sample: Type.String(),
  firstAt: Type.Integer(),
  lastAt: Type.Integer(),
  /** Distinct tasks with a failure in the group, ascending; at most 1000, and 10,000 over all the
   *  groups of an answer (10,000 / groups each when more than 10 groups are returned). */
  taskIds: Type.Array(Id),
  taskCount: Type.Integer(),
});
export const ErrorGroupsResponse = Type.Object({
  groups: Type.Array(ErrorGroup),
  /** Failures read (every failed attempt of the workflow, or of the template's tasks). */
  failures: Type.Integer(),
  /** Groups there were in all (more than `groups` when the limit cut them). */
  groupCount: Type.Integer(),
});
export type ErrorGroupT = Static<typeof ErrorGroup>;
export type ErrorGroupsResponseT = Static<typeof ErrorGroupsResponse>;
/** POST /workflow-runs/{id}/rebind: a linking run takes over the workflow's tasks as stored (resume by id). */
export const RebindRequest = Type.Object(
  {
    /** Keep each unfinished task's resources as its last attempt left them (scaled after failures);
     *  otherwise they go back to what its first attempt asked. */
    keepResources: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export const RebindResponse = Type.Object({
  /** Tasks reset to REGISTERING (fresh attempts). */
  reset: Type.Integer(),
  done: Type.Integer(),
  total: Type.Integer(),
});
/** GET /workflows/{id}/dag: everything a runner needs to run a workflow by id, a page of tasks at a time. */
export const WorkflowDagQuery = Type.Object({
  /** Tasks with an id above this (the previous page's `nextAfter`). */
  after: Type.Integer({ minimum: 0, maximum: MAX_ID, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: 10000, default: 10000 }),
});
export const DagTask = Type.Object({
  id: Id,
  name: Type.String(),
  status: TaskStatusSchema,
  template: Type.String(),
  cluster: Type.String(),
  /** Ids of the tasks it waits for. */
  upstream: Type.Array(Id),
});
export const WorkflowDagResponse = Type.Object({
  workflowId: Id,
  name: Type.String(),
  status: WorkflowStatusSchema,
  taskCount: Type.Integer(),
  maxConcurrentlyRunning: Type.Integer(),
  /** Per template name: its concurrency limit in this workflow (templates without one are absent). */
  templateConcurrency: Type.Record(Type.String(), Type.Integer()),
  /** The working directory recorded by the latest run that recorded one; null when none did. */
  cwd: Type.Union([Type.String(), Type.Null()]),
  tasks: Type.Array(DagTask),
  /** Present when there are more tasks: pass it as `after`. */
  nextAfter: Type.Optional(Id),
});
export type WorkflowDagT = Static<typeof WorkflowDagResponse>;
export type DagTaskT = Static<typeof DagTask>;
export const WorkflowErrorsQuery = Type.Object({
  all: Type.Boolean({ default: false }),
  limit: Type.Integer({ minimum: 1, maximum: 10000, default: 100 }),
});
export const ResumeRequest = Type.Object(
  { mode: Type.Union([Type.Literal('cold'), Type.Literal('hot')]) },
  { additionalProperties: false },
);
/** The run asked to stop, and its status; both null when no run was live. */
export const ResumeResponse = Type.Object({
  runId: Type.Union([Id, Type.Null()]),
  status: Type.Union([WorkflowRunStatusSchema, Type.Null()]),
});

/** GET /workflow-runs/{id}/instances?status=A,B: a run's instances, for a runner that takes over. */
export const RunInstancesQuery = Type.Composite([
  InstancePageQuery,
  Type.Object({ status: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Z_,]*$' })) }),
]);
export const RunInstance = Type.Object({
  id: Id,
  taskId: Id,
  status: Type.String(),
  pgid: Type.Union([Type.Integer(), Type.Null()]),
  distributorId: Type.Union([Type.String(), Type.Null()]),
});
export const RunInstancesResponse = Type.Object({
  instances: Type.Array(RunInstance),
  nextAfter: Type.Optional(Type.Integer()),
});

/** GET /task-instances/{id}: the instance, with its task's command and name and its workflow. */
export const InstanceWithTask = Type.Composite([
  InstanceDetail,
  Type.Object({ command: Type.String(), taskName: Type.String(), workflowId: Id }),
]);

export const EventEntitySchema = union(['workflow', 'workflow_run', 'task', 'task_instance'] as const);
export const EventsQuery = Type.Object({
  after: Type.Integer({ minimum: 0, maximum: MAX_ID, default: 0 }),
  workflowId: Type.Optional(Id),
  entity: Type.Optional(EventEntitySchema),
  limit: Type.Integer({ minimum: 1, maximum: 10000, default: 1000 }),
  waitMs: Type.Integer({ minimum: 0, maximum: 60000, default: 0 }),
});
export const LatestEventResponse = Type.Object({ last: Type.Integer() });

// --- the workflow list (GET /workflows) --------------------------------------------------------

export const WORKFLOW_LIST_MAX = 1000;
/** `key=value`, repeated for several (all must hold). */
const KeyValues = Type.Union([
  Type.String({ maxLength: 4096 }),
  Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 32 }),
]);
export const WorkflowListQuery = Type.Object(
  {
    /** A glob over the name: `*` any run of characters, `?` one; everything else literal, case-insensitive. */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255, format: CLEAN_TEXT_FORMAT })),
    /** Who started a run of it. */
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 255, format: CLEAN_TEXT_FORMAT })),
    /** The name, exact (case-sensitive): how the CLI finds a workflow given by name. */
    exactName: Type.Optional(Type.String({ minLength: 1, maxLength: 255, format: CLEAN_TEXT_FORMAT })),
    /** The tool's name. */
    tool: Type.Optional(Type.String({ minLength: 1, maxLength: 255, format: CLEAN_TEXT_FORMAT })),
    /** One status, or several separated by commas. */
    status: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /** ISO 8601 dates or times: created at or after, and strictly before. */
    createdAfter: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    createdBefore: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** Workflow args, `key=value` (exact, on the value's text). */
    arg: Type.Optional(KeyValues),
    /** Workflow attributes, `key=value` (exact). */
    attribute: Type.Optional(KeyValues),
    limit: Type.Integer({ minimum: 1, maximum: WORKFLOW_LIST_MAX, default: 100 }),
    /** The previous page's nextCursor. */
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export const WorkflowListItem = Type.Object({
  id: Id,
  name: Type.String(),
  tool: Type.String(),
  /** The user of its latest run; null before any run. */
  user: Type.Union([Type.String(), Type.Null()]),
  status: WorkflowStatusSchema,
  taskCount: Type.Integer(),
  /** Tasks per status (only statuses that have tasks). */
  counts: Type.Record(Type.String(), Type.Integer()),
  createdAt: Type.Integer(),
  statusAt: Type.Integer(),
});
export const WorkflowListResponse = Type.Object({
  workflows: Type.Array(WorkflowListItem),
  /** Present when there may be more: pass it as `cursor` for the next page. */
  nextCursor: Type.Optional(Type.String()),
});
export type WorkflowListQueryT = Static<typeof WorkflowListQuery>;
export type WorkflowListItemT = Static<typeof WorkflowListItem>;
export type WorkflowListResponseT = Static<typeof WorkflowListResponse>;
export type RunInstanceT = Static<typeof RunInstance>;

// --- clusters ---------------------------------------------------------------------------------
// Clusters are data: a type, options and queues with limits. The shapes are bounded here; what the
// values mean (a known type, known resources, min ≤ max, a type's options) is checked by
// checkClusterSpec in clusters.ts, whose messages name the field.

/** A cluster or queue name: safe in a URL, a file name and a shell. */
export const ClusterName = Type.String({ pattern: CLUSTER_NAME_PATTERN });
export const ClusterParams = Type.Object({ name: ClusterName }, { additionalProperties: false });
const ClusterOptions = Type.Record(
  Type.String(),
  Type.Union([Type.String({ maxLength: 4096, format: CLEAN_TEXT_FORMAT }), FiniteNumber, Type.Boolean()]),
  { propertyNames: Name, maxProperties: 64 },
);
/** [min, max] per resource (cores; memory in MiB; runtime in seconds). */
const QueueLimits = Type.Record(Type.String(), Type.Tuple([FiniteNumber, FiniteNumber]), {
  propertyNames: Name,
  maxProperties: 16,
});
export const QueueSpecSchema = Type.Object({ name: ClusterName, limits: QueueLimits }, { additionalProperties: false });
/** PUT /clusters/{name}: create the cluster or update it. Listed queues are added or updated;
 *  queues not listed are kept (tasks may refer to them). A new cluster needs at least one queue. */
export const ClusterPutRequest = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 64, format: CLEAN_TEXT_FORMAT }),
    options: Type.Optional(ClusterOptions),
    queues: Type.Optional(Type.Array(QueueSpecSchema, { maxItems: 256 })),
  },
  { additionalProperties: false },
);
export const QueueInfo = Type.Object({
  id: Id,
  name: Type.String(),
  limits: Type.Record(Type.String(), Type.Unknown()),
});
export const ClusterInfo = Type.Object({
  id: Id,
  name: Type.String(),
  type: Type.String(),
  options: Type.Record(Type.String(), Type.Unknown()),
  queues: Type.Array(QueueInfo),
});
export const ClustersResponse = Type.Object({ clusters: Type.Array(ClusterInfo) });
export const ClusterPutResponse = Type.Object({ created: Type.Boolean(), cluster: ClusterInfo });
export type ClusterPutRequestT = Static<typeof ClusterPutRequest>;
export type QueueInfoT = Static<typeof QueueInfo>;
export type ClusterInfoT = Static<typeof ClusterInfo>;
export type ClustersResponseT = Static<typeof ClustersResponse>;
export type ClusterPutResponseT = Static<typeof ClusterPutResponse>;

/** GET /tasks/{id}/deps: the tasks upstream (or downstream) of a task, breadth first, to a depth. */
export const TaskDepsQuery = Type.Object(
  {
    direction: Type.Union([Type.Literal('up'), Type.Literal('down')], { default: 'up' }),
    /** How many edges away; 0 means no limit (the answer still stops at PAGE_MAX tasks). */
    depth: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 1 }),
  },
  { additionalProperties: false },
);
export const TaskDep = Type.Object({
  id: Id,
  name: Type.String(),
  template: Type.String(),
  status: TaskStatusSchema,
  /** Edges between this task and the one asked about (1: a direct upstream or downstream). */
  depth: Type.Integer({ minimum: 1 }),
});
export const TaskDepsResponse = Type.Object({
  taskId: Id,
  direction: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  /** The depth asked for; 0: no limit. */
  depth: Type.Integer(),
  /** Nearest first, then by id; at most PAGE_MAX. */
  tasks: Type.Array(TaskDep),
  /** True when there were more tasks than PAGE_MAX within the depth (the nearest are listed). */
  truncated: Type.Boolean(),
});
export type TaskDepT = Static<typeof TaskDep>;
export type TaskDepsResponseT = Static<typeof TaskDepsResponse>;

/** Why a task is not running (or will or will not run on resume): the stable codes of its causes. */
export const WHY_REASONS = [
  'DONE',
  'RUNNING',
  'LAUNCHED',
  'QUEUED',
  'ATTEMPTS_SPENT',
  'INFRA_BUDGET_SPENT',
  'FATAL',
  'UPSTREAM_NOT_DONE',
  'UPSTREAM_FAILED',
  'NO_QUEUE_FITS',
  'WORKFLOW_STOPPED',
  'NO_LIVE_RUN',
  'WORKFLOW_PAUSED',
  'TEMPLATE_PAUSED',
  'WORKFLOW_LIMIT',
  'TEMPLATE_LIMIT',
  'ADJUSTING_RESOURCES',
  'RETRY_PENDING',
  'READY',
] as const;
export type WhyReason = (typeof WHY_REASONS)[number];
export const WhyCause = Type.Object({
  reason: union(WHY_REASONS),
  /** One sentence for a person. */
  message: Type.String(),
  /** The facts behind it (counts, limits, tasks, queues), per reason. */
  details: Type.Record(Type.String(), Type.Unknown()),
});
/** GET /tasks/{id}/why: every cause that holds, the blocking one first. */
export const TaskWhyResponse = Type.Object({
  taskId: Id,
  name: Type.String(),
  status: TaskStatusSchema,
  template: Type.String(),
  workflowId: Id,
  workflowStatus: WorkflowStatusSchema,
  causes: Type.Array(WhyCause, { minItems: 1 }),
});
export type WhyCauseT = Static<typeof WhyCause>;
export type TaskWhyResponseT = Static<typeof TaskWhyResponse>;
// --- resources and nodes (`jobmon resources usage|suggest`, `jobmon nodes`) ---------------------

/** Most finished instances the resource reads look at: the newest ones (their answers say `sampled`). */
export const RESOURCE_SAMPLE_MAX = 10_000;
const TemplateName = Type.String({ minLength: 1, maxLength: 255, format: CLEAN_TEXT_FORMAT });
/** GET /resources/usage: runtime and peak memory of a template's finished (DONE) instances. */
export const ResourceUsageQuery = Type.Object(
  {
    /** Required (checked by the service, after the fields' own checks). */
    template: Type.Optional(TemplateName),
    /** The template's tool, when its name exists in several tools (and no workflowId is given). */
    tool: Type.Optional(TemplateName),
    workflowId: Type.Optional(Id),
    /** Node args of the task, `key=value` (exact, on the value's text); repeated, all must hold. */
    nodeArg: Type.Optional(KeyValues),
  },
  { additionalProperties: false },
);
/** min, median, p90 and max of a measure; all null when no instance recorded it. */
export const UsageStats = Type.Object({
  /** Instances that recorded the measure. */
  count: Type.Integer(),
  min: Type.Union([Type.Number(), Type.Null()]),
  median: Type.Union([Type.Number(), Type.Null()]),
  p90: Type.Union([Type.Number(), Type.Null()]),
  max: Type.Union([Type.Number(), Type.Null()]),
});
/** used / requested per instance (1 = all of it used); median and p90 over instances that have both. */
export const Utilisation = Type.Object({
  count: Type.Integer(),
  median: Type.Union([Type.Number(), Type.Null()]),
  p90: Type.Union([Type.Number(), Type.Null()]),
});
export const ResourceUsageResponse = Type.Object({
  template: Type.String(),
  tool: Type.String(),
  workflowId: Type.Union([Id, Type.Null()]),
  nodeArgs: Type.Record(Type.String(), Type.String()),
  /** Finished (DONE) instances that match. */
  finished: Type.Integer(),
  /** How many of them (the newest, at most RESOURCE_SAMPLE_MAX) the figures below are computed on. */
  sampled: Type.Integer(),
  /** Wall time, milliseconds. */
  runtimeMs: UsageStats,
  /** Peak memory, bytes. */
  memoryBytes: UsageStats,
  /** Against what each instance asked (its resources after scaling: runtime seconds, memory MiB). */
  utilisation: Type.Object({ runtime: Utilisation, memory: Utilisation }),
});
export type UsageStatsT = Static<typeof UsageStats>;
export type UtilisationT = Static<typeof Utilisation>;
export type ResourceUsageResponseT = Static<typeof ResourceUsageResponse>;

/** GET /workflows/{id}/resource-suggestions: compute resources per template from finished instances. */
export const ResourceSuggestQuery = Type.Object(
  {
    strategy: Type.Union([Type.Literal('p90'), Type.Literal('max')], { default: 'p90' }),
    /** Whole percent added on top of the statistic. */
    headroom: Type.Integer({ minimum: 0, maximum: 1000, default: 20 }),
  },
  { additionalProperties: false },
);
export const ResourceSuggestion = Type.Object({
  template: Type.String(),
  finished: Type.Integer(),
  sampled: Type.Integer(),
  /** The statistic (p90 or max) of peak memory, bytes, and the suggestion: × (1 + headroom), up to 64 MiB. */
  memory: Type.Union([Type.Object({ statBytes: Type.Integer(), suggestedMiB: Type.Integer() }), Type.Null()]),
  /** The statistic of wall time, ms, and the suggestion: × (1 + headroom), up to the minute. */
  runtime: Type.Union([Type.Object({ statMs: Type.Integer(), suggestedSeconds: Type.Integer() }), Type.Null()]),
  /** Cores the newest sampled instance asked for (kept as asked); null when it asked none. */
  cores: Type.Union([Type.Integer(), Type.Null()]),
});
export const ResourceSuggestResponse = Type.Object({
  workflowId: Id,
  workflowName: Type.String(),
  strategy: Type.String(),
  headroomPercent: Type.Number(),
  /** Templates with finished instances. */
  templates: Type.Array(ResourceSuggestion),
  /** Templates of the workflow without any finished instance. */
  unfinished: Type.Array(Type.String()),
});
export type ResourceSuggestionT = Static<typeof ResourceSuggestion>;
export type ResourceSuggestResponseT = Static<typeof ResourceSuggestResponse>;

/** Most nodes GET /nodes lists (the worst first). */
export const NODES_MAX = 10_000;
/** GET /nodes: per node, instances and infrastructure failures in a window. */
export const NodesQuery = Type.Object(
  { windowMs: Type.Integer({ minimum: 1, maximum: MAX_REPORT_MS, default: 86_400_000 }) },
  { additionalProperties: false },
);
export const NodeReport = Type.Object({
  nodeName: Type.String(),
  /** Instances created on this node within the window. */
  instances: Type.Integer(),
  /** Of them, those that ended with an infrastructure-class error (UNKNOWN_ERROR, NO_HEARTBEAT, NO_DISTRIBUTOR_ID). */
  infrastructureFailures: Type.Integer(),
  /** infrastructureFailures / instances. */
  failureRate: Type.Number(),
  /** At least 3 infrastructure failures and a rate at least 3× that of all other nodes together. */
  suspicious: Type.Boolean(),
  lastFailureAt: Type.Union([Type.Integer(), Type.Null()]),
});
export const NodesResponse = Type.Object({
  windowMs: Type.Integer(),
  since: Type.Integer(),
  instances: Type.Integer(),
  infrastructureFailures: Type.Integer(),
  overallRate: Type.Number(),
  /** Nodes there were in all (more than `nodes` when cut at NODES_MAX). */
  nodeCount: Type.Integer(),
  nodes: Type.Array(NodeReport),
});
export type NodeReportT = Static<typeof NodeReport>;
export type NodesResponseT = Static<typeof NodesResponse>;
// --- operator changes: workflow reset and task update ---------------------------------------------

/** Most tasks a task update names by id, and most rows its answer lists (with the total). */
export const TASK_UPDATE_MAX = 10_000;
/** Who asked, as the CLI reports it; recorded in the event's context (authentication will vouch for it). */
export const RequestedBy = Type.Object(
  {
    user: Type.Optional(Type.String({ maxLength: 255, format: CLEAN_TEXT_FORMAT })),
    host: Type.Optional(Type.String({ maxLength: 255, format: CLEAN_TEXT_FORMAT })),
  },
  { additionalProperties: false },
);
/** How many tasks of one template moved (or would move) from one status. */
export const ChangeGroup = Type.Object({ template: Type.String(), from: TaskStatusSchema, count: Type.Integer() });
/** POST /workflows/{id}/reset: every task (or, `partial`, every task not DONE and what is downstream)
 *  back to REGISTERING with fresh attempts; refused while a run is live. */
export const ResetRequest = Type.Object(
  {
    partial: Type.Boolean({ default: false }),
    dryRun: Type.Boolean({ default: false }),
    requestedBy: Type.Optional(RequestedBy),
  },
  { additionalProperties: false },
);
export const ResetResponse = Type.Object({
  workflowId: Id,
  name: Type.String(),
  partial: Type.Boolean(),
  dryRun: Type.Boolean(),
  /** The workflow's status before and after (the same when it did not move). */
  workflowFrom: WorkflowStatusSchema,
  workflowTo: WorkflowStatusSchema,
  /** Tasks reset (or that would be), and DONE tasks kept (partial). */
  reset: Type.Integer(),
  kept: Type.Integer(),
  groups: Type.Array(ChangeGroup),
});
export type ResetResponseT = Static<typeof ResetResponse>;

/** POST /tasks/status: set the status of tasks named by id, or selected in one workflow. */
export const TaskUpdateRequest = Type.Object(
  {
    taskIds: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: TASK_UPDATE_MAX })),
    workflowId: Type.Optional(Id),
    template: Type.Optional(Name),
    /** Task attributes that must all hold (exact values). */
    attributes: Type.Optional(NamedRecord(Text(2048), 32)),
    status: Type.Union([Type.Literal('DONE'), Type.Literal('REGISTERING')]),
    /** DONE: also every upstream task; REGISTERING: also every downstream task. */
    recursive: Type.Boolean({ default: false }),
    dryRun: Type.Boolean({ default: false }),
    requestedBy: Type.Optional(RequestedBy),
  },
  { additionalProperties: false },
);
export const TaskChange = Type.Object({
  id: Id,
  name: Type.String(),
  template: Type.String(),
  from: TaskStatusSchema,
  to: TaskStatusSchema,
});
export const TaskUpdateResponse = Type.Object({
  workflowId: Id,
  name: Type.String(),
  status: TaskStatusSchema,
  recursive: Type.Boolean(),
  dryRun: Type.Boolean(),
  workflowFrom: WorkflowStatusSchema,
  workflowTo: WorkflowStatusSchema,
  /** Tasks selected (with the recursion), tasks that changed (or would), and those already there. */
  selected: Type.Integer(),
  changed: Type.Integer(),
  unchanged: Type.Integer(),
  groups: Type.Array(ChangeGroup),
  /** The changes in task id order, at most TASK_UPDATE_MAX; `truncated` when there are more. */
  tasks: Type.Array(TaskChange),
  truncated: Type.Boolean(),
});
export type TaskUpdateRequestT = Static<typeof TaskUpdateRequest>;
export type TaskUpdateResponseT = Static<typeof TaskUpdateResponse>;

// --- access: share links, tokens and the audit log (docs/auth.md) -----------------------------

/** POST /workflows/{id}/share: a read-only link to one workflow. */
export const ShareRequest = Type.Object(
  { expiresInHours: Type.Integer({ minimum: 1, maximum: 24 * 366, default: 24 * 14 }) },
  { additionalProperties: false },
);
export const ShareResponse = Type.Object({
  workflowId: Id,
  tokenId: Type.String(),
  /** Shown once: the share token, to put in a link. */
  token: Type.String(),
  expiresAt: Type.Integer(),
});
/** POST /workflows/{id}/unshare: every share link of the workflow revoked. */
export const UnshareResponse = Type.Object({ workflowId: Id, revoked: Type.Integer({ minimum: 0 }) });

/** POST /tokens: an admin mints a personal access token through the API. */
export const TokenCreateRequest = Type.Object(
  {
    user: Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9._@-]+$' }),
    scope: union(['read', 'operate', 'admin'] as const),
    expiresInHours: Type.Integer({ minimum: 1, maximum: 24 * 3660 }),
    note: Type.Optional(Text(255)),
  },
  { additionalProperties: false },
);
export const TokenCreateResponse = Type.Object({ id: Type.String(), token: Type.String(), expiresAt: Type.Integer() });
export const TokenInfo = Type.Object({
  id: Type.String(),
  kind: union(['personal', 'run', 'share'] as const),
  user: Type.Union([Type.String(), Type.Null()]),
  scope: union(['read', 'operate', 'admin'] as const),
  workflowId: Type.Union([Id, Type.Null()]),
  runId: Type.Union([Id, Type.Null()]),
  createdAt: Type.Integer(),
  createdBy: Type.String(),
  expiresAt: Type.Integer(),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
  note: Type.String(),
});
export const TokenListQuery = Type.Object(
  { user: Type.Optional(Type.String({ minLength: 1, maxLength: 255, format: CLEAN_TEXT_FORMAT })) },
  { additionalProperties: false },
);
export const TokenListResponse = Type.Object({ tokens: Type.Array(TokenInfo) });
export const TokenParams = Type.Object({ tokenId: Type.String({ pattern: '^[A-Za-z0-9]{12}$' }) });
export const TokenRevokeResponse = Type.Object({ id: Type.String(), revoked: Type.Boolean() });

/** GET /audit: who changed what, when and from where, newest first. */
export const AuditQuery = Type.Object(
  {
    workflowId: Type.Optional(Id),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 255, format: CLEAN_TEXT_FORMAT })),
    /** Epoch milliseconds: at or after. */
    since: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_ID })),
    /** The previous page's nextBefore: entries with a smaller id. */
    before: Type.Optional(Id),
    limit: Type.Integer({ minimum: 1, maximum: 10000, default: 100 }),
  },
  { additionalProperties: false },
);
export const AuditEntry = Type.Object({
  id: Id,
  at: Type.Integer(),
  user: Type.Union([Type.String(), Type.Null()]),
  /** How the caller authenticated: local, personal, run, share, none, anonymous. */
  via: Type.String(),
  tokenId: Type.Union([Type.String(), Type.Null()]),
  method: Type.String(),
  route: Type.String(),
  /** The route's {id} or {name}, when it has one. */
  target: Type.Union([Type.String(), Type.Null()]),
  workflowId: Type.Union([Id, Type.Null()]),
  /** The HTTP status answered: 401 and 403 are refusals. */
  status: Type.Integer(),
  address: Type.String(),
});
export const AuditResponse = Type.Object({ entries: Type.Array(AuditEntry), nextBefore: Type.Optional(Id) });
