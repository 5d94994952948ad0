// The task reads behind `jobmon task show`, `workflow tasks` and `workflow errors`, on SQLite and
// PostgreSQL: GET /tasks/{id} (every attempt with its error), GET /workflows/{id}/tasks (filters,
// cursor pages, the 10,000-row bound) and GET /workflows/{id}/error-groups (1,000 failures that
// differ only in numbers, paths and ids are one group; 3 different causes are 3).

import { beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { apiHelpers, testApp, type Bound } from './support.js';

const ctx = testApp('task-reads');
const { call, ok, runningWorkflow } = apiHelpers(() => ctx);

const SAME = 1000;
const CAUSES = ['MemoryError: out of memory', 'ValueError: year must be positive', "KeyError: 'region'"];

describe(`task reads on ${TEST_DB_KIND}`, () => {
  let w: Bound & { instances: number[] };
  beforeAll(async () => {
    w = await runningWorkflow(SAME + CAUSES.length + 1, { maxAttempts: 1 });
    const items = w.instances.map((id) => ({ id, to: 'RUNNING', via: ['INSTANTIATED', 'LAUNCHED'], nodeName: 'n1' }));
    await ok('POST', '/task-instances/transitions', { items });
    const ends = w.instances.map((id, i) => {
      if (i < SAME) {
        const hex = ((i * 2654435761) % 2 ** 32).toString(16).padStart(8, '0');
        return {
          id,
          to: 'ERROR',
          exitCode: 1 + (i % 3),
          errorMessage: `cannot open /data/run_${i}/part-${i * 7}.csv for task ${i} (job 0x${hex}, key '${hex}')`,
        };
      }
      if (i < SAME + CAUSES.length) return { id, to: 'ERROR', exitCode: 1, errorMessage: CAUSES[i - SAME] };
      return { id, to: 'DONE', exitCode: 0, wallTimeMs: 1234, peakMemoryBytes: 4096 };
    });
    const r = await ok('POST', '/task-instances/transitions', { items: ends });
    expect(r.results.every((x: { outcome: string }) => x.outcome === 'applied')).toBe(true);
  }, 120_000);

  it('groups 1,000 failures differing in numbers, paths and ids as one, and 3 other causes as 3', async () => {
    const r = await ok('GET', `/workflows/${w.workflowId}/error-groups`);
    expect(r.failures).toBe(SAME + CAUSES.length);
    expect(r.groupCount).toBe(1 + CAUSES.length);
    const [big, ...rest] = r.groups;
    expect(big).toMatchObject({ count: SAME, taskCount: SAME, errorClass: 'application' });
    expect(big.pattern).toBe("cannot open <path> for task <n> (job <hex>, key '<q>')");
    expect(big.taskIds).toEqual(w.tasks.slice(0, SAME));
    expect(big.sample).toMatch(/^cannot open \/data\/run_\d+\//);
    expect(big.firstAt).toBeLessThanOrEqual(big.lastAt);
    expect(rest.map((g: { pattern: string }) => g.pattern).sort()).toEqual(
      ["KeyError: '<q>'", 'MemoryError: out of memory', 'ValueError: year must be positive'].sort(),
    );
    expect(rest.every((g: { count: number }) => g.count === 1)).toBe(true);
    // The limit cuts the smallest groups; the template filter reads only that template's tasks.
    const top = await ok('GET', `/workflows/${w.workflowId}/error-groups?limit=1`);
    expect(top.groups).toHaveLength(1);
    expect(top.groupCount).toBe(4);
    expect((await ok('GET', `/workflows/${w.workflowId}/error-groups?template=step`)).failures).toBe(1003);
    expect(await ok('GET', `/workflows/${w.workflowId}/error-groups?template=nope`)).toEqual({
      groups: [],
      failures: 0,
      groupCount: 0,
    });
    expect((await call('GET', '/workflows/999999/error-groups')).status).toBe(404);
  });

  it('shows a task with every attempt, its error, resources, node and cluster', async () => {
    const failed = await ok('GET', `/tasks/${w.tasks[SAME]}`);
    expect(failed).toMatchObject({
      id: w.tasks[SAME],
      status: 'ERROR_FATAL',
      workflowId: w.workflowId,
      template: 'step',
      numAttempts: 1,
      maxAttempts: 1,
    });
    expect(failed.attempts).toHaveLength(1);
    expect(failed.attempts[0]).toMatchObject({
      attempt: 1,
      id: w.instances[SAME],
      status: 'ERROR',
      errorClass: 'application',
      exitCode: 1,
      nodeName: 'n1',
      cluster: 'local',
      clusterType: 'local',
      queue: 'null.q',
      errorMessage: CAUSES[0],
    });
    const done = await ok('GET', `/tasks/${w.tasks[w.tasks.length - 1]}`);
    expect(done.attempts[0]).toMatchObject({
      status: 'DONE',
      errorMessage: null,
      wallTimeMs: 1234,
      peakMemoryBytes: 4096,
    });
    const missing = await call('GET', '/tasks/999999');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/task 999999 does not exist/);
  });

  it('lists tasks filtered by statuses and template, in id order, paged by cursor, at most 10,000', async () => {
    const fatal = await ok('GET', `/workflows/${w.workflowId}/tasks?status=ERROR_FATAL&limit=600`);
    expect(fatal.tasks).toHaveLength(600);
    expect(fatal.tasks[0]).toMatchObject({ id: w.tasks[0], status: 'ERROR_FATAL', template: 'step' });
    const next = await ok(
      'GET',
      `/workflows/${w.workflowId}/tasks?status=ERROR_FATAL&limit=600&cursor=${fatal.nextCursor}`,
    );
    expect(next.tasks).toHaveLength(SAME + CAUSES.length - 600);
    expect(next.nextCursor).toBeUndefined();
    const ids = [...fatal.tasks, ...next.tasks].map((t: { id: number }) => t.id);
    expect(ids).toEqual(w.tasks.slice(0, SAME + CAUSES.length));
    const both = await ok('GET', `/workflows/${w.workflowId}/tasks?status=DONE,ERROR_FATAL&template=step&limit=10000`);
    expect(both.tasks).toHaveLength(w.tasks.length);
    expect((await ok('GET', `/workflows/${w.workflowId}/tasks?template=nope`)).tasks).toEqual([]);
    for (const [q, field] of [
      ['limit=10001', 'limit'],
      ['status=DONE,NOPE', 'status'],
      ['cursor=abc', 'cursor'],
      ['offset=5', 'offset'],
    ]) {
      const r = await call('GET', `/workflows/${w.workflowId}/tasks?${q}`);
      expect(r.status, q).toBe(400);
      expect(JSON.stringify(r.body), q).toContain(field);
    }
  });

  it.runIf(TEST_DB_KIND === 'sqlite')('reads through the indexes of migration 0008', async () => {
    const plan = async (q: string) =>
      (await sql.raw<{ detail: string }>(`explain query plan ${q}`).execute(ctx.db.kysely)).rows
        .map((r) => r.detail)
        .join('\n');
    expect(await plan('select id from task where workflow_id = 1 and id > 5 order by id limit 10')).toContain(
      'task_workflow_id_ix',
    );
    expect(
      await plan('select id, task_id from task_instance where workflow_id = 1 and id > 5 order by id limit 10'),
    ).toContain('task_instance_workflow_ix');
    expect(await plan("select id from workflow where name = 'x'")).toContain('workflow_name_ix');
  });
});
