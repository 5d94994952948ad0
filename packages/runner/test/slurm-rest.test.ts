// The REST transport without a cluster: the v0.0.38 adapter on answers recorded from the
// slurmrestd of scripts/slurm-local.sh (test/fixtures/slurmrest-v0.0.38/), the version choice, the
// cluster options, and RestTransport itself against a real HTTP server on a unix socket that replays
// those answers (so exit codes, filtering, call counts and auth errors are checked end to end).
// The transport against the real daemon: slurm.slurm.test.ts (the Slurm lane).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slurmOptions } from '../src/distributors/slurm/index.js';
import { expandIndices, waitStatusToExitCode, type RestAdapter } from '../src/distributors/slurm/rest/adapter.js';
import { RestShapeError } from '../src/distributors/slurm/rest/check.js';
import { RestTransport, jobEnvironment } from '../src/distributors/slurm/rest/index.js';
import { v0_0_38 } from '../src/distributors/slurm/rest/v0_0_38.js';
import { chooseAdapter, offeredVersions } from '../src/distributors/slurm/rest/versions.js';
import type { JobSpec } from '../src/distributors/slurm/transport.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`./fixtures/slurmrest-v0.0.38/${name}.json`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
/** A recorded answer with one job's field removed or changed. */
function edited(name: string, i: number, path: string[], value: unknown): Record<string, unknown> {
  const f = fixture(name);
  let o = (f['jobs'] as Record<string, unknown>[])[i]!;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  if (value === undefined) delete o[path.at(-1)!];
  else o[path.at(-1)!] = value;
  return f;
}

const spec: JobSpec = {
  name: 'jobmon-7-fit',
  partition: 'debug',
  cpusPerTask: 2,
  memoryMiB: 1536,
  timeMinutes: 63,
  constraint: 'avx2',
  output: '/logs/%x-%A_%a.out',
  cwd: '/work',
  array: { size: 10, throttle: 3 },
  exportEnv: ['HOME'],
  env: { JOBMON_URL: 'http://h:1' },
  script: '#!/bin/sh\nexec jobmon-worker',
};

describe('REST version choice (GET /openapi/v3)', () => {
  it('reads the versions the daemon offers from its paths: 22.05 has v0.0.36 to v0.0.38; we use v0.0.38', () => {
    const doc = fixture('openapi');
    expect(offeredVersions(doc)).toEqual(['v0.0.36', 'v0.0.37', 'v0.0.38']);
    expect(chooseAdapter(doc, 'unix:/s').version).toBe('v0.0.38');
  });

  it('takes the highest version both sides know, and numbers compare as numbers (v0.0.100 > v0.0.38)', () => {
    const fake = (version: string) => ({ ...v0_0_38, version }) as RestAdapter;
    const doc = {
      paths: Object.fromEntries(
        ['36', '38', '100'].flatMap((v) => [
          [`/slurm/v0.0.${v}/jobs`, {}],
          [`/slurmdb/v0.0.${v}/jobs`, {}],
        ]),
      ),
    };
    expect(chooseAdapter(doc, 'x', [fake('v0.0.36'), fake('v0.0.38')]).version).toBe('v0.0.38');
    expect(chooseAdapter(doc, 'x', [fake('v0.0.38'), fake('v0.0.100')]).version).toBe('v0.0.100');
  });

  it('an unsupported daemon gets an error naming what it offers and what we support', () => {
    const doc = { paths: { '/slurm/v0.0.40/jobs': {}, '/slurmdb/v0.0.40/jobs': {}, '/slurm/v0.0.41/jobs': {} } };
    expect(() => chooseAdapter(doc, 'http://h:6820')).toThrow(
      'slurmrestd at http://h:6820 offers data-parser versions v0.0.40; this Jobmon supports v0.0.38',
    );
    expect(() => chooseAdapter({ nope: 1 }, 'x')).toThrow(/GET \/openapi\/v3: paths should be an object/);
  });
});

