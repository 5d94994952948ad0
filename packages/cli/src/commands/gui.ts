// `jobmon gui`: the web GUI's address. With JOBMON_URL (or a config file's url) the shared server
// serves the GUI itself: check that it answers and print its address. Otherwise start a server
// over the embedded database (~/.jobmon/jobmon.db, or JOBMON_DB) on 127.0.0.1 with local
// authentication (this host, this user) and keep it up until Ctrl-C.

import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '@jobmon/core';
import { serverOptions } from '../server-options.js';
import { port as parsePort } from '../args.js';
import { cliConnect } from '../connect.js';
import { printable } from '../text.js';

export function registerGui(program: Command): void {
  program
    .command('gui')
    .description('open the web GUI: print its address (starts a local server unless JOBMON_URL is set)')
    .option('--db <target>', 'SQLite file path or postgres:// URL (default: $JOBMON_DB or ~/.jobmon/jobmon.db)')
    .option('--port <port>', 'port of the local server (0 picks a free one)', parsePort, 0)
    .addHelpText(
      'after',
      `
Examples:
  jobmon gui                                 # a server on 127.0.0.1 over ~/.jobmon/jobmon.db; open the address it prints
  JOBMON_URL=http://host:8070 jobmon gui     # the shared server's GUI: prints its address`,
    )
    .action(async (opts: { db?: string; port: number }) => {
      const config = loadConfig(opts.db ? { db: opts.db } : {});
      if (config.url && !opts.db) {
        const conn = await cliConnect();
        try {
          await conn.api.health();
        } finally {
          await conn.close();
        }
        console.log(`Jobmon GUI: ${printable(config.url.replace(/\/+$/, ''))}/`);
        console.log(`(served by the server at ${printable(config.url)})`);
        return;
      }
      const { startServer } = await import('@jobmon/server');
      const server = await startServer({
        ...serverOptions(config),
        host: '127.0.0.1',
        port: opts.port,
        auth: { mode: 'local', user: userInfo().username },
      });
      console.log(`Jobmon GUI: ${server.url}/`);
      console.log(`database: ${printable(server.db.location)}`);
      console.log('this host only; Ctrl-C stops it');
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
