// `jobmon workflow list`: find workflows by name glob, user, tool, status, creation time, workflow
// args and attributes (GET /workflows), newest first, one page at a time. Names and users come from
// the database and are printed through printable().

import type { Command } from 'commander';
import type { WorkflowListItemT, WorkflowListQueryT } from '@jobmon/core';
import { keyValue, pointInTime, positiveInt } from '../args.js';
import { cliConnect } from '../connect.js';
import { workflowStatuses } from '../statuses.js';
import { jsonLine, printable } from '../text.js';

interface ListOptions {
  name?: string;
  user?: string;
  tool?: string;
  status?: string;
  since?: string;
  until?: string;
  arg?: string[];
  attr?: string[];
  limit?: number;
  cursor?: string;
  json?: boolean;
}

export function registerWorkflowList(workflow: Command): void {
  workflow
    .command('list')
    .description('find workflows, newest first')
    .option('--name <glob>', "name glob: * any run of characters, ? one (case-insensitive), e.g. 'flu_*'")
    .option('--user <user>', 'started by this user (any of its runs)')
    .option('--tool <tool>', "the tool's name")
    .option(
      '--status <statuses>',
      'one status or several, comma-separated, any case, e.g. FAILED,HALTED',
      workflowStatuses('--status'),
    )
    .option('--since <when>', 'created at or after: an age (30m, 12h, 2d, 1w) or a date (2026-12-01)', (v) =>
      pointInTime(v),
    )
    .option('--until <when>', 'created before: an age or a date', (v) => pointInTime(v))
    .option('--arg <key=value>', 'a workflow arg, exact (repeatable: all must hold)', keyValue)
    .option('--attr <key=value>', 'a workflow attribute, exact (repeatable)', keyValue)
    .option('--limit <n>', 'at most this many (1-1000; default 100)', positiveInt)
    .option('--cursor <cursor>', 'the next page, as a previous listing printed it')
    .option('--json', 'print JSON: {workflows: [...], nextCursor?}')
    .addHelpText(
      'after',
      `
Examples:
  jobmon workflow list --name 'flu_*' --status FAILED --since 2d
  jobmon workflow list --user alice --arg year=2020 --json`,
    )
    .action(async (opts: ListOptions) => {
      const query: Partial<WorkflowListQueryT> = {
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(opts.user !== undefined ? { user: opts.user } : {}),
        ...(opts.tool !== undefined ? { tool: opts.tool } : {}),
        ...(opts.status !== undefined ? { status: opts.status } : {}),
        ...(opts.since !== undefined ? { createdAfter: opts.since } : {}),
        ...(opts.until !== undefined ? { createdBefore: opts.until } : {}),
        ...(opts.arg !== undefined ? { arg: opts.arg } : {}),
        ...(opts.attr !== undefined ? { attribute: opts.attr } : {}),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
      };
      const conn = await cliConnect();
      try {
        const page = await conn.api.listWorkflows({ query });
        if (opts.json) {
          console.log(jsonLine(page, 2));
          return;
        }
        if (page.workflows.length === 0) console.log('no workflow matches');
        else for (const line of workflowListLines(page.workflows)) console.log(line);
        if (page.nextCursor !== undefined) console.log(printable(`more: add --cursor ${page.nextCursor}`));
        console.log(printable(`state: ${conn.stateLocation}`));
      } finally {
        await conn.close();
      }
    });
}

/** One line per workflow under a header, columns aligned; TASKS is done/total. */
export function workflowListLines(items: WorkflowListItemT[]): string[] {
  const rows = [
    ['ID', 'NAME', 'TOOL', 'USER', 'STATUS', 'TASKS', 'CREATED'],
    ...items.map((w) => [
      String(w.id),
      w.name,
      w.tool,
      w.user ?? '-',
      w.status,
      `${w.counts['DONE'] ?? 0}/${w.taskCount}`,
      localTime(w.createdAt),
    ]),
  ].map((r) => r.map(printable));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
