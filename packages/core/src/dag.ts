// DAG checks and compact adjacency, shared by the client (validation before bind) and the runner
// (traversal). Tasks are numbered 0..n-1; upstream lists hold indices. Typed arrays keep a
// 100k-task DAG to a few megabytes.

import { CycleError } from './errors.js';

export interface Adjacency {
  /** downstream of i = targets[offsets[i] .. offsets[i+1]) */
  offsets: Int32Array;
  targets: Int32Array;
}

export function downstreamOf(upstream: readonly (readonly number[])[]): Adjacency {
  const n = upstream.length;
  const offsets = new Int32Array(n + 1);
  for (const ups of upstream) for (const u of ups) offsets[u + 1]! += 1;
  for (let i = 0; i < n; i++) offsets[i + 1]! += offsets[i]!;
  const fill = offsets.slice(0, n);
  const targets = new Int32Array(offsets[n]!);
  upstream.forEach((ups, d) => {
    for (const u of ups) targets[fill[u]!++] = d;
  });
  return { offsets, targets };
}

/**
 * A topological order (Kahn). On a cycle, throws CycleError naming the tasks around one cycle.
 */
export function topologicalOrder(upstream: readonly (readonly number[])[], nameOf: (i: number) => string): Int32Array {
  const n = upstream.length;
  const { offsets, targets } = downstreamOf(upstream);
  const indeg = new Int32Array(n);
  upstream.forEach((ups, i) => (indeg[i] = ups.length));
  const order = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) if (indeg[i] === 0) order[tail++] = i;
  while (head < tail) {
    const u = order[head++]!;
    for (let k = offsets[u]!; k < offsets[u + 1]!; k++) {
      const d = targets[k]!;
      if (--indeg[d]! === 0) order[tail++] = d;
    }
  }
  if (tail === n) return order;
  // Walk upstream from any task left over until a task repeats: that loop is a cycle.
  let start = indeg.findIndex((d) => d > 0);
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  while (!seenAt.has(start)) {
    seenAt.set(start, path.length);
    path.push(start);
    start = upstream[start]!.find((u) => indeg[u]! > 0)!;
  }
  const cycle = path.slice(seenAt.get(start)).reverse();
  const names = [...cycle, cycle[0]!].map(nameOf);
  throw new CycleError(`the DAG has a cycle: ${names.join(' → ')}`, {
    cycle: names.slice(0, -1),
    stuckTasks: n - tail,
  });
}