describe('REST v0.0.38 adapter on recorded answers', () => {
  it('submit body: environment an object, time in minutes, memory in MB, the array a string', () => {
    expect(v0_0_38.submitBody(spec, { A: '1' })).toEqual({
      job: {
        name: 'jobmon-7-fit',
        current_working_directory: '/work',
        standard_output: '/logs/%x-%A_%a.out',
        standard_error: '/logs/%x-%A_%a.out',
        environment: { A: '1' },
        partition: 'debug',
        cpus_per_task: 2,
        memory_per_node: 1536,
        time_limit: 63,
        constraints: 'avx2',
        array: '0-9%3',
      },
      script: '#!/bin/sh\nexec jobmon-worker',
    });
  });

  it('submit answers: the job id, or the refusal with Slurm’s words', () => {
    expect(v0_0_38.parseSubmit(200, fixture('submit'))).toEqual({ jobId: '84' });
    expect(v0_0_38.parseSubmit(500, fixture('submit-error'))).toEqual({
      error: 'slurmrestd refused the job (HTTP 500): Invalid partition name specified (2000)',
    });
    expect(() => v0_0_38.parseSubmit(200, { errors: [] })).toThrow(/job_id should be an integer, got nothing/);
  });

  it('job list: a pending array is one entry, expanded to its elements without the throttle', () => {
    const jobs = v0_0_38.parseJobs(fixture('jobs-pending'));
    expect(jobs.map((j) => [j.key, j.base, j.entry])).toEqual(
      [0, 1, 2, 3].map((k) => [`84_${k}`, '84', { state: 'PENDING', reason: 'Priority', name: 'rest-fixture' }]),
    );
  });

  it('job list: ended jobs carry their exit code from the raw wait status (256 = exit 1, 15 = SIGTERM)', () => {
    const jobs = v0_0_38.parseJobs(fixture('jobs-ended'));
    expect(jobs.map((j) => [j.key, j.entry.state, j.exitCode])).toEqual([
      ['84_0', 'COMPLETED', '0:0'],
      ['84_1', 'FAILED', '1:0'],
      ['84_2', 'FAILED', '2:0'],
      ['84_3', 'FAILED', '3:0'],
      ['107', 'CANCELLED', '0:15'],
    ]);
  });

  it('accounting: keyed like the queue; MaxRSS from the steps, elapsed, CPU time, nodes, who cancelled', () => {
    const rows = v0_0_38.parseDbJobs(fixture('slurmdb-jobs'));
    expect(rows.map((r) => [r.record.jobId, r.record.state, r.record.exitCode])).toEqual([
      ['84_3', 'FAILED', '0:0'], // sic: slurmdb 22.05 says 0 for exit 3 (the transport corrects it)
      ['84_0', 'COMPLETED', '0:0'],
      ['84_1', 'FAILED', '0:0'],
      ['84_2', 'FAILED', '0:0'],
      ['107', 'CANCELLED', '0:0'],
    ]);
    expect(rows[4]).toEqual({
      record: {
        jobId: '107',
        state: 'CANCELLED',
        exitCode: '0:0',
        elapsedSeconds: 1,
        cpuSeconds: 0.021612, // its steps' CPU time (the job's own total is 0 in slurmdb)
        nodes: 'vm',
        maxRssBytes: 3_362_816,
      },
      killRequestUser: 'root',
    });
    expect(rows[0]!.record).toMatchObject({ elapsedSeconds: 2, maxRssBytes: 4_325_376, nodes: 'vm' });
    expect(rows[0]!.record.cpuSeconds).toBeCloseTo(0.025384, 6);
  });

  it('a missing or mistyped field is an error naming it, not a crash', () => {
    expect(() => v0_0_38.parseJobs(edited('jobs-ended', 1, ['job_state'], undefined))).toThrow(
      new RestShapeError('GET /slurm/v0.0.38/jobs', 'jobs[1].job_state', 'a string', undefined),
    );
    expect(() => v0_0_38.parseJobs(edited('jobs-ended', 4, ['exit_code'], '15'))).toThrow(
      /jobs\[4\]\.exit_code should be an integer, got "15"/,
    );
    expect(() => v0_0_38.parseJobs(edited('jobs-pending', 0, ['array_task_string'], '0-x'))).toThrow(
      /jobs\[0\]\.array_task_string should be an index expression/,
    );
    expect(() => v0_0_38.parseDbJobs(edited('slurmdb-jobs', 2, ['state', 'current'], undefined))).toThrow(
      /jobs\[2\]\.state\.current should be a string, got nothing/,
    );
    expect(() => v0_0_38.parseDbJobs({ jobs: 'x' })).toThrow(/jobs should be an array/);
  });

  it('partitions: limits from the partition and its nodes; -1 is unlimited', () => {
    expect(v0_0_38.parsePartitions(fixture('partitions'), fixture('nodes'))).toEqual([
      { name: 'debug', isDefault: true, state: 'UP', maxCpusPerNode: 2, maxMemoryMiB: 22899 },
    ]);
    const p = fixture('partitions');
    Object.assign((p['partitions'] as Record<string, unknown>[])[0]!, {
      maximum_cpus_per_node: 1,
      max_time_limit: 60,
      flags: [],
    });
    expect(v0_0_38.parsePartitions(p, fixture('nodes'))).toEqual([
      { name: 'debug', isDefault: false, state: 'UP', maxCpusPerNode: 1, maxMemoryMiB: 22899, maxTimeMinutes: 60 },
    ]);
  });

  it('wait status and index expressions', () => {
    expect([0, 768, 9, 15, 253, 35584].map(waitStatusToExitCode)).toEqual([
      '0:0',
      '3:0',
      '0:9',
      '0:15',
      '0:125',
      '139:0',
    ]);
    expect(expandIndices('0-3%1')).toEqual([0, 1, 2, 3]);
    expect(expandIndices('1,3,5-7')).toEqual([1, 3, 5, 6, 7]);
    expect(expandIndices('0-6:3')).toEqual([0, 3, 6]);
    expect(() => expandIndices('3-1')).toThrow(/'3-1'/);
  });
});

