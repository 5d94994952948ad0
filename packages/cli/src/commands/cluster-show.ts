// `jobmon cluster show <name>`: one cluster's type, options and queues with their limits.

import type { Command } from 'commander';
import { clusterLines, clusterName } from '../cluster-text.js';
import { cliConnect } from '../connect.js';
import { jsonLine } from '../text.js';

export function registerClusterShow(cluster: Command): void {
  cluster
    .command('show')
    .description('show a cluster: type, options, queues and their limits')
    .argument('<name>', 'cluster name', clusterName)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  jobmon cluster show slurm
  jobmon cluster show hpc --json`,
    )
    .action(async (name: string, opts: { json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const c = await conn.api.getCluster({ name });
        if (opts.json) {
          console.log(jsonLine(c, 2));
          return;
        }
        for (const line of clusterLines(c)) console.log(line);
      } finally {
        await conn.close();
      }
    });
}
