// Idempotency-Key answers (services/idempotency.ts): a row per key, status 0 while its first
// attempt runs, then the stored answer. Every write is guarded on the state it expects.

import type { Q } from '../conn.js';

/** Claim `key` for a first attempt; false when a row for it exists already. */
export async function insertPending(q: Q, key: string, method: string, url: string, now: number): Promise<boolean> {
  const ins = await q.db
    .insertInto('request_log')
    .values({ key, method, url, status: 0, body: null, created_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst();
  return Number(ins.numInsertedOrUpdatedRows ?? 0) === 1;
}

export function findRequest(q: Q, key: string) {
  return q.db
    .selectFrom('request_log')
    .select(['method', 'url', 'status', 'body', 'created_at'])
    .where('key', '=', key)
    .executeTakeFirst();
}

/** Take over a pending row abandoned at `createdAt`; false when someone else moved it first. */
export async function takeOverPending(q: Q, key: string, createdAt: number, now: number): Promise<boolean> {
  const took = await q.db
    .updateTable('request_log')
    .set({ created_at: now })
    .where('key', '=', key)
    .where('status', '=', 0)
    .where('created_at', '=', createdAt)
    .executeTakeFirst();
  return Number(took.numUpdatedRows) === 1;
}

export async function storeAnswer(q: Q, key: string, status: number, body: string): Promise<void> {
  await q.db.updateTable('request_log').set({ status, body }).where('key', '=', key).where('status', '=', 0).execute();
}

/** Forget a pending attempt that failed, so a retry runs it again. */
export async function dropPending(q: Q, key: string): Promise<void> {
  await q.db.deleteFrom('request_log').where('key', '=', key).where('status', '=', 0).execute();
}

export async function pruneRequests(q: Q, before: number): Promise<void> {
  await q.db.deleteFrom('request_log').where('created_at', '<', before).execute();
}
