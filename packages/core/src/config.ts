// Configuration: defaults, overlaid by a JSON file (~/.jobmon/config.json or $JOBMON_CONFIG),
// overlaid by environment variables. Every part reads the same shape; intervals are milliseconds.
// The file's `clusters` key defines clusters by name (docs/clusters.md); a server started from this
// configuration (the embedded one, `jobmon server`) adds or updates them when it starts.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkClusterSpec, type ClusterSpec } from './clusters.js';
import { ValidationError } from './errors.js';

export interface JobmonConfig {
  /** Server URL; empty means "start the embedded server". */
  url: string;
  /** SQLite path or postgres:// URL for the embedded server. */
  db: string;
  /** Where per-instance stdout/stderr files go. */
  logDir: string;
  /** Runner's workflow-run heartbeat period. */
  runHeartbeatMs: number;
  /** Worker's task-instance heartbeat period. */
  instanceHeartbeatMs: number;
  /** A deadline is heartbeat period × this factor. */
  reportByFactor: number;
  /** Server: how often the reaper looks for lapsed runs and instances. */
  reaperIntervalMs: number;
  /** Server: how long one replica's hold on the reaper lasts unless renewed; another takes over
   * within this long after the holder dies. 0: three reaper intervals. */
  reaperLeaseMs: number;
  /** Server: how often a waiting event follower reads the log anyway (events no one announced). */
  eventPollMs: number;
  /** Server: how long a TRIAGING or KILL_SELF instance may wait for an answer before it is given up. */
  reaperGraceMs: number;
  /** Runner: how long to ride out a server that does not answer (running tasks go on, nothing new
   * starts, outcomes are kept) before giving up. */
  outageToleranceMs: number;
  /** Most bytes kept of a task instance's stdout, and of its stderr; past it output is dropped
   * and the log says so. */
  logCapBytes: number;
  http: { timeoutMs: number; retries: number; backoffMs: number; maxBackoffMs: number };
  /** Clusters by name, applied (added or updated) when a server starts from this configuration. */
  clusters: Record<string, ClusterSpec>;
}

export function jobmonHome(env: NodeJS.ProcessEnv = process.env): string {
  return env['JOBMON_HOME'] ?? join(homedir(), '.jobmon');
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): JobmonConfig {
  const home = jobmonHome(env);
  return {
    url: '',
    db: join(home, 'jobmon.db'),
    logDir: join(home, 'logs'),
    runHeartbeatMs: 30_000,
    instanceHeartbeatMs: 90_000,
    reportByFactor: 3.1,
    reaperIntervalMs: 15_000,
    reaperLeaseMs: 0,
    eventPollMs: 250,
    reaperGraceMs: 60_000,
    outageToleranceMs: 30 * 60_000,
    logCapBytes: 1024 ** 3,
    http: { timeoutMs: 20_000, retries: 8, backoffMs: 200, maxBackoffMs: 10_000 },
    clusters: {},
  };
}

