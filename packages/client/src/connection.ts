// Where the server is. With JOBMON_URL (or an explicit url) the client talks to that server;
// otherwise it starts the embedded default: an in-process server on 127.0.0.1 over SQLite at
// ~/.jobmon/jobmon.db (JOBMON_DB overrides), whose URL is passed to everything it starts.

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  Requester,
  configFile,
  createApiClient,
  loadConfig,
  tokenFor,
  type ApiClient,
  type JobmonConfig,
  type RequesterOptions,
} from '@jobmon/core';
import { openSystemLog } from '@jobmon/core/system-log';
import type { Logger } from '@jobmon/core/system-log';

/** The compiled worker script, from dist/ (also when tests load this module from src/). */
const EMBEDDED_SERVER = new URL('../dist/embedded-server.js', import.meta.url);

export interface Connection {
  readonly url: string;
  readonly requester: Requester;
  /** One typed call per route (core's ROUTES), over `requester`. */
  readonly api: ApiClient;
  readonly config: JobmonConfig;
  /** Where state lives: the database of the embedded server, or the shared server's URL. */
  readonly stateLocation: string;
  readonly embedded: boolean;
  /** Jobmon's own log for this process's runs (and its embedded server): `<logDir>/jobmon.log`. */
  readonly systemLog: string;
  close(): Promise<void>;
}

export function systemLogPath(logDir: string): string {
  return join(logDir, 'jobmon.log');
}

const loggers = new Map<string, Logger>();
/** The runner's logger on a system log file: one per file and process, never closed. */
export function runnerLog(path: string): Logger {
  let log = loggers.get(path);
  if (!log) loggers.set(path, (log = openSystemLog(path, 'runner')));
  return log;
}

/** The runner's settings that come from the connection's config, the same for every run it starts. */
export function runnerSettings(conn: Connection) {
  const c = conn.config;
  return {
    logDir: c.logDir,
    heartbeatMs: c.runHeartbeatMs,
    instanceHeartbeatMs: c.instanceHeartbeatMs,
    reportByFactor: c.reportByFactor,
    outageToleranceMs: c.outageToleranceMs,
    logCapBytes: c.logCapBytes,
  };
}

export interface ConnectOptions {
  url?: string;
  db?: string;
  config?: Partial<JobmonConfig>;
  /** Called before each retry of a request to the server (e.g. to say "retrying…"). */
  onRetry?: RequesterOptions['onRetry'];
  /** The token to present (docs/auth.md); default JOBMON_TOKEN, else the one `jobmon login` stored for the URL. */
  token?: string;
}

export async function connect(opts: ConnectOptions = {}): Promise<Connection> {
  const config = loadConfig({
    ...(opts.config ?? {}),
    ...(opts.url ? { url: opts.url } : {}),
    ...(opts.db ? { db: opts.db } : {}),
  });
  const requesterOpts: RequesterOptions = {
    timeoutMs: config.http.timeoutMs,
    retries: config.http.retries,
    backoffMs: config.http.backoffMs,
    maxBackoffMs: config.http.maxBackoffMs,
    ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
  };
  if (config.url) {
    // Checked before anything else happens; the message names where the URL came from.
    const source = opts.url ? 'url' : process.env['JOBMON_URL'] ? 'JOBMON_URL' : 'url (config file)';
    const requester = new Requester(config.url, {
      ...requesterOpts,
      source,
      token: opts.token ?? tokenFor(config.url),
    });
    return {
      url: config.url,
      requester,
      api: createApiClient(requester),
      config,
      stateLocation: `server ${config.url}`,
      embedded: false,
      systemLog: systemLogPath(config.logDir),
      close: async () => undefined,
    };
  }
  const worker = new Worker(EMBEDDED_SERVER, {
    workerData: {
      db: config.db,
      runReportByMs: Math.round(config.runHeartbeatMs * config.reportByFactor),
      reaper: {
        intervalMs: config.reaperIntervalMs,
        graceMs: config.reaperGraceMs,
        ...(config.reaperLeaseMs > 0 ? { leaseMs: config.reaperLeaseMs } : {}),
      },
      eventPollMs: config.eventPollMs,
      logFile: systemLogPath(config.logDir),
      // The config file's clusters, added or updated as the server starts (docs/clusters.md).
      clusters: config.clusters,
      clustersOrigin: `config file ${configFile()}`,
    },
  });
  const started = await new Promise<{ url: string; location: string }>((resolve, reject) => {
    worker.once('message', (m: { url?: string; location?: string; error?: string }) =>
      m.error !== undefined || m.url === undefined
        ? reject(new Error(m.error ?? 'no URL'))
        : resolve({ url: m.url, location: m.location ?? config.db }),
    );
    worker.once('error', reject);
  }).catch(async (e: unknown) => {
    await worker.terminate();
    throw new Error(`cannot start the embedded Jobmon server over ${config.db}: ${(e as Error).message}`, { cause: e });
  });
  const requester = new Requester(started.url, requesterOpts);
  let closed: Promise<void> | undefined;
  return {
    url: started.url,
    requester,
    api: createApiClient(requester),
    config,
    stateLocation: started.location,
    embedded: true,
    systemLog: systemLogPath(config.logDir),
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        worker.once('message', () => void worker.terminate().then(() => resolve()));
        worker.once('exit', () => resolve());
        worker.postMessage('close');
      })),
  };
}
