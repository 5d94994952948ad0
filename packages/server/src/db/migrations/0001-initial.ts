// The initial schema. One forward-only tree for both dialects; only the auto-increment key
// differs (integer autoincrement on SQLite, bigserial on PostgreSQL).
//
// The per-task tables (node, node_arg, edge, task, task_arg, task_instance) carry no foreign keys.
// PostgreSQL checks each key with a per-row trigger that locks the referenced row; on a 121k-task
// bind that was 8 of 20 seconds. The services that write these tables resolve every reference
// first (template versions, clusters and queues in bindTasks, the run in queueTasks), as the
// Python Jobmon does; the small definition tables keep their keys.

import { sql, type Kysely, type ColumnDefinitionBuilder } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    const idType = dialect === 'postgres' ? 'bigserial' : 'integer';
    const id = (c: ColumnDefinitionBuilder) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();
    const ref = 'bigint' as const;
    const json = 'text' as const;
    const ts = 'bigint' as const;

    await db.schema
      .createTable('tool')
      .addColumn('id', idType, id)
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', ts, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('tool_version')
      .addColumn('id', idType, id)
      .addColumn('tool_id', ref, (c) => c.notNull().references('tool.id'))
      .addColumn('created_at', ts, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('task_template')
      .addColumn('id', idType, id)
      .addColumn('tool_version_id', ref, (c) => c.notNull().references('tool_version.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .addUniqueConstraint('task_template_uq', ['tool_version_id', 'name'])
      .execute();
    await db.schema
      .createTable('task_template_version')
      .addColumn('id', idType, id)
      .addColumn('task_template_id', ref, (c) => c.notNull().references('task_template.id'))
      .addColumn('command_template', 'text', (c) => c.notNull())
      .addColumn('arg_hash', 'text', (c) => c.notNull())
      .addColumn('node_args', json, (c) => c.notNull())
      .addColumn('task_args', json, (c) => c.notNull())
      .addColumn('op_args', json, (c) => c.notNull())
      .addColumn('default_resources', json, (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .addUniqueConstraint('task_template_version_uq', ['task_template_id', 'arg_hash'])
      .execute();
    await db.schema
      .createTable('node')
      .addColumn('id', idType, id)
      .addColumn('hash', 'text', (c) => c.notNull().unique())
      .addColumn('task_template_id', ref, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('node_arg')
      .addColumn('node_id', ref, (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('node_arg_pk', ['node_id', 'name'])
      .execute();
    await db.schema
      .createTable('dag')
      .addColumn('id', idType, id)
      .addColumn('hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('bound_at', ts)
      .execute();
    await db.schema
      .createTable('edge')
      .addColumn('dag_id', ref, (c) => c.notNull())
      .addColumn('upstream_node_id', ref, (c) => c.notNull())
      .addColumn('downstream_node_id', ref, (c) => c.notNull())
      .addPrimaryKeyConstraint('edge_pk', ['dag_id', 'downstream_node_id', 'upstream_node_id'])
      .execute();
    await db.schema
      .createTable('workflow')
      .addColumn('id', idType, id)
      .addColumn('tool_version_id', ref, (c) => c.notNull().references('tool_version.id'))
      .addColumn('dag_id', ref, (c) => c.notNull().references('dag.id'))
      .addColumn('args_hash', 'text', (c) => c.notNull())
      .addColumn('task_hash', 'text', (c) => c.notNull())
      .addColumn('workflow_args', json, (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('max_concurrently_running', 'integer', (c) => c.notNull())
      .addColumn('task_count', 'integer', (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('status_at', ts, (c) => c.notNull())
      .addColumn('bound_at', ts)
      .addUniqueConstraint('workflow_identity_uq', ['tool_version_id', 'args_hash'])
      .execute();
    await db.schema
      .createTable('workflow_attribute')
      .addColumn('workflow_id', ref, (c) => c.notNull().references('workflow.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('workflow_attribute_pk', ['workflow_id', 'name'])
      .execute();
    await db.schema
      .createTable('template_concurrency')
      .addColumn('workflow_id', ref, (c) => c.notNull().references('workflow.id'))
      .addColumn('task_template_id', ref, (c) => c.notNull().references('task_template.id'))
      .addColumn('max_concurrently_running', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('template_concurrency_pk', ['workflow_id', 'task_template_id'])
      .execute();
    await db.schema
      .createTable('cluster')
      .addColumn('id', idType, id)
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('connection', json, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('queue')
      .addColumn('id', idType, id)
      .addColumn('cluster_id', ref, (c) => c.notNull().references('cluster.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('limits', json, (c) => c.notNull())
      .addUniqueConstraint('queue_uq', ['cluster_id', 'name'])
      .execute();
    await db.schema
      .createTable('task')
      .addColumn('id', idType, id)
      .addColumn('workflow_id', ref, (c) => c.notNull())
      .addColumn('node_id', ref, (c) => c.notNull())
      .addColumn('task_args_hash', 'text', (c) => c.notNull())
      .addColumn('task_template_version_id', ref, (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('command', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_at', ts, (c) => c.notNull())
      .addColumn('num_attempts', 'integer', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('infra_failures', 'integer', (c) => c.notNull())
      .addColumn('max_infra_failures', 'integer', (c) => c.notNull())
      .addColumn('cluster_id', ref, (c) => c.notNull())
      .addColumn('queue_id', ref, (c) => c.notNull())
      .addColumn('resources', json, (c) => c.notNull())
      .addColumn('resource_scales', json, (c) => c.notNull())
      .addColumn('fallback_queues', json, (c) => c.notNull())
      .addUniqueConstraint('task_identity_uq', ['workflow_id', 'node_id', 'task_args_hash'])
      .execute();
    await db.schema.createIndex('task_workflow_status_ix').on('task').columns(['workflow_id', 'status']).execute();
    await db.schema
      .createTable('task_arg')
      .addColumn('task_id', ref, (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('task_arg_pk', ['task_id', 'name'])
      .execute();
    await db.schema
      .createTable('task_attribute')
      .addColumn('task_id', ref, (c) => c.notNull().references('task.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('task_attribute_pk', ['task_id', 'name'])
      .execute();
    await db.schema
      .createTable('workflow_run')
      .addColumn('id', idType, id)
      .addColumn('workflow_id', ref, (c) => c.notNull().references('workflow.id'))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('user', 'text', (c) => c.notNull())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('jobmon_version', 'text', (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('status_at', ts, (c) => c.notNull())
      .addColumn('heartbeat_at', ts, (c) => c.notNull())
      .addColumn('report_by', ts, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('workflow_run_workflow_ix')
      .on('workflow_run')
      .columns(['workflow_id', 'status'])
      .execute();
    await db.schema.createIndex('workflow_run_report_ix').on('workflow_run').columns(['status', 'report_by']).execute();
    await db.schema
      .createTable('task_instance')
      .addColumn('id', idType, id)
      .addColumn('workflow_run_id', ref, (c) => c.notNull())
      .addColumn('workflow_id', ref, (c) => c.notNull())
      .addColumn('task_id', ref, (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_at', ts, (c) => c.notNull())
      .addColumn('created_at', ts, (c) => c.notNull())
      .addColumn('cluster_id', ref, (c) => c.notNull())
      .addColumn('queue_id', ref, (c) => c.notNull())
      .addColumn('resources', json, (c) => c.notNull())
      .addColumn('distributor_id', 'text')
      .addColumn('node_name', 'text')
      .addColumn('pgid', 'integer')
      .addColumn('exit_code', 'integer')
      .addColumn('peak_memory_bytes', 'bigint')
      .addColumn('wall_time_ms', 'bigint')
      .addColumn('stdout_path', 'text')
      .addColumn('stderr_path', 'text')
      .addColumn('stdout_tail', 'text')
      .addColumn('stderr_tail', 'text')
      .addColumn('error_class', 'text')
      .addColumn('report_by', ts)
      .execute();
    await db.schema.createIndex('task_instance_task_ix').on('task_instance').column('task_id').execute();
    await db.schema
      .createIndex('task_instance_run_status_ix')
      .on('task_instance')
      .columns(['workflow_run_id', 'status'])
      .execute();
    await db.schema
      .createIndex('task_instance_status_report_ix')
      .on('task_instance')
      .columns(['status', 'report_by'])
      .execute();
    await db.schema
      .createTable('task_instance_error')
      .addColumn('id', idType, id)
      .addColumn('task_instance_id', ref, (c) => c.notNull().references('task_instance.id'))
      .addColumn('at', ts, (c) => c.notNull())
      .addColumn('error_class', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('task_instance_error_ti_ix')
      .on('task_instance_error')
      .column('task_instance_id')
      .execute();
    await db.schema
      .createTable('event')
      .addColumn('seq', idType, id)
      .addColumn('at', ts, (c) => c.notNull())
      .addColumn('workflow_id', ref)
      .addColumn('entity', 'text', (c) => c.notNull())
      .addColumn('entity_id', ref, (c) => c.notNull())
      .addColumn('from_status', 'text')
      .addColumn('to_status', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('context', json)
      .execute();
    await db.schema.createIndex('event_workflow_seq_ix').on('event').columns(['workflow_id', 'seq']).execute();

    // Seeded clusters: each with one queue. Limits are [min, max].
    for (const [name, type] of [
      ['sequential', 'sequential'],
      ['local', 'local'],
      ['dummy', 'dummy'],
    ] as const) {
      await sql`insert into cluster (name, type, connection) values (${name}, ${type}, '{}')`.execute(db);
      await sql`insert into queue (cluster_id, name, limits) select id, 'null.q', ${JSON.stringify({
        cores: [1, 1024],
        memory: [1, 1024 * 1024 * 64],
        runtime: [1, 60 * 60 * 24 * 365],
      })} from cluster where name = ${name}`.execute(db);
    }
  };
}
