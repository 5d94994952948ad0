// `jobmon audit [--workflow W] [--user U] [--since 2d] [--limit N]`: who changed what, when and from
// where, newest first, refusals included (status 401/403). User names, routes and addresses come
// from requests and are printed through printable().

import type { Command } from 'commander';
import { cliConnect } from '../connect.js';
import { pointInTime, positiveInt } from '../args.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';
import { localTimeSeconds, tableLines, useColour } from '../table.js';
import { jsonLine } from '../text.js';

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('who changed what, when and from where (refusals too), newest first')
    .option('--workflow <workflow>', 'only what acted on this workflow (id or exact name)', workflowRef)
    .option('--user <name>', 'only this user')
    .option('--since <when>', 'an age (30m, 12h, 2d, 1w) or a date (2026-12-01)', (v) => pointInTime(v))
    .option('--limit <n>', 'at most this many entries (≤ 10000)', positiveInt, 100)
    .option(
      '--json',
      'print {entries: [{id, at, user, via, tokenId, method, route, target, workflowId, status, address}], nextBefore?}',
    )
    .addHelpText(
      'after',
      `
Examples:
  jobmon audit --workflow flu_2020
  jobmon audit --user bob --since 2d --json

Recorded: every request that changes something or was refused, with the user, how they
authenticated (local, personal token, run token, share link) and the token's public id. The
reports of runners and workers on their own run are in the event log instead.`,
    )
    .action(async (opts: { workflow?: string; user?: string; since?: string; limit: number; json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const workflowId = opts.workflow === undefined ? undefined : await resolveWorkflow(conn.api, opts.workflow);
        const r = await conn.api.getAudit({
          query: {
            limit: Math.min(opts.limit, 10_000),
            ...(workflowId === undefined ? {} : { workflowId }),
            ...(opts.user === undefined ? {} : { user: opts.user }),
            ...(opts.since === undefined ? {} : { since: Date.parse(opts.since) }),
          },
        });
        if (opts.json) {
          process.stdout.write(jsonLine(r));
          return;
        }
        if (r.entries.length === 0) {
          console.log('nothing recorded');
          return;
        }
        const rows = r.entries.map((e) => [
          localTimeSeconds(e.at),
          e.user ?? '-',
          e.via + (e.tokenId ? ` ${e.tokenId}` : ''),
          `${e.method} ${e.route}`,
          e.target ?? '',
          e.workflowId === null ? '' : String(e.workflowId),
          String(e.status),
          e.address,
        ]);
        for (const l of tableLines(['WHEN', 'USER', 'HOW', 'WHAT', 'ID', 'WORKFLOW', 'STATUS', 'FROM'], rows, {
          colour: useColour(),
        }))
          console.log(l);
      } finally {
        await conn.close();
      }
    });
}
