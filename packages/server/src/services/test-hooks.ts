// Test hooks in the product (as pg-boss has): each runs between a service's read of rows and its
// guarded write, so a test can play "someone moved it first" without racing two processes. Never
// set outside tests; unset, each costs one property read.

import type { Tx } from './tx.js';

/** `events`: after a transaction appended its events, before it commits. `operator`: before each
 *  status group of a reset or task update moves. */
export type HookPoint = 'instances' | 'queue' | 'resume' | 'workflow' | 'events' | 'operator';

export const testHooks: { afterRead?: (at: HookPoint, tx: Tx) => Promise<void> } = {};

export async function afterRead(at: HookPoint, tx: Tx): Promise<void> {
  if (testHooks.afterRead) await testHooks.afterRead(at, tx);
}
