// Public API of @jobmon/server: open a database, build the app, start a server (shared or embedded).

import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { ValidationError, type ClusterSpec } from '@jobmon/core';
import { openSystemLog } from '@jobmon/core/system-log';
import { openDb, type Db } from './db/connect.js';
import { buildApp, type JobmonApp } from './app.js';
import { isLoopback, type AuthConfig, type OperatorGroups } from './authz.js';
import { Reaper } from './services/reaper.js';
import { listenForEvents, type EventListener } from './services/event-listener.js';
import { applyClusters } from './services/clusters.js';

export {
  openDb,
  isPostgresUrl,
  MIGRATION_NAMES,
  type Db,
  type MigrationName,
  type OpenDbOptions,
} from './db/connect.js';
export { buildApp, type JobmonApp, type AppOptions } from './app.js';
export { principalOf, type AuthConfig, type OperatorGroups, type Principal } from './authz.js';
export {
  mintToken,
  verifyToken,
  listTokens,
  revokeToken,
  revokeTokensOf,
  type TokenInfo,
  type Scope,
} from './auth/tokens.js';
export { Reaper, type ReaperOptions, type ReapReport } from './services/reaper.js';

export interface RunningServer {
  readonly url: string;
  readonly db: Db;
  readonly app: JobmonApp;
  readonly reaper: Reaper;
  close(): Promise<void>;
}

export interface StartOptions {
  db: string;
  host?: string;
  port?: number;
  /** The system log file (errors, start, stop); none when absent. */
  logFile?: string;
  runReportByMs?: number;
  /** The reaper's period and grace (defaults 15 s and 60 s) and the lease that lets one replica at a
   * time run it (default three periods); `false` leaves it stopped (tests tick it by hand). */
  reaper?: { intervalMs?: number; graceMs?: number; leaseMs?: number } | false;
  /** How often a waiting event follower reads anyway (default 250 ms). */
  eventPollMs?: number;
  /** Clusters to add or update before serving (a config file's `clusters`), and where they came
   * from, for messages ("config file /x/config.json"). The built-in ones exist already. */
  clusters?: Record<string, ClusterSpec>;
  clustersOrigin?: string;
  /** How requests are authenticated (docs/auth.md); default `local` (this host's loopback, the OS user). */
  auth?: AuthConfig;
  operatorGroups?: OperatorGroups;
}

/** Whether `host` (an address or a name to bind) is this host's loopback only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopback(host);
}

/** Open the database and listen. Port 0 picks a free port; the URL says which. */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const auth: AuthConfig = opts.auth ?? { mode: 'local', user: userInfo().username };
  const bindHost = opts.host ?? '127.0.0.1';
  // Anyone who can reach a non-loopback address could do anything: only with authentication, or
  // when the operator said so in as many words (mode none, from --insecure-no-auth).
  if (auth.mode === 'local' && !isLoopbackHost(bindHost))
    throw new ValidationError(
      `refusing to bind ${bindHost} without authentication: use --auth token (docs/auth.md), or --insecure-no-auth to let anyone who can reach it do anything`,
      { field: 'host', value: bindHost },
    );
  const logger = opts.logFile ? openSystemLog(opts.logFile, 'server') : undefined;
  const db = await openDb(opts.db);
  try {
    if (opts.clusters) await applyClusters(db, opts.clusters, opts.clustersOrigin ?? 'clusters');
  } catch (e) {
    await db.close();
    throw e;
  }
  const holder: { reaper?: Reaper } = {};
  // Replicas over one PostgreSQL hear each other's commits (services/event-listener.ts); a SQLite
  // server hears its own through eventBus, and other processes on its file through the poll.
  let listener: EventListener | undefined;
  const app = await buildApp({
    db,
    ...(logger ? { logger } : {}),
    onDbOutage: () => holder.reaper?.noteOutage(),
    reaper: () => ({ role: holder.reaper?.role ?? 'off', passes: holder.reaper?.passes ?? 0 }),
    ...(opts.eventPollMs ? { eventPollMs: opts.eventPollMs } : {}),
    ...(opts.runReportByMs ? { runReportByMs: opts.runReportByMs } : {}),
    ...(opts.reaper !== false && opts.reaper?.graceMs ? { reaperGraceMs: opts.reaper.graceMs } : {}),
    auth,
    ...(opts.operatorGroups ? { operatorGroups: opts.operatorGroups } : {}),
    insecure: auth.mode === 'none' && !isLoopbackHost(bindHost),
  });
  if (db.dialect.notifies)
    listener = await listenForEvents(opts.db, (e) =>
      app.log.warn({ err: e }, 'event listener lost its connection; reconnecting'),
    );
  await app.listen({ host: bindHost, port: opts.port ?? 0 });
  if (auth.mode === 'none' && !isLoopbackHost(bindHost))
    app.log.warn({ host: bindHost }, 'serving without authentication on a non-loopback address (--insecure-no-auth)');
  const reaperOpts = opts.reaper === false ? {} : (opts.reaper ?? {});
  const intervalMs = reaperOpts.intervalMs ?? 15_000;
  const reaper = new Reaper(db, {
    intervalMs,
    graceMs: reaperOpts.graceMs ?? 60_000,
    // The holder's name says where to look when two replicas disagree; the UUID keeps two
    // processes that reuse a pid (containers) apart.
    lease: { holder: `${hostname()}:${process.pid}:${randomUUID()}`, periodMs: reaperOpts.leaseMs ?? 3 * intervalMs },
    onError: (e) => app.log.error({ err: e }, 'reaper tick failed'),
  });
  holder.reaper = reaper;
  if (opts.reaper !== false) reaper.start();
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  app.log.info({ url: `http://${host}:${addr.port}`, db: db.location, databaseId: db.id }, 'server started');
  let closed = false;
  return {
    url: `http://${host}:${addr.port}`,
    db,
    app,
    reaper,
    async close() {
      if (closed) return;
      closed = true;
      await reaper.stop();
      app.log.info('server stopping');
      await app.close();
      await listener?.close();
      await db.close();
    },
  };
}
