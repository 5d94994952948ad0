// Error reads in SQL (`jobmon workflow errors`, the recent errors of `workflow status`): each error
// row carries its workflow, its task and its normalised pattern (core's normaliseMessage), written
// with the row (db/queries/task-instance-error.ts) so that no read normalises or joins per row:
// - task_instance_error_groups_ix (workflow_id, error_class, pattern, task_id, at, id): GROUP BY
//   cause over one workflow's errors, covering (id too: PostgreSQL's index-only scan needs every
//   column it reads); and each group's first task ids, in order;
// - task_instance_error_wf_ix (workflow_id, id): a workflow's errors newest first;
// - task_instance_error_task_ix (task_id, id): a task's newest error;
// - task_status_at_ix (workflow_id, status, status_at, id) on task: a workflow's ERROR_FATAL tasks,
//   the most recently failed first (the default of GET /workflows/{id}/errors).
// Rows written before this migration are backfilled: workflow and task from their instance in one
// UPDATE, the pattern in JS (regular expressions SQL has no portable form of), BACKFILL_BATCH rows
// a statement. A change to normaliseMessage needs a migration that recomputes the column.

import { normaliseMessage } from '@jobmon/core';
import { sql, type Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

const BACKFILL_BATCH = 500;

export function up(dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    // Copies of the instance's, not references: the instance's own keys already constrain them.
    await db.schema.alterTable('task_instance_error').addColumn('workflow_id', 'bigint').execute();
    await db.schema.alterTable('task_instance_error').addColumn('task_id', 'bigint').execute();
    await db.schema.alterTable('task_instance_error').addColumn('pattern', 'text').execute();
    await sql`update task_instance_error set
      workflow_id = (select ti.workflow_id from task_instance ti where ti.id = task_instance_error.task_instance_id),
      task_id = (select ti.task_id from task_instance ti where ti.id = task_instance_error.task_instance_id)`.execute(
      db,
    );
    await backfillPatterns(db);
    await db.schema
      .createIndex('task_instance_error_groups_ix')
      .on('task_instance_error')
      .columns(['workflow_id', 'error_class', 'pattern', 'task_id', 'at', 'id'])
      .execute();
    await db.schema
      .createIndex('task_instance_error_wf_ix')
      .on('task_instance_error')
      .columns(['workflow_id', 'id'])
      .execute();
    await db.schema
      .createIndex('task_instance_error_task_ix')
      .on('task_instance_error')
      .columns(['task_id', 'id'])
      .execute();
    await db.schema
      .createIndex('task_status_at_ix')
      .on('task')
      .columns(['workflow_id', 'status', 'status_at', 'id'])
      .execute();
    // The planner has no statistics of the new columns until autovacuum comes: without them it
    // takes every workflow_id for null and picks plans for a table of nulls.
    if (dialect === 'postgres') await sql`analyze task_instance_error`.execute(db);
  };
}

/** Fill `pattern` of every row without one, in id order; answers the rows filled. */
export async function backfillPatterns(db: Kysely<unknown>): Promise<number> {
  let after = 0;
  let filled = 0;
  for (;;) {
    const rows = (
      await sql<{ id: number | string; message: string }>`select id, message from task_instance_error
        where id > ${after} and pattern is null order by id limit ${BACKFILL_BATCH}`.execute(db)
    ).rows;
    if (rows.length === 0) return filled;
    after = Number(rows[rows.length - 1]!.id);
    // UPDATE … FROM (VALUES …) runs on both dialects (SQLite ≥ 3.33); VALUES columns are column1, 2.
    const values = sql.join(rows.map((r) => sql`(cast(${Number(r.id)} as bigint), ${normaliseMessage(r.message)})`));
    await sql`update task_instance_error set pattern = v.column2 from (values ${values}) as v
      where task_instance_error.id = v.column1`.execute(db);
    filled += rows.length;
  }
}
