// `jobmon task update <ids…> | --workflow W [--template T] [--attr k=v] --status DONE|REGISTERING
// [--recursive] [--dry-run]`: the Operator's "set the status of a set of tasks" (POST /tasks/status).
// DONE skips a task on resume (with --recursive, its upstream too, so the DAG stays consistent);
// REGISTERING runs it again (with --recursive, everything downstream too). Refused while a run of
// the workflow is live; tasks of several workflows in one call are refused by name.

import { InvalidArgumentError, type Command } from 'commander';
import { keyValue } from '../args.js';
import { oneStatus } from '../statuses.js';
import { cliConnect } from '../connect.js';
import { tableLines, useColour } from '../table.js';
import { jsonLine, printable } from '../text.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';
import { requestedBy } from './workflow-reset.js';

/** Rows listed in the human output; --json has up to 10,000. */
const ROWS_SHOWN = 50;

function taskId(v: string, previous: number[] = []): number[] {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(`a task id is a positive whole number, got '${v}'.`);
  return [...previous, n];
}

interface Opts {
  workflow?: string;
  template?: string;
  attr?: string[];
  status: 'DONE' | 'REGISTERING';
  recursive?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function registerTaskUpdate(task: Command): void {
  task
    .command('update')
    .description('set the status of tasks (DONE or REGISTERING) while no run of their workflow is live')
    .argument('[ids...]', 'task ids (all of one workflow); or select them with --workflow')
    .option('--workflow <workflow>', 'select tasks of this workflow (id or exact name)', workflowRef)
    .option('--template <name>', 'with --workflow: only tasks of this template')
    .option(
      '--attr <key=value>',
      'with --workflow: only tasks with this attribute (repeatable; all must hold)',
      keyValue,
    )
    .requiredOption(
      '--status <status>',
      'DONE (skip on resume) or REGISTERING (run again), any case',
      oneStatus('--status', 'DONE', 'REGISTERING'),
    )
    .option('--recursive', 'DONE: also every upstream task; REGISTERING: also every downstream task')
    .option('--dry-run', 'list what would change (id, name, template, old → new); change nothing')
    .option(
      '--json',
      'print JSON: {workflowId, name, status, recursive, dryRun, workflowFrom, workflowTo, selected, changed, unchanged, groups: [{template, from, count}], tasks: [{id, name, template, from, to}] (at most 10,000), truncated}',
    )
    .addHelpText(
      'after',
      `
Refused while a run of the workflow is live (exit 2): stop it first (jobmon workflow stop <id>).
Setting REGISTERING on a DONE workflow makes it resumable again. Nothing runs until you resume.

Examples:
  jobmon task update 17 --status DONE --dry-run
  jobmon task update 17 --status DONE --recursive && jobmon workflow resume 42
  jobmon task update --workflow 42 --template fit --attr year=2020 --status REGISTERING --recursive`,
    )
    .action(async (rawIds: string[], opts: Opts, cmd: Command) => {
      const usage = (msg: string): never => cmd.error(`error: ${msg}`, { exitCode: 2, code: 'jobmon.usage' });
      let ids: number[] = [];
      try {
        ids = rawIds.reduce<number[]>((acc, v) => taskId(v, acc), []);
      } catch (e) {
        usage((e as Error).message);
      }
      if (ids.length > 0 === (opts.workflow !== undefined))
        usage('give task ids or --workflow <workflow>, not both or neither.');
      if (ids.length > 0 && (opts.template !== undefined || opts.attr !== undefined))
        usage('--template and --attr select tasks within --workflow; give --workflow instead of ids.');
      if (ids.length > 10_000) usage(`at most 10,000 task ids at once, got ${ids.length}.`);
      const conn = await cliConnect();
      try {
        const attributes = Object.fromEntries(
          (opts.attr ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        );
        const body = {
          status: opts.status,
          recursive: opts.recursive === true,
          dryRun: opts.dryRun === true,
          requestedBy: requestedBy(),
          ...(ids.length > 0 ? { taskIds: ids } : { workflowId: await resolveWorkflow(conn.api, opts.workflow!) }),
          ...(opts.template !== undefined ? { template: opts.template } : {}),
          ...(opts.attr !== undefined ? { attributes } : {}),
        };
        const r = await conn.api.updateTasks({ body });
        if (opts.json) {
          console.log(jsonLine(r, 2));
          return;
        }
        const verb = r.dryRun ? 'would set' : 'set';
        const wf = r.workflowFrom === r.workflowTo ? r.workflowTo : `${r.workflowFrom} → ${r.workflowTo}`;
        const already = r.unchanged > 0 ? ` (${r.unchanged} already ${r.status})` : '';
        console.log(
          printable(
            `workflow ${r.workflowId} '${r.name}' (${wf}): ${verb} ${r.changed} task${r.changed === 1 ? '' : 's'} to ${r.status}${already}`,
          ),
        );
        if (r.tasks.length > 0) {
          console.log('');
          const rows = r.tasks
            .slice(0, ROWS_SHOWN)
            .map((t) => [String(t.id), t.name, t.template, `${t.from} → ${t.to}`]);
          for (const l of tableLines(['ID', 'NAME', 'TEMPLATE', 'CHANGE'], rows, { colour: useColour() }))
            console.log(l);
          const more = r.changed - Math.min(r.tasks.length, ROWS_SHOWN);
          if (more > 0) console.log(`… and ${more} more (--json lists up to 10,000)`);
        }
        if (!r.dryRun && r.changed > 0) {
          console.log('');
          console.log(`resume it: jobmon workflow resume ${r.workflowId}`);
        }
      } finally {
        await conn.close();
      }
    });
}
