-- The postgres schema after every migration, written by `npm run schema:dump` (scripts/schema-dump.ts). Do not edit.

CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    at bigint NOT NULL,
    "user" text,
    via text NOT NULL,
    token_id text,
    method text NOT NULL,
    route text NOT NULL,
    target text,
    workflow_id integer,
    status integer NOT NULL,
    address text NOT NULL
);

CREATE SEQUENCE public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.audit_log_id_seq OWNED BY public.audit_log.id;

CREATE TABLE public.auth_session (
    id_hash text NOT NULL,
    "user" text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    ended_at bigint
);

CREATE TABLE public.auth_token (
    id text NOT NULL,
    kind text NOT NULL,
    "user" text,
    scope text NOT NULL,
    workflow_id integer,
    workflow_run_id integer,
    secret_hash text NOT NULL,
    created_at bigint NOT NULL,
    created_by text NOT NULL,
    expires_at bigint NOT NULL,
    revoked_at bigint,
    note text DEFAULT ''::text NOT NULL
);

CREATE TABLE public.cluster (
    id bigint NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    options text NOT NULL
);

CREATE SEQUENCE public.cluster_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.cluster_id_seq OWNED BY public.cluster.id;

CREATE TABLE public.dag (
    id bigint NOT NULL,
    hash text NOT NULL,
    created_at bigint NOT NULL,
    bound_at bigint
);

CREATE SEQUENCE public.dag_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.dag_id_seq OWNED BY public.dag.id;

CREATE TABLE public.edge (
    dag_id bigint NOT NULL,
    upstream_node_id bigint NOT NULL,
    downstream_node_id bigint NOT NULL
);

CREATE TABLE public.event (
    seq bigint NOT NULL,
    at bigint NOT NULL,
    workflow_id bigint,
    entity text NOT NULL,
    entity_id bigint NOT NULL,
    from_status text,
    to_status text NOT NULL,
    actor text NOT NULL,
    context text
);

CREATE SEQUENCE public.event_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.event_seq_seq OWNED BY public.event.seq;

CREATE TABLE public.kysely_migration (
    name character varying(255) NOT NULL,
    "timestamp" character varying(255) NOT NULL
);

CREATE TABLE public.kysely_migration_lock (
    id character varying(255) NOT NULL,
    is_locked integer DEFAULT 0 NOT NULL
);

CREATE TABLE public.lease (
    name text NOT NULL,
    holder text NOT NULL,
    expires_at bigint NOT NULL
);

CREATE TABLE public.meta (
    key text NOT NULL,
    value text NOT NULL
);

CREATE TABLE public.node (
    id bigint NOT NULL,
    hash text NOT NULL,
    task_template_id bigint NOT NULL
);

CREATE TABLE public.node_arg (
    node_id bigint NOT NULL,
    name text NOT NULL,
    value text NOT NULL
);

CREATE SEQUENCE public.node_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.node_id_seq OWNED BY public.node.id;

CREATE TABLE public.queue (
    id bigint NOT NULL,
    cluster_id bigint NOT NULL,
    name text NOT NULL,
    limits text NOT NULL
);

CREATE SEQUENCE public.queue_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.queue_id_seq OWNED BY public.queue.id;

CREATE TABLE public.request_log (
    key text NOT NULL,
    method text NOT NULL,
    url text NOT NULL,
    status integer NOT NULL,
    body text,
    created_at bigint NOT NULL
);

CREATE TABLE public.task (
    id bigint NOT NULL,
    workflow_id bigint NOT NULL,
    node_id bigint NOT NULL,
    task_args_hash text NOT NULL,
    task_template_version_id bigint NOT NULL,
    name text NOT NULL,
    command text NOT NULL,
    status text NOT NULL,
    status_at bigint NOT NULL,
    num_attempts integer NOT NULL,
    max_attempts integer NOT NULL,
    infra_failures integer NOT NULL,
    max_infra_failures integer NOT NULL,
    cluster_id bigint NOT NULL,
    queue_id bigint NOT NULL,
    resources text NOT NULL,
    resource_scales text NOT NULL,
    fallback_queues text NOT NULL
);

