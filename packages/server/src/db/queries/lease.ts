// Leases among server replicas (services/lease.ts explains the protocol). Times are the
// database's clock (dialect.nowMs), never the caller's.

import { sql } from 'kysely';
import type { Q } from '../conn.js';

/** Insert `name`, or take it over when `holder` holds it or it has expired; answers the holder after. */
export async function upsertLease(q: Q, name: string, holder: string, periodMs: number): Promise<string | undefined> {
  const now = q.dialect.nowMs();
  const row = await sql<{ holder: string }>`
    insert into lease (name, holder, expires_at) values (${name}, ${holder}, ${now} + ${Math.round(periodMs)})
    on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
      where lease.holder = excluded.holder or lease.expires_at < ${now}
    returning holder`.execute(q.db);
  return row.rows[0]?.holder;
}

export async function deleteLease(q: Q, name: string, holder: string): Promise<void> {
  await q.db.deleteFrom('lease').where('name', '=', name).where('holder', '=', holder).execute();
}
