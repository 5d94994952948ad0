// The embedded server's thread. The embedded default runs the server in a worker thread of the
// user's process, so the database and HTTP work proceeds on one core while the runner uses the
// other. It listens on 127.0.0.1 like any server; the parent talks to it over HTTP.

import { parentPort, workerData } from 'node:worker_threads';
import type { ClusterSpec } from '@jobmon/core';
import { startServer } from '@jobmon/server';

interface Init {
  db: string;
  runReportByMs: number;
  reaper: { intervalMs: number; graceMs: number; leaseMs?: number };
  eventPollMs: number;
  logFile: string;
  clusters: Record<string, ClusterSpec>;
  clustersOrigin: string;
}

const init = workerData as Init;
try {
  const server = await startServer({
    db: init.db,
    runReportByMs: init.runReportByMs,
    reaper: init.reaper,
    eventPollMs: init.eventPollMs,
    logFile: init.logFile,
    clusters: init.clusters,
    clustersOrigin: init.clustersOrigin,
  });
  parentPort!.postMessage({ url: server.url, location: server.db.location });
  parentPort!.on('message', (m: unknown) => {
    if (m === 'close') void server.close().then(() => parentPort!.postMessage('closed'));
  });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
