// A shared server in token mode, end to end as its users meet it (docs/auth.md): an admin mints
// tokens against the database, a user logs in, runs a workflow whose runner and workers report on a
// run token, another user is refused with who owns what, a revoked token stops working, and no
// token's secret reaches a log. Without authentication the server refuses a non-loopback address.

import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { CLI, type CliResult } from './cli.js';
import { freePort } from '../../../test-support/server-process.js';
import { waitFor } from '../../../test-support/wait.js';

let db: TestDb;
let server: RunningServer;
let logDir: string;

function jobmon(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  const started = Date.now();
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home'), ...env }, timeout: 90_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

async function mint(user: string, scope: string): Promise<string> {
  const r = await jobmon(['admin', 'token', 'create', '--user', user, '--scope', scope, '--db', db.target, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

beforeAll(async () => {
  db = await createTestDb('cli-auth');
  logDir = join(db.dir, 'server-logs');
  mkdirSync(logDir, { recursive: true });
  server = await startServer({
    db: db.target,
    reaper: false,
    auth: { mode: 'token' },
    logFile: join(logDir, 'server.log'),
  });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe(`a token-mode server on ${TEST_DB_KIND}`, () => {
  it('refuses to bind a non-loopback address without authentication, and says what to do', async () => {
    const r = await jobmon(['server', '--db', join(db.dir, 'other.db'), '--host', '0.0.0.0', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing to bind 0.0.0.0 without authentication: use --auth token');
  });

  it('with --insecure-no-auth it binds beyond loopback, warns at start and in every answer', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        CLI,
        'server',
        '--db',
        join(db.dir, 'insecure.db'),
        '--host',
        '0.0.0.0',
        '--port',
        String(port),
        '--insecure-no-auth',
      ],
      { env: { ...process.env, JOBMON_HOME: join(db.dir, 'home-insecure') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const health = await waitFor(
        'the insecure server',
        async () => (await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch(() => undefined)) ?? undefined,
        20_000,
        100,
      );
      expect(health.headers.get('x-jobmon-warning')).toContain('no authentication');
      await waitFor('the warning at start', () => stderr.includes('WARNING: --insecure-no-auth'), 5000, 50);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('the embedded default (auth local) keeps its database readable by its owner alone', async () => {
    const home = join(db.dir, 'embedded-home');
    const r = await jobmon(['workflow', 'list'], { JOBMON_URL: '', JOBMON_HOME: home });
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(join(home, 'jobmon.db')).mode & 0o777).toBe(0o600);
  });

  it('login, a run on run tokens, ownership, revocation; no secret in any log', async () => {
    const alice = await mint('alice', 'operate');
    const bob = await mint('bob', 'operate');

    const anonymous = await jobmon(['workflow', 'list']);
    expect(anonymous.code).toBe(3);
    expect(anonymous.stderr).toContain('authentication required');

    const bad = await jobmon(['login'], {}, 'jm_notatoken');
    expect(bad.code).toBe(2);
    const login = await jobmon(['login'], {}, `${alice}\n`);
    expect(login.code, login.stderr).toBe(0);
    const cred = join(db.dir, 'home', 'credentials');
    expect(statSync(cred).mode & 0o777).toBe(0o600);

    // alice runs a workflow: her runner and its workers report on the run's own token.
    const work = join(db.dir, 'work');
    mkdirSync(work, { recursive: true });
    const file = join(work, 'wf.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'alices_pipeline',
        tasks: ['a', 'b'].map((n) => ({ name: n, command: `test -n "$JOBMON_TOKEN" && echo ${n}` })),
      }),
    );
    const run = await jobmon(['run', file]);
    expect(run.code, run.stderr).toBe(0);
    const wid = Number(/^workflow (\d+) /m.exec(run.stdout)![1]);
    const runs = await server.db.kysely
      .selectFrom('auth_token')
      .select(['kind', 'user', 'workflow_run_id'])
      .where('kind', '=', 'run')
      .execute();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.user).toBe('alice');
    const wf = await server.db.kysely
      .selectFrom('workflow')
      .select('owner')
      .where('id', '=', wid)
      .executeTakeFirstOrThrow();
    expect(wf.owner).toBe('alice');

    // bob reads it, but may not change it.
    const read = await jobmon(['workflow', 'status', String(wid), '--json'], { JOBMON_TOKEN: bob });
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout).owner).toBe('alice');
    const human = await jobmon(['workflow', 'status', String(wid)], { JOBMON_TOKEN: bob });
    expect(human.stdout).toContain('\n  owner: alice\n');
    const change = await jobmon(['workflow', 'concurrency', String(wid), '1'], { JOBMON_TOKEN: bob });
    expect(change.code).toBe(3);
    expect(change.stderr).toContain(`workflow ${wid} is owned by alice; you are bob`);
    const own = await jobmon(['workflow', 'concurrency', String(wid), '1']);
    expect(own.code, own.stderr).toBe(0);

    // Revoked: refused from then on, naming the token by its public id only.
    const id = alice.slice(3, 15);
    const revoke = await jobmon(['admin', 'token', 'revoke', id, '--db', db.target]);
    expect(revoke.code, revoke.stderr).toBe(0);
    const after = await jobmon(['workflow', 'list']);
    expect(after.code).toBe(3);
    expect(after.stderr).toContain(`token ${id} was revoked`);

    const list = await jobmon(['admin', 'token', 'list', '--db', db.target, '--json']);
    const tokens = (JSON.parse(list.stdout) as { tokens: { id: string; revokedAt: number | null }[] }).tokens;
    expect(tokens.find((t) => t.id === id)?.revokedAt).not.toBeNull();
    expect(list.stdout).not.toContain(alice.slice(16));

    // No secret in the server's log, the runner's logs or any output.
    const secrets = [alice, bob].map((t) => t.slice(16));
    const logs: string[] = [readFileSync(join(logDir, 'server.log'), 'utf8')];
    const home = join(db.dir, 'home', 'logs');
    for (const f of readdirSync(home, { recursive: true }) as string[])
      if (statSync(join(home, f)).isFile()) logs.push(readFileSync(join(home, f), 'utf8'));
    for (const text of [...logs, run.stdout, run.stderr, change.stderr, after.stderr])
      for (const s of secrets) expect(text).not.toContain(s);
  }, 120_000);
});
