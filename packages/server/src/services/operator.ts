// An operator's changes to a workflow's tasks while no run of it is live: `jobmon workflow reset`
// (every task, or with `partial` every task not DONE and what is downstream of one, back to
// REGISTERING with fresh attempts) and `jobmon task update` (a set of tasks to DONE or REGISTERING,
// with their upstream or downstream closure). Both are set-based: the selection is one SQL predicate
// (a recursive walk of the DAG where asked) and each (status → target) group moves in one guarded
// UPDATE, in one transaction, so a million tasks take a handful of statements. Each group's row count
// must match the count read under the workflow's lock; any difference means something else moved a
// task (a late report from an ended run) and the whole change rolls back. History (instances,
// errors) is never touched. One event per operation records it (entity workflow, actor operator).

import {
  IllegalTransitionError,
  NotFoundError,
  ValidationError,
  WorkflowNotResumableError,
  taskMachine,
  workflowMachine,
  type TaskStatus,
  type WorkflowStatus,
  wire,
} from '@jobmon/core';
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connect.js';
import { casWorkflowStatus, lockWorkflow } from '../db/queries/workflow.js';
import { liveRunDetail } from '../db/queries/workflow-run.js';
import { expectMoved } from './guarded.js';
import { reapLapsedRuns } from './runs.js';
import { withTx, type Tx } from './tx.js';

type Walk = 'none' | 'down' | 'up';

/** Which tasks of a workflow: `seed(alias)` is a predicate over a task row; the walk adds its closure. */
interface Selection {
  workflowId: number;
  dagId: number;
  seed: (alias: string) => RawBuilder<unknown>;
  walk: Walk;
}

/** The predicate over task alias `t` that selects `s`. */
function target(s: Selection): RawBuilder<unknown> {
  if (s.walk === 'none') return s.seed('t');
  const [from, to] =
    s.walk === 'down'
      ? [sql.ref('e.upstream_node_id'), sql.ref('e.downstream_node_id')]
      : [sql.ref('e.downstream_node_id'), sql.ref('e.upstream_node_id')];
  // UNION (not UNION ALL) keeps each node once, so the walk ends on any DAG (edge_upstream_ix, edge_pk).
  return sql`t.node_id IN (WITH RECURSIVE sel(node_id) AS (
      SELECT s.node_id FROM task s WHERE s.workflow_id = ${s.workflowId} AND ${s.seed('s')}
      UNION
      SELECT ${to} FROM edge e INNER JOIN sel ON ${from} = sel.node_id WHERE e.dag_id = ${s.dagId}
    ) SELECT node_id FROM sel)`;
}

interface Group {
  template: string;
  from: TaskStatus;
  count: number;
}

async function groups(tx: Tx, s: Selection): Promise<Group[]> {
  const rows = await sql<{ template: string; status: TaskStatus; n: number | string }>`
    SELECT tt.name AS template, t.status AS status, COUNT(*) AS n
    FROM task t
    INNER JOIN task_template_version v ON v.id = t.task_template_version_id
    INNER JOIN task_template tt ON tt.id = v.task_template_id
    WHERE t.workflow_id = ${s.workflowId} AND ${target(s)}
    GROUP BY tt.name, t.status
    ORDER BY tt.name, t.status`.execute(tx.db);
  return rows.rows.map((r) => ({ template: r.template, from: r.status, count: Number(r.n) }));
}

/**
 * Move every selected task in `from` to `to` in one statement (REGISTERING also gets fresh
 * attempts), checked against the count read before: a difference rolls everything back.
 */
async function moveGroup(tx: Tx, s: Selection, from: TaskStatus, to: TaskStatus, expected: number): Promise<void> {
  const fresh = to === 'REGISTERING' ? sql`, num_attempts = 0, infra_failures = 0` : sql``;
  const res = await sql`UPDATE task AS t SET status = ${to}, status_at = ${tx.now}${fresh}
    WHERE t.workflow_id = ${s.workflowId} AND t.status = ${from} AND ${target(s)}`.execute(tx.db);
  const moved = Number(res.numAffectedRows ?? 0);
  if (moved !== expected) {
    throw new IllegalTransitionError(
      `${expected - moved} task(s) of workflow ${s.workflowId} left ${from} while being set to ${to} ` +
        `(a late report from an ended run?); nothing was written, retry`,
      { entity: 'task', workflowId: s.workflowId, from, to, expected, moved },
    );
  }
}

