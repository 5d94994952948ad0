// Who may do what (docs/auth.md):
// - workflow.owner: the user who bound the workflow, judged by the operate rule. Workflows bound
//   before this migration take the user of their first run (null when they never ran: then only an
//   admin operates them).
// - auth_token: personal access tokens (a user, a scope), run tokens (one run) and share links (one
//   workflow, read only). The secret is stored as its SHA-256 only; the id is public (listed, revoked
//   by it). A token ends at expires_at, or at revoked_at once revoked.
// - audit_log: every request that changes something, or was refused: who (user, how, which token by
//   its id), what (method, route, its id), when, from where, and the answer's status. Runners' and
//   workers' reports on their own run (the run:* routes) are in the event log instead.

import { sql, type Kysely } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

export function up(dialect: Dialect) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema.alterTable('workflow').addColumn('owner', 'text').execute();
    await sql`update workflow set owner = (select r."user" from workflow_run r where r.workflow_id = workflow.id order by r.id limit 1)`.execute(
      db,
    );
    const big = dialect === 'postgres' ? 'bigint' : 'integer';
    await db.schema
      .createTable('auth_token')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('user', 'text')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('workflow_id', 'integer')
      .addColumn('workflow_run_id', 'integer')
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', big, (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('expires_at', big, (c) => c.notNull())
      .addColumn('revoked_at', big)
      .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema.createIndex('auth_token_user_ix').on('auth_token').column('user').execute();
    await db.schema.createIndex('auth_token_workflow_ix').on('auth_token').column('workflow_id').execute();
    await db.schema.createIndex('auth_token_run_ix').on('auth_token').column('workflow_run_id').execute();
    await db.schema
      .createTable('audit_log')
      .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('at', big, (c) => c.notNull())
      .addColumn('user', 'text')
      .addColumn('via', 'text', (c) => c.notNull())
      .addColumn('token_id', 'text')
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('route', 'text', (c) => c.notNull())
      .addColumn('target', 'text')
      .addColumn('workflow_id', 'integer')
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('address', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_workflow_ix').on('audit_log').columns(['workflow_id', 'id']).execute();
    await db.schema.createIndex('audit_log_user_ix').on('audit_log').columns(['user', 'id']).execute();
    await db.schema.createIndex('audit_log_at_ix').on('audit_log').column('at').execute();
    // Browser sessions (auth oidc): the cookie's SHA-256, whose they are, until when.
    await db.schema
      .createTable('auth_session')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('user', 'text', (c) => c.notNull())
      .addColumn('created_at', big, (c) => c.notNull())
      .addColumn('expires_at', big, (c) => c.notNull())
      .addColumn('ended_at', big)
      .execute();
  };
}
