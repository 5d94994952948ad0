// `jobmon workflow status <id>`: the workflow's status, its tasks grouped as `jobmon run` groups
// them (summary.ts) with the per-status detail, the last run, and failures. Names, statuses and
// messages come from the database and are printed through printable().

import type { Command } from 'commander';
import { cliConnect } from '../connect.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';
import { printFailures } from '../report.js';
import { outcome, outcomeLine } from '../summary.js';
import { jsonLine, printable } from '../text.js';

export function registerWorkflowStatus(workflow: Command): void {
  workflow
    .command('status')
    .description('show a workflow: status, task counts, last run, failed tasks')
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  jobmon workflow status 42
  jobmon workflow status flu_2020 --json`,
    )
    .action(async (ref: string, opts: { json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const wid = await resolveWorkflow(conn.api, ref);
        const detail = await conn.api.getWorkflow({ id: wid });
        const { errors } = await conn.api.getWorkflowErrors({ id: wid, query: { limit: 100 } });
        if (opts.json) {
          console.log(jsonLine({ ...detail, outcome: outcome(detail.counts), errors }, 2));
          return;
        }
        const out = (line: string) => console.log(printable(line));
        out(`workflow ${detail.id} '${detail.name}': ${detail.status}`);
        const byStatus = Object.entries(detail.counts)
          .map(([s, n]) => `${n} ${s}`)
          .join(', ');
        out(`  tasks: ${outcomeLine(outcome(detail.counts))}${byStatus === '' ? '' : ` (${byStatus})`}`);
        if (detail.lastRun) {
          const ago = Math.round((Date.now() - detail.lastRun.heartbeatAt) / 1000);
          out(`  last run: ${detail.lastRun.id} ${detail.lastRun.status} (heartbeat ${ago}s ago)`);
        }
        printFailures(errors);
        out(`state: ${conn.stateLocation}`);
      } finally {
        await conn.close();
      }
    });
}
