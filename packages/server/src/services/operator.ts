// An operator's changes to a workflow's tasks while no run of it is live: `jobmon workflow reset`
// (every task, or with `partial` every task not DONE and what is downstream of one, back to
// REGISTERING with fresh attempts) and `jobmon task update` (a set of tasks to DONE or REGISTERING,
// with their upstream or downstream closure). Both are set-based: the selection is computed once in
// SQL (a recursive walk of the DAG where asked) and each (status → target) group moves in one guarded
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
import type { Db } from '../db/connect.js';
import {
  countSelection,
  dropSelection,
  everyTask,
  fillSelection,
  listSelection,
  matching,
  moveSelection,
  notDone,
  type TaskSelection,
} from '../db/queries/task-selection.js';
import { casWorkflowStatus, lockWorkflow } from '../db/queries/workflow.js';
import { liveRunDetail } from '../db/queries/workflow-run.js';
import { expectMoved } from './guarded.js';
import { reapLapsedRuns } from './runs.js';
import { afterRead } from './test-hooks.js';
import { withTx, type Tx } from './tx.js';

/**
 * Move every selected task in `from` to `to` in one statement, checked against the count read
 * before under the workflow's lock: a difference rolls everything back.
 */
async function moveGroup(tx: Tx, s: TaskSelection, from: TaskStatus, to: TaskStatus, expected: number): Promise<void> {
  await afterRead('operator', tx);
  const moved = await moveSelection(tx, s, from, to, tx.now);
  if (moved !== expected) {
    throw new IllegalTransitionError(
      `${Math.abs(expected - moved)} task(s) of workflow ${s.workflowId} moved from ${from} while being set to ${to} ` +
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
    const s: TaskSelection = {
      workflowId,
      dagId: wf.dagId,
      seed: req.partial ? notDone : everyTask,
      walk: req.partial ? 'down' : 'none',
    };
    await fillSelection(tx, s);
    const all = await countSelection(tx, s);
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
    await dropSelection(tx);
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
    const filter = {
      ...(byIds ? { ids: req.taskIds! } : {}),
      ...(req.template !== undefined ? { template: req.template } : {}),
      attributes: attrs,
    };
    const to = req.status;
    const s: TaskSelection = {
      workflowId,
      dagId: wf.dagId,
      seed: (a) => matching(a, filter),
      walk: !req.recursive ? 'none' : to === 'DONE' ? 'up' : 'down',
    };
    await fillSelection(tx, s);
    const all = await countSelection(tx, s);
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
      const [t] = await listSelection(tx, s, { status: bad.from, limit: 1 });
      throw new IllegalTransitionError(
        `task ${t ? `${t.id} '${t.name}'` : '?'}${bad.count > 1 ? ` (and ${bad.count - 1} more of template '${bad.template}')` : ''} is ${bad.from}, ` +
          `which an operator cannot set to ${to}: an ended run left it in flight; resume the workflow or reset it first`,
        { entity: 'task', id: t?.id ?? null, from: bad.from, to },
      );
    }
    const changed = changes.reduce((n, g) => n + g.count, 0);
    const list = await listSelection(tx, s, { except: to, limit: wire.TASK_UPDATE_MAX });
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
    await dropSelection(tx);
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
      tasks: list.map((r) => ({ id: r.id, name: r.name, template: r.template, from: r.status, to })),
      truncated: changed > list.length,
    };
  });
}
