// What `jobmon server` and `jobmon gui` start a server with, from the configuration: the database,
// the system log, the heartbeat deadlines, the reaper, the event poll and the config file's clusters.

import { join } from 'node:path';
import { configFile, type JobmonConfig } from '@jobmon/core';

export function serverOptions(config: JobmonConfig) {
  const logFile = join(config.logDir, 'jobmon-server.log');
  return {
    db: config.db,
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
  };
}
