// `jobmon version`: this CLI's version and Node's, and the server's it would talk to (its version,
// database kind and id), or where it fails to reach it — the first thing to paste into a bug report.

import type { Command } from 'commander';
import { JOBMON_VERSION } from '@jobmon/core';
import { cliConnect } from '../connect.js';
import { jsonLine, printable } from '../text.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description("show this CLI's version and the server's (and its database)")
    .option('--json', 'print JSON: {cli, node, server: {version, db, databaseId, location} | null}')
    .option('--local', 'only this CLI: do not contact or start a server')
    .addHelpText(
      'after',
      `
Examples:
  jobmon version
  JOBMON_URL=http://jobmon.example.org:8070 jobmon version --json`,
    )
    .action(async (opts: { json?: boolean; local?: boolean }) => {
      const local = { cli: JOBMON_VERSION, node: process.version };
      let server: { version: string; db: string; databaseId: string; location: string } | null = null;
      if (!opts.local) {
        const conn = await cliConnect();
        try {
          const h = await conn.api.health();
          server = { version: h.version, db: h.db, databaseId: h.databaseId, location: conn.stateLocation };
        } finally {
          await conn.close();
        }
      }
      if (opts.json) {
        console.log(jsonLine({ ...local, server }));
        return;
      }
      console.log(`jobmon ${local.cli} (node ${local.node})`);
      if (server)
        console.log(
          printable(`server ${server.version}, ${server.db} database ${server.databaseId}: ${server.location}`),
        );
    });
}
