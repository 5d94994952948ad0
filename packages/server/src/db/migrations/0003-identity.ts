// Identities that let state be told apart and checked: the database's own id (a UUID written once,
// when it is created; logs are kept under it so two databases never share a folder), the start of
// the process that runs a workflow run (with its host and pid this proves, on that host, whether
// the runner is still alive), and what an instance's cleanup killed after its command exited.

import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(_dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema
      .createTable('meta')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
    await sql`insert into meta (key, value) values ('database_id', ${randomUUID()})`.execute(db);
    await db.schema.alterTable('workflow_run').addColumn('process_start', 'text').execute();
    await db.schema.alterTable('task_instance').addColumn('cleanup', 'text').execute();
  };
}
