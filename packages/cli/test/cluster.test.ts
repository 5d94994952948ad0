// `jobmon cluster add|list|show` as a user runs them: the built CLI in child processes, against a
// server on the lane's database (JOBMON_URL), and against the embedded server at JOBMON_HOME, which
// applies the config file's clusters as it starts. Bad input exits 2 naming the offending thing
// and changes nothing; an unknown cluster exits 3.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';
import { jobmon as cli } from './cli.js';

let db: TestDb;
let server: RunningServer;

beforeAll(async () => {
  db = await createTestDb('cli-cluster');
  server = await startServer({ db: db.target, reaper: false });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const jobmon = (args: string[]) => cli(args, { JOBMON_URL: server.url, JOBMON_HOME: join(db.dir, 'home') });
const listJson = async () =>
  JSON.parse((await jobmon(['cluster', 'list', '--json'])).stdout) as { clusters: unknown[] };

describe(`jobmon cluster on ${TEST_DB_KIND}`, () => {
  it('adds a cluster from flags, shows it as a table and as JSON, and lists it', async () => {
    const add = await jobmon([
      'cluster',
      'add',
      'farm',
      '--type',
      'local',
      '--option',
      'parallelism=2',
      '--queue',
      'small.q:cores=1-2,memory=1G-4G,runtime=1m-1h',
      '--queue',
      'big.q:cores=1-64',
    ]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toContain("cluster 'farm' added");
    expect(add.stdout).toMatch(/type: local\n\s+options: parallelism=2/);
    expect(add.stdout).toMatch(
      /QUEUE\s+CORES\s+MEMORY\s+RUNTIME\n\s+small\.q\s+1-2\s+1G-4G\s+1m-1h\n\s+big\.q\s+1-64\s+-\s+-/,
    );

    const show = await jobmon(['cluster', 'show', 'farm', '--json']);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({
      name: 'farm',
      type: 'local',
      options: { parallelism: 2 },
      queues: [
        { name: 'small.q', limits: { cores: [1, 2], memory: [1024, 4096], runtime: [60, 3600] } },
        { name: 'big.q', limits: { cores: [1, 64] } },
      ],
    });
    expect((await jobmon(['cluster', 'show', 'farm'])).stdout).toMatch(/^cluster farm\n\s+type: local/);

    const list = await jobmon(['cluster', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+TYPE\s+QUEUES\s+OPTIONS\n/);
    expect(list.stdout).toMatch(/\nfarm\s+local\s+small\.q,big\.q\s+parallelism=2\n/);
    expect(list.stdout).toMatch(/\ndummy\s+dummy\s+null\.q\s+-\n/);
  });

  it('adds a cluster from --file, flags overriding it, and updates it when added again', async () => {
    const file = join(db.dir, 'hpc.json');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'slurm',
        options: { restUrl: 'http://slurm:6820' },
        queues: [{ name: 'all.q', limits: { cores: [1, 128] } }],
      }),
    );
    const first = await jobmon(['cluster', 'add', 'hpc', '--file', file, '--option', 'pollMs=5000', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      created: true,
      cluster: { type: 'slurm', options: { restUrl: 'http://slurm:6820', pollMs: 5000 } },
    });
    const again = await jobmon(['cluster', 'add', 'hpc', '--file', file, '--queue', 'all.q:cores=1-256']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("cluster 'hpc' updated");
    expect(again.stdout).toMatch(/all\.q\s+1-256/);
  });

  it.each([
    [
      'an unknown type',
      ['cluster', 'add', 'c1', '--type', 'slurmm', '--queue', 'a.q'],
      /type "slurmm" is not a known cluster type/,
    ],
    [
      'min above max',
      ['cluster', 'add', 'c2', '--type', 'local', '--queue', 'a.q:memory=4G-1G'],
      /queue 'a\.q' limits\.memory has min 4096 greater than max 1024/,
    ],
    [
      'an unknown resource',
      ['cluster', 'add', 'c3', '--type', 'local', '--queue', 'a.q:gpus=1-2'],
      /'gpus' is not a resource a queue limits/,
    ],
    [
      'a bad range',
      ['cluster', 'add', 'c4', '--type', 'local', '--queue', 'a.q:cores=64'],
      /'cores=64' must be resource=min-max/,
    ],
    [
      'a misspelt option',
      ['cluster', 'add', 'c5', '--type', 'local', '--option', 'paralelism=2', '--queue', 'a.q'],
      /options\.paralelism is not an option of a local cluster/,
    ],
    ['no type', ['cluster', 'add', 'c6', '--queue', 'a.q'], /--type is required/],
    ['an unsafe name', ['cluster', 'add', '../c7', '--type', 'local'], /cluster name is 1–64 letters/],
  ])('refuses %s: exit 2, naming it, nothing added', async (_label, args, message) => {
    const before = await listJson();
    const r = await jobmon(args);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(await listJson()).toEqual(before);
  });

  it('a cluster file that is not JSON: exit 2, naming it', async () => {
    const file = join(db.dir, 'not-json.json');
    writeFileSync(file, '{ type: local');
    const r = await jobmon(['cluster', 'add', 'c8', '--file', file]);
    expect(r.stderr).toContain(`cluster file ${file} is not valid JSON`);
    expect(r.code).toBe(2);
  });

  it('an unknown cluster or a missing cluster file: exit 3', async () => {
    const r = await jobmon(['cluster', 'show', 'mars']);
    expect(r.stderr).toMatch(/cluster 'mars' does not exist \(known: sequential, local, dummy/);
    expect(r.code).toBe(3);
    const missing = await jobmon(['cluster', 'add', 'c9', '--file', join(db.dir, 'nowhere.json')]);
    expect(missing.stderr).toMatch(/cannot read cluster file .*nowhere\.json.*ENOENT/);
    expect(missing.code).toBe(3);
  });
});

describe('clusters from the config file, on the embedded server at JOBMON_HOME', () => {
  it('applies them as the server starts; a bad one exits 2 naming the file and the field', async () => {
    const home = join(db.dir, 'embedded-home');
    mkdirSync(home, { recursive: true });
    const config = join(home, 'config.json');
    const env = { JOBMON_URL: '', JOBMON_HOME: home, JOBMON_DB: '', JOBMON_CONFIG: '' };
    const run = (args: string[]) => cli(args, env);
    writeFileSync(
      config,
      JSON.stringify({
        clusters: {
          site: { type: 'local', options: { parallelism: 1 }, queues: [{ name: 'all.q', limits: { cores: [1, 8] } }] },
        },
      }),
    );
    const list = await run(['cluster', 'list']);
    expect(list.stderr).not.toMatch(/jobmon:/);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/\nsite\s+local\s+all\.q\s+parallelism=1\n/);
    expect(list.stdout).toContain(`state: ${join(home, 'jobmon.db')}`);

    // Changed in the file: updated at the next start.
    writeFileSync(
      config,
      JSON.stringify({
        clusters: {
          site: { type: 'local', options: { parallelism: 3 }, queues: [{ name: 'all.q', limits: { cores: [1, 16] } }] },
        },
      }),
    );
    expect(JSON.parse((await run(['cluster', 'show', 'site', '--json'])).stdout)).toMatchObject({
      options: { parallelism: 3 },
      queues: [{ limits: { cores: [1, 16] } }],
    });

    writeFileSync(
      config,
      JSON.stringify({
        clusters: { site: { type: 'local', queues: [{ name: 'all.q', limits: { cores: [16, 1] } }] } },
      }),
    );
    const bad = await run(['cluster', 'list']);
    expect(bad.stderr).toContain(
      `config file ${config}: clusters.site: queue 'all.q' limits.cores has min 16 greater than max 1`,
    );
    expect(bad.code).toBe(2);
  });
});