CREATE TABLE public.task_arg (
    task_id bigint NOT NULL,
    name text NOT NULL,
    value text NOT NULL
);

CREATE TABLE public.task_attribute (
    task_id bigint NOT NULL,
    name text NOT NULL,
    value text NOT NULL
);

CREATE SEQUENCE public.task_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.task_id_seq OWNED BY public.task.id;

CREATE TABLE public.task_instance (
    id bigint NOT NULL,
    workflow_run_id bigint NOT NULL,
    workflow_id bigint NOT NULL,
    task_id bigint NOT NULL,
    status text NOT NULL,
    status_at bigint NOT NULL,
    created_at bigint NOT NULL,
    cluster_id bigint NOT NULL,
    queue_id bigint NOT NULL,
    resources text NOT NULL,
    distributor_id text,
    node_name text,
    pgid integer,
    exit_code integer,
    peak_memory_bytes bigint,
    wall_time_ms bigint,
    stdout_path text,
    stderr_path text,
    stdout_tail text,
    stderr_tail text,
    error_class text,
    report_by bigint,
    cleanup text
);

CREATE TABLE public.task_instance_error (
    id bigint NOT NULL,
    task_instance_id bigint NOT NULL,
    at bigint NOT NULL,
    error_class text NOT NULL,
    message text NOT NULL,
    workflow_id bigint,
    task_id bigint,
    pattern text
);

CREATE SEQUENCE public.task_instance_error_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.task_instance_error_id_seq OWNED BY public.task_instance_error.id;

CREATE SEQUENCE public.task_instance_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.task_instance_id_seq OWNED BY public.task_instance.id;

CREATE TABLE public.task_template (
    id bigint NOT NULL,
    tool_version_id bigint NOT NULL,
    name text NOT NULL,
    created_at bigint NOT NULL
);

CREATE SEQUENCE public.task_template_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.task_template_id_seq OWNED BY public.task_template.id;

CREATE TABLE public.task_template_version (
    id bigint NOT NULL,
    task_template_id bigint NOT NULL,
    command_template text NOT NULL,
    arg_hash text NOT NULL,
    node_args text NOT NULL,
    task_args text NOT NULL,
    op_args text NOT NULL,
    default_resources text NOT NULL,
    created_at bigint NOT NULL
);

CREATE SEQUENCE public.task_template_version_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.task_template_version_id_seq OWNED BY public.task_template_version.id;

CREATE TABLE public.template_concurrency (
    workflow_id bigint NOT NULL,
    task_template_id bigint NOT NULL,
    max_concurrently_running integer NOT NULL
);

CREATE TABLE public.tool (
    id bigint NOT NULL,
    name text NOT NULL,
    created_at bigint NOT NULL
);

CREATE SEQUENCE public.tool_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.tool_id_seq OWNED BY public.tool.id;

CREATE TABLE public.tool_version (
    id bigint NOT NULL,
    tool_id bigint NOT NULL,
    created_at bigint NOT NULL
);

CREATE SEQUENCE public.tool_version_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.tool_version_id_seq OWNED BY public.tool_version.id;

CREATE TABLE public.workflow (
    id bigint NOT NULL,
    tool_version_id bigint NOT NULL,
    dag_id bigint NOT NULL,
    args_hash text NOT NULL,
    task_hash text NOT NULL,
    workflow_args text NOT NULL,
    name text NOT NULL,
    description text NOT NULL,
    status text NOT NULL,
    max_concurrently_running integer NOT NULL,
    task_count integer NOT NULL,
    created_at bigint NOT NULL,
    status_at bigint NOT NULL,
    bound_at bigint,
    owner text
);

