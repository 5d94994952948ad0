// `jobmon workflow stop <id> [--drain]`: ask the run that holds a workflow to stop — killing its
// running tasks, or with --drain letting them finish while nothing new starts — and wait for it.

import type { Command } from 'commander';
import { cliConnect } from '../connect.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';
import { jsonLine, printable } from '../text.js';

export function registerWorkflowStop(workflow: Command): void {
  workflow
    .command('stop')
    .description('stop the live run of a workflow (kills its running tasks; --drain lets them finish)')
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .option('--drain', 'let running tasks finish; start nothing new')
    .option('--no-wait', 'return once the run has been asked, without waiting for it to end')
    .option('--json', 'print one JSON line at the end: {workflowId, runId, drain, runStatus, workflowStatus}')
    .addHelpText(
      'after',
      `
Examples:
  jobmon workflow stop 42
  jobmon workflow stop flu_2020 --drain --no-wait

--json: runId is null when no run was live; runStatus is the run's status when the command
returned (its last status after the wait, or the one it was asked in with --no-wait).`,
    )
    .action(async (ref: string, opts: { drain?: boolean; wait: boolean; json?: boolean }) => {
      const conn = await cliConnect();
      const say = (s: string) => {
        if (!opts.json) console.log(printable(s));
      };
      const answer = async (wid: number, runId: number | null, runStatus: string | null) => {
        if (!opts.json) return;
        const d = await conn.api.getWorkflow({ id: wid });
        console.log(jsonLine({ workflowId: wid, runId, drain: !!opts.drain, runStatus, workflowStatus: d.status }));
      };
      try {
        const wid = await resolveWorkflow(conn.api, ref);
        const r = await conn.api.resumeWorkflow({ id: wid, body: { mode: opts.drain ? 'hot' : 'cold' } });
        if (r.runId === null) {
          say(`workflow ${wid} has no live run; nothing to stop`);
          await answer(wid, null, null);
          return;
        }
        say(
          `asked run ${r.runId} to stop (${opts.drain ? 'draining: running tasks finish' : 'killing running tasks'}); its runner acts at its next heartbeat`,
        );
        if (!opts.wait) {
          await answer(wid, r.runId, r.status);
          return;
        }
        for (;;) {
          const d = await conn.api.getWorkflow({ id: wid });
          if (
            d.lastRun &&
            d.lastRun.id === r.runId &&
            !['COLD_RESUME', 'HOT_RESUME', 'RUNNING'].includes(d.lastRun.status)
          ) {
            say(`run ${r.runId} ended ${d.lastRun.status}; workflow ${wid} is ${d.status}. Run it again to resume.`);
            await answer(wid, r.runId, d.lastRun.status);
            return;
          }
          await new Promise((res) => setTimeout(res, 500));
        }
      } finally {
        await conn.close();
      }
    });
}
