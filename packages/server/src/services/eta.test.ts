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
    expect(eta!.method).toMatch(/concurrency 4 \(4 running now, limit 50\)/);
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

  it('a limit below what runs caps the rate: a limit lowered to 4 while 10 still run counts 4 slots', () => {
    const { eta } = estimate({
      // Left: 30 waiting × 10 s + 10 running with 5 s to go = 350 s, on 4 slots = 87.5 s.
      templates: [t({ templateId: 1, waiting: 30, running: 10, runningElapsedS: 5 })],
      edges: [],
      runningNow: 10,
      recentRunning: 9.6,
      recentWindowS: 60,
      maxConcurrentlyRunning: 4,
      live: true,
    });
    expect(eta).toMatchObject({ seconds: 88, low: 88, high: 98 });
    expect(eta!.method).toMatch(/concurrency 4 \(9\.6 on average over the last 1m 00s, 10 running now, limit 4\)/);
  });

  it('a diamond: the critical path follows the longer branch, not the sum of both', () => {
    // prep 20 s → {fit 100 s, check 10 s} → report 5 s, one task each, 8 slots: the path is
    // 20 + 100 + 5 = 125 s (not 35 s through check, not 135 s through both).
    const { eta } = estimate({
      templates: [
        t({ templateId: 1, waiting: 1, runtimeS: 20 }),
        t({ templateId: 2, waiting: 1, runtimeS: 100 }),
        t({ templateId: 3, waiting: 1, runtimeS: 10 }),
        t({ templateId: 4, waiting: 1, runtimeS: 5 }),
      ],
      edges: [
        [1, 2],
        [1, 3],
        [3, 4],
        [2, 4],
      ],
      runningNow: 8,
      maxConcurrentlyRunning: 8,
      live: true,
    });
    expect(eta).toMatchObject({ seconds: 125, low: 125, high: Math.round(135 / 8 + 125) });
    expect(eta!.method).toMatch(/critical path of what remains 2m 05s/);
  });

  it('nothing running while tasks wait: the rate of the last minute, not 1 slot, and no estimate when paused', () => {
    const waitingOnly = {
      // 40 tasks × 10 s wait on an upstream stage that just finished: nothing runs this instant.
      templates: [t({ templateId: 1, waiting: 40 }), t({ templateId: 2, waiting: 0 })],
      edges: [[2, 1]] as [number, number][],
      runningNow: 0,
      maxConcurrentlyRunning: 100,
      live: true,
    };
    // 4 ran on average over the last minute: 400 s of work on 4 slots.
    expect(estimate({ ...waitingOnly, recentRunning: 4, recentWindowS: 60 }).eta).toMatchObject({
      seconds: 100,
      low: 100,
      high: 110,
    });
    // Nothing measured yet (a run's first seconds): one slot, as the count now says nothing.
    expect(estimate(waitingOnly).eta).toMatchObject({ seconds: 400, high: 410 });
    // A limit lowered to 0 pauses the workflow: it will not finish until raised, whatever ran before.
    expect(estimate({ ...waitingOnly, recentRunning: 4, maxConcurrentlyRunning: 0 })).toEqual({
      eta: null,
      reason: 'the workflow is paused (concurrency limit 0): nothing new starts until it is raised',
    });
    // Paused with nothing waiting: what runs finishes; the limit does not matter.
    const draining = estimate({
      ...waitingOnly,
      templates: [t({ templateId: 1, running: 2, runningElapsedS: 4 })],
      runningNow: 2,
      maxConcurrentlyRunning: 0,
    });
    expect(draining.eta).toMatchObject({ seconds: 6 });
  });

  it('formats durations', () => {
    expect([formatSeconds(12), formatSeconds(250), formatSeconds(3_900)]).toEqual(['12s', '4m 10s', '1h 05m']);
  });
});
