// The GUI's static files (web.ts): content types, index.html for the GUI's own paths, no escape
// from the build folder, a page that says how to build when there is no build — and the API's 404
// and 405 answers under /api/v1 exactly as before the GUI's catch-all route existed.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webRoutes } from '../src/web.js';
import { TEST_DB_KIND } from '../../../test-support/db.js';
import { testApp } from './support.js';

describe('the GUI at / from a build folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobmon-web-'));
  const dist = join(dir, 'dist');
  let app: FastifyInstance;
  beforeAll(async () => {
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>gui</title>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dist, 'assets', 'index-abc123.css'), 'body{}');
    writeFileSync(join(dir, 'secret.txt'), 'outside the build');
    app = Fastify();
    webRoutes(app, dist);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers index.html at / and at any path of the GUI, never cached', async () => {
    for (const url of ['/', '/workflows/7', '/workflows/7?x=1', '/no/such/page']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(res.body, url).toContain('<title>gui</title>');
      expect(res.headers['cache-control'], url).toBe('no-cache');
      expect(String(res.headers['content-security-policy']), url).toContain("script-src 'self'");
    }
  });

  it('serves the hashed assets with their content types, cached for good', async () => {
    const js = await app.inject({ url: '/assets/index-abc123.js' });
    expect([js.statusCode, js.headers['content-type'], js.body]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'console.log(1)',
    ]);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const css = await app.inject({ url: '/assets/index-abc123.css' });
    expect([css.statusCode, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8']);
  });

  it('answers a missing file with 404, not with the page', async () => {
    const res = await app.inject({ url: '/assets/index-gone.js' });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('<title>gui</title>');
  });

  it('never reads outside the build folder', async () => {
    for (const url of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
    ]) {
      const res = await app.inject({ url });
      expect(res.body, url).not.toContain('outside the build');
    }
  });

  it('leaves /api to the not-found handler', async () => {
    const res = await app.inject({ url: '/api/v1/nowhere' });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('<title>gui</title>');
  });
});

describe('the GUI at / without a build', () => {
  it('says how to build it', async () => {
    const app = Fastify();
    webRoutes(app, null);
    const res = await app.inject({ url: '/workflows/3' });
    await app.close();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('npm run build');
  });
});

describe(`the API beside the GUI on ${TEST_DB_KIND}`, () => {
  const ctx = testApp('web');

  it('answers an unknown /api path with the API 404, whatever the method', async () => {
    for (const method of ['GET', 'POST', 'DELETE'] as const) {
      const res = await ctx.app.inject({ method, url: '/api/v1/nowhere' });
      expect(res.statusCode, method).toBe(404);
      expect(JSON.parse(res.body), method).toMatchObject({ code: 'JM_NOT_FOUND' });
    }
    const bare = await ctx.app.inject({ url: '/api' });
    expect(JSON.parse(bare.body)).toMatchObject({ code: 'JM_NOT_FOUND' });
  });

  it('answers GET on a POST-only API path with 405 and its Allow header', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/workflows/7/resume' });
    expect(res.statusCode).toBe(405);
    expect(res.headers['allow']).toBe('POST');
    expect(JSON.parse(res.body)).toMatchObject({ code: 'JM_METHOD_NOT_ALLOWED' });
  });

  it('serves a page at / and the GUI paths, and leaves them out of the API document', async () => {
    for (const url of ['/', '/workflows/1']) {
      const res = await ctx.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe('text/html; charset=utf-8');
    }
    const doc = JSON.parse((await ctx.app.inject({ url: '/api/v1/openapi.json' })).body) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/v1/'))).toEqual([]);
  });
});
