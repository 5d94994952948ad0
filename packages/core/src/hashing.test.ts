import { describe, expect, it } from 'vitest';
import { argsHash, canonicalArgs, dagHash, nodeHash, taskHash, taskSetHash, workflowArgsHash } from './hashing.js';

const HEX64 = /^[0-9a-f]{64}$/;

describe('args hashing', () => {
  it('ignores key order and value type (1 vs "1")', () => {
    expect(argsHash({ a: 1, b: 'x' })).toBe(argsHash({ b: 'x', a: '1' }));
    expect(argsHash({ flag: true })).toBe(argsHash({ flag: 'true' }));
    expect(canonicalArgs({ b: 2, a: 1 })).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(nodeHash('tool', 'tpl', { loc: 1, year: 2020 })).toBe(nodeHash('tool', 'tpl', { year: '2020', loc: '1' }));
    expect(workflowArgsHash({ v: 1, run: 'a' })).toBe(workflowArgsHash({ run: 'a', v: '1' }));
  });

  it('changes with any name or value', () => {
    const base = nodeHash('tool', 'tpl', { loc: 1 });
    expect(base).toMatch(HEX64);
    expect(nodeHash('tool2', 'tpl', { loc: 1 })).not.toBe(base);
    expect(nodeHash('tool', 'tpl2', { loc: 1 })).not.toBe(base);
    expect(nodeHash('tool', 'tpl', { loc: 2 })).not.toBe(base);
    expect(nodeHash('tool', 'tpl', { loc2: 1 })).not.toBe(base);
    expect(nodeHash('tool', 'tpl', { loc: 1, extra: 0 })).not.toBe(base);
    expect(argsHash({ a: 1 })).not.toBe(argsHash({ a: 2 }));
    expect(argsHash({ a: 1 })).not.toBe(argsHash({ b: 1 }));
    expect(workflowArgsHash({ a: 1 })).not.toBe(argsHash({ a: 1 }));
  });

  it('does not confuse names and values that concatenate alike', () => {
    expect(argsHash({ ab: 'c' })).not.toBe(argsHash({ a: 'bc' }));
    expect(nodeHash('a', 'bc', {})).not.toBe(nodeHash('ab', 'c', {}));
  });

  it('answers the same from its cache as when computed fresh', () => {
    const first = argsHash({ year: 2025 });
    expect(argsHash({ year: 2025 })).toBe(first);
    expect(argsHash({ year: 2026 })).not.toBe(first);
  });
});

describe('task identity', () => {
  it('depends on the node and the task args', () => {
    const n1 = nodeHash('tool', 'tpl', { loc: 1 });
    const n2 = nodeHash('tool', 'tpl', { loc: 2 });
    const t1 = argsHash({ year: 2020 });
    const t2 = argsHash({ year: 2021 });
    expect(taskHash(n1, t1)).toMatch(HEX64);
    expect(taskHash(n1, t1)).toBe(taskHash(n1, argsHash({ year: '2020' })));
    expect(taskHash(n1, t2)).not.toBe(taskHash(n1, t1));
    expect(taskHash(n2, t1)).not.toBe(taskHash(n1, t1));
  });

  it('has no op-args input: op args cannot change an identity', () => {
    // nodeHash(tool, template, nodeArgs) and taskHash(node, taskArgs) are the only inputs.
    expect(nodeHash.length).toBe(3);
    expect(taskHash.length).toBe(2);
    expect(workflowArgsHash.length).toBe(1);
  });
});

describe('set and DAG hashes', () => {
  const hashes = ['c', 'a', 'b'].map((x) => argsHash({ x }));

  it('taskSetHash ignores order but not membership', () => {
    expect(taskSetHash(hashes)).toBe(taskSetHash([...hashes].reverse()));
    expect(taskSetHash(new Set(hashes))).toBe(taskSetHash(hashes));
    expect(taskSetHash(hashes.slice(1))).not.toBe(taskSetHash(hashes));
  });

  it('dagHash ignores node order, edge order and upstream list order', () => {
    // 0 → 1, 0 → 2, 1 → 2
    const nodes = hashes;
    const up = [[], [0], [0, 1]];
    const h = dagHash(nodes, up);
    expect(h).toMatch(HEX64);
    expect(dagHash(nodes, [[], [0], [1, 0]])).toBe(h);
    // The same DAG with its nodes listed in another order: perm[i] = new index of old node i.
    const perm = [2, 0, 1];
    const nodes2: string[] = [];
    const up2: number[][] = [];
    nodes.forEach((n, i) => {
      nodes2[perm[i]!] = n;
      up2[perm[i]!] = up[i]!.map((u) => perm[u]!);
    });
    expect(dagHash(nodes2, up2)).toBe(h);
  });

  it('dagHash changes with the edges or the nodes', () => {
    const h = dagHash(hashes, [[], [0], [0, 1]]);
    expect(dagHash(hashes, [[], [0], [0]])).not.toBe(h);
    expect(dagHash(hashes, [[], [0], [1]])).not.toBe(h);
    expect(dagHash(hashes, [[1], [], [0, 1]])).not.toBe(h); // 0→1 reversed
    expect(dagHash([hashes[0]!, hashes[1]!, argsHash({ x: 'd' })], [[], [0], [0, 1]])).not.toBe(h);
    expect(dagHash(hashes, [[], [], []])).not.toBe(taskSetHash(hashes));
  });
});
