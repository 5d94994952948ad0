// `jobmon config show|set|unset` and `jobmon version` as a user runs them: the built CLI, its own
// JOBMON_HOME, the file it writes read back, and the server it reports (on both databases).

import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBMON_VERSION } from '@jobmon/core';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { jobmon as cli } from './cli.js';

let db: TestDb;
let server: RunningServer;
let home: string;

beforeAll(async () => {
  db = await createTestDb('cli-config');
  server = await startServer({ db: db.target });
  home = join(db.dir, 'home');
  mkdirSync(home, { recursive: true });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

// No JOBMON_* from the test's own environment: only what each case sets.
const clean = Object.fromEntries(
  Object.keys(process.env)
    .filter((k) => k.startsWith('JOBMON_'))
    .map((k) => [k, undefined]),
);
const jobmon = (args: string[], env: NodeJS.ProcessEnv = {}) => cli(args, { ...clean, JOBMON_HOME: home, ...env });
const configPath = () => join(home, 'config.json');

describe('jobmon config', () => {
  it('show lists every setting with its source: default, file, environment', async () => {
    writeFileSync(configPath(), JSON.stringify({ http: { timeoutMs: 45000 } }));
    const r = await jobmon(['config', 'show', '--json'], { JOBMON_LOG_DIR: '/srv/logs' });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; settings: { key: string; value: unknown; source: string }[] };
    expect(out.file).toBe(configPath());
    const by = new Map(out.settings.map((s) => [s.key, s]));
    expect(by.get('http.timeoutMs')).toMatchObject({ value: 45000, source: 'file' });
    expect(by.get('logDir')).toMatchObject({ value: '/srv/logs', source: 'env', envName: 'JOBMON_LOG_DIR' });
    expect(by.get('http.retries')).toMatchObject({ value: 8, source: 'default' });
    const human = await jobmon(['config', 'show'], { JOBMON_LOG_DIR: '/srv/logs' });
    expect(human.stdout).toMatch(/^logDir\s+\/srv\/logs\s+env JOBMON_LOG_DIR$/m);
    expect(human.stdout).toMatch(/^http\.timeoutMs\s+45000\s+file$/m);
  });

  it('set writes the file, checked first; unset removes the setting; passwords are masked', async () => {
    writeFileSync(configPath(), '{}');
    const set = await jobmon(['config', 'set', 'http.retries', '3']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(readFileSync(configPath(), 'utf8'))).toEqual({ http: { retries: 3 } });
    expect(statSync(configPath()).mode & 0o077).toBe(0);

    const url = await jobmon(['config', 'set', 'db', 'postgres://jm:s3cret@db.example.org/jobmon']);
    expect(url.stdout).toContain('postgres://jm:***@db.example.org/jobmon');
    expect(url.stdout).not.toContain('s3cret');
    const show = await jobmon(['config', 'show']);
    expect(show.stdout).not.toContain('s3cret');

    const unset = await jobmon(['config', 'unset', 'db']);
    expect(unset.code, unset.stderr).toBe(0);
    expect(JSON.parse(readFileSync(configPath(), 'utf8'))).toEqual({ http: { retries: 3 } });
  });

  it.each([
    ['an unknown setting', ['config', 'set', 'timeout', '5'], /unknown setting 'timeout'; the settings are: url, db/],
    ['a bad number', ['config', 'set', 'http.timeoutMs', 'soon'], /http\.timeoutMs=soon must be a positive number/],
    ['a cluster', ['config', 'set', 'clusters.hpc', 'x'], /use `jobmon cluster add`/],
  ])('refuses %s: exit 2, the file unchanged', async (_label, args, message) => {
    writeFileSync(configPath(), '{"http":{"retries":3}}');
    const r = await jobmon(args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(readFileSync(configPath(), 'utf8')).toBe('{"http":{"retries":3}}');
  });

  it('a config file with a mistake is named: exit 2', async () => {
    writeFileSync(configPath(), '{"http": ');
    const r = await jobmon(['config', 'show']);
    expect(r.stderr).toContain(`config file ${configPath()} is not valid JSON`);
    expect(r.code).toBe(2);
    writeFileSync(configPath(), '{}');
  });
});

describe(`jobmon version on ${TEST_DB_KIND}`, () => {
  it("names this CLI's version and the server's, with its database", async () => {
    const r = await jobmon(['version', '--json'], { JOBMON_URL: server.url });
    expect(r.code, r.stderr).toBe(0);
    const health = (await (await fetch(`${server.url}/api/v1/health`)).json()) as Record<string, unknown>;
    expect(JSON.parse(r.stdout)).toEqual({
      cli: JOBMON_VERSION,
      node: process.version,
      server: {
        version: health['version'],
        db: TEST_DB_KIND,
        databaseId: health['databaseId'],
        location: `server ${server.url}`,
      },
    });
    const human = await jobmon(['version'], { JOBMON_URL: server.url });
    expect(human.stdout).toContain(`jobmon ${JOBMON_VERSION} (node ${process.version})`);
    expect(human.stdout).toContain(`${TEST_DB_KIND} database ${String(health['databaseId'])}`);
    const local = await jobmon(['version', '--local', '--json'], { JOBMON_URL: 'http://127.0.0.1:9' });
    expect(JSON.parse(local.stdout)).toEqual({ cli: JOBMON_VERSION, node: process.version, server: null });
  });
});
