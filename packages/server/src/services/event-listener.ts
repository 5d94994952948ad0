// Hears events committed by other server processes over the same PostgreSQL: one dedicated
// connection (outside the pool: a LISTEN lasts as long as its session) runs LISTEN jobmon_events,
// and each notification wakes this process's followers through eventBus, as a local commit does.
// When the connection drops (PostgreSQL restarted, a network cut) it reconnects with backoff and
// wakes every follower once it hears again, since commits made while it was deaf sent nothing it
// could hear. Followers' fallback poll (followEvents) covers the deaf window itself.

import type pg from 'pg';
import { eventBus } from './tx.js';

export const EVENTS_CHANNEL = 'jobmon_events';

export interface EventListener {
  close(): Promise<void>;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export async function listenForEvents(
  target: string,
  onError: (e: unknown) => void = () => undefined,
): Promise<EventListener> {
  const { Client } = (await import('pg')).default;
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let backoff = MIN_BACKOFF_MS;
  const wake = () => eventBus.emit('committed', 0);

  const connect = async (): Promise<void> => {
    // keepAlive: a peer that vanished without a word (no RST) is noticed, not waited on forever.
    const c = new Client({ connectionString: target, keepAlive: true, application_name: 'jobmon-event-listener' });
    client = c;
    let lost = false;
    const onLost = (e?: unknown) => {
      if (lost) return;
      lost = true;
      if (e !== undefined) onError(e);
      c.end().catch(() => undefined);
      if (client === c) client = undefined;
      if (!closed) {
        retry = setTimeout(() => void connect(), backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    };
    c.on('error', onLost);
    c.on('end', () => onLost());
    c.on('notification', wake);
    try {
      await c.connect();
      await c.query(`listen ${EVENTS_CHANNEL}`);
    } catch (e) {
      onLost(e);
      return;
    }
    backoff = MIN_BACKOFF_MS;
    wake();
  };

  await connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