CREATE TABLE public.workflow_attribute (
    workflow_id bigint NOT NULL,
    name text NOT NULL,
    value text NOT NULL
);

CREATE SEQUENCE public.workflow_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.workflow_id_seq OWNED BY public.workflow.id;

CREATE TABLE public.workflow_run (
    id bigint NOT NULL,
    workflow_id bigint NOT NULL,
    status text NOT NULL,
    "user" text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    jobmon_version text NOT NULL,
    created_at bigint NOT NULL,
    status_at bigint NOT NULL,
    heartbeat_at bigint NOT NULL,
    report_by bigint NOT NULL,
    process_start text,
    cwd text
);

CREATE SEQUENCE public.workflow_run_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.workflow_run_id_seq OWNED BY public.workflow_run.id;

ALTER TABLE ONLY public.audit_log ALTER COLUMN id SET DEFAULT nextval('public.audit_log_id_seq'::regclass);

ALTER TABLE ONLY public.cluster ALTER COLUMN id SET DEFAULT nextval('public.cluster_id_seq'::regclass);

ALTER TABLE ONLY public.dag ALTER COLUMN id SET DEFAULT nextval('public.dag_id_seq'::regclass);

ALTER TABLE ONLY public.event ALTER COLUMN seq SET DEFAULT nextval('public.event_seq_seq'::regclass);

ALTER TABLE ONLY public.node ALTER COLUMN id SET DEFAULT nextval('public.node_id_seq'::regclass);

ALTER TABLE ONLY public.queue ALTER COLUMN id SET DEFAULT nextval('public.queue_id_seq'::regclass);

ALTER TABLE ONLY public.task ALTER COLUMN id SET DEFAULT nextval('public.task_id_seq'::regclass);

ALTER TABLE ONLY public.task_instance ALTER COLUMN id SET DEFAULT nextval('public.task_instance_id_seq'::regclass);

ALTER TABLE ONLY public.task_instance_error ALTER COLUMN id SET DEFAULT nextval('public.task_instance_error_id_seq'::regclass);

ALTER TABLE ONLY public.task_template ALTER COLUMN id SET DEFAULT nextval('public.task_template_id_seq'::regclass);

ALTER TABLE ONLY public.task_template_version ALTER COLUMN id SET DEFAULT nextval('public.task_template_version_id_seq'::regclass);

ALTER TABLE ONLY public.tool ALTER COLUMN id SET DEFAULT nextval('public.tool_id_seq'::regclass);

ALTER TABLE ONLY public.tool_version ALTER COLUMN id SET DEFAULT nextval('public.tool_version_id_seq'::regclass);

ALTER TABLE ONLY public.workflow ALTER COLUMN id SET DEFAULT nextval('public.workflow_id_seq'::regclass);

ALTER TABLE ONLY public.workflow_run ALTER COLUMN id SET DEFAULT nextval('public.workflow_run_id_seq'::regclass);

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.auth_session
    ADD CONSTRAINT auth_session_pkey PRIMARY KEY (id_hash);

ALTER TABLE ONLY public.auth_token
    ADD CONSTRAINT auth_token_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.cluster
    ADD CONSTRAINT cluster_name_key UNIQUE (name);

ALTER TABLE ONLY public.cluster
    ADD CONSTRAINT cluster_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.dag
    ADD CONSTRAINT dag_hash_key UNIQUE (hash);

ALTER TABLE ONLY public.dag
    ADD CONSTRAINT dag_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.edge
    ADD CONSTRAINT edge_pk PRIMARY KEY (dag_id, downstream_node_id, upstream_node_id);

ALTER TABLE ONLY public.event
    ADD CONSTRAINT event_pkey PRIMARY KEY (seq);

ALTER TABLE ONLY public.kysely_migration_lock
    ADD CONSTRAINT kysely_migration_lock_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.kysely_migration
    ADD CONSTRAINT kysely_migration_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.lease
    ADD CONSTRAINT lease_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.meta
    ADD CONSTRAINT meta_pkey PRIMARY KEY (key);

