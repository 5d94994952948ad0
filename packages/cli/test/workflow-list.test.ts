// `jobmon workflow list` as a user runs it: the built CLI against a server on the lane's database.
// Three workflows run to DONE through `jobmon run`; the listing finds them by name glob, tool,
// workflow args, status and creation time, pages with --limit and --cursor, agrees with the API
// in --json, and refuses bad input with exit 2 naming it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { jobmon as cli } from './cli.js';

let db: TestDb;
let server: RunningServer;

const jobmon = (args: string[]) => cli(args, { JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') }, 60_000);

async function runWorkflow(name: string, tool: string, year: number): Promise<void> {
  const file = join(db.dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      tool,
      workflow_args: { year },
      tasks: [{ name: 't', template: 't', command: 'true', upstream: [] }],
    }),
  );
  const r = await jobmon(['run', file]);
  expect(r.code).toBe(0);
}

beforeAll(async () => {
  db = await createTestDb('cli-wf-list');
  server = await startServer({ db: db.target, reaper: false });
  await runWorkflow('flu_2019', 'epi', 2019);
  await runWorkflow('flu_2020', 'epi', 2020);
  await runWorkflow('covid_2020', 'other', 2020);
}, 180_000);
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const names = (stdout: string) =>
  (JSON.parse(stdout) as { workflows: { name: string }[] }).workflows.map((w) => w.name);

describe(`jobmon workflow list on ${TEST_DB_KIND}`, () => {
  it('lists newest first as an aligned table, with tool, status and done/total tasks', async () => {
    const r = await jobmon(['workflow', 'list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+TOOL\s+USER\s+STATUS\s+TASKS\s+CREATED$/);
    expect(lines[1]).toMatch(/^\d+\s+covid_2020\s+other\s+\S+\s+DONE\s+1\/1\s+\d{4}-\d\d-\d\d \d\d:\d\d$/);
    expect(lines[2]).toContain('flu_2020');
    expect(lines[3]).toContain('flu_2019');
    // Columns line up: each row's STATUS starts where the header's does.
    const at = lines[0]!.indexOf('STATUS');
    for (const l of lines.slice(1, 4)) expect(l.slice(at, at + 4)).toBe('DONE');
  });

  it('filters by name glob, tool, workflow args, status and creation time', async () => {
    expect(names((await jobmon(['workflow', 'list', '--name', 'flu_*', '--json'])).stdout)).toEqual([
      'flu_2020',
      'flu_2019',
    ]);
    expect(names((await jobmon(['workflow', 'list', '--tool', 'other', '--json'])).stdout)).toEqual(['covid_2020']);
    expect(names((await jobmon(['workflow', 'list', '--arg', 'year=2020', '--json'])).stdout)).toEqual([
      'covid_2020',
      'flu_2020',
    ]);
    expect(names((await jobmon(['workflow', 'list', '--status', 'FAILED,HALTED', '--json'])).stdout)).toEqual([]);
    // Any case: the words the tables print.
    expect(names((await jobmon(['workflow', 'list', '--status', 'failed,Done', '--json'])).stdout)).toHaveLength(3);
    expect(names((await jobmon(['workflow', 'list', '--since', '1h', '--json'])).stdout)).toHaveLength(3);
    expect(names((await jobmon(['workflow', 'list', '--until', '2000-01-01', '--json'])).stdout)).toEqual([]);
    const none = await jobmon(['workflow', 'list', '--name', 'nothing_*']);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no workflow matches');
  });

  it('pages with --limit and --cursor, and its --json is the API answer', async () => {
    const first = await jobmon(['workflow', 'list', '--limit', '2']);
    const cursor = /more: add --cursor (\S+)/.exec(first.stdout)?.[1];
    expect(cursor).toBeDefined();
    const second = JSON.parse(
      (await jobmon(['workflow', 'list', '--limit', '2', '--cursor', cursor!, '--json'])).stdout,
    );
    expect(second.workflows.map((w: { name: string }) => w.name)).toEqual(['flu_2019']);
    expect(second.nextCursor).toBeUndefined();
    const api = await (
      await fetch(`${server.url}/api/v1/workflows?limit=2&cursor=${encodeURIComponent(cursor!)}`)
    ).json();
    expect(second).toEqual(api);
  });

  it('refuses bad input with exit 2, naming it', async () => {
    const since = await jobmon(['workflow', 'list', '--since', 'yesterday']);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain("'yesterday'");
    const status = await jobmon(['workflow', 'list', '--status', 'FINISHED']);
    expect(status.code).toBe(2);
    // The option, not the route and querystring the server would name.
    expect(status.stderr).toMatch(/^jobmon: --status: unknown status "FINISHED"; one of REGISTERING, QUEUED, /);
    expect(status.stderr).not.toContain('querystring');
    const arg = await jobmon(['workflow', 'list', '--arg', 'year']);
    expect(arg.code).toBe(2);
    expect(arg.stderr).toContain("'year'");
    const cursor = await jobmon(['workflow', 'list', '--cursor', 'not-a-cursor']);
    expect(cursor.code).toBe(2);
    expect(cursor.stderr).toContain('cursor');
  });
});
