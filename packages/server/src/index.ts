// Public API of @jobmon/server: open a database, build the app, start a server (shared or embedded).

import type { AddressInfo } from 'node:net';
import { openSystemLog } from '@jobmon/core/system-log';
import { openDb, type Db } from './db/connect.js';
import { buildApp, type JobmonApp } from './app.js';
import { Reaper } from './services/reaper.js';

export { openDb, isPostgresUrl, MIGRATION_NAMES, type Db, type MigrationName, type OpenDbOptions } from './db/connect.js';
export { buildApp, type JobmonApp, type AppOptions } from './app.js';
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
  /** The reaper's period and grace (defaults 15 s and 60 s); `false` leaves it stopped (tests tick it by hand). */
  reaper?: { intervalMs?: number; graceMs?: number } | false;
}

/** Open the database and listen. Port 0 picks a free port; the URL says which. */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const logger = opts.logFile ? openSystemLog(opts.logFile, 'server') : undefined;
  const db = await openDb(opts.db);
  const holder: { reaper?: Reaper } = {};
  const app = await buildApp({
    db,
    ...(logger ? { logger } : {}),
    onDbOutage: () => holder.reaper?.noteOutage(),
    ...(opts.runReportByMs ? { runReportByMs: opts.runReportByMs } : {}),
    ...(opts.reaper !== false && opts.reaper?.graceMs ? { reaperGraceMs: opts.reaper.graceMs } : {}),
  });
  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  const reaperOpts = opts.reaper === false ? {} : (opts.reaper ?? {});
  const reaper = new Reaper(db, {
    intervalMs: reaperOpts.intervalMs ?? 15_000,
    graceMs: reaperOpts.graceMs ?? 60_000,
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
      await db.close();
    },
  };
}
