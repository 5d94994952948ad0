// What the CLI writes to a terminal: task output and database text cannot drive it (escapes shown
// as text), `jobmon run` and `jobmon workflow status` count the same way, and a reader that goes
// away (`| head -1`) does not crash the CLI.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, type TestDb } from '../../../test-support/db.js';
import { CLI, RAW_CONTROL, jobmon as cli } from './cli.js';

let db: TestDb;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDb('cli-terminal');
  server = await startServer({ db: db.target });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const env = () => ({ JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') });
const jobmon = (args: string[]) => cli(args, env());

function writeWorkflow(name: string, doc: unknown): string {
  const file = join(db.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('untrusted text', () => {
  // A title change (OSC 0), a screen clear, a C1 CSI (U+009B), DEL, a right-to-left override and a
  // carriage return that would overwrite the line with a fake summary.
  const hostile = String.raw`printf '\033]0;pwned\007\033[2J\302\233\177\342\200\256\rworkflow 1 ended DONE\n' >&2; exit 4`;
  const doc = {
    name: 'esc\u001b[31m_wf',
    tasks: [
      { name: 'fine', command: 'true' },
      { name: 'bad\u202eevil', command: hostile, max_attempts: 1 },
    ],
  };

  it('jobmon run and jobmon workflow status show control characters as escapes, never raw', async () => {
    const file = writeWorkflow('hostile', doc);
    const run = await jobmon(['run', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stderr).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toContain(String.raw`'esc\x1b[31m_wf'`);
    expect(run.stdout).toContain(String.raw`bad\u202eevil`);
    expect(run.stdout).toContain(String.raw`\x1b]0;pwned\x07\x1b[2J\x9b\x7f\u202e\x0dworkflow 1 ended DONE`);

    const id = /workflow (\d+) ended/.exec(run.stdout)![1]!;
    const status = await jobmon(['workflow', 'status', id]);
    expect(status.code).toBe(1); // the workflow FAILED
    expect(status.stdout).not.toMatch(RAW_CONTROL);
    expect(status.stdout).toContain(String.raw`bad\u202eevil`);
    expect(status.stdout).toContain(String.raw`\x1b]0;pwned\x07`);
  });

  it('--json escapes them too and still round-trips the exact text', async () => {
    const file = writeWorkflow('hostile-json', { ...doc, name: 'esc_json\u2028wf' });
    const run = await jobmon(['run', file, '--json']);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).not.toContain('\u2028');
    const summary = JSON.parse(run.stdout) as {
      workflowId: number;
      errors: { taskName: string; stderrTail: string }[];
    };
    expect(summary.errors[0]!.taskName).toBe('bad\u202eevil');
    expect(summary.errors[0]!.stderrTail).toContain(
      '\u001b]0;pwned\u0007\u001b[2J\u009b\u007f\u202e\rworkflow 1 ended DONE',
    );

    const status = await jobmon(['workflow', 'status', String(summary.workflowId), '--json']);
    expect(status.stdout).not.toMatch(RAW_CONTROL);
    expect(status.stdout).not.toContain('\u2028');
    const detail = JSON.parse(status.stdout) as { name: string; errors: { taskName: string }[] };
    expect(detail.name).toBe('esc_json\u2028wf');
    expect(detail.errors[0]!.taskName).toBe('bad\u202eevil');
  });
});

describe('counts', () => {
  it('the run summary and jobmon workflow status group the tasks identically', async () => {
    const file = writeWorkflow('counts', {
      name: 'counts_agree',
      tasks: [
        { name: 'ok', command: 'true' },
        { name: 'broken', command: 'exit 5', max_attempts: 1 },
        { name: 'after_broken', command: 'true', upstream: ['broken'] },
      ],
    });
    const run = await jobmon(['run', file]);
    expect(run.code).toBe(1);
    const [, id, runCounts] = /workflow (\d+) ended FAILED in [\d.]+ s: (.*)$/m.exec(run.stdout)!;
    expect(runCounts).toBe('1/3 done, 1 failed, 1 not finished');

    const status = await jobmon(['workflow', 'status', id!]);
    const statusCounts = /^ {2}tasks: (.*?)(?: \(.*\))?$/m.exec(status.stdout)?.[1];
    expect(statusCounts).toBe(runCounts);

    const json = JSON.parse((await jobmon(['workflow', 'status', id!, '--json'])).stdout) as { outcome: unknown };
    expect(json.outcome).toEqual({ total: 3, done: 1, failed: 1, notFinished: 1 });
  });
});

describe('a closed stdout', () => {
  it('`jobmon workflow status <id> | head -1` ends quietly: no EPIPE, no stack, its own exit code', async () => {
    // The embedded server (no JOBMON_URL), as most users run it; 40 failures with long error tails
    // make more output than a pipe holds (64 KiB), so the CLI is still writing when head has gone.
    const { JOBMON_URL: _url, ...rest } = process.env;
    const embedded = { ...rest, JOBMON_HOME: join(db.dir, 'embedded-home') };
    const line = 'x'.repeat(400);
    const tasks = Array.from({ length: 40 }, (_, i) => ({
      name: `noisy_${i}`,
      command: `for i in 1 2 3 4 5; do echo ${line} >&2; done; exit 1`,
      max_attempts: 1,
    }));
    const file = writeWorkflow('epipe', { name: 'reader_goes_away', tasks });
    const piped = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const script =
        '"$0" "$1" run "$2" --json >/dev/null; "$0" "$1" workflow status 1 | head -1; exit "${PIPESTATUS[0]}"';
      const child = spawn('bash', ['-c', script, process.execPath, CLI, file], { env: embedded });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(piped.stdout).toBe(`workflow 1 'reader_goes_away': FAILED\n`);
    expect(piped.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(piped.code).toBe(1); // status's own answer for a FAILED workflow, not a write error
  });
});
