// Identity hashes (DESIGN.md §4). Computed from names and values only — never from database ids —
// so the same declaration hashes the same on every server and database. SHA-256, hex.

import { createHash } from 'node:crypto';

export type ArgValues = Readonly<Record<string, string | number | boolean>>;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Args as sorted [name, stringified value] pairs: key order and value types do not matter. */
export function canonicalArgs(args: ArgValues): [string, string][] {
  return Object.keys(args)
    .sort()
    .map((k) => [k, String(args[k])]);
}

const argsHashCache = new Map<string, string>();

/** Hash of an args object. Many tasks share their task args (a year, a version): cached. */
export function argsHash(args: ArgValues): string {
  const text = JSON.stringify(canonicalArgs(args));
  let h = argsHashCache.get(text);
  if (h === undefined) {
    h = sha256(text);
    if (argsHashCache.size > 10_000) argsHashCache.clear();
    argsHashCache.set(text, h);
  }
  return h;
}

/** A node is a template applied to node args; it is the same across workflows. */
export function nodeHash(toolName: string, templateName: string, nodeArgs: ArgValues): string {
  return sha256(JSON.stringify(['node', toolName, templateName, canonicalArgs(nodeArgs)]));
}

/** A task is a node plus task args. Op args are excluded: they may change between runs. */
export function taskHash(nodeHashValue: string, taskArgsHashValue: string): string {
  return sha256(`task:${nodeHashValue}:${taskArgsHashValue}`);
}

/** The set of tasks of a workflow, order-free. */
export function taskSetHash(taskHashes: Iterable<string>): string {
  const h = createHash('sha256');
  for (const t of [...taskHashes].sort()) h.update(t).update('\n');
  return h.digest('hex');
}

/**
 * The DAG: its nodes and its edges, order-free. Nodes are hashed in sorted order; each edge is
 * written as the pair of its ends' ranks in that order, and the pairs are sorted numerically —
 * the same result as sorting "upstream>downstream" strings, without building 200k of them.
 */
export function dagHash(nodeHashes: readonly string[], upstream: readonly (readonly number[])[]): string {
  const h = createHash('sha256');
  const order = nodeHashes
    .map((_, i) => i)
    .sort((a, b) => (nodeHashes[a]! < nodeHashes[b]! ? -1 : nodeHashes[a]! > nodeHashes[b]! ? 1 : 0));
  const rank = new Float64Array(nodeHashes.length);
  order.forEach((node, r) => (rank[node] = r));
  for (const i of order) h.update(nodeHashes[i]!).update('\n');
  h.update('edges\n');
  let count = 0;
  for (const ups of upstream) count += ups.length;
  const pairs = new Float64Array(count);
  const n = nodeHashes.length;
  let k = 0;
  upstream.forEach((ups, d) => {
    for (const u of ups) pairs[k++] = rank[u]! * n + rank[d]!;
  });
  pairs.sort();
  for (const p of pairs) h.update(`${Math.floor(p / n)}>${p % n}\n`);
  return h.digest('hex');
}

export function workflowArgsHash(workflowArgs: ArgValues): string {
  return sha256(JSON.stringify(['workflow', canonicalArgs(workflowArgs)]));
}
