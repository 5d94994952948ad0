// The worker's start-up stays small: what jobmon-worker loads before its first report is core's
// requester and errors and node builtins (bench/worker-startup.md: the full '@jobmon/core' index
// with its wire schemas was half the start-up), and the routes it calls by hand are core's.

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '@jobmon/core';
import { WORKER_ROUTES } from '../src/worker.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const WORKER_BIN = join(ROOT, 'packages/worker/bin/jobmon-worker.js');

// A module-resolution hook that prints every module the worker loads.
const HOOK = `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('LOADED ' + r.url + '\\n'); return r; }`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;

describe('jobmon-worker start-up', () => {
  it('calls the same routes as core’s route table', () => {
    expect(WORKER_ROUTES.transition).toEqual({
      method: ROUTES.transitionInstance.method,
      path: ROUTES.transitionInstance.path,
    });
    expect(WORKER_ROUTES.heartbeat).toEqual({
      method: ROUTES.instanceHeartbeat.method,
      path: ROUTES.instanceHeartbeat.path,
    });
  });

  it('loads only its own modules, core’s requester and errors, and node builtins', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, WORKER_BIN, '--help'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const loaded = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('LOADED '))
      .map((l) => l.slice('LOADED '.length).replace(`file://${ROOT}/`, ''));
    expect(loaded).toContain('packages/worker/dist/worker.js');
    const outside = loaded.filter(
      (u) =>
        !u.startsWith('node:') &&
        !u.startsWith('packages/worker/') &&
        u !== 'packages/core/dist/requester.js' &&
        u !== 'packages/core/dist/errors.js',
    );
    expect(outside).toEqual([]);
  });
});