ALTER TABLE ONLY public.node_arg
    ADD CONSTRAINT node_arg_pk PRIMARY KEY (node_id, name);

ALTER TABLE ONLY public.node
    ADD CONSTRAINT node_hash_key UNIQUE (hash);

ALTER TABLE ONLY public.node
    ADD CONSTRAINT node_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.queue
    ADD CONSTRAINT queue_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.queue
    ADD CONSTRAINT queue_uq UNIQUE (cluster_id, name);

ALTER TABLE ONLY public.request_log
    ADD CONSTRAINT request_log_pkey PRIMARY KEY (key);

ALTER TABLE ONLY public.task_arg
    ADD CONSTRAINT task_arg_pk PRIMARY KEY (task_id, name);

ALTER TABLE ONLY public.task_attribute
    ADD CONSTRAINT task_attribute_pk PRIMARY KEY (task_id, name);

ALTER TABLE ONLY public.task
    ADD CONSTRAINT task_identity_uq UNIQUE (workflow_id, node_id, task_args_hash);

ALTER TABLE ONLY public.task_instance_error
    ADD CONSTRAINT task_instance_error_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.task_instance
    ADD CONSTRAINT task_instance_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.task
    ADD CONSTRAINT task_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.task_template
    ADD CONSTRAINT task_template_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.task_template
    ADD CONSTRAINT task_template_uq UNIQUE (tool_version_id, name);

ALTER TABLE ONLY public.task_template_version
    ADD CONSTRAINT task_template_version_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.task_template_version
    ADD CONSTRAINT task_template_version_uq UNIQUE (task_template_id, arg_hash);

ALTER TABLE ONLY public.template_concurrency
    ADD CONSTRAINT template_concurrency_pk PRIMARY KEY (workflow_id, task_template_id);

ALTER TABLE ONLY public.tool
    ADD CONSTRAINT tool_name_key UNIQUE (name);

ALTER TABLE ONLY public.tool
    ADD CONSTRAINT tool_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.tool_version
    ADD CONSTRAINT tool_version_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.workflow_attribute
    ADD CONSTRAINT workflow_attribute_pk PRIMARY KEY (workflow_id, name);

ALTER TABLE ONLY public.workflow
    ADD CONSTRAINT workflow_identity_uq UNIQUE (tool_version_id, args_hash);

ALTER TABLE ONLY public.workflow
    ADD CONSTRAINT workflow_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.workflow_run
    ADD CONSTRAINT workflow_run_pkey PRIMARY KEY (id);

CREATE INDEX audit_log_at_ix ON public.audit_log USING btree (at);

CREATE INDEX audit_log_user_ix ON public.audit_log USING btree ("user", id);

CREATE INDEX audit_log_workflow_ix ON public.audit_log USING btree (workflow_id, id);

CREATE INDEX auth_token_run_ix ON public.auth_token USING btree (workflow_run_id);

CREATE INDEX auth_token_user_ix ON public.auth_token USING btree ("user");

CREATE INDEX auth_token_workflow_ix ON public.auth_token USING btree (workflow_id);

CREATE INDEX edge_upstream_ix ON public.edge USING btree (dag_id, upstream_node_id, downstream_node_id);

CREATE INDEX event_workflow_seq_ix ON public.event USING btree (workflow_id, seq);

CREATE INDEX request_log_created_ix ON public.request_log USING btree (created_at);

CREATE INDEX task_instance_created_ix ON public.task_instance USING btree (created_at);

CREATE INDEX task_instance_error_groups_ix ON public.task_instance_error USING btree (workflow_id, error_class, pattern, task_id, at, id);

CREATE INDEX task_instance_error_task_ix ON public.task_instance_error USING btree (task_id, id);

CREATE INDEX task_instance_error_ti_ix ON public.task_instance_error USING btree (task_instance_id);

