// `jobmon nodes [--window 24h]`: per node (the node name recorded on task instances), the
// instances created in the window, how many ended with an infrastructure-class error, the failure
// rate, and a flag on suspicious nodes (GET /nodes). Worst first.

import { InvalidArgumentError, type Command } from 'commander';
import { wire } from '@jobmon/core';
import { cliConnect } from '../connect.js';
import { localTime, paint, tableLines, useColour } from '../table.js';
import { jsonLine } from '../text.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30m`, `24h`, `7d`, `1w` → milliseconds (at most 30 days). */
export function windowMs(v: string): number {
  const m = /^(\d+)([mhdw])$/.exec(v.trim());
  const n = m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
  if (!(n >= 60_000 && n <= wire.MAX_REPORT_MS))
    throw new InvalidArgumentError(`must be a length of time such as 30m, 24h, 7d or 1w, at most 30d, got '${v}'.`);
  return n;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export function registerNodes(program: Command): void {
  program
    .command('nodes')
    .description('infrastructure failure rate per node, suspicious nodes first')
    .option('--window <length>', 'instances created in this last stretch of time (default 24h; up to 30d)', windowMs)
    .option(
      '--json',
      'print JSON: the GET /nodes answer, {windowMs, since, instances, infrastructureFailures, overallRate, nodeCount, nodes: [...]}',
    )
    .addHelpText(
      'after',
      `
An infrastructure failure is an instance that ended UNKNOWN_ERROR, NO_HEARTBEAT or NO_DISTRIBUTOR_ID
(not the command's fault). A node is suspicious when it has at least 3 of them and a failure rate at
least 3 times that of all other nodes together (any rate, when the others had none). Instances
without a node name (never started) are not counted.

Examples:
  jobmon nodes
  jobmon nodes --window 7d --json`,
    )
    .action(async (opts: { window?: number; json?: boolean }) => {
      const conn = await cliConnect();
      try {
        const r = await conn.api.listNodes({
          query: { ...(opts.window !== undefined ? { windowMs: opts.window } : {}) },
        });
        if (opts.json) {
          console.log(jsonLine(r, 2));
          return;
        }
        const since = `since ${localTime(r.since)}`;
        if (r.nodes.length === 0) {
          console.log(`no instances on a named node ${since}`);
          return;
        }
        console.log(
          `${r.instances} instances on ${r.nodeCount} nodes ${since}: ${r.infrastructureFailures} infrastructure failures (${pct(r.overallRate)})`,
        );
        const colour = useColour();
        const lines = tableLines(
          ['NODE', 'INSTANCES', 'INFRA FAILURES', 'RATE', 'LAST FAILURE', ''],
          r.nodes.map((n) => [
            n.nodeName,
            String(n.instances),
            String(n.infrastructureFailures),
            pct(n.failureRate),
            n.lastFailureAt === null ? '-' : localTime(n.lastFailureAt),
            n.suspicious ? 'SUSPICIOUS' : '',
          ]),
          { colour },
        );
        for (const [i, l] of lines.entries()) {
          const suspicious = i > 0 && r.nodes[i - 1]!.suspicious;
          console.log(suspicious ? paint(l, '31', colour) : l.trimEnd());
        }
        if (r.nodes.length < r.nodeCount) console.log(`… and ${r.nodeCount - r.nodes.length} more nodes`);
      } finally {
        await conn.close();
      }
    });
}
