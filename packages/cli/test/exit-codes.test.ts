// One exit code per meaning, for every command: 0 ok, 1 the workflow failed (or the server did),
// 2 usage or bad input, 3 not found or no access. Also: a workflow file's mistakes all at once, a
// bad or unreachable JOBMON_URL named, and an uncaught JobmonError in a user's script on one line.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, type TestDb } from '../../../test-support/db.js';
import { ROOT, jobmon as cli } from './cli.js';

let db: TestDb;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDb('cli-exit');
  server = await startServer({ db: db.target });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const jobmon = (args: string[]) => cli(args, { JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') });

function file(name: string, text: string): string {
  const path = join(db.dir, name);
  writeFileSync(path, text);
  return path;
}

describe('exit codes', () => {
  it.each([
    ['an unknown option', ['--bogus'], /unknown option '--bogus'/],
    ['a missing argument', ['run'], /missing required argument 'file'/],
    ['a bad option value', ['run', 'wf.json', '-p', '0'], /-p, --parallelism <n>.*'0' is invalid/],
    ['a bad --resume', ['run', 'wf.json', '--resume', 'warm'], /'cold' or 'hot', got 'warm'/],
    ['a workflow id that is 0', ['workflow', 'status', '0'], /positive whole number, got '0'/],
    ['a bad port', ['server', '--port', '99999'], /must be 0–65535/],
  ])('%s is a usage error: exit 2', async (_label, args, message) => {
    const r = await jobmon(args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('--help and --version exit 0, and the help lists the exit codes', async () => {
    const help = await jobmon(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:\n\s+0 .*\n\s+1 .*failed.*\n\s+2 .*usage.*\n\s+3 .*not found/);
    expect((await jobmon(['--version'])).code).toBe(0);
  });

  it('a workflow that does not exist is not found: exit 3', async () => {
    for (const command of ['status', 'stop']) {
      const r = await jobmon(['workflow', command, '987654']);
      expect(r.stderr).toMatch(/workflow 987654 does not exist/);
      expect(r.code).toBe(3);
    }
  });

  it('a workflow file that does not exist or cannot be read: exit 3', async () => {
    const missing = await jobmon(['run', join(db.dir, 'nowhere.json')]);
    expect(missing.stderr).toMatch(/cannot read workflow file .*nowhere\.json.*ENOENT/);
    expect(missing.code).toBe(3);
    if (process.getuid?.() !== 0) {
      const locked = file('locked.json', '{}');
      chmodSync(locked, 0o000);
      const r = await jobmon(['run', locked]);
      expect(r.stderr).toMatch(/EACCES/);
      expect(r.code).toBe(3);
    }
  });

  it('a failed workflow: exit 1, from run and from status', async () => {
    const r = await jobmon([
      'run',
      file('fails.json', JSON.stringify({ name: 'fails', tasks: [{ name: 'a', command: 'exit 1', max_attempts: 1 }] })),
    ]);
    expect(r.code).toBe(1);
    const status = await jobmon(['workflow', 'status', 'fails']);
    expect(status.stdout).toContain("'fails': FAILED");
    expect(status.code).toBe(1);
    const json = await jobmon(['workflow', 'status', 'fails', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'FAILED' });
    expect(json.code).toBe(1);
  });
});

describe('workflow file checks', () => {
  it('an unsupported extension is named, not parsed as JSON: exit 2', async () => {
    const r = await jobmon(['run', file('wf.toml', 'name = "x"\n')]);
    expect(r.stderr).toContain("wf.toml: unsupported file extension '.toml'; use a .json, .yaml or .yml file");
    expect(r.stderr).not.toMatch(/not valid JSON/);
    expect(r.code).toBe(2);
  });

  it('a file without an extension (a pipe from a generator) is read as JSON or YAML', async () => {
    const r = await jobmon([
      'run',
      file('generated', JSON.stringify({ name: 'no_ext', tasks: [{ name: 'a', template: 'a', command: 'true' }] })),
    ]);
    expect(r.stdout).toMatch(/ended DONE/);
    expect(r.code).toBe(0);
  });

  it('reports every mistake at once, each with its task and field', async () => {
    const doc = {
      name: 'many_mistakes',
      colour: 'blue',
      tasks: [
        { name: 'no_command' },
        { name: 'typo', command: 'true', retries: 3 },
        { name: 'bad_attempts', command: 'true', max_attempts: 0 },
        { name: 'typo', command: 'true' },
        { name: 'orphan', command: 'true', upstream: ['ghost'] },
        { name: 'mixed_args', template: 't', command: 'true', args: { a: 1 } },
        { name: 'mixed_args_2', template: 't', command: 'true', args: { b: 1 } },
      ],
    };
    const r = await jobmon(['run', file('many.json', JSON.stringify(doc))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('many.json: 7 mistakes:');
    for (const expected of [
      'colour: unknown key',
      `task 'no_command': needs a "command" string`,
      `task 'typo': unknown key 'retries'`,
      `task 'bad_attempts': "max_attempts" must be a whole number ≥ 1`,
      `tasks[3]: task name 'typo' appears twice`,
      `task 'orphan': lists upstream 'ghost', which is not a task in the file`,
      `task 'mixed_args_2': template 't' tasks must all have the same args (expected [a], got [b])`,
    ]) {
      expect(r.stderr).toContain(expected);
    }
  });

  it('lists at most 20 mistakes and counts the rest', async () => {
    const tasks = Array.from({ length: 25 }, (_, i) => ({ name: `t${i}` }));
    const r = await jobmon(['run', file('25.json', JSON.stringify({ name: 'too_many', tasks }))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('25.json: 25 mistakes:');
    expect(r.stderr).toContain(`task 't19': needs a "command" string`);
    expect(r.stderr).not.toContain(`task 't20'`);
    expect(r.stderr).toContain('… and 5 more');
  });
});

describe('JOBMON_URL', () => {
  it('a malformed one fails at once, exit 2, naming JOBMON_URL', async () => {
    const r = await cli(['workflow', 'status', '1'], {
      JOBMON_URL: 'localhost:7101',
      JOBMON_HOME: join(db.dir, 'home'),
    });
    expect(r.ms).toBeLessThan(5_000);
    expect(r.stderr).toMatch(/JOBMON_URL="localhost:7101" is not a server URL/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(2);
  });

  it('an unreachable one says it is retrying, then gives up naming JOBMON_URL and its value', async () => {
    const r = await cli(['workflow', 'status', '1'], {
      JOBMON_URL: 'http://127.0.0.1:1',
      JOBMON_HOME: join(db.dir, 'home'),
      JOBMON_HTTP_RETRIES: '2',
      JOBMON_HTTP_BACKOFF_MS: '50',
    });
    expect(r.stderr).toMatch(/the server does not answer GET \/workflows\/1 .*retrying…/);
    expect(r.stderr).toMatch(
      /cannot reach the Jobmon server at http:\/\/127\.0\.0\.1:1 \(JOBMON_URL=http:\/\/127\.0\.0\.1:1\)/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(1);
  });
});

describe('a JobmonError thrown in a user script', () => {
  // A script as a user writes it, importing the built client; its error is left uncaught.
  async function script(body: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
    const dir = join(db.dir, 'script');
    mkdirSync(dir, { recursive: true });
    const client = pathToFileURL(join(ROOT, 'packages/client/dist/index.js')).href;
    const path = join(dir, `s${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(path, `import { connect } from ${JSON.stringify(client)};\nconst conn = await connect();\n${body}\n`);
    return new Promise((resolve) => {
      execFile(process.execPath, [path], { env: { ...process.env, ...env } }, (error, _stdout, stderr) => {
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stderr });
      });
    });
  }

  it('prints one line with its name, code and message, no stack trace', async () => {
    const missing = await script(`await conn.requester.get('/workflows/987654');`, { JOBMON_URL: server.url });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NotFoundError [JM_NOT_FOUND]: workflow 987654 does not exist');
    expect(missing.stderr).not.toMatch(/\n\s+at /);

    // With a cause (the connection error): neither it nor its stack is printed.
    const down = await script(`await conn.requester.get('/workflows/1');`, {
      JOBMON_URL: 'http://127.0.0.1:1',
      JOBMON_HTTP_RETRIES: '0',
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /ServerUnreachableError \[JM_SERVER_UNREACHABLE\]: cannot reach the Jobmon server at http:\/\/127\.0\.0\.1:1/,
    );
    expect(down.stderr).not.toMatch(/\n\s+at /);
  });
});
