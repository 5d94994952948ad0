-- The sqlite schema after every migration, written by `npm run schema:dump` (scripts/schema-dump.ts). Do not edit.

CREATE TABLE "audit_log" ("id" integer primary key autoincrement, "at" integer not null, "user" text, "via" text not null, "token_id" text, "method" text not null, "route" text not null, "target" text, "workflow_id" integer, "status" integer not null, "address" text not null);

CREATE TABLE "auth_session" ("id_hash" text primary key, "user" text not null, "created_at" integer not null, "expires_at" integer not null, "ended_at" integer);

CREATE TABLE "auth_token" ("id" text primary key, "kind" text not null, "user" text, "scope" text not null, "workflow_id" integer, "workflow_run_id" integer, "secret_hash" text not null, "created_at" integer not null, "created_by" text not null, "expires_at" integer not null, "revoked_at" integer, "note" text default '' not null);

CREATE TABLE "cluster" ("id" integer primary key autoincrement, "name" text not null unique, "type" text not null, "options" text not null);

CREATE TABLE "dag" ("id" integer primary key autoincrement, "hash" text not null unique, "created_at" bigint not null, "bound_at" bigint);

CREATE TABLE "edge" ("dag_id" bigint not null, "upstream_node_id" bigint not null, "downstream_node_id" bigint not null, constraint "edge_pk" primary key ("dag_id", "downstream_node_id", "upstream_node_id"));

CREATE TABLE "event" ("seq" integer primary key autoincrement, "at" bigint not null, "workflow_id" bigint, "entity" text not null, "entity_id" bigint not null, "from_status" text, "to_status" text not null, "actor" text not null, "context" text);

CREATE TABLE "kysely_migration" ("name" varchar(255) not null primary key, "timestamp" varchar(255) not null);

CREATE TABLE "kysely_migration_lock" ("id" varchar(255) not null primary key, "is_locked" integer default 0 not null);

CREATE TABLE "lease" ("name" text primary key, "holder" text not null, "expires_at" bigint not null);

CREATE TABLE "meta" ("key" text primary key, "value" text not null);

CREATE TABLE "node" ("id" integer primary key autoincrement, "hash" text not null unique, "task_template_id" bigint not null);

CREATE TABLE "node_arg" ("node_id" bigint not null, "name" text not null, "value" text not null, constraint "node_arg_pk" primary key ("node_id", "name"));

CREATE TABLE "queue" ("id" integer primary key autoincrement, "cluster_id" bigint not null references "cluster" ("id"), "name" text not null, "limits" text not null, constraint "queue_uq" unique ("cluster_id", "name"));

CREATE TABLE "request_log" ("key" text primary key, "method" text not null, "url" text not null, "status" integer not null, "body" text, "created_at" bigint not null);

CREATE TABLE sqlite_sequence(name,seq);

CREATE TABLE "task" ("id" integer primary key autoincrement, "workflow_id" bigint not null, "node_id" bigint not null, "task_args_hash" text not null, "task_template_version_id" bigint not null, "name" text not null, "command" text not null, "status" text not null, "status_at" bigint not null, "num_attempts" integer not null, "max_attempts" integer not null, "infra_failures" integer not null, "max_infra_failures" integer not null, "cluster_id" bigint not null, "queue_id" bigint not null, "resources" text not null, "resource_scales" text not null, "fallback_queues" text not null, constraint "task_identity_uq" unique ("workflow_id", "node_id", "task_args_hash"));

CREATE TABLE "task_arg" ("task_id" bigint not null, "name" text not null, "value" text not null, constraint "task_arg_pk" primary key ("task_id", "name"));

CREATE TABLE "task_attribute" ("task_id" bigint not null references "task" ("id"), "name" text not null, "value" text not null, constraint "task_attribute_pk" primary key ("task_id", "name"));

CREATE TABLE "task_instance" ("id" integer primary key autoincrement, "workflow_run_id" bigint not null, "workflow_id" bigint not null, "task_id" bigint not null, "status" text not null, "status_at" bigint not null, "created_at" bigint not null, "cluster_id" bigint not null, "queue_id" bigint not null, "resources" text not null, "distributor_id" text, "node_name" text, "pgid" integer, "exit_code" integer, "peak_memory_bytes" bigint, "wall_time_ms" bigint, "stdout_path" text, "stderr_path" text, "stdout_tail" text, "stderr_tail" text, "error_class" text, "report_by" bigint, "cleanup" text);

CREATE TABLE "task_instance_error" ("id" integer primary key autoincrement, "task_instance_id" bigint not null references "task_instance" ("id"), "at" bigint not null, "error_class" text not null, "message" text not null, "workflow_id" bigint, "task_id" bigint, "pattern" text);

CREATE TABLE "task_template" ("id" integer primary key autoincrement, "tool_version_id" bigint not null references "tool_version" ("id"), "name" text not null, "created_at" bigint not null, constraint "task_template_uq" unique ("tool_version_id", "name"));

