// The browser's requester for createApiClient: fetch() against this page's own server (/api/v1),
// errors rebuilt as core's error classes from the server's {code, message, details}. It keeps no
// retries of its own (TanStack Query polls again) but remembers whether the server answered, and
// the X-Jobmon-Warning header the server puts on every answer when it runs without authentication,
// for the page's banners.

import type { RequestSender } from '@jobmon/core/api';
import { errorFromBody, InternalError, isErrorBody, ServerUnreachableError } from '@jobmon/core/errors';

type Method = Parameters<RequestSender['request']>[0];

/** What the banners show: whether the last request got an answer, and the server's warning. */
export interface ServerState {
  reachable: boolean;
  /** When the last answer arrived (epoch ms), 0 before any. */
  lastAnswerAt: number;
  /** Why the last request got no answer. */
  problem: string | null;
  warning: string | null;
}

// 502-504 come from a proxy or an unavailable database: the server is not there for us.
const UNREACHABLE_STATUS = new Set([502, 503, 504]);

export class FetchRequester implements RequestSender {
  private state: ServerState = { reachable: true, lastAnswerAt: 0, problem: null, warning: null };
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly base = '/api/v1',
    private readonly defaultTimeoutMs = 15_000,
  ) {}

  /** For useSyncExternalStore. */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  snapshot = (): ServerState => this.state;

  private note(next: Partial<ServerState>): void {
    const merged = { ...this.state, ...next };
    if (
      merged.reachable === this.state.reachable &&
      merged.problem === this.state.problem &&
      merged.warning === this.state.warning &&
      merged.lastAnswerAt === this.state.lastAnswerAt
    )
      return;
    this.state = merged;
    for (const l of this.listeners) l();
  }

  async request<T>(
    method: Method,
    path: string,
    body?: unknown,
    timeoutMs?: number,
    callSignal?: AbortSignal,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(timeoutMs ?? this.defaultTimeoutMs);
    const signal = callSignal ? AbortSignal.any([callSignal, timeout]) : timeout;
    const route = `${method} ${path}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        credentials: 'same-origin',
        signal,
      });
    } catch (e) {
      // The caller gave up (a page left): not the server's fault.
      if (callSignal?.aborted) throw e;
      const why = timeout.aborted ? 'no answer in time' : 'no connection';
      this.note({ reachable: false, problem: why });
      throw new ServerUnreachableError(`${route}: the server does not answer (${why})`, { route });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const unreachable = UNREACHABLE_STATUS.has(res.status);
    this.note({
      reachable: !unreachable,
      problem: unreachable ? `HTTP ${res.status}` : null,
      warning: res.headers.get('x-jobmon-warning'),
      ...(unreachable ? {} : { lastAnswerAt: Date.now() }),
    });
    if (res.ok) return parsed as T;
    if (isErrorBody(parsed)) throw errorFromBody(parsed, res.status);
    throw new InternalError(`${route} answered HTTP ${res.status}`, { status: res.status });
  }
}
