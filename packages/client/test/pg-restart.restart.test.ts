// Restart PostgreSQL under a running workflow. It stops the database for everyone, so it runs alone
// (`npm run test:pg-restart`, called by .ci/run after the other lanes), never beside other tests.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { Tool, connect, type Connection, type InstanceDetailT } from '@jobmon/client';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { waitFor } from '../../../test-support/wait.js';

let db: TestDb;
let server: RunningServer;
let conn: Connection;

/** Asynchronous on purpose: the server and the runner live in this process and must keep running. */
async function restartPostgres(): Promise<void> {
  const version = readdirSync('/etc/postgresql')[0]!;
  await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart']);
}

beforeAll(async () => {
  db = await createTestDb('pgrestart');
  server = await startServer({ db: db.target, reaper: { intervalMs: 200, graceMs: 2_000 } });
  conn = await connect({
    url: server.url,
    config: {
      logDir: join(db.dir, 'logs'),
      runHeartbeatMs: 300,
      instanceHeartbeatMs: 200,
      reportByFactor: 3,
      http: { timeoutMs: 5_000, retries: 40, backoffMs: 50, maxBackoffMs: 200 },
    },
  });
});
afterAll(async () => {
  await conn?.close();
  await server?.close();
  await db?.drop();
});

describe('PostgreSQL restart', () => {
  it.runIf(TEST_DB_KIND === 'postgres')(
    'a database restart mid-run: requests are retried, nothing is lost or run twice',
    async () => {
      const trace = join(db.dir, 'trace.txt');
      const tool = new Tool('pg_restart_tool');
      const tt = tool.getTaskTemplate({ name: 'sh', commandTemplate: '{cmd}', nodeArgs: ['key'], opArgs: ['cmd'] });
      const wf = tool.createWorkflow({ name: 'pg_restart' });
      const tasks = Array.from({ length: 16 }, (_, i) =>
        tt.createTask({ key: `t${i}`, cmd: `echo t${i} >> ${trace}; sleep 0.25` }),
      );
      wf.addTasks(tasks);
      const running = wf.run({ connection: conn, handleSignals: false, parallelism: 2 });
      await waitFor(
        'some tasks to finish',
        () => existsSync(trace) && readFileSync(trace, 'utf8').split('\n').length > 4,
      );
      await restartPostgres();
      const r = await running;
      expect(r.status, JSON.stringify(r.errors)).toBe('DONE');
      const lines = readFileSync(trace, 'utf8').trim().split('\n');
      expect(lines.sort()).toEqual(tasks.map((_, i) => `t${i}`).sort());
      for (const t of tasks) {
        const inst = (await conn.requester.get<{ instances: InstanceDetailT[] }>(`/tasks/${t.id}/instances`)).instances;
        expect(inst.map((i) => i.status)).toEqual(['DONE']);
      }
    },
  );
});
