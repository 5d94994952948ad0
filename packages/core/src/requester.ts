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
  errorFromBody,
  isErrorBody,
  InternalError,
} from './errors.js';

export interface RequesterOptions {
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Called before each retry; for progress messages. */
  onRetry?: ((info: { attempt: number; error: unknown; route: string; delayMs: number }) => void) | undefined;
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

function send(url: URL, method: Method, payload: string | undefined, timeoutMs: number, key: string | undefined, signal?: AbortSignal): Promise<RawResponse> {
  const mod = url.protocol === 'https:' ? https : http;
  const headers: http.OutgoingHttpHeaders =
    payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
  if (key !== undefined) headers[IDEMPOTENCY_KEY_HEADER] = key;
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
    signal?.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
    req.on('error', reject);
    req.end(payload);
  });
}

export class Requester {
  readonly baseUrl: string;
  private readonly opts: Required<Omit<RequesterOptions, 'onRetry'>> & Pick<RequesterOptions, 'onRetry'>;

  constructor(baseUrl: string, opts: RequesterOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.opts = {
      timeoutMs: opts.timeoutMs ?? 20_000,
      retries: opts.retries ?? 8,
      backoffMs: opts.backoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000,
      onRetry: opts.onRetry,
    };
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

  /** With a signal, an abort ends the request at once (rejecting with an 'aborted' error, no retry). */
  async request<T>(method: Method, path: string, body?: unknown, timeoutMs?: number, signal?: AbortSignal): Promise<T> {
    const url = new URL(`${this.baseUrl}/api/v1${path}`);
    const route = `${method} ${path}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // One key for every attempt of this call: a retry after a lost answer is the same request.
    const key = method === 'GET' ? undefined : randomUUID();
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      if (attempt > 0) {
        const base = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** (attempt - 1));
        const delayMs = Math.round(base / 2 + Math.random() * (base / 2));
        this.opts.onRetry?.({ attempt, error: lastError, route, delayMs });
        await new Promise((r) => setTimeout(r, delayMs));
      }
      let res: RawResponse;
      try {
        res = await send(url, method, payload, timeoutMs ?? this.opts.timeoutMs, key, signal);
      } catch (error) {
        if (signal?.aborted) throw new Error(`${route}: aborted`, { cause: error });
        lastError = error;
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
      if (res.status >= 200 && res.status < 300) return parsed as T;
      const err = isErrorBody(parsed)
        ? errorFromBody(parsed, res.status)
        : new InternalError(`${route} answered HTTP ${res.status}: ${text.slice(0, 200)}`, { status: res.status });
      // A 500 is a server bug more often than a blip: retry it twice, not the full budget.
      // 409 JM_REQUEST_IN_PROGRESS: an earlier attempt of this very request is still running.
      const transient =
        res.status === 503 || res.status === 502 || res.status === 504 || res.status === 423 || res.status === 429 || err.code === IN_PROGRESS;
      if (transient || (res.status >= 500 && attempt < Math.min(2, this.opts.retries))) {
        lastError = err;
        continue;
      }
      throw err;
    }
    if (lastError instanceof JobmonError) throw lastError;
    const why = lastError instanceof Error ? (lastError.cause as Error | undefined)?.message ?? lastError.message : String(lastError);
    throw new ServerUnreachableError(
      `cannot reach the Jobmon server at ${this.baseUrl} (${route}) after ${this.opts.retries + 1} attempts: ${why}`,
      { url: this.baseUrl, route },
      { cause: lastError },
    );
  }
}
