// The estimate of completion on inputs whose right answer is known by hand.

import { describe, expect, it } from 'vitest';
import { formatDuration as formatSeconds } from '@jobmon/core';
import { estimate, type TemplateWork } from './eta.js';

const t = (over: Partial<TemplateWork> & { templateId: number }): TemplateWork => ({
  name: `t${over.templateId}`,
  waiting: 0,
  running: 0,
  runningElapsedS: 0,
  runtimeS: 10,
  source: 'this workflow',
  ...over,
});

describe('estimate of completion', () => {
  it('a wide stage: work over concurrency (100 tasks × 10 s on 4 slots = 250 s)', () => {
    const { eta } = estimate({
      templates: [t({ templateId: 1, waiting: 96, running: 4, runningElapsedS: 0 })],
      edges: [],
      runningNow: 4,
      maxConcurrentlyRunning: 50,
      live: true,
    });
    expect(eta).toMatchObject({ seconds: 250, low: 250, high: 260 });
    expect(eta!.method).toMatch(/this workflow: 1 template/);
    expect(eta!.method).toMatch(/concurrency 4 \(4 running, limit 50\)/);
  });

  it('a chain: the critical path dominates (3 stages of 100 s, one task each, 8 slots)', () => {
    const { eta } = estimate({
      templates: [1, 2, 3].map((id) => t({ templateId: id, waiting: 1, runtimeS: 100 })),
      edges: [
        [1, 2],
        [2, 3],
      ],
      runningNow: 8,
      maxConcurrentlyRunning: 8,
      live: true,
    });
    expect(eta).toMatchObject({ seconds: 300, low: 300 });
    expect(eta!.high).toBe(Math.round(300 / 8 + 300));
  });

  it('running tasks count only their remaining share; finished templates weigh nothing', () => {
    const { eta } = estimate({
      templates: [
        t({ templateId: 1, running: 2, runningElapsedS: 6, runtimeS: 10 }),
        t({ templateId: 2, waiting: 0, running: 0 }), // all done
      ],
      edges: [[2, 1]],
      runningNow: 2,
      maxConcurrentlyRunning: 10,
      live: true,
    });
    expect(eta).toMatchObject({ seconds: 4, low: 4 });
  });

  it('a task running past its mean still has time left: a tenth of the mean, 1 s at least', () => {
    const est = (runtimeS: number, runningElapsedS: number) =>
      estimate({
        templates: [t({ templateId: 1, running: 1, runningElapsedS, runtimeS })],
        edges: [],
        runningNow: 1,
        maxConcurrentlyRunning: 10,
        live: true,
      }).eta!.seconds;
    expect(est(100, 250)).toBe(10);
    expect(est(3, 5)).toBe(1);
    expect(est(0.2, 5)).toBe(0); // a 0.2 s mean: at most the mean, rounded to whole seconds
    expect(est(100, 40)).toBe(60);
  });

  it('uses the runtime request, then the mean of the others, and says so', () => {
    const { eta } = estimate({
      templates: [
        t({ templateId: 1, waiting: 2, runtimeS: 30, source: 'runtime request' }),
        t({ templateId: 2, waiting: 2, runtimeS: undefined, source: 'unknown' }),
      ],
      edges: [],
      runningNow: 1,
      maxConcurrentlyRunning: 10,
      live: true,
    });
    expect(eta!.seconds).toBe(120);
    expect(eta!.method).toMatch(/runtime request: 1 template; no runtime known: 1 template, taken as the mean/);
  });

  it('gives no estimate, with the reason, when nothing advances or nothing is known; 0 when all is done', () => {
    const base = { edges: [] as [number, number][], runningNow: 0, maxConcurrentlyRunning: 10 };
    expect(estimate({ ...base, templates: [t({ templateId: 1, waiting: 3 })], live: false })).toEqual({
      eta: null,
      reason: 'no run is live: nothing advances until the workflow is resumed',
    });
    expect(
      estimate({ ...base, templates: [t({ templateId: 1, waiting: 3, runtimeS: undefined })], live: true }).reason,
    ).toMatch(/no runtime to go by/);
    expect(estimate({ ...base, templates: [t({ templateId: 1 })], live: false }).eta).toMatchObject({ seconds: 0 });
  });

  it('formats durations', () => {
    expect([formatSeconds(12), formatSeconds(250), formatSeconds(3_900)]).toEqual(['12s', '4m 10s', '1h 05m']);
  });
});
