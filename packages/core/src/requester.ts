// The HTTP requester every part uses to talk to the server. Retries connection errors and 5xx
// with exponential backoff and jitter; a 4xx fails at once with the server's error class.
// State-changing calls are safe to retry: every non-GET request carries one Idempotency-Key on all
// its attempts, so the server answers a retry with the first attempt's stored answer; the routes
// it does not store are idempotent or compare-and-set by construction (DESIGN.md §7).

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import {
  JobmonError,
  ServerUnreachableError,
  ValidationError,
  errorFromBody,
  isErrorBody,
  InternalError,
} from './errors.js';

export interface RequesterOptions {
  timeoutMs?: number;
  /** Most attempts after the first (default 8); Infinity with `retryForMs` retries by time alone. */
  retries?: number;
  /** Stop retrying once this long has passed since the first failed attempt (default: no limit). */
  retryForMs?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Where the URL came from, for messages (e.g. "JOBMON_URL"). */
  source?: string;
  /** Called before each retry; for progress messages. */
  onRetry?: ((info: RetryInfo) => void) | undefined;
  /** Called when the server stops answering (false) and when it answers again (true). */
  onReachable?: ((reachable: boolean, error?: unknown) => void) | undefined;
  /** Aborting it ends every request of this requester at once (no more retries). */
  signal?: AbortSignal | undefined;
  /** Sent as `Authorization: Bearer <token>` (docs/auth.md). */
  token?: string | undefined;
}

export interface RetryInfo {
  attempt: number;
  error: unknown;
  route: string;
  delayMs: number;
  /** Since the first failed attempt of this request. */
  elapsedMs: number;
  /** The server did not answer at all (connection refused, reset, timed out), or answered 502/503/504. */
  unreachable: boolean;
}

/**
 * Check a server URL before anything uses it: http(s) with a host. `source` names where it came
 * from, so the message says what to fix ("JOBMON_URL=localhost:7101 is not a server URL …").
 */
export function checkServerUrl(url: string, source = 'the server URL'): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (
    !parsed ||
    (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
    parsed.hostname === '' ||
    parsed.search !== '' ||
    parsed.hash !== ''
  ) {
    throw new ValidationError(
      `${source}=${JSON.stringify(url)} is not a server URL: use http://HOST:PORT (for example http://127.0.0.1:7070)`,
      {
        field: source,
        value: url,
      },
    );
  }
  return url.replace(/\/+$/, '');
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

// One keep-alive agent per process: node:http costs a fraction of fetch() per request.
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 32 });

interface RawResponse {
  status: number;
  text: string;
}

/** The header naming one logical request across its attempts (server: services/idempotency.ts). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** The server's answer while another attempt with the same key is still running: retried. */
const IN_PROGRESS = 'JM_REQUEST_IN_PROGRESS';

