// `jobmon admin token create|list|revoke`: personal access tokens, run on the server's host against
// its database (--db, else the configured one), so that the first admin token needs nothing but
// access to the database. A token is printed once: only its SHA-256 is kept.

import type { Command } from 'commander';
import { loadConfig, ValidationError } from '@jobmon/core';
import { oneOf, period } from '../args.js';
import { tableLines, useColour, localTime } from '../table.js';
import { jsonLine, printable } from '../text.js';
import { userInfo } from 'node:os';

type Scope = 'read' | 'operate' | 'admin';

async function withDb<T>(dbOpt: string | undefined, fn: (db: import('@jobmon/server').Db) => Promise<T>): Promise<T> {
  const config = loadConfig(dbOpt ? { db: dbOpt } : {});
  const { openDb } = await import('@jobmon/server');
  const db = await openDb(config.db);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const USER_PATTERN = /^[A-Za-z0-9._@-]{1,255}$/;

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('server administration: access tokens');
  const token = admin.command('token').description('create, list and revoke personal access tokens');
  token
    .command('create')
    .description('mint a personal access token for a user (printed once)')
    .requiredOption('--user <name>', 'who the token acts as')
    .requiredOption('--scope <scope>', 'read, operate or admin', oneOf<Scope>('read', 'operate', 'admin'))
    .option('--expires <period>', 'lifetime: 30m, 12h, 90d, 2w', period, 90 * 86_400_000)
    .option('--note <text>', 'what it is for (shown by list)')
    .option('--db <target>', 'the server database (default: $JOBMON_DB or ~/.jobmon/jobmon.db)')
    .option('--json', 'print {id, token, user, scope, expiresAt}')
    .addHelpText(
      'after',
      `
Examples:
  jobmon admin token create --user alice --scope operate --expires 90d
  jobmon admin token create --user root --scope admin --db postgres://jobmon@db/jobmon

Run it on the server's host: it writes to the database directly. Give the token to its user, who
runs \`jobmon login\` with it (or sets JOBMON_TOKEN). It is shown once; revoke it if it leaks.`,
    )
    .action(
      async (opts: { user: string; scope: Scope; expires: number; note?: string; db?: string; json?: boolean }) => {
        if (!USER_PATTERN.test(opts.user))
          throw new ValidationError(`--user: '${printable(opts.user)}' is not a user name (letters, digits, . _ @ -)`);
        const { mintToken } = await import('@jobmon/server');
        const t = await withDb(opts.db, (db) =>
          mintToken(db, {
            kind: 'personal',
            user: opts.user,
            scope: opts.scope,
            expiresInMs: opts.expires,
            createdBy: `${userInfo().username} (jobmon admin)`,
            ...(opts.note ? { note: opts.note } : {}),
          }),
        );
        if (opts.json) {
          process.stdout.write(
            jsonLine({ id: t.id, token: t.token, user: opts.user, scope: opts.scope, expiresAt: t.expiresAt }),
          );
          return;
        }
        console.log(t.token);
        process.stderr.write(
          `token ${t.id} for ${opts.user} (${opts.scope}), expires ${localTime(t.expiresAt)}; shown once: ${opts.user} runs \`jobmon login\` with it\n`,
        );
      },
    );
  token
    .command('list')
    .description('list tokens (never their secrets): id, user, scope, kind, expiry, revoked')
    .option('--user <name>', 'only this user')
    .option('--db <target>', 'the server database (default: $JOBMON_DB or ~/.jobmon/jobmon.db)')
    .option(
      '--json',
      'print {tokens: [{id, kind, user, scope, workflowId, runId, createdAt, createdBy, expiresAt, revokedAt, note}]}',
    )
    .addHelpText('after', '\nExamples:\n  jobmon admin token list\n  jobmon admin token list --user alice --json')
    .action(async (opts: { user?: string; db?: string; json?: boolean }) => {
      const { listTokens } = await import('@jobmon/server');
      const tokens = await withDb(opts.db, (db) => listTokens(db, opts.user ? { user: opts.user } : {}));
      if (opts.json) {
        process.stdout.write(jsonLine({ tokens }));
        return;
      }
      const now = Date.now();
      const rows = tokens.map((t) => [
        t.id,
        t.kind,
        t.user ?? '-',
        t.scope,
        t.kind === 'share' ? `workflow ${t.workflowId}` : t.kind === 'run' ? `run ${t.runId}` : '',
        t.revokedAt !== null
          ? `revoked ${localTime(t.revokedAt)}`
          : t.expiresAt <= now
            ? 'expired'
            : `until ${localTime(t.expiresAt)}`,
        t.note,
      ]);
      for (const l of tableLines(['ID', 'KIND', 'USER', 'SCOPE', 'FOR', 'STATE', 'NOTE'], rows, {
        colour: useColour(),
      }))
        console.log(l);
    });
  token
    .command('revoke')
    .description('revoke a token by its id (or the token itself)')
    .argument('<id>', 'the id `token list` shows')
    .option('--db <target>', 'the server database (default: $JOBMON_DB or ~/.jobmon/jobmon.db)')
    .addHelpText('after', '\nExamples:\n  jobmon admin token revoke Xk3p9QzA1bCd')
    .action(async (id: string, opts: { db?: string }) => {
      const { revokeToken } = await import('@jobmon/server');
      await withDb(opts.db, (db) => revokeToken(db, id));
      console.log(`token ${printable(id.replace(/^jm_([A-Za-z0-9]{12})_.*$/, '$1'))} revoked`);
    });
}
