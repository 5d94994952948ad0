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

export function argsHash(args: ArgValues): string {
  return sha256(JSON.stringify(canonicalArgs(args)));
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

/** The DAG: its nodes and its edges, order-free. Edges are [upstream node hash, downstream]. */
export function dagHash(nodeHashes: Iterable<string>, edges: Iterable<readonly [string, string]>): string {
  const h = createHash('sha256');
  for (const n of [...nodeHashes].sort()) h.update(n).update('\n');
  h.update('edges\n');
  const lines: string[] = [];
  for (const [u, d] of edges) lines.push(`${u}>${d}`);
  for (const line of lines.sort()) h.update(line).update('\n');
  return h.digest('hex');
}

export function workflowArgsHash(workflowArgs: ArgValues): string {
  return sha256(JSON.stringify(['workflow', canonicalArgs(workflowArgs)]));
}