describe('REST job environment (no --export in REST)', () => {
  const env = { HOME: '/root', PATH: '/bin', SECRET: 's' };
  it("'ALL' sends this process's variables plus spec.env; a list those names; 'NONE' spec.env only", () => {
    expect(jobEnvironment({ ...spec, exportEnv: 'ALL' }, env)).toEqual({ ...env, JOBMON_URL: 'http://h:1' });
    expect(jobEnvironment({ ...spec, exportEnv: ['HOME', 'NOT_SET'] }, env)).toEqual({
      HOME: '/root',
      JOBMON_URL: 'http://h:1',
    });
    expect(jobEnvironment({ ...spec, exportEnv: 'NONE', env: { PATH: '/x' } }, env)).toEqual({ PATH: '/x' });
  });
});

describe('slurm cluster options for REST', () => {
  it('takes transport, restUrl, restUser, restTokenFile; refuses bad ones naming the option', () => {
    expect(
      slurmOptions('farm', { transport: 'rest', restUrl: 'http://h:6820', restUser: 'u', restTokenFile: '/t' }),
    ).toMatchObject({ transport: 'rest', restUrl: 'http://h:6820', restUser: 'u', restTokenFile: '/t' });
    expect(slurmOptions('farm', { transport: 'rest', restUrl: 'unix:/run/s.sock' }).restUrl).toBe('unix:/run/s.sock');
    expect(() => slurmOptions('farm', { transport: 'soap' })).toThrow(/options\.transport must be 'cli' or 'rest'/);
    expect(() => slurmOptions('farm', { transport: 'rest' })).toThrow(
      /options\.transport 'rest' needs options\.restUrl/,
    );
    expect(() => slurmOptions('farm', { transport: 'rest', restUrl: 'ftp://h' })).toThrow(/options\.restUrl must be/);
    expect(() => slurmOptions('farm', { restUrl: 'unix:/s' })).toThrow(
      /options\.restUrl needs options\.transport 'rest'/,
    );
    expect(() => slurmOptions('farm', { transport: 'rest', restUrl: 'unix:/s', restTokenFile: '/t' })).toThrow(
      /options\.restTokenFile needs options\.restUser/,
    );
    expect(() => slurmOptions('farm', { transport: 'rest', restUrl: 'unix:/s', restTokenFile: 't' })).toThrow(
      /options\.restTokenFile must be an absolute path/,
    );
  });
});