/** The workflow, locked, with no live run (lapsed ones are ended first); else an error naming the run. */
async function idleWorkflow(tx: Tx, workflowId: number, what: string) {
  const wf = await lockWorkflow(tx, workflowId);
  if (!wf) throw new NotFoundError(`workflow ${workflowId} does not exist`, { workflowId });
  await reapLapsedRuns(tx, workflowId);
  const live = await liveRunDetail(tx, workflowId);
  if (live) {
    throw new WorkflowNotResumableError(
      `workflow ${workflowId} '${wf.name}' has a live run ${live.id} (${live.status}, pid ${live.pid} on ${live.host}); ` +
        `${what} only while no run is live: stop it first (jobmon workflow stop ${workflowId}) and wait for it to end`,
      { workflowId, runId: live.id, status: live.status, host: live.host, pid: live.pid },
    );
  }
  const dag = await tx.db
    .selectFrom('workflow')
    .select(['dag_id'])
    .where('id', '=', workflowId)
    .executeTakeFirstOrThrow();
  return { id: wf.id, name: wf.name, status: wf.status, dagId: Number(dag.dag_id) };
}

/** A task status an operator may set from `from`: a legal edge to `to` driven by an operator or a resume. */
function operatorMay(from: TaskStatus, to: TaskStatus): boolean {
  return taskMachine.edges.some(
    (e) => e.from === from && e.to === to && (e.actor === 'operator' || e.actor === 'client'),
  );
}

/** A DONE workflow whose tasks go back to REGISTERING goes back with them, so that a resume runs them. */
async function reopen(tx: Tx, wf: { id: number; status: WorkflowStatus }, moved: number): Promise<WorkflowStatus> {
  if (moved === 0 || wf.status !== 'DONE' || !workflowMachine.isLegal('DONE', 'REGISTERING')) return wf.status;
  const n = await casWorkflowStatus(tx, wf.id, 'DONE', 'REGISTERING', tx.now);
  await expectMoved(tx, 'workflow', [wf.id], n, ['DONE'], 'REGISTERING', 'its reset by an operator');
  return 'REGISTERING';
}

export async function resetWorkflow(
  db: Db,
  workflowId: number,
  req: { partial: boolean; dryRun: boolean; requestedBy?: { user?: string; host?: string } },
): Promise<wire.ResetResponseT> {
  return withTx(db, async (tx) => {
    const wf = await idleWorkflow(tx, workflowId, 'a workflow can be reset');
    const s: Selection = {
      workflowId,
      dagId: wf.dagId,
      seed: req.partial ? (a) => sql`${sql.ref(`${a}.status`)} <> 'DONE'` : () => sql`1 = 1`,
      walk: req.partial ? 'down' : 'none',
    };
    const all = await groups(tx, s);
    for (const g of all) {
      if (g.from !== 'REGISTERING' && !taskMachine.isLegal(g.from, 'REGISTERING'))
        throw new IllegalTransitionError(
          `${g.count} task(s) of template '${g.template}' are ${g.from}, which cannot go back to REGISTERING`,
          {
            entity: 'task',
            from: g.from,
            to: 'REGISTERING',
          },
        );
    }
    const reset = all.reduce((n, g) => n + g.count, 0);
    const total = Number(
      (
        await tx.db
          .selectFrom('task')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('workflow_id', '=', workflowId)
          .executeTakeFirstOrThrow()
      ).n,
    );
    let to = wf.status;
    if (!req.dryRun) {
      // Tasks already REGISTERING first (they only get fresh attempts), before others join them.
      const byStatus = new Map<TaskStatus, number>([['REGISTERING', 0]]);
      for (const g of all) byStatus.set(g.from, (byStatus.get(g.from) ?? 0) + g.count);
      for (const [from, n] of byStatus) if (n > 0) await moveGroup(tx, s, from, 'REGISTERING', n);
      to = await reopen(tx, wf, reset);
      tx.event({
        workflowId,
        entity: 'workflow',
        entityId: workflowId,
        from: wf.status,
        to,
        actor: 'operator',
        context: {
          operation: req.partial ? 'reset --partial' : 'reset',
          tasks: reset,
          groups: all,
          ...(req.requestedBy ? { requestedBy: req.requestedBy } : {}),
        },
      });
    } else if (reset > 0 && wf.status === 'DONE') {
      to = 'REGISTERING';
    }
    return {
      workflowId,
      name: wf.name,
      partial: req.partial,
      dryRun: req.dryRun,
      workflowFrom: wf.status,
      workflowTo: to,
      reset,
      kept: total - reset,
      groups: all,
    };
  });
}

