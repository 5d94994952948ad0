// The task reads behind `jobmon task show`, `workflow tasks` and `workflow errors`, on SQLite and
// PostgreSQL: GET /tasks/{id} (every attempt with its error), GET /workflows/{id}/tasks (filters,
// cursor pages, the 10,000-row bound), GET /workflows/{id}/error-groups (1,000 failures that
// differ only in numbers, paths and ids are one group; 3 different causes are 3) and
// GET /workflows/{id}/errors (the newest error per task), and the indexes they read through.

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

  it('answers the newest error per task, newest first, up to the limit (GET /workflows/{id}/errors)', async () => {
    // One batch failed them all at once: the latest-written, highest task id comes first.
    const newest = [w.tasks[SAME + 2], w.tasks[SAME + 1]];
    for (const q of ['limit=2', 'limit=2&all=true']) {
      const r = await ok('GET', `/workflows/${w.workflowId}/errors?${q}`);
      expect(
        r.errors.map((e: { taskId: number }) => e.taskId),
        q,
      ).toEqual(newest);
      expect(r.errors[0], q).toMatchObject({
        taskStatus: 'ERROR_FATAL',
        message: CAUSES[2],
        errorClass: 'application',
      });
    }
    const all = await ok('GET', `/workflows/${w.workflowId}/errors?limit=10000`);
    expect(all.errors).toHaveLength(SAME + CAUSES.length);
    expect(new Set(all.errors.map((e: { taskId: number }) => e.taskId)).size).toBe(SAME + CAUSES.length);
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

  it.runIf(TEST_DB_KIND === 'sqlite')('reads errors through the indexes of migration 0013, never sorting', async () => {
    const plan = async (q: string) =>
      (await sql.raw<{ detail: string }>(`explain query plan ${q}`).execute(ctx.db.kysely)).rows
        .map((r) => r.detail)
        .join('\n');
    // The groups, in one covering scan in group order.
    const groups = await plan(`select error_class, pattern, count(*), count(distinct task_id), min(at), max(at), max(id)
      from task_instance_error where workflow_id = 1 group by error_class, pattern`);
    expect(groups).toContain('COVERING INDEX task_instance_error_groups_ix');
    expect(groups).not.toContain('TEMP B-TREE FOR GROUP BY');
    const ids = await plan(`select distinct task_id from task_instance_error
      where workflow_id = 1 and error_class = 'application' and pattern = 'p' order by task_id limit 1000`);
    expect(ids).toContain('task_instance_error_groups_ix');
    expect(ids).not.toContain('TEMP B-TREE');
    // With --template: the template's tasks by task_ttv_ix.
    expect(
      await plan(`select count(*) from task_instance_error where workflow_id = 1 and task_id in
        (select id from task where workflow_id = 1 and task_template_version_id in (1, 2))`),
    ).toContain('task_ttv_ix');
    const newest = await plan(`select e.id from task_instance_error e where e.workflow_id = 1 and not exists
      (select 1 from task_instance_error n where n.task_id = e.task_id and n.id > e.id) order by e.id desc limit 100`);
    expect(newest).toContain('task_instance_error_wf_ix');
    expect(newest).toContain('task_instance_error_task_ix');
    expect(newest).not.toContain('TEMP B-TREE');
    const fatal = await plan(`select t.id, e.message from task t join task_instance_error e on e.id =
      (select max(n.id) from task_instance_error n where n.task_id = t.id)
      where t.workflow_id = 1 and t.status = 'ERROR_FATAL' order by t.status_at desc, t.id desc limit 100`);
    expect(fatal).toContain('task_status_at_ix');
    expect(fatal).toContain('task_instance_error_task_ix');
    expect(fatal).not.toContain('TEMP B-TREE');
  });
});