CREATE INDEX task_instance_error_wf_ix ON public.task_instance_error USING btree (workflow_id, id);

CREATE INDEX task_instance_run_status_ix ON public.task_instance USING btree (workflow_run_id, status);

CREATE INDEX task_instance_status_report_ix ON public.task_instance USING btree (status, report_by);

CREATE INDEX task_instance_task_ix ON public.task_instance USING btree (task_id);

CREATE INDEX task_instance_workflow_ix ON public.task_instance USING btree (workflow_id, id);

CREATE INDEX task_status_at_ix ON public.task USING btree (workflow_id, status, status_at, id);

CREATE INDEX task_template_name_ix ON public.task_template USING btree (name);

CREATE INDEX task_ttv_ix ON public.task USING btree (task_template_version_id, workflow_id);

CREATE INDEX task_workflow_id_ix ON public.task USING btree (workflow_id, id);

CREATE INDEX task_workflow_status_ix ON public.task USING btree (workflow_id, status);

CREATE INDEX workflow_created_ix ON public.workflow USING btree (created_at, id);

CREATE INDEX workflow_name_ix ON public.workflow USING btree (name);

CREATE INDEX workflow_run_report_ix ON public.workflow_run USING btree (status, report_by);

CREATE INDEX workflow_run_user_ix ON public.workflow_run USING btree ("user", workflow_id);

CREATE INDEX workflow_run_workflow_ix ON public.workflow_run USING btree (workflow_id, status);

CREATE INDEX workflow_status_created_ix ON public.workflow USING btree (status, created_at, id);

ALTER TABLE ONLY public.queue
    ADD CONSTRAINT queue_cluster_id_fkey FOREIGN KEY (cluster_id) REFERENCES public.cluster(id);

ALTER TABLE ONLY public.task_attribute
    ADD CONSTRAINT task_attribute_task_id_fkey FOREIGN KEY (task_id) REFERENCES public.task(id);

ALTER TABLE ONLY public.task_instance_error
    ADD CONSTRAINT task_instance_error_task_instance_id_fkey FOREIGN KEY (task_instance_id) REFERENCES public.task_instance(id);

ALTER TABLE ONLY public.task_template
    ADD CONSTRAINT task_template_tool_version_id_fkey FOREIGN KEY (tool_version_id) REFERENCES public.tool_version(id);

ALTER TABLE ONLY public.task_template_version
    ADD CONSTRAINT task_template_version_task_template_id_fkey FOREIGN KEY (task_template_id) REFERENCES public.task_template(id);

ALTER TABLE ONLY public.template_concurrency
    ADD CONSTRAINT template_concurrency_task_template_id_fkey FOREIGN KEY (task_template_id) REFERENCES public.task_template(id);

ALTER TABLE ONLY public.template_concurrency
    ADD CONSTRAINT template_concurrency_workflow_id_fkey FOREIGN KEY (workflow_id) REFERENCES public.workflow(id);

ALTER TABLE ONLY public.tool_version
    ADD CONSTRAINT tool_version_tool_id_fkey FOREIGN KEY (tool_id) REFERENCES public.tool(id);

ALTER TABLE ONLY public.workflow_attribute
    ADD CONSTRAINT workflow_attribute_workflow_id_fkey FOREIGN KEY (workflow_id) REFERENCES public.workflow(id);

ALTER TABLE ONLY public.workflow
    ADD CONSTRAINT workflow_dag_id_fkey FOREIGN KEY (dag_id) REFERENCES public.dag(id);

ALTER TABLE ONLY public.workflow_run
    ADD CONSTRAINT workflow_run_workflow_id_fkey FOREIGN KEY (workflow_id) REFERENCES public.workflow(id);

ALTER TABLE ONLY public.workflow
    ADD CONSTRAINT workflow_tool_version_id_fkey FOREIGN KEY (tool_version_id) REFERENCES public.tool_version(id);