/** The one workflow that holds all of `ids`; missing ids and ids of several workflows are refused by name. */
async function workflowOfTasks(tx: Tx, ids: readonly number[]): Promise<number> {
  const unique = [...new Set(ids)];
  const rows = await tx.db
    .selectFrom('task as t')
    .innerJoin('workflow as w', 'w.id', 't.workflow_id')
    .select(['t.id', 't.workflow_id', 'w.name'])
    .where('t.id', 'in', unique)
    .execute();
  if (rows.length < unique.length) {
    const found = new Set(rows.map((r) => Number(r.id)));
    const missing = unique.filter((i) => !found.has(i));
    throw new NotFoundError(`no task with id ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''}`, {
      taskIds: missing.slice(0, 100),
    });
  }
  const byWf = new Map<number, { name: string; ids: number[] }>();
  for (const r of rows) {
    const w = byWf.get(Number(r.workflow_id)) ?? { name: r.name, ids: [] };
    w.ids.push(Number(r.id));
    byWf.set(Number(r.workflow_id), w);
  }
  if (byWf.size > 1) {
    const parts = [...byWf].map(
      ([id, w]) =>
        `task${w.ids.length > 1 ? 's' : ''} ${w.ids.slice(0, 10).join(', ')}${w.ids.length > 10 ? ', …' : ''} in workflow ${id} '${w.name}'`,
    );
    throw new ValidationError(
      `the tasks belong to ${byWf.size} workflows (${parts.join('; ')}); update one workflow at a time`,
      {
        workflowIds: [...byWf.keys()],
      },
    );
  }
  return [...byWf.keys()][0]!;
}

