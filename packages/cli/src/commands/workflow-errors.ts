// `jobmon workflow errors <workflow>`: a workflow's failures grouped by cause (GET
// /workflows/{id}/error-groups): failures whose messages differ only in numbers, hex, paths, ids and
// quoted values are one line with a count, a sample, first and last seen, and their task ids.
// Messages are untrusted and printed through printable().

import type { Command } from 'commander';
import { positiveInt } from '../args.js';
import { cliConnect } from '../connect.js';
import { localTimeSeconds, paint, useColour } from '../table.js';
import { jsonLine, printable } from '../text.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';

/** Task ids listed per group; the rest are counted. */
const IDS_SHOWN = 20;
/** Lines of a sample shown; --json has all of it. */
const SAMPLE_LINES = 5;

export function registerWorkflowErrors(workflow: Command): void {
  workflow
    .command('errors')
    .description("a workflow's failures grouped by cause: count, sample, first and last seen, task ids")
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .option('--template <name>', 'only tasks of this task template')
    .option('--limit <n>', 'at most this many groups, the largest first (1-1000; default 100)', positiveInt)
    .option('--json', 'print JSON: the GET /workflows/{id}/error-groups answer, {groups: [...], failures, groupCount}')
    .addHelpText(
      'after',
      `
Numbers, hex, paths, URLs, ids and quoted values are replaced by <n>, <hex>, <path>, <url>, <id> and
'<q>' before grouping, so a thousand failures with one cause are one group.

Examples:
  jobmon workflow errors 42
  jobmon workflow errors flu_2020 --template fit --json`,
    )
    .action(async (ref: string, opts: { template?: string; limit?: number; json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const id = await resolveWorkflow(conn.api, ref);
        const r = await conn.api.getWorkflowErrorGroups({
          id,
          query: {
            ...(opts.template !== undefined ? { template: opts.template } : {}),
            ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
          },
        });
        if (opts.json) {
          console.log(jsonLine(r, 2));
          return;
        }
        if (r.groups.length === 0) {
          console.log(
            `workflow ${id}: no failures${opts.template !== undefined ? printable(` of template ${opts.template}`) : ''}`,
          );
          return;
        }
        const colour = useColour();
        const shown = r.groups.length < r.groupCount ? ` (the ${r.groups.length} largest shown)` : '';
        const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
        console.log(`workflow ${id}: ${plural(r.failures, 'failure')} in ${plural(r.groupCount, 'group')}${shown}`);
        for (const g of r.groups) {
          console.log('');
          console.log(`${paint(`${g.count}×`, '31', colour)} ${printable(`${g.errorClass}: ${g.pattern}`)}`);
          console.log(`  first ${localTimeSeconds(g.firstAt)}, last ${localTimeSeconds(g.lastAt)}`);
          // The server lists fewer ids per group when it returns many groups.
          const ids = g.taskIds.slice(0, IDS_SHOWN);
          const more = g.taskCount > ids.length ? ` and ${g.taskCount - ids.length} more` : '';
          console.log(`  tasks (${g.taskCount}): ${ids.join(', ')}${more}`);
          const sample = printable(g.sample).trimEnd().split('\n');
          console.log(`  sample:`);
          for (const l of sample.slice(-SAMPLE_LINES)) console.log(`    ${l}`);
        }
      } finally {
        await conn.close();
      }
    });
}