describe('RestTransport against a server replaying recorded answers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slurmrest-'));
  const sock = join(dir, 'rest.sock');
  const tokenFile = join(dir, 'token');
  let server: Server;
  const seen: { method: string; url: string; user?: string; token?: string; body?: unknown }[] = [];
  let jobsAnswer = fixture('jobs-ended');

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const user = req.headers['x-slurm-user-name'];
        const token = req.headers['x-slurm-user-token'];
        seen.push({
          method: req.method!,
          url: req.url!,
          ...(typeof user === 'string' ? { user } : {}),
          ...(typeof token === 'string' ? { token } : {}),
          ...(body ? { body: JSON.parse(body) as unknown } : {}),
        });
        if (token === 'expired') return res.writeHead(401).end('Authentication failure');
        const send = (status: number, j: unknown) =>
          res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(j));
        const url = req.url!;
        if (url === '/openapi/v3') return send(200, fixture('openapi'));
        if (url === '/slurm/v0.0.38/job/submit') return send(200, fixture('submit'));
        if (url === '/slurm/v0.0.38/jobs') return send(200, jobsAnswer);
        // Accounting lags: jobs it does not know yet are "Nothing found" (slurmdbd's error 9003).
        if (url === '/slurmdb/v0.0.38/jobs?step=999_0')
          return send(200, { jobs: [], errors: [{ error_number: 9003, error: 'Nothing found with query' }] });
        if (url.startsWith('/slurmdb/v0.0.38/jobs?step=')) return send(200, fixture('slurmdb-jobs'));
        if (url === '/slurm/v0.0.38/partitions') return send(200, fixture('partitions'));
        if (url === '/slurm/v0.0.38/nodes') return send(200, fixture('nodes'));
        if (url === '/slurm/v0.0.38/job/107')
          return send(500, { errors: [{ error_number: 2017, error: 'Invalid job id specified' }] });
        if (url === '/slurm/v0.0.38/job/5') return send(500, { errors: [{ error_number: 1, error: 'Access denied' }] });
        res.writeHead(404).end('not found');
      });
    });
    await new Promise<void>((r) => server.listen(sock, r));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("accounting of jobs slurmdbd does not know yet is empty, as sacct's is, not an error", async () => {
    const t = new RestTransport({ url: `unix:${sock}` });
    expect((await t.accounting(['999_0'])).size).toBe(0);
    expect(t.calls.accounting).toBe(1);
  });

  it('queue is ONE GET of the list, ours picked; accounting ONE GET; the exit code comes from the list', async () => {
    const t = new RestTransport({ url: `unix:${sock}` });
    seen.length = 0;
    jobsAnswer = fixture('jobs-pending');
    expect([...(await t.queue(['84', '99'])).keys()]).toEqual(['84_0', '84_1', '84_2', '84_3']);
    expect((await t.queue(['84_2'])).size).toBe(1);
    jobsAnswer = fixture('jobs-ended');
    expect((await t.queue(['84', '107'])).size).toBe(0); // all ended: not in the queue
    const acct = await t.accounting(['84', '107']);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /openapi/v3',
      'GET /slurm/v0.0.38/jobs',
      'GET /slurm/v0.0.38/jobs',
      'GET /slurm/v0.0.38/jobs',
      'GET /slurmdb/v0.0.38/jobs?step=84%2C107',
    ]);
    expect(t.calls).toMatchObject({ queue: 3, accounting: 1 });
    expect([...acct.values()].map((r) => [r.jobId, r.state, r.exitCode])).toEqual([
      ['84_3', 'FAILED', '3:0'],
      ['84_0', 'COMPLETED', '0:0'],
      ['84_1', 'FAILED', '1:0'],
      ['84_2', 'FAILED', '2:0'],
      ['107', 'CANCELLED', '0:15'],
    ]);
    expect(acct.get('107')?.cancelledBy).toBe(0); // kill_request_user root
    // Only the jobs asked for.
    expect([...(await t.accounting(['107'])).keys()]).toEqual(['107']);
  });

  it('submit sends the spec with the environment; cancel treats an ended job as no failure', async () => {
    const t = new RestTransport({ url: `unix:${sock}` });
    seen.length = 0;
    expect(await t.submit({ ...spec, exportEnv: 'NONE' })).toEqual({ jobId: '84' });
    expect(seen[1]!.body).toMatchObject({ job: { environment: { JOBMON_URL: 'http://h:1' }, array: '0-9%3' } });
    await expect(t.cancel(['107'])).resolves.toBeUndefined();
    await expect(t.cancel(['5'])).rejects.toThrow(/cancel failed for 5: HTTP 500 Access denied \(1\)/);
    expect(t.calls).toMatchObject({ submit: 1, cancel: 2 });
  });

  it('facts: partitions from two GETs, MaxArraySize the default (REST does not show it)', async () => {
    const t = new RestTransport({ url: `unix:${sock}` });
    expect(await t.facts()).toEqual({
      maxArraySize: 1001,
      partitions: [{ name: 'debug', isDefault: true, state: 'UP', maxCpusPerNode: 2, maxMemoryMiB: 22899 }],
    });
  });

  it('JWT: sends user and token (re-read from the file each time); a refused token names the user', async () => {
    writeFileSync(tokenFile, 'SLURM_JWT=abc\n');
    const t = new RestTransport({ url: `unix:${sock}`, user: 'slurmrest', tokenFile });
    seen.length = 0;
    await t.queue(['1']);
    expect(seen.map((s) => [s.user, s.token])).toEqual([
      ['slurmrest', 'abc'],
      ['slurmrest', 'abc'],
    ]);
    writeFileSync(tokenFile, 'expired');
    await expect(t.queue(['1'])).rejects.toThrow(
      /GET \/slurm\/v0\.0\.38\/jobs: HTTP 401 Authentication failure \(is the token for user slurmrest valid/,
    );
    const missing = new RestTransport({ url: `unix:${sock}`, user: 'u', tokenFile: join(dir, 'none') });
    await expect(missing.queue(['1'])).rejects.toThrow(/cannot read the token file/);
  });

  it('no daemon: the error names the URL; the version is asked again next time', async () => {
    const t = new RestTransport({ url: `unix:${join(dir, 'nobody.sock')}` });
    await expect(t.queue(['1'])).rejects.toThrow(/slurmrestd unix:.*nobody\.sock: GET \/openapi\/v3 failed: .*ENOENT/);
    await expect(t.queue(['1'])).rejects.toThrow(/GET \/openapi\/v3 failed/);
  });
});