function send(
  url: URL,
  method: Method,
  payload: string | undefined,
  timeoutMs: number,
  key: string | undefined,
  signal?: AbortSignal,
  token?: string,
): Promise<RawResponse> {
  const mod = url.protocol === 'https:' ? https : http;
  const headers: http.OutgoingHttpHeaders =
    payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
  if (key !== undefined) headers[IDEMPOTENCY_KEY_HEADER] = key;
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      {
        method,
        agent: url.protocol === 'https:' ? httpsAgent : httpAgent,
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    if (signal) {
      // One listener per request, removed when the request ends: callers reuse a signal for many.
      const onAbort = () => req.destroy(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      req.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    req.on('error', reject);
    req.end(payload);
  });
}

const TRANSIENT_STATUS = new Set([502, 503, 504, 423, 429]);
const UNREACHABLE_STATUS = new Set([502, 503, 504]);

export class Requester {
  readonly baseUrl: string;
  private readonly opts: Required<
    Omit<RequesterOptions, 'onRetry' | 'onReachable' | 'retryForMs' | 'source' | 'signal'>
  > & {
    signal: AbortSignal | undefined;
    retryForMs: number | undefined;
    source: string | undefined;
    onRetry: RequesterOptions['onRetry'];
    onReachable: RequesterOptions['onReachable'];
    token: string | undefined;
  };
  private reachable = true;

  constructor(baseUrl: string, opts: RequesterOptions = {}) {
    this.baseUrl = checkServerUrl(baseUrl, opts.source);
    this.opts = {
      timeoutMs: opts.timeoutMs ?? 20_000,
      retries: opts.retries ?? 8,
      backoffMs: opts.backoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000,
      retryForMs: opts.retryForMs,
      source: opts.source,
      onRetry: opts.onRetry,
      onReachable: opts.onReachable,
      signal: opts.signal,
      token: opts.token,
    };
  }

  /** The same server with other options (e.g. a runner that rides out long outages). */
  with(opts: RequesterOptions): Requester {
    const merged: RequesterOptions = { ...opts };
    for (const [k, v] of Object.entries(this.opts))
      if (v !== undefined && !(k in opts)) (merged as Record<string, unknown>)[k] = v;
    return new Requester(this.baseUrl, merged);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  private noteReachable(up: boolean, error?: unknown): void {
    if (this.reachable === up) return;
    this.reachable = up;
    this.opts.onReachable?.(up, error);
  }

  /** With a signal, an abort ends the request at once (rejecting with an 'aborted' error, no retry). */
  async request<T>(
    method: Method,
    path: string,
    body?: unknown,
    timeoutMs?: number,
    callSignal?: AbortSignal,
  ): Promise<T> {
    const signal =
      callSignal && this.opts.signal
        ? AbortSignal.any([callSignal, this.opts.signal])
        : (callSignal ?? this.opts.signal);
    if (signal?.aborted) throw new Error(`${method} ${path}: aborted`);
    const url = new URL(`${this.baseUrl}/api/v1${path}`);
    const route = `${method} ${path}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // One key for every attempt of this call: a retry after a lost answer is the same request.
    const key = method === 'GET' ? undefined : randomUUID();
    let lastError: unknown;
    let firstFailure: number | undefined;
    let serverErrors = 0;
    let unreachable = false;
    let attempt = 0;
    for (; ; attempt++) {
      if (attempt > 0) {
        const elapsedMs = Date.now() - firstFailure!;
        const budgetLeft = this.opts.retryForMs === undefined ? Infinity : this.opts.retryForMs - elapsedMs;
        if (attempt > this.opts.retries || budgetLeft <= 0) break;
        const base = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** Math.min(attempt - 1, 30));
        const delayMs = Math.round(Math.min(base / 2 + Math.random() * (base / 2), Math.max(budgetLeft, 0)));
        this.opts.onRetry?.({ attempt, error: lastError, route, delayMs, elapsedMs, unreachable });
        await sleep(delayMs, signal);
        if (signal?.aborted) throw new Error(`${route}: aborted`, { cause: lastError });
      }
      let res: RawResponse;
      try {
        res = await send(url, method, payload, timeoutMs ?? this.opts.timeoutMs, key, signal, this.opts.token);
      } catch (error) {
        if (signal?.aborted) throw new Error(`${route}: aborted`, { cause: error });
        lastError = error;
        firstFailure ??= Date.now();
        unreachable = true;
        this.noteReachable(false, error);
        continue;
      }
      const text = res.text;
      let parsed: unknown = undefined;
      if (text !== '') {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
      }
      unreachable = UNREACHABLE_STATUS.has(res.status);
      this.noteReachable(!unreachable, unreachable ? text : undefined);
      if (res.status >= 200 && res.status < 300) return parsed as T;
      const err = isErrorBody(parsed)
        ? errorFromBody(parsed, res.status)
        : new InternalError(`${route} answered HTTP ${res.status}: ${text.slice(0, 200)}`, { status: res.status });
      // A 500 is a server bug more often than a blip: retry it twice, not the full budget.
      // 409 JM_REQUEST_IN_PROGRESS: an earlier attempt of this very request is still running.
      const transient = TRANSIENT_STATUS.has(res.status) || err.code === IN_PROGRESS;
      if (transient || (res.status >= 500 && serverErrors++ < 2)) {
        lastError = err;
        firstFailure ??= Date.now();
        continue;
      }
      throw err;
    }
    if (lastError instanceof JobmonError) throw lastError;
    const why =
      lastError instanceof Error
        ? ((lastError.cause as Error | undefined)?.message ?? lastError.message)
        : String(lastError);
    const secs = ((Date.now() - (firstFailure ?? Date.now())) / 1000).toFixed(1);
    const from = this.opts.source ? ` (${this.opts.source}=${this.baseUrl})` : '';
    throw new ServerUnreachableError(
      `cannot reach the Jobmon server at ${this.baseUrl}${from} (${route}): ${why}; gave up after ${attempt} attempts over ${secs} s`,
      { url: this.baseUrl, route, ...(this.opts.source ? { source: this.opts.source } : {}) },
      { cause: lastError },
    );
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
