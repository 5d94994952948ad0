// `jobmon run` says where Jobmon's own log is, and that log holds the run (bound, warnings, end)
// and the embedded server's start: what a user sends along when something went wrong.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobmon } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'jobmon-cli-syslog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the system log of jobmon run', () => {
  it('is named at the end of the run and records the run and its embedded server', async () => {
    const file = join(dir, 'wf.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'syslog',
        tasks: [
          { name: 'a', template: 'a', command: 'true' },
          { name: 'b', template: 'b', command: 'exit 4', max_attempts: 1 },
        ],
      }),
    );
    const home = join(dir, 'home');
    const r = await jobmon(['run', file], { JOBMON_HOME: home, JOBMON_URL: '' });
    expect(r.code).toBe(1);
    const path = /^system log: (.+)$/m.exec(r.stdout)?.[1];
    expect(path).toBe(join(home, 'logs', 'jobmon.log'));
    const lines = readFileSync(path!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l['msg'] === 'server started')).toMatchObject({
      name: 'server',
      databaseId: expect.any(String),
    });
    expect(lines.find((l) => l['msg'] === 'workflow bound')).toMatchObject({ name: 'runner', workflow: 1, tasks: 2 });
    expect(lines.find((l) => l['msg'] === 'run ended')).toMatchObject({
      name: 'runner',
      workflow: 1,
      status: 'FAILED',
      done: 1,
      failed: 1,
    });
  });
});
