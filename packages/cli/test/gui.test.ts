// `jobmon gui` as a user runs it: over the embedded database it starts a server on 127.0.0.1,
// prints the address, serves the GUI and the API there, and stops on SIGTERM; with JOBMON_URL it
// prints that server's GUI address once the server answers, and starts nothing.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, type TestDb } from '../../../test-support/db.js';
import { waitFor } from '../../../test-support/wait.js';
import { CLI, jobmon } from './cli.js';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb('cli-gui');
});
afterAll(async () => {
  await db?.drop();
});

describe('jobmon gui', () => {
  it('starts a local server over the embedded database, prints its address and serves the GUI there', async () => {
    const home = join(db.dir, 'home');
    const child = spawn(process.execPath, [CLI, 'gui'], {
      env: { ...process.env, JOBMON_HOME: home, JOBMON_DB: join(db.dir, 'embedded.db'), JOBMON_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await waitFor('the GUI address', () => /^Jobmon GUI: (http:\/\/\S+)$/m.exec(out)?.[1], 30_000);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(out).toContain(`database: ${join(db.dir, 'embedded.db')}`);
      for (const path of ['', 'workflows/1']) {
        const page = await fetch(`${url}${path}`);
        expect(page.status, path).toBe(200);
        expect(page.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      }
      const list = await fetch(`${url}api/v1/workflows`);
      expect(await list.json()).toEqual({ workflows: [] });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  describe('with JOBMON_URL', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ db: db.target, reaper: false });
    });
    afterAll(async () => {
      await server?.close();
    });

    it("prints the server's GUI address and exits", async () => {
      const r = await jobmon(['gui'], { JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home-url') });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Jobmon GUI: ${server.url}/`);
    });

    it('says so when that server does not answer', async () => {
      const r = await jobmon(['gui'], {
        JOBMON_URL: 'http://127.0.0.1:9',
        JOBMON_HOME: join(db.dir, 'home-down'),
        JOBMON_HTTP_RETRIES: '1',
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^jobmon: .*127\.0\.0\.1:9/m);
      expect(r.stdout).not.toContain('Jobmon GUI');
    });
  });
});
