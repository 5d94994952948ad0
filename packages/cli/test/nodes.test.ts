// `jobmon nodes` as a user runs it: the built CLI against a server on the lane's database. A real
// workflow runs on this machine (its instances carry its node name); then instances on other nodes
// are written into the database with known outcomes, so each node's failure rate, the suspicious
// flag and the order have one right answer. The window is checked with an instance from 2 days ago.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, Requester, type ApiClient, type NodesResponseT } from '@jobmon/core';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { jobmon as cli } from './cli.js';

let db: TestDb;
let server: RunningServer;
let api: ApiClient;

const env = () => ({ JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') });
const jobmon = (args: string[]) => cli(args, env(), 120_000);
const HOUR = 3_600_000;

/** This machine's node name, as the real run recorded it. */
let here: string;
/** Real instances (all DONE). */
let real: number;

beforeAll(async () => {
  db = await createTestDb('cli-nodes');
  server = await startServer({ db: db.target, reaper: false });
  api = createApiClient(new Requester(server.url));
  const file = join(db.dir, 'nodes.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'nodes_wf',
      tasks: [1, 2, 3, 4].map((i) => ({ name: `t${i}`, command: 'sleep 0.2' })),
    }),
  );
  expect((await jobmon(['run', file])).code).toBe(0);
  const rows = await server.db.kysely.selectFrom('task_instance').selectAll().execute();
  real = rows.length;
  here = rows[0]!.node_name!;
  expect(here).toBeTruthy();
  const { id: _id, ...template } = rows[0]!;
  const now = Date.now();
  // rack-7: 10 instances, 5 ended with infrastructure errors (UNKNOWN_ERROR, NO_HEARTBEAT).
  // rack-2: 20 instances, 1 infrastructure failure and 2 application errors (not counted).
  // rack-old: 5 infrastructure failures 2 days ago, outside the default 24 h window.
  const add = (node: string, status: string, errorClass: string | null, at: number) => ({
    ...template,
    node_name: node,
    status: status as 'DONE',
    error_class: errorClass,
    created_at: at,
    status_at: at + 1000,
  });
  const synthetic = [
    ...Array.from({ length: 10 }, (_, i) =>
      i < 5
        ? add('rack-7', i % 2 ? 'NO_HEARTBEAT' : 'UNKNOWN_ERROR', 'infrastructure', now - HOUR + i)
        : add('rack-7', 'DONE', null, now - HOUR + i),
    ),
    ...Array.from({ length: 20 }, (_, i) =>
      i === 0
        ? add('rack-2', 'UNKNOWN_ERROR', 'infrastructure', now - 2 * HOUR)
        : i < 3
          ? add('rack-2', 'ERROR', 'application', now - 2 * HOUR + i)
          : add('rack-2', 'DONE', null, now - 2 * HOUR + i),
    ),
    ...Array.from({ length: 5 }, (_, i) => add('rack-old', 'UNKNOWN_ERROR', 'infrastructure', now - 48 * HOUR + i)),
  ];
  await server.db.kysely.insertInto('task_instance').values(synthetic).execute();
}, 240_000);
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const withoutSince = ({ since: _s, ...rest }: NodesResponseT) => rest;

describe(`jobmon nodes on ${TEST_DB_KIND}`, () => {
  it('per node: instances, infrastructure failures and rate in the window, suspicious nodes first', async () => {
    const before = Date.now();
    const r = await jobmon(['nodes', '--json']);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as NodesResponseT;
    expect(withoutSince(got)).toEqual(withoutSince(await api.listNodes()));
    expect(got.since).toBeGreaterThanOrEqual(before - 24 * HOUR);
    expect(got.since).toBeLessThanOrEqual(Date.now() - 24 * HOUR);
    expect(got).toMatchObject({ windowMs: 24 * HOUR, instances: real + 30, infrastructureFailures: 6, nodeCount: 3 });
    expect(got.overallRate).toBeCloseTo(6 / (real + 30), 10);
    // rack-7: 5 of 10 (≥ 3 failures, 50 % against 1 / (20 + real) for the rest): suspicious.
    // rack-2: 1 of 20 (under 3 failures): not, however its rate compares. This machine: 0.
    expect(got.nodes.map((n) => [n.nodeName, n.instances, n.infrastructureFailures, n.suspicious])).toEqual([
      ['rack-7', 10, 5, true],
      ['rack-2', 20, 1, false],
      [here, real, 0, false],
    ]);
    expect(got.nodes[0]!.failureRate).toBe(0.5);
    expect(got.nodes[1]!.failureRate).toBe(0.05);
    expect(got.nodes[0]!.lastFailureAt).toBeGreaterThan(before - 2 * HOUR);
    expect(got.nodes[2]!.lastFailureAt).toBeNull();

    const human = await jobmon(['nodes']);
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${real + 30} instances on 3 nodes since .+: 6 infrastructure failures \\(`));
    expect(lines[1]).toMatch(/^NODE +INSTANCES +INFRA FAILURES +RATE +LAST FAILURE/);
    expect(lines[2]).toMatch(/^rack-7 +10 +5 +50\.0% +\d{4}-\d\d-\d\d \d\d:\d\d +SUSPICIOUS$/);
    expect(lines[3]).toMatch(/^rack-2 +20 +1 +5\.0% +\d{4}-/);
    expect(lines[4]).toMatch(new RegExp(`^${here.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +${real} +0 +0\\.0% +-$`));
    expect(lines).toHaveLength(5);
  });

  it('a longer window takes in older instances, which changes who is suspicious', async () => {
    const got = JSON.parse((await jobmon(['nodes', '--window', '3d', '--json'])).stdout) as NodesResponseT;
    expect(got).toMatchObject({ windowMs: 72 * HOUR, instances: real + 35, infrastructureFailures: 11, nodeCount: 4 });
    // rack-old: 5 of 5 against 6 of the rest's real + 30: suspicious, and worst. rack-7's 50 % is now
    // under 3× the rest's 6 / (real + 25), so it is no longer flagged.
    expect(got.nodes.map((n) => [n.nodeName, n.suspicious])).toEqual([
      ['rack-old', true],
      ['rack-7', false],
      ['rack-2', false],
      [here, false],
    ]);
  });

  it('a window with nothing in it says so; a bad window exits 2 naming it', async () => {
    // A minute: the synthetic instances are older and the real run finished before the tests.
    const r = await jobmon(['nodes', '--window', '1m']);
    expect(r.code).toBe(0);
    if (!r.stdout.startsWith('no instances')) expect(r.stdout).not.toContain('rack-');
    for (const bad of ['24', '5x', '31d', '0m']) {
      const b = await jobmon(['nodes', '--window', bad]);
      expect(b.code, bad).toBe(2);
      expect(b.stderr).toContain(`got '${bad}'`);
    }
  });
});
