// What stands between the network and the routes: strict parsing of path and query strings (the
// body is never coerced), the wording of a validation failure (it names the field), 405 with an
// Allow header for a known path asked with another method, and {code, message, details} for errors
// Node's HTTP parser raises before Fastify sees a request (431 headers too large).

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, wire } from '@jobmon/core';

type Schema = { type?: string; properties?: Record<string, Schema> };

// Only plain decimal digits become numbers, only `true`/`false` booleans: AJV's coercion would take
// "0x10" as 16, "1e400" as Infinity and "" as 0. Anything else stays a string and fails validation.
const INTEGER = /^-?[0-9]+$/;
const NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;

function parseStrictly(values: unknown, schema: Schema | undefined): void {
  if (!schema?.properties || typeof values !== 'object' || values === null) return;
  const obj = values as Record<string, unknown>;
  for (const [key, raw] of Object.entries(obj)) {
    const type = schema.properties[key]?.type;
    if (typeof raw !== 'string') continue;
    if ((type === 'integer' && INTEGER.test(raw)) || (type === 'number' && NUMBER.test(raw))) obj[key] = Number(raw);
    else if (type === 'boolean' && (raw === 'true' || raw === 'false')) obj[key] = raw === 'true';
  }
}

/** A query value whose bytes are not UTF-8 would reach the route as U+FFFD: refuse it, naming it. */
function refuseBadEncoding(method: string, route: string, url: string): void {
  const at = url.indexOf('?');
  if (at < 0) return;
  for (const part of url.slice(at + 1).split('&')) {
    try {
      decodeURIComponent(part.replace(/\+/g, ' '));
    } catch {
      const name = (part.split('=')[0] ?? '').replace(/[^A-Za-z0-9_.-]/g, '?');
      throw new ValidationError(`${method} ${route}: querystring/${name} is not valid UTF-8`, {
        field: `querystring/${name}`,
        route,
      });
    }
  }
}

/** Parse params and querystrings by their route's schema before validation (which never coerces). */
export function installStrictParams(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    refuseBadEncoding(req.method, req.routeOptions.url ?? req.url, req.url);
    const schema = req.routeOptions.schema as { params?: Schema; querystring?: Schema } | undefined;
    parseStrictly(req.params, schema?.params);
    parseStrictly(req.query, schema?.querystring);
  });
}

/** "body/tasks/0/name must not contain NUL …": the field first, so a user sees what to fix. */
export function describeValidation(fe: FastifyError): { field: string; problem: string } {
  const errors = fe.validation ?? [];
  let first = errors[0];
  // A value that fits no branch of a union: AJV lists each branch's complaint first ("must be
  // string" for a nested array); the union's own error, last, is the one that tells the truth.
  const union = errors[errors.length - 1];
  const cleanText = first?.keyword === 'format' && first.params['format'] === wire.CLEAN_TEXT_FORMAT;
  if (!cleanText && union?.keyword === 'anyOf')
    first = { ...union, message: 'matches none of the allowed types or values' };
  const params = (first?.params ?? {}) as Record<string, unknown>;
  let field = `${fe.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
  // A key that failed `propertyNames`: JSON-quoted, so a NUL in it is shown escaped, not sent raw.
  const key = (first as { propertyName?: unknown } | undefined)?.propertyName ?? params['propertyName'];
  if (typeof key === 'string') field += ` key ${JSON.stringify(key)}`;
  let problem = first?.message ?? 'is invalid';
  if (first?.keyword === 'format' && params['format'] === wire.CLEAN_TEXT_FORMAT)
    problem = 'must not contain NUL or an unpaired UTF-16 surrogate';
  if ('additionalProperty' in params) problem += ` '${String(params['additionalProperty'])}'`;
  return { field, problem };
}

/** Remember every route's methods so that an unknown method on a known path answers 405, not 404. */
export function trackMethods(app: FastifyInstance): (url: string) => string[] {
  const routes: { re: RegExp; method: string }[] = [];
  app.addHook('onRoute', (r) => {
    const re = new RegExp(`^${r.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+')}/?$`);
    for (const m of [r.method].flat()) routes.push({ re, method: m });
  });
  return (url) => {
    const path = url.split('?')[0] ?? url;
    return [...new Set(routes.filter((r) => r.re.test(path)).map((r) => r.method))].sort();
  };
}

/** Errors Fastify's router raises before a route runs (a path whose percent-escapes are not UTF-8,
 *  an over-long parameter): answered in the API's shape, as a 400 naming the path. */
export function frameworkErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const path = req.url.split('?')[0] ?? req.url;
  void reply.status(400).send({
    code: 'JM_VALIDATION',
    message: `${req.method} ${path}: ${err.message}`,
    details: { route: path, reason: err.code },
  });
}

/** Errors from Node's HTTP parser (no request exists yet): answer in the API's shape and close. */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy(err);
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    code: tooLarge ? 'JM_HEADERS_TOO_LARGE' : 'JM_VALIDATION',
    message: tooLarge ? 'request headers are larger than the server accepts (16 KiB)' : 'malformed HTTP request',
    details: { reason: err.code ?? 'unknown' },
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
