// `jobmon workflow reset <workflow> [--partial] [--dry-run]`: the Operator's "start over" (POST
// /workflows/{id}/reset). Every task goes back to REGISTERING with fresh attempts (with --partial
// only the tasks not DONE and what is downstream of them), so that `jobmon workflow resume <id>`
// runs them again. Refused while a run of the workflow is live. History is kept.

import type { Command } from 'commander';
import { hostname, userInfo } from 'node:os';
import { cliConnect } from '../connect.js';
import { tableLines, useColour } from '../table.js';
import { jsonLine, printable } from '../text.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';

/** Who asks, for the event log (the server's authentication will vouch for it later). */
export function requestedBy(): { user?: string; host?: string } {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = undefined;
  }
  return { ...(user ? { user: user.slice(0, 255) } : {}), host: hostname().slice(0, 255) };
}

export function registerWorkflowReset(workflow: Command): void {
  workflow
    .command('reset')
    .description('start a workflow over: its tasks back to REGISTERING with fresh attempts (no run may be live)')
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .option('--partial', 'keep DONE tasks: reset only the tasks not DONE and every task downstream of them')
    .option('--dry-run', 'show what would be reset; change nothing')
    .option(
      '--json',
      'print JSON: {workflowId, name, partial, dryRun, workflowFrom, workflowTo, reset, kept, groups: [{template, from, count}]}',
    )
    .addHelpText(
      'after',
      `
Nothing runs until you resume: \`jobmon workflow resume <id>\` (or run the workflow's file again).
Task instances and their errors are kept. A workflow with a live run is refused (exit 2): stop it
first with \`jobmon workflow stop <id>\`.

Examples:
  jobmon workflow reset 42 --dry-run
  jobmon workflow reset 42 --partial && jobmon workflow resume 42
  jobmon workflow reset flu_2020 --json`,
    )
    .action(async (ref: string, opts: { partial?: boolean; dryRun?: boolean; json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const id = await resolveWorkflow(conn.api, ref);
        const r = await conn.api.resetWorkflow({
          id,
          body: { partial: opts.partial === true, dryRun: opts.dryRun === true, requestedBy: requestedBy() },
        });
        if (opts.json) {
          console.log(jsonLine(r, 2));
          return;
        }
        const verb = r.dryRun ? 'would reset' : 'reset';
        const kept = r.partial ? `; ${r.kept} DONE kept` : '';
        const wf = r.workflowFrom === r.workflowTo ? r.workflowTo : `${r.workflowFrom} → ${r.workflowTo}`;
        console.log(
          printable(
            `workflow ${r.workflowId} '${r.name}' (${wf}): ${verb} ${r.reset} task${r.reset === 1 ? '' : 's'} to REGISTERING${kept}`,
          ),
        );
        if (r.groups.length > 0) {
          console.log('');
          const rows = r.groups.map((g) => [g.template, g.from, String(g.count)]);
          for (const l of tableLines(['TEMPLATE', 'FROM', 'TASKS'], rows, { colour: useColour(), statusColumn: 1 }))
            console.log(l);
        }
        if (!r.dryRun && r.reset > 0) {
          console.log('');
          console.log(`run them: jobmon workflow resume ${r.workflowId}`);
        }
      } finally {
        await conn.close();
      }
    });
}
