// Answers the routes never see: a 500 keeps the database driver's text to the server's log, and a
// request whose headers overflow Node's parser still gets {code, message, details} (431).

import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openSystemLog } from '@jobmon/core/system-log';
import { buildApp, openDb, type Db, type JobmonApp } from '@jobmon/server';
import { createTestDb, TEST_DB_KIND, type TestDb } from '../../../test-support/db.js';

let tdb: TestDb;
let db: Db;
let app: JobmonApp;
let logFile: string;

beforeAll(async () => {
  tdb = await createTestDb('guards');
  db = await openDb(tdb.target);
  logFile = join(tdb.dir, 'jobmon-server.log');
  app = await buildApp({ db, logger: openSystemLog(logFile, 'server') });
});

afterAll(async () => {
  await app?.close();
  await db?.close();
  await tdb?.drop();
});

describe(`HTTP guards on ${TEST_DB_KIND}`, () => {
  it("answers a database fault with 500 and the route, never the driver's text", async () => {
    // A missing table is a fault no input can cause; its driver message names the table.
    await sql`alter table tool_version rename to tool_version_gone`.execute(db.kysely);
    const res = await app.inject({ method: 'POST', url: '/api/v1/tools', payload: { name: 'secret_tool_name' } });
    expect(res.statusCode).toBe(500);
    const body = JSON.parse(res.body) as { code: string; message: string; details: Record<string, unknown> };
    expect(body).toMatchObject({ code: 'JM_INTERNAL', details: { route: '/api/v1/tools' } });
    expect(body.message).toBe('POST /api/v1/tools: internal error (see the server log)');
    expect(res.body).not.toMatch(/tool_version|relation|no such table|secret_tool_name/);
    // …which the server's own log keeps, with the route, for whoever runs the server.
    const lines = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; err?: { message: string }; route?: string });
    const logged = lines.find((l) => l.msg === 'internal error');
    expect(logged?.route).toBe('/api/v1/tools');
    expect(logged?.err?.message).toMatch(/tool_version/);
  });

  it("answers headers too large with 431 in the API's error shape", async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      });
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', (e) => (data ? resolve(data) : reject(e)));
    });
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(head).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(body!)).toMatchObject({
      code: 'JM_HEADERS_TOO_LARGE',
      message: expect.stringContaining('headers'),
      details: {},
    });
  });
});
