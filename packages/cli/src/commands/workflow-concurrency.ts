// `jobmon workflow concurrency <id> [--template T] <n>`: change how many tasks of a workflow (or of
// one of its templates) may run at once, also while it runs: its runner picks the new limit up
// from its next heartbeat's answer. 0 pauses it (nothing new starts; what runs goes on).

import { InvalidArgumentError, type Command } from 'commander';
import { cliConnect } from '../connect.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';
import { jsonLine, printable } from '../text.js';

function limitArg(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n) || n > 2_147_483_647)
    throw new InvalidArgumentError(`a limit is a whole number ≥ 0 (0 pauses), got '${v}'.`);
  return n;
}

export function registerWorkflowConcurrency(workflow: Command): void {
  workflow
    .command('concurrency')
    .description('set how many tasks of a workflow (or one template) run at once; live; 0 pauses')
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .argument('<n>', 'the new limit (0 pauses: nothing new starts, running tasks go on)', limitArg)
    .option('--template <name>', "the limit of this template's tasks instead of the workflow's")
    .option('--json', 'print JSON: {workflowId, template, limit, previous}')
    .addHelpText(
      'after',
      `
A running workflow's runner applies the new limit at its next heartbeat.

Examples:
  jobmon workflow concurrency 42 0                  # pause
  jobmon workflow concurrency 42 100                # resume at 100 at once
  jobmon workflow concurrency 42 --template align 8`,
    )
    .action(async (ref: string, limit: number, opts: { template?: string; json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const wid = await resolveWorkflow(conn.api, ref);
        const r = await conn.api.setWorkflowConcurrency({
          id: wid,
          body: { limit, ...(opts.template !== undefined ? { template: opts.template } : {}) },
        });
        if (opts.json) {
          console.log(jsonLine(r));
          return;
        }
        const what =
          r.template === null ? `workflow ${r.workflowId}` : `template '${r.template}' of workflow ${r.workflowId}`;
        const shown = (n: number) => (n >= 2_147_483_647 ? 'no limit' : String(n));
        console.log(
          printable(
            `${what}: at most ${shown(r.limit)} at once (was ${shown(r.previous)})${r.limit === 0 ? ': paused, nothing new starts' : ''}; a running workflow applies it at its next heartbeat`,
          ),
        );
      } finally {
        await conn.close();
      }
    });
}
