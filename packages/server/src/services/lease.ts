// A lease: one row per role that one server process at a time may hold. Acquiring and renewing are
// the same single statement — insert the row, or take it over when it is ours or has expired — so
// two replicas racing for it cannot both win: the row lock serialises them and the loser's WHERE
// no longer matches. Holding a lease is an economy, not a safety net: every move the reaper makes
// is a compare-and-set anyway, so a holder that overruns its lease only duplicates work.
//
// Times are the database's clock, never the caller's: replicas run on different hosts whose clocks
// may drift apart by seconds, and a fast clock would read another holder's lease as expired (or a
// slow one keep its own alive too long). One clock, the database's, makes "expired" mean the same
// to everyone; the period is a duration, so only the database ever reads the wall clock here.

import { onDb, type Db } from '../db/connect.js';
import { deleteLease, upsertLease } from '../db/queries/lease.js';

/** Take or renew `name` for `periodMs`; true when `holder` holds it afterwards. */
export async function acquireLease(db: Db, name: string, holder: string, periodMs: number): Promise<boolean> {
  return (await upsertLease(onDb(db), name, holder, periodMs)) === holder;
}

/** Give `name` up at once (a clean shutdown), so a standby need not wait out the period. */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await deleteLease(onDb(db), name, holder);
}
