import { describe, expect, it } from 'vitest';
import { CycleError } from './errors.js';
import { downstreamOf, topologicalOrder } from './dag.js';

const names = (i: number) => `t${i}`;

describe('topologicalOrder', () => {
  it('orders every task after its upstreams', () => {
    const up = [[], [0], [0], [1, 2], [3]];
    const order = Array.from(topologicalOrder(up, names));
    expect(order).toHaveLength(5);
    up.forEach((ups, d) => ups.forEach((u) => expect(order.indexOf(u)).toBeLessThan(order.indexOf(d))));
  });

  it.each([
    ['self loop', [[0]], ['t0']],
    ['two-task cycle', [[1], [0]], ['t0', 't1']],
    ['cycle midway', [[], [0, 3], [1], [2], [3]], ['t1', 't2', 't3']],
    ['cycle below a fork-join', [[], [0], [0], [1, 2, 4], [3]], ['t3', 't4']],
  ])('names the tasks of a %s', (_label, up, expected) => {
    try {
      topologicalOrder(up, names);
      expect.unreachable('a cycle must be reported');
    } catch (e) {
      expect(e).toBeInstanceOf(CycleError);
      const cycle = (e as CycleError).details['cycle'] as string[];
      expect([...cycle].sort()).toEqual([...expected].sort());
      for (const n of expected) expect((e as Error).message).toContain(n);
    }
  });

  it('accepts a large layered DAG', () => {
    const n = 20000;
    const up: number[][] = [[]];
    for (let i = 1; i <= n; i++) up.push([0]);
    const agg: number[] = [];
    for (let k = 0; k < n / 10; k++) {
      up.push(Array.from({ length: 10 }, (_, j) => 1 + k * 10 + j));
      agg.push(up.length - 1);
    }
    up.push(agg);
    expect(topologicalOrder(up, names)).toHaveLength(up.length);
  });
});

describe('downstreamOf', () => {
  it('inverts upstream lists', () => {
    const { offsets, targets } = downstreamOf([[], [0], [0], [1, 2]]);
    const down = (i: number) => Array.from(targets.slice(offsets[i]!, offsets[i + 1]!)).sort();
    expect(down(0)).toEqual([1, 2]);
    expect(down(1)).toEqual([3]);
    expect(down(2)).toEqual([3]);
    expect(down(3)).toEqual([]);
  });
});
