// `jobmon workflow share <wf> [--expires 14d]` / `jobmon workflow unshare <wf>`: a link that lets
// anyone who has it read one workflow and nothing else (the Distant Observer), and its revocation.
// The token rides in the link's fragment (#…), which browsers never send to a server or put in a
// Referer, so it stays out of access logs.

import type { Command } from 'commander';
import { cliConnect } from '../connect.js';
import { period } from '../args.js';
import { resolveWorkflow, workflowRef } from '../workflow-ref.js';
import { localTime } from '../table.js';
import { jsonLine } from '../text.js';

export function registerWorkflowShare(workflow: Command): void {
  workflow
    .command('share')
    .description('print a link that lets anyone who has it read this workflow, and nothing else')
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .option('--expires <period>', 'lifetime: 12h, 14d, 2w (at most a year)', period, 14 * 86_400_000)
    .option('--json', 'print {workflowId, tokenId, url, expiresAt}')
    .addHelpText(
      'after',
      `
Examples:
  jobmon workflow share flu_2020
  jobmon workflow share 42 --expires 30d

Only the workflow's owner, its operator group or an admin may share it. The link is shown once;
\`jobmon workflow unshare\` revokes every link of the workflow.`,
    )
    .action(async (ref: string, opts: { expires: number; json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const wid = await resolveWorkflow(conn.api, ref);
        const hours = Math.max(1, Math.round(opts.expires / 3_600_000));
        const s = await conn.api.shareWorkflow({ id: wid, body: { expiresInHours: hours } });
        const url = `${new URL(conn.url).origin}/share#${s.token}`;
        if (opts.json) {
          process.stdout.write(jsonLine({ workflowId: wid, tokenId: s.tokenId, url, expiresAt: s.expiresAt }));
          return;
        }
        console.log(url);
        process.stderr.write(
          `read-only link to workflow ${wid} until ${localTime(s.expiresAt)} (link ${s.tokenId}); revoke: jobmon workflow unshare ${wid}\n`,
        );
      } finally {
        await conn.close();
      }
    });
  workflow
    .command('unshare')
    .description('revoke every share link of a workflow')
    .argument('<workflow>', 'workflow id or exact name', workflowRef)
    .option('--json', 'print {workflowId, revoked}')
    .addHelpText('after', '\nExamples:\n  jobmon workflow unshare flu_2020')
    .action(async (ref: string, opts: { json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const wid = await resolveWorkflow(conn.api, ref);
        const r = await conn.api.unshareWorkflow({ id: wid });
        if (opts.json) process.stdout.write(jsonLine(r));
        else console.log(`workflow ${wid}: ${r.revoked} share link${r.revoked === 1 ? '' : 's'} revoked`);
      } finally {
        await conn.close();
      }
    });
}