CREATE TABLE "task_template_version" ("id" integer primary key autoincrement, "task_template_id" bigint not null references "task_template" ("id"), "command_template" text not null, "arg_hash" text not null, "node_args" text not null, "task_args" text not null, "op_args" text not null, "default_resources" text not null, "created_at" bigint not null, constraint "task_template_version_uq" unique ("task_template_id", "arg_hash"));

CREATE TABLE "template_concurrency" ("workflow_id" bigint not null references "workflow" ("id"), "task_template_id" bigint not null references "task_template" ("id"), "max_concurrently_running" integer not null, constraint "template_concurrency_pk" primary key ("workflow_id", "task_template_id"));

CREATE TABLE "tool" ("id" integer primary key autoincrement, "name" text not null unique, "created_at" bigint not null);

CREATE TABLE "tool_version" ("id" integer primary key autoincrement, "tool_id" bigint not null references "tool" ("id"), "created_at" bigint not null);

CREATE TABLE "workflow" ("id" integer primary key autoincrement, "tool_version_id" bigint not null references "tool_version" ("id"), "dag_id" bigint not null references "dag" ("id"), "args_hash" text not null, "task_hash" text not null, "workflow_args" text not null, "name" text not null, "description" text not null, "status" text not null, "max_concurrently_running" integer not null, "task_count" integer not null, "created_at" bigint not null, "status_at" bigint not null, "bound_at" bigint, "owner" text, constraint "workflow_identity_uq" unique ("tool_version_id", "args_hash"));

CREATE TABLE "workflow_attribute" ("workflow_id" bigint not null references "workflow" ("id"), "name" text not null, "value" text not null, constraint "workflow_attribute_pk" primary key ("workflow_id", "name"));

CREATE TABLE "workflow_run" ("id" integer primary key autoincrement, "workflow_id" bigint not null references "workflow" ("id"), "status" text not null, "user" text not null, "host" text not null, "pid" integer not null, "jobmon_version" text not null, "created_at" bigint not null, "status_at" bigint not null, "heartbeat_at" bigint not null, "report_by" bigint not null, "process_start" text, "cwd" text);

CREATE INDEX "audit_log_at_ix" on "audit_log" ("at");

CREATE INDEX "audit_log_user_ix" on "audit_log" ("user", "id");

CREATE INDEX "audit_log_workflow_ix" on "audit_log" ("workflow_id", "id");

CREATE INDEX "auth_token_run_ix" on "auth_token" ("workflow_run_id");

CREATE INDEX "auth_token_user_ix" on "auth_token" ("user");

CREATE INDEX "auth_token_workflow_ix" on "auth_token" ("workflow_id");

CREATE INDEX "edge_upstream_ix" on "edge" ("dag_id", "upstream_node_id", "downstream_node_id");

CREATE INDEX "event_workflow_seq_ix" on "event" ("workflow_id", "seq");

CREATE INDEX "request_log_created_ix" on "request_log" ("created_at");

CREATE INDEX "task_instance_created_ix" on "task_instance" ("created_at");

CREATE INDEX "task_instance_error_groups_ix" on "task_instance_error" ("workflow_id", "error_class", "pattern", "task_id", "at", "id");

CREATE INDEX "task_instance_error_task_ix" on "task_instance_error" ("task_id", "id");

CREATE INDEX "task_instance_error_ti_ix" on "task_instance_error" ("task_instance_id");

CREATE INDEX "task_instance_error_wf_ix" on "task_instance_error" ("workflow_id", "id");

CREATE INDEX "task_instance_run_status_ix" on "task_instance" ("workflow_run_id", "status");

CREATE INDEX "task_instance_status_report_ix" on "task_instance" ("status", "report_by");

CREATE INDEX "task_instance_task_ix" on "task_instance" ("task_id");

CREATE INDEX "task_instance_workflow_ix" on "task_instance" ("workflow_id", "id");

CREATE INDEX "task_status_at_ix" on "task" ("workflow_id", "status", "status_at", "id");

CREATE INDEX "task_template_name_ix" on "task_template" ("name");

CREATE INDEX "task_ttv_ix" on "task" ("task_template_version_id", "workflow_id");

CREATE INDEX "task_workflow_id_ix" on "task" ("workflow_id", "id");

CREATE INDEX "task_workflow_status_ix" on "task" ("workflow_id", "status");

CREATE INDEX "workflow_created_ix" on "workflow" ("created_at", "id");

CREATE INDEX "workflow_name_ix" on "workflow" ("name");

CREATE INDEX "workflow_run_report_ix" on "workflow_run" ("status", "report_by");

CREATE INDEX "workflow_run_user_ix" on "workflow_run" ("user", "workflow_id");

CREATE INDEX "workflow_run_workflow_ix" on "workflow_run" ("workflow_id", "status");

CREATE INDEX "workflow_status_created_ix" on "workflow" ("status", "created_at", "id");