const ENV: Record<string, (c: JobmonConfig, v: string) => void> = {
  JOBMON_URL: (c, v) => (c.url = v),
  JOBMON_DB: (c, v) => (c.db = v),
  JOBMON_LOG_DIR: (c, v) => (c.logDir = v),
  JOBMON_RUN_HEARTBEAT_MS: (c, v) => (c.runHeartbeatMs = positive('JOBMON_RUN_HEARTBEAT_MS', v)),
  JOBMON_INSTANCE_HEARTBEAT_MS: (c, v) => (c.instanceHeartbeatMs = positive('JOBMON_INSTANCE_HEARTBEAT_MS', v)),
  JOBMON_REPORT_BY_FACTOR: (c, v) => (c.reportByFactor = positive('JOBMON_REPORT_BY_FACTOR', v)),
  JOBMON_REAPER_INTERVAL_MS: (c, v) => (c.reaperIntervalMs = positive('JOBMON_REAPER_INTERVAL_MS', v)),
  JOBMON_REAPER_LEASE_MS: (c, v) => (c.reaperLeaseMs = positive('JOBMON_REAPER_LEASE_MS', v)),
  JOBMON_EVENT_POLL_MS: (c, v) => (c.eventPollMs = positive('JOBMON_EVENT_POLL_MS', v)),
  JOBMON_REAPER_GRACE_MS: (c, v) => (c.reaperGraceMs = positive('JOBMON_REAPER_GRACE_MS', v)),
  JOBMON_OUTAGE_TOLERANCE_MS: (c, v) => (c.outageToleranceMs = positive('JOBMON_OUTAGE_TOLERANCE_MS', v)),
  JOBMON_LOG_CAP_BYTES: (c, v) => (c.logCapBytes = positiveInteger('JOBMON_LOG_CAP_BYTES', v)),
  JOBMON_HTTP_TIMEOUT_MS: (c, v) => (c.http.timeoutMs = positive('JOBMON_HTTP_TIMEOUT_MS', v)),
  JOBMON_HTTP_RETRIES: (c, v) => (c.http.retries = nonNegative('JOBMON_HTTP_RETRIES', v)),
  JOBMON_HTTP_BACKOFF_MS: (c, v) => (c.http.backoffMs = positive('JOBMON_HTTP_BACKOFF_MS', v)),
  JOBMON_HTTP_MAX_BACKOFF_MS: (c, v) => (c.http.maxBackoffMs = positive('JOBMON_HTTP_MAX_BACKOFF_MS', v)),
};

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ValidationError(`${name}=${v} must be a positive number`);
  return n;
}
function positiveInteger(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new ValidationError(`${name}=${v} must be a whole number ≥ 1`);
  return n;
}
function nonNegative(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ValidationError(`${name}=${v} must be a whole number ≥ 0`);
  return n;
}

/** The `clusters` setting: each entry checked as PUT /clusters/:name checks it, named by file and field. */
function mergeClusters(target: Record<string, ClusterSpec>, source: unknown, origin: string): void {
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    throw new ValidationError(`${origin}: clusters must be an object of clusters by name`, {
      origin,
      field: 'clusters',
    });
  }
  for (const [name, spec] of Object.entries(source)) {
    try {
      target[name] = checkClusterSpec(name, spec, `${origin}: clusters.${name}`);
    } catch (e) {
      const details = (e as ValidationError).details;
      throw new ValidationError((e as Error).message, {
        ...details,
        origin,
        field: `clusters.${name}.${String(details['field'])}`,
      });
    }
  }
}

/** `origin` names where the values came from, for messages: "config file /x/config.json". */
function merge(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  path: string,
  origin = 'config overrides',
): void {
  for (const [k, v] of Object.entries(source)) {
    if (path === '' && k === 'clusters') {
      mergeClusters(target[k] as Record<string, ClusterSpec>, v, origin);
      continue;
    }
    if (!(k in target)) throw new ValidationError(`config ${path}${k}: unknown setting`, { field: `${path}${k}` });
    const cur = target[k];
    if (typeof cur === 'object' && cur !== null) {
      if (typeof v !== 'object' || v === null) throw new ValidationError(`config ${path}${k}: must be an object`);
      merge(cur as Record<string, unknown>, v as Record<string, unknown>, `${path}${k}.`, origin);
    } else {
      if (typeof v !== typeof cur) {
        throw new ValidationError(`config ${path}${k}: must be a ${typeof cur}`, { field: `${path}${k}` });
      }
      target[k] = v;
    }
  }
}

/** The config file loadConfig reads: $JOBMON_CONFIG, else config.json in JOBMON_HOME. */
export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  return env['JOBMON_CONFIG'] || join(jobmonHome(env), 'config.json');
}

/** Defaults ← config file ← environment ← explicit overrides. */
export function loadConfig(overrides: Partial<JobmonConfig> = {}, env = process.env): JobmonConfig {
  const config = defaultConfig(env);
  const file = configFile(env);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    if (env['JOBMON_CONFIG']) throw new ValidationError(`config file ${file} cannot be read`);
  }
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ValidationError(`config file ${file} is not valid JSON: ${(e as Error).message}`);
    }
    merge(config as unknown as Record<string, unknown>, parsed as Record<string, unknown>, '', `config file ${file}`);
  }
  for (const [name, apply] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') apply(config, v);
  }
  merge(config as unknown as Record<string, unknown>, overrides as Record<string, unknown>, '');
  return config;
}
