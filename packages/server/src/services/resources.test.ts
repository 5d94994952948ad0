// The arithmetic of the resource reads on inputs whose answer is known by hand.

import { describe, expect, it } from 'vitest';
import { MEMORY_STEP_MIB, RUNTIME_STEP_S, percentile, roundUp } from './resources.js';

describe('resource statistics', () => {
  it('percentiles are nearest-rank: the ⌈p·n⌉-th of the sorted values', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(ten, 0.5)).toBe(5);
    expect(percentile(ten, 0.9)).toBe(9);
    expect(percentile(ten, 1)).toBe(10);
    expect(percentile([7], 0.9)).toBe(7);
    expect(percentile([1, 2, 3], 0.5)).toBe(2);
    expect(percentile([], 0.5)).toBeNull();
  });

  it('suggestions: statistic × (1 + headroom), up to the step, never below one step', () => {
    expect(roundUp(900, 20, MEMORY_STEP_MIB)).toBe(1088); // 1080 → 17 × 64
    expect(roundUp(1024, 0, MEMORY_STEP_MIB)).toBe(1024); // already a multiple
    expect(roundUp(100, 20, RUNTIME_STEP_S)).toBe(120); // 120 exactly (not 180 from 120.00000000000001)
    expect(roundUp(270, 20, RUNTIME_STEP_S)).toBe(360); // 324 s → 6 min
    expect(roundUp(3, 20, RUNTIME_STEP_S)).toBe(60);
    expect(roundUp(0.5, 0, MEMORY_STEP_MIB)).toBe(64);
  });
});
