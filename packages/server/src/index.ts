// Public API of @jobmon/server: open a database, build the app, start a server (shared or embedded).

import type { AddressInfo } from 'node:net';
import { openDb, type Db } from './db/connect.js';
import { buildApp, type JobmonApp } from './app.js';

export { openDb, isPostgresUrl, type Db } from './db/connect.js';
export { buildApp, type JobmonApp, type AppOptions } from './app.js';

export interface RunningServer {
  readonly url: string;
  readonly db: Db;
  readonly app: JobmonApp;
  close(): Promise<void>;
}

export interface StartOptions {
  db: string;
  host?: string;
  port?: number;
  logger?: boolean;
  runReportByMs?: number;
}

/** Open the database and listen. Port 0 picks a free port; the URL says which. */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const db = await openDb(opts.db);
  const app = await buildApp({ db, logger: opts.logger ?? false, ...(opts.runReportByMs ? { runReportByMs: opts.runReportByMs } : {}) });
  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closed = false;
  return {
    url: `http://${host}:${addr.port}`,
    db,
    app,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await db.close();
    },
  };
}
