import { describe, expect, it } from 'vitest';
import { InvalidResourcesError, normaliseResourceScales } from '@jobmon/core';
import {
  coerceToQueue,
  effectiveScales,
  fitsQueue,
  placeOnQueue,
  planRetry,
  scaleResources,
  scaleValue,
  type QueueChoice,
} from './scaling.js';

const small: QueueChoice = { id: 1, name: 'small.q', limits: { memory: [1, 1000], runtime: [1, 3600], cores: [1, 4] } };
const medium: QueueChoice = {
  id: 2,
  name: 'medium.q',
  limits: { memory: [1, 4000], runtime: [1, 7200], cores: [1, 16] },
};
const large: QueueChoice = {
  id: 3,
  name: 'large.q',
  limits: { memory: [1, 64000], runtime: [1, 86400], cores: [1, 64] },
};

describe('scaleValue', () => {
  it('grows by a factor, rounding up', () => {
    expect(scaleValue(100, 0.5)).toBe(150);
    expect(scaleValue(101, 0.5)).toBe(152);
    expect(scaleValue(60, 1)).toBe(120);
    expect(scaleValue(60, 0)).toBe(60);
  });

  it('takes the next listed value above the current one', () => {
    expect(scaleValue(30, [60, 120, 600])).toBe(60);
    expect(scaleValue(60, [60, 120, 600])).toBe(120);
    expect(scaleValue(120, [60, 120, 600])).toBe(600);
    expect(scaleValue(90, [60, 120, 600])).toBe(120);
  });

  it('keeps the last listed value once the list is exhausted, and never shrinks', () => {
    expect(scaleValue(600, [60, 120, 600])).toBe(600);
    expect(scaleValue(5000, [60, 120, 600])).toBe(5000);
  });
});

describe('scaleResources and effectiveScales', () => {
  it('scales memory and runtime by 50 % by default and leaves other resources alone', () => {
    expect(scaleResources({ memory: 100, runtime: 60, cores: 2, queue_hint: 'x' }, effectiveScales({}))).toEqual({
      memory: 150,
      runtime: 90,
      cores: 2,
      queue_hint: 'x',
    });
  });

  it('merges a task’s scales over the defaults: a list for runtime, memory still +50 %, 0 keeps a resource fixed', () => {
    const scales = effectiveScales({ runtime: [120, 600], cores: 1 });
    expect(scaleResources({ memory: 100, runtime: 60, cores: 2 }, scales)).toEqual({
      memory: 150,
      runtime: 120,
      cores: 4,
    });
    expect(scaleResources({ memory: 100, runtime: 60 }, effectiveScales({ memory: 0 }))).toEqual({
      memory: 100,
      runtime: 90,
    });
  });

  it('does not invent resources the task did not request', () => {
    expect(scaleResources({ cores: 1 }, effectiveScales({ runtime: [60] }))).toEqual({ cores: 1 });
  });

  it('normalises list units and treats an invalid stored value as absent', () => {
    expect(effectiveScales({ memory: ['1G', '2G'] })).toEqual({ memory: [1024, 2048], runtime: 0.5 });
    expect(effectiveScales({ memory: -1 })).toEqual({ memory: 0.5, runtime: 0.5 });
    expect(effectiveScales('nonsense')).toEqual({ memory: 0.5, runtime: 0.5 });
  });

  it('normaliseResourceScales rejects negative factors, empty lists and bad values', () => {
    expect(() => normaliseResourceScales({ memory: -0.5 }, "task 'a'")).toThrow(InvalidResourcesError);
    expect(() => normaliseResourceScales({ memory: -0.5 }, "task 'a'")).toThrow(/task 'a'.*memory/);
    expect(() => normaliseResourceScales({ runtime: [] }, "task 'a'")).toThrow(InvalidResourcesError);
    expect(() => normaliseResourceScales({ runtime: ['forever'] }, "task 'a'")).toThrow(/runtime/);
    expect(() => normaliseResourceScales({ cores: [1.5] }, "task 'a'")).toThrow(/cores/);
    expect(normaliseResourceScales({ runtime: ['1m', '1h'], memory: 0 }, 'x')).toEqual({
      runtime: [60, 3600],
      memory: 0,
    });
  });
});

