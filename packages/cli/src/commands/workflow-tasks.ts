// `jobmon workflow tasks <workflow>`: a workflow's tasks in id order (GET /workflows/{id}/tasks),
// filtered by status and template, one page at a time. Names come from the database and are
// printed through printable() (tableLines does it).

import type { Command } from 'commander';
import { positiveInt } from '../args.js';
import { taskStatuses } from '../statuses.js';
import { cliConnect } from '../connect.js';
import { tableLines, useColour } from '../table.js';
import { jsonLine, printable } from '../text.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';

interface TasksOptions {
  status?: string;
  template?: string;
  limit?: number;
  cursor?: string;
  json?: boolean;
}

export function registerWorkflowTasks(workflow: Command): void {
  workflow
    .command('tasks')
    .description("list a workflow's tasks in id order, with status, template and attempts")
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .option(
      '--status <statuses>',
      'task statuses or groups, comma-separated, any case: a state (ERROR_FATAL, RUNNING…) or a group of workflow status (pending, scheduled, running, done, fatal or failed)',
      taskStatuses('--status'),
    )
    .option('--template <name>', "the task template's name")
    .option('--limit <n>', 'at most this many (1-10000; default 1000)', positiveInt)
    .option('--cursor <cursor>', 'the next page, as a previous listing printed it')
    .option('--json', 'print JSON: the GET /workflows/{id}/tasks answer, {tasks: [...], nextCursor?}')
    .addHelpText(
      'after',
      `
Examples:
  jobmon workflow tasks 42 --status ERROR_FATAL
  jobmon workflow tasks 42 --status failed,pending  # ERROR_FATAL, and REGISTERING, ERROR_RECOVERABLE, ADJUSTING_RESOURCES
  jobmon workflow tasks flu_2020 --template fit --limit 50 --json`,
    )
    .action(async (ref: string, opts: TasksOptions) => {
      const conn = await cliConnect();
      try {
        const id = await resolveWorkflow(conn.api, ref);
        // The workflow first: an unknown one is "not found", whatever the filters.
        await conn.api.getWorkflow({ id });
        const page = await conn.api.getWorkflowTasks({
          id,
          query: {
            ...(opts.status !== undefined ? { status: opts.status } : {}),
            ...(opts.template !== undefined ? { template: opts.template } : {}),
            ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
            ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
          },
        });
        if (opts.json) {
          console.log(jsonLine(page, 2));
          return;
        }
        if (page.tasks.length === 0) console.log('no task matches');
        else {
          const rows = page.tasks.map((t) => [
            String(t.id),
            t.name,
            t.template,
            t.status,
            `${t.numAttempts}/${t.maxAttempts}`,
            String(t.infraFailures),
          ]);
          const lines = tableLines(['ID', 'NAME', 'TEMPLATE', 'STATUS', 'ATTEMPTS', 'INFRA'], rows, {
            colour: useColour(),
            statusColumn: 3,
          });
          for (const line of lines) console.log(line);
        }
        if (page.nextCursor !== undefined) console.log(printable(`more: add --cursor ${page.nextCursor}`));
      } finally {
        await conn.close();
      }
    });
}
