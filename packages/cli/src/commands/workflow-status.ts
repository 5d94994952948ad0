// `jobmon workflow status <id>`: counts by task status, the last run, and failures.

import type { Command } from 'commander';
import type { TaskErrorT, WorkflowDetailT } from '@jobmon/client';
import { cliConnect } from '../connect.js';
import { printFailures } from '../report.js';

export function registerWorkflowStatus(workflow: Command): void {
  workflow
    .command('status')
    .description('show a workflow: status, task counts, last run, failed tasks')
    .argument('<id>', 'workflow id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const wid = Number(id);
      if (!Number.isInteger(wid) || wid < 1) throw new Error(`workflow id must be a positive whole number, got '${id}'`);
      const conn = await cliConnect();
      try {
        const detail = await conn.requester.get<WorkflowDetailT>(`/workflows/${wid}`);
        const { errors } = await conn.requester.get<{ errors: TaskErrorT[] }>(`/workflows/${wid}/errors?limit=100`);
        if (opts.json) {
          console.log(JSON.stringify({ ...detail, errors }, null, 2));
          return;
        }
        console.log(`workflow ${detail.id} '${detail.name}': ${detail.status}`);
        console.log(`  tasks: ${detail.taskCount} — ${Object.entries(detail.counts).map(([s, n]) => `${n} ${s}`).join(', ')}`);
        if (detail.lastRun) {
          const ago = Math.round((Date.now() - detail.lastRun.heartbeatAt) / 1000);
          console.log(`  last run: ${detail.lastRun.id} ${detail.lastRun.status} (heartbeat ${ago}s ago)`);
        }
        printFailures(errors);
        console.log(`state: ${conn.stateLocation}`);
      } finally {
        await conn.close();
      }
    });
}