describe('queues', () => {
  it('fitsQueue checks every limited resource', () => {
    expect(fitsQueue({ memory: 1000, runtime: 3600 }, small.limits)).toBe(true);
    expect(fitsQueue({ memory: 1001 }, small.limits)).toBe(false);
    expect(fitsQueue({ cores: 5 }, small.limits)).toBe(false);
    expect(fitsQueue({ gpus: 8 }, small.limits)).toBe(true);
  });

  it('coerces to the queue maximum and says which resources it changed', () => {
    expect(coerceToQueue({ memory: 1500, runtime: 60 }, small.limits)).toEqual({
      resources: { memory: 1000, runtime: 60 },
      coerced: ['memory'],
    });
  });

  it('stays on the current queue while the scaled resources fit', () => {
    const r = placeOnQueue({ memory: 900 }, small, [medium, large]);
    expect(r).toEqual({ resources: { memory: 900 }, queue: small, coerced: [] });
  });

  it('without fallbacks, coerces down to the current queue maximum', () => {
    const r = placeOnQueue({ memory: 1500, runtime: 5000 }, small, []);
    expect(r.queue).toBe(small);
    expect(r.resources).toEqual({ memory: 1000, runtime: 3600 });
    expect(r.coerced).toEqual(['memory', 'runtime']);
  });

  it('tries fallback queues in order and takes the first that fits', () => {
    expect(placeOnQueue({ memory: 1500 }, small, [medium, large]).queue).toBe(medium);
    expect(placeOnQueue({ memory: 5000 }, small, [medium, large]).queue).toBe(large);
    // Order is the user's: a large queue listed first wins even when a smaller one would do.
    expect(placeOnQueue({ memory: 1500 }, small, [large, medium]).queue).toBe(large);
  });

  it('when no queue fits, uses the last fallback with values coerced into its limits', () => {
    const r = placeOnQueue({ memory: 100_000, runtime: 60 }, small, [medium, large]);
    expect(r.queue).toBe(large);
    expect(r.resources).toEqual({ memory: 64000, runtime: 60 });
    expect(r.coerced).toEqual(['memory']);
  });

  it('ignores the current queue when it is listed among its fallbacks', () => {
    expect(placeOnQueue({ memory: 1500 }, medium, [small, medium]).queue).toBe(medium);
    expect(placeOnQueue({ memory: 5000 }, medium, [medium, large]).queue).toBe(large);
  });
});

describe('planRetry', () => {
  const queues = [small, medium, large];

  it('scales with the defaults and keeps the queue', () => {
    const plan = planRetry({
      resources: { memory: 100, runtime: 60 },
      resourceScales: {},
      fallbackQueues: [],
      queueId: 1,
      queues,
    });
    expect(plan).toEqual({ resources: { memory: 150, runtime: 90 }, queue: small, coerced: [] });
  });

  it('falls back by name, skipping names that are not queues of the cluster', () => {
    const plan = planRetry({
      resources: { memory: 800 },
      resourceScales: { memory: 1 },
      fallbackQueues: ['gone.q', 'medium.q'],
      queueId: 1,
      queues,
    });
    expect(plan.resources).toEqual({ memory: 1600 });
    expect(plan.queue).toBe(medium);
  });

  it('walks an explicit list attempt by attempt, then keeps its last value', () => {
    let res: Record<string, unknown> = { runtime: 60 };
    const seen: unknown[] = [];
    for (let k = 0; k < 4; k++) {
      res = planRetry({
        resources: res,
        resourceScales: { runtime: [120, 600, 1800] },
        fallbackQueues: [],
        queueId: 1,
        queues,
      }).resources;
      seen.push(res['runtime']);
    }
    expect(seen).toEqual([120, 600, 1800, 1800]);
  });
});
