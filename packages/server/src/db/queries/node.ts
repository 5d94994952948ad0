// Nodes (a task template and node args, keyed by hash) and their args: shared across workflows,
// inserted in bulk and ignored when they exist, then read back by hash.

import type { Q } from '../conn.js';

/** Insert [hash, task template id] rows; hashes already stored are skipped. */
export async function ensureNodes(q: Q, rows: readonly (readonly [string, number])[]): Promise<void> {
  await q.dialect.bulkInsert(q.db, 'node', ['hash', 'task_template_id'], rows, {
    ignoreConflictOn: ['hash'],
    pgTypes: ['text', 'bigint'],
  });
}

export function nodesByHash(q: Q, hashes: readonly string[]) {
  return q.dialect.selectWhereIn<{ id: number; hash: string }>(
    q.db,
    'select "id", "hash" from "node"',
    'hash',
    hashes,
    'text',
  );
}

/** Insert [node id, name, value] rows; args a node has already are skipped. */
export async function insertNodeArgs(q: Q, rows: readonly (readonly [number, string, string])[]): Promise<void> {
  await q.dialect.bulkInsert(q.db, 'node_arg', ['node_id', 'name', 'value'], rows, {
    ignoreConflictOn: ['node_id', 'name'],
    pgTypes: ['bigint', 'text', 'text'],
  });
}
