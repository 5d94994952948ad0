// `jobmon task why <id>` (GET /tasks/{id}/why): why a task is not running, or will or will not run
// on resume. explainTask() is the decision, a pure function of facts read by taskWhy(): the task,
// its latest attempt, its upstream tasks not DONE, its workflow's limits and live run, and the
// queues of its cluster. Every cause that holds is listed, the blocking one first:
//   1. where the task is now: DONE, RUNNING, LAUNCHED, or QUEUED (held for a concurrency slot or
//      waiting on its distributor);
//   2. why an ERROR_FATAL task ended: attempts spent, the infrastructure budget spent, or a fatal
//      verdict (a cluster's, or a kill);
//   3. upstream tasks not DONE, and tasks anywhere upstream (through tasks not DONE) that failed
//      for good, which hold it until they are fixed and the workflow resumed; a resource request
//      that no queue of its cluster can hold;
//   4. the workflow: stopped or without a live run (and what `jobmon workflow resume` would do
//      with this task), paused (limit 0, the workflow's or the template's), or at its limit;
//   5. waiting for resources to be adjusted, or for the server to retry it; else READY.

import {
  LIVE_RUN_STATES,
  NotFoundError,
  type ComputeResources,
  type LimitedResource,
  type QueueLimits,
  type TaskStatus,
  type WorkflowRunStatus,
  type WorkflowStatus,
  type TaskWhyResponseT,
  type WhyCauseT,
} from '@jobmon/core';
import { onDb, type Db } from '../db/connect.js';
import type { Q } from '../db/conn.js';
import { neighbourNodes, tasksOnNodes } from '../db/queries/dag.js';
import { fitsQueue } from './scaling.js';
import { chunks } from './tx.js';

type Cause = WhyCauseT;

/** Most upstream tasks a cause lists (the rest are counted). */
export const WHY_UPSTREAM_SHOWN = 20;
/** Most failed-for-good tasks upstream a cause lists (the rest are counted). */
export const WHY_FAILED_SHOWN = 10;
/** Most upstream tasks the walk for failed ones visits; past it the count is "at least". */
export const WHY_WALK_MAX = 10_000;
/** A limit this large is no limit (the default when a workflow sets none). */
const NO_LIMIT = 2_147_483_647;

export interface WhyFacts {
  /** Milliseconds since the epoch, as the server's clock reads. */
  now: number;
  task: {
    id: number;
    name: string;
    status: TaskStatus;
    statusAt: number;
    numAttempts: number;
    maxAttempts: number;
    infraFailures: number;
    maxInfraFailures: number;
    template: string;
    cluster: string;
    queue: string;
    resources: ComputeResources;
  };
  /** The newest attempt (task instance), null before the first. */
  latest: {
    id: number;
    attempt: number;
    status: string;
    createdAt: number;
    statusAt: number;
    nodeName: string | null;
    distributorId: string | null;
    errorClass: string | null;
  } | null;
  workflow: {
    id: number;
    name: string;
    status: WorkflowStatus;
    maxConcurrentlyRunning: number;
    /** Tasks handed to a distributor (INSTANTIATING, LAUNCHED, RUNNING): what the limit counts. */
    active: number;
  };
  /** This template's own limit in the workflow, with its active tasks; null when it has none. */
  template: { limit: number; active: number } | null;
  /** The run holding the workflow (in a LIVE_RUN_STATES state), null when none does. */
  liveRun: { id: number; status: WorkflowRunStatus } | null;
  /** The newest run of the workflow, live or not; null when it never ran. */
  lastRun: { id: number; status: WorkflowRunStatus } | null;
  /** Upstream tasks not DONE: the first WHY_UPSTREAM_SHOWN by id, and how many there are in all. */
  upstream: { notDone: { id: number; name: string; status: TaskStatus }[]; notDoneCount: number; total: number };
  /**
   * Tasks anywhere upstream that failed for good (ERROR_FATAL), reached through tasks not DONE (a
   * DONE task in between no longer waits on them): the first WHY_FAILED_SHOWN, nearest first, how
   * many the walk found, and whether it saw the whole upstream (false: cut at WHY_WALK_MAX).
   */
  failedUpstream: {
    tasks: { id: number; name: string; status: TaskStatus; depth: number }[];
    count: number;
    complete: boolean;
  };
  /** The queues of the task's cluster with their limits. */
  queues: { name: string; limits: QueueLimits }[];
}

