// `jobmon task why <id>`: why a task is not running, or will or will not run on resume
// (GET /tasks/{id}/why). Every cause that holds is printed, the blocking one first, each with its
// stable code; the server decides them (server/src/services/why.ts). Text from the database goes
// through printable().

import type { Command } from 'commander';
import { positiveInt } from '../args.js';
import { cliConnect } from '../connect.js';
import { paint, paintStatus, useColour } from '../table.js';
import { jsonLine, printable } from '../text.js';

export function registerTaskWhy(task: Command): void {
  task
    .command('why')
    .description('say why a task is not running, or whether it will run on resume, and what holds it')
    .argument('<id>', 'task id', positiveInt)
    .option(
      '--json',
      'print JSON: {taskId, name, status, template, workflowId, workflowStatus, causes: [{reason, message, details}]}',
    )
    .addHelpText(
      'after',
      `
Causes (the "reason" codes of --json), the blocking one first:
  DONE, RUNNING, LAUNCHED, QUEUED          where the task is now (on which node, for how long)
  ATTEMPTS_SPENT, INFRA_BUDGET_SPENT, FATAL why a task failed for good
  UPSTREAM_NOT_DONE                         the upstream tasks it waits for (up to 20 listed)
  UPSTREAM_FAILED                           tasks anywhere upstream that failed for good (up to 10)
  NO_QUEUE_FITS                             its resources fit no queue of its cluster
  WORKFLOW_STOPPED, NO_LIVE_RUN             nothing runs the workflow (and what resume would do)
  WORKFLOW_PAUSED, TEMPLATE_PAUSED          a concurrency limit of 0
  WORKFLOW_LIMIT, TEMPLATE_LIMIT            a concurrency limit reached
  ADJUSTING_RESOURCES, RETRY_PENDING        waiting for scaled resources or for a retry
  READY                                     nothing holds it: the runner queues it next

Examples:
  jobmon task why 1234
  jobmon task why 1234 --json | jq -r '.causes[0].reason'`,
    )
    .action(async (id: number, opts: { json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const r = await conn.api.getTaskWhy({ id });
        if (opts.json) {
          console.log(jsonLine(r, 2));
          return;
        }
        const colour = useColour();
        const p = printable;
        console.log(
          `task ${r.taskId} '${p(r.name)}' (workflow ${r.workflowId} ${p(r.workflowStatus)}, template ${p(r.template)}): ${paintStatus(p(r.status), r.status, colour)}`,
        );
        const width = Math.max(...r.causes.map((c) => c.reason.length));
        r.causes.forEach((c, i) => {
          const code = paint(c.reason.padEnd(width), i === 0 ? '1' : undefined, colour);
          console.log(`  ${code}  ${p(c.message)}`);
        });
      } finally {
        await conn.close();
      }
    });
}
