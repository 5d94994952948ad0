// `jobmon server`: run a shared server over SQLite or PostgreSQL.

import type { Command } from 'commander';
import { loadConfig, ValidationError } from '@jobmon/core';
import { serverOptions } from '../server-options.js';
import type { AuthConfig } from '@jobmon/server';
import { userInfo } from 'node:os';
import { readFileSync } from 'node:fs';
import { keyValue, oneOf, period, port as parsePort } from '../args.js';

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('run a Jobmon server (binds 127.0.0.1 unless told otherwise)')
    .option('--db <target>', 'SQLite file path or postgres:// URL (default: $JOBMON_DB or ~/.jobmon/jobmon.db)')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', parsePort, 7070)
    .option(
      '--auth <mode>',
      'local (this host only, you alone), token (personal access tokens), trusted-header (behind an authenticating proxy) or oidc (browsers sign in with an OpenID Connect provider); tokens work beside the last two: docs/auth.md',
      oneOf('local', 'token', 'trusted-header', 'oidc'),
      'local',
    )
    .option('--insecure-no-auth', 'no authentication at all: anyone who reaches the server may do anything')
    .option('--trusted-header <name>', 'trusted-header: the header the proxy puts the user name in', 'X-Remote-User')
    .option(
      '--trusted-proxy <address>',
      "trusted-header: the proxy's address, the only one the header is believed from (repeatable)",
      collect,
    )
    .option('--admin-user <name>', 'trusted-header, oidc: a user who gets the admin scope (repeatable)', collect)
    .option('--oidc-issuer <url>', "oidc: the provider's issuer URL")
    .option('--oidc-client-id <id>', 'oidc: this server as a client of the provider')
    .option(
      '--oidc-client-secret-file <file>',
      "oidc: a file holding the client's secret (kept out of the process list)",
    )
    .option(
      '--oidc-redirect-uri <url>',
      "oidc: this server's callback as the provider knows it (https://…/auth/callback)",
    )
    .option('--oidc-session <period>', 'oidc: how long a browser session lasts', period, 8 * 3_600_000)
    .option(
      '--operator-group <name=users>',
      'an operator group: members may operate workflows whose attribute operator_group names it (repeatable)',
      keyValue,
    )
    .addHelpText(
      'after',
      `
Examples:
  jobmon server                                              # SQLite at ~/.jobmon/jobmon.db, 127.0.0.1:7070
  jobmon server --db postgres://jobmon@db/jobmon --host 0.0.0.0 --port 8070 --auth token
  jobmon admin token create --user alice --scope operate --db postgres://jobmon@db/jobmon
  JOBMON_URL=http://host:8070 jobmon login < token.txt        # then, from any machine
  JOBMON_URL=http://host:8070 jobmon workflow list

A non-loopback --host needs --auth token (or --insecure-no-auth). See docs/auth.md.`,
    )
    .action(
      async (opts: {
        db?: string;
        host: string;
        port: number;
        auth: 'local' | 'token' | 'trusted-header' | 'oidc';
        trustedHeader: string;
        trustedProxy?: string[];
        adminUser?: string[];
        insecureNoAuth?: boolean;
        operatorGroup?: string[];
        oidcIssuer?: string;
        oidcClientId?: string;
        oidcClientSecretFile?: string;
        oidcRedirectUri?: string;
        oidcSession: number;
      }) => {
        const config = loadConfig(opts.db ? { db: opts.db } : {});
        const { startServer } = await import('@jobmon/server'); // only this command needs the server in this process
        const options = serverOptions(config);
        const server = await startServer({
          ...options,
          host: opts.host,
          port: opts.port,
          auth: authOf(opts),
          operatorGroups: Object.fromEntries(
            (opts.operatorGroup ?? []).map((kv) => {
              const [name, users] = kv.split(/=(.*)/s) as [string, string];
              return [name, users.split(',').filter(Boolean)];
            }),
          ),
        });
        if (opts.insecureNoAuth)
          process.stderr.write(
            'jobmon server: WARNING: --insecure-no-auth: no authentication; anyone who can reach this server may stop, reset or change any workflow\n',
          );
        console.log(`jobmon server listening on ${server.url} (database: ${server.db.location})`);
        console.log(`clients: export JOBMON_URL=${server.url}`);
        console.log(`server log: ${options.logFile}`);
        const stop = () => {
          console.log('shutting down');
          void server.close().then(() => process.exit(0));
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      },
    );
}

function collect(v: string, previous: string[] = []): string[] {
  return [...previous, v];
}

function authOf(opts: {
  auth: 'local' | 'token' | 'trusted-header' | 'oidc';
  insecureNoAuth?: boolean;
  trustedHeader: string;
  trustedProxy?: string[];
  adminUser?: string[];
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcClientSecretFile?: string;
  oidcRedirectUri?: string;
  oidcSession: number;
}): AuthConfig {
  if (opts.insecureNoAuth) return { mode: 'none' };
  if (opts.auth === 'oidc') {
    const missing = (['oidcIssuer', 'oidcClientId', 'oidcClientSecretFile', 'oidcRedirectUri'] as const).filter(
      (k) => !opts[k],
    );
    if (missing.length > 0)
      throw new ValidationError(
        `--auth oidc needs ${missing.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`,
      );
    let secret: string;
    try {
      secret = readFileSync(opts.oidcClientSecretFile!, 'utf8').trim();
    } catch (e) {
      throw new ValidationError(`--oidc-client-secret-file ${opts.oidcClientSecretFile}: ${(e as Error).message}`);
    }
    return {
      mode: 'oidc',
      oidc: {
        issuer: opts.oidcIssuer!,
        clientId: opts.oidcClientId!,
        clientSecret: secret,
        redirectUri: opts.oidcRedirectUri!,
        sessionTtlMs: opts.oidcSession,
      },
      ...(opts.adminUser ? { admins: opts.adminUser } : {}),
    };
  }
  if (opts.auth === 'token') return { mode: 'token' };
  if (opts.auth === 'local') return { mode: 'local', user: userInfo().username };
  if (!opts.trustedProxy?.length)
    throw new ValidationError(
      '--auth trusted-header needs --trusted-proxy: the address of the proxy that sets the header',
    );
  return {
    mode: 'trusted-header',
    header: opts.trustedHeader,
    proxies: opts.trustedProxy,
    ...(opts.adminUser ? { admins: opts.adminUser } : {}),
  };
}