/** "3 s", "4 min 10 s", "2 h 5 min", "3 d 4 h". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const ACTIVE_STATES: readonly TaskStatus[] = ['INSTANTIATING', 'LAUNCHED', 'RUNNING'];
/** States in which a task waits for the swarm to queue it (or to retry it). */
const WAITING_STATES: readonly TaskStatus[] = ['REGISTERING', 'ADJUSTING_RESOURCES', 'ERROR_RECOVERABLE'];

/** Which limited resources of `resources` fall outside `limits`, with the range each must be in. */
function misfits(resources: ComputeResources, limits: QueueLimits) {
  const out: { resource: LimitedResource; asked: number; range: readonly [number, number] }[] = [];
  for (const key of ['cores', 'memory', 'runtime'] as const) {
    const range = limits[key];
    const v = resources[key];
    if (range !== undefined && typeof v === 'number' && (v < range[0] || v > range[1]))
      out.push({ resource: key, asked: v, range });
  }
  return out;
}

const UNIT: Record<LimitedResource, string> = { cores: 'cores', memory: 'MiB memory', runtime: 's runtime' };

/** What `jobmon workflow resume` would do with this task (rebind: every task not DONE is reset). */
function onResume(task: WhyFacts['task']): string {
  if (task.status === 'DONE') return 'a resume keeps it DONE and does not run it again';
  const fresh = `a fresh set of ${task.maxAttempts} attempt${task.maxAttempts === 1 ? '' : 's'}`;
  const res = 'with the resources its first attempt asked for (--keep-resources: as its last attempt left them)';
  if (task.status === 'ERROR_FATAL') return `\`jobmon workflow resume\` would run it again with ${fresh}, ${res}`;
  if (task.status === 'REGISTERING' && task.numAttempts === 0)
    return `\`jobmon workflow resume\` would run it (${fresh}) once its upstream tasks are DONE`;
  return `\`jobmon workflow resume\` would reset it to REGISTERING and run it with ${fresh}, ${res}`;
}

