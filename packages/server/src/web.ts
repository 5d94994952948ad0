// The web GUI's static files at / (packages/web's build, found through @jobmon/web's exports, so it
// is the same in this repository and in an installed node_modules). Any GET outside /api that names
// no file answers index.html, so the GUI's own paths (/workflows/7) open directly; /api/... is never
// answered here: it goes to the not-found handler, which keeps the API's 404 and 405. Without a
// build, / says how to make one. Files found are read once and kept (the build is a few hundred
// KB); misses are not remembered, so no request can grow the cache.

import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

// The GUI loads only its own bundle and talks only to this server; text from the API is rendered as
// text, and this keeps an injected script or a framing page out even if some day it were not.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const MISSING_BUILD = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Jobmon</title></head>
<body><h1>Jobmon</h1><p>The web GUI is not built. In the repository, run <code>npm run build</code>
(it builds packages/web into packages/web/dist) and reload this page.</p>
<p>The API answers at <a href="/api/v1/health">/api/v1</a>.</p></body></html>
`;

/** packages/web/dist, or null when it has not been built (or @jobmon/web is not installed). */
export function webDistDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('@jobmon/web/index.html'));
  } catch {
    return null;
  }
}

interface Cached {
  body: Buffer;
  type: string;
}

export function webRoutes(app: FastifyInstance, distDir: string | null = webDistDir()): void {
  const cache = new Map<string, Cached>();
  const load = async (rel: string): Promise<Cached | null> => {
    const hit = cache.get(rel);
    if (hit) return hit;
    try {
      const file = {
        body: await readFile(join(distDir!, rel)),
        type: CONTENT_TYPES[extname(rel)] ?? 'application/octet-stream',
      };
      cache.set(rel, file);
      return file;
    } catch {
      return null;
    }
  };

  const serve = async (req: FastifyRequest, reply: FastifyReply) => {
    const decoded = decodePath(req.url);
    const path = decoded === null ? null : normalize(decoded);
    if (path === null || path === '/api' || path.startsWith('/api/')) return reply.callNotFound();
    reply.header('x-content-type-options', 'nosniff').header('content-security-policy', CSP);
    if (distDir === null)
      return reply.status(200).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(MISSING_BUILD);
    const rel = path.replace(/^[/\\]+/, '');
    // normalize() has resolved every `..`; one left at the start would climb out of the build.
    const inside = rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..';
    const file = inside && rel !== 'index.html' ? await load(rel) : null;
    if (file) {
      // Vite names every asset by its content hash: it never changes under the same name.
      const immutable = rel.startsWith(`assets${sep}`);
      return reply
        .type(file.type)
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(file.body);
    }
    // A missing file (a name with an extension) is a 404; anything else is a page of the GUI.
    if (extname(rel) !== '' && rel !== 'index.html')
      return reply.status(404).type('text/plain; charset=utf-8').send(`not found: ${path}\n`);
    const index = await load('index.html');
    if (!index)
      return reply.status(200).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(MISSING_BUILD);
    return reply.type(index.type).header('cache-control', 'no-cache').send(index.body);
  };

  // Left out of the OpenAPI document: these are pages, not the API.
  app.get('/', { schema: { hide: true } }, serve);
  app.get('/*', { schema: { hide: true } }, serve);
}

/** The path without its query, percent-decoded; null when it does not decode. */
function decodePath(url: string): string | null {
  const raw = url.split('?')[0] ?? '/';
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}
