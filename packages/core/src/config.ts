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

/** The environment variables, each with the setting it sets and how its text is read. */
const ENV: Record<string, [key: string, read: (name: string, v: string) => string | number]> = {
  JOBMON_URL: ['url', text],
  JOBMON_DB: ['db', text],
  JOBMON_LOG_DIR: ['logDir', text],
  JOBMON_RUN_HEARTBEAT_MS: ['runHeartbeatMs', positive],
  JOBMON_INSTANCE_HEARTBEAT_MS: ['instanceHeartbeatMs', positive],
  JOBMON_REPORT_BY_FACTOR: ['reportByFactor', positive],
  JOBMON_REAPER_INTERVAL_MS: ['reaperIntervalMs', positive],
  JOBMON_REAPER_LEASE_MS: ['reaperLeaseMs', positive],
  JOBMON_EVENT_POLL_MS: ['eventPollMs', positive],
  JOBMON_REAPER_GRACE_MS: ['reaperGraceMs', positive],
  JOBMON_OUTAGE_TOLERANCE_MS: ['outageToleranceMs', positive],
  JOBMON_LOG_CAP_BYTES: ['logCapBytes', positiveInteger],
  JOBMON_HTTP_TIMEOUT_MS: ['http.timeoutMs', positive],
  JOBMON_HTTP_RETRIES: ['http.retries', nonNegative],
  JOBMON_HTTP_BACKOFF_MS: ['http.backoffMs', positive],
  JOBMON_HTTP_MAX_BACKOFF_MS: ['http.maxBackoffMs', positive],
};

function text(_name: string, v: string): string {
  return v;
}

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

/** Where `jobmon login` keeps tokens, one per server URL: `credentials` in JOBMON_HOME, mode 0600. */
export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(jobmonHome(env), 'credentials');
}

/** A server URL as credentials are keyed: its origin (`http://host:7070`). */
export function serverKey(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** The token to send to the server at `url`: JOBMON_TOKEN, else the one `jobmon login` stored for it. */
export function tokenFor(url: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const t = env['JOBMON_TOKEN'];
  if (t) return t;
  try {
    const c = JSON.parse(readFileSync(credentialsFile(env), 'utf8')) as { servers?: Record<string, unknown> };
    const v = c.servers?.[serverKey(url)];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
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
  for (const [name, [key, read]] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') setLeaf(config as unknown as Record<string, unknown>, key, read(name, v));
  }
  merge(config as unknown as Record<string, unknown>, overrides as Record<string, unknown>, '');
  return config;
}

/** One setting as `jobmon config show` gives it: its value and where the value came from. */
export interface ConfigEntry {
  /** Dotted: `http.timeoutMs`. */
  key: string;
  value: string | number;
  source: 'default' | 'file' | 'env';
  /** The environment variable that sets it. */
  envName: string;
}

/** The settings `jobmon config set` can write: every one but the clusters (`jobmon cluster add`). */
export function configKeys(): string[] {
  return Object.values(ENV).map(([key]) => key);
}

/** The effective configuration, setting by setting, each with its source (the clusters left out). */
export function describeConfig(env: NodeJS.ProcessEnv = process.env): ConfigEntry[] {
  const withoutEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!(k in ENV)) withoutEnv[k] = v;
  const defaults = defaultConfig(env) as unknown as Record<string, unknown>;
  const fromFile = loadConfig({}, withoutEnv) as unknown as Record<string, unknown>;
  const effective = loadConfig({}, env) as unknown as Record<string, unknown>;
  return Object.entries(ENV).map(([envName, [key]]) => {
    const value = getLeaf(effective, key) as string | number;
    const source = value !== getLeaf(fromFile, key) ? 'env' : value !== getLeaf(defaults, key) ? 'file' : 'default';
    return { key, value, source, envName };
  });
}

/**
 * The config file's object with `key` set to `raw` (read as its environment variable is read), or
 * removed when `raw` is undefined, and checked as loadConfig checks a file. Throws a
 * ValidationError naming the key or the value; writing the file is the caller's.
 */
export function withSetting(
  fileObject: Record<string, unknown>,
  key: string,
  raw: string | undefined,
): Record<string, unknown> {
  const entry = Object.entries(ENV).find(([, [k]]) => k === key);
  if (!entry) {
    const hint = key === 'clusters' || key.startsWith('clusters.') ? ' (clusters: use `jobmon cluster add`)' : '';
    throw new ValidationError(`config: unknown setting '${key}'${hint}; the settings are: ${configKeys().join(', ')}`, {
      field: key,
    });
  }
  const next = structuredClone(fileObject);
  if (raw === undefined) {
    const path = key.split('.');
    const parent = path.slice(0, -1).reduce<unknown>((o, p) => (o as Record<string, unknown> | undefined)?.[p], next);
    if (typeof parent === 'object' && parent !== null) delete (parent as Record<string, unknown>)[path.at(-1)!];
  } else {
    let value: string | number;
    try {
      value = entry[1][1](key, raw);
    } catch (e) {
      throw new ValidationError((e as Error).message, { field: key });
    }
    setLeaf(next, key, value);
  }
  merge(defaultConfig() as unknown as Record<string, unknown>, next, '', 'config');
  return next;
}

function getLeaf(o: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((at, p) => (at as Record<string, unknown> | undefined)?.[p], o);
}

function setLeaf(o: Record<string, unknown>, key: string, value: unknown): void {
  const path = key.split('.');
  let at = o;
  for (const p of path.slice(0, -1)) {
    const child = at[p];
    at = (at[p] = typeof child === 'object' && child !== null && !Array.isArray(child) ? child : {}) as Record<
      string,
      unknown
    >;
  }
  at[path.at(-1)!] = value;
}
