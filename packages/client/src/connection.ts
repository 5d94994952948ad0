// Where the server is. With JOBMON_URL (or an explicit url) the client talks to that server;
// otherwise it starts the embedded default: an in-process server on 127.0.0.1 over SQLite at
// ~/.jobmon/jobmon.db (JOBMON_DB overrides), whose URL is passed to everything it starts.

import { Requester, loadConfig, type JobmonConfig } from '@jobmon/core';
import { startServer, type RunningServer } from '@jobmon/server';

export interface Connection {
  readonly url: string;
  readonly requester: Requester;
  readonly config: JobmonConfig;
  /** Where state lives: the database of the embedded server, or the shared server's URL. */
  readonly stateLocation: string;
  readonly embedded: boolean;
  close(): Promise<void>;
}

export interface ConnectOptions {
  url?: string;
  db?: string;
  config?: Partial<JobmonConfig>;
}

export async function connect(opts: ConnectOptions = {}): Promise<Connection> {
  const config = loadConfig({ ...(opts.config ?? {}), ...(opts.url ? { url: opts.url } : {}), ...(opts.db ? { db: opts.db } : {}) });
  const requesterOpts = {
    timeoutMs: config.http.timeoutMs,
    retries: config.http.retries,
    backoffMs: config.http.backoffMs,
    maxBackoffMs: config.http.maxBackoffMs,
  };
  if (config.url) {
    const requester = new Requester(config.url, requesterOpts);
    return { url: config.url, requester, config, stateLocation: `server ${config.url}`, embedded: false, close: async () => undefined };
  }
  let server: RunningServer;
  try {
    server = await startServer({ db: config.db, runReportByMs: Math.round(config.runHeartbeatMs * config.reportByFactor) });
  } catch (e) {
    throw new Error(`cannot start the embedded Jobmon server over ${config.db}: ${(e as Error).message}`, { cause: e });
  }
  const requester = new Requester(server.url, requesterOpts);
  return {
    url: server.url,
    requester,
    config,
    stateLocation: server.db.location,
    embedded: true,
    close: () => server.close(),
  };
}
