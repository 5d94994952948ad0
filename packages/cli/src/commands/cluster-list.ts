// `jobmon cluster list`: every cluster the server knows, with its type, queues and options.

import type { Command } from 'commander';
import { clusterListLines } from '../cluster-text.js';
import { cliConnect } from '../connect.js';
import { jsonLine, printable } from '../text.js';

export function registerClusterList(cluster: Command): void {
  cluster
    .command('list')
    .description('list clusters: name, type, queues, options')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  jobmon cluster list
  jobmon cluster list --json | jq -r '.clusters[].name'`,
    )
    .action(async (opts: { json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const { clusters } = await conn.api.listClusters();
        if (opts.json) {
          console.log(jsonLine({ clusters }, 2));
          return;
        }
        for (const line of clusterListLines(clusters)) console.log(line);
        console.log(printable(`state: ${conn.stateLocation}`));
      } finally {
        await conn.close();
      }
    });
}
