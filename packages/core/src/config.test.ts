import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig } from './config.js';
import { ValidationError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'jobmon-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** An env whose config file holds `content` (JSON-encoded unless a string). */
function envWith(content: unknown, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const file = join(dir, `config-${n++}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return { JOBMON_CONFIG: file, ...extra };
}

function thrown(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return e as ValidationError;
  }
  return expect.unreachable('expected ValidationError');
}

describe('loadConfig', () => {
  it('starts from the defaults', () => {
    const c = loadConfig({}, envWith({}));
    expect(c).toEqual(defaultConfig());
    expect(c).toMatchObject({
      url: '',
      runHeartbeatMs: 30_000,
      instanceHeartbeatMs: 90_000,
      reportByFactor: 3.1,
      logCapBytes: 1024 ** 3,
      http: { timeoutMs: 20_000, retries: 8, backoffMs: 200, maxBackoffMs: 10_000 },
    });
    expect(c.db).toMatch(/jobmon\.db$/);
  });

  it('treats a missing default config file (no JOBMON_CONFIG) as empty, under the env it is given', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const c = loadConfig({}, { JOBMON_HOME: home });
    expect(c.db).toBe(join(home, 'jobmon.db'));
    expect(c.logDir).toBe(join(home, 'logs'));
  });

  it('does not share nested objects between calls', () => {
    const a = loadConfig({}, envWith({}));
    a.http.retries = 0;
    expect(loadConfig({}, envWith({})).http.retries).toBe(8);
  });

  it('reads the JSON file named by JOBMON_CONFIG, nested settings included', () => {
    const c = loadConfig({}, envWith({ url: 'http://jobmon:8080', runHeartbeatMs: 500, http: { retries: 2 } }));
    expect(c.url).toBe('http://jobmon:8080');
    expect(c.runHeartbeatMs).toBe(500);
    expect(c.http).toEqual({ ...defaultConfig().http, retries: 2 });
  });

  it('lets the environment override the file, and explicit overrides override both', () => {
    const env = envWith(
      { url: 'http://from-file', db: '/file.db', runHeartbeatMs: 500 },
      {
        JOBMON_URL: 'http://from-env',
        JOBMON_DB: '/env.db',
        JOBMON_LOG_DIR: '/logs',
        JOBMON_RUN_HEARTBEAT_MS: '250',
        JOBMON_INSTANCE_HEARTBEAT_MS: '100',
        JOBMON_REPORT_BY_FACTOR: '2.5',
        JOBMON_HTTP_TIMEOUT_MS: '1000',
        JOBMON_HTTP_RETRIES: '0',
        JOBMON_HTTP_BACKOFF_MS: '5',
        JOBMON_LOG_CAP_BYTES: '100000',
      },
    );
    const c = loadConfig({ db: '/override.db' }, env);
    expect(c).toMatchObject({
      url: 'http://from-env',
      db: '/override.db',
      logDir: '/logs',
      runHeartbeatMs: 250,
      instanceHeartbeatMs: 100,
      reportByFactor: 2.5,
      logCapBytes: 100_000,
      http: { timeoutMs: 1000, retries: 0, backoffMs: 5, maxBackoffMs: 10_000 },
    });
  });

  it('ignores empty environment variables', () => {
    expect(loadConfig({}, envWith({ url: 'http://from-file' }, { JOBMON_URL: '' })).url).toBe('http://from-file');
  });

  it.each([
    [{ colour: 'blue' }, 'colour'],
    [{ http: { retry: 3 } }, 'http.retry'],
  ])('rejects the unknown setting in %j, naming it', (content, field) => {
    const e = thrown(() => loadConfig({}, envWith(content)));
    expect(e.message).toContain(field);
    expect(e.message).toContain('unknown setting');
    expect(e.details).toMatchObject({ field });
  });

  it.each([
    [{ runHeartbeatMs: '30s' }, 'runHeartbeatMs', 'number'],
    [{ url: 8080 }, 'url', 'string'],
    [{ http: { retries: true } }, 'http.retries', 'number'],
    [{ runHeartbeatMs: null }, 'runHeartbeatMs', 'number'],
  ])('rejects the mistyped setting in %j, naming it', (content, field, type) => {
    const e = thrown(() => loadConfig({}, envWith(content)));
    expect(e.message).toContain(field);
    expect(e.message).toContain(type);
  });

  it('rejects a scalar where a section belongs', () => {
    expect(thrown(() => loadConfig({}, envWith({ http: 5 }))).message).toContain('http');
  });

  it('checks explicit overrides the same way', () => {
    const e = thrown(() => loadConfig({ nope: 1 } as never, envWith({})));
    expect(e.message).toContain('nope');
  });

  it.each([
    ['JOBMON_RUN_HEARTBEAT_MS', 'soon'],
    ['JOBMON_RUN_HEARTBEAT_MS', '0'],
    ['JOBMON_REPORT_BY_FACTOR', '-1'],
    ['JOBMON_HTTP_RETRIES', '1.5'],
    ['JOBMON_HTTP_RETRIES', '-1'],
    ['JOBMON_LOG_CAP_BYTES', '1.5'],
    ['JOBMON_LOG_CAP_BYTES', '0'],
  ])('rejects %s=%s, naming the variable', (name, value) => {
    const e = thrown(() => loadConfig({}, envWith({}, { [name]: value })));
    expect(e.message).toContain(name);
  });

  it('rejects a config file that is missing or not JSON, naming the file', () => {
    const missing = join(dir, 'missing.json');
    expect(thrown(() => loadConfig({}, { JOBMON_CONFIG: missing })).message).toContain(missing);
    const env = envWith('{ not json');
    expect(thrown(() => loadConfig({}, env)).message).toContain(env['JOBMON_CONFIG']!);
  });

  it('reads clusters by name, checked and in canonical form', () => {
    const c = loadConfig(
      {},
      envWith({
        clusters: {
          farm: { type: 'local', options: { parallelism: 2 }, queues: [{ name: 'all.q', limits: { cores: [1, 8] } }] },
          tiny: { type: 'sequential' },
        },
      }),
    );
    expect(c.clusters).toEqual({
      farm: { type: 'local', options: { parallelism: 2 }, queues: [{ name: 'all.q', limits: { cores: [1, 8] } }] },
      tiny: { type: 'sequential', options: {}, queues: [] },
    });
    expect(loadConfig({}, envWith({})).clusters).toEqual({});
  });

  it.each([
    [{ clusters: [] }, 'clusters', /clusters must be an object of clusters by name/],
    [
      { clusters: { farm: { type: 'slurmm' } } },
      'clusters.farm.type',
      /clusters\.farm: type "slurmm" is not a known cluster type/,
    ],
    [
      { clusters: { farm: { type: 'local', queues: [{ name: 'a.q', limits: { cores: [4, 1] } }] } } },
      "clusters.farm.queue 'a.q' limits.cores",
      /min 4 greater than max 1/,
    ],
    [
      { clusters: { farm: { type: 'local', options: { parallelism: 'many' } } } },
      'clusters.farm.options.parallelism',
      /must be a whole number/,
    ],
    [{ clusters: { 'no way': { type: 'local' } } }, 'clusters.no way.name', /must be 1–64 letters/],
  ])('rejects the bad cluster in %j, naming the file and the field', (content, field, message) => {
    const env = envWith(content);
    const e = thrown(() => loadConfig({}, env));
    expect(e.message).toMatch(message);
    expect(e.message).toContain(`config file ${env['JOBMON_CONFIG']!}`);
    expect(e.details).toMatchObject({ field });
  });
});
