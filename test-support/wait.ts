// Waiting in tests without sleeping blind: poll a condition until it holds, and throw an error that
// names what was awaited when it never does (a bounded loop that falls through hides the failure).

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Resolve with the probe's first value that is neither undefined nor false; throw
 * "timed out after N ms waiting for <what>" once `timeoutMs` has passed without one.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A minimal GET on the server's API (a Requester from @jobmon/core, or an inject wrapper). */
export interface EventSource {
  get<T>(path: string): Promise<T>;
}

export interface LoggedEvent {
  seq: number;
  at: number;
  workflowId: number | null;
  entity: string;
  entityId: number;
  from: string | null;
  to: string;
  actor: string;
}

/**
 * Follow the event log (long-poll on GET /events) from `after` until an event matches; throw,
 * naming `what` and the last events seen, if none has within `timeoutMs`.
 */
export async function waitForEvent(
  api: EventSource,
  what: string,
  match: (e: LoggedEvent) => boolean,
  opts: { workflowId?: number; after?: number; timeoutMs?: number } = {},
): Promise<LoggedEvent> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const until = Date.now() + timeoutMs;
  let after = opts.after ?? 0;
  const seen: LoggedEvent[] = [];
  for (;;) {
    const waitMs = Math.max(0, Math.min(2_000, until - Date.now()));
    const filter = opts.workflowId === undefined ? '' : `&workflowId=${opts.workflowId}`;
    const r = await api.get<{ events: LoggedEvent[]; last: number }>(
      `/events?after=${after}${filter}&waitMs=${waitMs}`,
    );
    for (const e of r.events) {
      if (match(e)) return e;
      seen.push(e);
    }
    after = r.last;
    if (Date.now() >= until) {
      const tail = seen
        .slice(-5)
        .map((e) => `${e.entity} ${e.entityId} ${e.from}→${e.to}`)
        .join(', ');
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} in the event log (last seen: ${tail || 'none'})`,
      );
    }
  }
}