/** Every cause that holds for the task, the blocking one first (see the file comment). Never empty. */
export function explainTask(f: WhyFacts): Cause[] {
  const { task: t, latest: l, workflow: w, now } = f;
  const causes: Cause[] = [];
  const add = (reason: Cause['reason'], message: string, details: Record<string, unknown> = {}) =>
    causes.push({ reason, message, details });
  const attemptNo = l ? `attempt ${l.attempt} (instance ${l.id})` : 'its attempt';
  const since = (at: number) => `${ago(now - at)} ago`;

  // 1. Where the task is now.
  if (t.status === 'DONE') {
    add('DONE', `the task is DONE (since ${since(t.statusAt)}); it will not run again, not even on resume`, {
      since: t.statusAt,
      attempts: t.numAttempts,
    });
    return causes;
  }
  const onNode = l?.nodeName ? ` on node ${l.nodeName}` : '';
  // An in-flight status with no live run is what a run that died left behind: nothing watches it.
  const orphan = f.liveRun === null ? '; no live run watches it any more' : '';
  if (t.status === 'RUNNING') {
    add('RUNNING', `the task is running now: ${attemptNo}${onNode}, started ${since(t.statusAt)}${orphan}`, {
      attempt: l?.attempt ?? null,
      instanceId: l?.id ?? null,
      since: t.statusAt,
      node: l?.nodeName ?? null,
      distributorId: l?.distributorId ?? null,
    });
  } else if (t.status === 'LAUNCHED' || t.status === 'INSTANTIATING') {
    const what =
      t.status === 'LAUNCHED'
        ? `submitted to cluster '${t.cluster}' (distributor id ${l?.distributorId ?? '-'})`
        : `being submitted to cluster '${t.cluster}' by its distributor`;
    add(
      'LAUNCHED',
      `${attemptNo} was ${what} ${since(t.statusAt)} and waits for the cluster to start it (queue '${t.queue}')${orphan}`,
      {
        attempt: l?.attempt ?? null,
        instanceId: l?.id ?? null,
        since: t.statusAt,
        waitingMs: now - t.statusAt,
        distributorId: l?.distributorId ?? null,
        queue: t.queue,
      },
    );
  }
  // A queued task held by the runner for a concurrency slot: the limit is what blocks it, so the
  // QUEUED cause follows the limit's (added after part 4).
  let queued: Cause | null = null;
  if (t.status === 'QUEUED') {
    const held =
      f.liveRun !== null &&
      (w.active >= w.maxConcurrentlyRunning || (f.template !== null && f.template.active >= f.template.limit));
    queued = {
      reason: 'QUEUED',
      message: held
        ? `${attemptNo} was queued ${since(t.statusAt)} and is held by the runner until a concurrency slot frees`
        : f.liveRun === null
          ? `${attemptNo} was queued ${since(t.statusAt)} by a run that is no longer live; no distributor will take it`
          : `${attemptNo} was queued ${since(t.statusAt)} and waits for its distributor (cluster '${t.cluster}') to take it`,
      details: {
        attempt: l?.attempt ?? null,
        instanceId: l?.id ?? null,
        since: t.statusAt,
        waitingMs: now - t.statusAt,
        held,
      },
    };
    if (!held) causes.push(queued);
  }

  // 2. Why a fatal task ended.
  if (t.status === 'ERROR_FATAL') {
    const spent = t.numAttempts >= t.maxAttempts;
    const infra = t.infraFailures >= t.maxInfraFailures;
    const counts = {
      attempts: t.numAttempts,
      maxAttempts: t.maxAttempts,
      infraFailures: t.infraFailures,
      maxInfraFailures: t.maxInfraFailures,
      lastErrorClass: l?.errorClass ?? null,
      lastInstanceStatus: l?.status ?? null,
    };
    if (infra)
      add(
        'INFRA_BUDGET_SPENT',
        `the task failed for good: ${t.infraFailures} of ${t.maxInfraFailures} infrastructure failures allowed were spent (nodes or the cluster failed, not its command)`,
        counts,
      );
    if (spent)
      add(
        'ATTEMPTS_SPENT',
        `the task failed for good: ${t.numAttempts} of ${t.maxAttempts} attempt${t.maxAttempts === 1 ? '' : 's'} spent${l?.errorClass ? `, the last with a${l.errorClass === 'application' || l.errorClass === 'infrastructure' ? 'n' : ''} ${l.errorClass} error` : ''}`,
        counts,
      );
    if (!spent && !infra)
      add(
        'FATAL',
        `the task failed for good with attempts left (${t.numAttempts} of ${t.maxAttempts}): its last attempt ended ${l?.status ?? 'unknown'}${l?.errorClass ? ` (${l.errorClass})` : ''}, which is not retried`,
        counts,
      );
  }

  if (t.status === 'ERROR_FATAL' && f.liveRun !== null)
    causes[causes.length - 1]!.message +=
      `; run ${f.liveRun.id} will not retry it: a resume would run it again with a fresh set of ${t.maxAttempts} attempt${t.maxAttempts === 1 ? '' : 's'}`;

  // 3. Its own preconditions: upstream tasks, a queue that can hold it.
  const unfinished = t.status !== 'ERROR_FATAL';
  const waiting = WAITING_STATES.includes(t.status);
  if (f.upstream.notDoneCount > 0 && (waiting || t.status === 'ERROR_FATAL')) {
    const shown = f.upstream.notDone.map((u) => `${u.id} '${u.name}' ${u.status}`).join(', ');
    const more = f.upstream.notDoneCount - f.upstream.notDone.length;
    const failed = f.upstream.notDone.filter((u) => u.status === 'ERROR_FATAL').length;
    add(
      'UPSTREAM_NOT_DONE',
      `${f.upstream.notDoneCount} of its ${f.upstream.total} upstream task${f.upstream.total === 1 ? '' : 's'} ${f.upstream.notDoneCount === 1 ? 'is' : 'are'} not DONE` +
        `${failed > 0 ? ` (${failed} of those listed failed for good)` : ''}: ${shown}${more > 0 ? ` and ${more} more` : ''}`,
      { upstream: f.upstream.notDone, count: f.upstream.notDoneCount, total: f.upstream.total },
    );
  }
  const fu = f.failedUpstream;
  if (fu.count > 0 && (waiting || t.status === 'ERROR_FATAL')) {
    const n = fu.complete ? String(fu.count) : `at least ${fu.count}`;
    const shown = fu.tasks
      .map((u) => `${u.id} '${u.name}' (${u.depth === 1 ? 'directly upstream' : `${u.depth} edges up`})`)
      .join(', ');
    const more = fu.count - fu.tasks.length;
    const first = fu.tasks[0];
    add(
      'UPSTREAM_FAILED',
      `${n} task${fu.count === 1 ? '' : 's'} upstream of it failed for good, so it will not run until ${fu.count === 1 ? 'that is' : 'they are'} fixed and the workflow resumed: ${shown}${more > 0 ? ` and ${more} more` : ''}` +
        `${first ? `; see \`jobmon task why ${first.id}\` and \`jobmon task logs ${first.id}\`` : ''}`,
      { failed: fu.tasks, count: fu.count, complete: fu.complete },
    );
  }
  if (t.status !== 'RUNNING' && f.queues.length > 0 && !f.queues.some((q) => fitsQueue(t.resources, q.limits))) {
    const perQueue = f.queues.map((q) => ({ queue: q.name, outside: misfits(t.resources, q.limits) }));
    const own = perQueue.find((q) => q.queue === t.queue) ?? perQueue[0]!;
    const what = own.outside
      .map((m) => `${m.asked} ${UNIT[m.resource]} is outside [${m.range[0]}, ${m.range[1]}]`)
      .join(', ');
    add(
      'NO_QUEUE_FITS',
      `its resource request fits no queue of cluster '${t.cluster}': on its queue '${own.queue}' ${what}` +
        `${f.queues.length > 1 ? ` (and ${f.queues.length - 1} other queue${f.queues.length === 2 ? ' does' : 's do'} not fit either)` : ''}; change the request or the queue's limits (\`jobmon cluster add\`)`,
      {
        cluster: t.cluster,
        queue: t.queue,
        resources: { cores: t.resources.cores, memory: t.resources.memory, runtime: t.resources.runtime },
        queues: perQueue,
      },
    );
  }

  // 4. The workflow.
  if (f.liveRun === null) {
    const stopped = w.status === 'HALTED';
    const last = f.lastRun ? `its last run ${f.lastRun.id} is ${f.lastRun.status}` : 'it has never run';
    add(
      stopped ? 'WORKFLOW_STOPPED' : 'NO_LIVE_RUN',
      `workflow ${w.id} is ${w.status} and no run is running it (${last}), so nothing of it runs; ${onResume(t)}`,
      {
        workflowStatus: w.status,
        lastRun: f.lastRun,
        onResume: t.status === 'ERROR_FATAL' ? 'rerun' : 'run',
        resetTo: 'REGISTERING',
        freshAttempts: t.maxAttempts,
      },
    );
  } else if (f.liveRun.status === 'COLD_RESUME' || f.liveRun.status === 'HOT_RESUME') {
    const cold = f.liveRun.status === 'COLD_RESUME';
    add(
      'WORKFLOW_STOPPED',
      `run ${f.liveRun.id} of workflow ${w.id} is stepping aside for a resume (${f.liveRun.status}): nothing new starts` +
        `${cold ? ', what runs is killed' : ', what runs may finish'}; then the new run takes the workflow over and ${onResume(t).replace('`jobmon workflow resume` would', 'would')}`,
      {
        workflowStatus: w.status,
        runId: f.liveRun.id,
        runStatus: f.liveRun.status,
        onResume: t.status === 'ERROR_FATAL' ? 'rerun' : 'run',
        freshAttempts: t.maxAttempts,
      },
    );
  } else if (unfinished && (waiting || t.status === 'QUEUED')) {
    const run = { runId: f.liveRun.id, runStatus: f.liveRun.status };
    if (w.maxConcurrentlyRunning === 0)
      add(
        'WORKFLOW_PAUSED',
        `workflow ${w.id} is paused (its concurrency limit is 0): nothing new starts until \`jobmon workflow concurrency ${w.id} <n>\``,
        { limit: 0, running: w.active, ...run },
      );
    else if (f.template !== null && f.template.limit === 0)
      add(
        'TEMPLATE_PAUSED',
        `template '${t.template}' is paused in workflow ${w.id} (its concurrency limit is 0): \`jobmon workflow concurrency ${w.id} --template ${t.template} <n>\``,
        { template: t.template, limit: 0, running: f.template.active, ...run },
      );
    else {
      if (w.active >= w.maxConcurrentlyRunning)
        add(
          'WORKFLOW_LIMIT',
          `workflow ${w.id} is at its concurrency limit: ${w.active} running of at most ${w.maxConcurrentlyRunning}`,
          { limit: w.maxConcurrentlyRunning, running: w.active, ...run },
        );
      if (f.template !== null && f.template.active >= f.template.limit)
        add(
          'TEMPLATE_LIMIT',
          `template '${t.template}' is at its concurrency limit in workflow ${w.id}: ${f.template.active} running of at most ${f.template.limit}`,
          { template: t.template, limit: f.template.limit, running: f.template.active, ...run },
        );
    }
  }

  if (queued !== null && !causes.includes(queued)) causes.push(queued);

  // 5. Transient waits.
  if (t.status === 'ADJUSTING_RESOURCES')
    add(
      'ADJUSTING_RESOURCES',
      `its ${attemptNo} hit a resource limit ${since(t.statusAt)}; it waits for its resources to be scaled up and to be queued again (${t.numAttempts} of ${t.maxAttempts} attempts spent)`,
      { since: t.statusAt, attempts: t.numAttempts, maxAttempts: t.maxAttempts, lastErrorClass: l?.errorClass ?? null },
    );
  if (t.status === 'ERROR_RECOVERABLE')
    add(
      'RETRY_PENDING',
      `its ${attemptNo} failed ${since(t.statusAt)}; the server is deciding whether to retry it (${t.numAttempts} of ${t.maxAttempts} attempts spent)`,
      { since: t.statusAt, attempts: t.numAttempts, maxAttempts: t.maxAttempts, lastErrorClass: l?.errorClass ?? null },
    );
  if (causes.length === 0)
    add(
      'READY',
      `nothing holds it: its upstream tasks are DONE and run ${f.liveRun?.id ?? '-'} has room; the runner queues it at its next pass`,
      { runId: f.liveRun?.id ?? null, waitingMs: now - t.statusAt },
    );
  return causes;
}

