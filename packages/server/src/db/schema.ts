// The typed database schema shared by both dialects. Timestamps are integer epoch milliseconds;
// JSON columns are TEXT holding JSON. Ids are integers (pg int8 is parsed to number in connect.ts).

import type { TaskInstanceStatus, TaskStatus, WorkflowRunStatus, WorkflowStatus } from '@jobmon/core';
import type { Generated } from 'kysely';

/** Any machine's state: what the event log's from/to columns hold. */
export type AnyStatus = WorkflowStatus | WorkflowRunStatus | TaskStatus | TaskInstanceStatus;

export interface ToolTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}
export interface ToolVersionTable {
  id: Generated<number>;
  tool_id: number;
  created_at: number;
}
export interface TaskTemplateTable {
  id: Generated<number>;
  tool_version_id: number;
  name: string;
  created_at: number;
}
export interface TaskTemplateVersionTable {
  id: Generated<number>;
  task_template_id: number;
  command_template: string;
  arg_hash: string;
  node_args: string;
  task_args: string;
  op_args: string;
  default_resources: string;
  created_at: number;
}
export interface NodeTable {
  id: Generated<number>;
  hash: string;
  task_template_id: number;
}
export interface NodeArgTable {
  node_id: number;
  name: string;
  value: string;
}
export interface DagTable {
  id: Generated<number>;
  hash: string;
  created_at: number;
  bound_at: number | null;
}
export interface EdgeTable {
  dag_id: number;
  upstream_node_id: number;
  downstream_node_id: number;
}
export interface WorkflowTable {
  id: Generated<number>;
  tool_version_id: number;
  dag_id: number;
  args_hash: string;
  task_hash: string;
  workflow_args: string;
  name: string;
  description: string;
  status: WorkflowStatus;
  max_concurrently_running: number;
  task_count: number;
  created_at: number;
  status_at: number;
  bound_at: number | null;
  /** The user who bound it (0014); null when unknown. */
  owner: string | null;
}
export interface WorkflowAttributeTable {
  workflow_id: number;
  name: string;
  value: string;
}
export interface TemplateConcurrencyTable {
  workflow_id: number;
  task_template_id: number;
  max_concurrently_running: number;
}
/** `options`: JSON object of scalars, given to the cluster's distributor (0005 renamed it from `connection`). */
export interface ClusterTable {
  id: Generated<number>;
  name: string;
  type: string;
  options: string;
}
export interface QueueTable {
  id: Generated<number>;
  cluster_id: number;
  name: string;
  limits: string;
}
export interface TaskTable {
  id: Generated<number>;
  workflow_id: number;
  node_id: number;
  task_args_hash: string;
  task_template_version_id: number;
  name: string;
  command: string;
  status: TaskStatus;
  status_at: number;
  num_attempts: number;
  max_attempts: number;
  infra_failures: number;
  max_infra_failures: number;
  cluster_id: number;
  queue_id: number;
  resources: string;
  resource_scales: string;
  fallback_queues: string;
}
export interface TaskArgTable {
  task_id: number;
  name: string;
  value: string;
}
export interface TaskAttributeTable {
  task_id: number;
  name: string;
  value: string;
}
export interface WorkflowRunTable {
  id: Generated<number>;
  workflow_id: number;
  status: WorkflowRunStatus;
  user: string;
  host: string;
  pid: number;
  jobmon_version: string;
  created_at: number;
  status_at: number;
  heartbeat_at: number;
  report_by: number;
  /** `<boot id>:<start time in clock ticks>` of the runner process (Linux), or null. */
  process_start: string | null;
  /** The runner's working directory at bind (0008); null for older runs. */
  cwd: string | null;
}
export interface TaskInstanceTable {
  id: Generated<number>;
  workflow_run_id: number;
  workflow_id: number;
  task_id: number;
  status: TaskInstanceStatus;
  status_at: number;
  created_at: number;
  cluster_id: number;
  queue_id: number;
  resources: string;
  distributor_id: string | null;
  node_name: string | null;
  pgid: number | null;
  exit_code: number | null;
  peak_memory_bytes: number | null;
  wall_time_ms: number | null;
  stdout_path: string | null;
  stderr_path: string | null;
  stdout_tail: string | null;
  stderr_tail: string | null;
  error_class: string | null;
  report_by: number | null;
  /** What was killed after the command exited (processes it left behind), for the record. */
  cleanup: string | null;
}
export interface TaskInstanceErrorTable {
  id: Generated<number>;
  task_instance_id: number;
  at: number;
  error_class: string;
  message: string;
  /** The instance's workflow and task, copied at insert (0013; null only if a backfill missed it). */
  workflow_id: number | null;
  task_id: number | null;
  /** normaliseMessage(message), written with the row: the key `jobmon workflow errors` groups by. */
  pattern: string | null;
}
export interface EventTable {
  seq: Generated<number>;
  at: number;
  workflow_id: number | null;
  entity: string;
  entity_id: number;
  from_status: AnyStatus | null;
  to_status: AnyStatus;
  actor: string;
  context: string | null;
}

/** Idempotency-Key answers (services/idempotency.ts); status 0 means the first attempt still runs. */
export interface RequestLogTable {
  key: string;
  method: string;
  url: string;
  status: number;
  body: string | null;
  created_at: number;
}

/** Facts about the database itself: 'database_id' (a UUID written when it was created). */
export interface MetaTable {
  key: string;
  value: string;
}

/** Who holds a named role among server replicas, until when (database clock, epoch ms). */
export interface LeaseTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface AuthTokenTable {
  /** Public: listed, and revoked by it. */
  id: string;
  kind: 'personal' | 'run' | 'share';
  user: string | null;
  scope: 'read' | 'operate' | 'admin';
  /** A share link's workflow. */
  workflow_id: number | null;
  /** A run token's run. */
  workflow_run_id: number | null;
  /** SHA-256 of the secret, hex. */
  secret_hash: string;
  created_at: number;
  created_by: string;
  expires_at: number;
  revoked_at: number | null;
  note: Generated<string>;
}
export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  user: string | null;
  via: string;
  token_id: string | null;
  method: string;
  route: string;
  target: string | null;
  workflow_id: number | null;
  status: number;
  address: string;
}
export interface AuthSessionTable {
  id_hash: string;
  user: string;
  created_at: number;
  expires_at: number;
  ended_at: number | null;
}
export interface Database {
  meta: MetaTable;
  tool: ToolTable;
  tool_version: ToolVersionTable;
  task_template: TaskTemplateTable;
  task_template_version: TaskTemplateVersionTable;
  node: NodeTable;
  node_arg: NodeArgTable;
  dag: DagTable;
  edge: EdgeTable;
  workflow: WorkflowTable;
  workflow_attribute: WorkflowAttributeTable;
  template_concurrency: TemplateConcurrencyTable;
  cluster: ClusterTable;
  queue: QueueTable;
  task: TaskTable;
  task_arg: TaskArgTable;
  task_attribute: TaskAttributeTable;
  workflow_run: WorkflowRunTable;
  task_instance: TaskInstanceTable;
  task_instance_error: TaskInstanceErrorTable;
  event: EventTable;
  request_log: RequestLogTable;
  lease: LeaseTable;
  auth_token: AuthTokenTable;
  audit_log: AuditLogTable;
  auth_session: AuthSessionTable;
}
