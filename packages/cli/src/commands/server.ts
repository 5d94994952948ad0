// `jobmon server`: run a shared server over SQLite or PostgreSQL.

import { join } from 'node:path';
import type { Command } from 'commander';
import { configFile, loadConfig } from '@jobmon/core';
import { port as parsePort } from '../args.js';

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('run a Jobmon server (binds 127.0.0.1 unless told otherwise)')
    .option('--db <target>', 'SQLite file path or postgres:// URL (default: $JOBMON_DB or ~/.jobmon/jobmon.db)')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', parsePort, 7070)
    .addHelpText(
      'after',
      `
Examples:
  jobmon server                                              # SQLite at ~/.jobmon/jobmon.db, 127.0.0.1:7070
  jobmon server --db postgres://jobmon@db/jobmon --host 0.0.0.0 --port 8070
  JOBMON_URL=http://host:8070 jobmon workflow list            # then, from any machine`,
    )
    .action(async (opts: { db?: string; host: string; port: number }) => {
      const config = loadConfig(opts.db ? { db: opts.db } : {});
      const { startServer } = await import('@jobmon/server'); // only this command needs the server in this process
      const logFile = join(config.logDir, 'jobmon-server.log');
      const server = await startServer({
        db: config.db,
        host: opts.host,
        port: opts.port,
        logFile,
        runReportByMs: Math.round(config.runHeartbeatMs * config.reportByFactor),
        reaper: {
          intervalMs: config.reaperIntervalMs,
          graceMs: config.reaperGraceMs,
          ...(config.reaperLeaseMs > 0 ? { leaseMs: config.reaperLeaseMs } : {}),
        },
        eventPollMs: config.eventPollMs,
        clusters: config.clusters,
        clustersOrigin: `config file ${configFile()}`,
      });
      console.log(`jobmon server listening on ${server.url} (database: ${server.db.location})`);
      console.log(`clients: export JOBMON_URL=${server.url}`);
      console.log(`server log: ${logFile}`);
      const stop = () => {
        console.log('shutting down');
        void server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