/** The active count: tasks a limit counts (handed to a distributor). */
export const isActive = (s: TaskStatus) => ACTIVE_STATES.includes(s);

// ---------------------------------------------------------------------------------------------
// Reading the facts. Every query is by key or index: the task by id; its instances by
// task_instance_task_ix; upstream edges by the edge primary key (dag_id, downstream_node_id) and
// their tasks by task_identity_uq (workflow_id, node_id); active counts by task_workflow_status_ix;
// runs by workflow_run_workflow_ix; the cluster's queues by queue_uq.

async function readFacts(q: Q, id: number): Promise<WhyFacts> {
  const db = q.db;
  const t = await db
    .selectFrom('task as t')
    .innerJoin('workflow as w', 'w.id', 't.workflow_id')
    .innerJoin('task_template_version as ttv', 'ttv.id', 't.task_template_version_id')
    .innerJoin('task_template as tt', 'tt.id', 'ttv.task_template_id')
    .innerJoin('cluster as c', 'c.id', 't.cluster_id')
    .innerJoin('queue as qu', 'qu.id', 't.queue_id')
    .select([
      't.id',
      't.name',
      't.status',
      't.status_at',
      't.num_attempts',
      't.max_attempts',
      't.infra_failures',
      't.max_infra_failures',
      't.resources',
      't.node_id',
      't.cluster_id',
      't.task_template_version_id',
      'tt.id as template_id',
      'tt.name as template',
      'c.name as cluster',
      'qu.name as queue',
      'w.id as workflow_id',
      'w.name as workflow_name',
      'w.status as workflow_status',
      'w.max_concurrently_running',
      'w.dag_id',
    ])
    .where('t.id', '=', id)
    .executeTakeFirst();
  if (!t) throw new NotFoundError(`task ${id} does not exist`, { taskId: id });
  const wfId = Number(t.workflow_id);

  const instances = await db
    .selectFrom('task_instance')
    .select(['id', 'status', 'created_at', 'status_at', 'node_name', 'distributor_id', 'error_class'])
    .where('task_id', '=', id)
    .orderBy('id', 'desc')
    .limit(1)
    .execute();
  let latest: WhyFacts['latest'] = null;
  if (instances[0]) {
    const n = await db
      .selectFrom('task_instance')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('task_id', '=', id)
      .executeTakeFirstOrThrow();
    const i = instances[0];
    latest = {
      id: Number(i.id),
      attempt: Number(n.n),
      status: i.status,
      createdAt: Number(i.created_at),
      statusAt: Number(i.status_at),
      nodeName: i.node_name,
      distributorId: i.distributor_id,
      errorClass: i.error_class,
    };
  }

  const active = await db
    .selectFrom('task')
    .select(['status', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('workflow_id', '=', wfId)
    .where('status', 'in', [...ACTIVE_STATES])
    .groupBy('status')
    .execute();
  const wfActive = active.reduce((s, r) => s + Number(r.n), 0);

  const tc = await db
    .selectFrom('template_concurrency')
    .select('max_concurrently_running')
    .where('workflow_id', '=', wfId)
    .where('task_template_id', '=', Number(t.template_id))
    .executeTakeFirst();
  let template: WhyFacts['template'] = null;
  if (tc && tc.max_concurrently_running < NO_LIMIT) {
    // The active tasks of the workflow (bounded by its limits), joined to their template.
    const r = await db
      .selectFrom('task as a')
      .innerJoin('task_template_version as v', 'v.id', 'a.task_template_version_id')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('a.workflow_id', '=', wfId)
      .where('a.status', 'in', [...ACTIVE_STATES])
      .where('v.task_template_id', '=', Number(t.template_id))
      .executeTakeFirstOrThrow();
    template = { limit: tc.max_concurrently_running, active: Number(r.n) };
  }

  const runs = await db
    .selectFrom('workflow_run')
    .select(['id', 'status'])
    .where('workflow_id', '=', wfId)
    .orderBy('id', 'desc')
    .limit(1)
    .execute();
  const live = await db
    .selectFrom('workflow_run')
    .select(['id', 'status'])
    .where('workflow_id', '=', wfId)
    .where('status', 'in', [...LIVE_RUN_STATES])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();

  const upBase = db
    .selectFrom('edge as e')
    .innerJoin('task as u', (j) => j.onRef('u.node_id', '=', 'e.upstream_node_id').on('u.workflow_id', '=', wfId))
    .where('e.dag_id', '=', Number(t.dag_id))
    .where('e.downstream_node_id', '=', Number(t.node_id));
  const upCounts = await upBase
    .select([
      (eb) => eb.fn.countAll<string | number>().as('total'),
      (eb) => eb.fn.sum<string | number>(eb.case().when('u.status', '<>', 'DONE').then(1).else(0).end()).as('open'),
    ])
    .executeTakeFirstOrThrow();
  const notDone = await upBase
    .select(['u.id', 'u.name', 'u.status'])
    .where('u.status', '<>', 'DONE')
    .orderBy('u.id')
    .limit(WHY_UPSTREAM_SHOWN)
    .execute();

  const waits = WAITING_STATES.includes(t.status as TaskStatus) || t.status === 'ERROR_FATAL';
  const failedUp =
    waits && Number(upCounts.open ?? 0) > 0
      ? await failedUpstream(q, Number(t.dag_id), wfId, Number(t.node_id))
      : { tasks: [], count: 0, complete: true };

  const queues = await db
    .selectFrom('queue')
    .select(['name', 'limits'])
    .where('cluster_id', '=', Number(t.cluster_id))
    .orderBy('id')
    .execute();

  let resources: ComputeResources = {};
  try {
    resources = JSON.parse(t.resources) as ComputeResources;
  } catch {
    resources = {};
  }
  return {
    now: Date.now(),
    task: {
      id: Number(t.id),
      name: t.name,
      status: t.status as TaskStatus,
      statusAt: Number(t.status_at),
      numAttempts: t.num_attempts,
      maxAttempts: t.max_attempts,
      infraFailures: t.infra_failures,
      maxInfraFailures: t.max_infra_failures,
      template: t.template,
      cluster: t.cluster,
      queue: t.queue,
      resources,
    },
    latest,
    workflow: {
      id: wfId,
      name: t.workflow_name,
      status: t.workflow_status as WorkflowStatus,
      maxConcurrentlyRunning: t.max_concurrently_running,
      active: wfActive,
    },
    template,
    liveRun: live ? { id: Number(live.id), status: live.status as WorkflowRunStatus } : null,
    lastRun: runs[0] ? { id: Number(runs[0].id), status: runs[0].status as WorkflowRunStatus } : null,
    upstream: {
      notDone: notDone.map((u) => ({ id: Number(u.id), name: u.name, status: u.status as TaskStatus })),
      notDoneCount: Number(upCounts.open ?? 0),
      total: Number(upCounts.total),
    },
    failedUpstream: failedUp,
    queues: queues.map((qu) => {
      let limits: QueueLimits = {};
      try {
        limits = JSON.parse(qu.limits) as QueueLimits;
      } catch {
        limits = {};
      }
      return { name: qu.name, limits };
    }),
  };
}

/**
 * Walk up from a node, level by level in batches (the edge primary key, then task_identity_uq), only
 * through tasks not DONE, and collect the ERROR_FATAL ones: nearest first, then by id. Visits at most
 * WHY_WALK_MAX tasks, so a task under a huge unfinished fan-in costs a bounded number of reads.
 */
async function failedUpstream(
  q: Q,
  dagId: number,
  workflowId: number,
  nodeId: number,
): Promise<WhyFacts['failedUpstream']> {
  const seen = new Set<number>([nodeId]);
  const found: WhyFacts['failedUpstream']['tasks'] = [];
  let count = 0;
  let complete = true;
  let frontier = [nodeId];
  for (let depth = 1; frontier.length > 0 && complete; depth++) {
    const next: number[] = [];
    for (const part of chunks(frontier, 1000)) {
      const limit = WHY_WALK_MAX + 1;
      const nodes = await neighbourNodes(q, dagId, part, 'up', limit);
      if (nodes.length >= limit) complete = false;
      const fresh = [...new Set(nodes)].filter((n) => !seen.has(n));
      for (const n of fresh) seen.add(n);
      const level: WhyFacts['failedUpstream']['tasks'] = [];
      for (const c of chunks(fresh, 1000))
        for (const r of await tasksOnNodes(q, workflowId, c)) {
          if (r.status === 'DONE') continue;
          next.push(Number(r.node_id));
          if (r.status === 'ERROR_FATAL') {
            count++;
            level.push({ id: Number(r.id), name: r.name, status: r.status, depth });
          }
        }
      level.sort((a, b) => a.id - b.id);
      found.push(...level.slice(0, Math.max(0, WHY_FAILED_SHOWN - found.length)));
      if (seen.size > WHY_WALK_MAX) {
        complete = false;
        break;
      }
    }
    frontier = next;
  }
  return { tasks: found, count, complete };
}

/** GET /tasks/{id}/why. */
export async function taskWhy(dbh: Db, id: number): Promise<TaskWhyResponseT> {
  const f = await readFacts(onDb(dbh), id);
  return {
    taskId: f.task.id,
    name: f.task.name,
    status: f.task.status,
    template: f.task.template,
    workflowId: f.workflow.id,
    workflowStatus: f.workflow.status,
    causes: explainTask(f),
  };
}