export async function updateTasks(db: Db, req: wire.TaskUpdateRequestT): Promise<wire.TaskUpdateResponseT> {
  const byIds = req.taskIds !== undefined;
  if (byIds === (req.workflowId !== undefined))
    throw new ValidationError(
      'name the tasks either by id (taskIds) or by workflow (workflowId), not both or neither',
      {
        field: 'taskIds',
      },
    );
  if (byIds && (req.template !== undefined || req.attributes !== undefined))
    throw new ValidationError('template and attributes select tasks within a workflow: give workflowId, not taskIds', {
      field: 'template',
    });
  return withTx(db, async (tx) => {
    const workflowId = byIds ? await workflowOfTasks(tx, req.taskIds!) : req.workflowId!;
    const wf = await idleWorkflow(tx, workflowId, 'task statuses can be set');
    if (req.template !== undefined) {
      const templates = await tx.db
        .selectFrom('task as t')
        .innerJoin('task_template_version as v', 'v.id', 't.task_template_version_id')
        .innerJoin('task_template as tt', 'tt.id', 'v.task_template_id')
        .select(['tt.name'])
        .distinct()
        .where('t.workflow_id', '=', workflowId)
        .execute();
      if (!templates.some((t) => t.name === req.template))
        throw new NotFoundError(
          `workflow ${workflowId} has no task of template '${req.template}' (its templates: ${templates.map((t) => t.name).join(', ') || 'none'})`,
          { workflowId, template: req.template },
        );
    }
    const attrs = Object.entries(req.attributes ?? {});
    const seed = (a: string): RawBuilder<unknown> => {
      const parts: RawBuilder<unknown>[] = [];
      if (byIds) parts.push(sql`${sql.ref(`${a}.id`)} IN (${sql.join(req.taskIds!)})`);
      if (req.template !== undefined)
        parts.push(sql`${sql.ref(`${a}.task_template_version_id`)} IN (SELECT v2.id FROM task_template_version v2
          INNER JOIN task_template tt2 ON tt2.id = v2.task_template_id WHERE tt2.name = ${req.template})`);
      for (const [k, v] of attrs)
        parts.push(sql`EXISTS (SELECT 1 FROM task_attribute ta WHERE ta.task_id = ${sql.ref(`${a}.id`)}
          AND ta.name = ${k} AND ta.value = ${v})`);
      return parts.length === 0 ? sql`1 = 1` : sql.join(parts, sql` AND `);
    };
    const to = req.status;
    const s: Selection = {
      workflowId,
      dagId: wf.dagId,
      seed,
      walk: !req.recursive ? 'none' : to === 'DONE' ? 'up' : 'down',
    };
    const all = await groups(tx, s);
    const selected = all.reduce((n, g) => n + g.count, 0);
    if (selected === 0) {
      const filters = [
        req.template !== undefined ? `template '${req.template}'` : '',
        ...attrs.map(([k, v]) => `attribute ${k}=${v}`),
      ].filter((f) => f !== '');
      throw new NotFoundError(
        `no task of workflow ${workflowId} '${wf.name}' has ${filters.join(' and ') || 'those filters'}`,
        {
          workflowId,
        },
      );
    }
    const changes = all.filter((g) => g.from !== to);
    const bad = changes.find((g) => !operatorMay(g.from, to));
    if (bad) {
      const one = await sql<{ id: number | string; name: string }>`SELECT t.id, t.name FROM task t
        WHERE t.workflow_id = ${workflowId} AND t.status = ${bad.from} AND ${target(s)} ORDER BY t.id LIMIT 1`.execute(
        tx.db,
      );
      const t = one.rows[0];
      throw new IllegalTransitionError(
        `task ${t ? `${Number(t.id)} '${t.name}'` : '?'}${bad.count > 1 ? ` (and ${bad.count - 1} more of template '${bad.template}')` : ''} is ${bad.from}, ` +
          `which an operator cannot set to ${to}: an ended run left it in flight; resume the workflow or reset it first`,
        { entity: 'task', id: t ? Number(t.id) : null, from: bad.from, to },
      );
    }
    const changed = changes.reduce((n, g) => n + g.count, 0);
    const list = await sql<{ id: number | string; name: string; template: string; status: TaskStatus }>`
      SELECT t.id, t.name, tt.name AS template, t.status
      FROM task t
      INNER JOIN task_template_version v ON v.id = t.task_template_version_id
      INNER JOIN task_template tt ON tt.id = v.task_template_id
      WHERE t.workflow_id = ${workflowId} AND t.status <> ${to} AND ${target(s)}
      ORDER BY t.id LIMIT ${wire.TASK_UPDATE_MAX}`.execute(tx.db);
    let wfTo = wf.status;
    if (!req.dryRun && changed > 0) {
      const byStatus = new Map<TaskStatus, number>();
      for (const g of changes) byStatus.set(g.from, (byStatus.get(g.from) ?? 0) + g.count);
      for (const [from, n] of byStatus) await moveGroup(tx, s, from, to, n);
      if (to === 'REGISTERING') wfTo = await reopen(tx, wf, changed);
      tx.event({
        workflowId,
        entity: 'workflow',
        entityId: workflowId,
        from: wf.status,
        to: wfTo,
        actor: 'operator',
        context: {
          operation: 'task update',
          status: to,
          recursive: req.recursive,
          tasks: changed,
          groups: changes,
          ...(req.requestedBy ? { requestedBy: req.requestedBy } : {}),
        },
      });
    } else if (req.dryRun && to === 'REGISTERING' && changed > 0 && wf.status === 'DONE') {
      wfTo = 'REGISTERING';
    }
    return {
      workflowId,
      name: wf.name,
      status: to,
      recursive: req.recursive,
      dryRun: req.dryRun,
      workflowFrom: wf.status,
      workflowTo: wfTo,
      selected,
      changed,
      unchanged: selected - changed,
      groups: changes,
      tasks: list.rows.map((r) => ({ id: Number(r.id), name: r.name, template: r.template, from: r.status, to })),
      truncated: changed > list.rows.length,
    };
  });
}
