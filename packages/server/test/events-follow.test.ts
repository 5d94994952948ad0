// Following the event log with a filter: a follower resumes from how far the log was read, not
// from its last match, so each read looks only at what is new (the runner follows its run's
// workflow_run events through thousands of task events; re-reading them all on every wake-up made
// the run quadratic). A full page still ends at its last event, so nothing is skipped.

import { afterEach, describe, expect, it } from 'vitest';
import { testHooks } from '../src/services/test-hooks.js';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { sleep } from '../../../test-support/wait.js';
import { apiHelpers, testApp } from './support.js';

const ctx = testApp('events-follow');
const { ok, runningWorkflow } = apiHelpers(() => ctx);

describe(`event log followers on ${TEST_DB_KIND}`, () => {
  afterEach(() => {
    delete testHooks.afterRead;
  });

  it('never pass an event whose transaction commits late: appends are ordered to commit', async () => {
    const w = await runningWorkflow(2);
    const { last: start } = await ok('GET', '/events/latest');
    // The first transaction to append events stops between its append and its commit.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let paused!: () => void;
    const isPaused = new Promise<void>((r) => (paused = r));
    let held = false;
    testHooks.afterRead = async (at) => {
      if (at !== 'events' || held) return;
      held = true;
      paused();
      await released;
    };
    const first = ok('POST', `/task-instances/${w.instances[0]}/transition`, { to: 'INSTANTIATED' });
    await isPaused;
    // A second transaction appends while the first is in flight; unordered, it would commit first.
    const second = ok('POST', `/task-instances/${w.instances[1]}/transition`, { to: 'INSTANTIATED' });
    await Promise.race([second, sleep(500)]);
    // A follower reads now (on SQLite, whose one connection the first transaction holds, as soon as it can).
    const reading = ok('GET', `/events?after=${start}&workflowId=${w.workflowId}&entity=task_instance`);
    await Promise.race([reading, sleep(300)]);
    release();
    const seen = await reading;
    await Promise.all([first, second]);
    const rest = await ok('GET', `/events?after=${seen.last}&workflowId=${w.workflowId}&entity=task_instance`);
    const heard = [...seen.events, ...rest.events].map(
      (e: { entityId: number; to: string }) => `${e.entityId}:${e.to}`,
    );
    expect(heard.sort()).toEqual([`${w.instances[0]}:INSTANTIATED`, `${w.instances[1]}:INSTANTIATED`].sort());
  });

  it('resume from the log end when fewer than a page matched, and miss nothing after it', async () => {
    const w = await runningWorkflow(2);
    const { last: start } = await ok('GET', '/events/latest');
    await ok('POST', `/task-instances/${w.instances[0]}/transition`, { to: 'INSTANTIATED' });
    const { last: end } = await ok('GET', '/events/latest');
    expect(end).toBeGreaterThan(start);

    const runs = await ok('GET', `/events?after=${start}&workflowId=${w.workflowId}&entity=workflow_run`);
    expect(runs).toEqual({ events: [], last: end });

    await ok('POST', `/task-instances/${w.instances[1]}/transition`, { to: 'INSTANTIATED' });
    const next = await ok('GET', `/events?after=${runs.last}&workflowId=${w.workflowId}&entity=task_instance`);
    expect(next.events.map((e: { entityId: number; to: string }) => [e.entityId, e.to])).toEqual([
      [w.instances[1], 'INSTANTIATED'],
    ]);
    expect(next.last).toBe((await ok('GET', '/events/latest')).last);
  });

  it('end a full page at its last event, so the next page starts right after it', async () => {
    const w = await runningWorkflow(1);
    const { last: start } = await ok('GET', '/events/latest');
    await ok('POST', `/task-instances/${w.instances[0]}/transition`, { to: 'INSTANTIATED' });
    await ok('POST', `/task-instances/${w.instances[0]}/transition`, { to: 'LAUNCHED' });
    const all = await ok('GET', `/events?after=${start}&workflowId=${w.workflowId}`);
    expect(all.events.length).toBeGreaterThanOrEqual(2);
    const page = await ok('GET', `/events?after=${start}&workflowId=${w.workflowId}&limit=1`);
    expect(page.events).toEqual([all.events[0]]);
    expect(page.last).toBe(all.events[0].seq);
    const rest = await ok('GET', `/events?after=${page.last}&workflowId=${w.workflowId}`);
    expect(rest.events).toEqual(all.events.slice(1));
  });
});
