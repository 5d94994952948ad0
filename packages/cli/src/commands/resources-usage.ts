// `jobmon resources usage --template T [--workflow W] [--node-arg k=v]`: runtime (wall time) and
// peak memory of a template's finished (DONE) instances, min/median/p90/max, and how much of what
// they asked they used (GET /resources/usage). Figures cover the newest 10,000 finished instances
// at most; the output says how many were sampled.

import type { Command } from 'commander';
import { keyValue } from '../args.js';
import { cliConnect } from '../connect.js';
import { bytes, duration, tableLines, useColour } from '../table.js';
import { jsonLine, printable } from '../text.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';

const pct = (v: number | null) => (v === null ? '-' : `${Math.round(v * 100)}%`);
const ms = (v: number | null) => (v === null ? '-' : duration(Math.round(v)));
const mem = (v: number | null) => (v === null ? '-' : bytes(Math.round(v)));

export function registerResourcesUsage(resources: Command): void {
  resources
    .command('usage')
    .description("runtime and peak memory of a template's finished tasks, and how much of what they asked they used")
    .requiredOption('--template <name>', 'the task template')
    .option('--workflow <workflow>', 'only this workflow (id or exact name)', workflowRef)
    .option('--tool <name>', "the template's tool, when its name exists in several tools")
    .option('--node-arg <key=value>', 'only tasks with this node arg (repeat for several; all must hold)', keyValue)
    .option(
      '--json',
      'print JSON: the GET /resources/usage answer, {template, tool, workflowId, nodeArgs, finished, sampled, runtimeMs, memoryBytes, utilisation}',
    )
    .addHelpText(
      'after',
      `
Finished means DONE. Figures are over the newest 10,000 finished instances at most ("sampled").
Percentiles are nearest-rank. Utilisation is used / requested per instance (wall time against its
runtime request, peak memory against its memory request, as asked after scaling), median and p90.

Examples:
  jobmon resources usage --template fit
  jobmon resources usage --template fit --workflow flu_2020 --node-arg location_id=7
  jobmon resources usage --template fit --tool epi --json`,
    )
    .action(
      async (opts: { template: string; workflow?: string; tool?: string; nodeArg?: string[]; json?: boolean }) => {
        const conn = await cliConnect();
        try {
          const workflowId = opts.workflow === undefined ? undefined : await resolveWorkflow(conn.api, opts.workflow);
          const r = await conn.api.resourceUsage({
            query: {
              template: opts.template,
              ...(opts.tool !== undefined ? { tool: opts.tool } : {}),
              ...(workflowId !== undefined ? { workflowId } : {}),
              ...(opts.nodeArg !== undefined ? { nodeArg: opts.nodeArg } : {}),
            },
          });
          if (opts.json) {
            console.log(jsonLine(r, 2));
            return;
          }
          const scope = [
            `template ${r.template} (tool ${r.tool})`,
            ...(r.workflowId !== null ? [`workflow ${r.workflowId}`] : []),
            ...Object.entries(r.nodeArgs).map(([k, v]) => `${k}=${v}`),
          ].join(', ');
          console.log(printable(scope));
          if (r.finished === 0) {
            console.log('no finished (DONE) instances');
            return;
          }
          console.log(
            r.sampled < r.finished
              ? `${r.finished} finished instances; figures over the newest ${r.sampled}`
              : `${r.finished} finished instances`,
          );
          console.log('');
          const colour = useColour();
          const rm = r.runtimeMs;
          const mb = r.memoryBytes;
          for (const l of tableLines(
            ['', 'COUNT', 'MIN', 'MEDIAN', 'P90', 'MAX'],
            [
              ['runtime', String(rm.count), ms(rm.min), ms(rm.median), ms(rm.p90), ms(rm.max)],
              ['peak memory', String(mb.count), mem(mb.min), mem(mb.median), mem(mb.p90), mem(mb.max)],
            ],
            { colour },
          ))
            console.log(`  ${l}`);
          console.log('');
          console.log('  used / requested:');
          const u = r.utilisation;
          for (const l of tableLines(
            ['', 'COUNT', 'MEDIAN', 'P90'],
            [
              ['runtime', String(u.runtime.count), pct(u.runtime.median), pct(u.runtime.p90)],
              ['memory', String(u.memory.count), pct(u.memory.median), pct(u.memory.p90)],
            ],
            { colour },
          ))
            console.log(`  ${l}`);
        } finally {
          await conn.close();
        }
      },
    );
}
